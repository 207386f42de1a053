//! Onsets grouped into the bursts that recur, and the cycles each is expected in.

use serde::Serialize;

use super::*;

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
