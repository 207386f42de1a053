//! Anticipation: bursts that recur at the same minute of the hour or of the day become scheduled capacity.
//!
//! Why it exists: a policy that learns of work only when it arrives cannot beat the reactive limit, and with task
//! starts of up to three minutes a burst on an idle service waits for every task it needs. Most large bursts are
//! scheduled by someone (a nightly export, an hourly job, office hours), so they recur; the queue's own history
//! (NumberOfMessagesSent, one-minute sums, which CloudWatch keeps 15 days) says when. The updater (and the
//! simulator, and `bpi schedule`) run the same three steps, all here:
//!
//! 1. [`learn`]: find the minutes where arrivals jump ([`onsets`]), group them by their minute of the hour and of
//!    the day, and keep the groups that recurred in **both** of the last two cycles they were expected in (the
//!    learning period: two occurrences; the third is the first one anticipated). Expected cycles are the hours of
//!    the day (or the weekdays) the group hit within the last day (week), once that long has passed since the
//!    cycle of its first onset, else every hour (day). A group that missed its latest expected cycle stopped recurring and is
//!    dropped: a pattern that stops costs one false window at most.
//! 2. [`plan`]: each pattern becomes a window, from one task start (and a minute) before its earliest onset to
//!    [`HOLD_MINUTES`] after its latest, at the tasks the capacity model needs for its peak minute served by running
//!    tasks, capped by the maximum capacity and by [`ForecastSettings::max_task_hours`] for the whole window (what
//!    a wrong forecast can cost).
//! 3. [`actions`] and [`reconcile`]: each window is two Application Auto Scaling scheduled actions, one raising the
//!    minimum capacity, one setting it back to the configured minimum; the reconcile writes, updates and deletes
//!    only the actions whose names carry [`ACTION_PREFIX`], so a user's own scheduled actions are never touched.
//!
//! Safety by construction: an action only ever sets `MinCapacity`, to at least the configured minimum; raising it
//! pulls the desired count up (AAS user guide, scheduled scaling), lowering it changes nothing until the reactive
//! policies scale in, so a forecast never lowers capacity below what the reactive path asks.
//!
//! Times are UTC (the actions are written with `Timezone` `UTC`): a pattern kept in local time moves by an hour in
//! UTC at a daylight-saving change and is learned again in two cycles.

use std::fmt;

use serde::Serialize;

use crate::capacity::{CapacityModel, ServiceLoad};
use crate::policy::{SCALABLE_DIMENSION, SERVICE_NAMESPACE};

/// Minutes in an hour, a day, a week.
pub const HOUR_MINUTES: u64 = 60;
/// Minutes in a day.
pub const DAY_MINUTES: u64 = 1440;
/// Minutes in a week.
pub const WEEK_MINUTES: u64 = 7 * DAY_MINUTES;

/// The history the forecaster reads: 14 days (CloudWatch keeps one-minute data 15 days).
pub const HISTORY_MINUTES: u64 = 14 * DAY_MINUTES;

/// Minutes before a minute whose mean is the level a jump is measured against.
pub const LEVEL_MINUTES: usize = 15;
/// An onset's minute holds at least twice the level plus this many messages.
pub const ONSET_MIN_MESSAGES: f64 = 10.0;
/// Minutes after an onset in which no other onset is counted (one burst, one onset).
pub const ONSET_REFRACTORY_MINUTES: usize = 10;
/// Minutes from an onset over which its peak minute is taken.
pub const PEAK_MINUTES: usize = 5;
/// Onsets of one pattern lie within this many minutes of each other (the jitter a pattern may have).
pub const MAX_SPREAD_MINUTES: u64 = 10;
/// Minutes the raised minimum holds after a pattern's latest onset: the sampler sees the burst within seconds,
/// and its fast path and fast scale-in hold the fleet from there. Measured on the workload suite's tuning part
/// (`examples/recurring.rs`; docs/concepts.md, "Bursts that recur"): 5 minutes instead of 2 bought no share and cost
/// task-hours wherever a window was written.
pub const HOLD_MINUTES: u64 = 2;
/// Minutes added to the task start for the raise: AAS acts "a few seconds" after the trigger (AAS user guide,
/// scheduled scaling) and cron has whole minutes. Measured on the suite's tuning part (`examples/recurring.rs`,
/// 6 behaviours; docs/concepts.md): 2 or 3 minutes bought no share and cost task-hours, and so did sizing the window
/// above the capacity model's need.
pub const LEAD_MARGIN_MINUTES: u64 = 1;
/// Scheduled actions Application Auto Scaling holds per scalable target (AAS quotas, not adjustable).
pub const MAX_ACTIONS_PER_TARGET: usize = 200;
/// Names of the actions this project owns start with this.
pub const ACTION_PREFIX: &str = "bpi-forecast-";
/// The time zone the actions are written in.
pub const TIMEZONE: &str = "UTC";

/// Day of the week of an epoch minute, 0 = Monday (1970-01-01 was a Thursday).
pub fn weekday(epoch_minute: u64) -> u8 {
    ((epoch_minute / DAY_MINUTES + 3) % 7) as u8
}

