//! Each pattern as a window of raised minimum capacity, sized by the capacity model and capped by what a wrong
//! forecast may cost.

use serde::Serialize;

use crate::capacity::{CapacityModel, ServiceLoad};

use super::*;

/// What bounds the scheduled capacity (`FORECAST_MAX_TASK_HOURS`, `TASK_START_SECS`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ForecastSettings {
    /// The most task-hours one window may hold above the minimum (0: no forecasting).
    pub max_task_hours: f64,
    /// How long a task takes to start, seconds: the raise comes this much (and [`LEAD_MARGIN_MINUTES`]) early.
    pub task_start_secs: u32,
}

/// Default of `FORECAST_MAX_TASK_HOURS`: 20 task-hours, about $0.20 of a 0.25 vCPU / 0.5 GB ARM task (us-east-1).
pub const DEFAULT_MAX_TASK_HOURS: f64 = 20.0;

/// What sizes a window: the capacity model, MPD and the service's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WindowSizing {
    /// The capacity model of the deployment.
    pub model: CapacityModel,
    /// The mean processing duration, seconds.
    pub mpd_secs: f64,
    /// The configured minimum capacity (what the lowering action sets back).
    pub min_capacity: u32,
    /// The maximum capacity.
    pub max_capacity: u32,
}

/// A pattern turned into capacity: the minimum is `tasks` from `raise` until `lower`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Window {
    /// The pattern it is for.
    pub pattern: Pattern,
    /// When the minimum is raised.
    pub raise: Recurrence,
    /// When it is set back.
    pub lower: Recurrence,
    /// The raised minimum.
    pub tasks: u32,
    /// The tasks the capacity model asked for before the caps.
    pub needed_tasks: u32,
    /// Minutes from raise to lower.
    pub window_minutes: u64,
    /// Minutes the raise comes before the earliest onset.
    pub lead_minutes: u64,
    /// Why: the occurrences seen and how the tasks were sized.
    pub why: String,
}

/// The windows for `patterns`, largest need first, at most [`MAX_ACTIONS_PER_TARGET`] / 2 of them; patterns that
/// need no more than the minimum get none.
pub fn plan(
    patterns: &[Pattern],
    sizing: &WindowSizing,
    settings: &ForecastSettings,
) -> Vec<Window> {
    if settings.max_task_hours <= 0.0 {
        return Vec::new();
    }
    let lead = u64::from(settings.task_start_secs).div_ceil(60) + LEAD_MARGIN_MINUTES;
    let mut out: Vec<Window> = patterns
        .iter()
        .filter_map(|p| {
            // The peak minute waiting, served by tasks already running when it lands (as many as it takes).
            let load = ServiceLoad {
                visible: p.peak_per_minute.ceil() as u64,
                in_flight: 0,
                running: u32::MAX,
                desired: u32::MAX,
            };
            // Sized without the maximum, so the record says what the cap cost.
            let needed = sizing.model.needed(load, sizing.mpd_secs, u32::MAX).tasks;
            let window_minutes = lead + p.spread_minutes + HOLD_MINUTES;
            let by_cost = (settings.max_task_hours * 60.0 / window_minutes as f64).floor() as u32;
            let tasks = needed.min(by_cost).min(sizing.max_capacity);
            if tasks <= sizing.min_capacity {
                return None;
            }
            let seen: Vec<String> = p
                .occurrences
                .iter()
                .rev()
                .take(4)
                .rev()
                .map(|m| epoch_minute_utc(*m))
                .collect();
            let why = format!(
                "{} onsets at {}{} (jitter {} min; peak {:.0} messages a minute): {needed} tasks needed at MPD {:.2} s, {tasks} held for {window_minutes} min (cap {:.1} task-hours)",
                p.occurrences.len(),
                if p.occurrences.len() > 4 { "... " } else { "" },
                seen.join(", "),
                p.spread_minutes,
                p.peak_per_minute,
                sizing.mpd_secs,
                settings.max_task_hours,
            );
            Some(Window {
                raise: p.recurrence.shifted(-(lead as i64)),
                lower: p
                    .recurrence
                    .shifted((p.spread_minutes + HOLD_MINUTES) as i64),
                pattern: p.clone(),
                tasks,
                needed_tasks: needed,
                window_minutes,
                lead_minutes: lead,
                why,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.tasks
            .cmp(&a.tasks)
            .then(a.raise.cron().cmp(&b.raise.cron()))
    });
    out.truncate(MAX_ACTIONS_PER_TARGET / 2);
    out
}
