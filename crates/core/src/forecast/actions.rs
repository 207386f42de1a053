//! Windows as Application Auto Scaling scheduled actions, and the reconcile that writes, updates and deletes only
//! the actions of ours.

use serde::Serialize;

use crate::policy::{SCALABLE_DIMENSION, SERVICE_NAMESPACE};

use super::*;

/// One scheduled action as this project writes it (PutScheduledAction's ScheduledActionName, Schedule,
/// Timezone and ScalableTargetAction.MinCapacity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduledActionSpec {
    /// Its name, [`ACTION_PREFIX`] first.
    pub name: String,
    /// When it fires.
    pub recurrence: Recurrence,
    /// The minimum capacity it sets.
    pub min_capacity: u32,
}

impl ScheduledActionSpec {
    /// The `Schedule` field.
    pub fn schedule(&self) -> String {
        self.recurrence.cron()
    }

    /// The action as DescribeScheduledActions returns it once written.
    pub fn as_written(&self) -> ExistingAction {
        ExistingAction {
            name: self.name.clone(),
            schedule: self.schedule(),
            timezone: Some(TIMEZONE.to_string()),
            min_capacity: Some(self.min_capacity),
        }
    }

    /// The PutScheduledAction request for the service `resource_id` (`service/CLUSTER/SERVICE`).
    pub fn request(&self, resource_id: &str) -> ScheduledActionRequest {
        ScheduledActionRequest {
            service_namespace: SERVICE_NAMESPACE.to_string(),
            scheduled_action_name: self.name.clone(),
            resource_id: resource_id.to_string(),
            scalable_dimension: SCALABLE_DIMENSION.to_string(),
            schedule: self.schedule(),
            timezone: TIMEZONE.to_string(),
            scalable_target_action: MinCapacityAction {
                min_capacity: self.min_capacity,
            },
        }
    }
}

/// A PutScheduledAction request, field for field (the AAS API reference; checked against botocore's model).
/// Only MinCapacity is set: "the resource will have at least this much capacity, but it might have more" (API
/// reference, ScalableTargetAction), so the action never holds the fleet below what the policies ask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduledActionRequest {
    /// `ecs`.
    pub service_namespace: String,
    /// The action's name.
    pub scheduled_action_name: String,
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// `ecs:service:DesiredCount`.
    pub scalable_dimension: String,
    /// The cron expression.
    pub schedule: String,
    /// [`TIMEZONE`].
    pub timezone: String,
    /// The capacity it sets.
    pub scalable_target_action: MinCapacityAction,
}

/// ScalableTargetAction with only its minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MinCapacityAction {
    /// MinCapacity.
    pub min_capacity: u32,
}

/// A DeleteScheduledAction request for an action of ours on `resource_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteScheduledActionRequest {
    /// `ecs`.
    pub service_namespace: String,
    /// The action's name.
    pub scheduled_action_name: String,
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// `ecs:service:DesiredCount`.
    pub scalable_dimension: String,
}

impl DeleteScheduledActionRequest {
    /// The request deleting `name` on `resource_id`.
    pub fn new(resource_id: &str, name: &str) -> Self {
        DeleteScheduledActionRequest {
            service_namespace: SERVICE_NAMESPACE.to_string(),
            scheduled_action_name: name.to_string(),
            resource_id: resource_id.to_string(),
            scalable_dimension: SCALABLE_DIMENSION.to_string(),
        }
    }
}

/// The two actions of each window, named by period and rank (`bpi-forecast-daily-1-raise`, `...-lower`), so a
/// pattern that moves keeps its names and is updated in place; and, where the raise for the window's next onset
/// falls at or before `now_epoch_minute` while the onset is still ahead (the updater wrote the window after its
/// raise's minute: the first anticipated occurrence, or a moved one), a third, `...-now`, that raises the minimum
/// once, a minute from now.
pub fn actions(
    windows: &[Window],
    min_capacity: u32,
    now_epoch_minute: u64,
) -> Vec<ScheduledActionSpec> {
    let mut ranks = std::collections::HashMap::new();
    let mut sorted: Vec<&Window> = windows.iter().collect();
    sorted.sort_by_key(|w| (w.pattern.recurrence.period(), w.pattern.recurrence.cron()));
    let mut out = Vec::new();
    for w in sorted {
        let period = w.pattern.recurrence.period();
        let rank = ranks.entry(period).or_insert(0u32);
        *rank += 1;
        out.push(ScheduledActionSpec {
            name: format!("{ACTION_PREFIX}{period}-{rank}-raise"),
            recurrence: w.raise,
            min_capacity: w.tasks,
        });
        out.push(ScheduledActionSpec {
            name: format!("{ACTION_PREFIX}{period}-{rank}-lower"),
            recurrence: w.lower,
            min_capacity,
        });
        let next_onset = w.pattern.recurrence.next_at_or_after(now_epoch_minute + 1);
        if next_onset.is_some_and(|onset| onset.saturating_sub(w.lead_minutes) <= now_epoch_minute)
        {
            out.push(ScheduledActionSpec {
                name: format!("{ACTION_PREFIX}{period}-{rank}-now"),
                recurrence: Recurrence::Once {
                    epoch_minute: now_epoch_minute + 1,
                },
                min_capacity: w.tasks,
            });
        }
    }
    out
}