const WEEKDAY_NAMES: [&str; 7] = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];

/// A set of small numbers (hours 0-23, weekdays 0-6) as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Slots {
    bits: u32,
    len: u8,
}

impl Slots {
    /// Every hour of the day.
    pub const ALL_HOURS: Slots = Slots {
        bits: (1 << 24) - 1,
        len: 24,
    };
    /// Every day of the week.
    pub const ALL_WEEKDAYS: Slots = Slots {
        bits: (1 << 7) - 1,
        len: 7,
    };

    fn empty(len: u8) -> Slots {
        Slots { bits: 0, len }
    }

    /// Whether `slot` is in the set.
    pub fn contains(self, slot: u8) -> bool {
        slot < self.len && self.bits & (1 << slot) != 0
    }

    fn insert(&mut self, slot: u8) {
        if slot < self.len {
            self.bits |= 1 << slot;
        }
    }

    /// How many slots are in the set.
    pub fn count(self) -> u32 {
        self.bits.count_ones()
    }

    fn is_all(self) -> bool {
        self.count() == u32::from(self.len)
    }

    /// The set moved by `by` slots, wrapping around.
    fn rotated(self, by: i64) -> Slots {
        let mut out = Slots::empty(self.len);
        let len = i64::from(self.len);
        for s in 0..self.len {
            if self.contains(s) {
                out.insert((i64::from(s) + by).rem_euclid(len) as u8);
            }
        }
        out
    }

    fn list(self, name: impl Fn(u8) -> String) -> String {
        if self.is_all() {
            return "*".into();
        }
        (0..self.len)
            .filter(|s| self.contains(*s))
            .map(name)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// When something recurs: the two shapes a cron expression of Application Auto Scaling holds as one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "every", rename_all = "kebab-case")]
pub enum Recurrence {
    /// At `minute` past each hour of `hours`, every day.
    Hourly {
        /// Minute of the hour, 0-59.
        minute: u8,
        /// Hours of the day (UTC).
        hours: Slots,
    },
    /// At `minute_of_day` on each day of `weekdays`.
    Daily {
        /// Minute of the day, 0-1439 (UTC).
        minute_of_day: u16,
        /// Days of the week, 0 = Monday.
        weekdays: Slots,
    },
    /// Once, at `epoch_minute` (`at(...)`): the raise a window's first occurrence needs when the updater writes
    /// the window after its periodic raise's minute ([`forecast`]).
    Once {
        /// When, epoch minute.
        epoch_minute: u64,
    },
}

impl Recurrence {
    /// Whether the recurrence fires at `epoch_minute`.
    pub fn fires_at(&self, epoch_minute: u64) -> bool {
        match *self {
            Recurrence::Hourly { minute, hours } => {
                epoch_minute % HOUR_MINUTES == u64::from(minute)
                    && hours.contains(((epoch_minute % DAY_MINUTES) / HOUR_MINUTES) as u8)
            }
            Recurrence::Daily {
                minute_of_day,
                weekdays,
            } => {
                epoch_minute % DAY_MINUTES == u64::from(minute_of_day)
                    && weekdays.contains(weekday(epoch_minute))
            }
            Recurrence::Once { epoch_minute: at } => epoch_minute == at,
        }
    }

    /// The first minute at or after `epoch_minute` it fires at (None: it never fires).
    pub fn next_at_or_after(&self, epoch_minute: u64) -> Option<u64> {
        let (step, first) = match *self {
            Recurrence::Hourly { minute, hours } => {
                if hours.count() == 0 {
                    return None;
                }
                let base = epoch_minute - epoch_minute % HOUR_MINUTES + u64::from(minute);
                (HOUR_MINUTES, base)
            }
            Recurrence::Daily {
                minute_of_day,
                weekdays,
            } => {
                if weekdays.count() == 0 {
                    return None;
                }
                let base = epoch_minute - epoch_minute % DAY_MINUTES + u64::from(minute_of_day);
                (DAY_MINUTES, base)
            }
            Recurrence::Once { epoch_minute: at } => return (at >= epoch_minute).then_some(at),
        };
        let mut t = if first < epoch_minute {
            first + step
        } else {
            first
        };
        // Within a week every non-empty recurrence fires.
        for _ in 0..=(WEEK_MINUTES / step) {
            if self.fires_at(t) {
                return Some(t);
            }
            t += step;
        }
        None
    }

    /// The same recurrence `by` minutes later (earlier when negative), within an hour for an hourly one and a day
    /// for a daily one: crossing an hour moves the hours, crossing midnight the weekdays.
    pub fn shifted(&self, by_minutes: i64) -> Recurrence {
        match *self {
            Recurrence::Hourly { minute, hours } => {
                let t = i64::from(minute) + by_minutes;
                Recurrence::Hourly {
                    minute: t.rem_euclid(60) as u8,
                    hours: hours.rotated(t.div_euclid(60)),
                }
            }
            Recurrence::Daily {
                minute_of_day,
                weekdays,
            } => {
                let t = i64::from(minute_of_day) + by_minutes;
                Recurrence::Daily {
                    minute_of_day: t.rem_euclid(DAY_MINUTES as i64) as u16,
                    weekdays: weekdays.rotated(t.div_euclid(DAY_MINUTES as i64)),
                }
            }
            Recurrence::Once { epoch_minute } => Recurrence::Once {
                epoch_minute: epoch_minute.saturating_add_signed(by_minutes),
            },
        }
    }

    /// The Application Auto Scaling schedule: `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, or
    /// `at(yyyy-mm-ddThh:mm:ss)` for one firing.
    pub fn cron(&self) -> String {
        match *self {
            Recurrence::Hourly { minute, hours } => {
                format!("cron({minute} {} * * ? *)", hours.list(|h| h.to_string()))
            }
            Recurrence::Daily {
                minute_of_day,
                weekdays,
            } => {
                let days = weekdays.list(|d| WEEKDAY_NAMES[usize::from(d)].to_string());
                let (dom, dow) = if days == "*" {
                    ("*", "?".to_string())
                } else {
                    ("?", days)
                };
                format!(
                    "cron({} {} {dom} * {dow} *)",
                    minute_of_day % 60,
                    minute_of_day / 60
                )
            }
            Recurrence::Once { epoch_minute } => {
                format!(
                    "at({}:00)",
                    epoch_minute_utc(epoch_minute).trim_end_matches('Z')
                )
            }
        }
    }

    /// The period's name.
    pub fn period(&self) -> &'static str {
        match self {
            Recurrence::Hourly { .. } => "hourly",
            Recurrence::Daily { .. } => "daily",
            Recurrence::Once { .. } => "once",
        }
    }
}

impl fmt::Display for Recurrence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.cron())
    }
}

