//! The discrete-event simulation of one policy on one scenario, in virtual milliseconds.
//!
//! The engine moves messages through the [`Queue`] and the [`Fleet`] and samples the [`MetricStore`] every 10 s;
//! every 5 s it hands the policy's [`Controller`] a view of the world and applies the desired count it leaves on
//! the [`ScalableTarget`]. What AWS does between those pieces is the [`AwsModel`](crate::model::AwsModel)'s (see `model.rs` for each parameter and
//! its source):
//! - SQS: a received message is invisible until deleted or, without a heartbeat, until the visibility timeout runs
//!   out, when it is visible again and may be processed a second time.
//! - Tasks: start `task_start_secs` after launch, launched within `launch_quota`; process up to
//!   `concurrency` messages at once; billed from launch to stop. On scale-in, policies without graceful workers
//!   lose the task at once (its messages come back after the visibility timeout); ours drains a busy task picked
//!   for scale-in (SIGTERM: it takes nothing new and stops once its messages are done) and never picks one running
//!   a message longer than the drain grace (scale-in protection).
//! - CloudWatch and Application Auto Scaling: `metrics.rs` and `autoscaling.rs`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::autoscaling::ScalableTarget;
use crate::fleet::Fleet;
use crate::metrics::{Live, MINUTE_MS, MetricStore, SAMPLE_MS};
use crate::policies::{Controller, Ctx, PolicyKind};
use crate::queue::Queue;
use crate::report::{Report, RunFigures, Timeline, TimelinePoint};
use crate::scenario::{Arrival, Scenario};
use crate::schedule::ScheduledActions;
use crate::settings::SimSettings;

/// The controllers' cadence, ms (the HPA's 15 s and KEDA's 30 s are multiples of it).
const TICK_MS: u64 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// A task becomes able to receive.
    TaskReady { task: usize },
    /// A processing attempt ends (ignored if the task was stopped meanwhile).
    Complete {
        task: usize,
        msg: usize,
        attempt: u32,
    },
    /// An invisible message's visibility timeout ends.
    VisibleAgain { msg: usize, attempt: u32 },
    /// Sample the metrics and let the policy act.
    Tick,
}

struct Sim<'a> {
    scenario: &'a Scenario,
    settings: SimSettings,
    policy: PolicyKind,
    controller: Box<dyn Controller>,
    now: u64,
    events: BinaryHeap<Reverse<(u64, u64, Event)>>,
    seq: u64,
    arrivals: &'a [Arrival],
    next_arrival: usize,
    queue: Queue,
    fleet: Fleet,
    scaler: ScalableTarget,
    schedule: ScheduledActions,
    metrics: MetricStore,
    timeline: Vec<TimelinePoint>,
    events_handled: u64,
}

/// Runs `controller` on `scenario`; `policy` gives the workers' traits, the bounds and the name.
pub fn simulate_controller(
    scenario: &Scenario,
    arrivals: &[Arrival],
    policy: PolicyKind,
    controller: Box<dyn Controller>,
    settings: &SimSettings,
) -> Report {
    let (min, max) = policy.bounds(scenario);
    let model = settings.model;
    let mut sim = Sim {
        scenario,
        settings: *settings,
        policy,
        controller,
        now: 0,
        events: BinaryHeap::new(),
        seq: 0,
        arrivals,
        next_arrival: 0,
        queue: Queue::with_capacity(arrivals.len()),
        fleet: Fleet::new(
            min,
            scenario.concurrency,
            model.task_start_secs,
            model.launch_quota,
        ),
        scaler: ScalableTarget::new(min, min, max, model.cooldown_rule)
            .scale_out_holding_scale_in(model.scale_out_holds_scale_in),
        schedule: ScheduledActions::default(),
        metrics: MetricStore::new(model, settings.seed),
        timeline: Vec::new(),
        events_handled: 0,
    };
    sim.push(0, Event::Tick);
    sim.run();
    sim.report()
}

