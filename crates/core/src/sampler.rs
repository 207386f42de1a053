//! The sampler's arithmetic: from one live reading of the queue and the service to the values it publishes as
//! high-resolution metrics.
//!
//! Why it exists: SQS publishes its depth gauges to CloudWatch once a minute at an undocumented moment, and Container
//! Insights publishes the task count on its own clock, so a policy on those metrics reacts minutes late and can be
//! fooled by the phase of the reading (a load that arrives at :00 and is done by :30 reads as an empty queue).
//! The sampler reads `GetQueueAttributes` and `DescribeServices` itself every 10 seconds; this module turns one
//! reading into ecsBPI (core's rule, [`backlog_per_task`]) and the tasks it needs (core's capacity model,
//! [`crate::capacity`]): the fast path's ask when above the desired count, the fast scale-in's when below it.

use serde::Serialize;

use crate::backlog::{BacklogCounting, QueueDepth, backlog_per_task};
use crate::capacity::{CapacityModel, NeedReason, ServiceLoad};

/// ecsBPI: backlog per running task (the backlog itself at zero tasks).
pub const BPI_METRIC: &str = "ecsBPI";
/// The backlog: visible, plus in flight when counted.
pub const BACKLOG_METRIC: &str = "ecsBacklog";
/// Tasks running, as DescribeServices reports them.
pub const RUNNING_METRIC: &str = "ecsRunningTasks";
/// The service's desired count when read.
pub const DESIRED_METRIC: &str = "ecsDesiredTasks";
/// The capacity the fast path asks for: the tasks the reading needs when the service has fewer desired, else 0.
pub const FAST_PATH_METRIC: &str = "ecsFastPathCapacity";
/// The tasks the reading needs (core's capacity model), whatever the desired count: the fast scale-in's signal and
/// `bpi status`'s "needed".
pub const NEEDED_METRIC: &str = "ecsNeededTasks";
/// Messages in flight (ApproximateNumberOfMessagesNotVisible) at the reading: six a minute, so the updater's
/// estimate of MPD by Little's law, when no worker publishes durations, does not rest on SQS's one gauge reading a
/// minute (README, "No worker metric": within 18% of the measured MPD in every scenario, against up to 156% long
/// and 99.8% short).
pub const IN_FLIGHT_METRIC: &str = "ecsInFlight";

/// The previous fast path's rule, kept for the simulator's comparison (`capacity_designs`): the shares of the
/// target per task the fast path sized the fleet for, `rising` while the backlog outgrows the running fleet (none runs, or it needs more than [`RISING_ABOVE_RUNNING`] × the running tasks at the steady share),
/// `steady` otherwise.
///
/// Below 1, capacity is asked for before the backlog per task reaches the promise, so that tasks which take 30-180 s
/// to start arrive in time. While the backlog outgrows the fleet it keeps growing until the new tasks run, so the fast
/// path asks ahead (0.25); a fleet meeting a batch it nearly serves needs no more than 0.8. Measured in the
/// simulator's robust mode (`cargo run --release -p bpi-sim --example sampler_designs`, README "the design
/// variants"):
/// - one share of 0.5 for both kept `blueprint` 0.09 point below the oracle for 1.73× its task-hours, because every
///   minute's batch asked for twice the tasks it needed;
/// - asking ahead whenever some desired task was still starting (the previous rule, 0.35 / 0.8) let a spill of one
///   task's worth feed on itself: the ask for one more task made a task pending, and the next reading asked ahead for
///   the whole fleet (`varying`: 6 → 10 tasks, then 15 minutes of scale-in; 1.75× the oracle's task-hours);
/// - the rising backlog instead (0.25 / 0.8): `varying` 1.54×, `mpd-shift` 1.31× and 0.24 point nearer the oracle,
///   the other shares within 0.01 point.
///
/// 0.25 for both buys safety against work that suddenly grows per message: `mpd-shift` within 0.5 point of the
/// oracle, for about 2× its task-hours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FastPathShares {
    /// While the backlog outgrows the running fleet (`FAST_PATH_HEADROOM`).
    pub rising: f64,
    /// Otherwise (`FAST_PATH_STEADY_HEADROOM`).
    pub steady: f64,
    /// The backlog outgrows the running fleet when it needs more than this many times the running tasks at the
    /// steady share ([`RISING_ABOVE_RUNNING`]; a constant of the design, not a setting).
    pub rising_above_running: f64,
}

