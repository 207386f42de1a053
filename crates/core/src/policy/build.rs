//! The builders: the spec of each policy and alarm from [`PolicySettings`], one function each.

use super::*;
use crate::sampler;

/// Statistic of the sampler's ecsBPI that target tracking reads: the Average of the minute's six readings.
pub const BPI_STAT: Statistic = Statistic::Average;
/// Statistic of the running-task count the utilization policy divides by.
pub const TASK_COUNT_STAT: Statistic = Statistic::Average;
/// Period of the fast path's and the idle policy's alarms, seconds: a high-resolution alarm on the sampler's
/// high-resolution metrics (CloudWatch user guide, "High-resolution alarms": periods of 10 or 30 seconds).
pub const HIGH_RESOLUTION_PERIOD_SECS: u32 = 10;
/// Cooldown of the fast path, seconds: one more action can follow a reading that still shows the old desired count.
pub const FAST_PATH_COOLDOWN_SECS: u32 = 30;
/// Most steps in a step policy (Application Auto Scaling allows 20 step adjustments per policy).
pub const MAX_STEPS: u32 = 20;
/// Cooldown of the backstop, seconds: a doubling every 2 minutes while the sampler is silent and messages wait.
pub const BACKSTOP_COOLDOWN_SECS: u32 = 120;

fn metric_query(id: &str, metric: Metric, stat: Statistic, period: Option<u32>) -> MetricQuery {
    MetricQuery {
        id: id.to_string(),
        expression: None,
        label: None,
        metric_stat: Some(MetricStat {
            metric,
            stat,
            period,
            unit: None,
        }),
        return_data: false,
    }
}

fn expression(id: &str, expr: String, label: &str, return_data: bool) -> MetricQuery {
    MetricQuery {
        id: id.to_string(),
        expression: Some(expr),
        label: Some(label.to_string()),
        metric_stat: None,
        return_data,
    }
}

const HOLD_PREFIX: &str = "IF(FILL(n, 0) > 0, m1, ";

/// The canonical ecsBPI expression for `target_value`: the sampler's ecsBPI (m1, the minute's Average) while it
/// publishes (n, its SampleCount); while it is silent, the target itself, so target tracking holds.
///
/// Why not m1 alone: a minute without data is missing, but a target tracking alarm evaluates the newest datapoints
/// that exist in its look-back (CloudWatch guide, "Configuring how CloudWatch alarms treat missing data"), so a
/// quiet queue's stale low readings could keep its 15-datapoint low alarm in ALARM, and scale in again and again,
/// for minutes after the sampler stopped (measured in the simulator). At exactly the target neither alarm breaches.
pub fn bpi_expression(target_value: f64) -> String {
    format!("{HOLD_PREFIX}{target_value})")
}

/// The canonical target tracking configuration for `target_value`: the sampler's ecsBPI, held at the target while
/// the sampler is silent ([`bpi_expression`]).
pub fn target_tracking_config(s: &PolicySettings, target_value: f64) -> TargetTrackingConfig {
    let metrics = vec![
        metric_query("m1", s.signal.metric(sampler::BPI_METRIC), BPI_STAT, None),
        metric_query(
            "n",
            s.signal.metric(sampler::BPI_METRIC),
            Statistic::SampleCount,
            None,
        ),
        expression(
            BPI_EXPRESSION_ID,
            bpi_expression(target_value),
            "ecsBPI (backlog per task, read every 10 s; the target while the sampler is silent)",
            true,
        ),
    ];
    TargetTrackingConfig {
        target_value,
        customized_metric_specification: CustomizedMetricSpecification { metrics },
        scale_out_cooldown: s.scale_out_cooldown_secs,
        scale_in_cooldown: s.scale_in_cooldown_secs,
        disable_scale_in: false,
    }
}

/// A target tracking PutScalingPolicy request named `name` with `config`.
fn target_tracking_request(
    s: &PolicySettings,
    name: String,
    config: TargetTrackingConfig,
) -> TargetTrackingPolicy {
    TargetTrackingPolicy {
        policy_name: name,
        service_namespace: SERVICE_NAMESPACE.to_string(),
        resource_id: s.resource_id(),
        scalable_dimension: SCALABLE_DIMENSION.to_string(),
        policy_type: PolicyType::TargetTracking,
        target_tracking_scaling_policy_configuration: config,
    }
}

/// The canonical target tracking PutScalingPolicy request for `target_value`.
pub fn target_tracking_policy(s: &PolicySettings, target_value: f64) -> TargetTrackingPolicy {
    target_tracking_request(
        s,
        s.policy_name.clone(),
        target_tracking_config(s, target_value),
    )
}

