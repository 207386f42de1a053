//! This project's policy (`ours`): the sampler reads the queue and the service itself
//! every 10 s (a Lambda on a one-minute schedule that reads six times during its run) and publishes ecsBPI and its
//! parts as high-resolution custom metrics (core's `SampledValues::metrics`), seen by alarms `highres_delay_secs`
//! later. The step policies (the fast path, the idle policy, the fast scale-in) are core's spec itself
//! (`bpi_core::policy::scaling_spec`), evaluated by core's alarm evaluator (`bpi_core::alarm`) over those metrics;
//! target tracking is Application Auto Scaling's as modelled in [`crate::autoscaling`]. On those readings:
//! - a **fast path**: a high-resolution alarm (10 s period, 1 datapoint) on the capacity the backlog needs at
//!   a share of the target per task (more ahead while the backlog outgrows the running fleet, core's
//!   `FastPathShares`) when the service has fewer desired drives a step policy to that capacity; from zero tasks any
//!   backlog asks for a task, so scaling from zero needs no FILL;
//! - **target tracking** on the minute's Average of the sampler's ecsBPI, towards `headroom × target` (the updater's
//!   target, core's `plan_update`), for steady state and gradual scale-in;
//! - **utilization** target tracking on the sampler's in-flight count over concurrency × its running count (core's
//!   `utilization`), both the minute's Average of the same readings: no Container Insights, no second clock;
//! - **idle**: a high-resolution alarm (10 s periods, `idle_minutes` × 6 of them, Maximum) on the sampler's
//!   backlog: every reading of the last `idle_minutes` minutes, up to the newest, of an empty queue sets the minimum;
//!   a missing reading counts as not idle (so a burst seen by the fast path is never undone by the idle policy);
//! - **backstop** when the sampler stops (`sampler_fails_at_secs`): no reading means no fast path, no scale-in and
//!   no idle; an alarm on SQS's own visible count while the sampler is silent doubles the desired count (at least +1)
//!   every `BACKSTOP_COOLDOWN_SECS`.

use bpi_core::alarm::MetricStore;
use bpi_core::backlog::per_task;
use bpi_core::capacity::{BusyRule, CapacityModel, DEFAULT_TASK_START_SECS, ServiceLoad};
use bpi_core::forecast::{
    ForecastSettings, HISTORY_MINUTES, ScheduleChange, SentHistory, WindowSizing, forecast,
    reconcile,
};
use bpi_core::keep_alive::{DEFAULT_MOST_IDLE_MINUTES, KeepAliveSettings, keep_alive};
use bpi_core::policy::utilization as utilization_of;
use bpi_core::policy::{
    FAST_SCALE_IN_COOLDOWN_SECS, PolicySettings, StepPolicySpec, fast_path_spec, idle_spec,
    scale_in_spec,
};
use bpi_core::sampler::SampledValues;

use super::updater::SimulatedUpdater;
use super::{Controller, Ctx, last_minutes};
use crate::autoscaling::{DATAPOINTS_NEEDED, Tracker};
use crate::metrics::{MINUTE_MS, SAMPLE_MS};
use crate::scenario::Scenario;
use crate::schedule::SIM_EPOCH_MINUTE;

mod design;

pub use design::*;

const BACKSTOP_COOLDOWN_SECS: u64 = 120;

/// One reading of the sampler.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Reading {
    at_ms: u64,
    backlog: f64,
    in_flight: f64,
    running: u32,
    desired: u32,
    /// The capacity the fast path asks for (the sampler's `ecsFastPathCapacity`, 0: none).
    fast_path_capacity: u32,
    /// The tasks the capacity model needs (the sampler's `ecsNeededTasks`).
    need: u32,
}

impl Reading {
    /// The metrics the sampler publishes for it.
    fn values(&self) -> SampledValues {
        SampledValues {
            bpi: per_task(self.backlog, f64::from(self.running)),
            backlog: self.backlog as u64,
            running: self.running,
            desired: self.desired,
            fast_path_capacity: self.fast_path_capacity,
            in_flight: self.in_flight as u64,
            needed: self.need,
            need_reason: bpi_core::capacity::NeedReason::Busy,
        }
    }
}

/// Core's step policies for the deployment: what AWS is given, and what the simulator evaluates.
#[derive(Debug, Clone)]
struct StepPolicies {
    fast_path: StepPolicySpec,
    idle: Option<StepPolicySpec>,
    scale_in: Option<StepPolicySpec>,
}

