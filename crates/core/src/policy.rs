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
}

impl PolicySettings {
    /// The Application Auto Scaling resource id of the service: `service/CLUSTER/SERVICE`.
    pub fn resource_id(&self) -> String {
        format!("service/{}/{}", self.cluster_name, self.service_name)
    }

    /// Name of the scale-from-zero step policy (and its alarm).
    pub fn activation_policy_name(&self) -> String {
        format!("{}-activation", self.policy_name)
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

/// The scale-from-zero pieces, present when the minimum capacity is 0: target tracking cannot act at zero tasks
/// (its metric divides by the task count), so a step policy adds the first task whenever backlog exists.
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
        policy: StepPolicy {
            policy_name: name.clone(),
            service_namespace: SERVICE_NAMESPACE.to_string(),
            resource_id: s.resource_id(),
            scalable_dimension: SCALABLE_DIMENSION.to_string(),
            policy_type: "StepScaling".to_string(),
            step_scaling_policy_configuration: StepScalingConfig {
                adjustment_type: "ExactCapacity".to_string(),
                step_adjustments,
                cooldown: DEFAULT_ACTIVATION_COOLDOWN_SECS,
                metric_aggregation_type: "Maximum".to_string(),
            },
        },
        alarm: AlarmSpec {
            alarm_name: name,
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
    }
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
}
