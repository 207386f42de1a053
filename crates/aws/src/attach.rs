//! Application Auto Scaling and CloudWatch as `bpi attach` and `bpi detach` need them: a service's whole scaling
//! read into core's [`bpi_core::attach`] types, and the parts of it put back.

use aws_sdk_applicationautoscaling::types::{
    CustomizedMetricSpecification, MetricDimension, MetricStatistic, MetricType, PolicyType,
    PredefinedMetricSpecification, ScalableDimension, ServiceNamespace, SuspendedState,
    TargetTrackingScalingPolicyConfiguration,
};
use bpi_core::attach::{
    FoundPolicy, FoundScheduledAction, SavedMetric, SavedTarget, SavedTargetTracking, ScalingState,
};

use crate::error::AwsError;

/// The scaling of `resource_id`: its scalable target, every scaling policy (those named in `own` marked as this
/// project's; a step policy with the alarms whose actions invoke it) and every scheduled action, following
/// NextToken.
pub async fn scaling_state(
    client: &aws_sdk_applicationautoscaling::Client,
    cloudwatch: &aws_sdk_cloudwatch::Client,
    resource_id: &str,
    own: &[String],
) -> Result<ScalingState, AwsError> {
    let targets = client
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_ids(resource_id)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("application-autoscaling:DescribeScalableTargets", e))?;
    let target = targets
        .scalable_targets()
        .iter()
        .find(|t| t.resource_id() == resource_id)
        .map(|t| {
            let s = t.suspended_state();
            SavedTarget {
                min_capacity: t.min_capacity(),
                max_capacity: t.max_capacity(),
                dynamic_scaling_in_suspended: s
                    .and_then(SuspendedState::dynamic_scaling_in_suspended)
                    .unwrap_or(false),
                dynamic_scaling_out_suspended: s
                    .and_then(SuspendedState::dynamic_scaling_out_suspended)
                    .unwrap_or(false),
                scheduled_scaling_suspended: s
                    .and_then(SuspendedState::scheduled_scaling_suspended)
                    .unwrap_or(false),
            }
        });

    let mut policies = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let out = client
            .describe_scaling_policies()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(resource_id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("application-autoscaling:DescribeScalingPolicies", e)
            })?;
        for p in out.scaling_policies() {
            let name = p.policy_name().to_string();
            policies.push(if own.contains(&name) {
                FoundPolicy::Own { policy_name: name }
            } else {
                match p.policy_type() {
                    PolicyType::TargetTrackingScaling => {
                        match p.target_tracking_scaling_policy_configuration().map(saved) {
                            Some(Ok(mut t)) => {
                                t.policy_name = name;
                                FoundPolicy::TargetTracking(t)
                            }
                            Some(Err(reason)) => FoundPolicy::Unsupported {
                                policy_name: name,
                                reason,
                            },
                            None => FoundPolicy::Unsupported {
                                policy_name: name,
                                reason: "target tracking without a configuration".to_string(),
                            },
                        }
                    }
                    PolicyType::StepScaling => {
                        let mut alarms: Vec<String> = p
                            .alarms()
                            .iter()
                            .map(|a| a.alarm_name().to_string())
                            .collect();
                        alarms.extend(alarms_invoking(cloudwatch, p.policy_arn()).await?);
                        alarms.sort();
                        alarms.dedup();
                        FoundPolicy::Step {
                            policy_name: name,
                            alarms,
                        }
                    }
                    PolicyType::PredictiveScaling => FoundPolicy::Predictive { policy_name: name },
                    other => FoundPolicy::Unsupported {
                        policy_name: name,
                        reason: format!("policy type {}", other.as_str()),
                    },
                }
            });
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => break,
        }
    }

    let mut scheduled_actions: Vec<FoundScheduledAction> =
        crate::scheduled::describe_all(client, resource_id)
            .await?
            .iter()
            .map(|a| {
                let action = a.scalable_target_action();
                FoundScheduledAction {
                    name: a.scheduled_action_name().to_string(),
                    schedule: a.schedule().to_string(),
                    min_capacity: action.and_then(|t| t.min_capacity()),
                    max_capacity: action.and_then(|t| t.max_capacity()),
                }
            })
            .collect();
    policies.sort_by(|a, b| a.name().cmp(b.name()));
    scheduled_actions.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(ScalingState {
        resource_id: resource_id.to_string(),
        target,
        policies,
        scheduled_actions,
    })
}

/// The alarms whose actions include `action_arn` (DescribeAlarms' ActionPrefix), following NextToken. A step
/// policy's own `Alarms` field lists them too on AWS; the emulator leaves it empty.
async fn alarms_invoking(
    client: &aws_sdk_cloudwatch::Client,
    action_arn: &str,
) -> Result<Vec<String>, AwsError> {
    let mut names = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let out = client
            .describe_alarms()
            .action_prefix(action_arn)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudwatch:DescribeAlarms", e))?;
        names.extend(
            out.metric_alarms()
                .iter()
                .filter(|a| a.alarm_actions().iter().any(|x| x == action_arn))
                .filter_map(|a| a.alarm_name().map(str::to_string)),
        );
        match out.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(names)
}