/// A step scaling PutScalingPolicy request named `name` on the service of `s`.
fn step_policy(s: &PolicySettings, name: &str, config: StepScalingConfig) -> StepPolicy {
    StepPolicy {
        policy_name: name.to_string(),
        service_namespace: SERVICE_NAMESPACE.to_string(),
        resource_id: s.resource_id(),
        scalable_dimension: SCALABLE_DIMENSION.to_string(),
        policy_type: PolicyType::Step,
        step_scaling_policy_configuration: config,
    }
}

/// The capacities a step policy can set, for a maximum of `max_capacity`: every count up to [`MAX_STEPS`] when the
/// maximum allows, else a ladder that is exact at the bottom and grows by a constant ratio above (the smallest ratio
/// that reaches the maximum in [`MAX_STEPS`] rungs), ending at the maximum. A need between two rungs gets the upper
/// one: more tasks, never fewer.
///
/// Why a ladder: Application Auto Scaling takes at most 20 step adjustments a policy, and steps of one width
/// (⌈max / 20⌉) rounded small needs up by up to the width: with 60 tasks, one message launched 3 tasks (sparse
/// traffic ran more than twice the task-hours of exact steps: docs/simulator.md). The ladder for 60 is
/// 1-7 exact, then 9, 11, 13, 15, 18, 21, 25, 29, 34, 39, 45, 52, 60 (a need is rounded up by at most about a
/// fifth).
pub fn capacity_ladder(max_capacity: u32) -> Vec<u32> {
    let max = max_capacity.max(1);
    if max <= MAX_STEPS {
        return (1..=max).collect();
    }
    let rungs = |ratio: f64| -> Vec<u32> {
        let mut out = vec![1u32];
        while let Some(&last) = out.last()
            && last < max
        {
            let next = ((f64::from(last) * ratio).ceil() as u32).max(last + 1);
            out.push(next.min(max));
        }
        out
    };
    // The smallest ratio (to a thousandth) whose ladder fits.
    let (mut low, mut high) = (1.0_f64, f64::from(max));
    while high - low > 0.001 {
        let mid = (low + high) / 2.0;
        if rungs(mid).len() as u32 <= MAX_STEPS {
            high = mid;
        } else {
            low = mid;
        }
    }
    rungs(high)
}

/// The steps that set the capacity to the breach (an alarm on a task count with threshold 0): a breach of c tasks
/// sets the ladder's rung at or above c ([`capacity_ladder`]), at most the maximum.
fn capacity_steps(max_capacity: u32) -> Vec<StepAdjustment> {
    let ladder = capacity_ladder(max_capacity);
    let last = ladder.len() - 1;
    ladder
        .iter()
        .enumerate()
        .map(|(k, &rung)| StepAdjustment {
            // Breaches are whole task counts: rung k takes (rung k-1, rung k].
            metric_interval_lower_bound: Some(if k == 0 {
                0.0
            } else {
                f64::from(ladder[k - 1]) + 0.5
            }),
            metric_interval_upper_bound: (k < last).then(|| f64::from(rung) + 0.5),
            scaling_adjustment: i32::try_from(rung).unwrap_or(i32::MAX),
        })
        .collect()
}

/// The fast path: a high-resolution alarm (10 s, one datapoint) on the sampler's `ecsFastPathCapacity` (the tasks
/// the backlog needs when the service has fewer desired, else 0) sets that capacity (`ExactCapacity`).
///
/// Why: target tracking's own alarms need 3 one-minute datapoints, and SQS's metrics arrive a minute late, so a
/// backlog rise waited 3-5 minutes for capacity. The sampler reads every 10 s, so the desired count changes within
/// about 30 s. At zero tasks any backlog asks for at least one task: this is also the scale-from-zero path, with no
/// FILL and no Container Insights. A missing reading is not a breach (the backstop covers a silent sampler).
pub fn fast_path_spec(s: &PolicySettings) -> StepPolicySpec {
    let name = s.fast_path_policy_name();
    StepPolicySpec {
        policy: step_policy(
            s,
            &name,
            StepScalingConfig {
                adjustment_type: AdjustmentType::ExactCapacity,
                step_adjustments: capacity_steps(s.max_capacity),
                min_adjustment_magnitude: None,
                cooldown: FAST_PATH_COOLDOWN_SECS,
                metric_aggregation_type: MetricAggregation::Maximum,
            },
        ),
        alarm: AlarmSpec {
            alarm_name: s.alarm_name(&name),
            alarm_description: format!(
                "The backlog of {} needs more tasks than {} has: set them within seconds (fast path, at most {} \
                 tasks).",
                s.queue_name, s.service_name, s.max_capacity
            ),
            metrics: vec![MetricQuery {
                return_data: true,
                ..metric_query(
                    "m1",
                    s.signal.metric(sampler::FAST_PATH_METRIC),
                    Statistic::Maximum,
                    Some(HIGH_RESOLUTION_PERIOD_SECS),
                )
            }],
            comparison_operator: ComparisonOperator::GreaterThan,
            threshold: 0.0,
            evaluation_periods: 1,
            datapoints_to_alarm: 1,
            treat_missing_data: TreatMissingData::NotBreaching,
        },
    }
}

