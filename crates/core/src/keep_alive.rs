//! The keep-alive and the floor: what the queue's own recent arrivals say about the fewest tasks to keep, whatever
//! the sampler's snapshots read.
//!
//! Why it exists: on light real traffic (a few short messages a minute) the sampler's 10-second snapshots mostly read
//! an empty queue, because each message is done between two readings. The idle policy, judging idleness from
//! snapshots alone, set the fleet to zero after three quiet-looking minutes, and the next message waited for a task
//! to start: a miss and a start paid for nothing, a thousand times a week (issue 33's timelines). This module reads
//! arrivals instead of snapshots, from the queue's NumberOfMessagesSent per minute (a counter: it cannot miss a
//! message inside a minute), which the updater already reads for the forecaster:
//!
//! - **the idle wait** ([`KeepAlive::idle_minutes`]): a fleet stopped after W quiet minutes makes the first messages
//!   after every longer gap wait for a start. The wait chosen is the shortest W whose gaps, in the history, would
//!   have made at most [`KeepAliveSettings::miss_budget`] of the messages wait for a start: the gap histogram
//!   decides, as in Azure Functions' histogram keep-alive (Shahrad et al., USENIX ATC 2020), with the promise, not a
//!   price, as its currency;
//! - **the floor** ([`KeepAlive::floor_tasks`]): one task while a message was sent within the idle wait (the
//!   keep-alive itself: target tracking and the idle policy read snapshots, and would stop the last task of a light
//!   stream between two messages); optionally ([`KeepAliveSettings::floor_minutes`], off by default) at least the
//!   tasks that keep up with the median minute of the newest minutes (Little's law on averages: rate × MPD ÷
//!   concurrency, at the target utilization; a burst in one minute does not move the median).
//!
//! Both are judged on the simulator's recorded traffic and the suite (`cargo run --release -p bpi-sim --example
//! recorded`, docs/design.md, "Keeping the promise on real traffic").

use serde::Serialize;

use crate::capacity::CapacityModel;

/// Default share of the messages the idle wait may leave waiting for a start (`miss_budget`).
pub const DEFAULT_MISS_BUDGET: f64 = 0.005;

/// Default longest idle wait, minutes: past an hour of silence a task costs more than the start it saves for
/// nearly any queue, and the forecaster covers bursts that recur.
pub const DEFAULT_MOST_IDLE_MINUTES: u32 = 60;

/// Default of [`KeepAliveSettings::floor_minutes`]: 0, the floor is the one task of an active queue. A floor that
/// also keeps up with the median minute of the newest 15 or 60 minutes was measured beside it (docs/design.md,
/// "Keeping the promise on real traffic"): up to a point more within the promise on the busier recordings and the
/// 15-a-minute light stream, but applied hourly it holds a falling load's fleet until the next run
/// (`ramp/up-and-down` +26% to +66% task-hours, `minute-batches/120-of-1s` +24%, for the same share).
pub const FLOOR_MINUTES: usize = 0;

/// Default of [`KeepAliveSettings::headroom_quantile`]: 0, no headroom (measured beside: docs/design.md, "Keeping
/// the promise on real traffic").
pub const HEADROOM_QUANTILE: f64 = 0.0;

/// How the keep-alive is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KeepAliveSettings {
    /// The task start the fleet is sized for, seconds: the messages of that many seconds after a gap wait for it.
    pub task_start_secs: f64,
    /// The share of the messages the idle wait may leave waiting for a start (0-1).
    pub miss_budget: f64,
    /// The shortest idle wait, minutes (the deployment's `IDLE_SCALE_IN_MINUTES`).
    pub fewest_idle_minutes: u32,
    /// The longest idle wait, minutes.
    pub most_idle_minutes: u32,
    /// Minutes of the newest history whose median minute the floor keeps up with (0: the floor is only the one task
    /// of an active queue).
    pub floor_minutes: usize,
    /// Headroom: while the queue is active, the floor also keeps the tasks that would serve, within the promise and
    /// without a start, the messages of one task start at this quantile of the history's start windows (0-1; 0: no
    /// headroom).
    pub headroom_quantile: f64,
}

/// What the queue's arrivals ask to keep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KeepAlive {
    /// Minutes without a message before the fleet may go to its minimum.
    pub idle_minutes: u32,
    /// The fewest tasks to keep for the recent arrivals (the minimum capacity is raised to it).
    pub floor_tasks: u32,
    /// Whether a message was sent within the idle wait, at the history's end.
    pub active: bool,
    /// The median messages a minute of the newest `floor_minutes` (0 when the floor does not read it).
    pub median_per_minute: f64,
    /// The messages sent in one task start (whole minutes) at the headroom's quantile of the history (0 without
    /// headroom).
    pub start_window_messages: f64,
    /// The tasks that serve them within the promise without a start (0 without headroom or while inactive).
    pub headroom_tasks: u32,
    /// The share of the history's messages the chosen wait would have left waiting for a start.
    pub missed_share: f64,
}