impl StepPolicies {
    fn of(settings: &PolicySettings) -> Self {
        StepPolicies {
            fast_path: fast_path_spec(settings),
            idle: idle_spec(settings),
            scale_in: scale_in_spec(settings),
        }
    }
}

/// A minute's Averages of the sampler's readings, as a period-60 statistic sees them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct MinuteOfReadings {
    bpi: f64,
    running: f64,
    in_flight: f64,
}

/// The sampler design.
#[derive(Debug)]
pub struct OursController {
    design: SamplerDesign,
    updater: SimulatedUpdater,
    readings: Vec<Reading>,
    /// The sampler's metrics, as CloudWatch holds them for the alarms.
    store: MetricStore,
    /// The step policies in force (rebuilt when the idle wait changes).
    policies: StepPolicies,
    last_backstop_ms: Option<u64>,
    /// The idle policy's wait in force, minutes.
    idle_minutes: u32,
    last_scale_in_ms: Option<u64>,
    last_idle_ms: Option<u64>,
    /// The configured minimum capacity.
    configured_min: u32,
    /// The keep-alive's floor in force (0: none).
    floor: u32,
}

impl OursController {
    /// The design on `scenario`.
    pub fn new(scenario: &Scenario, design: SamplerDesign) -> Self {
        let updater = SimulatedUpdater::new(scenario);
        let policies = StepPolicies::of(&Self::settings(&updater, design, design.idle_minutes));
        OursController {
            design,
            updater,
            readings: Vec::new(),
            store: MetricStore::new(),
            policies,
            last_backstop_ms: None,
            idle_minutes: design.idle_minutes,
            last_scale_in_ms: None,
            last_idle_ms: None,
            configured_min: scenario.min_tasks,
            floor: 0,
        }
    }

    /// The task start the design sizes for, seconds (the shares' design: the default).
    fn task_start_secs(&self) -> f64 {
        match self.design.sizing {
            FastPathSizing::Capacity {
                task_start_secs, ..
            } => task_start_secs,
            FastPathSizing::Shares => f64::from(DEFAULT_TASK_START_SECS),
        }
    }

    /// The minimum a scheduled lowering sets back: the configured one, raised to the keep-alive's floor.
    fn base_min(&self) -> u32 {
        self.configured_min.max(self.floor)
    }

    /// The keep-alive, as the updater runs it: core's `keep_alive` on the last day of NumberOfMessagesSent as
    /// delivered; the minimum capacity becomes its floor (RegisterScalableTarget; a scheduled raise in force is
    /// kept). The idle policy and target tracking then stop no task below it.
    fn keep_alive(&mut self, ctx: &mut Ctx<'_>, miss_budget: f64) {
        const DAY_MINUTES: usize = 24 * 60;
        let now = ctx.now_ms;
        let delivered = ctx.metrics.delivered(now, ctx.model.sqs_delay_secs);
        let sent: Vec<f64> = (delivered.saturating_sub(DAY_MINUTES)..delivered)
            .map(|m| ctx.metrics.sent_at(m, now).unwrap_or(0.0))
            .collect();
        let task_start_secs = self.task_start_secs();
        let settings = KeepAliveSettings {
            task_start_secs,
            miss_budget,
            fewest_idle_minutes: self.design.idle_minutes.max(1),
            most_idle_minutes: DEFAULT_MOST_IDLE_MINUTES,
            floor_minutes: self.design.keep_alive_floor_minutes,
            headroom_quantile: self.design.keep_alive_headroom_quantile,
        };
        let mpd =
            bpi_core::target::mpd_of_target(self.updater.target_settings(), self.updater.target());
        let (min_now, max) = ctx.scaler.bounds();
        let k = keep_alive(&sent, mpd, &self.capacity_model(ctx), max, &settings);
        let previous_base = self.base_min();
        self.floor = k.floor_tasks;
        // A scheduled raise above the previous base stays in force until its own lowering.
        let min = if min_now > previous_base {
            min_now.max(self.base_min())
        } else {
            self.base_min()
        };
        if min != min_now {
            ctx.scaler.set_min(now, min);
        }
    }