/// The backstop: while the sampler publishes nothing (its ecsBPI's SampleCount is missing, FILL 0) and SQS's own
/// metric shows visible messages for 2 minutes, double the desired count (at least one task) every 2 minutes.
///
/// Why: every other policy reads the sampler, and missing data never scales them; a sampler that stopped must not
/// leave a growing backlog unserved. SQS's metric arrives a minute late and once a minute, which is good enough for
/// a backstop. The sampler's datapoints arrive within seconds, long before SQS's for the same minute, so FILL here
/// reads a really silent sampler, not a late one.
pub fn backstop_spec(s: &PolicySettings) -> StepPolicySpec {
    let name = s.backstop_policy_name();
    let queue = Metric {
        namespace: "AWS/SQS".to_string(),
        metric_name: "ApproximateNumberOfMessagesVisible".to_string(),
        dimensions: vec![Dimension {
            name: "QueueName".to_string(),
            value: s.queue_name.clone(),
        }],
    };
    StepPolicySpec {
        policy: step_policy(
            s,
            &name,
            StepScalingConfig {
                adjustment_type: AdjustmentType::PercentChangeInCapacity,
                step_adjustments: vec![StepAdjustment {
                    metric_interval_lower_bound: Some(0.0),
                    metric_interval_upper_bound: None,
                    scaling_adjustment: 100,
                }],
                min_adjustment_magnitude: Some(1),
                cooldown: BACKSTOP_COOLDOWN_SECS,
                metric_aggregation_type: MetricAggregation::Maximum,
            },
        ),
        alarm: AlarmSpec {
            alarm_name: s.alarm_name(&name),
            alarm_description: format!(
                "The sampler has published nothing for {} while its queue {} holds messages: double the tasks.",
                s.service_name, s.queue_name
            ),
            metrics: vec![
                metric_query(
                    "s",
                    s.signal.metric(sampler::BPI_METRIC),
                    Statistic::SampleCount,
                    Some(60),
                ),
                metric_query("m1", queue, Statistic::Maximum, Some(60)),
                expression(
                    ALARM_EXPRESSION_ID,
                    "IF(FILL(s, 0) == 0, m1, 0)".to_string(),
                    "visible messages while the sampler is silent",
                    true,
                ),
            ],
            comparison_operator: ComparisonOperator::GreaterThan,
            threshold: 0.0,
            evaluation_periods: 2,
            datapoints_to_alarm: 2,
            treat_missing_data: TreatMissingData::NotBreaching,
        },
    }
}

/// The pre-sampler scale-from-zero rule, kept for the simulator's comparison with the earlier policy (`ours-sqs-metrics`):
/// ⌈backlog / target⌉ tasks, at least one (a backlog at an exact multiple gets one more), at most the maximum.
pub fn scale_from_zero_capacity(s: &PolicySettings, target_value: f64, backlog: f64) -> u32 {
    let target = if target_value.is_finite() && target_value >= 1.0 {
        target_value
    } else {
        1.0
    };
    let steps = s.max_capacity.clamp(1, MAX_STEPS);
    let k = (backlog.max(0.0) / target).floor().min(f64::from(steps)) as u32 + 1;
    // The last step is open-ended and sets the maximum.
    if k >= steps { s.max_capacity.max(1) } else { k }
}

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

/// The whole scaling setup for `target_value`.
pub fn scaling_spec(s: &PolicySettings, target_value: f64) -> ScalingSpec {
    ScalingSpec {
        scalable_target: ScalableTargetSpec {
            service_namespace: SERVICE_NAMESPACE.to_string(),
            resource_id: s.resource_id(),
            scalable_dimension: SCALABLE_DIMENSION.to_string(),
            min_capacity: s.min_capacity,
            max_capacity: s.max_capacity,
        },
        target_tracking: target_tracking_policy(s, target_value),
        utilization: utilization_policy(s),
        fast_path: fast_path_spec(s),
        idle: idle_spec(s),
        scale_in: scale_in_spec(s),
        backstop: backstop_spec(s),
    }
}

