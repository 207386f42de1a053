//! The local stand-in for Application Auto Scaling and CloudWatch: the sampler's readings (live queue counts, taken
//! as often as the local run samples), datapoints built from them and the workers' logs on an accelerated period,
//! the written policies' targets, and the same decisions as the simulator (core's capacity model on every reading
//! for the fast path, and per period for the fast scale-in; `bpi_sim::autoscaling::decide` for target tracking; the
//! idle rule).
//!
//! One period here stands for one CloudWatch minute: datapoint counts (3 high, 15 low, the idle minutes) and
//! cooldowns (in minutes) are kept, so only the clock is faster. The sampler's datapoints are seen as soon as their
//! period closes (it publishes within seconds).

use bpi_core::backlog::per_task;
use bpi_core::capacity::{BusyRule, CapacityModel, DEFAULT_TASK_START_SECS, ServiceLoad};
use bpi_core::policy::utilization as utilization_of;
use bpi_core::policy::{
    FAST_PATH_COOLDOWN_SECS, FAST_SCALE_IN_COOLDOWN_SECS, PolicySettings, scale_in_breaches,
};
use bpi_core::sampler::{RECENT_MPD_MINUTES, fast_path_target};
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
    /// The fast scale-in (every reading of its window needed fewer tasks than desired).
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
    /// The most tasks a reading of the period needed (the sampler's `ecsNeededTasks`, Maximum).
    need_max: u32,
    /// The fewest desired at a reading (its `ecsDesiredTasks`, Minimum).
    desired_min: Option<u32>,
}

/// The scaling state of the local run.
#[derive(Debug)]
pub struct Scaler {
    settings: PolicySettings,
    target_settings: TargetSettings,
    current: Period,
    closed: Vec<Period>,
    last_out: Option<usize>,
    last_in: Option<usize>,
    /// The period of the fast path's last action.
    last_fast: Option<usize>,
    /// The period of the fast scale-in's last action.
    last_fast_in: Option<usize>,
    /// The capacity model the sampler sizes with (its settings at their defaults).
    pub capacity: CapacityModel,
    /// The desired count.
    pub desired: u32,
}

impl Scaler {
    /// A scaler for `settings` (and `target_settings`, for the fast path's recent MPD) starting at `desired` tasks;
    /// a datapoint per [`Scaler::close_period`].
    pub fn new(settings: PolicySettings, target_settings: TargetSettings, desired: u32) -> Self {
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
        Scaler {
            settings,
            target_settings,
            current: Period::default(),
            closed: Vec::new(),
            last_out: None,
            last_in: None,
            last_fast: None,
            last_fast_in: None,
            capacity,
            desired,
        }
    }

