//! The canonical scaling setup, as plain data: the one spec the updater writes, deploy applies and a simulator models.
//!
//! The blueprint wrote its policy from two places (Terraform and the updater, which fought, bug 2) and the updater's
//! copy named the wrong service (bug 1), so the task-count metric had no data and scaling died after the first update.
//! Here every name comes from [`PolicySettings`], the spec is built in one function, and it serialises to exactly the
//! JSON the Application Auto Scaling / CloudWatch APIs take (`--cli-input-json`), so no second copy is ever written.

use serde::{Deserialize, Serialize};

use crate::backlog::BacklogCounting;

/// Application Auto Scaling namespace of an ECS service.
pub const SERVICE_NAMESPACE: &str = "ecs";
/// The dimension scaled: the service's desired task count.
pub const SCALABLE_DIMENSION: &str = "ecs:service:DesiredCount";
/// Default scale-out cooldown, seconds.
pub const DEFAULT_SCALE_OUT_COOLDOWN_SECS: u32 = 60;
/// Default scale-in cooldown, seconds.
pub const DEFAULT_SCALE_IN_COOLDOWN_SECS: u32 = 120;
/// Default cooldown of the scale-from-zero activation policy, seconds: long enough for a task to start and for
/// RunningTaskCount to report it, so a single backlog does not start several tasks.
pub const DEFAULT_ACTIVATION_COOLDOWN_SECS: u32 = 300;
/// Id of the expression that returns ecsBPI.
pub const BPI_EXPRESSION_ID: &str = "e1";

/// The names and knobs the spec is built from. Nothing in the spec is a literal name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySettings {
    /// ECS cluster of the service.
    pub cluster_name: String,
    /// ECS service scaled.
    pub service_name: String,
    /// SQS queue whose backlog drives scaling.
    pub queue_name: String,
    /// Name of the target tracking policy.
    pub policy_name: String,
    /// Whether in-flight messages count as backlog.
    pub counting: BacklogCounting,
    /// Target tracking scale-out cooldown, seconds.
    pub scale_out_cooldown_secs: u32,
    /// Target tracking scale-in cooldown, seconds.
    pub scale_in_cooldown_secs: u32,
    /// Minimum task count. At 0 an activation policy is added so scaling from zero works.
    pub min_capacity: u32,
    /// Maximum task count.
    pub max_capacity: u32,
    /// The second target tracking policy, on how busy the tasks are; `None` leaves it out.
    pub utilization: Option<UtilizationSettings>,
    /// Minutes the queue must stay empty (nothing visible, nothing in flight) before the fleet is set to its minimum
    /// at once; 0 leaves the idle policy out.
    pub idle_minutes: u32,
}

/// What the utilization policy reads: the workers' processing-duration metric (its per-minute Sum is the busy
/// slot-seconds of the minute) and the slots per task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UtilizationSettings {
    /// The processing-duration metric the workers publish (seconds per message).
    pub duration_metric: Metric,
    /// Messages one task processes at once.
    pub concurrency: u32,
    /// Target busy share of the slots, percent (1-100).
    pub target_pct: u32,
}

/// Default target of the utilization policy, percent of the task slots busy.
pub const DEFAULT_TARGET_UTILIZATION_PCT: u32 = 90;
/// Default minutes of empty queue before the idle policy sets the minimum.
pub const DEFAULT_IDLE_MINUTES: u32 = 3;
/// Cooldown of the idle policy, seconds.
pub const IDLE_COOLDOWN_SECS: u32 = 60;

impl PolicySettings {
    /// The Application Auto Scaling resource id of the service: `service/CLUSTER/SERVICE`.
    pub fn resource_id(&self) -> String {
        format!("service/{}/{}", self.cluster_name, self.service_name)
    }

    /// Name of the scale-from-zero step policy (and its alarm).
    pub fn activation_policy_name(&self) -> String {
        format!("{}-activation", self.policy_name)
    }

    /// Name of the target tracking policy on task utilization.
    pub fn utilization_policy_name(&self) -> String {
        format!("{}-utilization", self.policy_name)
    }

    /// Name of the idle scale-in step policy (and its alarm).
    pub fn idle_policy_name(&self) -> String {
        format!("{}-idle", self.policy_name)
    }