/// Id of the expression that returns the task utilization.
pub const UTILIZATION_EXPRESSION_ID: &str = "e1";
/// Id of the expression an alarm with metric math (idle, backstop) evaluates.
pub const ALARM_EXPRESSION_ID: &str = "e1";

/// The utilization metric-math expression: the sampler's in-flight count (m4, the minute's Average of its
/// 10-second readings) over the slots its running tasks offer (m3, same readings); 0 with no running task.
///
/// Both come from the same PutMetricData call, so they arrive together. The earlier expression divided the workers'
/// Sum(MsgProcessingDuration) by the sampler's count: the workers publish a minute later than the sampler, and an
/// alarm FILLs a metric whose newest minute has not arrived with FILL's value (CloudWatch user guide, "Metric math
/// syntax and functions", FILL), so the newest datapoints read 0 busy. Target tracking sizes its scale-in from the
/// newest datapoint, so a busy fleet was allowed to halve (measured in docs/design.md, "The sampler: a signal of its
/// own").
pub fn utilization_expression(concurrency: u32) -> String {
    format!("IF(FILL(m3, 0) > 0, FILL(m4, 0) / ({concurrency} * FILL(m3, 0)), 0)")
}

/// The arithmetic of [`utilization_expression`]: messages in flight over the slots the running tasks offer (the
/// busy share, by Little's law, when in flight means being processed); 0 with no running task. The simulator and
/// the local run compute their datapoints with it.
pub fn utilization(in_flight: f64, concurrency: u32, running_tasks: f64) -> f64 {
    if running_tasks > 0.0 {
        in_flight / (f64::from(concurrency.max(1)) * running_tasks)
    } else {
        0.0
    }
}

/// The second target tracking policy: busy share of the task slots, kept at `target_pct`; the running count is the
/// sampler's, so no Container Insights is needed.
///
/// Why: backlog per task says nothing while the queue is empty. Under steady arrivals the queue stays empty as long
/// as the fleet keeps up, so ecsBPI reads near 0 and target tracking scales in, until the fleet no longer keeps up
/// and a backlog builds to the target, which is the latency promise itself. The fleet then oscillates around the
/// promise (simulator, `diurnal`: docs/design.md, the pre-sampler record). Application Auto Scaling scales out when any target tracking policy asks and scales in only when all of
/// them agree, so this policy keeps the fleet from shrinking below the work while ecsBPI still guards the
/// waiting backlog.
pub fn utilization_policy(s: &PolicySettings) -> Option<TargetTrackingPolicy> {
    let u = s.utilization.as_ref()?;
    let metrics = vec![
        metric_query(
            "m3",
            s.signal.metric(sampler::RUNNING_METRIC),
            TASK_COUNT_STAT,
            None,
        ),
        metric_query(
            "m4",
            s.signal.metric(sampler::IN_FLIGHT_METRIC),
            TASK_COUNT_STAT,
            None,
        ),
        expression(
            UTILIZATION_EXPRESSION_ID,
            utilization_expression(u.concurrency.max(1)),
            "ecsUtilization (busy share of task slots)",
            true,
        ),
    ];
    Some(target_tracking_request(
        s,
        s.utilization_policy_name(),
        TargetTrackingConfig {
            target_value: f64::from(u.target_pct.clamp(1, 100)) / 100.0,
            customized_metric_specification: CustomizedMetricSpecification { metrics },
            scale_out_cooldown: s.scale_out_cooldown_secs,
            scale_in_cooldown: s.scale_in_cooldown_secs,
            disable_scale_in: false,
        },
    ))
}

/// The idle alarm's expression: 1 while the sampler's backlog (m1) and its in-flight count (m2) are both 0; a
/// missing reading reads as not empty. The in-flight count is read on its own because with `COUNT_IN_FLIGHT=false`
/// the backlog holds visible messages only, and a fleet busy with in-flight messages would read as idle (the
/// fault suite's `messages_in_flight_keep_the_idle_policy_off_whatever_the_backlog_counts`).
pub const IDLE_EXPRESSION: &str = "IF(FILL(m1, 1) + FILL(m2, 1) == 0, 1, 0)";

