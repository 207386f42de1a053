//! The capacity model: how many tasks one live reading of the queue and the service needs, and why.
//!
//! Why it exists: the fast path used to size the fleet from the backlog alone, at a share of the target per task
//! ([`crate::sampler::FastPathShares`]), which knows nothing of the work already in progress, of the tasks already
//! running or starting, or of how much of the promise a task start leaves. The model states the need as two parts,
//! and the sampler (which publishes it), the simulator, the local run and `bpi status` all read it from here:
//!
//! - **busy**: the tasks that keep the messages now in flight at the target utilization, `in_flight / (c × u)`,
//!   at most the fleet there is. By Little's law the in-flight count is the arrival rate times MPD while the fleet
//!   keeps up, so this is the fleet that keeps up with today's arrivals with `1 − u` to spare for their variance; a
//!   saturated fleet's in-flight count is its own size, so this part holds a fleet, never grows it;
//! - **backlog**: the tasks that serve every message waiting or in flight within the promise. The running tasks
//!   serve `0.8 × P × c / MPD` messages each within a promise of P seconds (the oldest message has waited some of
//!   it: [`RUNNING_BUDGET_SHARE`]); a task still starting, or one launched now,
//!   only what it can in what is left after its start and the alarm's reaction (at least [`MIN_BUDGET_SHARE`] of the promise, so
//!   a start longer than the promise does not ask for an unbounded fleet). What the running and starting tasks
//!   cannot serve asks for new tasks at that shorter budget.
//!
//! The need is the larger of the two, at most the maximum. It is the fast path's ask when above the desired count
//! and the fast scale-in's when below it for a while ([`crate::policy`]).

use serde::Serialize;

/// The least share of the promise a new task is sized to serve within, whatever its start takes.
pub const MIN_BUDGET_SHARE: f64 = 0.25;

/// The share of the promise a running task is counted on to serve the backlog within: the oldest message has
/// already waited part of it.
pub const RUNNING_BUDGET_SHARE: f64 = 0.8;

/// Seconds between a reading and the desired count it asks for: the sampler's 10 s reading and the high-resolution
/// alarm's 10 s evaluation (docs/concepts.md, the fast path).
pub const REACTION_SECS: f64 = 20.0;

/// Default of the task start the model assumes, seconds (`TASK_START_SECS`): the longest start reported (AWS reports
/// 30-90 s as typical, its own benchmark of high-resolution scaling about 20 s). The model cannot see the start, and
/// assuming a short one sizes a burst too small when starts are long (`capacity_designs`, docs/design.md: assuming
/// 60 s lost about half of `idle-then-burst` under the ensemble's 180 s starts); a long one costs
/// only the tasks of a burst, which the fast scale-in takes back.
pub const DEFAULT_TASK_START_SECS: u32 = 180;

/// The deployment the model sizes for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CapacityModel {
    /// The latency promise, seconds.
    pub promise_secs: f64,
    /// Messages a task processes at once.
    pub concurrency: u32,
    /// How long a task takes from launch to its first receive, seconds (a setting: the model cannot see it).
    pub task_start_secs: f64,
    /// The busy share of the task slots the fleet is kept at (the utilization policy's target, 0-1).
    pub target_utilization: f64,
    /// How the busy part sizes the fleet for the messages in flight.
    pub busy_rule: BusyRule,
}

/// How the busy part turns the messages in flight into tasks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BusyRule {
    /// `in_flight / (c × u)`: the target utilization, the same share of spare slots at any size.
    Utilization,
    /// Square-root staffing: `R + beta × √R` tasks for an offered load of `R = in_flight / c` tasks, the spare
    /// capacity that keeps the chance of waiting about constant as the fleet grows (Halfin-Whitt): more spare share
    /// for a small fleet, less for a large one.
    SquareRoot {
        /// Spare tasks per √(offered load).
        beta: f64,
    },
}

/// Which part of the model decides the need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NeedReason {
    /// Nothing waits or runs.
    Empty,
    /// The messages in flight at the target utilization.
    Busy,
    /// Serving the backlog within the promise.
    Backlog,
    /// The maximum capacity caps the need.
    Maximum,
}