impl KeepAlive {
    /// The minimum capacity it asks for: `configured_min` raised to the floor.
    pub fn minimum(&self, configured_min: u32) -> u32 {
        configured_min.max(self.floor_tasks)
    }
}

/// The keep-alive for `sent_per_minute` (the queue's NumberOfMessagesSent, one value a minute, oldest first, the
/// newest delivered minute last; a missing minute counts as 0), when a message takes `mpd_secs`, for `model`'s
/// concurrency and target utilization, at most `max_capacity` tasks.
pub fn keep_alive(
    sent_per_minute: &[f64],
    mpd_secs: f64,
    model: &CapacityModel,
    max_capacity: u32,
    settings: &KeepAliveSettings,
) -> KeepAlive {
    let (idle_minutes, missed_share) = idle_minutes(sent_per_minute, settings);
    let recent = &sent_per_minute[sent_per_minute.len().saturating_sub(settings.floor_minutes)..];
    let median_per_minute = median(recent);
    let mpd = if mpd_secs.is_finite() && mpd_secs > 0.0 {
        mpd_secs
    } else {
        1.0
    };
    let per_task_per_minute = 60.0 * f64::from(model.concurrency.max(1)) / mpd
        * model.target_utilization.clamp(0.05, 1.0);
    let active = sent_per_minute
        .iter()
        .rev()
        .take(idle_minutes as usize)
        .any(|v| *v > 0.0);
    let (start_window_messages, headroom_tasks) = if settings.headroom_quantile > 0.0 {
        let start_minutes = start_minutes(settings.task_start_secs);
        let messages = start_window_quantile(
            sent_per_minute,
            start_minutes,
            settings.headroom_quantile.min(1.0),
        );
        // A task serves concurrency ÷ MPD messages a second; those of the window must be done by its end plus
        // the promise (Little's law on the window's average, no utilization margin: it is spare capacity).
        let window_secs = (start_minutes * 60) as f64 + model.promise_secs.max(0.0);
        let tasks = messages * mpd / (f64::from(model.concurrency.max(1)) * window_secs);
        (messages, if active { tasks.ceil() as u32 } else { 0 })
    } else {
        (0.0, 0)
    };
    let floor_tasks = ((median_per_minute / per_task_per_minute).ceil() as u32)
        .max(u32::from(active))
        .max(headroom_tasks)
        .min(max_capacity);
    KeepAlive {
        idle_minutes,
        floor_tasks,
        active,
        median_per_minute,
        missed_share,
        start_window_messages,
        headroom_tasks,
    }
}

/// Whole minutes of a task start, at least one.
fn start_minutes(task_start_secs: f64) -> usize {
    (task_start_secs.max(0.0) / 60.0).ceil().max(1.0) as usize
}

/// The `quantile` (nearest rank) of the messages sent in each run of `window` consecutive minutes of `sent`.
fn start_window_quantile(sent: &[f64], window: usize, quantile: f64) -> f64 {
    if sent.is_empty() {
        return 0.0;
    }
    let window = window.clamp(1, sent.len());
    let mut sums: Vec<f64> = sent
        .windows(window)
        .map(|w| w.iter().map(|v| v.max(0.0)).sum())
        .collect();
    sums.sort_by(f64::total_cmp);
    let rank = ((quantile * sums.len() as f64).ceil() as usize).clamp(1, sums.len());
    sums[rank - 1]
}

/// The shortest idle wait within the settings' bounds whose gaps would have left at most the miss budget waiting,
/// with the share it leaves (the longest wait when none does).
fn idle_minutes(sent: &[f64], settings: &KeepAliveSettings) -> (u32, f64) {
    let fewest = settings.fewest_idle_minutes.max(1);
    let most = settings.most_idle_minutes.max(fewest);
    let total: f64 = sent.iter().map(|v| v.max(0.0)).sum();
    if total <= 0.0 {
        return (fewest, 0.0);
    }
    let start_minutes = start_minutes(settings.task_start_secs);
    // Each gap (a run of quiet minutes between two busy ones) with the messages of the start after it.
    let mut gaps: Vec<(u32, f64)> = Vec::new();
    let mut quiet = 0u32;
    let mut seen_busy = false;
    for (m, &v) in sent.iter().enumerate() {
        if v > 0.0 {
            if seen_busy && quiet > 0 {
                let waiting: f64 = sent[m..(m + start_minutes).min(sent.len())]
                    .iter()
                    .map(|v| v.max(0.0))
                    .sum();
                gaps.push((quiet, waiting));
            }
            seen_busy = true;
            quiet = 0;
        } else {
            quiet += 1;
        }
    }
    let missed = |wait: u32| -> f64 {
        gaps.iter()
            .filter(|(len, _)| *len > wait)
            .map(|(_, w)| *w)
            .sum::<f64>()
            / total
    };
    for wait in fewest..=most {
        let share = missed(wait);
        if share <= settings.miss_budget {
            return (wait, share);
        }
    }
    (most, missed(most))
}

