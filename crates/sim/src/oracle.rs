//! The oracle: the physical limit any policy is measured against. It knows every arrival and duration in advance
//! and serves the queue in arrival order (as SQS roughly does), with the same task start latency, launch rate and
//! maximum tasks as the policies:
//!
//! - each message goes to the slot that frees last among those free by its deadline (arrival + promise), which
//!   packs the work onto few tasks; if none is, a new task is launched exactly one start latency before the message arrives, so that it starts at
//!   once (while the maximum allows; beyond it, the message waits for the slot that frees first);
//! - a task idle for longer than the start latency is stopped and launched again one start latency before its next
//!   message (a gap costs min(gap, start latency)); the scenario's minimum tasks run throughout;
//! - where the launch rate does not allow a launch at its moment, it is launched earlier (the extra time billed).
//!
//! Its share within the promise is the best any FIFO server with that maximum can reach. Its task-hours are a
//! greedy schedule's, a near-lower bound rather than a proven minimum.
//!
//! The **reactive limit** ([`Foresight::None`]) is the same schedule without the knowledge of the future: a task
//! launched for a message is ready one start latency after that message arrives, never before it. It bounds what a
//! policy can reach that learns of work only when it arrives and keeps no spare task for it (any scaling policy
//! that follows the queue, however fast it reads): it reacts at the instant of arrival with exactly the tasks it
//! needs. It stays optimistic where a bound may be: a task stopped after an idle gap is assumed back in time, and
//! the launch rate is billed as for the oracle rather than delaying the tasks. A policy that keeps spare tasks
//! ahead of the work (a fixed fleet, a low KEDA queueLength) can beat it, paying in task-hours.

use std::collections::BTreeSet;

use crate::engine::SimSettings;
use crate::policies::PolicyKind;
use crate::report::{Report, RunFigures, Timeline};
use crate::scenario::{Arrival, Scenario};

/// What the schedule knows before a message arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Foresight {
    /// Every arrival and duration in advance: the oracle.
    Full,
    /// Nothing before it arrives: the reactive limit.
    None,
}