    /// Name of the alarm of the step policy `policy_name`. Policy names are per service but alarm names are per
    /// account and region, so the alarm carries the service's resource id: two services deployed with the same
    /// policy name never overwrite each other's alarm (whose action would then scale the other service).
    pub fn alarm_name(&self, policy_name: &str) -> String {
        format!("StepScaling-{}-{policy_name}", self.resource_id())
    }

    /// Names of every alarm the set-up owns (present or not).
    pub fn alarm_names(&self) -> Vec<String> {
        vec![
            self.alarm_name(&self.activation_policy_name()),
            self.alarm_name(&self.idle_policy_name()),
        ]
    }
}

/// A CloudWatch metric dimension.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dimension {
    /// Dimension name.
    pub name: String,
    /// Dimension value.
    pub value: String,
}

/// A CloudWatch metric identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Metric {
    /// Metric namespace.
    pub namespace: String,
    /// Metric name.
    pub metric_name: String,
    /// Dimensions, in any order (compared as a set).
    pub dimensions: Vec<Dimension>,
}

/// A metric and the statistic to read of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricStat {
    /// The metric.
    pub metric: Metric,
    /// The statistic (`Average`, `Sum`, ...).
    pub stat: String,
    /// Period in seconds: required in alarms, absent in target tracking (which uses 60 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<u32>,
    /// Unit, if one is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// One entry of a metric-math query: a metric (`MetricStat`) or an expression over other entries' ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricQuery {
    /// Id other entries refer to (lowercase first letter).
    pub id: String,
    /// Metric-math expression, for expression entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// Human-readable label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The metric read, for metric entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_stat: Option<MetricStat>,
    /// Whether this entry is the result. Exactly one entry returns data.
    pub return_data: bool,
}

/// The customized metric of a target tracking policy: a metric-math query returning ecsBPI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomizedMetricSpecification {
    /// The query entries.
    pub metrics: Vec<MetricQuery>,
}

/// `TargetTrackingScalingPolicyConfiguration` of PutScalingPolicy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetTrackingConfig {
    /// The target ecsBPI.
    pub target_value: f64,
    /// The ecsBPI metric-math query.
    pub customized_metric_specification: CustomizedMetricSpecification,
    /// Seconds after a scale-out before another.
    pub scale_out_cooldown: u32,
    /// Seconds after a scale-in before another.
    pub scale_in_cooldown: u32,
    /// Whether the policy may not scale in.
    pub disable_scale_in: bool,
}

impl TargetTrackingConfig {
    /// The same configuration with another target value.
    pub fn with_target(&self, target_value: f64) -> Self {
        TargetTrackingConfig {
            target_value,
            ..self.clone()
        }
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

/// A complete PutScalingPolicy request for the target tracking policy (`--cli-input-json` shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetTrackingPolicy {
    /// Policy name.
    pub policy_name: String,
    /// Always `ecs`.
    pub service_namespace: String,
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// Always `ecs:service:DesiredCount`.
    pub scalable_dimension: String,
    /// Always `TargetTrackingScaling`.
    pub policy_type: String,
    /// The configuration.
    pub target_tracking_scaling_policy_configuration: TargetTrackingConfig,
}

/// A step adjustment of a step scaling policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepAdjustment {
    /// Lower bound (inclusive) of the breach (metric − threshold) this step applies to.
    pub metric_interval_lower_bound: f64,
    /// Upper bound (exclusive); none for the last step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_interval_upper_bound: Option<f64>,
    /// The adjustment (with `ExactCapacity`: the task count).
    pub scaling_adjustment: i32,
}

/// Most steps in the activation policy (Application Auto Scaling allows 20 step adjustments per policy).
pub const MAX_ACTIVATION_STEPS: u32 = 20;

/// `StepScalingPolicyConfiguration` of PutScalingPolicy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepScalingConfig {
    /// Always `ChangeInCapacity`.
    pub adjustment_type: String,
    /// The steps.
    pub step_adjustments: Vec<StepAdjustment>,
    /// Seconds before the policy acts again.
    pub cooldown: u32,
    /// How alarm datapoints are aggregated.
    pub metric_aggregation_type: String,
}

/// A complete PutScalingPolicy request for the scale-from-zero step policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepPolicy {
    /// Policy name.
    pub policy_name: String,
    /// Always `ecs`.
    pub service_namespace: String,
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// Always `ecs:service:DesiredCount`.
    pub scalable_dimension: String,
    /// Always `StepScaling`.
    pub policy_type: String,
    /// The configuration.
    pub step_scaling_policy_configuration: StepScalingConfig,
}

