//! What a step scaling policy does when its alarm is in ALARM: the step whose interval holds the alarm's value
//! minus its threshold, and the capacity that step sets (Application Auto Scaling API reference, `StepAdjustment`
//! and `StepScalingPolicyConfiguration`).

use super::evaluation::{AlarmState, Datapoints};
use super::metric_math::ParseError;
use crate::policy::{AdjustmentType, StepAdjustment, StepPolicySpec, StepScalingConfig};

impl StepAdjustment {
    /// Whether the step's interval holds `breach` (the alarm's value minus its threshold). Above the threshold the
    /// lower bound is inclusive and the upper exclusive; below it, the lower bound is exclusive and the upper
    /// inclusive (the API reference's `MetricIntervalLowerBound` and `MetricIntervalUpperBound`); a missing bound
    /// is infinite.
    pub fn holds(&self, breach: f64) -> bool {
        let above = breach >= 0.0;
        let lower_ok = self
            .metric_interval_lower_bound
            .is_none_or(|l| if above { breach >= l } else { breach > l });
        let upper_ok = self
            .metric_interval_upper_bound
            .is_none_or(|u| if above { breach < u } else { breach <= u });
        lower_ok && upper_ok
    }
}

impl StepScalingConfig {
    /// The step for `breach`, if any step holds it.
    pub fn step_for(&self, breach: f64) -> Option<&StepAdjustment> {
        self.step_adjustments.iter().find(|s| s.holds(breach))
    }

    /// The capacity `step` sets from `current`, within `min..=max`. A percentage is rounded as the Auto Scaling
    /// user guide's step adjustments describe: a change between 0 and 1 task (either way) becomes one task, a larger
    /// one is rounded towards zero; `MinAdjustmentMagnitude` raises a smaller change to it.
    pub fn apply(&self, step: &StepAdjustment, current: u32, min: u32, max: u32) -> u32 {
        let current_f = f64::from(current);
        let target = match self.adjustment_type {
            AdjustmentType::ExactCapacity => f64::from(step.scaling_adjustment),
            AdjustmentType::ChangeInCapacity => current_f + f64::from(step.scaling_adjustment),
            AdjustmentType::PercentChangeInCapacity => {
                let change = current_f * f64::from(step.scaling_adjustment) / 100.0;
                let mut whole = if change > 0.0 && change < 1.0 {
                    1.0
                } else if change < 0.0 && change > -1.0 {
                    -1.0
                } else {
                    change.trunc()
                };
                if let Some(magnitude) = self.min_adjustment_magnitude {
                    let magnitude = f64::from(magnitude);
                    if whole.abs() < magnitude {
                        whole = if step.scaling_adjustment < 0 {
                            -magnitude
                        } else {
                            magnitude
                        };
                    }
                }
                current_f + whole
            }
        };
        (target.max(0.0) as u32).clamp(min, max.max(min))
    }
}

/// What a step policy asks for at one evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepDecision {
    /// The alarm's state.
    pub alarm: AlarmState,
    /// The capacity the step sets, when the alarm is in ALARM and a step holds its value.
    pub capacity: Option<u32>,
}

impl StepPolicySpec {
    /// Evaluates the alarm at `end_ms` over `data` and, in ALARM, the capacity its step sets from `current`
    /// within `min..=max` (the step sized from the alarm's newest datapoint). Cooldowns are the caller's: they are
    /// Application Auto Scaling's state, not the policy's.
    pub fn decide(
        &self,
        data: &dyn Datapoints,
        end_ms: u64,
        current: u32,
        min: u32,
        max: u32,
    ) -> Result<StepDecision, ParseError> {
        let alarm = self.alarm.evaluate(data, end_ms)?;
        let config = &self.policy.step_scaling_policy_configuration;
        let capacity = match (alarm.in_alarm, alarm.newest) {
            (true, Some(value)) => config
                .step_for(value - self.alarm.threshold)
                .map(|step| config.apply(step, current, min, max)),
            _ => None,
        };
        Ok(StepDecision { alarm, capacity })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::MetricAggregation;

    fn step(lower: Option<f64>, upper: Option<f64>, adjustment: i32) -> StepAdjustment {
        StepAdjustment {
            metric_interval_lower_bound: lower,
            metric_interval_upper_bound: upper,
            scaling_adjustment: adjustment,
        }
    }

    fn config(adjustment_type: AdjustmentType, steps: Vec<StepAdjustment>) -> StepScalingConfig {
        StepScalingConfig {
            adjustment_type,
            step_adjustments: steps,
            min_adjustment_magnitude: None,
            cooldown: 60,
            metric_aggregation_type: MetricAggregation::Maximum,
        }
    }

    #[test]
    fn bounds_follow_the_api_reference_on_either_side_of_the_threshold() {
        // Threshold 50: [0, 10) above it is 50 <= v < 60; (-10, 0] below it is 40 < v <= 50.
        let above = step(Some(0.0), Some(10.0), 1);
        assert!(above.holds(0.0) && above.holds(9.9) && !above.holds(10.0));
        let below = step(Some(-10.0), Some(0.0), 1);
        assert!(below.holds(-0.5) && below.holds(-9.9) && !below.holds(-10.0));
        assert!(step(None, Some(-10.0), 1).holds(-1e9));
    }

    #[test]
    fn adjustments_set_change_or_scale_by_a_percentage_within_the_bounds() {
        let exact = config(
            AdjustmentType::ExactCapacity,
            vec![step(Some(0.0), None, 7)],
        );
        assert_eq!(
            exact.apply(&exact.step_adjustments[0], 2, 1, 5),
            5,
            "at most the maximum"
        );
        let change = config(
            AdjustmentType::ChangeInCapacity,
            vec![step(Some(0.0), None, -3)],
        );
        assert_eq!(
            change.apply(&change.step_adjustments[0], 2, 1, 10),
            1,
            "at least the minimum"
        );
        // The backstop's doubling: 100% of 0 tasks is no change, raised to one task by the magnitude.
        let double = StepScalingConfig {
            min_adjustment_magnitude: Some(1),
            ..config(
                AdjustmentType::PercentChangeInCapacity,
                vec![step(Some(0.0), None, 100)],
            )
        };
        let s = &double.step_adjustments[0];
        assert_eq!(double.apply(s, 0, 0, 60), 1);
        assert_eq!(double.apply(s, 3, 0, 60), 6);
        // 50% of 3 is 1.5 tasks: rounded towards zero.
        let half = config(
            AdjustmentType::PercentChangeInCapacity,
            vec![step(Some(0.0), None, 50)],
        );
        assert_eq!(half.apply(&half.step_adjustments[0], 3, 0, 60), 4);
    }
}
