//! The oracle: the physical limit any policy is measured against. It knows every arrival and duration in advance
//! and serves the queue in arrival order (as SQS roughly does), with the same task start latency, launch quota and
//! maximum tasks as the policies:
//!
//! - each message goes to the slot that frees last among those free by its deadline (arrival + promise), which
//!   packs the work onto few tasks; if none is, a new task is launched exactly one start latency before the message arrives, so that it starts at
//!   once (while the maximum allows; beyond it, the message waits for the slot that frees first);
//! - a task idle for longer than the start latency is stopped and launched again one start latency before its next
//!   message (a gap costs min(gap, start latency)); the scenario's minimum tasks run throughout;
//! - where the launch quota does not allow a launch at its moment, it is launched earlier (the extra time billed).
//!
//! Its share within the promise is the best any FIFO server with that maximum can reach. Its task-hours are a
//! greedy schedule's, a near-lower bound rather than a proven minimum.
//!
//! The **reactive limit** ([`Foresight::LearnsOnArrival`]) is what reacting at the instant of arrival can reach, and what it
//! costs. Its rules:
//! - it learns of a message when the message arrives, and serves the queue in arrival order;
//! - a message goes to a running task's slot free when it arrives (the task busy most recently, so that the others
//!   can idle out), else to the running slot that frees first when that is by its deadline; else a task is launched
//!   as it arrives (a stopped one again, or a new one while the maximum allows), ready one start latency later,
//!   unless a running slot frees sooner; beyond the maximum, the running slot that frees first;
//! - a task idle for one start latency is stopped (it keeps a task as long as a start costs, the best an online
//!   rule can do against an adversary, at most twice the cost of hindsight), so a message after a longer gap pays a
//!   start, as it does for a policy; the minimum runs throughout;
//! - launches wait for the launch quota (the oracle's are moved earlier instead);
//! - billing: every life of a task from its launch to one start latency after its last work.
//!
//! It bounds any policy that learns of work only when it arrives and keeps no spare task beyond one start latency's
//! idling. A policy that keeps spare tasks ahead of the work (a fixed fleet, a low KEDA queueLength, a longer idle
//! wait) can beat its share, paying in task-hours.

use std::collections::BTreeSet;

use crate::launch::{LaunchLimiter, extra_ms_moving_earlier};
use crate::policies::PolicyKind;
use crate::report::{Report, RunFigures, Timeline};
use crate::scenario::{Arrival, Scenario};
use crate::settings::SimSettings;

/// What the schedule knows before a message arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Foresight {
    /// Every arrival and duration in advance: the oracle.
    KnowsEveryArrival,
    /// Nothing before it arrives: the reactive limit.
    LearnsOnArrival,
}

/// The oracle's (or with [`Foresight::LearnsOnArrival`], the reactive limit's) report for `arrivals` on `scenario`.
pub fn run(
    scenario: &Scenario,
    arrivals: &[Arrival],
    settings: &SimSettings,
    foresight: Foresight,
) -> Report {
    let mut schedule = Schedule::new(scenario, settings);
    let mut waits = Vec::with_capacity(arrivals.len());
    let mut processed = 0u64;
    for a in arrivals {
        let slot = match foresight {
            Foresight::KnowsEveryArrival => schedule.slot_with_foresight(a.at_ms),
            Foresight::LearnsOnArrival => schedule.slot_reacting(a.at_ms),
        };
        let Some((free, slot)) = slot else {
            continue;
        };
        let start = free.max(a.at_ms);
        let done = schedule.assign(free, slot, start, a.work_ms);
        waits.push((start.min(schedule.end_ms).saturating_sub(a.at_ms)) as f64 / 1000.0);
        if done <= schedule.end_ms {
            processed += 1;
        }
    }
    let (billed_ms, launches) = match foresight {
        Foresight::KnowsEveryArrival => schedule.billed_with_foresight(settings),
        Foresight::LearnsOnArrival => schedule.billed_reacting(),
    };

    waits.sort_by(f64::total_cmp);
    let work_ms: u64 = arrivals.iter().map(|a| a.work_ms).sum();
    Report::new(
        scenario,
        match foresight {
            Foresight::KnowsEveryArrival => PolicyKind::Oracle,
            Foresight::LearnsOnArrival => PolicyKind::ReactiveLimit,
        },
        settings,
        &waits,
        RunFigures {
            processed,
            duplicates: 0,
            task_ms: billed_ms,
            work_ms,
            scaling_actions: launches,
            target_changes: 0,
            events: arrivals.len() as u64,
        },
        Timeline(Vec::new()),
    )
}