/// One-minute sums of NumberOfMessagesSent, oldest first, from `start_epoch_minute` (a missing minute is 0).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SentHistory {
    /// The epoch minute (minutes since 1970-01-01 UTC) of `per_minute[0]`.
    pub start_epoch_minute: u64,
    /// Messages sent in each minute.
    pub per_minute: Vec<f64>,
}

/// Minutes of the newest history left out: SQS publishes a minute's NumberOfMessagesSent about a minute after it
/// (SQS developer guide: metrics pushed every minute; the lag is a guess), and a minute not yet published would
/// read as a burst that did not come.
pub const DELIVERY_MARGIN_MINUTES: u64 = 5;

impl SentHistory {
    /// The epoch minute just after the last one held.
    pub fn end_epoch_minute(&self) -> u64 {
        self.start_epoch_minute + self.per_minute.len() as u64
    }

    /// The [`HISTORY_MINUTES`] before `now_epoch_secs` (less [`DELIVERY_MARGIN_MINUTES`]) from CloudWatch's
    /// datapoints, (epoch seconds of the minute's start, Sum): a minute without one holds 0 (a queue asleep
    /// publishes nothing; nothing was sent to it either).
    pub fn from_datapoints(points: &[(i64, f64)], now_epoch_secs: u64) -> SentHistory {
        let end = (now_epoch_secs / 60).saturating_sub(DELIVERY_MARGIN_MINUTES);
        let start = end.saturating_sub(HISTORY_MINUTES);
        let mut per_minute = vec![0.0; (end - start) as usize];
        for (t, v) in points {
            let Ok(secs) = u64::try_from(*t) else {
                continue;
            };
            let m = secs / 60;
            if (start..end).contains(&m) {
                per_minute[(m - start) as usize] += v.max(0.0);
            }
        }
        SentHistory {
            start_epoch_minute: start,
            per_minute,
        }
    }
}

/// A minute where arrivals jump well above the level before it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Onset {
    /// When, epoch minute.
    pub epoch_minute: u64,
    /// The most messages sent in one minute of the [`PEAK_MINUTES`] from it.
    pub peak_per_minute: f64,
}

/// The onsets of `history`: minutes holding at least twice the mean of the [`LEVEL_MINUTES`] before them plus
/// [`ONSET_MIN_MESSAGES`], at most one per [`ONSET_REFRACTORY_MINUTES`]. A smooth swing (a day's traffic) has
/// none; a dump, the start of a busy period or of an hourly job has one.
pub fn onsets(history: &SentHistory) -> Vec<Onset> {
    let c = &history.per_minute;
    let mut out = Vec::new();
    // The level is the mean of up to LEVEL_MINUTES before: at the start of the history, of those there are.
    let mut level_sum = 0.0;
    let mut i = 1;
    if let Some(first) = c.first() {
        level_sum = *first;
    }
    let step = |i: usize, level_sum: &mut f64| {
        *level_sum += c[i];
        if i >= LEVEL_MINUTES {
            *level_sum -= c[i - LEVEL_MINUTES];
        }
    };
    while i < c.len() {
        let level = level_sum / i.min(LEVEL_MINUTES) as f64;
        if c[i] >= 2.0 * level + ONSET_MIN_MESSAGES {
            let peak = c[i..(i + PEAK_MINUTES).min(c.len())]
                .iter()
                .copied()
                .fold(0.0, f64::max);
            out.push(Onset {
                epoch_minute: history.start_epoch_minute + i as u64,
                peak_per_minute: peak,
            });
            let next = (i + ONSET_REFRACTORY_MINUTES).min(c.len());
            for j in i..next {
                step(j, &mut level_sum);
            }
            i = next;
            continue;
        }
        step(i, &mut level_sum);
        i += 1;
    }
    out
}