/// A scheduled action on the scalable target, as DescribeScheduledActions returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExistingAction {
    /// ScheduledActionName.
    pub name: String,
    /// Schedule.
    pub schedule: String,
    /// Timezone (None: UTC).
    pub timezone: Option<String>,
    /// ScalableTargetAction.MinCapacity.
    pub min_capacity: Option<u32>,
}

/// Minutes back [`raise_in_force`] looks for an action's last firing: a week, the longest recurrence.
const IN_FORCE_LOOKBACK_MINUTES: u64 = 7 * 24 * 60;

/// The latest minute at or before `now_epoch_minute`, within a week, at which `recurrence` fired.
fn last_fired(recurrence: &Recurrence, now_epoch_minute: u64) -> Option<u64> {
    (0..=IN_FORCE_LOOKBACK_MINUTES.min(now_epoch_minute))
        .map(|back| now_epoch_minute - back)
        .find(|m| recurrence.fires_at(*m))
}

/// Whether a window of ours holds the minimum raised at `now_epoch_minute`, read from the service's scheduled
/// actions as they are: some `...-raise` or `...-now` of ours fired after its window's `...-lower` did (the
/// keep-alive then leaves the minimum to that lowering action).
pub fn raise_in_force(existing: &[ExistingAction], now_epoch_minute: u64) -> bool {
    let fired = |name: &str| {
        existing
            .iter()
            .find(|a| a.name == name)
            .and_then(|a| parse_cron(&a.schedule))
            .and_then(|r| last_fired(&r, now_epoch_minute))
    };
    existing.iter().filter(|a| is_ours(&a.name)).any(|a| {
        let Some(window) = a
            .name
            .strip_suffix("-raise")
            .or_else(|| a.name.strip_suffix("-now"))
        else {
            return false;
        };
        match (fired(&a.name), fired(&format!("{window}-lower"))) {
            (Some(raised), Some(lowered)) => raised > lowered,
            (Some(_), None) => true,
            (None, _) => false,
        }
    })
}

/// Whether an action is this project's.
pub fn is_ours(name: &str) -> bool {
    name.starts_with(ACTION_PREFIX)
}

/// One write the reconcile asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum ScheduleChange {
    /// PutScheduledAction of a new action.
    Create(ScheduledActionSpec),
    /// PutScheduledAction over an action of ours that differs.
    Update(ScheduledActionSpec),
    /// DeleteScheduledAction of an action of ours no longer wanted.
    Delete {
        /// Its name.
        name: String,
    },
}

/// The writes that turn `existing` into `wanted`, touching only actions of ours: creates and updates first, then
/// deletes, so a moved pattern is never without its raise.
pub fn reconcile(
    wanted: &[ScheduledActionSpec],
    existing: &[ExistingAction],
) -> Vec<ScheduleChange> {
    let mut out = Vec::new();
    for w in wanted {
        match existing.iter().find(|e| e.name == w.name) {
            None => out.push(ScheduleChange::Create(w.clone())),
            Some(e)
                if e.schedule != w.schedule()
                    || e.min_capacity != Some(w.min_capacity)
                    || e.timezone.as_deref().unwrap_or(TIMEZONE) != TIMEZONE =>
            {
                out.push(ScheduleChange::Update(w.clone()));
            }
            Some(_) => {}
        }
    }
    for e in existing.iter().filter(|e| is_ours(&e.name)) {
        if !wanted.iter().any(|w| w.name == e.name) {
            out.push(ScheduleChange::Delete {
                name: e.name.clone(),
            });
        }
    }
    out
}
