//! Putting this scaling on a service that already runs, and taking it off again: what the service had (the
//! snapshot `bpi attach` keeps), and what attaching does to each part of it.
//!
//! Why it exists: most services that need this already consume their queue with a scaling policy of their own (CPU
//! target tracking, a step policy on queue depth) and scheduled actions. Attaching must show that first, change only
//! what would fight the new policy, and keep enough to restore it exactly. The rules, one per part:
//! - **target tracking policies** of the service's own are replaced: two target tracking policies on one service
//!   scale out when either asks and in only when all agree (Application Auto Scaling user guide, "Multiple scaling
//!   policies"), so a CPU policy would hold the fleet up. Each is saved whole and put back on detach (AWS recreates
//!   its alarms);
//! - **step scaling policies** are kept, their alarms' actions disabled (`DisableAlarmActions`), so they never act
//!   while attached; detach enables the actions it disabled. The policy, its ARN and the alarms stay as they were;
//! - **scheduled actions** are kept: they set the bounds at their times, and the new policies scale within them;
//! - **predictive scaling** is kept: it only raises capacity ahead of a forecast, never lowers it;
//! - **the scalable target's bounds** are kept unless MIN_CAPACITY or MAX_CAPACITY says otherwise; the old bounds
//!   and suspended state are saved and restored, and a target attach registered is deregistered.

use serde::{Deserialize, Serialize};

/// Where attach keeps what it replaced: one parameter per service, `PATH/CLUSTER/SERVICE` (apart from the
/// registry, which the sampler reads whole).
pub const DEFAULT_ATTACHED_PATH: &str = "/ecs-sqs-bpi/attached";

/// The scalable target as it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedTarget {
    /// Fewest tasks.
    pub min_capacity: i32,
    /// Most tasks.
    pub max_capacity: i32,
    /// Scale-in by dynamic policies suspended.
    pub dynamic_scaling_in_suspended: bool,
    /// Scale-out by dynamic policies suspended.
    pub dynamic_scaling_out_suspended: bool,
    /// Scheduled scaling suspended.
    pub scheduled_scaling_suspended: bool,
}

/// A target tracking metric as the service's own policy named it: a predefined one, or one CloudWatch metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SavedMetric {
    /// `PredefinedMetricSpecification`.
    Predefined {
        /// E.g. `ECSServiceAverageCPUUtilization`.
        metric_type: String,
        /// Its resource label, when it has one.
        resource_label: Option<String>,
    },
    /// `CustomizedMetricSpecification` with one metric (not metric math).
    Customized {
        /// Namespace.
        namespace: String,
        /// Metric name.
        metric_name: String,
        /// Dimensions (name, value).
        dimensions: Vec<(String, String)>,
        /// Statistic.
        statistic: String,
        /// Unit, if given.
        unit: Option<String>,
    },
}

/// A target tracking policy of the service's own, whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedTargetTracking {
    /// Its name.
    pub policy_name: String,
    /// Its target value.
    pub target_value: f64,
    /// Its metric.
    pub metric: SavedMetric,
    /// Scale-out cooldown, seconds, if set.
    pub scale_out_cooldown: Option<i32>,
    /// Scale-in cooldown, seconds, if set.
    pub scale_in_cooldown: Option<i32>,
    /// Whether scale-in is disabled, if set.
    pub disable_scale_in: Option<bool>,
}

/// A scaling policy found on the service, as attach sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FoundPolicy {
    /// One of this project's (left to `bpi scaling apply`).
    Own {
        /// Its name.
        policy_name: String,
    },
    /// A target tracking policy of the service's own that attach can save whole.
    TargetTracking(SavedTargetTracking),
    /// A step scaling policy and the alarms that invoke it.
    Step {
        /// Its name.
        policy_name: String,
        /// Its alarms' names.
        alarms: Vec<String>,
    },
    /// A predictive scaling policy.
    Predictive {
        /// Its name.
        policy_name: String,
    },
    /// A policy attach cannot save whole (a target tracking policy on metric math, say): attaching is refused.
    Unsupported {
        /// Its name.
        policy_name: String,
        /// Why.
        reason: String,
    },
}

impl FoundPolicy {
    /// The policy's name.
    pub fn name(&self) -> &str {
        match self {
            FoundPolicy::Own { policy_name }
            | FoundPolicy::Step { policy_name, .. }
            | FoundPolicy::Predictive { policy_name }
            | FoundPolicy::Unsupported { policy_name, .. } => policy_name,
            FoundPolicy::TargetTracking(t) => &t.policy_name,
        }
    }
}