    /// Predictive scaling: `buffer_secs` before each hour, that hour's forecast capacity becomes the minimum.
    fn predict(&mut self, ctx: &mut Ctx<'_>, p: PredictiveModel) {
        const HOUR_MS: u64 = 3_600_000;
        let now = ctx.now_ms;
        let buffer_ms = (p.buffer_secs * 1000).min(HOUR_MS - 1);
        if !(now + buffer_ms).is_multiple_of(HOUR_MS) {
            return;
        }
        let hour = (now + buffer_ms) / HOUR_MS;
        let delivered = ctx.metrics.delivered(now, ctx.model.sqs_delay_secs);
        // The same hour on each day held, up to 14; none before 24 hours of data.
        let loads: Vec<f64> = (1..=14u64)
            .filter_map(|d| hour.checked_sub(24 * d))
            .filter(|h| ((h + 1) * 60) as usize <= delivered)
            .map(|h| {
                (h * 60..(h + 1) * 60)
                    .map(|m| ctx.metrics.sent_at(m as usize, now).unwrap_or(0.0))
                    .sum::<f64>()
                    / 60.0
            })
            .collect();
        if loads.is_empty() || (delivered as u64) < 24 * 60 {
            return;
        }
        let per_min =
            loads.iter().sum::<f64>() / loads.len() as f64 * (1.0 + p.load_error).max(0.0);
        let model = self.capacity_model(ctx);
        let mpd =
            bpi_core::target::mpd_of_target(self.updater.target_settings(), self.updater.target());
        let per_task_per_min =
            60.0 * f64::from(model.concurrency.max(1)) * model.target_utilization / mpd.max(0.001);
        let capacity = (per_min / per_task_per_min).ceil() as u32;
        ctx.scaler.set_min(now, capacity.max(self.base_min()));
    }

    /// The forecaster, as the updater runs it: 14 days of NumberOfMessagesSent as delivered, core's `forecast`,
    /// and core's `reconcile` against the scalable target's scheduled actions.
    fn forecast(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now_ms;
        let delivered = ctx.metrics.delivered(now, ctx.model.sqs_delay_secs);
        let first = delivered.saturating_sub(HISTORY_MINUTES as usize);
        let history = SentHistory {
            start_epoch_minute: SIM_EPOCH_MINUTE + first as u64,
            per_minute: (first..delivered)
                .map(|m| ctx.metrics.sent_at(m, now).unwrap_or(0.0))
                .collect(),
        };
        let task_start_secs = self.task_start_secs();
        let sizing = WindowSizing {
            model: self.capacity_model(ctx),
            mpd_secs: bpi_core::target::mpd_of_target(
                self.updater.target_settings(),
                self.updater.target(),
            ),
            min_capacity: self.base_min(),
            max_capacity: ctx.scaler.bounds().1,
        };
        let settings = ForecastSettings {
            max_task_hours: self.design.forecast_max_task_hours,
            task_start_secs: task_start_secs.ceil() as u32,
        };
        // Learned at the real now: a cycle counts PEAK_MINUTES past its onset, later than SQS's delay.
        let f = forecast(
            &history,
            crate::schedule::ScheduledActions::epoch_minute(now),
            &sizing,
            &settings,
        );
        for change in reconcile(&f.actions, &ctx.schedule.describe()) {
            match change {
                ScheduleChange::Create(a) | ScheduleChange::Update(a) => ctx.schedule.put(a),
                ScheduleChange::Delete { name } => ctx.schedule.delete(&name),
            }
        }
    }

    /// The deployment's policy settings under the design: the updater's, with the design's idle wait and scale-in
    /// window.
    fn settings(
        updater: &SimulatedUpdater,
        design: SamplerDesign,
        idle_minutes: u32,
    ) -> PolicySettings {
        PolicySettings {
            idle_minutes,
            scale_in_window_minutes: design
                .scale_in_window_secs
                .map_or(0, |secs| secs.div_ceil(60).max(1) as u32),
            ..updater.policy().clone()
        }
    }

    /// Where the alarms evaluate: the newest datapoints they see are `highres_delay_secs` old.
    fn horizon_ms(ctx: &Ctx<'_>) -> u64 {
        ctx.now_ms
            .saturating_sub(ctx.model.highres_delay_secs * 1000)
    }

    /// The target the fast path sizes against, as the sampler Lambda computes it: the updater's, lowered by the
    /// workers' newest minutes of MPD.
    fn fast_path_target(&self, ctx: &Ctx<'_>) -> f64 {
        if !self.design.recent_mpd {
            return self.updater.target();
        }
        let delivered = ctx
            .metrics
            .delivered(ctx.now_ms, ctx.model.custom_delay_secs);
        let recent: Vec<bpi_core::StatisticSet> =
            last_minutes(delivered, bpi_core::sampler::RECENT_MPD_MINUTES as usize)
                .filter_map(|m| ctx.metrics.durations_at(m, ctx.now_ms))
                .collect();
        bpi_core::sampler::fast_path_target(
            self.updater.target(),
            &recent,
            self.updater.target_settings(),
        )
    }

