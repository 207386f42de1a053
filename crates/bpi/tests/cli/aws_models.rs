//! Every request the scaling set-up sends, checked against AWS's own request models (botocore's, in the project's
//! virtualenv) and against the limits AWS documents but the models cannot say. moto accepts what AWS refuses (it
//! ignores periods, alarm math and step intervals), so these checks are what stands between a green test run and a
//! PutMetricAlarm that AWS rejects on the first deploy.

use bpi_core::policy::{
    AlarmSpec, PolicySettings, ScalingSpec, StepPolicy, UtilizationSettings, scaling_spec,
};
use bpi_testkit::service_model::ServiceModel;
use serde_json::{Value, json};

fn settings(
    min_capacity: u32,
    max_capacity: u32,
    utilization: bool,
    idle_minutes: u32,
    scale_in_window_minutes: u32,
) -> PolicySettings {
    PolicySettings {
        min_capacity,
        max_capacity,
        utilization: utilization.then_some(UtilizationSettings {
            concurrency: 4,
            target_pct: 90,
        }),
        idle_minutes,
        scale_in_window_minutes,
        signal: bpi_core::policy::SignalMetrics::for_queue("ECS-SQS-BPI", "Single-Queue", "q"),
        ..PolicySettings::for_service("cluster", "service", "queue")
    }
}

/// Every shape of set-up the settings can produce.
fn specs() -> Vec<ScalingSpec> {
    let mut out = Vec::new();
    for (min, max) in [(0, 10), (1, 10), (0, 100), (2, 500)] {
        for utilization in [false, true] {
            for (idle, window) in [(0, 0), (3, 2), (60, 15)] {
                for target in [1.0, 12.0, 10_000.0] {
                    out.push(scaling_spec(
                        &settings(min, max, utilization, idle, window),
                        target,
                    ));
                }
            }
        }
    }
    out
}

fn json_of(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).expect("serialises")
}

/// The PutMetricAlarm request `bpi scaling apply` sends: the spec plus the policy ARN as its action.
fn alarm_request(alarm: &AlarmSpec) -> Value {
    let mut request = json_of(alarm);
    request["AlarmActions"] = json!([
        "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:5a3b1c2d-aaaa-4bbb-8ccc-dddddddddddd:resource/ecs/service/cluster/service:policyName/p"
    ]);
    request
}

fn step_policies(spec: &ScalingSpec) -> Vec<(&StepPolicy, &AlarmSpec)> {
    std::iter::once(&spec.fast_path)
        .chain(spec.idle.iter())
        .chain(spec.scale_in.iter())
        .chain(std::iter::once(&spec.backstop))
        .map(|a| (&a.policy, &a.alarm))
        .collect()
}