/// The idle policy: once every sampler reading of the last `idle_minutes` (10-second periods) saw nothing visible
/// or in flight, set the fleet to its minimum in one action.
///
/// Why: target tracking scales in gradually, so after a burst a large fleet idles for a long time (simulator,
/// `burst`; docs/design.md, the pre-sampler record). It reads the sampler's 10-second readings, not SQS's one reading a minute:
/// a load that arrives at :00 and is done by :30 was read as an empty queue minute after minute, and the fleet set to
/// its minimum while busy (docs/simulator.md, the pre-sampler policy's weak spots). With nothing in flight no task
/// holds a message, so nothing is cut short; a missing reading counts as not empty, so a gap never scales in.
pub fn idle_spec(s: &PolicySettings) -> Option<StepPolicySpec> {
    if s.idle_minutes == 0 {
        return None;
    }
    let name = s.idle_policy_name();
    let periods = s.idle_minutes * (60 / HIGH_RESOLUTION_PERIOD_SECS);
    Some(StepPolicySpec {
        policy: step_policy(
            s,
            &name,
            StepScalingConfig {
                adjustment_type: AdjustmentType::ExactCapacity,
                step_adjustments: vec![StepAdjustment {
                    metric_interval_lower_bound: Some(0.0),
                    metric_interval_upper_bound: None,
                    scaling_adjustment: i32::try_from(s.min_capacity).unwrap_or(i32::MAX),
                }],
                min_adjustment_magnitude: None,
                cooldown: IDLE_COOLDOWN_SECS,
                metric_aggregation_type: MetricAggregation::Maximum,
            },
        ),
        alarm: AlarmSpec {
            alarm_name: s.alarm_name(&name),
            alarm_description: format!(
                "Every 10-second reading of {} for {} minutes was empty: set {} to its minimum ({} tasks).",
                s.queue_name, s.idle_minutes, s.service_name, s.min_capacity
            ),
            metrics: vec![
                metric_query(
                    "m1",
                    s.signal.metric(sampler::BACKLOG_METRIC),
                    Statistic::Maximum,
                    Some(HIGH_RESOLUTION_PERIOD_SECS),
                ),
                metric_query(
                    "m2",
                    s.signal.metric(sampler::IN_FLIGHT_METRIC),
                    Statistic::Maximum,
                    Some(HIGH_RESOLUTION_PERIOD_SECS),
                ),
                expression(
                    ALARM_EXPRESSION_ID,
                    IDLE_EXPRESSION.to_string(),
                    "1 while the queue holds nothing, visible or in flight",
                    true,
                ),
            ],
            comparison_operator: ComparisonOperator::GreaterThan,
            threshold: 0.0,
            evaluation_periods: periods,
            datapoints_to_alarm: periods,
            treat_missing_data: TreatMissingData::NotBreaching,
        },
    })
}

/// Minutes without a sampler reading before [`sampler_stopped_alarm`] fires (the stack's `SamplerStoppedAlarm` too).
pub const SAMPLER_STOPPED_MINUTES: u32 = 3;

/// The alarm that says the sampler gave this service no reading for [`SAMPLER_STOPPED_MINUTES`] minutes: a
/// sampler that stopped, or (fleet mode) this service's own queue or service failing while the others are read.
/// It acts on nothing (missing readings never scale in); `bpi attach` writes it for a service without the stack,
/// whose `SamplerStoppedAlarm` watches the same (a SampleCount below 1 for three minutes). It reads each minute's
/// Maximum of ecsBPI, which is never below 0, so only a minute without any reading breaches (TreatMissingData
/// breaching).
pub fn sampler_stopped_alarm(s: &PolicySettings) -> AlarmSpec {
    AlarmSpec {
        alarm_name: s.sampler_stopped_alarm_name(),
        alarm_description: format!(
            "The sampler has published no reading of {} for {} for {SAMPLER_STOPPED_MINUTES} minutes (the sampler's run record names why).",
            s.queue_name,
            s.resource_id()
        ),
        metrics: vec![MetricQuery {
            return_data: true,
            ..metric_query(
                "m1",
                s.signal.metric(sampler::BPI_METRIC),
                Statistic::Maximum,
                Some(60),
            )
        }],
        comparison_operator: ComparisonOperator::LessThan,
        threshold: 0.0,
        evaluation_periods: SAMPLER_STOPPED_MINUTES,
        datapoints_to_alarm: SAMPLER_STOPPED_MINUTES,
        treat_missing_data: TreatMissingData::Breaching,
    }
}

impl TargetTrackingConfig {
    /// The same configuration with another target value (and the canonical expression's hold value with it).
    pub fn with_target(&self, target_value: f64) -> Self {
        let mut c = TargetTrackingConfig {
            target_value,
            ..self.clone()
        };
        for q in &mut c.customized_metric_specification.metrics {
            if q.id == BPI_EXPRESSION_ID
                && q.expression
                    .as_deref()
                    .is_some_and(|e| e.starts_with(HOLD_PREFIX))
            {
                q.expression = Some(bpi_expression(target_value));
            }
        }
        c
    }