/// A burst that recurs: the evidence and when it is expected.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pattern {
    /// When it recurs, at its earliest onset.
    pub recurrence: Recurrence,
    /// Minutes between its earliest and latest onset (its jitter).
    pub spread_minutes: u64,
    /// The onsets it was learned from, epoch minutes, oldest first.
    pub occurrences: Vec<u64>,
    /// The peak minute of its last two occurrences, messages.
    pub peak_per_minute: f64,
}

/// Onsets grouped by their phase within `period` minutes: sorted by phase, a group ends where the next phase is
/// more than [`MAX_SPREAD_MINUTES`] / 2 away or the group would spread past [`MAX_SPREAD_MINUTES`].
fn groups_by_phase(onsets: &[Onset], period: u64) -> Vec<Vec<Onset>> {
    let mut sorted: Vec<Onset> = onsets.to_vec();
    sorted.sort_by_key(|o| (o.epoch_minute % period, o.epoch_minute));
    let mut out: Vec<Vec<Onset>> = Vec::new();
    for o in sorted {
        let phase = o.epoch_minute % period;
        if let Some(g) = out.last_mut() {
            let first = g[0].epoch_minute % period;
            let last = g[g.len() - 1].epoch_minute % period;
            if phase - last <= MAX_SPREAD_MINUTES / 2 && phase - first <= MAX_SPREAD_MINUTES {
                g.push(o);
                continue;
            }
        }
        out.push(vec![o]);
    }
    for g in &mut out {
        g.sort_by_key(|o| o.epoch_minute);
    }
    out
}

/// The pattern a group of onsets with phases in `period` makes at `now_epoch_minute`, if it recurs: it hit both of
/// the last two cycles it was expected in.
fn pattern_of(
    group: &[Onset],
    period: u64,
    history: &SentHistory,
    now_epoch_minute: u64,
) -> Option<Pattern> {
    let (super_period, slot_of): (u64, fn(u64) -> u8) = if period == HOUR_MINUTES {
        (DAY_MINUTES, |m| ((m % DAY_MINUTES) / HOUR_MINUTES) as u8)
    } else {
        (WEEK_MINUTES, weekday)
    };
    let len = if period == HOUR_MINUTES { 24 } else { 7 };
    let first_phase = group.iter().map(|o| o.epoch_minute % period).min()?;
    let last_phase = group.iter().map(|o| o.epoch_minute % period).max()?;
    // The slots it is expected in: those it hit within the last super-period, once one has passed since the
    // cycle of its first onset (a job that began two days ago recurs daily as far as anyone knows).
    let first_cycle_start = group.iter().map(|o| o.epoch_minute).min()? / period * period;
    let held = now_epoch_minute.saturating_sub(history.start_epoch_minute.max(first_cycle_start));
    let mut slots = Slots::empty(len);
    if held >= super_period {
        for o in group
            .iter()
            .filter(|o| o.epoch_minute + super_period >= now_epoch_minute)
        {
            slots.insert(slot_of(o.epoch_minute));
        }
    } else {
        slots = if len == 24 {
            Slots::ALL_HOURS
        } else {
            Slots::ALL_WEEKDAYS
        };
    }
    if slots.count() == 0 {
        return None;
    }
    // The last two expected cycles whose window has passed, within the history.
    let mut cycle = now_epoch_minute / period;
    let mut expected = Vec::new();
    while expected.len() < 2 {
        let start = cycle * period;
        if start < history.start_epoch_minute {
            return None;
        }
        let window_end = start + last_phase + PEAK_MINUTES as u64;
        if window_end <= now_epoch_minute && slots.contains(slot_of(start)) {
            expected.push(cycle);
        }
        if cycle == 0 {
            return None;
        }
        cycle -= 1;
    }
    let hit = |c: u64| group.iter().any(|o| o.epoch_minute / period == c);
    if !expected.iter().all(|c| hit(*c)) {
        return None;
    }
    let peak = group
        .iter()
        .rev()
        .take(2)
        .map(|o| o.peak_per_minute)
        .fold(0.0, f64::max);
    let recurrence = if period == HOUR_MINUTES {
        Recurrence::Hourly {
            minute: first_phase as u8,
            hours: slots,
        }
    } else {
        Recurrence::Daily {
            minute_of_day: first_phase as u16,
            weekdays: slots,
        }
    };
    Some(Pattern {
        recurrence,
        spread_minutes: last_phase - first_phase,
        occurrences: group.iter().map(|o| o.epoch_minute).collect(),
        peak_per_minute: peak,
    })
}

