//! The fast path: a 10-second alarm on the tasks the backlog needs, setting them at once (from zero too).

use super::*;
use crate::sampler;

/// Cooldown of the fast path, seconds: one more action can follow a reading that still shows the old desired count.
pub const FAST_PATH_COOLDOWN_SECS: u32 = 30;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::build::fixtures::settings;

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
