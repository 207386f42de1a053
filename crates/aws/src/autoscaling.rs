//! Application Auto Scaling: the canonical policy written, read back, and converted between `bpi-core`'s plain data
//! and the SDK's types. Policies are always looked up by name AND resource id (the blueprint took `policies[0]` of
//! a by-name query, bug 6).

use aws_sdk_applicationautoscaling::types::{
    AdjustmentType, CustomizedMetricSpecification, MetricAggregationType, PolicyType,
    ScalableDimension, ServiceNamespace, StepAdjustment, StepScalingPolicyConfiguration,
    TargetTrackingMetric, TargetTrackingMetricDataQuery, TargetTrackingMetricDimension,
    TargetTrackingMetricStat, TargetTrackingScalingPolicyConfiguration,
};
use bpi_core::policy::{
    self, Dimension, Metric, MetricQuery, MetricStat, ScalableTargetSpec, StepPolicy,
    TargetTrackingConfig, TargetTrackingPolicy,
};

use crate::error::AwsError;

fn build_error(
    op: &'static str,
) -> impl Fn(aws_smithy_types::error::operation::BuildError) -> AwsError {
    move |e| AwsError::other(op, format!("invalid request: {e}"))
}

fn secs_i32(secs: u32) -> i32 {
    i32::try_from(secs).unwrap_or(i32::MAX)
}

/// Converts core's target tracking configuration to the SDK's.
pub fn to_sdk(
    config: &TargetTrackingConfig,
) -> Result<TargetTrackingScalingPolicyConfiguration, AwsError> {
    const OP: &str = "application-autoscaling:PutScalingPolicy";
    let mut metrics = Vec::new();
    for q in &config.customized_metric_specification.metrics {
        let metric_stat = match &q.metric_stat {
            None => None,
            Some(stat) => {
                let mut dims = Vec::new();
                for d in &stat.metric.dimensions {
                    dims.push(
                        TargetTrackingMetricDimension::builder()
                            .name(&d.name)
                            .value(&d.value)
                            .build()
                            .map_err(build_error(OP))?,
                    );
                }
                Some(
                    TargetTrackingMetricStat::builder()
                        .metric(
                            TargetTrackingMetric::builder()
                                .namespace(&stat.metric.namespace)
                                .metric_name(&stat.metric.metric_name)
                                .set_dimensions(Some(dims))
                                .build(),
                        )
                        .stat(stat.stat.as_str())
                        .set_unit(stat.unit.clone())
                        .build()
                        .map_err(build_error(OP))?,
                )
            }
        };
        metrics.push(
            TargetTrackingMetricDataQuery::builder()
                .id(&q.id)
                .set_expression(q.expression.clone())
                .set_label(q.label.clone())
                .set_metric_stat(metric_stat)
                .return_data(q.return_data)
                .build()
                .map_err(build_error(OP))?,
        );
    }
    TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(config.target_value)
        .customized_metric_specification(
            CustomizedMetricSpecification::builder()
                .set_metrics(Some(metrics))
                .build(),
        )
        .scale_out_cooldown(secs_i32(config.scale_out_cooldown))
        .scale_in_cooldown(secs_i32(config.scale_in_cooldown))
        .disable_scale_in(config.disable_scale_in)
        .build()
        .map_err(build_error(OP))
}

/// Converts the SDK's target tracking configuration to core's. A policy on a predefined metric (not ours) comes back
/// with no metric queries, which never equals the canonical spec, so it is treated as drift and repaired.
pub fn from_sdk(config: &TargetTrackingScalingPolicyConfiguration) -> TargetTrackingConfig {
    let queries = config
        .customized_metric_specification()
        .map(|c| c.metrics())
        .unwrap_or_default();
    // Which entry returns data, whatever DescribeScalingPolicies echoes: the model documents an absent ReturnData
    // as true, and a specification with math as one entry true and every other false (botocore's
    // application-autoscaling model, TargetTrackingMetricDataQuery.ReturnData). Were AWS to leave out the explicit
    // `false`s we write, reading absent as true would see three returning entries, call it drift and rewrite the
    // policy on every run; so an absent value is false when another entry says true, and true otherwise.
    let any_explicit_true = queries.iter().any(|q| q.return_data() == Some(true));
    let metrics = queries
        .iter()
        .map(|q| MetricQuery {
            id: q.id().to_string(),
            expression: q.expression().map(str::to_string),
            label: q.label().map(str::to_string),
            metric_stat: q.metric_stat().map(|s| MetricStat {
                metric: Metric {
                    namespace: s
                        .metric()
                        .and_then(|m| m.namespace())
                        .unwrap_or_default()
                        .to_string(),
                    metric_name: s
                        .metric()
                        .and_then(|m| m.metric_name())
                        .unwrap_or_default()
                        .to_string(),
                    dimensions: s
                        .metric()
                        .map(|m| m.dimensions())
                        .unwrap_or_default()
                        .iter()
                        .map(|d| Dimension {
                            name: d.name().to_string(),
                            value: d.value().to_string(),
                        })
                        .collect(),
                },
                stat: policy::Statistic::from(s.stat().to_string()),
                period: None,
                unit: s.unit().map(str::to_string),
            }),
            return_data: q.return_data().unwrap_or(!any_explicit_true),
        })
        .collect();
    TargetTrackingConfig {
        target_value: config.target_value(),
        customized_metric_specification: policy::CustomizedMetricSpecification { metrics },
        scale_out_cooldown: config
            .scale_out_cooldown()
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(0),
        scale_in_cooldown: config
            .scale_in_cooldown()
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(0),
        disable_scale_in: config.disable_scale_in().unwrap_or(false),
    }
}