/// The oracle's (or with [`Foresight::None`], the reactive limit's) report for `arrivals` on `scenario`.
pub fn run(
    scenario: &Scenario,
    arrivals: &[Arrival],
    settings: &SimSettings,
    foresight: Foresight,
) -> Report {
    let promise_ms = (scenario.latency_secs * 1000.0) as u64;
    let start_ms = settings.model.task_start_secs * 1000;
    let end_ms = scenario.duration_secs * 1000;
    let c = scenario.concurrency.max(1) as usize;
    let min = scenario.min_tasks as usize;
    let max = scenario.max_tasks.max(1) as usize;

    // Busy intervals per task; slots as (free at, slot), with each slot's task.
    let mut busy: Vec<Vec<(u64, u64)>> = Vec::new();
    let mut slots: BTreeSet<(u64, usize)> = BTreeSet::new();
    let mut slot_task: Vec<usize> = Vec::new();
    let add_task = |busy: &mut Vec<Vec<(u64, u64)>>,
                    slots: &mut BTreeSet<(u64, usize)>,
                    slot_task: &mut Vec<usize>,
                    ready: u64| {
        let task = busy.len();
        busy.push(Vec::new());
        for _ in 0..c {
            slots.insert((ready, slot_task.len()));
            slot_task.push(task);
        }
    };
    for _ in 0..min {
        add_task(&mut busy, &mut slots, &mut slot_task, 0);
    }
    let mut waits = Vec::with_capacity(arrivals.len());
    let mut processed = 0u64;
    for a in arrivals {
        let deadline = a.at_ms + promise_ms;
        // Best fit: of the slots free by the deadline, the one that frees last (packs the work onto few tasks, so
        // the others idle long enough to stop).
        let mut chosen = slots.range(..=(deadline, usize::MAX)).next_back().copied();
        if chosen.is_none() && busy.len() < max {
            match foresight {
                Foresight::Full => {
                    // Ready when the message arrives (no earlier than a launch at the run's start allows).
                    add_task(&mut busy, &mut slots, &mut slot_task, a.at_ms.max(start_ms));
                    chosen = slots
                        .range(..=(a.at_ms.max(start_ms), usize::MAX))
                        .next_back()
                        .copied();
                }
                Foresight::None => {
                    // Launched as the message arrives, ready a start latency later, unless a running slot frees
                    // sooner.
                    let ready = a.at_ms + start_ms;
                    if slots.first().is_none_or(|(free, _)| *free > ready) {
                        add_task(&mut busy, &mut slots, &mut slot_task, ready);
                    }
                }
            }
        }
        // Beyond the maximum: the slot that frees first.
        let Some((free, slot)) = chosen.or_else(|| slots.first().copied()) else {
            continue;
        };
        slots.remove(&(free, slot));
        let start = free.max(a.at_ms);
        let done = start + a.work_ms;
        busy[slot_task[slot]].push((start, done));
        slots.insert((done, slot));
        waits.push((start.min(end_ms).saturating_sub(a.at_ms)) as f64 / 1000.0);
        if done <= end_ms {
            processed += 1;
        }
    }

    // Billing: merge each task's busy time, bridge gaps up to the start latency, relaunch after longer ones.
    let mut billed_ms = 0u64;
    let mut launches: Vec<u64> = Vec::new();
    for (task, intervals) in busy.iter_mut().enumerate() {
        if task < min {
            billed_ms += end_ms;
            continue;
        }
        intervals.sort_unstable();
        let mut covered_until: Option<u64> = None;
        for &(from, to) in intervals.iter() {
            let from = from.min(end_ms);
            let to = to.min(end_ms);
            match covered_until {
                None => {
                    let launch = from.saturating_sub(start_ms);
                    launches.push(launch);
                    billed_ms += to - launch;
                    covered_until = Some(to);
                }
                Some(until) if from <= until => {
                    billed_ms += to.saturating_sub(until);
                    covered_until = Some(until.max(to));
                }
                Some(until) => {
                    let gap = from - until;
                    if gap > start_ms {
                        launches.push(from - start_ms);
                        billed_ms += start_ms;
                    } else {
                        billed_ms += gap;
                    }
                    billed_ms += to - from;
                    covered_until = Some(to);
                }
            }
        }
    }
    billed_ms += launch_rate_extra_ms(&mut launches, settings.model.launches_per_minute);

    waits.sort_by(f64::total_cmp);
    let work_ms: u64 = arrivals.iter().map(|a| a.work_ms).sum();
    Report::new(
        scenario,
        match foresight {
            Foresight::Full => PolicyKind::Oracle,
            Foresight::None => PolicyKind::ReactiveLimit,
        },
        settings,
        &waits,
        RunFigures {
            processed,
            duplicates: 0,
            task_ms: billed_ms,
            work_ms,
            scaling_actions: launches.len() as u32,
            target_changes: 0,
            events: arrivals.len() as u64,
        },
        Timeline(Vec::new()),
    )
}

