//! The fast scale-in: the window's largest need set at once when every reading needed fewer tasks than desired,
//! and the verdict `bpi status` shows about a reading's need.

use super::*;
use crate::sampler;

/// The fast scale-in's alarm value while the need is not below the desired count (or a reading is missing): above
/// any capacity, so the alarm reads OK.
pub const NO_SCALE_IN: f64 = 1_000_000.0;

/// Cooldown of the fast scale-in, seconds: one minute's readings of the new fleet before the next step.
pub const FAST_SCALE_IN_COOLDOWN_SECS: u32 = 60;

/// The fast scale-in alarm's expression: the window's largest need (n) while it is above zero and below the
/// window's smallest desired count (d), else [`NO_SCALE_IN`]; a window without a reading of either reads as no
/// scale-in. [`scale_in_breaches`] states the same rule for the simulator and the local run.
pub fn scale_in_expression() -> String {
    format!("IF(FILL(n, 0) > 0, IF(n < FILL(d, 0), n, {NO_SCALE_IN}), {NO_SCALE_IN})")
}

/// Whether a window breaches the fast scale-in's alarm: the most tasks any of its readings needed is below the
/// fewest desired, and not zero (`need_max` None: no reading).
///
/// Why not zero: a window in which no reading needed a task is an empty queue, and an empty queue is the idle
/// policy's to act on, after its `IDLE_SCALE_IN_MINUTES`: that wait is what bridges a pause between batches (a job
/// every 3 minutes finds its fleet warm). Setting the need at once after every batch cut that bridge (batches every
/// 3 minutes lost about half their share within the promise: docs/design.md, the idle-wait table). Traffic that leaves the
/// queue empty at most readings but not all (a background of a few messages a minute after a dump) still scales in.
pub fn scale_in_breaches(need_max: Option<u32>, desired_min: u32) -> bool {
    need_max.is_some_and(|need| need > 0 && need < desired_min)
}

/// What the fast policies do next about a reading's need against the desired count, as the spec states them: the
/// "why" of `bpi status`, which shows the need beside the desired count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NeedVerdict {
    /// The need exceeds the desired count: the fast path raises the desired count to it on this reading.
    FastPath,
    /// Fewer than desired and more than none: the fast scale-in sets the need once its window of such minutes
    /// has passed (never below the minimum).
    FastScaleIn,
    /// Nothing waits or runs: the idle policy sets the minimum once the queue has been empty for its minutes.
    Idle,
    /// The need is the desired count, or no fast policy acts on the difference (target tracking does, over
    /// minutes).
    Hold,
}

impl NeedVerdict {
    /// What the verdict means, for people.
    pub fn describe(self, s: &PolicySettings) -> String {
        match self {
            NeedVerdict::FastPath => "the fast path raises the desired count to it".to_string(),
            NeedVerdict::FastScaleIn => format!(
                "the fast scale-in sets it after {} minute(s) of such readings",
                s.scale_in_window_minutes
            ),
            NeedVerdict::Idle => format!(
                "the idle policy sets the minimum ({}) after {} empty minute(s)",
                s.min_capacity, s.idle_minutes
            ),
            NeedVerdict::Hold => "the desired count holds".to_string(),
        }
    }
}

/// [`NeedVerdict`] of a reading that needs `need` tasks while `desired` are desired.
pub fn need_verdict(s: &PolicySettings, need: u32, desired: u32) -> NeedVerdict {
    if need > desired {
        NeedVerdict::FastPath
    } else if need == 0 && s.idle_minutes > 0 && desired > s.min_capacity {
        NeedVerdict::Idle
    } else if s.scale_in_window_minutes > 0
        && scale_in_breaches(Some(need), desired)
        && need.max(s.min_capacity) < desired
    {
        NeedVerdict::FastScaleIn
    } else {
        NeedVerdict::Hold
    }
}

/// The steps that set the capacity to the need (an alarm below a threshold of `max + 0.5` on the need): a need of
/// n tasks sets the ladder's rung at or above n ([`capacity_ladder`]: keeping more, never fewer), at least 1, at
/// most the maximum. Bounds are relative to the threshold, all below it.
fn scale_in_steps(max_capacity: u32) -> Vec<StepAdjustment> {
    let ladder = capacity_ladder(max_capacity);
    let threshold = f64::from(max_capacity.max(1)) + 0.5;
    let last = ladder.len() - 1;
    ladder
        .iter()
        .enumerate()
        .map(|(k, &rung)| StepAdjustment {
            // Needs are whole task counts: rung k takes (rung k-1, rung k] (rung 0 also 0).
            metric_interval_lower_bound: (k > 0)
                .then(|| f64::from(ladder[k - 1]) + 0.5 - threshold),
            metric_interval_upper_bound: Some(if k == last {
                0.0
            } else {
                f64::from(rung) + 0.5 - threshold
            }),
            scaling_adjustment: i32::try_from(rung).unwrap_or(i32::MAX),
        })
        .collect()
}