/// Registers (or updates) the scalable target.
pub async fn register_scalable_target(
    client: &aws_sdk_applicationautoscaling::Client,
    spec: &ScalableTargetSpec,
) -> Result<(), AwsError> {
    client
        .register_scalable_target()
        .service_namespace(ServiceNamespace::from(spec.service_namespace.as_str()))
        .resource_id(&spec.resource_id)
        .scalable_dimension(ScalableDimension::from(spec.scalable_dimension.as_str()))
        .min_capacity(i32::try_from(spec.min_capacity).unwrap_or(i32::MAX))
        .max_capacity(i32::try_from(spec.max_capacity).unwrap_or(i32::MAX))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("application-autoscaling:RegisterScalableTarget", e))?;
    Ok(())
}

/// The (min, max) capacity of the registered scalable target for `resource_id`, if registered.
pub async fn scalable_target_bounds(
    client: &aws_sdk_applicationautoscaling::Client,
    resource_id: &str,
) -> Result<Option<(i32, i32)>, AwsError> {
    let out = client
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_ids(resource_id)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("application-autoscaling:DescribeScalableTargets", e))?;
    Ok(out
        .scalable_targets()
        .iter()
        .find(|t| t.resource_id() == resource_id)
        .map(|t| (t.min_capacity(), t.max_capacity())))
}

/// Writes the target tracking policy; returns its ARN.
pub async fn put_target_tracking_policy(
    client: &aws_sdk_applicationautoscaling::Client,
    policy: &TargetTrackingPolicy,
) -> Result<String, AwsError> {
    const OP: &str = "application-autoscaling:PutScalingPolicy";
    let out = client
        .put_scaling_policy()
        .policy_name(&policy.policy_name)
        .service_namespace(ServiceNamespace::from(policy.service_namespace.as_str()))
        .resource_id(&policy.resource_id)
        .scalable_dimension(ScalableDimension::from(policy.scalable_dimension.as_str()))
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(to_sdk(
            &policy.target_tracking_scaling_policy_configuration,
        )?)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(OP, e))?;
    Ok(out.policy_arn().to_string())
}

/// Writes a step policy (the fast path, idle, the backstop); returns its ARN (for the alarm's action).
pub async fn put_step_policy(
    client: &aws_sdk_applicationautoscaling::Client,
    policy: &StepPolicy,
) -> Result<String, AwsError> {
    const OP: &str = "application-autoscaling:PutScalingPolicy";
    let c = &policy.step_scaling_policy_configuration;
    let mut steps = Vec::new();
    for s in &c.step_adjustments {
        steps.push(
            StepAdjustment::builder()
                .set_metric_interval_lower_bound(s.metric_interval_lower_bound)
                .set_metric_interval_upper_bound(s.metric_interval_upper_bound)
                .scaling_adjustment(s.scaling_adjustment)
                .build()
                .map_err(build_error(OP))?,
        );
    }
    let out = client
        .put_scaling_policy()
        .policy_name(&policy.policy_name)
        .service_namespace(ServiceNamespace::from(policy.service_namespace.as_str()))
        .resource_id(&policy.resource_id)
        .scalable_dimension(ScalableDimension::from(policy.scalable_dimension.as_str()))
        .policy_type(PolicyType::StepScaling)
        .step_scaling_policy_configuration(
            StepScalingPolicyConfiguration::builder()
                .adjustment_type(AdjustmentType::from(c.adjustment_type.as_str()))
                .set_min_adjustment_magnitude(c.min_adjustment_magnitude)
                .set_step_adjustments(Some(steps))
                .cooldown(secs_i32(c.cooldown))
                .metric_aggregation_type(MetricAggregationType::from(
                    c.metric_aggregation_type.as_str(),
                ))
                .build(),
        )
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(OP, e))?;
    Ok(out.policy_arn().to_string())
}

