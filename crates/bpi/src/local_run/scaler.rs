//! The local stand-in for Application Auto Scaling and CloudWatch: the sampler's readings (live queue counts, taken
//! as often as the local run samples, core's `sampled_values`), kept as CloudWatch would keep them on an accelerated
//! clock, and the same decisions as the simulator: core's step policies (the fast path, the idle policy, the fast
//! scale-in: `bpi_core::policy::scaling_spec`, what AWS is given) evaluated by core's alarm evaluator
//! (`bpi_core::alarm`), and target tracking by `bpi_sim::autoscaling::decide`.
//!
//! One period here stands for one CloudWatch minute: the readings are stamped on a clock that runs 60 / period
//! seconds for each real one, so datapoint counts (3 high, 15 low, the idle minutes) and cooldowns keep their
//! values and only the clock is faster. The sampler's datapoints are seen at once (it publishes within seconds).

use bpi_core::alarm::MetricStore;
use bpi_core::backlog::per_task;
use bpi_core::capacity::{BusyRule, CapacityModel, DEFAULT_TASK_START_SECS};
use bpi_core::policy::utilization as utilization_of;
use bpi_core::policy::{PolicySettings, StepPolicySpec, fast_path_spec, idle_spec, scale_in_spec};
use bpi_core::sampler::{
    RECENT_MPD_MINUTES, Reading, SampledValues, fast_path_target, sampled_values,
};
use bpi_core::target::mpd_of_target;
use bpi_core::{QueueDepth, StatisticSet, TargetSettings};
use bpi_sim::autoscaling::{self, Decision, Tracker};

/// Why the desired count changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Target tracking (either policy) scaled out.
    Out,
    /// Target tracking scaled in (every policy agreed).
    In,
    /// The fast path (a reading asked for more tasks than desired).
    FastPath,
    /// The idle step policy.
    Idle,
    /// The fast scale-in (the window's readings needed fewer tasks than desired, and some a task).
    FastScaleIn,
}