/// Moves launches earlier so that at most `per_minute` happen a minute (evenly spaced); returns the extra billed
/// time.
fn launch_rate_extra_ms(launches: &mut [u64], per_minute: u32) -> u64 {
    if per_minute == 0 {
        return 0;
    }
    let spacing = 60_000 / u64::from(per_minute);
    launches.sort_unstable_by(|a, b| b.cmp(a));
    let mut extra = 0;
    let mut previous: Option<u64> = None;
    for t in launches.iter() {
        let allowed = previous.map_or(*t, |p| (*t).min(p.saturating_sub(spacing)));
        extra += t - allowed;
        previous = Some(allowed);
    }
    extra
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AwsModel;
    use crate::scenario::{Arrivals, Durations};
    use bpi_core::DurationDistribution;

    fn scenario(min: u32, max: u32, latency_secs: f64) -> Scenario {
        Scenario {
            name: "hand".into(),
            description: "worked by hand".into(),
            duration_secs: 3600,
            arrivals: Arrivals::Burst {
                at_secs: 600,
                count: 0,
            },
            durations: Durations::fixed(DurationDistribution::Constant { secs: 10.0 }),
            latency_secs,
            concurrency: 1,
            min_tasks: min,
            max_tasks: max,
            visibility_timeout_secs: 30,
            declared_mpd_secs: 10.0,
        }
    }

    fn burst(at_secs: u64, n: usize, work_secs: u64) -> Vec<Arrival> {
        vec![
            Arrival {
                at_ms: at_secs * 1000,
                work_ms: work_secs * 1000
            };
            n
        ]
    }

    fn settings(launches_per_minute: u32) -> SimSettings {
        SimSettings {
            model: AwsModel {
                task_start_secs: 60,
                launches_per_minute,
                ..AwsModel::default()
            },
            ..SimSettings::default()
        }
    }

    #[test]
    fn a_burst_gets_just_enough_tasks_started_ahead_of_it() {
        // 60 messages of 10 s at 10:00, promise 60 s: a task serves 7 in time (starts 0, 10, ..., 60 s), so 9 tasks;
        // each bills its start (60 s) plus its work. Nothing waits past the promise.
        let r = run(
            &scenario(0, 50, 60.0),
            &burst(600, 60, 10),
            &settings(0),
            Foresight::Full,
        );
        assert_eq!(r.within_promise, 1.0);
        assert_eq!(r.max_secs, 60.0);
        // 8 tasks × 7 messages + 1 task × 4: work 600 s, plus 9 starts of 60 s = 1,140 s.
        assert!(
            (r.task_hours - 1140.0 / 3600.0).abs() < 1e-9,
            "{}",
            r.task_hours
        );
    }

    #[test]
    fn the_maximum_bounds_the_share_within_the_promise() {
        // 2 tasks at most: 7 + 7 in time, the other 46 late.
        let r = run(
            &scenario(0, 2, 60.0),
            &burst(600, 60, 10),
            &settings(0),
            Foresight::Full,
        );
        assert!((r.within_promise - 14.0 / 60.0).abs() < 1e-9);
    }

    #[test]
    fn the_minimum_runs_throughout_and_short_gaps_are_bridged() {
        // One task always (1 h), serving two messages 100 s apart: no extra task.
        let mut a = burst(600, 1, 10);
        a.extend(burst(700, 1, 10));
        let r = run(&scenario(1, 5, 60.0), &a, &settings(0), Foresight::Full);
        assert!((r.task_hours - 1.0).abs() < 1e-9);
    }

    #[test]
    fn the_launch_rate_moves_launches_earlier() {
        // 9 launches at the same moment at 20 a minute (3 s apart): 3 + 6 + ... + 24 s = 108 s more.
        let free = run(
            &scenario(0, 50, 60.0),
            &burst(600, 60, 10),
            &settings(0),
            Foresight::Full,
        );
        let limited = run(
            &scenario(0, 50, 60.0),
            &burst(600, 60, 10),
            &settings(20),
            Foresight::Full,
        );
        assert!(((limited.task_hours - free.task_hours) * 3600.0 - 108.0).abs() < 1e-6);
    }

    #[test]
    fn the_reactive_limit_starts_its_tasks_a_start_latency_after_the_burst() {
        // Same burst, promise 60 s, start 60 s: a task launched as the burst arrives starts work at 60 s, just in
        // time for one message each; 50 tasks at most serve 50 of the 60 in time.
        let r = run(
            &scenario(0, 50, 60.0),
            &burst(600, 60, 10),
            &settings(0),
            Foresight::None,
        );
        assert!(
            (r.within_promise - 50.0 / 60.0).abs() < 1e-9,
            "{}",
            r.within_promise
        );
        assert_eq!(r.policy, "reactive-limit");
        // With a promise of 120 s, 7 tasks launched at arrival serve 7 each from 60 s to 120 s (49), the other
        // 11 need more tasks: 9 in all, everything in time, later than the oracle.
        let r = run(
            &scenario(0, 50, 120.0),
            &burst(600, 60, 10),
            &settings(0),
            Foresight::None,
        );
        assert_eq!(r.within_promise, 1.0);
        assert!(r.p50_secs > 60.0, "{}", r.p50_secs);
    }

    #[test]
    fn a_running_fleet_needs_no_foresight() {
        // One task always, messages 100 s apart: the reactive limit serves each at once, like the oracle.
        let mut a = burst(600, 1, 10);
        a.extend(burst(700, 1, 10));
        let r = run(&scenario(1, 5, 60.0), &a, &settings(0), Foresight::None);
        assert_eq!(r.max_secs, 0.0);
        assert!((r.task_hours - 1.0).abs() < 1e-9);
    }
}