/// The default share while the backlog outgrows the running fleet.
pub const DEFAULT_FAST_PATH_HEADROOM: f64 = 0.25;
/// The default share otherwise.
pub const DEFAULT_FAST_PATH_STEADY_HEADROOM: f64 = 0.8;

/// The backlog outgrows the running fleet when, at the steady share, it needs more than this many times the running
/// tasks. Measured (`sampler_designs`): 1.1 gives the same worst cases; 1.5 loses 0.3 point in `mpd-shift`, 2 loses
/// 0.5 point (a fleet growing from a few tasks asks ahead later), for 0.03-0.04× fewer task-hours in `diurnal`.
pub const RISING_ABOVE_RUNNING: f64 = 1.2;

impl Default for FastPathShares {
    fn default() -> Self {
        FastPathShares::new(
            DEFAULT_FAST_PATH_HEADROOM,
            DEFAULT_FAST_PATH_STEADY_HEADROOM,
        )
    }
}

impl FastPathShares {
    /// The `rising` and `steady` shares, rising above [`RISING_ABOVE_RUNNING`] × the running tasks.
    pub fn new(rising: f64, steady: f64) -> Self {
        FastPathShares {
            rising,
            steady,
            rising_above_running: RISING_ABOVE_RUNNING,
        }
    }

    /// One share in both states.
    pub fn both(share: f64) -> Self {
        FastPathShares::new(share, share)
    }

    /// The capacity the fast path asks for (0: nothing to add): the tasks `backlog` needs at the steady share of
    /// `target` per task when that is more than `desired`, asked at the rising share instead when the backlog
    /// outgrows the `running` fleet (nothing runs, or it needs more than `rising_above_running` × `running`).
    /// A backlog the desired fleet serves at the steady share asks for nothing, however many of its tasks are still
    /// starting.
    pub fn capacity(
        &self,
        backlog: u64,
        running: u32,
        desired: u32,
        target: f64,
        max_capacity: u32,
    ) -> u32 {
        let steady = fast_path_capacity(backlog, desired, target * self.steady, max_capacity);
        let rising = steady > 0
            && (running == 0 || f64::from(steady) > f64::from(running) * self.rising_above_running);
        if rising {
            fast_path_capacity(backlog, desired, target * self.rising, max_capacity)
        } else {
            steady
        }
    }
}

/// Minutes of the workers' newest processing durations the fast path looks at (see [`fast_path_target`]).
pub const RECENT_MPD_MINUTES: u32 = 3;

/// The recent MPD's target replaces the target in force only at or below this share of it (twice the updater's
/// 10% hysteresis): log-normal durations make three minutes' mean wander, and a lower target costs tasks. Measured
/// (`sampler_designs`, with the first sampler design's fast path): at 1.0 `varying` cost 1.98× the oracle's task-hours
/// instead of 1.82×; 0.8 and 0.6 give the same worst cases, 0.5 loses 0.1 point in `mpd-shift`.
pub const RECENT_MPD_TRIGGER: f64 = 0.8;

/// The ecsTargetBPI the fast path sizes the fleet against: the target in force (the updater's, re-measured hourly),
/// or, when the workers' newest `recent` minutes of MsgProcessingDuration say messages now take longer, the lower
/// target of that recent MPD (when at least 20% lower, [`RECENT_MPD_TRIGGER`]). Only ever lowers the target: when the
/// work gets longer, the hourly updater would leave the fast path asking for a quarter of the tasks a fourfold longer
/// message needs for up to an hour (the simulator's `mpd-shift`); when it gets shorter, the fast path keeps the larger
/// fleet until the updater moves the target.
/// Fewer than [`crate::mpd::DEFAULT_MIN_SAMPLES`] recent samples, or a broken statistic, leave the target in force.
pub fn fast_path_target(
    target_in_force: f64,
    recent: &[crate::StatisticSet],
    settings: &crate::TargetSettings,
) -> f64 {
    let estimate = crate::mpd::estimate_mpd(recent, crate::mpd::DEFAULT_MIN_SAMPLES);
    match estimate.mpd_secs() {
        Some(mpd) => {
            let recent_target = f64::from(crate::target_bpi(settings, Some(mpd)).value);
            // A broken target in force (not finite) gives way to the measured one.
            if !target_in_force.is_finite() || recent_target <= target_in_force * RECENT_MPD_TRIGGER
            {
                recent_target
            } else {
                target_in_force
            }
        }
        None => target_in_force,
    }
}