/// The bursts of `history` that recur, as seen at `now_epoch_minute`: hourly patterns first (those hitting at least
/// two hours of a day), then daily ones among the onsets no hourly pattern explains.
pub fn learn(history: &SentHistory, now_epoch_minute: u64) -> Vec<Pattern> {
    let all = onsets(history);
    let mut patterns: Vec<Pattern> = groups_by_phase(&all, HOUR_MINUTES)
        .iter()
        .filter_map(|g| pattern_of(g, HOUR_MINUTES, history, now_epoch_minute))
        .filter(|p| matches!(p.recurrence, Recurrence::Hourly { hours, .. } if hours.count() >= 2))
        .collect();
    let explained = |o: &Onset| {
        patterns
            .iter()
            .any(|p| p.occurrences.contains(&o.epoch_minute))
    };
    let rest: Vec<Onset> = all.iter().filter(|o| !explained(o)).copied().collect();
    patterns.extend(
        groups_by_phase(&rest, DAY_MINUTES)
            .iter()
            .filter_map(|g| pattern_of(g, DAY_MINUTES, history, now_epoch_minute)),
    );
    patterns
}

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

/// An epoch minute as `YYYY-MM-DDTHH:MMZ` (civil-from-days, proleptic Gregorian).
pub fn epoch_minute_utc(epoch_minute: u64) -> String {
    let days = (epoch_minute / DAY_MINUTES) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let minute_of_day = epoch_minute % DAY_MINUTES;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}Z",
        minute_of_day / 60,
        minute_of_day % 60
    )
}

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

/// Everything one forecast run decides, for the decision record, `bpi schedule` and the simulator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    /// The patterns learned.
    pub patterns: Vec<Pattern>,
    /// Their windows.
    pub windows: Vec<Window>,
    /// The actions wanted.
    pub actions: Vec<ScheduledActionSpec>,
}

/// Learn, plan and name the actions: the whole forecast at `now_epoch_minute`.
pub fn forecast(
    history: &SentHistory,
    now_epoch_minute: u64,
    sizing: &WindowSizing,
    settings: &ForecastSettings,
) -> Forecast {
    if settings.max_task_hours <= 0.0 {
        return Forecast {
            patterns: Vec::new(),
            windows: Vec::new(),
            actions: Vec::new(),
        };
    }
    let patterns = learn(history, now_epoch_minute);
    let windows = plan(&patterns, sizing, settings);
    let actions = actions(&windows, sizing.min_capacity, now_epoch_minute);
    Forecast {
        patterns,
        windows,
        actions,
    }
}

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

