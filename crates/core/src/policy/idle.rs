//! The idle policy: an empty queue for its minutes sets the fleet to its minimum in one action.

use super::*;
use crate::sampler;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::build::fixtures::{settings, with_extras};

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
}