impl Action {
    /// How the summary names it.
    pub fn name(self) -> &'static str {
        match self {
            Action::Out => "scale-out",
            Action::In => "scale-in",
            Action::FastPath => "fast-path",
            Action::Idle => "idle",
            Action::FastScaleIn => "fast-scale-in",
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Period {
    visible_max: u64,
    in_flight_max: u64,
    in_flight_sum: f64,
    running_sum: f64,
    samples: u32,
    busy_secs: f64,
    processed: u64,
}

/// The scaling state of the local run.
#[derive(Debug)]
pub struct LocalScaler {
    settings: PolicySettings,
    target_settings: TargetSettings,
    current: Period,
    closed: Vec<Period>,
    last_out: Option<usize>,
    last_in: Option<usize>,
    /// The sampler's metrics, stamped on the accelerated clock.
    store: MetricStore,
    /// Core's step policies for the settings.
    fast_path: StepPolicySpec,
    idle: Option<StepPolicySpec>,
    scale_in: Option<StepPolicySpec>,
    /// Accelerated milliseconds per real second: a period stands for a minute.
    clock_ms_per_sec: f64,
    /// The accelerated time of the newest reading, ms.
    now_ms: u64,
    /// The accelerated times of the step policies' last actions (their cooldowns), ms.
    last_fast_ms: Option<u64>,
    last_idle_ms: Option<u64>,
    last_fast_in_ms: Option<u64>,
    /// The capacity model the sampler sizes with (its settings at their defaults).
    pub capacity: CapacityModel,
    /// The desired count.
    pub desired: u32,
}

impl LocalScaler {
    /// A scaler for `settings` (and `target_settings`, for the fast path's recent MPD) starting at `desired` tasks,
    /// a period of `period_secs` standing for a minute; a datapoint per [`LocalScaler::close_period`].
    pub fn new(
        settings: PolicySettings,
        target_settings: TargetSettings,
        desired: u32,
        period_secs: u64,
    ) -> Self {
        let capacity = CapacityModel {
            promise_secs: target_settings.latency_secs(),
            concurrency: target_settings.concurrency(),
            task_start_secs: f64::from(DEFAULT_TASK_START_SECS),
            target_utilization: f64::from(
                settings
                    .utilization
                    .as_ref()
                    .map_or(bpi_core::policy::DEFAULT_TARGET_UTILIZATION_PCT, |u| {
                        u.target_pct
                    })
                    .clamp(1, 100),
            ) / 100.0,
            busy_rule: BusyRule::Utilization,
        };
        LocalScaler {
            fast_path: fast_path_spec(&settings),
            idle: idle_spec(&settings),
            scale_in: scale_in_spec(&settings),
            settings,
            target_settings,
            current: Period::default(),
            closed: Vec::new(),
            last_out: None,
            last_in: None,
            store: MetricStore::new(),
            clock_ms_per_sec: 60_000.0 / period_secs.max(1) as f64,
            now_ms: 0,
            last_fast_ms: None,
            last_idle_ms: None,
            last_fast_in_ms: None,
            capacity,
            desired,
        }
    }

    /// What the sampler publishes for a reading of `depth` with `running` workers, against the BPI policy's
    /// target in force (core's `sampled_values`, with this scaler's capacity model and MPD).
    pub fn values(&self, depth: QueueDepth, running: u32, bpi_target: f64) -> SampledValues {
        sampled_values(
            Reading {
                depth,
                running,
                desired: self.desired,
            },
            self.settings.counting,
            &self.capacity,
            self.mpd_secs(bpi_target),
            self.settings.max_capacity,
        )
    }

    /// What `policy` sets now, if its alarm is in ALARM and its cooldown since `last_ms` has passed.
    fn step(&self, policy: &StepPolicySpec, last_ms: Option<u64>) -> Option<u32> {
        let cooldown_ms =
            u64::from(policy.policy.step_scaling_policy_configuration.cooldown) * 1000;
        if last_ms.is_some_and(|t| self.now_ms < t + cooldown_ms) {
            return None;
        }
        policy
            .decide(
                &self.store,
                self.now_ms,
                self.desired,
                self.settings.min_capacity,
                self.settings.max_capacity,
            )
            .unwrap_or_else(|e| unreachable!("core's spec is valid metric math: {e}"))
            .capacity
    }

    /// Records a reading taken `at_secs` into the run (`depth`, and the sampler's `values` of it, [`LocalScaler::values`])
    /// and applies the step policies that act on every reading: the fast path (when the need exceeds the desired
    /// count, the desired count becomes it) and the idle policy.
    pub fn sample(
        &mut self,
        at_secs: f64,
        depth: QueueDepth,
        values: &SampledValues,
    ) -> Option<Action> {
        let p = &mut self.current;
        p.visible_max = p.visible_max.max(depth.visible);
        p.in_flight_max = p.in_flight_max.max(depth.in_flight);
        p.in_flight_sum += depth.in_flight as f64;
        p.running_sum += f64::from(values.running);
        p.samples += 1;
        self.now_ms = ((at_secs * self.clock_ms_per_sec) as u64).max(self.now_ms);
        self.store.put_sampled(self.now_ms, values);
        let period = self.closed.len();
        if let Some(to) = self.step(&self.fast_path, self.last_fast_ms)
            && to > self.desired
        {
            self.desired = to;
            self.last_fast_ms = Some(self.now_ms);
            self.last_out = Some(period);
            self.last_in = None;
            return Some(Action::FastPath);
        }
        if let Some(idle) = &self.idle
            && let Some(to) = self.step(idle, self.last_idle_ms)
            && to < self.desired
        {
            self.desired = to;
            self.last_idle_ms = Some(self.now_ms);
            self.last_in = Some(period);
            return Some(Action::Idle);
        }
        None
    }

    /// The target the fast path sizes against: the BPI policy's, lowered by the newest periods' MPD when messages
    /// got longer (core's `fast_path_target`, as the sampler Lambda computes it).
    pub fn fast_path_target(&self, bpi_target: f64) -> f64 {
        let recent: Vec<StatisticSet> = self
            .closed
            .iter()
            .rev()
            .take(RECENT_MPD_MINUTES as usize)
            .map(|p| StatisticSet {
                sum_secs: p.busy_secs,
                sample_count: p.processed as f64,
            })
            .collect();
        fast_path_target(bpi_target, &recent, &self.target_settings)
    }

    /// The MPD the capacity model sizes with: that of the fast path's target.
    pub fn mpd_secs(&self, bpi_target: f64) -> f64 {
        mpd_of_target(&self.target_settings, self.fast_path_target(bpi_target))
    }

    /// Records a processed message (the Sum of MsgProcessingDuration).
    pub fn processed(&mut self, duration_secs: f64) {
        self.current.busy_secs += duration_secs;
        self.current.processed += 1;
    }

    /// A period's Average of a reading, from its sum.
    fn mean(p: &Period, sum: f64) -> f64 {
        if p.samples == 0 {
            0.0
        } else {
            sum / f64::from(p.samples)
        }
    }

    fn running(p: &Period) -> f64 {
        Self::mean(p, p.running_sum)
    }

    fn backlog(&self, p: &Period) -> f64 {
        if self.settings.counting.counts_in_flight() {
            (p.visible_max + p.in_flight_max) as f64
        } else {
            p.visible_max as f64
        }
    }

    /// Closes the period and decides, with the BPI policy's target in force. Returns the action taken, if any.
    pub fn close_period(&mut self, bpi_target: f64) -> Option<Action> {
        self.closed.push(std::mem::take(&mut self.current));
        let now = self.closed.len();
        let visible = &self.closed[..];
        let s = &self.settings;
        let cooled = |last: Option<usize>, cooldown_secs: u32| {
            last.is_none_or(|t| now >= t + (cooldown_secs as usize).div_ceil(60))
        };
        // The fast scale-in: core's step policy on the need over its window.
        if let Some(scale_in) = &self.scale_in
            && let Some(to) = self.step(scale_in, self.last_fast_in_ms)
            && to < self.desired
        {
            self.desired = to;
            self.last_fast_in_ms = Some(self.now_ms);
            return Some(Action::FastScaleIn);
        }
        let bpi: Vec<Option<f64>> = visible
            .iter()
            .map(|p| Some(per_task(self.backlog(p), Self::running(p))))
            .collect();
        let mut trackers = vec![Tracker {
            datapoints: &bpi,
            target: bpi_target,
        }];
        let utilization: Vec<Option<f64>>;
        if let Some(u) = &s.utilization {
            utilization = visible
                .iter()
                .map(|p| {
                    Some(utilization_of(
                        Self::mean(p, p.in_flight_sum),
                        u.concurrency,
                        Self::running(p),
                    ))
                })
                .collect();
            trackers.push(Tracker {
                datapoints: &utilization,
                target: f64::from(u.target_pct) / 100.0,
            });
        }
        let bounded = |n: u32| n.clamp(s.min_capacity, s.max_capacity);
        match autoscaling::decide(&trackers, self.desired) {
            Decision::Out(n)
                if cooled(self.last_out, s.scale_out_cooldown_secs)
                    && bounded(n) != self.desired =>
            {
                self.desired = bounded(n);
                self.last_out = Some(now);
                self.last_in = None;
                Some(Action::Out)
            }
            Decision::In(n)
                if cooled(self.last_in, s.scale_in_cooldown_secs)
                    && cooled(self.last_out, s.scale_out_cooldown_secs)
                    && bounded(n) != self.desired =>
            {
                self.desired = bounded(n);
                self.last_in = Some(now);
                Some(Action::In)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(min: u32) -> PolicySettings {
        PolicySettings {
            policy_name: "p".into(),
            min_capacity: min,
            utilization: None,
            // The fast scale-in off: these tests watch the other rules; its own test turns it on.
            scale_in_window_minutes: 0,
            ..PolicySettings::for_service("c", "s", "q")
        }
    }

    fn target_settings() -> TargetSettings {
        TargetSettings::new(60.0, 1, 5.0, 10_000).expect("valid")
    }

    /// A scaler whose period stands for a minute of real seconds: its clock is the tests' own.
    fn scaler(settings: PolicySettings, desired: u32) -> LocalScaler {
        LocalScaler::new(settings, target_settings(), desired, 60)
    }

    #[test]
    fn the_fast_path_sizes_for_longer_messages_as_soon_as_the_workers_report_them() {
        // Target 12 (60 s / 5 s); the workers now report 20 s messages: the capacity model sizes for 20 s, so each
        // of the 5 running tasks serves 2.4 within 0.8 of the promise (12), and each new one 1 in its 15 s: 14
        // messages ask for 7 tasks where the policy's 5 s alone would ask for none.
        let mut s = scaler(settings(1), 5);
        for _ in 0..30 {
            s.processed(20.0);
        }
        s.close_period(12.0);
        let depth = QueueDepth {
            visible: 14,
            in_flight: 0,
        };
        let values = s.values(depth, 5, 12.0);
        let action = s.sample(60.0, depth, &values);
        assert_eq!((action, s.desired), (Some(Action::FastPath), 7));
    }

    /// A period of six readings 10 s apart, then its close: (the first action of a reading, the close's).
    fn period(
        s: &mut LocalScaler,
        visible: u64,
        in_flight: u64,
        running: u32,
        target: f64,
    ) -> (Option<Action>, Option<Action>) {
        let start = s.closed.len() as f64 * 60.0;
        let depth = QueueDepth { visible, in_flight };
        let mut first = None;
        for i in 0..6 {
            let values = s.values(depth, running, target);
            let action = s.sample(start + 10.0 * f64::from(i), depth, &values);
            first = first.or(action);
        }
        (first, s.close_period(target))
    }

    #[test]
    fn the_fast_path_sets_what_the_backlog_needs_on_the_reading_itself() {
        // Target 12; from zero, nothing runs, so 0.25 of it a task: 24 messages need 8 tasks, on the first reading.
        let mut s = scaler(settings(0), 0);
        assert_eq!(period(&mut s, 20, 4, 0, 12.0).0, Some(Action::FastPath));
        assert_eq!(s.desired, 8);
        // The same backlog again with the 8 running (0.8 of the target a task: 3 needed): nothing to add.
        assert_eq!(period(&mut s, 20, 4, 8, 12.0).0, None);
    }

    #[test]
    fn backlog_above_target_scales_out_after_three_datapoints() {
        // 14 messages on one running task of 3 desired: the capacity model needs 3 (9.6 on the running task, 3 on
        // each new one), so the fast path adds nothing; ecsBPI 14 against 12 for 3 datapoints: target tracking wants
        // ⌈3 × 14 / 12⌉ = 4.
        let mut s = scaler(settings(1), 3);
        let actions: Vec<_> = (0..3).map(|_| period(&mut s, 13, 1, 1, 12.0)).collect();
        assert!(
            actions.iter().all(|(fast, _)| fast.is_none()),
            "{actions:?}"
        );
        let tracking: Vec<_> = actions.iter().map(|(_, t)| *t).collect();
        assert_eq!(tracking, vec![None, None, Some(Action::Out)]);
        assert_eq!(s.desired, 4);
    }

    #[test]
    fn the_fast_scale_in_sets_the_need_after_its_window() {
        // 8 desired: a minute with 7 messages in flight on 8 running needs the whole fleet; then 2 in flight need
        // ⌈2 / 0.8⌉ = 3. With a 2-minute window the minute that needed 8 holds the fleet until it leaves the window.
        let mut s = scaler(
            PolicySettings {
                scale_in_window_minutes: 2,
                ..settings(1)
            },
            8,
        );
        let mut actions = vec![period(&mut s, 0, 7, 8, 12.0).1];
        actions.extend((0..2).map(|_| period(&mut s, 0, 2, 8, 12.0).1));
        assert_eq!(actions, vec![None, None, Some(Action::FastScaleIn)]);
        assert_eq!(s.desired, 3);
        // A window whose readings need all the fleet has holds it.
        let actions: Vec<_> = (0..3).map(|_| period(&mut s, 0, 3, 3, 12.0).1).collect();
        assert!(
            actions.iter().all(|a| *a != Some(Action::FastScaleIn)),
            "{actions:?}"
        );
    }

    #[test]
    fn an_empty_queue_for_the_idle_minutes_sets_the_minimum() {
        // The idle alarm: 18 ten-second periods (3 minutes), every one empty; the third minute's last reading
        // completes them.
        let mut s = scaler(settings(0), 5);
        let actions: Vec<_> = (0..3).map(|_| period(&mut s, 0, 0, 5, 12.0).0).collect();
        assert_eq!(actions, vec![None, None, Some(Action::Idle)]);
        assert_eq!(s.desired, 0);
    }
}