/// A scheduled action found on the service (kept; listed so the dry run shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundScheduledAction {
    /// Its name.
    pub name: String,
    /// Its schedule expression.
    pub schedule: String,
    /// The minimum it sets, if any.
    pub min_capacity: Option<i32>,
    /// The maximum it sets, if any.
    pub max_capacity: Option<i32>,
}

/// A service's scaling as read before attaching: what `bpi attach` shows and keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingState {
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// The scalable target, if registered.
    pub target: Option<SavedTarget>,
    /// Its scaling policies.
    pub policies: Vec<FoundPolicy>,
    /// Its scheduled actions.
    pub scheduled_actions: Vec<FoundScheduledAction>,
}

/// What attach does to one part of the service's scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// Saved, then removed; detach puts it back.
    Replaced,
    /// Left in place, its alarms' actions disabled; detach enables them.
    KeptSilenced,
    /// Left as it is.
    Kept,
    /// This project's own: `bpi scaling apply` brings it to the spec.
    Own,
    /// Cannot be saved whole: attaching is refused until it is removed by hand.
    Blocks,
}

/// One line of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedPart {
    /// `policy`, `scheduled action` or `scalable target`.
    pub part: &'static str,
    /// Its name.
    pub name: String,
    /// What attach does to it.
    pub fate: Fate,
    /// Why.
    pub why: String,
}

/// What attaching does to each part of `state`.
pub fn attach_plan(state: &ScalingState) -> Vec<PlannedPart> {
    let mut plan = Vec::new();
    if let Some(t) = &state.target {
        plan.push(PlannedPart {
            part: "scalable target",
            name: state.resource_id.clone(),
            fate: Fate::Kept,
            why: format!(
                "bounds {}-{} kept unless MIN_CAPACITY or MAX_CAPACITY say otherwise; saved and restored on detach",
                t.min_capacity, t.max_capacity
            ),
        });
    }
    for p in &state.policies {
        let (fate, why) = match p {
            FoundPolicy::Own { .. } => {
                (Fate::Own, "this project's: brought to the spec".to_string())
            }
            FoundPolicy::TargetTracking(t) => (
                Fate::Replaced,
                format!(
                    "target tracking at {} on {}: it would hold scale-in; saved whole and put back on detach",
                    t.target_value,
                    match &t.metric {
                        SavedMetric::Predefined { metric_type, .. } => metric_type.clone(),
                        SavedMetric::Customized { metric_name, .. } => metric_name.clone(),
                    }
                ),
            ),
            FoundPolicy::Step { alarms, .. } => (
                Fate::KeptSilenced,
                format!(
                    "step scaling: kept, the actions of its alarms ({}) disabled while attached",
                    if alarms.is_empty() {
                        "none".to_string()
                    } else {
                        alarms.join(", ")
                    }
                ),
            ),
            FoundPolicy::Predictive { .. } => (
                Fate::Kept,
                "predictive scaling: only raises capacity ahead of a forecast".to_string(),
            ),
            FoundPolicy::Unsupported { reason, .. } => (
                Fate::Blocks,
                format!(
                    "{reason}: cannot be saved whole; remove it by hand (or keep this scaling off)"
                ),
            ),
        };
        plan.push(PlannedPart {
            part: "policy",
            name: p.name().to_string(),
            fate,
            why,
        });
    }
    for a in &state.scheduled_actions {
        if crate::forecast::is_ours(&a.name) {
            plan.push(PlannedPart {
                part: "scheduled action",
                name: a.name.clone(),
                fate: Fate::Own,
                why: "the forecaster's: the updater keeps it to the learned schedule; detach removes it"
                    .to_string(),
            });
            continue;
        }
        plan.push(PlannedPart {
            part: "scheduled action",
            name: a.name.clone(),
            fate: Fate::Kept,
            why: format!(
                "{}: sets the bounds at its times (min {}, max {}); the new policies scale within them",
                a.schedule,
                a.min_capacity.map_or("-".to_string(), |v| v.to_string()),
                a.max_capacity.map_or("-".to_string(), |v| v.to_string()),
            ),
        });
    }
    plan
}