    /// Core's capacity model for the scenario, as the design sizes (the shares' design: the defaults).
    fn capacity_model(&self, ctx: &Ctx<'_>) -> CapacityModel {
        let (task_start_secs, busy_rule) = match self.design.sizing {
            FastPathSizing::Capacity {
                task_start_secs,
                busy_rule,
            } => (task_start_secs, busy_rule),
            FastPathSizing::Shares => (f64::from(DEFAULT_TASK_START_SECS), BusyRule::Utilization),
        };
        CapacityModel {
            promise_secs: ctx.scenario.latency_secs,
            concurrency: ctx.scenario.concurrency,
            task_start_secs,
            target_utilization: f64::from(self.design.utilization_pct.max(1)) / 100.0,
            busy_rule,
        }
    }

    /// What the capacity model needs of the live state, against `target`.
    fn needed(&self, ctx: &Ctx<'_>, target: f64) -> u32 {
        let model = self.capacity_model(ctx);
        let mpd = bpi_core::target::mpd_of_target(self.updater.target_settings(), target);
        let load = ServiceLoad {
            visible: ctx.live.visible,
            in_flight: ctx.live.in_flight,
            running: ctx.live.running,
            desired: ctx.scaler.desired(),
        };
        model.needed(load, mpd, ctx.scaler.bounds().1).tasks
    }

    /// Takes a reading: the live state, the capacity model's need and the capacity the fast path asks for, as the
    /// sampler Lambda publishes them.
    fn read(&self, ctx: &Ctx<'_>) -> Reading {
        let desired = ctx.scaler.desired();
        let target = self.fast_path_target(ctx);
        let mut r = Reading {
            at_ms: ctx.now_ms,
            backlog: ctx.live.backlog() as f64,
            in_flight: ctx.live.in_flight as f64,
            running: ctx.live.running,
            desired,
            fast_path_capacity: 0,
            need: self.needed(ctx, target),
        };
        r.fast_path_capacity = self.fast_path_capacity(ctx, &r, target);
        r
    }

    /// The capacity the fast path asks for on reading `r` (0: none), by the design's sizing.
    fn fast_path_capacity(&self, ctx: &Ctx<'_>, r: &Reading, target: f64) -> u32 {
        let (_, max) = ctx.scaler.bounds();
        let shares = self.design.fast_shares;
        match (self.design.sizing, self.design.ask_ahead) {
            (FastPathSizing::Capacity { .. }, _) => {
                if r.need > r.desired {
                    r.need
                } else {
                    0
                }
            }
            (FastPathSizing::Shares, AskAhead::RisingBacklog) => {
                shares.capacity(r.backlog as u64, r.running, r.desired, target, max)
            }
            (FastPathSizing::Shares, AskAhead::PendingTasks) => {
                let share = if r.running > 0 && r.running >= r.desired {
                    shares.steady
                } else {
                    shares.rising
                };
                bpi_core::sampler::fast_path_capacity(
                    r.backlog as u64,
                    r.desired,
                    target * share,
                    max,
                )
            }
        }
    }

    /// The fast path: core's step policy on the sampler's `ecsFastPathCapacity` (a 10 s alarm), its step sizes
    /// rounded as the spec writes them; or, in the variant not shipped, the sampler setting the desired count itself
    /// from its newest reading.
    fn fast_path(&mut self, ctx: &mut Ctx<'_>) {
        let (min, max) = ctx.scaler.bounds();
        let capacity = if self.design.fast_path_by_the_sampler {
            self.readings.last().map_or(0, |r| r.fast_path_capacity)
        } else {
            let decision = self
                .policies
                .fast_path
                .decide(
                    &self.store,
                    Self::horizon_ms(ctx),
                    ctx.scaler.desired(),
                    min,
                    max,
                )
                .unwrap_or_else(|e| unreachable!("core's spec is valid metric math: {e}"));
            decision.capacity.unwrap_or(0)
        };
        if capacity > 0 {
            ctx.scaler
                .scale_out(ctx.now_ms, capacity, self.design.fast_cooldown_secs);
        }
    }