/// The fast scale-in: when the most tasks any sampler reading of the window needed (its `ecsNeededTasks`, core's
/// capacity model) stayed below the fewest desired, and some reading needed a task, set the desired count to that
/// need (`ExactCapacity`; Application Auto Scaling keeps it at or above the minimum; the idle policy takes an empty
/// queue's fleet to the minimum after its own wait).
///
/// Why: target tracking's own scale-in waits for 15 one-minute datapoints and then removes capacity gradually, so
/// after every burst the fleet ran several times the tasks the work needed for tens of minutes (the workload suite,
/// docs/design.md, "The capacity model and the fast scale-in"). One datapoint whose period is the whole window
/// (`SCALE_IN_WINDOW_MINUTES` × 60 s; CloudWatch takes any multiple of 60 s, PutMetricAlarm's `Period`) makes the
/// value the window's largest need, as the HPA's stabilization window takes its largest recommendation; a window
/// without readings is no breach, so missing data never scales in (a window with some readings decides on those:
/// each a real reading, never a missing one read as zero). The CloudWatch user guide documents that
/// alarms of 10 and 30 s periods are evaluated every 10 s; how often an alarm of a longer period is evaluated, the
/// sources here do not say: the simulator evaluates it every minute (if AWS evaluates once per period, a scale-in
/// comes up to one window later: the safe side). Busy tasks are safe as on every scale-in: the workers drain on
/// SIGTERM and protect a task running a message longer than the grace.
pub fn scale_in_spec(s: &PolicySettings) -> Option<StepPolicySpec> {
    if s.scale_in_window_minutes == 0 {
        return None;
    }
    let name = s.scale_in_policy_name();
    Some(StepPolicySpec {
        policy: step_policy(
            s,
            &name,
            StepScalingConfig {
                adjustment_type: AdjustmentType::ExactCapacity,
                step_adjustments: scale_in_steps(s.max_capacity),
                min_adjustment_magnitude: None,
                cooldown: FAST_SCALE_IN_COOLDOWN_SECS,
                metric_aggregation_type: MetricAggregation::Maximum,
            },
        ),
        alarm: AlarmSpec {
            alarm_name: s.alarm_name(&name),
            alarm_description: format!(
                "Over {} minutes the readings of {} needed fewer tasks than {} had, and some a task: set the need \
                 (fast scale-in).",
                s.scale_in_window_minutes, s.queue_name, s.service_name
            ),
            metrics: vec![
                metric_query(
                    "n",
                    s.signal.metric(sampler::NEEDED_METRIC),
                    Statistic::Maximum,
                    Some(s.scale_in_window_minutes * 60),
                ),
                metric_query(
                    "d",
                    s.signal.metric(sampler::DESIRED_METRIC),
                    Statistic::Minimum,
                    Some(s.scale_in_window_minutes * 60),
                ),
                expression(
                    ALARM_EXPRESSION_ID,
                    scale_in_expression(),
                    "the tasks needed, while fewer than desired",
                    true,
                ),
            ],
            comparison_operator: ComparisonOperator::LessThan,
            threshold: f64::from(s.max_capacity.max(1)) + 0.5,
            evaluation_periods: 1,
            datapoints_to_alarm: 1,
            treat_missing_data: TreatMissingData::NotBreaching,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::build::fixtures::settings;

    #[test]
    fn the_need_verdict_names_the_policy_that_acts() {
        let s = PolicySettings {
            min_capacity: 1,
            idle_minutes: 3,
            scale_in_window_minutes: 2,
            ..settings()
        };
        assert_eq!(need_verdict(&s, 5, 3), NeedVerdict::FastPath);
        assert_eq!(need_verdict(&s, 3, 3), NeedVerdict::Hold);
        assert_eq!(need_verdict(&s, 2, 8), NeedVerdict::FastScaleIn);
        // An empty queue is the idle policy's; at the minimum nothing is left to do.
        assert_eq!(need_verdict(&s, 0, 8), NeedVerdict::Idle);
        assert_eq!(need_verdict(&s, 0, 1), NeedVerdict::Hold);
        // A need below the minimum at the minimum: nothing to lower.
        let floor = PolicySettings {
            min_capacity: 2,
            ..s.clone()
        };
        assert_eq!(need_verdict(&floor, 1, 2), NeedVerdict::Hold);
        // With the fast scale-in and the idle policy off, target tracking alone lowers the fleet.
        assert_eq!(need_verdict(&settings(), 2, 8), NeedVerdict::Hold);
        assert_eq!(need_verdict(&settings(), 0, 8), NeedVerdict::Hold);
        assert!(NeedVerdict::FastScaleIn.describe(&s).contains("2 minute"));
    }

    #[test]
    fn the_fast_scale_in_leaves_an_empty_queue_to_the_idle_policy() {
        assert!(scale_in_breaches(Some(3), 8));
        assert!(!scale_in_breaches(Some(0), 8), "an empty queue");
        assert!(!scale_in_breaches(None, 8), "no reading");
        assert!(!scale_in_breaches(Some(8), 8));
        assert!(!scale_in_breaches(Some(9), 8));
    }
}