    /// Whether everything but the target value matches `other` (dimension order ignored). A difference is drift.
    pub fn same_except_target(&self, other: &TargetTrackingConfig) -> bool {
        self.normalized().with_target(0.0) == other.normalized().with_target(0.0)
    }

    fn normalized(&self) -> Self {
        let mut c = self.clone();
        for q in &mut c.customized_metric_specification.metrics {
            if let Some(stat) = &mut q.metric_stat {
                stat.metric.dimensions.sort();
            }
        }
        c.customized_metric_specification
            .metrics
            .sort_by(|a, b| a.id.cmp(&b.id));
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PolicySettings {
        PolicySettings {
            policy_name: "bpi".into(),
            utilization: None,
            idle_minutes: 0,
            scale_in_window_minutes: 0,
            ..PolicySettings::for_service("my-cluster", "my-service", "my-queue")
        }
    }

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

    fn metric_names(queries: &[MetricQuery]) -> Vec<(String, String)> {
        queries
            .iter()
            .map(|q| {
                (
                    q.id.clone(),
                    q.metric_stat
                        .as_ref()
                        .map(|m| m.metric.metric_name.clone())
                        .or_else(|| q.expression.clone())
                        .unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn target_tracking_reads_the_samplers_bpi_with_no_fill() {
        let c = target_tracking_config(&settings(), 12.0);
        let metrics = &c.customized_metric_specification.metrics;
        assert_eq!(
            metric_names(metrics),
            vec![
                ("m1".into(), sampler::BPI_METRIC.into()),
                ("n".into(), sampler::BPI_METRIC.into()),
                ("e1".into(), "IF(FILL(n, 0) > 0, m1, 12)".into())
            ]
        );
        let m1 = metrics[0].metric_stat.as_ref().expect("stat");
        assert_eq!(m1.metric.namespace, "ECS-SQS-BPI");
        assert_eq!((m1.stat.as_str(), m1.period), ("Average", None));
        let returning: Vec<_> = metrics
            .iter()
            .filter(|q| q.return_data)
            .map(|q| q.id.as_str())
            .collect();
        assert_eq!(returning, ["e1"]);
        assert_eq!((c.scale_out_cooldown, c.scale_in_cooldown), (60, 120));
        assert_eq!(c.target_value, 12.0);
        assert!(!c.disable_scale_in);
    }

    #[test]
    fn names_come_from_settings_only() {
        let c = target_tracking_config(&settings(), 12.0);
        let json = serde_json::to_string(&c).expect("json");
        assert!(
            json.contains(r#"{"Name":"QueueName","Value":"my-queue"}"#),
            "{json}"
        );
        assert!(!json.contains("ContainerInsights"), "no Container Insights");
        assert_eq!(settings().resource_id(), "service/my-cluster/my-service");
    }

    #[test]
    fn serialises_to_the_put_scaling_policy_shape() {
        let p = target_tracking_policy(&settings(), 12.0);
        let v = serde_json::to_value(&p).expect("json");
        assert_eq!(v["PolicyType"], "TargetTrackingScaling");
        assert_eq!(v["ServiceNamespace"], "ecs");
        assert_eq!(v["ScalableDimension"], "ecs:service:DesiredCount");
        let cfg = &v["TargetTrackingScalingPolicyConfiguration"];
        assert_eq!(cfg["TargetValue"], 12.0);
        assert_eq!(cfg["ScaleOutCooldown"], 60);
        let m1 = &cfg["CustomizedMetricSpecification"]["Metrics"][0];
        assert_eq!(m1["MetricStat"]["Metric"]["MetricName"], "ecsBPI");
        assert!(
            m1["MetricStat"].get("Period").is_none(),
            "target tracking takes no period"
        );
        assert_eq!(m1["ReturnData"], false);
        let back: TargetTrackingPolicy = serde_json::from_value(v).expect("round trip");
        assert_eq!(back, p);
    }

    #[test]
    fn drift_ignores_target_and_dimension_order_but_nothing_else() {
        let a = target_tracking_config(&settings(), 12.0);
        let mut b = a.with_target(8.0);
        assert_eq!(
            b,
            target_tracking_config(&settings(), 8.0),
            "the hold value moves too"
        );
        assert!(a.same_except_target(&b));
        if let Some(stat) = &mut b.customized_metric_specification.metrics[0].metric_stat {
            stat.metric.dimensions.reverse();
        }
        assert!(a.same_except_target(&b));
        let mut other_queue = settings();
        other_queue.signal.dimensions[1].value = "ecsdemo-queue".into();
        assert!(!a.same_except_target(&target_tracking_config(&other_queue, 12.0)));
        let mut cooldown = a.clone();
        cooldown.scale_in_cooldown = 240;
        assert!(!a.same_except_target(&cooldown));
    }

    #[test]
    fn the_fast_path_sets_the_capacity_the_sampler_asks_for_within_seconds() {
        let s = settings();
        let f = fast_path_spec(&s);
        assert_eq!(f.policy.policy_name, "bpi-fast-path");
        let c = &f.policy.step_scaling_policy_configuration;
        assert_eq!(c.adjustment_type, "ExactCapacity");
        assert_eq!(c.cooldown, FAST_PATH_COOLDOWN_SECS);
        // Max 10: a breach of c tasks sets c.
        assert_eq!(c.step_adjustments.len(), 10);
        let set = |breach: f64| {
            c.step_adjustments
                .iter()
                .find(|st| {
                    st.metric_interval_lower_bound.is_none_or(|l| breach >= l)
                        && st.metric_interval_upper_bound.is_none_or(|u| breach < u)
                })
                .map(|st| st.scaling_adjustment)
        };
        assert_eq!(
            (set(1.0), set(2.0), set(7.0), set(10.0)),
            (Some(1), Some(2), Some(7), Some(10))
        );
        // Max 100: at most 20 steps, exact at the bottom (one message, one task), ending at the maximum, never
        // rounding a need down and never up by more than a quarter.
        let steps = capacity_steps(100);
        assert!(steps.len() <= 20);
        assert_eq!(steps[0].scaling_adjustment, 1);
        assert_eq!(steps.last().map(|st| st.scaling_adjustment), Some(100));
        assert_eq!(
            steps.last().and_then(|st| st.metric_interval_upper_bound),
            None
        );
        let ladder = capacity_ladder(100);
        for need in 1..=100u32 {
            let rung = *ladder.iter().find(|&&r| r >= need).expect("a rung");
            assert!(
                f64::from(rung) <= f64::from(need) * 1.25 + 1.0,
                "{need} -> {rung}"
            );
        }
        assert_eq!(
            capacity_ladder(60),
            vec![
                1, 2, 3, 4, 5, 6, 7, 9, 11, 13, 15, 18, 21, 25, 29, 34, 39, 45, 52, 60
            ][..]
        );
        assert_eq!(capacity_steps(1).len(), 1);
        assert_eq!(
            capacity_steps(37).last().map(|st| st.scaling_adjustment),
            Some(37)
        );
        let a = &f.alarm;
        assert_eq!(a.metrics.len(), 1);
        let m1 = a.metrics[0].metric_stat.as_ref().expect("stat");
        assert_eq!(m1.metric.metric_name, sampler::FAST_PATH_METRIC);
        assert_eq!(
            m1.period,
            Some(HIGH_RESOLUTION_PERIOD_SECS),
            "a 10-second alarm"
        );
        assert!(a.metrics[0].return_data);
        assert_eq!((a.evaluation_periods, a.datapoints_to_alarm), (1, 1));
        assert_eq!(a.treat_missing_data, "notBreaching");
    }

    #[test]
    fn the_backstop_doubles_the_fleet_only_while_the_sampler_is_silent() {
        let b = backstop_spec(&settings());
        let c = &b.policy.step_scaling_policy_configuration;
        assert_eq!(c.adjustment_type, "PercentChangeInCapacity");
        assert_eq!(c.step_adjustments[0].scaling_adjustment, 100);
        assert_eq!(c.min_adjustment_magnitude, Some(1), "from zero tasks: one");
        assert_eq!(
            metric_names(&b.alarm.metrics),
            vec![
                ("s".into(), sampler::BPI_METRIC.into()),
                ("m1".into(), "ApproximateNumberOfMessagesVisible".into()),
                ("e1".into(), "IF(FILL(s, 0) == 0, m1, 0)".into()),
            ]
        );
        assert_eq!(b.alarm.evaluation_periods, 2);
    }

    fn with_extras(mut s: PolicySettings) -> PolicySettings {
        s.utilization = Some(UtilizationSettings {
            concurrency: 4,
            target_pct: 80,
        });
        s.idle_minutes = 3;
        s
    }

    #[test]
    fn the_utilization_policy_tracks_messages_in_flight_over_offered_slots() {
        let s = with_extras(settings());
        let p = utilization_policy(&s).expect("configured");
        assert_eq!(p.policy_name, "bpi-utilization");
        assert_eq!(p.resource_id, "service/my-cluster/my-service");
        let c = &p.target_tracking_scaling_policy_configuration;
        assert_eq!(c.target_value, 0.8);
        assert!(!c.disable_scale_in, "it must be able to agree to scale in");
        let metrics = &c.customized_metric_specification.metrics;
        let m4 = metrics.iter().find(|q| q.id == "m4").expect("m4");
        let stat = m4.metric_stat.as_ref().expect("stat");
        assert_eq!(stat.stat, "Average");
        assert_eq!(
            stat.metric.metric_name,
            sampler::IN_FLIGHT_METRIC,
            "the sampler's in-flight count, on the same clock as its running count"
        );
        let m3 = metrics.iter().find(|q| q.id == "m3").expect("m3");
        assert_eq!(
            m3.metric_stat.as_ref().expect("stat").metric.metric_name,
            sampler::RUNNING_METRIC,
            "the sampler's count, not Container Insights"
        );
        let returned: Vec<_> = metrics.iter().filter(|q| q.return_data).collect();
        assert_eq!(returned.len(), 1);
        assert_eq!(
            returned[0].expression.as_deref(),
            Some("IF(FILL(m3, 0) > 0, FILL(m4, 0) / (4 * FILL(m3, 0)), 0)")
        );
        assert!(
            utilization_policy(&settings()).is_none(),
            "off when not configured"
        );
    }

    #[test]
    fn the_idle_policy_reads_every_ten_second_reading_of_its_minutes() {
        let mut s = with_extras(settings());
        s.min_capacity = 2;
        let idle = idle_spec(&s).expect("configured");
        let c = &idle.policy.step_scaling_policy_configuration;
        assert_eq!(c.adjustment_type, "ExactCapacity");
        assert_eq!(c.step_adjustments.len(), 1);
        assert_eq!(c.step_adjustments[0].scaling_adjustment, 2);
        let a = &idle.alarm;
        assert_eq!(
            (a.evaluation_periods, a.datapoints_to_alarm),
            (18, 18),
            "3 minutes of 10 s"
        );
        assert_eq!(a.treat_missing_data, "notBreaching");
        let m1 = a.metrics[0].metric_stat.as_ref().expect("stat");
        assert_eq!(
            (m1.metric.metric_name.as_str(), m1.period),
            (sampler::BACKLOG_METRIC, Some(10))
        );
        let e1 = a.metrics.iter().find(|q| q.return_data).expect("e1");
        // A missing reading reads as not empty: a gap in the data never scales in. In-flight messages count
        // whatever the backlog counts.
        assert_eq!(
            e1.expression.as_deref(),
            Some("IF(FILL(m1, 1) + FILL(m2, 1) == 0, 1, 0)")
        );
        let m2 = a.metrics[1].metric_stat.as_ref().expect("stat");
        assert_eq!(m2.metric.metric_name, sampler::IN_FLIGHT_METRIC);
        s.idle_minutes = 0;
        assert!(idle_spec(&s).is_none());
        let spec = scaling_spec(&with_extras(settings()), 12.0);
        assert!(spec.idle.is_some() && spec.utilization.is_some());
    }

    #[test]
    fn alarm_names_carry_the_service_so_two_services_never_share_one() {
        let a = with_extras(settings());
        let b = PolicySettings {
            service_name: "other".into(),
            ..a.clone()
        };
        assert_eq!(a.policy_name, b.policy_name);
        let (ia, ib) = (
            idle_spec(&a).expect("a").alarm.alarm_name,
            idle_spec(&b).expect("b").alarm.alarm_name,
        );
        assert_ne!(ia, ib);
        assert_eq!(ia, "StepScaling-service/my-cluster/my-service-bpi-idle");
        assert_eq!(
            fast_path_spec(&a).alarm.alarm_name,
            a.alarm_name(&a.fast_path_policy_name())
        );
        // The retired scale-from-zero alarm is still named, so that apply and remove clean it up.
        assert!(
            a.alarm_names()
                .contains(&a.alarm_name(&a.retired_scale_from_zero_policy_name()))
        );
        // And the sampler-stopped alarm bpi attach writes, named for the service too.
        assert!(
            a.alarm_names()
                .contains(&"SamplerStopped-service/my-cluster/my-service".to_string())
        );
        assert_eq!(a.alarm_names().len(), 6);
    }

    #[test]
    fn the_pre_sampler_activation_rule_is_kept_for_the_comparison() {
        let s = PolicySettings {
            min_capacity: 0,
            ..settings()
        };
        assert_eq!(
            (
                scale_from_zero_capacity(&s, 12.0, 1.0),
                scale_from_zero_capacity(&s, 12.0, 30.0),
                scale_from_zero_capacity(&s, 12.0, 600.0)
            ),
            (1, 3, 10)
        );
    }
}
