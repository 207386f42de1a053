//! The updater's whole rule, from measurements to a decision: estimate MPD, choose the target (measured, kept or
//! fallback), build the canonical policy for it and decide whether to write it.
//!
//! It exists because the same decision is needed in three places (the updater Lambda, the simulator's updater and
//! `bpi status`), and written three times it had drifted: `bpi status` showed the target of the fallback MPD where
//! the updater keeps the target in force, so the two could disagree about what the next run would do.

use serde::Serialize;

use crate::decision::{UpdateDecision, decide_update};
use crate::littles_law::{ActivityMinute, estimate_mpd_littles_law};
use crate::mpd::{MpdEstimate, StatisticSet, estimate_mpd};
use crate::policy::{PolicySettings, TargetTrackingConfig, target_tracking_config};
use crate::target::{MpdSource, TargetSettings, TargetWarning, target_bpi};

/// What to do when too few samples were measured and a policy is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenUnmeasured {
    /// Keep the target in force (the scheduled updater: a pause in traffic must not move the target).
    #[default]
    KeepTarget,
    /// Use the configured default MPD (a deploy: changed settings such as the latency must take effect now).
    UseDefaultMpd,
}

/// How the chosen target came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MpdStatus {
    /// From the MPD measured over the window.
    Measured,
    /// No worker metric: from the MPD estimated by Little's law over SQS's own metrics (in flight ÷ deletions).
    LittlesLaw,
    /// Too few samples: the target in force is kept.
    Kept,
    /// Too few samples and no usable policy (or a measured MPD of 0): the configured default MPD.
    Fallback,
}

impl MpdStatus {
    /// The status as the decision record spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            MpdStatus::Measured => "measured",
            MpdStatus::LittlesLaw => "littles-law",
            MpdStatus::Kept => "kept",
            MpdStatus::Fallback => "fallback",
        }
    }
}

/// The inputs of one update, borrowed from the caller's settings.
#[derive(Debug, Clone, Copy)]
pub struct UpdateInputs<'a> {
    /// Latency, concurrency, fallback MPD and maximum target.
    pub target: &'a TargetSettings,
    /// What the canonical policy is built from.
    pub policy: &'a PolicySettings,
    /// Fewest samples for a measured MPD.
    pub min_samples: u64,
    /// Relative move of the target below which nothing is written.
    pub hysteresis: f64,
    /// What too few samples mean.
    pub when_unmeasured: WhenUnmeasured,
}

/// One update's plan: what was measured, the target chosen, the policy for it and whether to write it.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdatePlan {
    /// The MPD estimate over the window.
    pub estimate: MpdEstimate,
    /// The target chosen.
    pub target: f64,
    /// How it was chosen.
    pub status: MpdStatus,
    /// Warnings about the target.
    pub warnings: Vec<TargetWarning>,
    /// The canonical policy configuration for `target`.
    pub desired: TargetTrackingConfig,
    /// Whether to write it, and why.
    pub decision: UpdateDecision,
    /// The target in force once the plan is carried out: `target` if written, otherwise the current one.
    pub target_in_force: f64,
}