/// What changes when the attached queue is a FIFO queue (SQS requires its name to end in `.fifo`): said by attach,
/// so a user whose worker or scaling counted on otherwise hears it before anything is applied.
pub const FIFO_NOTES: [&str; 3] = [
    "FIFO queue: this project's worker runs a message group's messages one at a time, in order, deleting each before the next starts; a worker of your own must do the same whatever its concurrency (docs/worker.md, \"FIFO queues\")",
    "FIFO queue: the scaling counts messages, not the groups that can run: while the backlog is held by fewer groups than tasks x TASK_CONCURRENCY, the tasks beyond them wait; set MAX_CAPACITY to the groups you expect to run in parallel",
    "FIFO queue: a message that keeps failing blocks its group for maxReceiveCount x the visibility timeout, and its move to the DLQ lets the group's later messages go ahead of it (AWS: a DLQ breaks a FIFO queue's order)",
];

/// [`FIFO_NOTES`] for a FIFO queue's name, nothing for a standard queue's.
pub fn fifo_notes(queue_name: &str) -> Vec<String> {
    if queue_name.ends_with(".fifo") {
        FIFO_NOTES.iter().map(|n| (*n).to_string()).collect()
    } else {
        Vec::new()
    }
}

/// What attach keeps to restore on detach: the state before it, and the alarms whose actions it disabled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachRecord {
    /// The service's scaling before attaching (its own parts only).
    pub before: ScalingState,
    /// Alarms whose actions attach disabled (they were enabled).
    pub silenced_alarms: Vec<String>,
}

impl AttachRecord {
    /// The service's own target tracking policies, to put back.
    pub fn replaced(&self) -> impl Iterator<Item = &SavedTargetTracking> {
        self.before.policies.iter().filter_map(|p| match p {
            FoundPolicy::TargetTracking(t) => Some(t),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> ScalingState {
        ScalingState {
            resource_id: "service/c/s".into(),
            target: Some(SavedTarget {
                min_capacity: 2,
                max_capacity: 8,
                dynamic_scaling_in_suspended: false,
                dynamic_scaling_out_suspended: false,
                scheduled_scaling_suspended: false,
            }),
            policies: vec![
                FoundPolicy::TargetTracking(SavedTargetTracking {
                    policy_name: "cpu".into(),
                    target_value: 70.0,
                    metric: SavedMetric::Predefined {
                        metric_type: "ECSServiceAverageCPUUtilization".into(),
                        resource_label: None,
                    },
                    scale_out_cooldown: Some(60),
                    scale_in_cooldown: Some(300),
                    disable_scale_in: None,
                }),
                FoundPolicy::Step {
                    policy_name: "depth".into(),
                    alarms: vec!["depth-high".into()],
                },
                FoundPolicy::Own {
                    policy_name: "ecs-sqs-bpi-target-tracking".into(),
                },
            ],
            scheduled_actions: vec![FoundScheduledAction {
                name: "nightly".into(),
                schedule: "cron(0 2 * * ? *)".into(),
                min_capacity: Some(4),
                max_capacity: None,
            }],
        }
    }

    #[test]
    fn the_plan_replaces_target_tracking_silences_steps_and_keeps_schedules() {
        let plan = attach_plan(&state());
        let fates: Vec<(&str, Fate)> = plan.iter().map(|p| (p.name.as_str(), p.fate)).collect();
        assert_eq!(
            fates,
            [
                ("service/c/s", Fate::Kept),
                ("cpu", Fate::Replaced),
                ("depth", Fate::KeptSilenced),
                ("ecs-sqs-bpi-target-tracking", Fate::Own),
                ("nightly", Fate::Kept),
            ]
        );
        assert!(plan[1].why.contains("ECSServiceAverageCPUUtilization"));
        assert!(plan[4].why.contains("min 4, max -"));
    }

    #[test]
    fn the_record_round_trips_through_json_and_names_what_it_replaced() {
        let record = AttachRecord {
            before: state(),
            silenced_alarms: vec!["depth-high".into()],
        };
        let json = serde_json::to_string(&record).expect("json");
        let back: AttachRecord = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, record);
        assert_eq!(
            back.replaced()
                .map(|t| t.policy_name.as_str())
                .collect::<Vec<_>>(),
            ["cpu"]
        );
    }

    #[test]
    fn a_fifo_queue_is_told_what_changes_and_a_standard_one_nothing() {
        assert_eq!(fifo_notes("orders.fifo").len(), FIFO_NOTES.len());
        assert!(fifo_notes("orders").is_empty());
        assert!(
            fifo_notes("fifo-orders").is_empty(),
            "only the suffix makes a FIFO queue"
        );
    }
}
