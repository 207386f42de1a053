//! The requests the scaling spec is made of, exactly as the Application Auto Scaling and CloudWatch APIs take them
//! (`--cli-input-json` shape) and as DescribeScalingPolicies returns them.

use serde::{Deserialize, Serialize};

/// Defines an enum of an API's closed set of values, serialized as the API spells them.
macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// As the API spells it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

api_enum! {
    /// PutScalingPolicy's `PolicyType`.
    PolicyType {
        /// Target tracking on a metric.
        TargetTracking = "TargetTrackingScaling",
        /// Steps triggered by an alarm.
        Step = "StepScaling",
    }
}

api_enum! {
    /// A step policy's `AdjustmentType`.
    AdjustmentType {
        /// Set the capacity to the step's value.
        ExactCapacity = "ExactCapacity",
        /// Add the step's value.
        ChangeInCapacity = "ChangeInCapacity",
        /// Add the step's value in percent of the current capacity.
        PercentChangeInCapacity = "PercentChangeInCapacity",
    }
}

api_enum! {
    /// How a step policy aggregates the alarm's datapoints (`MetricAggregationType`).
    MetricAggregation {
        /// The highest.
        Maximum = "Maximum",
        /// The lowest.
        Minimum = "Minimum",
        /// The mean.
        Average = "Average",
    }
}

api_enum! {
    /// PutMetricAlarm's `ComparisonOperator` (the static-threshold ones).
    ComparisonOperator {
        /// `>`.
        GreaterThan = "GreaterThanThreshold",
        /// `>=`.
        GreaterThanOrEqual = "GreaterThanOrEqualToThreshold",
        /// `<`.
        LessThan = "LessThanThreshold",
        /// `<=`.
        LessThanOrEqual = "LessThanOrEqualToThreshold",
    }
}

api_enum! {
    /// PutMetricAlarm's `TreatMissingData`.
    TreatMissingData {
        /// A missing datapoint counts as breaching.
        Breaching = "breaching",
        /// A missing datapoint counts as good.
        NotBreaching = "notBreaching",
        /// The state is kept (the alarm reaches back for present datapoints).
        Missing = "missing",
        /// Like `missing`, for this evaluation.
        Ignore = "ignore",
    }
}

/// A statistic of a metric: the five standard ones this project writes, or any other CloudWatch accepts (an
/// extended statistic such as `p99`), kept as read so a foreign policy compares as drift rather than failing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Statistic {
    /// `Average`.
    Average,
    /// `Maximum`.
    Maximum,
    /// `Minimum`.
    Minimum,
    /// `Sum`.
    Sum,
    /// `SampleCount`.
    SampleCount,
    /// Anything else, as spelled.
    Other(String),
}

impl Statistic {
    /// As CloudWatch spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Statistic::Average => "Average",
            Statistic::Maximum => "Maximum",
            Statistic::Minimum => "Minimum",
            Statistic::Sum => "Sum",
            Statistic::SampleCount => "SampleCount",
            Statistic::Other(s) => s,
        }
    }
}

impl From<String> for Statistic {
    fn from(s: String) -> Self {
        match s.as_str() {
            "Average" => Statistic::Average,
            "Maximum" => Statistic::Maximum,
            "Minimum" => Statistic::Minimum,
            "Sum" => Statistic::Sum,
            "SampleCount" => Statistic::SampleCount,
            _ => Statistic::Other(s),
        }
    }
}

impl From<Statistic> for String {
    fn from(s: Statistic) -> Self {
        s.as_str().to_string()
    }
}

impl std::fmt::Display for Statistic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Statistic {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
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
    /// The statistic.
    pub stat: Statistic,
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
    /// Always target tracking.
    pub policy_type: PolicyType,
    /// The configuration.
    pub target_tracking_scaling_policy_configuration: TargetTrackingConfig,
}

/// A step adjustment of a step scaling policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepAdjustment {
    /// Lower bound (inclusive) of the breach (metric − threshold) this step applies to; none for the lowest step
    /// of a policy whose steps lie below the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_interval_lower_bound: Option<f64>,
    /// Upper bound (exclusive); none for the last step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_interval_upper_bound: Option<f64>,
    /// The adjustment (with `ExactCapacity`: the task count).
    pub scaling_adjustment: i32,
}

/// `StepScalingPolicyConfiguration` of PutScalingPolicy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepScalingConfig {
    /// `ExactCapacity` (the fast path, idle) or `PercentChangeInCapacity` (the backstop).
    pub adjustment_type: AdjustmentType,
    /// The steps.
    pub step_adjustments: Vec<StepAdjustment>,
    /// With `PercentChangeInCapacity`: the fewest tasks an action changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_adjustment_magnitude: Option<i32>,
    /// Seconds before the policy acts again.
    pub cooldown: u32,
    /// How alarm datapoints are aggregated.
    pub metric_aggregation_type: MetricAggregation,
}

/// A complete PutScalingPolicy request for a step policy (the fast path, idle, the backstop).
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
    /// Always step scaling.
    pub policy_type: PolicyType,
    /// The configuration.
    pub step_scaling_policy_configuration: StepScalingConfig,
}

/// A PutMetricAlarm request (`--cli-input-json` shape) that triggers a step policy. The caller adds
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
    pub comparison_operator: ComparisonOperator,
    /// Threshold.
    pub threshold: f64,
    /// Periods evaluated.
    pub evaluation_periods: u32,
    /// Breaching periods needed.
    pub datapoints_to_alarm: u32,
    /// Missing data handling.
    pub treat_missing_data: TreatMissingData,
}

/// A step policy and the alarm that triggers it: the fast path, the idle scale-in and the backstop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepPolicySpec {
    /// The step policy.
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

/// Everything scaling needs, derived from one [`PolicySettings`](super::PolicySettings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingSpec {
    /// The scalable target.
    pub scalable_target: ScalableTargetSpec,
    /// The target tracking policy on the sampler's ecsBPI.
    pub target_tracking: TargetTrackingPolicy,
    /// The target tracking policy on task utilization, when configured.
    pub utilization: Option<TargetTrackingPolicy>,
    /// The fast path: the capacity the sampler asks for, within seconds (also from zero tasks).
    pub fast_path: StepPolicySpec,
    /// The idle scale-in policy and alarm, when configured.
    pub idle: Option<StepPolicySpec>,
    /// The fast scale-in to the capacity model's need, when configured.
    pub scale_in: Option<StepPolicySpec>,
    /// The backstop while the sampler is silent: SQS's own metrics double the fleet.
    pub backstop: StepPolicySpec,
}