    /// The idle policy: core's step policy on the sampler's backlog and in-flight count (10 s periods, every one of
    /// the idle minutes empty) sets the minimum.
    fn idle(&mut self, ctx: &mut Ctx<'_>) {
        let Some(idle) = &self.policies.idle else {
            return;
        };
        let (min, max) = ctx.scaler.bounds();
        let desired = ctx.scaler.desired();
        if desired <= min {
            // Its step sets the minimum: nothing to evaluate at it.
            return;
        }
        let decision = idle
            .decide(&self.store, Self::horizon_ms(ctx), desired, min, max)
            .unwrap_or_else(|e| unreachable!("core's spec is valid metric math: {e}"));
        let cooldown_ms = u64::from(idle.policy.step_scaling_policy_configuration.cooldown) * 1000;
        let cooled = self
            .last_idle_ms
            .is_none_or(|t| ctx.now_ms >= t + cooldown_ms);
        if let Some(to) = decision.capacity
            && to < desired
            && cooled
            && ctx.scaler.set(ctx.now_ms, to)
        {
            self.last_idle_ms = Some(ctx.now_ms);
        }
    }

    /// The fast scale-in: core's step policy on the sampler's need against its desired count (one datapoint over
    /// the window, core's `scale_in_spec`), evaluated every minute: the desired count becomes the window's largest
    /// need (rounded up to the spec's step width).
    fn fast_scale_in(&mut self, ctx: &mut Ctx<'_>) {
        let Some(scale_in) = &self.policies.scale_in else {
            return;
        };
        let (min, max) = ctx.scaler.bounds();
        let desired = ctx.scaler.desired();
        let decision = scale_in
            .decide(&self.store, Self::horizon_ms(ctx), desired, min, max)
            .unwrap_or_else(|e| unreachable!("core's spec is valid metric math: {e}"));
        let cooled = self
            .last_scale_in_ms
            .is_none_or(|t| ctx.now_ms >= t + u64::from(FAST_SCALE_IN_COOLDOWN_SECS) * 1000);
        if let Some(to) = decision.capacity
            && to < desired
            && cooled
            && ctx.scaler.set(ctx.now_ms, to)
        {
            self.last_scale_in_ms = Some(ctx.now_ms);
        }
    }

    /// The minute datapoints of the sampler's metrics per minute, None where the minute has no reading.
    fn minutes(&self, ctx: &Ctx<'_>) -> Vec<Option<MinuteOfReadings>> {
        let horizon = ctx
            .now_ms
            .saturating_sub(ctx.model.highres_delay_secs * 1000);
        let complete = (horizon / MINUTE_MS) as usize;
        let first = complete.saturating_sub(DATAPOINTS_NEEDED);
        let mut acc: Vec<(MinuteOfReadings, u32)> =
            vec![(MinuteOfReadings::default(), 0); complete - first];
        for r in self.readings.iter().rev() {
            let m = (r.at_ms / MINUTE_MS) as usize;
            if m < first {
                break;
            }
            if m >= complete {
                continue;
            }
            let (sum, n) = &mut acc[m - first];
            sum.bpi += per_task(r.backlog, f64::from(r.running));
            sum.running += f64::from(r.running);
            sum.in_flight += r.in_flight;
            *n += 1;
        }
        acc.into_iter()
            .map(|(sum, n)| {
                (n > 0).then(|| {
                    let n = f64::from(n);
                    MinuteOfReadings {
                        bpi: sum.bpi / n,
                        running: sum.running / n,
                        in_flight: sum.in_flight / n,
                    }
                })
            })
            .collect()
    }

