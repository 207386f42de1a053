//! What a forecast run decided and did, as the decision record, `bpi schedule` and `bpi status` show it.

use serde::Serialize;

use super::*;

/// One window as the decision record shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowRecord {
    /// The raising action's schedule.
    pub raise: String,
    /// The lowering action's schedule.
    pub lower: String,
    /// The minimum it holds.
    pub tasks: u32,
    /// Why it exists: the occurrences seen and the sizing.
    pub why: String,
}

/// The next scheduled action of ours to fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextAction {
    /// When, `YYYY-MM-DDTHH:MMZ`.
    pub at: String,
    /// Its name.
    pub name: String,
    /// The minimum it sets.
    pub min_capacity: u32,
}

/// What a forecast run decided and did: the updater's decision record holds it, `bpi schedule` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleRecord {
    /// The windows wanted, largest first.
    pub windows: Vec<WindowRecord>,
    /// The writes that bring the service's actions to them (only ours).
    pub changes: Vec<ScheduleChange>,
    /// The next action of ours to fire.
    pub next_action: Option<NextAction>,
    /// Whether the changes were made (false on a dry run).
    pub applied: bool,
}

impl ScheduleRecord {
    /// The record of `forecast` run at `now_epoch_minute` against `existing`, with its writes `applied` or not.
    pub fn of(
        forecast: &Forecast,
        existing: &[ExistingAction],
        now_epoch_minute: u64,
        applied: bool,
    ) -> Self {
        ScheduleRecord {
            windows: forecast
                .windows
                .iter()
                .map(|w| WindowRecord {
                    raise: w.raise.cron(),
                    lower: w.lower.cron(),
                    tasks: w.tasks,
                    why: w.why.clone(),
                })
                .collect(),
            changes: reconcile(&forecast.actions, existing),
            next_action: next_action(&forecast.actions, now_epoch_minute).map(|(at, a)| {
                NextAction {
                    at: epoch_minute_utc(at),
                    name: a.name.clone(),
                    min_capacity: a.min_capacity,
                }
            }),
            applied,
        }
    }
}

/// The next firing of any of `actions` at or after `epoch_minute`: (when, the action).
pub fn next_action(
    actions: &[ScheduledActionSpec],
    epoch_minute: u64,
) -> Option<(u64, &ScheduledActionSpec)> {
    actions
        .iter()
        .filter_map(|a| a.recurrence.next_at_or_after(epoch_minute).map(|t| (t, a)))
        .min_by_key(|(t, a)| (*t, a.name.clone()))
}

/// The forecaster's actions among `existing` as written (UTC, ours, of the shape it writes), and the next of them
/// to fire at or after `now_epoch_minute`: what `bpi status` shows.
pub fn written_schedule(
    existing: &[ExistingAction],
    now_epoch_minute: u64,
) -> (Vec<ScheduledActionSpec>, Option<NextAction>) {
    let ours: Vec<ScheduledActionSpec> = existing
        .iter()
        .filter(|a| is_ours(&a.name) && a.timezone.as_deref().unwrap_or(TIMEZONE) == TIMEZONE)
        .filter_map(|a| {
            Some(ScheduledActionSpec {
                name: a.name.clone(),
                recurrence: parse_cron(&a.schedule)?,
                min_capacity: a.min_capacity?,
            })
        })
        .collect();
    let next = next_action(&ours, now_epoch_minute).map(|(at, a)| NextAction {
        at: epoch_minute_utc(at),
        name: a.name.clone(),
        min_capacity: a.min_capacity,
    });
    (ours, next)
}