/// The tasks' slots and what each task has done: the state both schedules share.
struct Schedule {
    promise_ms: u64,
    start_ms: u64,
    end_ms: u64,
    /// The minimum's tasks are billed from here (a learning period is not scored).
    scored_from_ms: u64,
    concurrency: usize,
    min: usize,
    max: usize,
    /// Busy intervals per task.
    busy: Vec<Vec<(u64, u64)>>,
    /// Slots as (free at, slot).
    slots: BTreeSet<(u64, usize)>,
    slot_task: Vec<usize>,
    /// Per task: when its work ends (the reactive limit stops it one start latency later).
    last_end_ms: Vec<u64>,
    /// Per task: the launch of its current life, and the billed time of its earlier lives (the reactive limit).
    life_start_ms: Vec<u64>,
    earlier_lives_ms: Vec<u64>,
    launches: u32,
    limiter: LaunchLimiter,
}

impl Schedule {
    fn new(scenario: &Scenario, settings: &SimSettings) -> Self {
        let mut s = Schedule {
            promise_ms: (scenario.latency_secs * 1000.0) as u64,
            start_ms: settings.model.task_start_secs * 1000,
            end_ms: scenario.duration_secs * 1000,
            scored_from_ms: scenario.scored_from_secs * 1000,
            concurrency: scenario.concurrency.max(1) as usize,
            min: scenario.min_tasks as usize,
            max: scenario.max_tasks.max(1) as usize,
            busy: Vec::new(),
            slots: BTreeSet::new(),
            slot_task: Vec::new(),
            last_end_ms: Vec::new(),
            life_start_ms: Vec::new(),
            earlier_lives_ms: Vec::new(),
            launches: 0,
            limiter: LaunchLimiter::new(settings.model.launch_quota),
        };
        for _ in 0..s.min {
            s.add_task(0, 0);
        }
        s
    }

    /// A new task launched at `launch_ms`, its slots free at `ready_ms`; returns it.
    fn add_task(&mut self, launch_ms: u64, ready_ms: u64) -> usize {
        let task = self.busy.len();
        self.busy.push(Vec::new());
        self.last_end_ms.push(ready_ms);
        self.life_start_ms.push(launch_ms);
        self.earlier_lives_ms.push(0);
        for _ in 0..self.concurrency {
            self.slots.insert((ready_ms, self.slot_task.len()));
            self.slot_task.push(task);
        }
        task
    }

    /// The slot of `task` that frees first.
    fn first_slot_of(&self, task: usize) -> Option<(u64, usize)> {
        self.slots
            .iter()
            .find(|(_, slot)| self.slot_task[*slot] == task)
            .copied()
    }

    /// Runs `work_ms` on `slot` (free at `free`) from `start`; returns when it is done.
    fn assign(&mut self, free: u64, slot: usize, start: u64, work_ms: u64) -> u64 {
        self.slots.remove(&(free, slot));
        let done = start + work_ms;
        let task = self.slot_task[slot];
        self.busy[task].push((start, done));
        self.last_end_ms[task] = self.last_end_ms[task].max(done);
        self.slots.insert((done, slot));
        done
    }

    /// The oracle's choice for a message arriving at `at_ms`: of the slots free by its deadline, the one that frees
    /// last (packs the work onto few tasks, so the others idle long enough to stop); else a new task ready as it
    /// arrives; beyond the maximum, the slot that frees first.
    fn slot_with_foresight(&mut self, at_ms: u64) -> Option<(u64, usize)> {
        let deadline = at_ms + self.promise_ms;
        if let Some(chosen) = self.slots.range(..=(deadline, usize::MAX)).next_back() {
            return Some(*chosen);
        }
        if self.busy.len() < self.max {
            // Ready when the message arrives (no earlier than a launch at the run's start allows).
            let ready = at_ms.max(self.start_ms);
            let task = self.add_task(ready - self.start_ms, ready);
            return self.first_slot_of(task);
        }
        self.slots.first().copied()
    }

    /// Whether `task` is running at `at_ms`: always for the minimum, else until one start latency after its work.
    fn alive(&self, task: usize, at_ms: u64) -> bool {
        task < self.min || at_ms <= self.last_end_ms[task] + self.start_ms
    }

