//! The local stand-in for Application Auto Scaling and CloudWatch: datapoints built from live queue counts and the
//! workers' logs on an accelerated period, the written policies' targets, and the same decisions as the simulator
//! (`bpi_sim::autoscaling::decide` for target tracking, core's activation steps, the idle rule).
//!
//! One period here stands for one CloudWatch minute: datapoint counts (3 high, 15 low, the idle minutes) and
//! cooldowns (in minutes) are kept, so only the clock is faster. Datapoints become visible one period late, as SQS
//! metrics do.

use bpi_core::QueueDepth;
use bpi_core::policy::{DEFAULT_ACTIVATION_COOLDOWN_SECS, PolicySettings, activation_capacity};
use bpi_sim::autoscaling::{self, Decision, Tracker};

/// Periods a datapoint takes to become visible (SQS publishes with about a minute's delay).
const DELAY_PERIODS: usize = 1;

/// Why the desired count changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Target tracking (either policy) scaled out.
    Out,
    /// Target tracking scaled in (every policy agreed).
    In,
    /// The scale-from-zero step policy.
    Activation,
    /// The idle step policy.
    Idle,
}

impl Action {
    /// How the summary names it.
    pub fn name(self) -> &'static str {
        match self {
            Action::Out => "scale-out",
            Action::In => "scale-in",
            Action::Activation => "activation",
            Action::Idle => "idle",
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Period {
    visible_max: u64,
    in_flight_max: u64,
    running_sum: f64,
    samples: u32,
    busy_secs: f64,
}

/// The scaling state of the local run.
#[derive(Debug)]
pub struct Scaler {
    settings: PolicySettings,
    period_secs: f64,
    current: Period,
    closed: Vec<Period>,
    last_out: Option<usize>,
    last_in: Option<usize>,
    /// The desired count.
    pub desired: u32,
}

impl Scaler {
    /// A scaler for `settings` starting at `desired` tasks, one datapoint per `period_secs`.
    pub fn new(settings: PolicySettings, period_secs: f64, desired: u32) -> Self {
        Scaler {
            settings,
            period_secs,
            current: Period::default(),
            closed: Vec::new(),
            last_out: None,
            last_in: None,
            desired,
        }
    }

    /// Records a sample of the queue and the running workers.
    pub fn sample(&mut self, depth: QueueDepth, running: u32) {
        let p = &mut self.current;
        p.visible_max = p.visible_max.max(depth.visible);
        p.in_flight_max = p.in_flight_max.max(depth.in_flight);
        p.running_sum += f64::from(running);
        p.samples += 1;
    }

    /// Records a processed message (the Sum of MsgProcessingDuration).
    pub fn processed(&mut self, duration_secs: f64) {
        self.current.busy_secs += duration_secs;
    }

    fn running(p: &Period) -> f64 {
        if p.samples == 0 {
            0.0
        } else {
            p.running_sum / f64::from(p.samples)
        }
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
        let visible = &self.closed[..now.saturating_sub(DELAY_PERIODS)];
        let latest = visible.last()?;
        let s = &self.settings;
        let cooled = |last: Option<usize>, cooldown_secs: u32| {
            last.is_none_or(|t| now >= t + (cooldown_secs as usize).div_ceil(60))
        };
        // Scale from zero: backlog while no worker runs sets ⌈backlog / target⌉ at once.
        let backlog = (latest.visible_max + latest.in_flight_max) as f64;
        if s.min_capacity == 0
            && self.desired == 0
            && Self::running(latest) == 0.0
            && backlog > 0.0
            && cooled(self.last_out, DEFAULT_ACTIVATION_COOLDOWN_SECS)
        {
            self.desired = activation_capacity(s, bpi_target, backlog);
            self.last_out = Some(now);
            return Some(Action::Activation);
        }
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
        let bpi: Vec<Option<f64>> = visible
            .iter()
            .map(|p| {
                let running = Self::running(p);
                let backlog = self.backlog(p);
                Some(if running > 0.0 {
                    backlog / running
                } else {
                    backlog
                })
            })
            .collect();
        let mut trackers = vec![Tracker {
            datapoints: &bpi,
            target: bpi_target,
        }];
        let utilization: Vec<Option<f64>>;
        if let Some(u) = &s.utilization {
            let c = f64::from(u.concurrency.max(1));
            utilization = visible
                .iter()
                .map(|p| {
                    let running = Self::running(p);
                    Some(if running > 0.0 {
                        p.busy_secs / (self.period_secs * c * running)
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
        }
    }

    fn period(
        s: &mut Scaler,
        visible: u64,
        in_flight: u64,
        running: u32,
        target: f64,
    ) -> Option<Action> {
        s.sample(QueueDepth { visible, in_flight }, running);
        s.close_period(target)
    }

    #[test]
    fn backlog_above_target_scales_out_after_three_visible_datapoints() {
        let mut s = Scaler::new(settings(1), 10.0, 1);
        // 36 per task against 12: three datapoints, visible one period late.
        let actions: Vec<_> = (0..4).map(|_| period(&mut s, 35, 1, 1, 12.0)).collect();
        assert_eq!(actions, vec![None, None, None, Some(Action::Out)]);
        assert_eq!(s.desired, 3);
    }

    #[test]
    fn from_zero_the_activation_starts_what_the_backlog_needs() {
        let mut s = Scaler::new(settings(0), 10.0, 0);
        assert_eq!(period(&mut s, 30, 0, 0, 12.0), None, "not visible yet");
        assert_eq!(period(&mut s, 30, 0, 0, 12.0), Some(Action::Activation));
        assert_eq!(s.desired, 3);
    }

    #[test]
    fn an_empty_queue_for_the_idle_minutes_sets_the_minimum() {
        let mut s = Scaler::new(settings(0), 10.0, 5);
        let actions: Vec<_> = (0..4).map(|_| period(&mut s, 0, 0, 5, 12.0)).collect();
        assert_eq!(actions, vec![None, None, None, Some(Action::Idle)]);
        assert_eq!(s.desired, 0);
    }
}