/// The keep-alive's own cadence in a deployment, minutes: the updater's keep-alive schedule (the templates'
/// `rate(5 minutes)`, checked against this) runs it between the hourly runs. Measured against hourly only
/// (docs/design.md, "Keeping the promise on real traffic"): the light streams and a queue's first hour gain, and a
/// falling load's floor comes down sooner.
pub const EVERY_MINUTES: u32 = 5;

/// Minutes of history the keep-alive reads: the last day.
pub const HISTORY_MINUTES: usize = 24 * 60;

/// The headroom quantile the advice prices (`bpi plan --history`, the what-if): the 99th percentile of the history's
/// start windows.
pub const ADVICE_HEADROOM_QUANTILE: f64 = 0.99;

/// What the keep-alive would hold over a whole history, to price it: the floor of one task while active, and the
/// headroom a start window's high quantile asks for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FloorAdvice {
    /// The keep-alive chosen on the history (its idle wait, the share of messages it leaves waiting for a start;
    /// `headroom_tasks` as if the queue were active).
    pub keep_alive: KeepAlive,
    /// The share of the history's minutes with a message sent within the idle wait before them: the floor holds then.
    pub active_share: f64,
    /// Task-hours a month (730 hours) the floor of one task holds.
    pub floor_task_hours_per_month: f64,
    /// Task-hours a month the headroom's tasks beyond that one would hold.
    pub headroom_task_hours_per_month: f64,
}

/// [`FloorAdvice`] for `sent_per_minute` (a whole history, oldest first), with `settings`' headroom quantile.
pub fn floor_advice(
    sent_per_minute: &[f64],
    mpd_secs: f64,
    model: &CapacityModel,
    max_capacity: u32,
    settings: &KeepAliveSettings,
) -> FloorAdvice {
    let mut k = keep_alive(sent_per_minute, mpd_secs, model, max_capacity, settings);
    if !k.active && settings.headroom_quantile > 0.0 {
        // The headroom is held only while active: price it as the history's active minutes would hold it.
        let mut active = sent_per_minute.to_vec();
        active.push(1.0);
        let with_one = keep_alive(&active, mpd_secs, model, max_capacity, settings);
        k.headroom_tasks = with_one.headroom_tasks;
    }
    let wait = k.idle_minutes as usize;
    let mut since_message = usize::MAX;
    let mut active_minutes = 0usize;
    for &v in sent_per_minute {
        since_message = if v > 0.0 {
            0
        } else {
            since_message.saturating_add(1)
        };
        if since_message < wait {
            active_minutes += 1;
        }
    }
    let active_share = if sent_per_minute.is_empty() {
        0.0
    } else {
        active_minutes as f64 / sent_per_minute.len() as f64
    };
    const MONTH_HOURS: f64 = 730.0;
    FloorAdvice {
        keep_alive: k,
        active_share,
        floor_task_hours_per_month: active_share * MONTH_HOURS,
        headroom_task_hours_per_month: active_share
            * MONTH_HOURS
            * f64::from(k.headroom_tasks.saturating_sub(1)),
    }
}

/// What the keep-alive does to the scalable target's minimum capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum MinimumChange {
    /// RegisterScalableTarget with this MinCapacity: the floor is above the minimum in force ("a higher
    /// MinCapacity pulls capacity up to it at once", AAS user guide), or the minimum is the keep-alive's own and the
    /// floor fell.
    Set {
        /// The new minimum.
        min_capacity: u32,
    },
    /// The minimum in force is kept.
    Keep {
        /// Why.
        reason: KeepReason,
    },
}

/// Why the keep-alive leaves the minimum as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeepReason {
    /// It already is the floor.
    AtFloor,
    /// A scheduled raise of the forecaster is in force: its own lowering action sets the minimum back (to the
    /// floor of the run that wrote it).
    ForecastRaise,
    /// The service has scheduled actions of its own: one of them may have set the minimum, and the keep-alive never
    /// lowers what it did not set.
    UsersActions,
}

