//! This project's shipped policy, on core's own functions: target tracking on ecsBPI
//! `IF(FILL(m3, 0) > 0, (m1 + m2) / FILL(m3, 0), m1 + m2)` (m1, m2 the SQS gauges by core's statistic, m3
//! RunningTaskCount) towards the updater's target (core's `plan_update`, hourly); a second target tracking policy on
//! utilization; the idle step policy (`IF(FILL(m1, 1) + FILL(m2, 1) == 0, 1, 0)` for `idle_minutes`: the minimum at
//! once); and, at min 0, the scale-from-zero step policy (`IF(FILL(m3, 0) == 0, m1 + m2, 0) > 0`: ExactCapacity
//! ⌈backlog / target⌉, cooldown 300 s). Alarms read FILL's value for a metric whose newest minute has not arrived
//! (CloudWatch guide, FILL), so a late RunningTaskCount reads as zero tasks.

use bpi_core::policy::{
    DEFAULT_ACTIVATION_COOLDOWN_SECS, DEFAULT_IDLE_MINUTES, DEFAULT_SCALE_IN_COOLDOWN_SECS,
    DEFAULT_SCALE_OUT_COOLDOWN_SECS, DEFAULT_TARGET_UTILIZATION_PCT, Metric, PolicySettings,
    QUEUE_DEPTH_STAT, UtilizationSettings, activation_capacity, target_tracking_config,
};
use bpi_core::update::{UpdateInputs, WhenUnmeasured, plan_update};
use bpi_core::{BacklogCounting, StatisticSet, TargetSettings, target_bpi};

use super::{Controller, Ctx, last_minutes};
use crate::autoscaling::{self, DATAPOINTS_NEEDED, Decision, Tracker};
use crate::metrics::SqsDatapoint;
use crate::scenario::Scenario;

/// Fewest samples for a measured MPD (core's default).
const MIN_SAMPLES: u64 = bpi_core::mpd::DEFAULT_MIN_SAMPLES;

/// Ours.
#[derive(Debug)]
pub struct Ours {
    policy: PolicySettings,
    target_settings: TargetSettings,
    target: f64,
    changes: u32,
    last_activation_ms: Option<u64>,
}

impl Ours {
    /// Ours on `scenario`, starting from the target of its declared MPD (what a deploy writes).
    pub fn new(scenario: &Scenario) -> Self {
        let target_settings = TargetSettings::new(
            scenario.latency_secs,
            scenario.concurrency,
            scenario.declared_mpd_secs,
            10_000,
        )
        .unwrap_or_else(|_| unreachable!("scenario settings are valid"));
        let target = f64::from(target_bpi(&target_settings, None).value);
        Ours {
            policy: policy_settings(scenario),
            target_settings,
            target,
            changes: 0,
            last_activation_ms: None,
        }
    }

    /// Core's update rule over the last window of the workers' statistic sets.
    fn update_target(&mut self, ctx: &Ctx<'_>) {
        let delivered = ctx
            .metrics
            .delivered(ctx.now_ms, ctx.model.custom_delay_secs);
        let window = (ctx.updater_every_ms / 60_000).max(1) as usize;
        let periods: Vec<StatisticSet> = last_minutes(delivered, window)
            .filter_map(|m| ctx.metrics.durations_at(m, ctx.now_ms))
            .collect();
        let current = target_tracking_config(&self.policy, self.target);
        let plan = plan_update(
            &periods,
            Some(&current),
            &UpdateInputs {
                target: &self.target_settings,
                policy: &self.policy,
                min_samples: MIN_SAMPLES,
                hysteresis: bpi_core::decision::DEFAULT_HYSTERESIS,
                when_unmeasured: WhenUnmeasured::KeepTarget,
            },
        );
        if (plan.target_in_force - self.target).abs() >= 0.5 {
            self.target = plan.target_in_force;
            self.changes += 1;
        }
    }

    fn backlog(d: &SqsDatapoint) -> f64 {
        // The statistic core's canonical spec asks of CloudWatch.
        if QUEUE_DEPTH_STAT == "Maximum" {
            d.visible.max + d.in_flight.max
        } else {
            d.visible.mean + d.in_flight.mean
        }
    }