/// The tasks a reading needs, with its parts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NeededCapacity {
    /// The tasks needed, at most the maximum.
    pub tasks: u32,
    /// The busy part, tasks (fractional).
    pub busy_tasks: f64,
    /// The backlog part, tasks.
    pub backlog_tasks: u32,
    /// The part that decides.
    pub reason: NeedReason,
}

/// One live reading, as the model sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ServiceLoad {
    /// Messages visible (waiting).
    pub visible: u64,
    /// Messages in flight (being processed).
    pub in_flight: u64,
    /// Tasks running.
    pub running: u32,
    /// The desired count.
    pub desired: u32,
}

impl CapacityModel {
    /// Seconds of the promise a task launched now has left to serve the backlog.
    pub fn new_task_budget_secs(&self) -> f64 {
        let left = self.promise_secs - self.task_start_secs - REACTION_SECS;
        left.max(self.promise_secs * MIN_BUDGET_SHARE)
    }

    /// The tasks `load` needs when a message takes `mpd_secs` on average, at most `max_capacity`.
    ///
    /// A broken MPD (not finite, or not above 0) counts as 1 s: a broken measurement must not stop the model.
    pub fn needed(&self, load: ServiceLoad, mpd_secs: f64, max_capacity: u32) -> NeededCapacity {
        let mpd = if mpd_secs.is_finite() && mpd_secs > 0.0 {
            mpd_secs
        } else {
            1.0
        };
        let c = f64::from(self.concurrency.max(1));
        let offered = load.in_flight as f64 / c;
        let sized = match self.busy_rule {
            BusyRule::Utilization => offered / self.target_utilization.clamp(0.05, 1.0),
            BusyRule::SquareRoot { beta } => offered + beta.max(0.0) * offered.sqrt(),
        };
        // A saturated fleet's in-flight count is its own size: the busy part keeps the fleet it has, never asks for
        // more (more comes from the backlog part, or from the utilization policy over minutes).
        let busy_tasks = sized.min(f64::from(load.desired.max(load.running)));
        let backlog_tasks = self.backlog_tasks(load, mpd, c);
        let busy_whole = busy_tasks.ceil() as u32;
        let (wanted, reason) = if load.visible + load.in_flight == 0 {
            (0, NeedReason::Empty)
        } else if backlog_tasks >= busy_whole {
            (backlog_tasks, NeedReason::Backlog)
        } else {
            (busy_whole, NeedReason::Busy)
        };
        if wanted > max_capacity {
            NeededCapacity {
                tasks: max_capacity,
                busy_tasks,
                backlog_tasks,
                reason: NeedReason::Maximum,
            }
        } else {
            NeededCapacity {
                tasks: wanted,
                busy_tasks,
                backlog_tasks,
                reason,
            }
        }
    }