/// A PutMetricAlarm request (`--cli-input-json` shape) that triggers the activation policy. The caller adds
/// `AlarmActions` with the policy ARN PutScalingPolicy returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmSpec {
    /// Alarm name.
    pub alarm_name: String,
    /// What the alarm means.
    pub alarm_description: String,
    /// The metric-math query; one entry returns data.
    pub metrics: Vec<MetricQuery>,
    /// Comparison with the threshold.
    pub comparison_operator: String,
    /// Threshold.
    pub threshold: f64,
    /// Periods evaluated.
    pub evaluation_periods: u32,
    /// Breaching periods needed.
    pub datapoints_to_alarm: u32,
    /// Missing data handling.
    pub treat_missing_data: String,
}

/// A step policy and the alarm that triggers it: the scale-from-zero activation (present when the minimum capacity
/// is 0: target tracking cannot act at zero tasks, its metric divides by the task count) and the idle scale-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivationSpec {
    /// The +1 task step policy.
    pub policy: StepPolicy,
    /// The alarm that triggers it.
    pub alarm: AlarmSpec,
}

/// A RegisterScalableTarget request (`--cli-input-json` shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScalableTargetSpec {
    /// Always `ecs`.
    pub service_namespace: String,
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// Always `ecs:service:DesiredCount`.
    pub scalable_dimension: String,
    /// Minimum tasks.
    pub min_capacity: u32,
    /// Maximum tasks.
    pub max_capacity: u32,
}

/// Everything scaling needs, derived from one [`PolicySettings`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingSpec {
    /// The scalable target.
    pub scalable_target: ScalableTargetSpec,
    /// The target tracking policy on ecsBPI.
    pub target_tracking: TargetTrackingPolicy,
    /// The scale-from-zero policy and alarm, when the minimum capacity is 0.
    pub activation: Option<ActivationSpec>,
    /// The target tracking policy on task utilization, when configured.
    pub utilization: Option<TargetTrackingPolicy>,
    /// The idle scale-in policy and alarm, when configured.
    pub idle: Option<ActivationSpec>,
}

/// Statistic of the queue-depth inputs (m1, m2): the peak of the minute. A latency promise is about the message that
/// waits longest, and arrivals come in bursts (a producer's batch, a schedule): the minute's Average of a backlog
/// that fills at once and drains over the minute is about half its peak, so target tracking on it reads a fleet
/// that just keeps the promise as oversized and scales it in. (Measured in the simulator, `blueprint` scenario:
/// within the promise 75% with Average, 98% with Maximum, at 2.0× and 1.27× the lower-bound cost.)
pub const QUEUE_DEPTH_STAT: &str = "Maximum";
/// Statistic of the task count (m3).
pub const TASK_COUNT_STAT: &str = "Average";