    /// The scale-from-zero alarm on the newest delivered minute; true if it acted.
    fn activation(&mut self, ctx: &mut Ctx<'_>) -> bool {
        if self.policy.min_capacity != 0 {
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
        let cooled = self
            .last_activation_ms
            .is_none_or(|t| ctx.now_ms >= t + u64::from(DEFAULT_ACTIVATION_COOLDOWN_SECS) * 1000);
        if running == 0.0 && backlog > 0.0 && cooled {
            self.last_activation_ms = Some(ctx.now_ms);
            let tasks = activation_capacity(&self.policy, self.target, backlog);
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
        let backlogs = last_minutes(delivered, self.policy.idle_minutes as usize)
            .rev()
            .map(|m| metrics.sqs_at(m, now).map_or(2.0, |d| Self::backlog(&d)));
        let (min, _) = ctx.scaler.bounds();
        if autoscaling::idle_alarm(backlogs, self.policy.idle_minutes)
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
                m.sqs_at(i, now).map(|d| {
                    let backlog = Self::backlog(&d);
                    let running = m.running_at(i, now).unwrap_or(0.0);
                    if running > 0.0 {
                        backlog / running
                    } else {
                        backlog
                    }
                })
            })
            .collect();
        let mut trackers = vec![Tracker {
            datapoints: &bpi,
            target: self.target,
        }];
        let utilization: Vec<Option<f64>>;
        if let Some(u) = &self.policy.utilization {
            let delivered = m
                .delivered(now, ctx.model.insights_delay_secs)
                .max(m.delivered(now, ctx.model.custom_delay_secs));
            let slots = 60.0 * f64::from(u.concurrency.max(1));
            utilization = last_minutes(delivered, DATAPOINTS_NEEDED)
                .map(|i| {
                    let running = m.running_at(i, now).unwrap_or(0.0);
                    let sum = m.durations_at(i, now).map_or(0.0, |s| s.sum_secs);
                    Some(if running > 0.0 {
                        sum / (slots * running)
                    } else {
                        0.0
                    })
                })
                .collect();
            trackers.push(Tracker {
                datapoints: &utilization,
                target: f64::from(u.target_pct) / 100.0,
            });
        }
        let out_cd = u64::from(self.policy.scale_out_cooldown_secs);
        let in_cd = u64::from(self.policy.scale_in_cooldown_secs);
        let basis = ctx.scaler.basis(now, out_cd);
        match autoscaling::decide_with(&trackers, basis, ctx.model.scale_in_step_pct) {
            Decision::Out(n) => {
                ctx.scaler.scale_out(now, n, out_cd);
            }
            Decision::In(n) => {
                ctx.scaler.scale_in(now, n, in_cd, out_cd);
            }
            Decision::Hold => {}
        }
    }
}

impl Controller for Ours {
    fn tick(&mut self, ctx: &mut Ctx<'_>) {
        if !ctx.minute_boundary() {
            return;
        }
        if ctx.now_ms.is_multiple_of(ctx.updater_every_ms) {
            self.update_target(ctx);
        }
        if self.activation(ctx) || self.idle(ctx) {
            return;
        }
        self.target_tracking(ctx);
    }

    fn target(&self) -> f64 {
        self.target
    }

    fn target_changes(&self) -> u32 {
        self.changes
    }
}

/// Core's policy settings for `scenario` (names are placeholders: the simulator has no AWS).
pub fn policy_settings(scenario: &Scenario) -> PolicySettings {
    PolicySettings {
        cluster_name: "sim".into(),
        service_name: "sim".into(),
        queue_name: "sim".into(),
        policy_name: "sim".into(),
        counting: BacklogCounting::VisibleAndInFlight,
        scale_out_cooldown_secs: DEFAULT_SCALE_OUT_COOLDOWN_SECS,
        scale_in_cooldown_secs: DEFAULT_SCALE_IN_COOLDOWN_SECS,
        min_capacity: scenario.min_tasks,
        max_capacity: scenario.max_tasks,
        utilization: Some(UtilizationSettings {
            duration_metric: Metric {
                namespace: "sim".into(),
                metric_name: "sim".into(),
                dimensions: Vec::new(),
            },
            concurrency: scenario.concurrency,
            target_pct: DEFAULT_TARGET_UTILIZATION_PCT,
        }),
        idle_minutes: DEFAULT_IDLE_MINUTES,
    }
}
