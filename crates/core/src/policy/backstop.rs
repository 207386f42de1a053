//! What covers a sampler that stopped: the backstop on SQS's own metrics, and the alarm that says so.

use super::*;
use crate::sampler;

/// Cooldown of the backstop, seconds: a doubling every 2 minutes while the sampler is silent and messages wait.
pub const BACKSTOP_COOLDOWN_SECS: u32 = 120;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::build::fixtures::{metric_names, settings};

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
}