fn metric_query(
    id: &str,
    namespace: &str,
    name: &str,
    stat: &str,
    dims: &[(&str, &str)],
) -> MetricQuery {
    MetricQuery {
        id: id.to_string(),
        expression: None,
        label: None,
        metric_stat: Some(MetricStat {
            metric: Metric {
                namespace: namespace.to_string(),
                metric_name: name.to_string(),
                dimensions: dims
                    .iter()
                    .map(|(n, v)| Dimension {
                        name: (*n).to_string(),
                        value: (*v).to_string(),
                    })
                    .collect(),
            },
            stat: stat.to_string(),
            period: None,
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

/// The input metrics: m1 visible, m2 in flight (when counted), m3 running tasks; and the backlog expression.
fn input_metrics(s: &PolicySettings) -> (Vec<MetricQuery>, &'static str) {
    let queue = [("QueueName", s.queue_name.as_str())];
    let mut metrics = vec![metric_query(
        "m1",
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        QUEUE_DEPTH_STAT,
        &queue,
    )];
    let backlog = if s.counting.counts_in_flight() {
        metrics.push(metric_query(
            "m2",
            "AWS/SQS",
            "ApproximateNumberOfMessagesNotVisible",
            QUEUE_DEPTH_STAT,
            &queue,
        ));
        "m1 + m2"
    } else {
        "m1"
    };
    metrics.push(metric_query(
        "m3",
        "ECS/ContainerInsights",
        "RunningTaskCount",
        TASK_COUNT_STAT,
        &[
            ("ClusterName", s.cluster_name.as_str()),
            ("ServiceName", s.service_name.as_str()),
        ],
    ));
    (metrics, backlog)
}

/// The ecsBPI metric-math expression for a backlog term: zero (or missing) running tasks reports the backlog itself
/// instead of dividing by zero, so any backlog still reads above any target (see [`crate::backlog_per_task`]).
pub fn bpi_expression(backlog: &str) -> String {
    format!("IF(FILL(m3, 0) > 0, ({backlog}) / FILL(m3, 0), {backlog})")
}

/// The canonical target tracking configuration for `target_value`.
pub fn target_tracking_config(s: &PolicySettings, target_value: f64) -> TargetTrackingConfig {
    let (mut metrics, backlog) = input_metrics(s);
    metrics.push(expression(
        BPI_EXPRESSION_ID,
        bpi_expression(backlog),
        "ecsBPI (backlog per task)",
        true,
    ));
    TargetTrackingConfig {
        target_value,
        customized_metric_specification: CustomizedMetricSpecification { metrics },
        scale_out_cooldown: s.scale_out_cooldown_secs,
        scale_in_cooldown: s.scale_in_cooldown_secs,
        disable_scale_in: false,
    }
}

/// The canonical target tracking PutScalingPolicy request for `target_value`.
pub fn target_tracking_policy(s: &PolicySettings, target_value: f64) -> TargetTrackingPolicy {
    TargetTrackingPolicy {
        policy_name: s.policy_name.clone(),
        service_namespace: SERVICE_NAMESPACE.to_string(),
        resource_id: s.resource_id(),
        scalable_dimension: SCALABLE_DIMENSION.to_string(),
        policy_type: "TargetTrackingScaling".to_string(),
        target_tracking_scaling_policy_configuration: target_tracking_config(s, target_value),
    }
}

/// The scale-from-zero step policy and its alarm, sized for `target_value`.
///
/// The alarm's metric is the backlog while no task runs (0 otherwise); its steps set the capacity at once to
/// ⌈backlog / target⌉ tasks (`ExactCapacity`, at most the maximum), so a burst after idle starts the fleet it needs in
/// one action instead of one task followed by target tracking's three datapoints. The alarm only fires while no
/// task runs, so setting an exact capacity never shrinks a working fleet.
pub fn activation_spec(s: &PolicySettings, target_value: f64) -> ActivationSpec {
    let name = s.activation_policy_name();
    let (mut metrics, backlog) = input_metrics(s);
    for q in &mut metrics {
        if let Some(stat) = &mut q.metric_stat {
            stat.period = Some(60);
        }
    }
    metrics.push(expression(
        "e1",
        format!("IF(FILL(m3, 0) == 0, {backlog}, 0)"),
        "backlog waiting with no running task",
        true,
    ));
    let target = if target_value.is_finite() && target_value >= 1.0 {
        target_value
    } else {
        1.0
    };
    let steps = s.max_capacity.clamp(1, MAX_ACTIVATION_STEPS);
    // Breach = backlog (threshold 0): [0, T) → 1 task, [T, 2T) → 2, ..., [(K-1)T, ∞) → K.
    let step_adjustments = (1..=steps)
        .map(|k| StepAdjustment {
            metric_interval_lower_bound: f64::from(k - 1) * target,
            metric_interval_upper_bound: (k < steps).then(|| f64::from(k) * target),
            scaling_adjustment: i32::try_from(if k == steps { s.max_capacity } else { k })
                .unwrap_or(i32::MAX),
        })
        .collect();
    ActivationSpec {
        policy: step_policy(
            s,
            &name,
            StepScalingConfig {
                adjustment_type: "ExactCapacity".to_string(),
                step_adjustments,
                cooldown: DEFAULT_ACTIVATION_COOLDOWN_SECS,
                metric_aggregation_type: "Maximum".to_string(),
            },
        ),
        alarm: AlarmSpec {
            alarm_name: s.alarm_name(&name),
            alarm_description: format!(
                "Backlog on {} while {} runs no task: start the tasks it needs (scale from zero).",
                s.queue_name, s.service_name
            ),
            metrics,
            comparison_operator: "GreaterThanThreshold".to_string(),
            threshold: 0.0,
            evaluation_periods: 1,
            datapoints_to_alarm: 1,
            treat_missing_data: "notBreaching".to_string(),
        },
    }
}

/// A step scaling PutScalingPolicy request named `name` on the service of `s`.
fn step_policy(s: &PolicySettings, name: &str, config: StepScalingConfig) -> StepPolicy {
    StepPolicy {
        policy_name: name.to_string(),
        service_namespace: SERVICE_NAMESPACE.to_string(),
        resource_id: s.resource_id(),
        scalable_dimension: SCALABLE_DIMENSION.to_string(),
        policy_type: "StepScaling".to_string(),
        step_scaling_policy_configuration: config,
    }
}

/// The tasks the activation policy starts for `backlog` (what its steps encode): ⌈backlog / target⌉, at least one
/// (a backlog at an exact multiple gets one more), at most the maximum.
pub fn activation_capacity(s: &PolicySettings, target_value: f64, backlog: f64) -> u32 {
    let target = if target_value.is_finite() && target_value >= 1.0 {
        target_value
    } else {
        1.0
    };
    let steps = s.max_capacity.clamp(1, MAX_ACTIVATION_STEPS);
    let k = (backlog.max(0.0) / target).floor().min(f64::from(steps)) as u32 + 1;
    // The last step is open-ended and sets the maximum.
    if k >= steps { s.max_capacity.max(1) } else { k }
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
        activation: (s.min_capacity == 0).then(|| activation_spec(s, target_value)),
        utilization: utilization_policy(s),
        idle: idle_spec(s),
    }
}

/// Id of the expression that returns the task utilization.
pub const UTILIZATION_EXPRESSION_ID: &str = "e1";

/// The utilization metric-math expression: busy slot-seconds of the minute (the Sum of the processing durations
/// completed in it) over the slot-seconds the running tasks offered; 0 with no running task.
pub fn utilization_expression(concurrency: u32) -> String {
    format!("IF(FILL(m3, 0) > 0, FILL(m4, 0) / (60 * {concurrency} * FILL(m3, 0)), 0)")
}

/// The second target tracking policy: busy share of the task slots, kept at `target_pct`.
///
/// Why: backlog per task says nothing while the queue is empty. Under steady arrivals the queue stays empty as long
/// as the fleet keeps up, so ecsBPI reads near 0 and target tracking scales in, until the fleet no longer keeps up
/// and a backlog builds to the target, which is the latency promise itself. The fleet then oscillates around the
/// promise (simulator, `diurnal`: 90.6% within the promise, 449 scaling actions in a day, 2.7× the lower-bound
/// cost). Application Auto Scaling scales out when any target tracking policy asks and scales in only when all of
/// them agree, so this policy keeps the fleet from shrinking below the work while ecsBPI still guards the
/// waiting backlog.
pub fn utilization_policy(s: &PolicySettings) -> Option<TargetTrackingPolicy> {
    let u = s.utilization.as_ref()?;
    let (inputs, _) = input_metrics(s);
    let mut metrics: Vec<MetricQuery> = inputs.into_iter().filter(|q| q.id == "m3").collect();
    metrics.push(MetricQuery {
        id: "m4".to_string(),
        expression: None,
        label: None,
        metric_stat: Some(MetricStat {
            metric: u.duration_metric.clone(),
            stat: "Sum".to_string(),
            period: None,
            unit: None,
        }),
        return_data: false,
    });
    metrics.push(expression(
        UTILIZATION_EXPRESSION_ID,
        utilization_expression(u.concurrency.max(1)),
        "ecsUtilization (busy share of task slots)",
        true,
    ));
    Some(TargetTrackingPolicy {
        policy_name: s.utilization_policy_name(),
        service_namespace: SERVICE_NAMESPACE.to_string(),
        resource_id: s.resource_id(),
        scalable_dimension: SCALABLE_DIMENSION.to_string(),
        policy_type: "TargetTrackingScaling".to_string(),
        target_tracking_scaling_policy_configuration: TargetTrackingConfig {
            target_value: f64::from(u.target_pct.clamp(1, 100)) / 100.0,
            customized_metric_specification: CustomizedMetricSpecification { metrics },
            scale_out_cooldown: s.scale_out_cooldown_secs,
            scale_in_cooldown: s.scale_in_cooldown_secs,
            disable_scale_in: false,
        },
    })
}

/// The idle policy: once the queue has held nothing (visible or in flight) for `idle_minutes`, set the fleet to its
/// minimum in one action.
///
/// Why: target tracking scales in gradually, so after a burst a large fleet idles for a long time (simulator,
/// `burst`: 11× the lower-bound cost). With nothing in flight no task holds a message, so nothing is cut short;
/// missing queue metrics count as not empty, so a gap in the data never scales in.
pub fn idle_spec(s: &PolicySettings) -> Option<ActivationSpec> {
    if s.idle_minutes == 0 {
        return None;
    }
    let name = s.idle_policy_name();
    let queue = [("QueueName", s.queue_name.as_str())];
    let mut metrics = vec![
        metric_query(
            "m1",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            QUEUE_DEPTH_STAT,
            &queue,
        ),
        metric_query(
            "m2",
            "AWS/SQS",
            "ApproximateNumberOfMessagesNotVisible",
            QUEUE_DEPTH_STAT,
            &queue,
        ),
    ];
    for q in &mut metrics {
        if let Some(stat) = &mut q.metric_stat {
            stat.period = Some(60);
        }
    }
    metrics.push(expression(
        "e1",
        "IF(FILL(m1, 1) + FILL(m2, 1) == 0, 1, 0)".to_string(),
        "1 while the queue holds nothing",
        true,
    ));
    Some(ActivationSpec {
        policy: step_policy(
            s,
            &name,
            StepScalingConfig {
                adjustment_type: "ExactCapacity".to_string(),
                step_adjustments: vec![StepAdjustment {
                    metric_interval_lower_bound: 0.0,
                    metric_interval_upper_bound: None,
                    scaling_adjustment: i32::try_from(s.min_capacity).unwrap_or(i32::MAX),
                }],
                cooldown: IDLE_COOLDOWN_SECS,
                metric_aggregation_type: "Maximum".to_string(),
            },
        ),
        alarm: AlarmSpec {
            alarm_name: s.alarm_name(&name),
            alarm_description: format!(
                "{} has held no message for {} minutes: set {} to its minimum ({} tasks).",
                s.queue_name, s.idle_minutes, s.service_name, s.min_capacity
            ),
            metrics,
            comparison_operator: "GreaterThanThreshold".to_string(),
            threshold: 0.0,
            evaluation_periods: s.idle_minutes,
            datapoints_to_alarm: s.idle_minutes,
            treat_missing_data: "notBreaching".to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PolicySettings {
        PolicySettings {
            cluster_name: "my-cluster".into(),
            service_name: "my-service".into(),
            queue_name: "my-queue".into(),
            policy_name: "bpi".into(),
            counting: BacklogCounting::VisibleAndInFlight,
            scale_out_cooldown_secs: DEFAULT_SCALE_OUT_COOLDOWN_SECS,
            scale_in_cooldown_secs: DEFAULT_SCALE_IN_COOLDOWN_SECS,
            min_capacity: 1,
            max_capacity: 10,
            utilization: None,
            idle_minutes: 0,
        }
    }

    fn metric_names(c: &TargetTrackingConfig) -> Vec<(String, String)> {
        c.customized_metric_specification
            .metrics
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
    fn canonical_spec_counts_in_flight_and_handles_zero_tasks() {
        let c = target_tracking_config(&settings(), 12.0);
        assert_eq!(
            metric_names(&c),
            vec![
                ("m1".into(), "ApproximateNumberOfMessagesVisible".into()),
                ("m2".into(), "ApproximateNumberOfMessagesNotVisible".into()),
                ("m3".into(), "RunningTaskCount".into()),
                (
                    "e1".into(),
                    "IF(FILL(m3, 0) > 0, (m1 + m2) / FILL(m3, 0), m1 + m2)".into()
                ),
            ]
        );
        let returning: Vec<_> = c
            .customized_metric_specification
            .metrics
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
        assert!(json.contains(r#"{"Name":"ClusterName","Value":"my-cluster"}"#));
        assert!(json.contains(r#"{"Name":"ServiceName","Value":"my-service"}"#));
        assert_eq!(settings().resource_id(), "service/my-cluster/my-service");
    }

    #[test]
    fn visible_only_drops_m2() {
        let s = PolicySettings {
            counting: BacklogCounting::VisibleOnly,
            ..settings()
        };
        let c = target_tracking_config(&s, 12.0);
        let ids: Vec<_> = c
            .customized_metric_specification
            .metrics
            .iter()
            .map(|q| q.id.as_str())
            .collect();
        assert_eq!(ids, ["m1", "m3", "e1"]);
        assert_eq!(
            c.customized_metric_specification.metrics[2]
                .expression
                .as_deref(),
            Some("IF(FILL(m3, 0) > 0, (m1) / FILL(m3, 0), m1)")
        );
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
        assert_eq!(m1["MetricStat"]["Metric"]["Namespace"], "AWS/SQS");
        assert_eq!(m1["MetricStat"]["Stat"], "Maximum");
        let m3 = &cfg["CustomizedMetricSpecification"]["Metrics"][2];
        assert_eq!(m3["MetricStat"]["Stat"], "Average");
        assert!(m1["MetricStat"].get("Period").is_none());
        assert_eq!(m1["ReturnData"], false);
        let back: TargetTrackingPolicy = serde_json::from_value(v).expect("round trip");
        assert_eq!(back, p);
    }

    #[test]
    fn drift_ignores_target_and_dimension_order_but_nothing_else() {
        let a = target_tracking_config(&settings(), 12.0);
        let mut b = a.with_target(8.0);
        assert!(a.same_except_target(&b));
        if let Some(stat) = &mut b.customized_metric_specification.metrics[2].metric_stat {
            stat.metric.dimensions.reverse();
        }
        assert!(a.same_except_target(&b));

        let wrong_service = PolicySettings {
            service_name: "ecsdemo-queue-proc3".into(),
            ..settings()
        };
        assert!(!a.same_except_target(&target_tracking_config(&wrong_service, 12.0)));
        let mut cooldown = a.clone();
        cooldown.scale_in_cooldown = 240;
        assert!(!a.same_except_target(&cooldown));
        let visible_only = PolicySettings {
            counting: BacklogCounting::VisibleOnly,
            ..settings()
        };
        assert!(!a.same_except_target(&target_tracking_config(&visible_only, 12.0)));
    }

    #[test]
    fn activation_policy_only_when_min_is_zero() {
        assert!(scaling_spec(&settings(), 12.0).activation.is_none());
        let s = PolicySettings {
            min_capacity: 0,
            ..settings()
        };
        let spec = scaling_spec(&s, 12.0);
        assert_eq!(spec.scalable_target.min_capacity, 0);
        let act = spec.activation.expect("activation at min 0");
        assert_eq!(act.policy.policy_name, "bpi-activation");
        assert_eq!(act.policy.policy_type, "StepScaling");
        let step = &act.policy.step_scaling_policy_configuration;
        assert_eq!(step.adjustment_type, "ExactCapacity");
        // Target 12, max 10: [0,12) → 1, [12,24) → 2, ..., [108, ∞) → 10.
        assert_eq!(step.step_adjustments.len(), 10);
        let first = &step.step_adjustments[0];
        assert_eq!(
            (
                first.metric_interval_lower_bound,
                first.metric_interval_upper_bound
            ),
            (0.0, Some(12.0))
        );
        assert_eq!(first.scaling_adjustment, 1);
        let last = &step.step_adjustments[9];
        assert_eq!(
            (
                last.metric_interval_lower_bound,
                last.metric_interval_upper_bound
            ),
            (108.0, None)
        );
        assert_eq!(last.scaling_adjustment, 10);
        for pair in step.step_adjustments.windows(2) {
            assert_eq!(
                pair[0].metric_interval_upper_bound,
                Some(pair[1].metric_interval_lower_bound),
                "contiguous"
            );
        }
        assert_eq!(
            (
                activation_capacity(&s, 12.0, 1.0),
                activation_capacity(&s, 12.0, 30.0)
            ),
            (1, 3)
        );
        assert_eq!(
            activation_capacity(&s, 12.0, 600.0),
            10,
            "at most the maximum"
        );
        let big = PolicySettings {
            max_capacity: 100,
            utilization: None,
            idle_minutes: 0,
            ..s.clone()
        };
        assert_eq!(
            activation_spec(&big, 12.0)
                .policy
                .step_scaling_policy_configuration
                .step_adjustments
                .len(),
            20
        );
        assert_eq!(
            activation_capacity(&big, 12.0, 228.0),
            100,
            "the open-ended 20th step sets the maximum"
        );
        assert_eq!(activation_capacity(&big, 12.0, 227.0), 19);
        assert_eq!(act.alarm.threshold, 0.0);
        assert_eq!(act.alarm.comparison_operator, "GreaterThanThreshold");
        assert!(
            act.alarm
                .metrics
                .iter()
                .filter_map(|q| q.metric_stat.as_ref())
                .all(|m| m.period == Some(60))
        );
        assert_eq!(
            act.alarm
                .metrics
                .last()
                .and_then(|q| q.expression.as_deref()),
            Some("IF(FILL(m3, 0) == 0, m1 + m2, 0)")
        );
    }

    fn with_extras(mut s: PolicySettings) -> PolicySettings {
        s.utilization = Some(UtilizationSettings {
            duration_metric: Metric {
                namespace: "ECS-SQS-BPI".into(),
                metric_name: "MsgProcessingDuration".into(),
                dimensions: vec![
                    Dimension {
                        name: "Type".into(),
                        value: "Single-Queue".into(),
                    },
                    Dimension {
                        name: "QueueName".into(),
                        value: "my-queue".into(),
                    },
                ],
            },
            concurrency: 4,
            target_pct: 90,
        });
        s.idle_minutes = 3;
        s
    }

    #[test]
    fn the_utilization_policy_tracks_busy_slot_seconds_over_offered_ones() {
        let s = with_extras(settings());
        let p = utilization_policy(&s).expect("configured");
        assert_eq!(p.policy_name, "bpi-utilization");
        assert_eq!(p.resource_id, "service/my-cluster/my-service");
        let c = &p.target_tracking_scaling_policy_configuration;
        assert_eq!(c.target_value, 0.9);
        assert!(!c.disable_scale_in, "it must be able to agree to scale in");
        let metrics = &c.customized_metric_specification.metrics;
        let m4 = metrics.iter().find(|q| q.id == "m4").expect("m4");
        let stat = m4.metric_stat.as_ref().expect("stat");
        assert_eq!(stat.stat, "Sum");
        assert_eq!(
            stat.metric,
            s.utilization.as_ref().expect("set").duration_metric
        );
        let m3 = metrics.iter().find(|q| q.id == "m3").expect("m3");
        assert_eq!(
            m3.metric_stat.as_ref().expect("stat").metric.metric_name,
            "RunningTaskCount"
        );
        let returned: Vec<_> = metrics.iter().filter(|q| q.return_data).collect();
        assert_eq!(returned.len(), 1);
        assert_eq!(
            returned[0].expression.as_deref(),
            Some("IF(FILL(m3, 0) > 0, FILL(m4, 0) / (60 * 4 * FILL(m3, 0)), 0)")
        );
        assert!(
            utilization_policy(&settings()).is_none(),
            "off when not configured"
        );
    }

    #[test]
    fn the_idle_policy_sets_the_minimum_after_the_configured_empty_minutes() {
        let mut s = with_extras(settings());
        s.min_capacity = 2;
        let idle = idle_spec(&s).expect("configured");
        let c = &idle.policy.step_scaling_policy_configuration;
        assert_eq!(c.adjustment_type, "ExactCapacity");
        assert_eq!(c.step_adjustments.len(), 1);
        assert_eq!(c.step_adjustments[0].scaling_adjustment, 2);
        assert_eq!(c.step_adjustments[0].metric_interval_lower_bound, 0.0);
        assert_eq!(c.step_adjustments[0].metric_interval_upper_bound, None);
        let a = &idle.alarm;
        assert_eq!((a.evaluation_periods, a.datapoints_to_alarm), (3, 3));
        assert_eq!(a.comparison_operator, "GreaterThanThreshold");
        assert_eq!(a.threshold, 0.0);
        assert_eq!(a.treat_missing_data, "notBreaching");
        let e1 = a.metrics.iter().find(|q| q.return_data).expect("e1");
        // Missing queue metrics read as not empty: a gap in the data never scales in.
        assert_eq!(
            e1.expression.as_deref(),
            Some("IF(FILL(m1, 1) + FILL(m2, 1) == 0, 1, 0)")
        );
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
        let z = PolicySettings {
            min_capacity: 0,
            ..a.clone()
        };
        assert_eq!(
            activation_spec(&z, 12.0).alarm.alarm_name,
            z.alarm_name(&z.activation_policy_name())
        );
        assert_eq!(a.alarm_names().len(), 2);
    }
}