    /// The reactive limit's choice for a message arriving at `at_ms`, as a dispatcher without foresight would
    /// make it: a running slot free now (on the task busy most recently, so that the others can idle out); else the
    /// running slot that frees first, when that is by the message's deadline; else a task launched now (a stopped
    /// one again, or a new one), unless a running slot frees before it would be ready; beyond the maximum, the
    /// running slot that frees first.
    fn slot_reacting(&mut self, at_ms: u64) -> Option<(u64, usize)> {
        let deadline = at_ms + self.promise_ms;
        let free_now = self
            .slots
            .range(..=(at_ms, usize::MAX))
            .filter(|(_, slot)| self.alive(self.slot_task[*slot], at_ms))
            .max_by_key(|(_, slot)| (self.last_end_ms[self.slot_task[*slot]], *slot))
            .copied();
        if free_now.is_some() {
            return free_now;
        }
        let soonest = self
            .slots
            .iter()
            .find(|(_, slot)| self.alive(self.slot_task[*slot], at_ms))
            .copied();
        if soonest.is_some_and(|(free, _)| free <= deadline.max(at_ms + self.start_ms)) {
            return soonest;
        }
        let stopped = (self.min..self.busy.len()).find(|&t| !self.alive(t, at_ms));
        if stopped.is_none() && self.busy.len() >= self.max {
            return soonest;
        }
        let launch = self.limiter.admit(at_ms);
        let ready = launch + self.start_ms;
        self.launches += 1;
        let task = match stopped {
            Some(task) => {
                // Its earlier life ended one start latency after its work.
                self.earlier_lives_ms[task] += self.life_end_ms(task) - self.life_start_ms[task];
                self.life_start_ms[task] = launch;
                self.last_end_ms[task] = ready;
                let freed: Vec<(u64, usize)> = self
                    .slots
                    .iter()
                    .filter(|(_, slot)| self.slot_task[*slot] == task)
                    .copied()
                    .collect();
                for (free, slot) in freed {
                    self.slots.remove(&(free, slot));
                    self.slots.insert((ready, slot));
                }
                task
            }
            None => self.add_task(launch, ready),
        };
        self.first_slot_of(task)
    }

    /// When the reactive limit stops `task`'s current life: one start latency after its work, at most the end.
    fn life_end_ms(&self, task: usize) -> u64 {
        (self.last_end_ms[task] + self.start_ms).min(self.end_ms)
    }

    /// The reactive limit's billing: every life from its launch to one start latency after its work; the minimum
    /// throughout. Returns (billed ms, launches).
    fn billed_reacting(&self) -> (u64, u32) {
        let billed = (0..self.busy.len())
            .map(|task| {
                if task < self.min {
                    self.end_ms.saturating_sub(self.scored_from_ms)
                } else {
                    let start = self.life_start_ms[task].min(self.end_ms);
                    self.earlier_lives_ms[task] + self.life_end_ms(task).saturating_sub(start)
                }
            })
            .sum();
        (billed, self.launches)
    }