impl Sim<'_> {
    fn push(&mut self, at: u64, e: Event) {
        self.seq += 1;
        self.events.push(Reverse((at, self.seq, e)));
    }

    fn end_ms(&self) -> u64 {
        self.scenario.duration_secs * 1000
    }

    fn run(&mut self) {
        let end = self.end_ms();
        loop {
            let next_event = self.events.peek().map(|Reverse((t, _, _))| *t);
            let next_arrival = self.arrivals.get(self.next_arrival).map(|a| a.at_ms);
            let t = match (next_event, next_arrival) {
                (None, None) => break,
                (Some(e), Some(a)) => e.min(a),
                (Some(e), None) => e,
                (None, Some(a)) => a,
            };
            if t > end {
                break;
            }
            self.now = t;
            self.events_handled += 1;
            // Arrivals before events at the same instant: a message arriving when a tick samples is counted in it.
            if next_arrival == Some(t) && next_event.is_none_or(|e| t <= e) {
                let a = self.arrivals[self.next_arrival];
                self.next_arrival += 1;
                self.queue.arrive(a.at_ms, a.work_ms);
                self.metrics.record_sent(a.at_ms);
            } else if let Some(Reverse((_, _, e))) = self.events.pop() {
                self.handle(e);
            }
            self.dispatch();
        }
        self.now = end;
    }

    fn handle(&mut self, e: Event) {
        match e {
            Event::TaskReady { task } => self.fleet.ready(task),
            Event::Complete { task, msg, attempt } => {
                if !self.fleet.finish(task, msg, attempt, self.now) {
                    return;
                }
                self.metrics
                    .record_duration(self.queue.work_ms(msg) as f64 / 1000.0);
                self.queue.complete(msg);
                // A graceful task the scale-in is waiting for stops when it has nothing left.
                self.reconcile();
            }
            Event::VisibleAgain { msg, attempt } => self.queue.timeout(msg, attempt),
            Event::Tick => self.tick(),
        }
    }

    fn dispatch(&mut self) {
        let vt_ms = self.scenario.visibility_timeout_secs * 1000;
        while self.queue.visible() > 0 {
            let Some(task) = self.fleet.free_slot() else {
                break;
            };
            let Some((msg, attempt, work)) = self.queue.receive(self.now) else {
                break;
            };
            // This project's workers protect their task while running what the drain grace could not finish.
            let protected = self.policy.graceful_workers()
                && work > u64::from(bpi_core::config::DEFAULT_SHUTDOWN_GRACE_SECS) * 1000;
            self.fleet.start(task, msg, attempt, protected);
            self.push(self.now + work, Event::Complete { task, msg, attempt });
            if !self.policy.heartbeat() && work > vt_ms {
                self.push(self.now + vt_ms, Event::VisibleAgain { msg, attempt });
            }
        }
    }

    fn live(&self) -> Live {
        Live {
            visible: self.queue.visible(),
            in_flight: self.queue.in_flight(),
            running: self.fleet.running(),
            alive: self.fleet.alive(),
            busy_slots: self.fleet.busy_slots(),
            desired: self.scaler.desired(),
        }
    }

    fn tick(&mut self) {
        let live = self.live();
        if self.now.is_multiple_of(SAMPLE_MS) {
            self.metrics
                .sample(self.now, &live, self.scenario.concurrency);
        }
        self.schedule.run(
            self.now,
            self.settings.model.scheduled_action_delay_secs,
            &mut self.scaler,
        );
        let mut ctx = Ctx {
            now_ms: self.now,
            live,
            metrics: &self.metrics,
            scaler: &mut self.scaler,
            scenario: self.scenario,
            model: &self.settings.model,
            updater_every_ms: self.settings.updater_every_secs * 1000,
            sampler_fails_at_ms: self.settings.sampler_fails_at_secs.map(|s| s * 1000),
            schedule: &mut self.schedule,
        };
        self.controller.tick(&mut ctx);
        self.reconcile();
        if self.now > 0 && self.now.is_multiple_of(MINUTE_MS) {
            self.timeline.push(TimelinePoint {
                minute: self.now / MINUTE_MS,
                visible: self.queue.visible(),
                in_flight: self.queue.in_flight(),
                tasks: self.fleet.alive(),
                desired: self.scaler.desired(),
                target: self.controller.target(),
                max_wait_secs: None,
            });
        }
        if self.now + TICK_MS <= self.end_ms() {
            self.push(self.now + TICK_MS, Event::Tick);
        }
    }

    /// Brings the fleet to the desired count: launches, or stops tasks (graceful workers drain, and not while
    /// protected; others at once, their messages visible again after the visibility timeout, the worst case).
    fn reconcile(&mut self) {
        let desired = self.scaler.desired();
        for (task, ready_at) in self.fleet.grow_to(desired, self.now) {
            self.push(ready_at, Event::TaskReady { task });
        }
        let vt_ms = self.scenario.visibility_timeout_secs * 1000;
        let lost = self
            .fleet
            .shrink_to(desired, self.now, self.policy.graceful_workers());
        for (msg, attempt) in lost {
            self.push(self.now + vt_ms, Event::VisibleAgain { msg, attempt });
        }
    }

    /// The timeline with each minute's longest wait of the messages first started in it (a point at minute m
    /// describes the minute before it).
    fn with_waits(&self, msgs: &[crate::queue::Msg]) -> Vec<TimelinePoint> {
        let mut timeline = self.timeline.clone();
        for m in msgs {
            let Some(start) = m.first_start_ms else {
                continue;
            };
            let wait = start.saturating_sub(m.arrival_ms) as f64 / 1000.0;
            // Index i holds the point of minute i + 1, which describes minute i.
            let point = (start / MINUTE_MS) as usize;
            if let Some(p) = timeline.get_mut(point) {
                p.max_wait_secs = Some(p.max_wait_secs.map_or(wait, |w| w.max(wait)));
            }
        }
        timeline
    }

    fn report(&self) -> Report {
        let end = self.end_ms();
        let from = self.scenario.scored_from_secs * 1000;
        let all = self.queue.messages();
        let msgs: Vec<&crate::queue::Msg> = all.iter().filter(|m| m.arrival_ms >= from).collect();
        let mut waits: Vec<f64> = msgs
            .iter()
            .map(|m| (m.first_start_ms.unwrap_or(end).saturating_sub(m.arrival_ms)) as f64 / 1000.0)
            .collect();
        waits.sort_by(f64::total_cmp);
        let mut report = Report::new(
            self.scenario,
            self.policy,
            &self.settings,
            &waits,
            RunFigures {
                processed: msgs.iter().filter(|m| m.done).count() as u64,
                duplicates: msgs
                    .iter()
                    .map(|m| u64::from(m.completions.saturating_sub(1)))
                    .sum(),
                task_ms: self.fleet.billed_between(from, end),
                work_ms: msgs.iter().map(|m| m.work_ms).sum(),
                scaling_actions: self.scaler.actions(),
                target_changes: self.controller.target_changes(),
                events: self.events_handled,
            },
            Timeline(self.with_waits(all)),
        );
        report.desired_changes = self
            .scaler
            .changes()
            .iter()
            .map(|(t, n)| (*t as f64 / 1000.0, *n))
            .collect();
        report.minutes = self.metrics.minutes().to_vec();
        report
    }
}