/// Plans one update from the period statistics of the window, SQS's activity over the same window (for Little's
/// law when the workers publish no durations) and the policy in force (`None`: no policy).
///
/// The workers' measurement comes first. Only when it is unknown does the estimate by Little's law stand in, and
/// only with as many deletions as the measurement would need samples.
pub fn plan_update(
    periods: &[StatisticSet],
    activity: &[ActivityMinute],
    current: Option<&TargetTrackingConfig>,
    inputs: &UpdateInputs<'_>,
) -> UpdatePlan {
    let measured = estimate_mpd(periods, inputs.min_samples);
    let (estimate, by_littles_law) = match measured {
        MpdEstimate::Known { .. } => (measured, false),
        MpdEstimate::Unknown { .. } => {
            match estimate_mpd_littles_law(activity, inputs.min_samples) {
                known @ MpdEstimate::Known { .. } => (known, true),
                MpdEstimate::Unknown { .. } => (measured, false),
            }
        }
    };
    let current_target = current.map(|p| p.target_value);
    let (target, status, warnings) = match (estimate, current_target) {
        (MpdEstimate::Known { mpd_secs, .. }, _) => {
            let t = target_bpi(inputs.target, Some(mpd_secs));
            // A measured MPD of 0 (zero-duration test work) cannot be divided by: core used the fallback.
            let status = if t.mpd_source != MpdSource::Measured {
                MpdStatus::Fallback
            } else if by_littles_law {
                MpdStatus::LittlesLaw
            } else {
                MpdStatus::Measured
            };
            (f64::from(t.value), status, t.warnings)
        }
        // Too few samples: keep the target in force (repairing drift around it if need be).
        (MpdEstimate::Unknown { .. }, Some(kept))
            if inputs.when_unmeasured == WhenUnmeasured::KeepTarget
                && kept.is_finite()
                && kept >= 1.0 =>
        {
            (kept, MpdStatus::Kept, Vec::new())
        }
        (MpdEstimate::Unknown { .. }, _) => {
            let t = target_bpi(inputs.target, None);
            (f64::from(t.value), MpdStatus::Fallback, t.warnings)
        }
    };
    let desired = target_tracking_config(inputs.policy, target);
    let decision = decide_update(current, &desired, inputs.hysteresis);
    let target_in_force = if decision.write {
        target
    } else {
        current_target.unwrap_or(target)
    };
    UpdatePlan {
        estimate,
        target,
        status,
        warnings,
        desired,
        decision,
        target_in_force,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> PolicySettings {
        PolicySettings {
            policy_name: "p".into(),
            utilization: None,
            ..PolicySettings::for_service("c", "s", "q")
        }
    }

    fn plan(
        periods: &[StatisticSet],
        current: Option<f64>,
        when_unmeasured: WhenUnmeasured,
    ) -> UpdatePlan {
        let target = TargetSettings::new(60.0, 1, 5.0, 10_000).expect("valid");
        let policy = policy();
        let current = current.map(|t| target_tracking_config(&policy, t));
        plan_update(
            periods,
            &[],
            current.as_ref(),
            &UpdateInputs {
                target: &target,
                policy: &policy,
                min_samples: 20,
                hysteresis: 0.10,
                when_unmeasured,
            },
        )
    }

    fn measured(mpd: f64, n: f64) -> Vec<StatisticSet> {
        vec![StatisticSet {
            sum_secs: mpd * n,
            sample_count: n,
        }]
    }

    #[test]
    fn a_measured_mpd_moves_the_target_past_the_hysteresis() {
        let p = plan(&measured(7.0, 50.0), Some(12.0), WhenUnmeasured::KeepTarget);
        assert_eq!((p.target, p.status), (8.0, MpdStatus::Measured));
        assert!(p.decision.write);
        assert_eq!(p.target_in_force, 8.0);
        // 5.3 s gives 11: under 10% from 12, nothing written, 12 stays in force.
        let p = plan(&measured(5.3, 50.0), Some(12.0), WhenUnmeasured::KeepTarget);
        assert_eq!(p.target, 11.0);
        assert!(!p.decision.write);
        assert_eq!(p.target_in_force, 12.0);
    }

    #[test]
    fn without_worker_durations_littles_law_stands_in_and_never_overrules_a_measurement() {
        let target = TargetSettings::new(60.0, 1, 5.0, 10_000).expect("valid");
        let policy = policy();
        let current = target_tracking_config(&policy, 12.0);
        let inputs = UpdateInputs {
            target: &target,
            policy: &policy,
            min_samples: 20,
            hysteresis: 0.10,
            when_unmeasured: WhenUnmeasured::KeepTarget,
        };
        // 6 in flight, 36 deleted a minute: 10 s in flight each → target 60 / 10 = 6.
        let busy = vec![
            ActivityMinute {
                in_flight_mean: 6.0,
                deleted: 36.0
            };
            5
        ];
        let p = plan_update(&[], &busy, Some(&current), &inputs);
        assert_eq!((p.target, p.status), (6.0, MpdStatus::LittlesLaw));
        assert_eq!(p.estimate.mpd_secs(), Some(10.0));
        let p = plan_update(&measured(7.0, 50.0), &busy, Some(&current), &inputs);
        assert_eq!(
            (p.target, p.status),
            (8.0, MpdStatus::Measured),
            "the workers' own measure first"
        );
        let idle = [ActivityMinute {
            in_flight_mean: 0.1,
            deleted: 3.0,
        }];
        let p = plan_update(&[], &idle, Some(&current), &inputs);
        assert_eq!(
            (p.target, p.status),
            (12.0, MpdStatus::Kept),
            "too few deletions: kept"
        );
    }

    #[test]
    fn too_few_samples_keep_the_target_in_force_or_fall_back() {
        let few = measured(50.0, 3.0);
        let p = plan(&few, Some(30.0), WhenUnmeasured::KeepTarget);
        assert_eq!((p.target, p.status), (30.0, MpdStatus::Kept));
        assert!(!p.decision.write);
        let p = plan(&few, Some(30.0), WhenUnmeasured::UseDefaultMpd);
        assert_eq!((p.target, p.status), (12.0, MpdStatus::Fallback));
        let p = plan(&few, None, WhenUnmeasured::KeepTarget);
        assert_eq!((p.target, p.status), (12.0, MpdStatus::Fallback));
        assert!(p.decision.write, "no policy: create it");
        // A broken target in force is not kept.
        let p = plan(&few, Some(0.0), WhenUnmeasured::KeepTarget);
        assert_eq!(p.status, MpdStatus::Fallback);
    }

    #[test]
    fn a_measured_mpd_of_zero_falls_back() {
        let p = plan(&measured(0.0, 50.0), Some(12.0), WhenUnmeasured::KeepTarget);
        assert_eq!((p.target, p.status), (12.0, MpdStatus::Fallback));
    }
}