    /// The tasks that serve every message waiting or in flight within the promise: the running tasks a whole
    /// promise each, the starting ones and any new one the new-task budget.
    fn backlog_tasks(&self, load: ServiceLoad, mpd: f64, c: f64) -> u32 {
        let messages = (load.visible + load.in_flight) as f64;
        if messages == 0.0 {
            return 0;
        }
        let per_running = (self.promise_secs * RUNNING_BUDGET_SHARE).max(mpd) * c / mpd;
        let per_new = self.new_task_budget_secs().max(mpd) * c / mpd;
        let running = f64::from(load.running);
        if messages <= running * per_running {
            // The running tasks serve it: as many of them as it takes.
            return (messages / per_running).ceil().max(1.0) as u32;
        }
        // What they cannot serve needs tasks at the new-task budget; those still starting count among them, so
        // a need they already meet asks for nothing more.
        let left = messages - running * per_running;
        (running + (left / per_new).ceil()) as u32
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Promise 60 s, concurrency 1, starts of 20 s, 80% utilization: a new task has 60 − 20 − 20 = 20 s.
    pub(crate) fn model() -> CapacityModel {
        CapacityModel {
            promise_secs: 60.0,
            concurrency: 1,
            task_start_secs: 20.0,
            target_utilization: 0.8,
            busy_rule: BusyRule::Utilization,
        }
    }

    fn load(visible: u64, in_flight: u64, running: u32, desired: u32) -> ServiceLoad {
        ServiceLoad {
            visible,
            in_flight,
            running,
            desired,
        }
    }

    #[test]
    fn a_batch_the_running_fleet_serves_in_time_needs_no_more_tasks() {
        // 45 messages of 5 s on 5 running tasks: each serves 9.6 within 0.8 of the promise, 5 suffice.
        let n = model().needed(load(40, 5, 5, 5), 5.0, 60);
        assert_eq!((n.tasks, n.reason), (5, NeedReason::Backlog));
        // The blueprint's 50: 48 in time on the 5, one more task, launched now, serves 4 in its 20 s.
        assert_eq!(model().needed(load(45, 5, 5, 5), 5.0, 60).tasks, 6);
        // 62: 14 left over, 4 more.
        assert_eq!(model().needed(load(57, 5, 5, 5), 5.0, 60).tasks, 9);
    }

    #[test]
    fn from_zero_every_message_waits_for_a_start() {
        // 50 messages of 5 s, nothing running: 4 each within 20 s, 13 tasks.
        let n = model().needed(load(50, 0, 0, 0), 5.0, 60);
        assert_eq!((n.tasks, n.reason), (13, NeedReason::Backlog));
        // A start longer than the promise still sizes for a quarter of it (15 s: 3 each), not an unbounded fleet.
        let slow = CapacityModel {
            task_start_secs: 180.0,
            ..model()
        };
        assert_eq!(slow.new_task_budget_secs(), 15.0);
        assert_eq!(slow.needed(load(50, 0, 0, 0), 5.0, 60).tasks, 17);
        // At most the maximum, and says so.
        let capped = slow.needed(load(500, 0, 0, 0), 5.0, 60);
        assert_eq!((capped.tasks, capped.reason), (60, NeedReason::Maximum));
    }

    #[test]
    fn steady_work_keeps_its_busy_share_at_the_target_utilization() {
        // 8 messages in flight, nothing waiting, 12 running: 8 / 0.8 = 10 tasks; on 6 tasks it holds the 6.
        assert_eq!(model().needed(load(0, 8, 6, 6), 2.0, 60).tasks, 6);
        let n = model().needed(load(0, 8, 12, 12), 2.0, 60);
        assert_eq!((n.tasks, n.reason), (10, NeedReason::Busy));
        assert_eq!(n.busy_tasks, 10.0);
        // Concurrency 4: 8 in flight fill 2 tasks at 100%, 2.5 at 80%: 3.
        let c4 = CapacityModel {
            concurrency: 4,
            ..model()
        };
        assert_eq!(c4.needed(load(0, 8, 3, 3), 2.0, 60).tasks, 3);
        // An empty queue needs nothing.
        let empty = model().needed(load(0, 0, 3, 3), 2.0, 60);
        assert_eq!((empty.tasks, empty.reason), (0, NeedReason::Empty));
    }

    #[test]
    fn starting_tasks_count_and_a_broken_mpd_counts_as_one_second() {
        // 46 messages of 5 s on 6 running tasks (57.6 in time): 5 of them would serve the backlog, but all 6 are
        // busy and 7 desired: 7.5 at 80%, the busy part holds the 7.
        let n = model().needed(load(40, 6, 6, 7), 5.0, 60);
        assert_eq!(
            (n.tasks, n.backlog_tasks, n.reason),
            (7, 5, NeedReason::Busy)
        );
        // 100 messages, 5 running (48), 3 starting: 52 left at 4 a new task = 13 new (the 3 among them): 18.
        assert_eq!(model().needed(load(95, 5, 5, 8), 5.0, 60).tasks, 18);
        assert_eq!(
            model().needed(load(10, 0, 0, 0), f64::NAN, 60).tasks,
            1,
            "1 s each: 20 in a new task's 20 s"
        );
    }
}