    fn per_minute(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now_ms;
        let minutes = self.minutes(ctx);
        // Core's expression: the sampler's ecsBPI, or the target itself while no reading arrives.
        let target = self.updater.target() * self.design.headroom;
        let bpi: Vec<Option<f64>> = minutes
            .iter()
            .map(|m| Some(m.map_or(target, |m| m.bpi)))
            .collect();
        let mut trackers = vec![Tracker {
            datapoints: &bpi,
            target,
        }];
        let utilization: Vec<Option<f64>>;
        if self.design.utilization_pct > 0 {
            let complete = ctx
                .now_ms
                .saturating_sub(ctx.model.highres_delay_secs * 1000)
                / MINUTE_MS;
            let first = (complete as usize).saturating_sub(minutes.len());
            utilization = minutes
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    // FILL(m3, 0): no reading reads as no running task, so utilization 0.
                    let running = m.map_or(0.0, |m| m.running);
                    let in_flight = match self.design.utilization_source {
                        // FILL(m4, 0): a minute the workers have not published yet reads as idle. A minute's busy
                        // slot-seconds over 60 s is its mean number of messages in process.
                        UtilizationSource::WorkerDurations => {
                            ctx.metrics
                                .durations_at(first + i, now)
                                .map_or(0.0, |s| s.sum_secs)
                                / 60.0
                        }
                        UtilizationSource::SamplerInFlight => m.map_or(0.0, |m| m.in_flight),
                    };
                    Some(utilization_of(in_flight, ctx.scenario.concurrency, running))
                })
                .collect();
            trackers.push(Tracker {
                datapoints: &utilization,
                target: f64::from(self.design.utilization_pct) / 100.0,
            });
        }
        let out_cd = u64::from(self.updater.policy().scale_out_cooldown_secs);
        let in_cd = u64::from(self.updater.policy().scale_in_cooldown_secs);
        ctx.target_tracking(&trackers, out_cd, in_cd);
    }

    /// The longest run of minutes with no reading of a backlog between two minutes with one, over the hour before
    /// `now_ms` (0 when the hour has no such gap).
    fn longest_gap_minutes(&self, now_ms: u64) -> u32 {
        let first = now_ms.saturating_sub(60 * MINUTE_MS) / MINUTE_MS;
        let end = now_ms / MINUTE_MS;
        let mut busy = vec![false; (end - first) as usize];
        for r in self.readings.iter().rev() {
            let m = r.at_ms / MINUTE_MS;
            if m < first {
                break;
            }
            if m < end && r.backlog > 0.0 {
                busy[(m - first) as usize] = true;
            }
        }
        let mut longest = 0;
        let mut quiet = 0;
        let mut seen_busy = false;
        for b in busy {
            if b {
                if seen_busy {
                    longest = longest.max(quiet);
                }
                seen_busy = true;
                quiet = 0;
            } else {
                quiet += 1;
            }
        }
        longest
    }

    /// With the sampler silent for a whole minute, SQS's own visible count above zero doubles the fleet.
    fn backstop(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now_ms;
        let silent = self
            .readings
            .last()
            .is_none_or(|r| r.at_ms + MINUTE_MS + ctx.model.highres_delay_secs * 1000 < now);
        if !silent {
            return;
        }
        let delivered = ctx.metrics.delivered(now, ctx.model.sqs_delay_secs);
        let Some(m) = delivered.checked_sub(1) else {
            return;
        };
        let visible = ctx.metrics.sqs_at(m, now).map_or(0.0, |d| d.visible.max);
        let cooled = self
            .last_backstop_ms
            .is_none_or(|t| now >= t + BACKSTOP_COOLDOWN_SECS * 1000);
        if visible > 0.0 && cooled {
            self.last_backstop_ms = Some(now);
            let desired = ctx.scaler.desired();
            ctx.scaler.set(now, (desired * 2).max(desired + 1));
        }
    }
}

impl Controller for OursController {
    fn tick(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now_ms;
        if let Some(p) = self.design.predictive {
            self.predict(ctx, p);
        }
        if now.is_multiple_of(SAMPLE_MS) {
            let failed = ctx.sampler_fails_at_ms.is_some_and(|at| now >= at);
            if !failed {
                let reading = self.read(ctx);
                self.store.put_sampled(reading.at_ms, &reading.values());
                self.readings.push(reading);
            }
            self.fast_path(ctx);
            self.idle(ctx);
        }
        if ctx.minute_boundary() {
            let keep_alive_every_secs = self
                .design
                .keep_alive_every_secs
                .unwrap_or(self.design.updater_every_secs);
            if let Some(miss_budget) = self.design.keep_alive_miss_budget
                && now.is_multiple_of(keep_alive_every_secs.max(60) * 1000)
            {
                self.keep_alive(ctx, miss_budget);
            }
            if now.is_multiple_of(self.design.updater_every_secs * 1000) {
                self.updater
                    .run(ctx, (self.design.updater_every_secs / 60) as usize);
                if self.design.forecast_max_task_hours > 0.0 {
                    self.forecast(ctx);
                }
                if let Some((fewest, most)) = self.design.idle_after_longest_gap {
                    let minutes = (self.longest_gap_minutes(now) + 1).clamp(fewest, most);
                    if minutes != self.idle_minutes {
                        self.idle_minutes = minutes;
                        let settings = Self::settings(&self.updater, self.design, minutes);
                        self.policies.idle = idle_spec(&settings);
                    }
                }
            }
            self.backstop(ctx);
            self.fast_scale_in(ctx);
            self.per_minute(ctx);
        }
    }

    fn target(&self) -> f64 {
        self.updater.target()
    }

    fn target_changes(&self) -> u32 {
        self.updater.changes()
    }
}