/// A target tracking configuration saved whole, or why it cannot be.
fn saved(c: &TargetTrackingScalingPolicyConfiguration) -> Result<SavedTargetTracking, String> {
    let metric = if let Some(p) = c.predefined_metric_specification() {
        SavedMetric::Predefined {
            metric_type: p.predefined_metric_type().as_str().to_string(),
            resource_label: p.resource_label().map(str::to_string),
        }
    } else if let Some(m) = c.customized_metric_specification() {
        if !m.metrics().is_empty() {
            return Err("target tracking on metric math".to_string());
        }
        SavedMetric::Customized {
            namespace: m.namespace().unwrap_or_default().to_string(),
            metric_name: m.metric_name().unwrap_or_default().to_string(),
            dimensions: m
                .dimensions()
                .iter()
                .map(|d| (d.name().to_string(), d.value().to_string()))
                .collect(),
            statistic: m
                .statistic()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            unit: m.unit().map(str::to_string),
        }
    } else {
        return Err("target tracking without a metric".to_string());
    };
    Ok(SavedTargetTracking {
        policy_name: String::new(),
        target_value: c.target_value(),
        metric,
        scale_out_cooldown: c.scale_out_cooldown(),
        scale_in_cooldown: c.scale_in_cooldown(),
        disable_scale_in: c.disable_scale_in(),
    })
}

/// Puts a saved target tracking policy back on `resource_id` (AWS recreates its alarms).
pub async fn put_saved_target_tracking(
    client: &aws_sdk_applicationautoscaling::Client,
    resource_id: &str,
    t: &SavedTargetTracking,
) -> Result<(), AwsError> {
    let mut config = TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(t.target_value)
        .set_scale_out_cooldown(t.scale_out_cooldown)
        .set_scale_in_cooldown(t.scale_in_cooldown)
        .set_disable_scale_in(t.disable_scale_in);
    config = match &t.metric {
        SavedMetric::Predefined {
            metric_type,
            resource_label,
        } => config.predefined_metric_specification(
            PredefinedMetricSpecification::builder()
                .predefined_metric_type(MetricType::from(metric_type.as_str()))
                .set_resource_label(resource_label.clone())
                .build()
                .map_err(|e| {
                    AwsError::other("application-autoscaling:PutScalingPolicy", e.to_string())
                })?,
        ),
        SavedMetric::Customized {
            namespace,
            metric_name,
            dimensions,
            statistic,
            unit,
        } => config.customized_metric_specification(
            CustomizedMetricSpecification::builder()
                .namespace(namespace)
                .metric_name(metric_name)
                .set_dimensions(Some(
                    dimensions
                        .iter()
                        .filter_map(|(n, v)| {
                            MetricDimension::builder().name(n).value(v).build().ok()
                        })
                        .collect(),
                ))
                .statistic(MetricStatistic::from(statistic.as_str()))
                .set_unit(unit.clone())
                .build(),
        ),
    };
    let config = config
        .build()
        .map_err(|e| AwsError::other("application-autoscaling:PutScalingPolicy", e.to_string()))?;
    client
        .put_scaling_policy()
        .policy_name(&t.policy_name)
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(resource_id)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(config)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("application-autoscaling:PutScalingPolicy", e))?;
    Ok(())
}

/// Registers `resource_id`'s scalable target with saved bounds and suspended state.
pub async fn register_saved_target(
    client: &aws_sdk_applicationautoscaling::Client,
    resource_id: &str,
    t: &SavedTarget,
) -> Result<(), AwsError> {
    client
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(resource_id)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .min_capacity(t.min_capacity)
        .max_capacity(t.max_capacity)
        .suspended_state(
            SuspendedState::builder()
                .dynamic_scaling_in_suspended(t.dynamic_scaling_in_suspended)
                .dynamic_scaling_out_suspended(t.dynamic_scaling_out_suspended)
                .scheduled_scaling_suspended(t.scheduled_scaling_suspended)
                .build(),
        )
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("application-autoscaling:RegisterScalableTarget", e))?;
    Ok(())
}

/// Of the alarms `names`, those whose actions are enabled.
pub async fn alarms_with_actions_enabled(
    client: &aws_sdk_cloudwatch::Client,
    names: &[String],
) -> Result<Vec<String>, AwsError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut enabled = Vec::new();
    for chunk in names.chunks(100) {
        let out = client
            .describe_alarms()
            .set_alarm_names(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudwatch:DescribeAlarms", e))?;
        enabled.extend(
            out.metric_alarms()
                .iter()
                .filter(|a| a.actions_enabled().unwrap_or(true))
                .filter_map(|a| a.alarm_name().map(str::to_string)),
        );
    }
    enabled.sort();
    Ok(enabled)
}

/// Enables or disables the actions of the alarms `names`.
pub async fn set_alarm_actions(
    client: &aws_sdk_cloudwatch::Client,
    names: &[String],
    enabled: bool,
) -> Result<(), AwsError> {
    if names.is_empty() {
        return Ok(());
    }
    if enabled {
        client
            .enable_alarm_actions()
            .set_alarm_names(Some(names.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudwatch:EnableAlarmActions", e))?;
    } else {
        client
            .disable_alarm_actions()
            .set_alarm_names(Some(names.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudwatch:DisableAlarmActions", e))?;
    }
    Ok(())
}