/// One live reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Reading {
    /// The queue's depth (GetQueueAttributes).
    pub depth: QueueDepth,
    /// Tasks running (DescribeServices runningCount).
    pub running: u32,
    /// The desired count (DescribeServices desiredCount).
    pub desired: u32,
}

/// What the sampler publishes for one reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SampledValues {
    /// ecsBPI.
    pub bpi: f64,
    /// The backlog counted.
    pub backlog: u64,
    /// Tasks running.
    pub running: u32,
    /// The desired count.
    pub desired: u32,
    /// The capacity the fast path asks for (0: the service already has it).
    pub fast_path_capacity: u32,
    /// Messages in flight.
    pub in_flight: u64,
    /// The tasks the reading needs (the capacity model).
    pub needed: u32,
    /// Which part of the model decided it.
    pub need_reason: NeedReason,
}

impl SampledValues {
    /// The metrics the sampler publishes for the reading, by name: what the alarms of core's spec read.
    pub fn metrics(&self) -> [(&'static str, f64); 7] {
        [
            (BPI_METRIC, self.bpi),
            (BACKLOG_METRIC, self.backlog as f64),
            (RUNNING_METRIC, f64::from(self.running)),
            (DESIRED_METRIC, f64::from(self.desired)),
            (FAST_PATH_METRIC, f64::from(self.fast_path_capacity)),
            (IN_FLIGHT_METRIC, self.in_flight as f64),
            (NEEDED_METRIC, f64::from(self.needed)),
        ]
    }
}

/// The values of `reading`: ecsBPI by `counting`, and the tasks it needs by `model` when a message takes `mpd_secs`
/// (the fast path asks for them when the service has fewer desired), at most `max_capacity`. The model counts
/// in-flight messages whatever `counting` says: they hold tasks.
pub fn sampled_values(
    reading: Reading,
    counting: BacklogCounting,
    model: &CapacityModel,
    mpd_secs: f64,
    max_capacity: u32,
) -> SampledValues {
    let backlog = counting.backlog(reading.depth);
    let need = model.needed(
        ServiceLoad {
            visible: reading.depth.visible,
            in_flight: reading.depth.in_flight,
            running: reading.running,
            desired: reading.desired,
        },
        mpd_secs,
        max_capacity,
    );
    SampledValues {
        bpi: backlog_per_task(reading.depth, reading.running, counting),
        backlog,
        running: reading.running,
        desired: reading.desired,
        fast_path_capacity: if need.tasks > reading.desired {
            need.tasks
        } else {
            0
        },
        in_flight: reading.depth.in_flight,
        needed: need.tasks,
        need_reason: need.reason,
    }
}

/// The tasks `backlog` needs at `per_task` messages each (at least one for any backlog, at most `max_capacity`),
/// when that is more than `desired`; otherwise 0, so the fast path's alarm reads "nothing to add".
///
/// A `per_task` below 1, zero or not finite counts as 1: a broken target must not stop the fast path.
pub fn fast_path_capacity(backlog: u64, desired: u32, per_task: f64, max_capacity: u32) -> u32 {
    let per_task = if per_task.is_finite() && per_task >= 1.0 {
        per_task
    } else {
        1.0
    };
    let needed = ((backlog as f64 / per_task).ceil() as u64).min(u64::from(max_capacity)) as u32;
    if needed > desired { needed } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(visible: u64, in_flight: u64, running: u32, desired: u32) -> Reading {
        Reading {
            depth: QueueDepth { visible, in_flight },
            running,
            desired,
        }
    }

    /// Promise 60 s, concurrency 1, starts of 20 s, 80% utilization: a new task has 20 s of the promise.
    use crate::capacity::tests::model;

    /// The values of `r` for messages of 5 s, counting in-flight messages.
    fn values_at_5s(r: Reading, max_capacity: u32) -> SampledValues {
        sampled_values(
            r,
            BacklogCounting::VisibleAndInFlight,
            &model(),
            5.0,
            max_capacity,
        )
    }

    fn durations(mpd_secs: f64, samples: u32) -> Vec<crate::StatisticSet> {
        vec![crate::StatisticSet {
            sum_secs: mpd_secs * f64::from(samples),
            sample_count: f64::from(samples),
        }]
    }

    #[test]
    fn longer_recent_messages_lower_the_fast_paths_target_and_nothing_else_moves_it() {
        // Promise 60 s, concurrency 1: the target of a 5 s MPD is 12.
        let settings = crate::TargetSettings::new(60.0, 1, 5.0, 10_000).expect("valid");
        // Messages now take 20 s: 3 instead of 12.
        assert_eq!(fast_path_target(12.0, &durations(20.0, 50), &settings), 3.0);
        // Shorter messages never raise it (the updater does, hourly).
        assert_eq!(fast_path_target(12.0, &durations(2.0, 50), &settings), 12.0);
        // Within 20% of the target in force (6 s: 10 ≥ 0.8 × 12): noise, kept.
        assert_eq!(fast_path_target(12.0, &durations(6.0, 50), &settings), 12.0);
        // Too few samples, or none: the target in force.
        assert_eq!(fast_path_target(12.0, &durations(20.0, 5), &settings), 12.0);
        assert_eq!(fast_path_target(12.0, &[], &settings), 12.0);
    }
    #[test]
    fn a_backlog_with_no_task_asks_for_the_tasks_it_needs() {
        // 40 messages of 5 s, nothing running: 4 each in a new task's 20 s, 10 tasks; ecsBPI is the backlog itself
        // (no division by zero).
        let v = values_at_5s(reading(30, 10, 0, 0), 20);
        assert_eq!((v.bpi, v.backlog, v.fast_path_capacity), (40.0, 40, 10));
        assert_eq!((v.needed, v.need_reason), (10, NeedReason::Backlog));
        // One message still asks for one task.
        assert_eq!(values_at_5s(reading(1, 0, 0, 0), 20).fast_path_capacity, 1);
        // At most the maximum.
        assert_eq!(values_at_5s(reading(30, 10, 0, 0), 6).fast_path_capacity, 6);
    }

    #[test]
    fn a_service_that_has_the_capacity_reads_zero_and_publishes_its_need() {
        // 34 messages on 5 running of 7 desired: the 5 serve 9.6 each within 0.8 of the promise (4 would do), and
        // the 4 in flight at 80% keep 5.
        let v = values_at_5s(reading(30, 4, 5, 7), 10);
        assert_eq!((v.bpi, v.fast_path_capacity, v.needed), (6.8, 0, 5));
        assert_eq!(v.need_reason, NeedReason::Busy);
        // Visible only: the backlog counts 30, the need still counts the 4 in flight; 4 desired is one short.
        let v = sampled_values(
            reading(30, 4, 5, 4),
            BacklogCounting::VisibleOnly,
            &model(),
            5.0,
            10,
        );
        assert_eq!((v.backlog, v.needed, v.fast_path_capacity), (30, 5, 5));
    }

    #[test]
    fn the_maximum_caps_the_ask_and_a_broken_target_counts_as_one() {
        assert_eq!(fast_path_capacity(1000, 2, 6.0, 10), 10);
        assert_eq!(fast_path_capacity(1000, 10, 6.0, 10), 0);
        assert_eq!(fast_path_capacity(3, 0, 0.0, 10), 3);
        assert_eq!(fast_path_capacity(3, 0, f64::NAN, 10), 3);
        assert_eq!(
            fast_path_capacity(0, 0, 6.0, 10),
            0,
            "no backlog: nothing to add"
        );
    }
}