/// The change that brings a scalable target at `current_min` to `wanted` (the configured minimum raised to the
/// floor): a raise always (it never undoes anything), a lowering only when no scheduled action could have set the
/// minimum in force: no window of the forecaster in force (`forecast_raise_in_force`) and no scheduled action of
/// the user's (`users_actions`).
pub fn minimum_change(
    current_min: u32,
    wanted: u32,
    forecast_raise_in_force: bool,
    users_actions: bool,
) -> MinimumChange {
    if current_min == wanted {
        return MinimumChange::Keep {
            reason: KeepReason::AtFloor,
        };
    }
    if current_min < wanted {
        return MinimumChange::Set {
            min_capacity: wanted,
        };
    }
    if forecast_raise_in_force {
        return MinimumChange::Keep {
            reason: KeepReason::ForecastRaise,
        };
    }
    if users_actions {
        return MinimumChange::Keep {
            reason: KeepReason::UsersActions,
        };
    }
    MinimumChange::Set {
        min_capacity: wanted,
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().map(|x| x.max(0.0)).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> KeepAliveSettings {
        KeepAliveSettings {
            task_start_secs: 180.0,
            miss_budget: DEFAULT_MISS_BUDGET,
            fewest_idle_minutes: 3,
            most_idle_minutes: DEFAULT_MOST_IDLE_MINUTES,
            floor_minutes: FLOOR_MINUTES,
            headroom_quantile: HEADROOM_QUANTILE,
        }
    }

    fn model() -> CapacityModel {
        CapacityModel {
            promise_secs: 60.0,
            concurrency: 1,
            task_start_secs: 180.0,
            target_utilization: 0.8,
            busy_rule: crate::capacity::BusyRule::Utilization,
        }
    }

    #[test]
    fn a_light_stream_keeps_one_task_and_a_wait_longer_than_its_gaps() {
        // Four messages most minutes, a quiet stretch of 5 minutes now and then: 300 minutes.
        let sent: Vec<f64> = (0..300)
            .map(|m| if m % 50 < 5 { 0.0 } else { 4.0 })
            .collect();
        let k = keep_alive(&sent, 2.0, &model(), 60, &settings());
        assert_eq!(k.floor_tasks, 1, "an active queue keeps one task");
        assert_eq!(k.idle_minutes, 5, "no 5-minute gap may stop the fleet");
        assert_eq!(k.missed_share, 0.0);
    }

    #[test]
    fn the_floor_follows_the_median_minute_not_a_burst() {
        let settings = KeepAliveSettings {
            floor_minutes: 60,
            ..settings()
        };
        // 600 messages in one minute of the hour, nothing else: the median minute is empty.
        let mut sent = vec![0.0; 60];
        sent[30] = 600.0;
        let k = keep_alive(&sent, 2.0, &model(), 60, &settings);
        assert_eq!(
            k.floor_tasks, 0,
            "a burst 29 quiet minutes ago keeps nothing"
        );
        assert!(!k.active);
        sent[58] = 1.0;
        let k = keep_alive(&sent, 2.0, &model(), 60, &settings);
        assert_eq!(
            k.floor_tasks, 1,
            "a message within the idle wait keeps a task"
        );
        // 120 a minute of 2 s: 4 tasks of work, 5 at 80%.
        let k = keep_alive(&[120.0; 60], 2.0, &model(), 60, &settings);
        assert_eq!(k.floor_tasks, 5);
        assert_eq!(
            keep_alive(&[120.0; 60], 2.0, &model(), 3, &settings).floor_tasks,
            3,
            "at most the maximum"
        );
        assert_eq!(
            keep_alive(&[120.0; 60], 2.0, &model(), 60, &self::settings()).floor_tasks,
            1,
            "by default the floor is the one task of an active queue"
        );
    }

    #[test]
    fn headroom_keeps_the_tasks_a_start_windows_high_quantile_needs_while_active() {
        let settings = KeepAliveSettings {
            headroom_quantile: 0.99,
            ..settings()
        };
        // 2 a minute, and a spike of 300 in one minute of the 300: a 3-minute start window holds up to 304.
        let mut sent = vec![2.0; 300];
        sent[100] = 300.0;
        let k = keep_alive(&sent, 2.0, &model(), 60, &settings);
        // The 99th percentile of the 298 windows: the 3 windows holding the spike are above it (2.98 of 298 = 1%).
        assert_eq!(k.start_window_messages, 304.0);
        // 304 messages of 2 s within the start and the promise (240 s), one at a time per task: 2.53, so 3.
        assert_eq!((k.headroom_tasks, k.floor_tasks), (3, 3));
        let lower = keep_alive(
            &sent,
            2.0,
            &model(),
            60,
            &KeepAliveSettings {
                headroom_quantile: 0.98,
                ..settings
            },
        );
        assert_eq!(
            (lower.start_window_messages, lower.floor_tasks),
            (6.0, 1),
            "a lower quantile leaves the spike out"
        );
        // Inactive: no headroom however large the history's windows.
        sent[290..].fill(0.0);
        let k = keep_alive(&sent, 2.0, &model(), 60, &settings);
        assert!(!k.active);
        assert_eq!((k.headroom_tasks, k.floor_tasks), (0, 0));
        // Off by default.
        assert_eq!(
            keep_alive(&[300.0; 60], 2.0, &model(), 60, &self::settings()).headroom_tasks,
            0
        );
    }

    #[test]
    fn the_advice_prices_the_floor_by_the_minutes_it_holds() {
        // Busy 10 minutes of every 60 (2 a minute), 600 minutes: with the shortest wait (3) the floor holds 12 of 60.
        let sent: Vec<f64> = (0..600)
            .map(|m| if m % 60 < 10 { 2.0 } else { 0.0 })
            .collect();
        let advice = floor_advice(
            &sent,
            2.0,
            &model(),
            60,
            &KeepAliveSettings {
                miss_budget: 1.0,
                headroom_quantile: ADVICE_HEADROOM_QUANTILE,
                ..settings()
            },
        );
        assert_eq!(advice.keep_alive.idle_minutes, 3);
        assert!(
            (advice.active_share - 12.0 / 60.0).abs() < 1e-9,
            "{advice:?}"
        );
        assert!((advice.floor_task_hours_per_month - 146.0).abs() < 1e-6);
        assert_eq!(advice.keep_alive.headroom_tasks, 1, "6 messages a start");
        assert_eq!(advice.headroom_task_hours_per_month, 0.0);
    }

    #[test]
    fn rare_long_gaps_keep_the_shortest_wait_and_frequent_ones_lengthen_it() {
        // Busy hours with 20-minute nights between: the messages after each night are few of the whole.
        let mut sent = Vec::new();
        for _ in 0..5 {
            sent.extend(std::iter::repeat_n(10.0, 600));
            sent.extend(std::iter::repeat_n(0.0, 20));
        }
        let k = keep_alive(&sent, 2.0, &model(), 60, &settings());
        assert_eq!(k.idle_minutes, 3, "4 gaps × 30 messages of 3,000 is 0.4%");
        // One message every 8 minutes: every gap's message would wait unless the wait covers 7 quiet minutes.
        let sparse: Vec<f64> = (0..480)
            .map(|m| if m % 8 == 0 { 1.0 } else { 0.0 })
            .collect();
        let k = keep_alive(&sparse, 2.0, &model(), 60, &settings());
        assert_eq!(k.idle_minutes, 7);
        // Gaps longer than the longest wait: the longest, and the share it leaves said.
        let rare: Vec<f64> = (0..600)
            .map(|m| if m % 120 == 0 { 1.0 } else { 0.0 })
            .collect();
        let k = keep_alive(&rare, 2.0, &model(), 60, &settings());
        assert_eq!(k.idle_minutes, 60);
        assert!(k.missed_share > 0.5);
        // Nothing sent: the shortest wait, no floor.
        let k = keep_alive(&[0.0; 100], 2.0, &model(), 60, &settings());
        assert_eq!((k.idle_minutes, k.floor_tasks, k.active), (3, 0, false));
    }

    #[test]
    fn the_minimum_is_raised_always_and_lowered_only_when_nothing_else_set_it() {
        let set = |n| MinimumChange::Set { min_capacity: n };
        let keep = |reason| MinimumChange::Keep { reason };
        assert_eq!(minimum_change(0, 1, false, false), set(1));
        assert_eq!(
            minimum_change(0, 1, true, true),
            set(1),
            "a raise undoes nothing"
        );
        assert_eq!(
            minimum_change(2, 2, false, false),
            keep(KeepReason::AtFloor)
        );
        assert_eq!(minimum_change(3, 1, false, false), set(1));
        assert_eq!(
            minimum_change(5, 1, true, false),
            keep(KeepReason::ForecastRaise)
        );
        assert_eq!(
            minimum_change(5, 1, false, true),
            keep(KeepReason::UsersActions)
        );
    }
}