/// `yyyy-mm-ddThh:mm:00` (UTC) as an epoch minute (days-from-civil, proleptic Gregorian).
fn parse_at(at: &str) -> Option<u64> {
    let (date, time) = at.split_once('T')?;
    let d: Vec<i64> = date
        .split('-')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let t: Vec<u64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let ([y, m, day], [hh, mm, 0]) = (d.as_slice(), t.as_slice()) else {
        return None;
    };
    if !(1..=12).contains(m) || !(1..=31).contains(day) || *hh > 23 || *mm > 59 {
        return None;
    }
    let y = if *m <= 2 { y - 1 } else { *y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = u64::try_from(era * 146_097 + doe - 719_468).ok()?;
    Some(days * DAY_MINUTES + hh * 60 + mm)
}

/// The forecaster as a deployment runs it (the updater with each run, `bpi schedule` as a dry run): the history
/// from CloudWatch's NumberOfMessagesSent datapoints before `now_epoch_secs`, windows sized by the deployment's
/// capacity model at the MPD of `target` (the target in force), the record against the service's `existing`
/// actions.
pub fn schedule_for(
    config: &crate::config::UpdaterConfig,
    sent: &[(i64, f64)],
    now_epoch_secs: u64,
    target: f64,
    existing: &[ExistingAction],
    applied: bool,
) -> ScheduleRecord {
    let history = SentHistory::from_datapoints(sent, now_epoch_secs);
    let sizing = WindowSizing {
        model: config.capacity_model(),
        mpd_secs: crate::target::mpd_of_target(&config.target, target),
        min_capacity: config.policy.min_capacity,
        max_capacity: config.policy.max_capacity,
    };
    // The history ends DELIVERY_MARGIN_MINUTES before now; a cycle counts once PEAK_MINUTES past its onset, so
    // learning at the real now never reads a minute not yet published as a miss.
    let wanted = forecast(
        &history,
        now_epoch_secs / 60,
        &sizing,
        &config.forecast_settings(),
    );
    ScheduleRecord::of(&wanted, existing, now_epoch_secs / 60, applied)
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

/// Parses the cron expressions [`Recurrence::cron`] writes (None for anything else: an action not of this shape
/// is not ours to read).
pub fn parse_cron(schedule: &str) -> Option<Recurrence> {
    if let Some(at) = schedule
        .strip_prefix("at(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return parse_at(at).map(|epoch_minute| Recurrence::Once { epoch_minute });
    }
    let inner = schedule.strip_prefix("cron(")?.strip_suffix(')')?;
    let f: Vec<&str> = inner.split_whitespace().collect();
    if f.len() != 6 || f[3] != "*" || f[5] != "*" {
        return None;
    }
    let minute: u8 = f[0].parse().ok().filter(|m| *m < 60)?;
    let parse_list = |s: &str, len: u8, name: &dyn Fn(&str) -> Option<u8>| -> Option<Slots> {
        if s == "*" {
            return Some(Slots {
                bits: (1 << len) - 1,
                len,
            });
        }
        let mut slots = Slots::empty(len);
        for part in s.split(',') {
            slots.insert(name(part).filter(|v| *v < len)?);
        }
        Some(slots)
    };
    if f[2] == "*" && f[4] == "?" && f[1].parse::<u8>().is_err() {
        let hours = parse_list(f[1], 24, &|s| s.parse().ok())?;
        return Some(Recurrence::Hourly { minute, hours });
    }
    let hour: u16 = f[1].parse().ok().filter(|h| *h < 24)?;
    let weekdays = match (f[2], f[4]) {
        ("*", "?") => Slots::ALL_WEEKDAYS,
        ("?", days) => parse_list(days, 7, &|s| {
            WEEKDAY_NAMES.iter().position(|n| *n == s).map(|p| p as u8)
        })?,
        _ => return None,
    };
    Some(Recurrence::Daily {
        minute_of_day: hour * 60 + u16::from(minute),
        weekdays,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::BusyRule;

    /// 2026-11-02, a Monday, 00:00 UTC.
    const MONDAY: u64 = 29_892_960;

    fn history(days: u64, background: f64, bursts: &[(u64, f64)]) -> SentHistory {
        let mut per_minute = vec![background; (days * DAY_MINUTES) as usize];
        for (at, count) in bursts {
            if let Some(m) = per_minute.get_mut(*at as usize) {
                *m += count;
            }
        }
        SentHistory {
            start_epoch_minute: MONDAY,
            per_minute,
        }
    }

    fn sizing() -> WindowSizing {
        WindowSizing {
            model: CapacityModel {
                promise_secs: 60.0,
                concurrency: 1,
                task_start_secs: 180.0,
                target_utilization: 0.8,
                busy_rule: BusyRule::Utilization,
            },
            mpd_secs: 2.0,
            min_capacity: 0,
            max_capacity: 60,
        }
    }

    const SETTINGS: ForecastSettings = ForecastSettings {
        max_task_hours: DEFAULT_MAX_TASK_HOURS,
        task_start_secs: 180,
    };

    #[test]
    fn weekdays_and_dates_are_utc() {
        assert_eq!(weekday(MONDAY), 0);
        assert_eq!(weekday(MONDAY + 6 * DAY_MINUTES), 6);
        assert_eq!(epoch_minute_utc(MONDAY + 137), "2026-11-02T02:17Z");
        assert_eq!(epoch_minute_utc(0), "1970-01-01T00:00Z");
    }

    #[test]
    fn a_daily_dump_is_learned_from_its_second_occurrence_and_scheduled_one_task_start_ahead() {
        // 3,000 messages at 02:17 with jitter (02:17, 02:19), over 3 a minute.
        let dump = |day: u64, minute: u64| (day * DAY_MINUTES + 137 + minute, 3000.0);
        let h = history(2, 3.0, &[dump(0, 0), dump(1, 2)]);
        let now = MONDAY + DAY_MINUTES + 180;
        let patterns = learn(&h, now);
        assert_eq!(patterns.len(), 1, "{patterns:?}");
        let p = &patterns[0];
        assert_eq!(
            p.recurrence,
            Recurrence::Daily {
                minute_of_day: 137,
                weekdays: Slots::ALL_WEEKDAYS
            }
        );
        assert_eq!(p.spread_minutes, 2);
        let f = forecast(&h, now, &sizing(), &SETTINGS);
        assert_eq!(f.windows.len(), 1);
        let w = &f.windows[0];
        // 3,003 messages of 2 s within the promise, 24 a running task: 126 tasks; capped by 20 task-hours over 4 + 2 + 2 = 8
        // minutes (150) and by the maximum (60).
        assert_eq!((w.needed_tasks, w.tasks, w.window_minutes), (126, 60, 8));
        assert_eq!(w.raise.cron(), "cron(13 2 * * ? *)");
        assert_eq!(w.lower.cron(), "cron(21 2 * * ? *)");
        let names: Vec<&str> = f.actions.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            ["bpi-forecast-daily-1-raise", "bpi-forecast-daily-1-lower"]
        );
        assert_eq!(f.actions[1].min_capacity, 0, "set back to the minimum");
        assert!(
            w.why.contains("2026-11-02T02:17Z, 2026-11-03T02:19Z"),
            "{}",
            w.why
        );
        // One occurrence is not a pattern.
        let once = history(2, 3.0, &[dump(1, 0)]);
        assert!(learn(&once, now).is_empty());
    }

    #[test]
    fn a_pattern_that_misses_its_latest_cycle_is_dropped() {
        let dumps: Vec<(u64, f64)> = (0..3).map(|d| (d * DAY_MINUTES + 600, 2000.0)).collect();
        let h = history(5, 1.0, &dumps);
        assert_eq!(learn(&h, MONDAY + 2 * DAY_MINUTES + 700).len(), 1);
        assert!(
            learn(&h, MONDAY + 3 * DAY_MINUTES + 700).is_empty(),
            "day 3 had none"
        );
    }

    #[test]
    fn office_hours_become_weekdays_once_a_week_is_held() {
        // From 09:00 to 17:00 on weekdays, 100 a minute; 2 a minute otherwise; 10 days.
        let mut per_minute = vec![2.0; (10 * DAY_MINUTES) as usize];
        for d in 0..10u64 {
            if weekday(MONDAY + d * DAY_MINUTES) < 5 {
                for m in 540..1020 {
                    per_minute[(d * DAY_MINUTES + m) as usize] = 100.0;
                }
            }
        }
        let h = SentHistory {
            start_epoch_minute: MONDAY,
            per_minute,
        };
        // Wednesday of the second week, noon.
        let patterns = learn(&h, MONDAY + 9 * DAY_MINUTES + 720);
        assert_eq!(patterns.len(), 1, "{patterns:?}");
        let raise = plan(&patterns, &sizing(), &SETTINGS)[0].raise;
        assert_eq!(raise.cron(), "cron(56 8 ? * MON,TUE,WED,THU,FRI *)");
        // Saturday noon, before a week is held: Saturday broke the daily pattern.
        assert!(learn(&h, MONDAY + 5 * DAY_MINUTES + 720).is_empty());
        // Monday 08:00 of the second week: a week is held, the weekdays are known, Monday is expected.
        let monday = learn(&h, MONDAY + 7 * DAY_MINUTES + 480);
        assert_eq!(monday.len(), 1, "{monday:?}");
        let raise = plan(&monday, &sizing(), &SETTINGS)[0].raise;
        assert_eq!(
            raise.next_at_or_after(MONDAY + 7 * DAY_MINUTES + 480),
            Some(MONDAY + 7 * DAY_MINUTES + 536)
        );
    }

    #[test]
    fn an_hourly_job_is_hourly_and_a_daily_one_is_not() {
        let jobs: Vec<(u64, f64)> = (0..30).map(|h| (h * 60 + 5, 500.0)).collect();
        let h = history(2, 0.0, &jobs);
        let p = learn(&h, MONDAY + 30 * 60);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            matches!(p[0].recurrence, Recurrence::Hourly { minute: 5, hours } if hours.count() == 24)
        );
        let w = plan(&p, &sizing(), &SETTINGS);
        // Raised at minute 1, across the hour for none; lowered at minute 10.
        assert_eq!(w[0].raise.cron(), "cron(1 * * * ? *)");
        // An hourly one at minute 2 is raised at 58 of the hour before.
        let jobs: Vec<(u64, f64)> = (0..30).map(|h| (h * 60 + 2, 500.0)).collect();
        let p = learn(&history(2, 0.0, &jobs), MONDAY + 30 * 60);
        let w = plan(&p, &sizing(), &SETTINGS);
        assert_eq!(w[0].raise.cron(), "cron(58 * * * ? *)");
    }

    #[test]
    fn smooth_traffic_and_noise_have_no_onsets() {
        let per_minute: Vec<f64> = (0..3 * DAY_MINUTES)
            .map(|m| {
                let x = (m as f64 / DAY_MINUTES as f64) * std::f64::consts::TAU;
                (60.0 * (1.0 + 0.8 * x.sin())).round() + if m % 7 == 0 { 15.0 } else { 0.0 }
            })
            .collect();
        let h = SentHistory {
            start_epoch_minute: MONDAY,
            per_minute,
        };
        assert!(onsets(&h).is_empty());
    }

    #[test]
    fn the_cap_bounds_what_a_wrong_window_costs_and_zero_turns_it_off() {
        let dump = |day: u64| (day * DAY_MINUTES + 137, 3000.0);
        let h = history(2, 3.0, &[dump(0), dump(1)]);
        let now = MONDAY + DAY_MINUTES + 180;
        let capped = ForecastSettings {
            max_task_hours: 2.0,
            ..SETTINGS
        };
        let w = &plan(&learn(&h, now), &sizing(), &capped)[0];
        // 2 task-hours over 6 minutes: 20 tasks.
        assert_eq!((w.window_minutes, w.tasks), (6, 20));
        assert!(f64::from(w.tasks) * w.window_minutes as f64 / 60.0 <= 2.0);
        let off = ForecastSettings {
            max_task_hours: 0.0,
            ..SETTINGS
        };
        assert!(forecast(&h, now, &sizing(), &off).actions.is_empty());
    }

    #[test]
    fn the_reconcile_touches_only_ours_and_updates_in_place() {
        let spec = |name: &str, min: u32| ScheduledActionSpec {
            name: name.into(),
            recurrence: Recurrence::Daily {
                minute_of_day: 133,
                weekdays: Slots::ALL_WEEKDAYS,
            },
            min_capacity: min,
        };
        let existing = |name: &str, schedule: &str, min: u32| ExistingAction {
            name: name.into(),
            schedule: schedule.into(),
            timezone: Some("UTC".into()),
            min_capacity: Some(min),
        };
        let wanted = [
            spec("bpi-forecast-daily-1-raise", 60),
            spec("bpi-forecast-daily-2-raise", 5),
        ];
        let have = [
            existing("bpi-forecast-daily-1-raise", "cron(13 2 * * ? *)", 40),
            existing("bpi-forecast-daily-2-raise", "cron(13 2 * * ? *)", 5),
            existing("bpi-forecast-hourly-1-raise", "cron(1 * * * ? *)", 3),
            existing("nightly-batch", "cron(0 1 * * ? *)", 10),
        ];
        assert_eq!(
            reconcile(&wanted, &have),
            [
                ScheduleChange::Update(wanted[0].clone()),
                ScheduleChange::Delete {
                    name: "bpi-forecast-hourly-1-raise".into()
                },
            ],
            "the user's nightly-batch is left alone"
        );
        assert_eq!(
            reconcile(&[], &have[3..]),
            [],
            "nothing of ours, nothing to do"
        );
    }

    #[test]
    fn cron_expressions_round_trip_and_fire_where_they_say() {
        let office = Recurrence::Daily {
            minute_of_day: 536,
            weekdays: Slots::ALL_WEEKDAYS.rotated(0),
        };
        let mut weekdays = Slots::empty(7);
        for d in 0..5 {
            weekdays.insert(d);
        }
        let office_weekdays = Recurrence::Daily {
            minute_of_day: 536,
            weekdays,
        };
        let mut hours = Slots::empty(24);
        hours.insert(9);
        hours.insert(17);
        let hourly = Recurrence::Hourly { minute: 58, hours };
        for r in [office, office_weekdays, hourly] {
            assert_eq!(parse_cron(&r.cron()), Some(r), "{}", r.cron());
        }
        assert_eq!(parse_cron("rate(5 minutes)"), None);
        // Saturday 08:56 is not a weekday firing; Monday's is the next.
        let saturday = MONDAY + 5 * DAY_MINUTES;
        assert_eq!(
            office_weekdays.next_at_or_after(saturday),
            Some(MONDAY + 7 * DAY_MINUTES + 536)
        );
        assert_eq!(
            hourly.next_at_or_after(MONDAY + 600),
            Some(MONDAY + 17 * 60 + 58)
        );
        // Shifting a Monday 00:02 daily action 4 minutes earlier moves it to Sunday 23:58.
        let mut monday = Slots::empty(7);
        monday.insert(0);
        let early = Recurrence::Daily {
            minute_of_day: 2,
            weekdays: monday,
        }
        .shifted(-4);
        assert_eq!(early.cron(), "cron(58 23 ? * SUN *)");
    }

    #[test]
    fn next_action_is_the_earliest_firing() {
        let acts = actions(
            &plan(
                &learn(
                    &history(2, 3.0, &[(137, 3000.0), (DAY_MINUTES + 137, 3000.0)]),
                    MONDAY + DAY_MINUTES + 180,
                ),
                &sizing(),
                &SETTINGS,
            ),
            0,
            MONDAY + DAY_MINUTES + 180,
        );
        let (at, a) = next_action(&acts, MONDAY + 2 * DAY_MINUTES).expect("an action");
        assert_eq!(a.name, "bpi-forecast-daily-1-raise");
        assert_eq!(epoch_minute_utc(at), "2026-11-04T02:13Z");
    }

    #[test]
    fn a_window_written_after_its_raise_minute_gets_a_raise_now() {
        // An hourly job at :05, learned by a run at 02:02: the raise at :01 has passed, the onset at 02:05 has not.
        let jobs: Vec<(u64, f64)> = (0..2).map(|h| (h * 60 + 5, 500.0)).collect();
        let h = history(1, 0.0, &jobs);
        let now = MONDAY + 2 * 60 + 2;
        let f = forecast(&h, now, &sizing(), &SETTINGS);
        let names: Vec<&str> = f.actions.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "bpi-forecast-hourly-1-raise",
                "bpi-forecast-hourly-1-lower",
                "bpi-forecast-hourly-1-now"
            ]
        );
        let once = &f.actions[2];
        assert_eq!(once.schedule(), "at(2026-11-02T02:03:00)");
        assert_eq!(parse_cron(&once.schedule()), Some(once.recurrence));
        assert_eq!(once.min_capacity, f.windows[0].tasks);
        // Learned at 01:20, the next raise (02:01) is ahead: no raise-now.
        let later = forecast(&h, MONDAY + 60 + 20, &sizing(), &SETTINGS);
        assert_eq!(later.actions.len(), 2, "{:?}", later.actions);
    }
}
