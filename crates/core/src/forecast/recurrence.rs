//! When something recurs (every hour, or at a minute of the day on some weekdays), as cron expressions of
//! Application Auto Scaling write and read it, and the epoch-minute arithmetic under it.

use std::fmt;

use serde::Serialize;

use super::*;
use crate::calendar::{CivilDate, civil_from_days, days_from_civil};

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

    pub(super) fn empty(len: u8) -> Slots {
        Slots { bits: 0, len }
    }

    /// Whether `slot` is in the set.
    pub fn contains(self, slot: u8) -> bool {
        slot < self.len && self.bits & (1 << slot) != 0
    }

    pub(super) fn insert(&mut self, slot: u8) {
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
    pub(super) fn rotated(self, by: i64) -> Slots {
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

/// An epoch minute as `YYYY-MM-DDTHH:MMZ`.
pub fn epoch_minute_utc(epoch_minute: u64) -> String {
    let days = i64::try_from(epoch_minute / DAY_MINUTES).unwrap_or(i64::MAX);
    let CivilDate { year, month, day } = civil_from_days(days);
    let minute_of_day = epoch_minute % DAY_MINUTES;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}Z",
        minute_of_day / 60,
        minute_of_day % 60
    )
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

/// `yyyy-mm-ddThh:mm:00` (UTC) as an epoch minute (days-from-civil, proleptic Gregorian).
pub(super) fn parse_at(at: &str) -> Option<u64> {
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
    let days = u64::try_from(days_from_civil(CivilDate {
        year: *y,
        month: u32::try_from(*m).ok()?,
        day: u32::try_from(*day).ok()?,
    }))
    .ok()?;
    Some(days * DAY_MINUTES + hh * 60 + mm)
}
