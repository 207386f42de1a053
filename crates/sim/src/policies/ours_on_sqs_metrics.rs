//! This project's pre-sampler policy (`ours-sqs-metrics`), kept to show what the sampler changed: target tracking on ecsBPI
//! `IF(FILL(m3, 0) > 0, (m1 + m2) / FILL(m3, 0), m1 + m2)` (m1, m2 the SQS gauges by core's statistic, m3
//! RunningTaskCount) towards the updater's target (core's `plan_update`, hourly); a second target tracking policy on
//! utilization; the idle step policy (`IF(FILL(m1, 1) + FILL(m2, 1) == 0, 1, 0)` for `idle_minutes`: the minimum at
//! once); and, at min 0, the scale-from-zero step policy (`IF(FILL(m3, 0) == 0, m1 + m2, 0) > 0`: ExactCapacity
//! ⌈backlog / target⌉, cooldown 300 s). Alarms read FILL's value for a metric whose newest minute has not arrived
//! (CloudWatch guide, FILL), so a late RunningTaskCount reads as zero tasks.

use bpi_core::backlog::per_task;
use bpi_core::policy::utilization as utilization_of;
use bpi_core::policy::{
    DEFAULT_SCALE_FROM_ZERO_COOLDOWN_SECS, DEFAULT_SCALE_OUT_COOLDOWN_SECS,
    scale_from_zero_capacity,
};

use super::updater::SimulatedUpdater;
use super::{Controller, Ctx, last_minutes};
use crate::autoscaling::{self, DATAPOINTS_NEEDED, Tracker};
use crate::metrics::SqsDatapoint;
use crate::scenario::Scenario;

/// The utilization target the pre-sampler policy shipped (the sampler's design lowered it to 80%).
const ROUND_ONE_UTILIZATION_PCT: u32 = 90;

/// The pre-sampler policy.
#[derive(Debug)]
pub struct OursOnSqsMetrics {
    updater: SimulatedUpdater,
    last_activation_ms: Option<u64>,
}

impl OursOnSqsMetrics {
    /// The pre-sampler policy on `scenario`, starting from the target of its declared MPD (what a deploy writes).
    pub fn new(scenario: &Scenario) -> Self {
        OursOnSqsMetrics {
            updater: SimulatedUpdater::new(scenario),
            last_activation_ms: None,
        }
    }

    fn backlog(d: &SqsDatapoint) -> f64 {
        // The pre-sampler policy read the Maximum of the minute.
        d.visible.max + d.in_flight.max
    }

    /// The scale-from-zero alarm on the newest delivered minute; true if it acted.
    fn activation(&mut self, ctx: &mut Ctx<'_>) -> bool {
        if self.updater.policy().min_capacity != 0 {
            return false;
        }
        let delivered = ctx.metrics.delivered(ctx.now_ms, ctx.model.sqs_delay_secs);
        let Some(m) = delivered.checked_sub(1) else {
            return false;
        };
        let Some(d) = ctx.metrics.sqs_at(m, ctx.now_ms) else {
            return false;
        };
        let running = ctx.metrics.running_at(m, ctx.now_ms).unwrap_or(0.0);
        let backlog = Self::backlog(&d);
        let cooled = self.last_activation_ms.is_none_or(|t| {
            ctx.now_ms >= t + u64::from(DEFAULT_SCALE_FROM_ZERO_COOLDOWN_SECS) * 1000
        });
        if running == 0.0 && backlog > 0.0 && cooled {
            self.last_activation_ms = Some(ctx.now_ms);
            let tasks =
                scale_from_zero_capacity(self.updater.policy(), self.updater.target(), backlog);
            return ctx.scaler.set(ctx.now_ms, tasks);
        }
        false
    }

    /// The idle alarm; true if it acted.
    fn idle(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let delivered = ctx.metrics.delivered(ctx.now_ms, ctx.model.sqs_delay_secs);
        let now = ctx.now_ms;
        let metrics = ctx.metrics;
        // A missing datapoint is FILL(m, 1): not empty.
        let backlogs = last_minutes(delivered, self.updater.policy().idle_minutes as usize)
            .rev()
            .map(|m| metrics.sqs_at(m, now).map_or(2.0, |d| Self::backlog(&d)));
        let (min, _) = ctx.scaler.bounds();
        if autoscaling::idle_alarm(backlogs, self.updater.policy().idle_minutes)
            && ctx.scaler.desired() > min
            && ctx
                .scaler
                .out_cooled(now, u64::from(DEFAULT_SCALE_OUT_COOLDOWN_SECS))
        {
            return ctx.scaler.set(now, min);
        }
        false
    }

    fn target_tracking(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now_ms;
        let m = ctx.metrics;
        let sqs_delivered = m.delivered(now, ctx.model.sqs_delay_secs);
        let bpi: Vec<Option<f64>> = last_minutes(sqs_delivered, DATAPOINTS_NEEDED)
            .map(|i| {
                m.sqs_at(i, now)
                    .map(|d| per_task(Self::backlog(&d), m.running_at(i, now).unwrap_or(0.0)))
            })
            .collect();
        let mut trackers = vec![Tracker {
            datapoints: &bpi,
            target: self.updater.target(),
        }];
        let utilization: Vec<Option<f64>>;
        if let Some(u) = &self.updater.policy().utilization {
            let delivered = m
                .delivered(now, ctx.model.insights_delay_secs)
                .max(m.delivered(now, ctx.model.custom_delay_secs));
            utilization = last_minutes(delivered, DATAPOINTS_NEEDED)
                .map(|i| {
                    let running = m.running_at(i, now).unwrap_or(0.0);
                    let sum = m.durations_at(i, now).map_or(0.0, |s| s.sum_secs);
                    Some(utilization_of(sum / 60.0, u.concurrency, running))
                })
                .collect();
            trackers.push(Tracker {
                datapoints: &utilization,
                target: f64::from(ROUND_ONE_UTILIZATION_PCT) / 100.0,
            });
        }
        let out_cd = u64::from(self.updater.policy().scale_out_cooldown_secs);
        let in_cd = u64::from(self.updater.policy().scale_in_cooldown_secs);
        ctx.target_tracking(&trackers, out_cd, in_cd);
    }
}

impl Controller for OursOnSqsMetrics {
    fn tick(&mut self, ctx: &mut Ctx<'_>) {
        if !ctx.minute_boundary() {
            return;
        }
        if ctx.now_ms.is_multiple_of(ctx.updater_every_ms) {
            self.updater
                .run(ctx, (ctx.updater_every_ms / 60_000) as usize);
        }
        if self.activation(ctx) || self.idle(ctx) {
            return;
        }
        self.target_tracking(ctx);
    }

    fn target(&self) -> f64 {
        self.updater.target()
    }

    fn target_changes(&self) -> u32 {
        self.updater.changes()
    }
}