/// The target tracking configuration of the policy named `policy_name` on `resource_id`, or None if there is no
/// such target tracking policy.
pub async fn describe_target_tracking_policy(
    client: &aws_sdk_applicationautoscaling::Client,
    resource_id: &str,
    policy_name: &str,
) -> Result<Option<TargetTrackingConfig>, AwsError> {
    let out = client
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(resource_id)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .policy_names(policy_name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("application-autoscaling:DescribeScalingPolicies", e))?;
    Ok(out
        .scaling_policies()
        .iter()
        .find(|p| {
            p.policy_name() == policy_name
                && p.resource_id() == resource_id
                && p.policy_type() == &PolicyType::TargetTrackingScaling
        })
        .and_then(|p| p.target_tracking_scaling_policy_configuration())
        .map(from_sdk))
}

/// The names of the scaling policies on `resource_id`.
pub async fn policy_names(
    client: &aws_sdk_applicationautoscaling::Client,
    resource_id: &str,
) -> Result<Vec<String>, AwsError> {
    let out = client
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(resource_id)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("application-autoscaling:DescribeScalingPolicies", e))?;
    Ok(out
        .scaling_policies()
        .iter()
        .filter(|p| p.resource_id() == resource_id)
        .map(|p| p.policy_name().to_string())
        .collect())
}

/// Deregisters the scalable target of `resource_id` (which also deletes its policies). Missing is not an error.
pub async fn deregister_scalable_target(
    client: &aws_sdk_applicationautoscaling::Client,
    resource_id: &str,
) -> Result<(), AwsError> {
    let result = client
        .deregister_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(resource_id)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .send()
        .await;
    result
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("application-autoscaling:DeregisterScalableTarget", e))
        .or_else(AwsError::ignore_not_found)
}

/// Deletes a scaling policy by name and resource id (missing is not an error).
pub async fn delete_policy(
    client: &aws_sdk_applicationautoscaling::Client,
    resource_id: &str,
    policy_name: &str,
) -> Result<(), AwsError> {
    let result = client
        .delete_scaling_policy()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(resource_id)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .policy_name(policy_name)
        .send()
        .await;
    result
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("application-autoscaling:DeleteScalingPolicy", e))
        .or_else(AwsError::ignore_not_found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpi_core::policy::{PolicySettings, target_tracking_config};

    fn settings() -> PolicySettings {
        PolicySettings {
            policy_name: "p".into(),
            counting: bpi_core::BacklogCounting::default(),
            min_capacity: 0,
            utilization: None,
            idle_minutes: 0,
            scale_in_window_minutes: 0,
            ..PolicySettings::for_service("c", "s", "q")
        }
    }

    #[test]
    fn sdk_conversion_round_trips_the_canonical_spec() {
        let settings = settings();
        let spec = target_tracking_config(&settings, 12.0);
        let back = from_sdk(&to_sdk(&spec).expect("valid"));
        assert_eq!(back, spec);
    }

    /// The canonical spec as DescribeScalingPolicies might echo it, with the ReturnData of the entries for which
    /// `keep` is false left out.
    fn echoed(keep: impl Fn(bool) -> bool) -> (TargetTrackingConfig, TargetTrackingConfig) {
        let settings = settings();
        let spec = target_tracking_config(&settings, 12.0);
        let sdk = to_sdk(&spec).expect("valid");
        let queries: Vec<TargetTrackingMetricDataQuery> = sdk
            .customized_metric_specification()
            .expect("customized")
            .metrics()
            .iter()
            .map(|q| {
                let returns = q.return_data().unwrap_or(true);
                TargetTrackingMetricDataQuery::builder()
                    .id(q.id())
                    .set_expression(q.expression().map(str::to_string))
                    .set_label(q.label().map(str::to_string))
                    .set_metric_stat(q.metric_stat().cloned())
                    .set_return_data(keep(returns).then_some(returns))
                    .build()
                    .expect("valid")
            })
            .collect();
        let echoed = TargetTrackingScalingPolicyConfiguration::builder()
            .target_value(sdk.target_value())
            .customized_metric_specification(
                CustomizedMetricSpecification::builder()
                    .set_metrics(Some(queries))
                    .build(),
            )
            .set_scale_out_cooldown(sdk.scale_out_cooldown())
            .set_scale_in_cooldown(sdk.scale_in_cooldown())
            .set_disable_scale_in(sdk.disable_scale_in())
            .build()
            .expect("valid");
        (from_sdk(&echoed), spec)
    }

    #[test]
    fn an_echo_without_explicit_return_data_is_not_drift() {
        // Every ReturnData echoed, the `false`s left out, or the `true` left out: the same policy each time.
        for keep in [
            (|_| true) as fn(bool) -> bool,
            |returns| returns,
            |returns| !returns,
        ] {
            let (back, spec) = echoed(keep);
            assert_eq!(back, spec);
        }
    }
}