    /// Records a reading of the queue and the running workers (what the sampler publishes), and applies the fast
    /// path to it with the BPI policy's target in force, lowered by the newest periods' MPD when messages got longer:
    /// when the backlog needs more tasks than desired, the desired count becomes that at once (core's rules, as the
    /// sampler's `ecsFastPathCapacity` and its step policy do).
    pub fn sample(&mut self, depth: QueueDepth, running: u32, bpi_target: f64) -> Option<Action> {
        let p = &mut self.current;
        p.visible_max = p.visible_max.max(depth.visible);
        p.in_flight_max = p.in_flight_max.max(depth.in_flight);
        p.in_flight_sum += depth.in_flight as f64;
        p.running_sum += f64::from(running);
        p.samples += 1;
        let now = self.closed.len();
        // The cooldown in periods (a period stands for a minute): the action after the next period at the earliest.
        let cooled = self
            .last_fast
            .is_none_or(|t| now >= t + (FAST_PATH_COOLDOWN_SECS as usize).div_ceil(60));
        let need = self.need(depth, running, bpi_target);
        let p = &mut self.current;
        p.need_max = p.need_max.max(need);
        p.desired_min = Some(p.desired_min.map_or(self.desired, |d| d.min(self.desired)));
        let capacity = if need > self.desired { need } else { 0 };
        if capacity > 0 && cooled {
            self.desired = capacity.max(self.settings.min_capacity);
            self.last_fast = Some(now);
            self.last_out = Some(now);
            self.last_in = None;
            return Some(Action::FastPath);
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

    /// The tasks this reading needs (core's capacity model, as the sampler's `ecsNeededTasks` would read); the fast
    /// path asks for them when more than desired. Changes nothing.
    pub fn need(&self, depth: QueueDepth, running: u32, bpi_target: f64) -> u32 {
        let load = ServiceLoad {
            visible: depth.visible,
            in_flight: depth.in_flight,
            running,
            desired: self.desired,
        };
        self.capacity
            .needed(load, self.mpd_secs(bpi_target), self.settings.max_capacity)
            .tasks
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
        // Idle: nothing visible or in flight for the idle minutes sets the minimum.
        let backlogs = visible
            .iter()
            .rev()
            .map(|p| (p.visible_max + p.in_flight_max) as f64);
        if autoscaling::idle_alarm(backlogs, s.idle_minutes)
            && self.desired > s.min_capacity
            && cooled(self.last_out, s.scale_out_cooldown_secs)
        {
            self.desired = s.min_capacity;
            self.last_in = Some(now);
            return Some(Action::Idle);
        }
        // The fast scale-in: the window's largest need below its fewest desired, and some reading needed a task
        // (core's `scale_in_breaches`, one datapoint over the window as core's spec states it): that need.
        let window = s.scale_in_window_minutes as usize;
        if window > 0
            && visible.len() >= window
            && cooled(self.last_fast_in, FAST_SCALE_IN_COOLDOWN_SECS)
        {
            let recent = &visible[visible.len() - window..];
            let need_max = recent.iter().map(|p| p.need_max).max();
            let desired_min = recent.iter().filter_map(|p| p.desired_min).min();
            if let Some(desired_min) = desired_min
                && scale_in_breaches(need_max, desired_min)
            {
                let to = need_max
                    .unwrap_or(self.desired)
                    .clamp(s.min_capacity, s.max_capacity);
                if to < self.desired {
                    self.desired = to;
                    self.last_fast_in = Some(now);
                    return Some(Action::FastScaleIn);
                }
            }
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
    use bpi_core::BacklogCounting;

    fn settings(min: u32) -> PolicySettings {
        PolicySettings {
            cluster_name: "c".into(),
            service_name: "s".into(),
            queue_name: "q".into(),
            policy_name: "p".into(),
            counting: BacklogCounting::VisibleAndInFlight,
            scale_out_cooldown_secs: 60,
            scale_in_cooldown_secs: 120,
            min_capacity: min,
            max_capacity: 10,
            utilization: None,
            idle_minutes: 3,
            // The fast scale-in off: these tests watch the other rules; its own test turns it on.
            scale_in_window_minutes: 0,
            signal: bpi_core::policy::SignalMetrics::for_queue("ECS-SQS-BPI", "Single-Queue", "q"),
        }
    }

    fn target_settings() -> TargetSettings {
        TargetSettings::new(60.0, 1, 5.0, 10_000).expect("valid")
    }

    #[test]
    fn the_fast_path_sizes_for_longer_messages_as_soon_as_the_workers_report_them() {
        // Target 12 (60 s / 5 s); the workers now report 20 s messages: the capacity model sizes for 20 s, so each
        // of the 5 running tasks serves 2.4 within 0.8 of the promise (12), and each new one 1 in its 15 s: 14
        // messages ask for 7 tasks where the policy's 5 s alone would ask for none.
        let mut s = Scaler::new(settings(1), target_settings(), 5);
        for _ in 0..30 {
            s.processed(20.0);
        }
        s.close_period(12.0);
        let action = s.sample(
            QueueDepth {
                visible: 14,
                in_flight: 0,
            },
            5,
            12.0,
        );
        assert_eq!((action, s.desired), (Some(Action::FastPath), 7));
    }

    /// One reading, then the period's close: (the fast path's action, target tracking's or idle's).
    fn period(
        s: &mut Scaler,
        visible: u64,
        in_flight: u64,
        running: u32,
        target: f64,
    ) -> (Option<Action>, Option<Action>) {
        let fast = s.sample(QueueDepth { visible, in_flight }, running, target);
        (fast, s.close_period(target))
    }

    #[test]
    fn the_fast_path_sets_what_the_backlog_needs_on_the_reading_itself() {
        // Target 12; from zero, nothing runs, so 0.25 of it a task: 24 messages need 8 tasks, on the first reading.
        let mut s = Scaler::new(settings(0), target_settings(), 0);
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
        let mut s = Scaler::new(settings(1), target_settings(), 3);
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
        // 8 desired, 2 messages in flight on 8 running: the need is ⌈2 / 0.8⌉ = 3. With a 2-period window the
        // second period sets 3.
        let mut s = Scaler::new(
            PolicySettings {
                scale_in_window_minutes: 2,
                ..settings(1)
            },
            target_settings(),
            8,
        );
        let actions: Vec<_> = (0..2).map(|_| period(&mut s, 0, 2, 8, 12.0).1).collect();
        assert_eq!(actions, vec![None, Some(Action::FastScaleIn)]);
        assert_eq!(s.desired, 3);
        // A period that needs all it has resets the window.
        let actions: Vec<_> = [3, 0, 0]
            .into_iter()
            .map(|in_flight| period(&mut s, 0, in_flight, 3, 12.0).1)
            .collect();
        assert_eq!(actions[0], None);
    }

    #[test]
    fn an_empty_queue_for_the_idle_minutes_sets_the_minimum() {
        let mut s = Scaler::new(settings(0), target_settings(), 5);
        let actions: Vec<_> = (0..3).map(|_| period(&mut s, 0, 0, 5, 12.0).1).collect();
        assert_eq!(actions, vec![None, None, Some(Action::Idle)]);
        assert_eq!(s.desired, 0);
    }
}
