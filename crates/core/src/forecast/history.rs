//! The queue's history the forecaster reads (NumberOfMessagesSent per minute) and the onsets in it: the minutes
//! where arrivals jump.

use serde::Serialize;

use super::*;

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
        SentHistory::ending_at(points, end, HISTORY_MINUTES)
    }

    /// The `minutes` before the epoch minute `end` (not held) from CloudWatch's datapoints, a minute without one 0.
    pub fn ending_at(points: &[(i64, f64)], end: u64, minutes: u64) -> SentHistory {
        let start = end.saturating_sub(minutes);
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