#[test]
fn every_scaling_request_fits_the_aws_request_models() {
    let scaling = ServiceModel::load("application-autoscaling");
    let cloudwatch = ServiceModel::load("cloudwatch");
    let mut errors = Vec::new();
    for spec in specs() {
        errors.extend(scaling.check("RegisterScalableTarget", &json_of(&spec.scalable_target)));
        errors.extend(scaling.check("PutScalingPolicy", &json_of(&spec.target_tracking)));
        if let Some(u) = &spec.utilization {
            errors.extend(scaling.check("PutScalingPolicy", &json_of(u)));
        }
        for (policy, alarm) in step_policies(&spec) {
            errors.extend(scaling.check("PutScalingPolicy", &json_of(policy)));
            errors.extend(cloudwatch.check("PutMetricAlarm", &alarm_request(alarm)));
        }
    }
    // The sampler-stopped alarm bpi attach writes.
    let stopped = bpi_core::policy::sampler_stopped_alarm(&settings(1, 10, true, 3, 2));
    errors.extend(cloudwatch.check("PutMetricAlarm", &alarm_request(&stopped)));
    errors.sort();
    errors.dedup();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn the_models_catch_what_they_should() {
    // The checker itself: each of these is refused by AWS and must be named.
    let scaling = ServiceModel::load("application-autoscaling");
    let cloudwatch = ServiceModel::load("cloudwatch");
    let spec = scaling_spec(&settings(0, 10, true, 3, 2), 12.0);
    let mut bad = json_of(&spec.target_tracking);
    bad["TargetTrackingScalingPolicyConfiguration"]["CustomizedMetricSpecification"]["Metrics"]
        [0]["MetricStat"]["Period"] = json!(60);
    assert!(
        scaling
            .check("PutScalingPolicy", &bad)
            .iter()
            .any(|e| e.contains("no member Period")),
        "target tracking takes no Period"
    );
    let activation = &spec.fast_path;
    let mut bad = json_of(&activation.policy);
    bad["StepScalingPolicyConfiguration"]["AdjustmentType"] = json!("Exact");
    assert!(!scaling.check("PutScalingPolicy", &bad).is_empty());
    let mut bad = alarm_request(&activation.alarm);
    bad["EvaluationPeriods"] = json!(0);
    bad["ComparisonOperator"] = json!("GreaterThan");
    assert_eq!(cloudwatch.check("PutMetricAlarm", &bad).len(), 2);
}

#[test]
fn alarms_and_steps_keep_the_limits_aws_documents() {
    for spec in specs() {
        for (policy, alarm) in step_policies(&spec) {
            let name = &alarm.alarm_name;
            // PutMetricAlarm: one query returns data; at most 10 metrics and 10 expressions (MetricDataQuery doc).
            let returning = alarm.metrics.iter().filter(|q| q.return_data).count();
            assert_eq!(returning, 1, "{name}: exactly one query returns data");
            let stats = alarm
                .metrics
                .iter()
                .filter(|q| q.metric_stat.is_some())
                .count();
            assert!(stats <= 10 && alarm.metrics.len() - stats <= 10, "{name}");
            // Periods: 10, 30 or a multiple of 60 (PutMetricAlarm, Period); evaluation at most one day.
            for q in &alarm.metrics {
                if let Some(period) = q.metric_stat.as_ref().and_then(|s| s.period) {
                    assert!(
                        period == 10 || period == 30 || period % 60 == 0,
                        "{name}: period {period}"
                    );
                    assert!(period * alarm.evaluation_periods <= 86_400, "{name}");
                } else {
                    assert!(
                        q.expression.is_some(),
                        "{name}: a metric query needs its period"
                    );
                }
            }
            assert!(
                alarm.datapoints_to_alarm <= alarm.evaluation_periods,
                "{name}"
            );
            // Step scaling: at most 20 adjustments (Application Auto Scaling quotas), contiguous, not overlapping.
            let steps = &policy.step_scaling_policy_configuration.step_adjustments;
            assert!(
                !steps.is_empty() && steps.len() <= 20,
                "{name}: {} steps",
                steps.len()
            );
            for pair in steps.windows(2) {
                assert_eq!(
                    pair[0].metric_interval_upper_bound, pair[1].metric_interval_lower_bound,
                    "{name}: steps must meet"
                );
            }
            // StepAdjustment's rules (API reference): at most one null lower and one null upper bound, never both
            // on one step; a negative lower bound needs a null lower bound somewhere, a positive upper bound a null
            // upper bound.
            let lower_nulls = steps
                .iter()
                .filter(|s| s.metric_interval_lower_bound.is_none())
                .count();
            let upper_nulls = steps
                .iter()
                .filter(|s| s.metric_interval_upper_bound.is_none())
                .count();
            assert!(lower_nulls <= 1 && upper_nulls <= 1, "{name}");
            assert!(
                steps.iter().all(|s| s.metric_interval_lower_bound.is_some()
                    || s.metric_interval_upper_bound.is_some()),
                "{name}"
            );
            if steps
                .iter()
                .any(|s| s.metric_interval_lower_bound.is_some_and(|l| l < 0.0))
            {
                assert_eq!(
                    lower_nulls, 1,
                    "{name}: a negative lower bound needs a null one"
                );
            }
            if steps
                .iter()
                .any(|s| s.metric_interval_upper_bound.is_some_and(|u| u > 0.0))
            {
                assert_eq!(
                    upper_nulls, 1,
                    "{name}: a positive upper bound needs a null one"
                );
            }
            // Every breach of the alarm falls in a step: above the threshold from 0 up, below it up to 0.
            let above = matches!(
                alarm.comparison_operator.as_str(),
                "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold"
            );
            if above {
                assert_eq!(steps[0].metric_interval_lower_bound, Some(0.0), "{name}");
                assert_eq!(
                    steps.last().and_then(|s| s.metric_interval_upper_bound),
                    None,
                    "{name}"
                );
            } else {
                assert_eq!(steps[0].metric_interval_lower_bound, None, "{name}");
                assert_eq!(
                    steps.last().and_then(|s| s.metric_interval_upper_bound),
                    Some(0.0),
                    "{name}"
                );
            }
        }
    }
}

#[test]
fn the_forecasters_scheduled_action_requests_fit_the_aws_request_models() {
    use bpi_core::forecast::{
        DeleteScheduledActionRequest, Recurrence, ScheduledActionSpec, Slots, parse_cron,
    };
    let scaling = ServiceModel::load("application-autoscaling");
    let resource_id = "service/cluster/service";
    let hours = Slots::ALL_HOURS;
    for r in [
        Recurrence::Daily {
            minute_of_day: 133,
            weekdays: Slots::ALL_WEEKDAYS,
        },
        Recurrence::Hourly { minute: 58, hours },
    ] {
        for name in ["bpi-forecast-daily-1-raise", "bpi-forecast-hourly-12-lower"] {
            let spec = ScheduledActionSpec {
                name: name.into(),
                recurrence: r,
                min_capacity: 40,
            };
            let request = json_of(&spec.request(resource_id));
            let errors = scaling.check("PutScheduledAction", &request);
            assert!(errors.is_empty(), "{}", errors.join("\n"));
            // Day-of-month and day-of-week: one of them is `?` (AAS user guide, scheduled scaling, cron).
            let schedule = spec.schedule();
            let fields: Vec<&str> = schedule
                .trim_start_matches("cron(")
                .trim_end_matches(')')
                .split(' ')
                .collect();
            assert_eq!(fields.len(), 6, "{schedule}");
            assert!(fields[2] == "?" || fields[4] == "?", "{schedule}");
            assert_eq!(parse_cron(&schedule), Some(r));
            let delete = json_of(&DeleteScheduledActionRequest::new(resource_id, name));
            let errors = scaling.check("DeleteScheduledAction", &delete);
            assert!(errors.is_empty(), "{}", errors.join("\n"));
        }
    }
    // The one-time raise (`at(...)`, AAS user guide, scheduled scaling).
    let once = ScheduledActionSpec {
        name: "bpi-forecast-hourly-1-now".into(),
        recurrence: Recurrence::Once {
            epoch_minute: 29_892_960 + 123,
        },
        min_capacity: 17,
    };
    assert_eq!(once.schedule(), "at(2026-11-02T02:03:00)");
    assert!(
        scaling
            .check("PutScheduledAction", &json_of(&once.request(resource_id)))
            .is_empty()
    );
    // The describe call the adapter makes (bpi_aws::scheduled::scheduled_actions).
    let describe = json!({
        "ServiceNamespace": "ecs",
        "ResourceId": resource_id,
        "ScalableDimension": "ecs:service:DesiredCount",
    });
    assert!(
        scaling
            .check("DescribeScheduledActions", &describe)
            .is_empty()
    );
    // The model's name pattern forbids ':', '/', '|' and control characters (a lookahead the checker does not
    // evaluate): the names the forecaster writes hold none. And the checker catches a name AWS refuses by length.
    for name in ["bpi-forecast-daily-1-raise", "bpi-forecast-hourly-12-lower"] {
        assert!(!name.contains([':', '/', '|']) && !name.chars().any(char::is_control));
    }
    let bad = ScheduledActionSpec {
        name: "x".repeat(257),
        recurrence: Recurrence::Daily {
            minute_of_day: 0,
            weekdays: Slots::ALL_WEEKDAYS,
        },
        min_capacity: 1,
    };
    assert!(
        !scaling
            .check("PutScheduledAction", &json_of(&bad.request(resource_id)))
            .is_empty()
    );
}