    /// The oracle's billing: each task's busy time merged, gaps up to the start latency bridged, a relaunch one
    /// start latency before the work after a longer one, launches moved earlier where the quota requires (the extra
    /// time billed); the minimum throughout. Returns (billed ms, launches).
    fn billed_with_foresight(&mut self, settings: &SimSettings) -> (u64, u32) {
        let (start_ms, end_ms) = (self.start_ms, self.end_ms);
        let mut billed_ms = 0u64;
        let mut launches: Vec<u64> = Vec::new();
        for (task, intervals) in self.busy.iter_mut().enumerate() {
            if task < self.min {
                billed_ms += end_ms.saturating_sub(self.scored_from_ms);
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
        billed_ms += extra_ms_moving_earlier(&mut launches, settings.model.launch_quota);
        (billed_ms, launches.len() as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::launch::LaunchQuota;
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
            scored_from_secs: 0,
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

    fn settings(launch_quota: LaunchQuota) -> SimSettings {
        SimSettings {
            model: AwsModel {
                task_start_secs: 60,
                launch_quota,
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
            &settings(LaunchQuota::UNLIMITED),
            Foresight::KnowsEveryArrival,
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
            &settings(LaunchQuota::UNLIMITED),
            Foresight::KnowsEveryArrival,
        );
        assert!((r.within_promise - 14.0 / 60.0).abs() < 1e-9);
    }

    #[test]
    fn the_minimum_runs_throughout_and_short_gaps_are_bridged() {
        // One task always (1 h), serving two messages 100 s apart: no extra task.
        let mut a = burst(600, 1, 10);
        a.extend(burst(700, 1, 10));
        let r = run(
            &scenario(1, 5, 60.0),
            &a,
            &settings(LaunchQuota::UNLIMITED),
            Foresight::KnowsEveryArrival,
        );
        assert!((r.task_hours - 1.0).abs() < 1e-9);
    }

    #[test]
    fn the_launch_rate_moves_launches_earlier() {
        // 9 launches at the same moment, one every 3 s: 3 + 6 + ... + 24 s = 108 s more.
        let one_every_3_secs = LaunchQuota {
            burst: 1,
            per_sec: 1.0 / 3.0,
            per_service_per_minute: 0,
        };
        let free = run(
            &scenario(0, 50, 60.0),
            &burst(600, 60, 10),
            &settings(LaunchQuota::UNLIMITED),
            Foresight::KnowsEveryArrival,
        );
        let limited = run(
            &scenario(0, 50, 60.0),
            &burst(600, 60, 10),
            &settings(one_every_3_secs),
            Foresight::KnowsEveryArrival,
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
            &settings(LaunchQuota::UNLIMITED),
            Foresight::LearnsOnArrival,
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
            &settings(LaunchQuota::UNLIMITED),
            Foresight::LearnsOnArrival,
        );
        assert_eq!(r.within_promise, 1.0);
        assert!(r.p50_secs > 60.0, "{}", r.p50_secs);
    }

    #[test]
    fn a_running_fleet_needs_no_foresight() {
        // One task always, messages 100 s apart: the reactive limit serves each at once, like the oracle.
        let mut a = burst(600, 1, 10);
        a.extend(burst(700, 1, 10));
        let r = run(
            &scenario(1, 5, 60.0),
            &a,
            &settings(LaunchQuota::UNLIMITED),
            Foresight::LearnsOnArrival,
        );
        assert_eq!(r.max_secs, 0.0);
        assert!((r.task_hours - 1.0).abs() < 1e-9);
    }

    #[test]
    fn the_reactive_limit_pays_a_start_after_every_gap_longer_than_one() {
        // Two messages of 10 s, 300 s apart, no minimum, promise 60 s, start 60 s. The oracle relaunches its task one
        // start ahead of each: both start at once, 2 × (60 + 10) s billed. The reactive limit launches at each
        // arrival (its task stopped 60 s after the first message's work): both wait 60 s, and each life bills its
        // start, its work and one start latency of idling.
        let mut a = burst(600, 1, 10);
        a.extend(burst(900, 1, 10));
        let quota = LaunchQuota::UNLIMITED;
        let oracle = run(
            &scenario(0, 5, 60.0),
            &a,
            &settings(quota),
            Foresight::KnowsEveryArrival,
        );
        assert_eq!(oracle.max_secs, 0.0);
        assert!((oracle.task_hours * 3600.0 - 140.0).abs() < 1e-6);
        let reactive = run(
            &scenario(0, 5, 60.0),
            &a,
            &settings(quota),
            Foresight::LearnsOnArrival,
        );
        assert_eq!((reactive.p50_secs, reactive.max_secs), (60.0, 60.0));
        assert_eq!(
            reactive.within_promise, 1.0,
            "60 s is within a 60 s promise"
        );
        assert!(
            (reactive.task_hours * 3600.0 - 2.0 * 130.0).abs() < 1e-6,
            "{}",
            reactive.task_hours * 3600.0
        );
        // A gap within one start latency is bridged: the second message, 50 s after the first's work, starts at once.
        let mut close = burst(600, 1, 10);
        close.extend(burst(720, 1, 10));
        let bridged = run(
            &scenario(0, 5, 60.0),
            &close,
            &settings(quota),
            Foresight::LearnsOnArrival,
        );
        assert_eq!(bridged.max_secs, 60.0, "only the first waits for its start");
        // One life: launched at 600 s, work until 730 s, stopped at 790 s.
        assert!((bridged.task_hours * 3600.0 - 190.0).abs() < 1e-6);
    }
}
