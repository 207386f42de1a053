//! Whether the updater should write the scaling policy, and why.
//!
//! Writing a policy recreates its CloudWatch alarms, resetting their history, so small moves of the target are not
//! worth a write: the target changes only when it moves by at least a hysteresis. A missing policy, or one whose
//! metric or cooldowns differ from the canonical spec (drift, e.g. the blueprint's wrong service name, bug 1, or an
//! edit by hand), is always written, so the policy heals itself.

use serde::Serialize;

use crate::policy::TargetTrackingConfig;

/// Default hysteresis: the target is rewritten when it moves by at least 10%.
pub const DEFAULT_HYSTERESIS: f64 = 0.10;

/// Why the updater writes, or does not write, the policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum UpdateReason {
    /// No policy of that name exists on the service: create it.
    PolicyMissing,
    /// The policy's metric, cooldowns or scale-in setting differ from the canonical spec: repair it.
    Drift,
    /// The target moved by at least the hysteresis.
    TargetMoved {
        /// Relative change, |new − old| / old.
        change: f64,
    },
    /// The target moved by less than the hysteresis (or not at all).
    WithinHysteresis {
        /// Relative change, |new − old| / old.
        change: f64,
    },
}

impl std::fmt::Display for UpdateReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpdateReason::PolicyMissing => f.write_str("policy missing: creating it"),
            UpdateReason::Drift => {
                f.write_str("policy differs from the canonical spec: repairing it")
            }
            UpdateReason::TargetMoved { change } => {
                write!(f, "target moved by {:.1}%", change * 100.0)
            }
            UpdateReason::WithinHysteresis { change } => {
                write!(
                    f,
                    "target moved by {:.1}%, within hysteresis",
                    change * 100.0
                )
            }
        }
    }
}

/// The decision: write or not, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateDecision {
    /// Whether to call PutScalingPolicy.
    pub write: bool,
    /// Why.
    pub reason: UpdateReason,
}

/// Decides whether to write `desired` given the `current` policy configuration (None when there is none).
///
/// `hysteresis` is a fraction (0.10 = 10%); a change of exactly the hysteresis writes.
pub fn decide_update(
    current: Option<&TargetTrackingConfig>,
    desired: &TargetTrackingConfig,
    hysteresis: f64,
) -> UpdateDecision {
    let Some(current) = current else {
        return UpdateDecision {
            write: true,
            reason: UpdateReason::PolicyMissing,
        };
    };
    if !current.same_except_target(desired) {
        return UpdateDecision {
            write: true,
            reason: UpdateReason::Drift,
        };
    }
    let old = current.target_value;
    let new = desired.target_value;
    let change = if old > 0.0 && old.is_finite() {
        (new - old).abs() / old
    } else {
        // A current target of 0, negative or NaN is itself broken: treat as an unbounded move.
        f64::INFINITY
    };
    // Relative tolerance so that 12 → 10.8 (exactly 10%) counts as 10% despite float rounding.
    if change + 1e-12 >= hysteresis {
        UpdateDecision {
            write: true,
            reason: UpdateReason::TargetMoved { change },
        }
    } else {
        UpdateDecision {
            write: false,
            reason: UpdateReason::WithinHysteresis { change },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backlog::BacklogCounting;
    use crate::policy::{PolicySettings, target_tracking_config};

    fn settings(queue: &str) -> PolicySettings {
        PolicySettings {
            policy_name: "p".into(),
            counting: BacklogCounting::default(),
            utilization: None,
            idle_minutes: 0,
            scale_in_window_minutes: 0,
            signal: crate::policy::SignalMetrics::for_queue("ECS-SQS-BPI", "Single-Queue", queue),
            ..PolicySettings::for_service("c", "s", "q")
        }
    }

    fn config(target: f64) -> TargetTrackingConfig {
        target_tracking_config(&settings("q"), target)
    }

    #[test]
    fn missing_policy_is_written() {
        let d = decide_update(None, &config(12.0), DEFAULT_HYSTERESIS);
        assert_eq!(
            d,
            UpdateDecision {
                write: true,
                reason: UpdateReason::PolicyMissing
            }
        );
    }

    #[test]
    fn drift_is_repaired_even_at_the_same_target() {
        // The blueprint's bug 1, in this set-up's terms: a policy reading another queue's metrics.
        let wrong = target_tracking_config(&settings("ecsdemo-queue-proc3"), 12.0);
        let d = decide_update(Some(&wrong), &config(12.0), DEFAULT_HYSTERESIS);
        assert_eq!(d.reason, UpdateReason::Drift);
        assert!(d.write);
    }

    #[test]
    fn moves_of_at_least_the_hysteresis_are_written() {
        let d = decide_update(Some(&config(12.0)), &config(8.0), DEFAULT_HYSTERESIS);
        assert!(d.write);
        assert!(
            matches!(d.reason, UpdateReason::TargetMoved { change } if (change - 1.0 / 3.0).abs() < 1e-12)
        );
        // Exactly 10%.
        assert!(decide_update(Some(&config(10.0)), &config(11.0), DEFAULT_HYSTERESIS).write);
        assert!(decide_update(Some(&config(12.0)), &config(10.8), DEFAULT_HYSTERESIS).write);
    }

    #[test]
    fn small_moves_are_not_written() {
        // 3%.
        let d = decide_update(Some(&config(100.0)), &config(103.0), DEFAULT_HYSTERESIS);
        assert!(!d.write);
        assert!(
            matches!(d.reason, UpdateReason::WithinHysteresis { change } if (change - 0.03).abs() < 1e-12)
        );
        assert!(!decide_update(Some(&config(12.0)), &config(12.0), DEFAULT_HYSTERESIS).write);
        assert_eq!(
            decide_update(Some(&config(12.0)), &config(12.0), DEFAULT_HYSTERESIS)
                .reason
                .to_string(),
            "target moved by 0.0%, within hysteresis"
        );
    }

    #[test]
    fn a_broken_current_target_is_rewritten() {
        assert!(decide_update(Some(&config(0.0)), &config(12.0), DEFAULT_HYSTERESIS).write);
        assert!(decide_update(Some(&config(f64::NAN)), &config(12.0), DEFAULT_HYSTERESIS).write);
    }
}
