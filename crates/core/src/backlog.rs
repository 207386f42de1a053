//! ecsBPI: the backlog per task, the metric the service is scaled on.
//!
//! The blueprint divided visible messages by running tasks. That ignores messages being worked on (bug 7: a queue
//! whose every message is in flight looks empty, so scale-in kills busy tasks) and has no value at zero tasks (bug 8:
//! a division by zero is "no data", so the service never scales up from zero). Here in-flight messages count by
//! default, and zero tasks is an explicit case.

use serde::{Deserialize, Serialize};

/// Which messages count as backlog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BacklogCounting {
    /// Visible (waiting) plus in-flight (received, not yet deleted) messages. The default: work in progress still
    /// needs a task, so it must hold capacity up.
    #[default]
    VisibleAndInFlight,
    /// Visible messages only, as the blueprint (and Copilot) count.
    VisibleOnly,
}

impl BacklogCounting {
    /// Whether in-flight messages count.
    pub fn counts_in_flight(self) -> bool {
        matches!(self, BacklogCounting::VisibleAndInFlight)
    }

    /// The backlog of `depth` under this counting rule.
    pub fn backlog(self, depth: QueueDepth) -> u64 {
        match self {
            BacklogCounting::VisibleAndInFlight => depth.visible.saturating_add(depth.in_flight),
            BacklogCounting::VisibleOnly => depth.visible,
        }
    }
}

/// A queue's message counts, as SQS reports them (`ApproximateNumberOfMessages[NotVisible]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct QueueDepth {
    /// Messages waiting to be received.
    pub visible: u64,
    /// Messages received by a worker and not yet deleted.
    pub in_flight: u64,
}

/// The backlog per task (ecsBPI) for a queue depth and a running task count.
///
/// With zero running tasks the whole backlog is returned as it is (no NaN, no infinity): any backlog then exceeds
/// any target of at least 1, so it always asks for a task. Always finite and non-negative.
pub fn backlog_per_task(depth: QueueDepth, running_tasks: u32, counting: BacklogCounting) -> f64 {
    per_task(counting.backlog(depth) as f64, f64::from(running_tasks))
}

/// `backlog` over `running_tasks` (an average over readings may be fractional); the backlog itself with no task
/// running, never a division by zero. The rule behind [`backlog_per_task`], for backlogs already counted.
pub fn per_task(backlog: f64, running_tasks: f64) -> f64 {
    if running_tasks > 0.0 {
        backlog / running_tasks
    } else {
        backlog
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(visible: u64, in_flight: u64) -> QueueDepth {
        QueueDepth { visible, in_flight }
    }

    #[test]
    fn counts_in_flight_by_default() {
        assert_eq!(
            BacklogCounting::default(),
            BacklogCounting::VisibleAndInFlight
        );
        assert_eq!(
            backlog_per_task(depth(100, 20), 4, BacklogCounting::default()),
            30.0
        );
    }

    #[test]
    fn visible_only_matches_the_blueprint() {
        assert_eq!(
            backlog_per_task(depth(100, 20), 4, BacklogCounting::VisibleOnly),
            25.0
        );
    }

    #[test]
    fn all_work_in_flight_still_holds_capacity() {
        assert_eq!(
            backlog_per_task(depth(0, 8), 2, BacklogCounting::VisibleAndInFlight),
            4.0
        );
        assert_eq!(
            backlog_per_task(depth(0, 8), 2, BacklogCounting::VisibleOnly),
            0.0
        );
    }

    #[test]
    fn zero_tasks_reports_the_backlog_itself() {
        assert_eq!(
            backlog_per_task(depth(3, 0), 0, BacklogCounting::default()),
            3.0
        );
        assert_eq!(
            backlog_per_task(depth(0, 0), 0, BacklogCounting::default()),
            0.0
        );
        assert_eq!(
            backlog_per_task(depth(1, 0), 0, BacklogCounting::default()),
            1.0
        );
    }

    #[test]
    fn saturates_instead_of_overflowing() {
        let v = backlog_per_task(depth(u64::MAX, u64::MAX), 1, BacklogCounting::default());
        assert_eq!(v, u64::MAX as f64);
    }

    proptest::proptest! {
        #[test]
        fn always_finite_and_non_negative(visible: u64, in_flight: u64, tasks: u32, visible_only: bool) {
            let counting = if visible_only { BacklogCounting::VisibleOnly } else { BacklogCounting::VisibleAndInFlight };
            let bpi = backlog_per_task(depth(visible, in_flight), tasks, counting);
            proptest::prop_assert!(bpi.is_finite());
            proptest::prop_assert!(bpi >= 0.0);
        }

        #[test]
        fn more_tasks_never_raise_the_backlog_per_task(visible in 0u64..1_000_000, in_flight in 0u64..1_000_000, tasks in 1u32..1000) {
            let d = depth(visible, in_flight);
            proptest::prop_assert!(backlog_per_task(d, tasks + 1, BacklogCounting::default()) <= backlog_per_task(d, tasks, BacklogCounting::default()));
            proptest::prop_assert!(backlog_per_task(d, 1, BacklogCounting::default()) <= backlog_per_task(d, 0, BacklogCounting::default()));
        }
    }
}
