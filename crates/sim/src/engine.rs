//! The discrete-event simulation of one policy on one scenario, in virtual milliseconds.
//!
//! Model (each piece as AWS documents it, simplified where said):
//! - SQS: a FIFO of visible messages; a received message is invisible until deleted or, without a heartbeat, until
//!   the visibility timeout runs out, when it is visible again and may be processed a second time.
//! - Tasks: start `task_start_secs` after launch; process up to `concurrency` messages at once; billed from launch to
//!   stop. On scale-in, policies without graceful workers lose the task at once (its messages come back after the
//!   visibility timeout); ours only ever stops idle tasks (scale-in protection while busy; drain on SIGTERM).
//! - CloudWatch: queue depth and RunningTaskCount sampled every 10 s, averaged per minute (the Average statistic),
//!   and visible to alarms `metric_delay_secs` after the minute ends (SQS publishes 1-minute metrics with a delay).
//! - Target tracking (AWS docs, practitioner-reported datapoints): scale out when the last 3 datapoints are above
//!   the target, to ceil(max(desired, 1) × metric / target); scale in when the last 15 are below 90% of it, towards the same
//!   formula but conservatively (AWS: target tracking scales in gradually), here by at most 10% of the capacity
//!   (at least one task) per action; scale-out and scale-in cooldowns; no datapoint (missing data) means no action;
//!   a scale-out ends a scale-in cooldown. With several target tracking policies (ours: ecsBPI and utilization),
//!   AWS scales out when any asks, to the largest capacity asked, and in only when all are ready to (AWS docs,
//!   "Multiple scaling policies").
//! - Step policies (ours): the scale-from-zero activation (alarm on backlog while no task runs, `ExactCapacity`
//!   ⌈backlog / target⌉) and the idle policy (nothing visible or in flight for `idle_minutes` datapoints: the
//!   minimum at once).
//! - The updater (ours): every hour, core's `estimate_mpd` over the last hour of per-minute statistic sets of the
//!   measured durations, core's `target_bpi`, and core's `decide_update` with the 10% hysteresis.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use bpi_core::policy::{
    DEFAULT_IDLE_MINUTES, DEFAULT_TARGET_UTILIZATION_PCT, Metric, PolicySettings,
    UtilizationSettings, target_tracking_config,
};
use bpi_core::{
    BacklogCounting, QueueDepth, StatisticSet, TargetSettings, backlog_per_task, decide_update,
    estimate_mpd, target_bpi,
};

use crate::autoscaling::{self, Decision, Tracker};
use crate::policy::PolicyKind;
use crate::report::{Report, Timeline, TimelinePoint};
use crate::scenario::{Arrival, Scenario};

/// Simulation settings that are not the scenario's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimSettings {
    /// Seed of the arrivals.
    pub seed: u64,
    /// Seconds after a minute ends before its datapoint can trigger an alarm.
    pub metric_delay_secs: u64,
    /// Updater cadence (ours and the blueprint), seconds.
    pub updater_every_secs: u64,
    /// vCPU of a task.
    pub task_vcpu: f64,
    /// Memory of a task, GB.
    pub task_gb: f64,
    /// Fargate price per vCPU-hour (ARM64, us-east-1 list price).
    pub vcpu_hour_usd: f64,
    /// Fargate price per GB-hour (ARM64, us-east-1 list price).
    pub gb_hour_usd: f64,
}

impl Default for SimSettings {
    fn default() -> Self {
        SimSettings {
            seed: 1,
            metric_delay_secs: 60,
            updater_every_secs: 3600,
            task_vcpu: 0.25,
            task_gb: 0.5,
            vcpu_hour_usd: 0.032_38,
            gb_hour_usd: 0.003_56,
        }
    }
}

const SAMPLE_MS: u64 = 10_000;
const MINUTE_MS: u64 = 60_000;

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
    /// Sample the metrics; evaluate scaling on minute boundaries.
    Tick,
}

#[derive(Debug, Clone, Default)]
struct Msg {
    arrival_ms: u64,
    work_ms: u64,
    first_start_ms: Option<u64>,
    done: bool,
    /// Increments on every receive; a VisibleAgain of an older attempt is stale.
    attempt: u32,
    /// Queue generation: a queue entry is valid only with the current one.
    queue_gen: u32,
    in_queue: bool,
    completions: u32,
}

#[derive(Debug, Clone)]
struct Task {
    launched_ms: u64,
    ready: bool,
    stopped_ms: Option<u64>,
    /// (message, attempt) being processed.
    running: Vec<(usize, u32)>,
}

impl Task {
    fn alive(&self) -> bool {
        self.stopped_ms.is_none()
    }
}

/// Per-minute observations (averages of the 10 s samples).
#[derive(Debug, Clone, Copy, Default)]
struct Minute {
    visible: f64,
    in_flight: f64,
    running: f64,
    visible_max: f64,
    in_flight_max: f64,
}

struct Sim<'a> {
    scenario: &'a Scenario,
    settings: SimSettings,
    policy: PolicyKind,
    now: u64,
    events: BinaryHeap<Reverse<(u64, u64, Event)>>,
    seq: u64,
    msgs: Vec<Msg>,
    arrivals: &'a [Arrival],
    next_arrival: usize,
    queue: VecDeque<(usize, u32)>,
    visible: u64,
    done: u64,
    tasks: Vec<Task>,
    desired: u32,
    // Metrics.
    samples: Vec<Minute>,
    minutes: Vec<Minute>,
    stat_sets: Vec<StatisticSet>,
    minute_stats: StatisticSet,
    // Scaling state.
    target: f64,
    last_scale_out_ms: Option<u64>,
    last_scale_in_ms: Option<u64>,
    keda_history: VecDeque<(u64, u32)>,
    scaling_actions: u32,
    target_changes: u32,
    timeline: Vec<TimelinePoint>,
    events_handled: u64,
}

/// Runs `policy` on `scenario`.
pub fn simulate(scenario: &Scenario, policy: PolicyKind, settings: &SimSettings) -> Report {
    let arrivals = scenario.arrivals(settings.seed);
    simulate_arrivals(scenario, &arrivals, policy, settings)
}

/// Runs `policy` on `scenario` with the given arrivals (sorted by time).
pub fn simulate_arrivals(
    scenario: &Scenario,
    arrivals: &[Arrival],
    policy: PolicyKind,
    settings: &SimSettings,
) -> Report {
    let initial = min_tasks(scenario, policy);
    let mut sim = Sim {
        scenario,
        settings: *settings,
        policy,
        now: 0,
        events: BinaryHeap::new(),
        seq: 0,
        msgs: Vec::with_capacity(arrivals.len()),
        arrivals,
        next_arrival: 0,
        queue: VecDeque::new(),
        visible: 0,
        done: 0,
        tasks: Vec::new(),
        desired: 0,
        samples: Vec::new(),
        minutes: Vec::new(),
        stat_sets: Vec::new(),
        minute_stats: StatisticSet::default(),
        target: initial_target(scenario, policy),
        last_scale_out_ms: None,
        last_scale_in_ms: None,
        keda_history: VecDeque::new(),
        scaling_actions: 0,
        target_changes: 0,
        timeline: Vec::new(),
        events_handled: 0,
    };
    // Tasks running at the start are already up.
    for _ in 0..initial {
        sim.tasks.push(Task {
            launched_ms: 0,
            ready: true,
            stopped_ms: None,
            running: Vec::new(),
        });
    }
    sim.desired = initial;
    sim.push(0, Event::Tick);
    sim.run();
    sim.report()
}

/// The policy's fewest tasks: the scenario's, except the blueprint's, which is fixed at 1.
fn min_tasks(scenario: &Scenario, policy: PolicyKind) -> u32 {
    if policy == PolicyKind::Blueprint {
        scenario.min_tasks.max(1)
    } else {
        scenario.min_tasks
    }
}

fn initial_target(scenario: &Scenario, policy: PolicyKind) -> f64 {
    let c = f64::from(scenario.concurrency);
    match policy {
        PolicyKind::Ours => {
            let s = TargetSettings::new(
                scenario.latency_secs,
                scenario.concurrency,
                scenario.declared_mpd_secs,
                10_000,
            )
            .unwrap_or_else(|_| unreachable!("scenario settings are valid"));
            f64::from(target_bpi(&s, None).value)
        }
        // The blueprint hard-codes 60 s and 5 s.
        PolicyKind::Blueprint => (60.0_f64 / 5.0).floor(),
        PolicyKind::Copilot => (scenario.latency_secs / scenario.declared_mpd_secs).ceil(),
        PolicyKind::KedaLike => (c * scenario.latency_secs / scenario.declared_mpd_secs)
            .floor()
            .max(1.0),
        PolicyKind::Cdk => 0.0,
    }
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
            if next_arrival == Some(t) && next_event.is_none_or(|e| a_first(t, e)) {
                let a = self.arrivals[self.next_arrival];
                self.next_arrival += 1;
                let id = self.msgs.len();
                self.msgs.push(Msg {
                    arrival_ms: a.at_ms,
                    work_ms: a.work_ms,
                    ..Msg::default()
                });
                self.enqueue(id);
            } else if let Some(Reverse((_, _, e))) = self.events.pop() {
                self.handle(e);
            }
            self.dispatch();
        }
        self.now = end;
    }

    fn enqueue(&mut self, id: usize) {
        let m = &mut self.msgs[id];
        if m.done || m.in_queue {
            return;
        }
        m.in_queue = true;
        m.queue_gen += 1;
        self.queue.push_back((id, m.queue_gen));
        self.visible += 1;
    }

    fn handle(&mut self, e: Event) {
        match e {
            Event::TaskReady { task } => {
                if self.tasks[task].alive() {
                    self.tasks[task].ready = true;
                }
            }
            Event::Complete { task, msg, attempt } => {
                let t = &mut self.tasks[task];
                if !t.alive() {
                    return;
                }
                t.running.retain(|&(m, a)| (m, a) != (msg, attempt));
                let work_secs = self.msgs[msg].work_ms as f64 / 1000.0;
                self.minute_stats.sum_secs += work_secs;
                self.minute_stats.sample_count += 1.0;
                let m = &mut self.msgs[msg];
                m.completions += 1;
                if !m.done {
                    m.done = true;
                    self.done += 1;
                    if m.in_queue {
                        m.in_queue = false;
                        self.visible -= 1;
                    }
                }
                // A graceful task the scale-in is waiting for stops when it has nothing left.
                self.reconcile_scale_in();
            }
            Event::VisibleAgain { msg, attempt } => {
                if self.msgs[msg].attempt == attempt && !self.msgs[msg].done {
                    self.enqueue(msg);
                }
            }
            Event::Tick => self.tick(),
        }
    }

    fn dispatch(&mut self) {
        let c = self.scenario.concurrency as usize;
        let vt_ms = self.scenario.visibility_timeout_secs * 1000;
        while self.visible > 0 {
            let Some(task) = self
                .tasks
                .iter()
                .position(|t| t.alive() && t.ready && t.running.len() < c)
            else {
                break;
            };
            let Some((id, queue_gen)) = self.queue.pop_front() else {
                break;
            };
            let m = &mut self.msgs[id];
            if !m.in_queue || m.queue_gen != queue_gen {
                continue;
            }
            m.in_queue = false;
            self.visible -= 1;
            m.attempt += 1;
            let attempt = m.attempt;
            m.first_start_ms.get_or_insert(self.now);
            let work = m.work_ms;
            self.tasks[task].running.push((id, attempt));
            self.push(
                self.now + work,
                Event::Complete {
                    task,
                    msg: id,
                    attempt,
                },
            );
            if !self.policy.heartbeat() && work > vt_ms {
                self.push(self.now + vt_ms, Event::VisibleAgain { msg: id, attempt });
            }
        }
    }

    fn running_tasks(&self) -> u32 {
        self.tasks.iter().filter(|t| t.alive() && t.ready).count() as u32
    }

    fn alive_tasks(&self) -> u32 {
        self.tasks.iter().filter(|t| t.alive()).count() as u32
    }

    fn in_flight(&self) -> u64 {
        (self.msgs.len() as u64).saturating_sub(self.done + self.visible)
    }

    fn tick(&mut self) {
        let sample = Minute {
            visible: self.visible as f64,
            in_flight: self.in_flight() as f64,
            running: f64::from(self.running_tasks()),
            visible_max: self.visible as f64,
            in_flight_max: self.in_flight() as f64,
        };
        self.samples.push(sample);
        if self.policy == PolicyKind::KedaLike && self.now.is_multiple_of(30_000) {
            self.keda();
        }
        if self.now.is_multiple_of(MINUTE_MS) && self.now > 0 {
            let n = self.samples.len() as f64;
            let minute = Minute {
                visible: self.samples.iter().map(|s| s.visible).sum::<f64>() / n,
                in_flight: self.samples.iter().map(|s| s.in_flight).sum::<f64>() / n,
                running: self.samples.iter().map(|s| s.running).sum::<f64>() / n,
                visible_max: self
                    .samples
                    .iter()
                    .map(|s| s.visible_max)
                    .fold(0.0, f64::max),
                in_flight_max: self
                    .samples
                    .iter()
                    .map(|s| s.in_flight_max)
                    .fold(0.0, f64::max),
            };
            self.samples.clear();
            self.minutes.push(minute);
            self.stat_sets.push(std::mem::take(&mut self.minute_stats));
            if self
                .now
                .is_multiple_of(self.settings.updater_every_secs * 1000)
            {
                self.update_target();
            }
            self.evaluate();
            self.timeline.push(TimelinePoint {
                minute: self.now / MINUTE_MS,
                visible: self.visible,
                in_flight: self.in_flight(),
                tasks: self.alive_tasks(),
                desired: self.desired,
                target: self.target,
            });
        }
        if self.now + SAMPLE_MS <= self.end_ms() {
            self.push(self.now + SAMPLE_MS, Event::Tick);
        }
    }

    /// The datapoints alarms can see now: every minute that ended at least `metric_delay_secs` ago.
    fn visible_minutes(&self) -> &[Minute] {
        let delay_minutes = self.settings.metric_delay_secs.div_ceil(60) as usize;
        &self.minutes[..self.minutes.len().saturating_sub(delay_minutes)]
    }

    fn metric(&self, m: &Minute) -> Option<f64> {
        let depth = |v: f64, f: f64| QueueDepth {
            visible: v.round() as u64,
            in_flight: f.round() as u64,
        };
        match self.policy {
            // e1 = IF(m3 > 0, (m1 + m2) / m3, m1 + m2), core's expression, with core's statistics.
            PolicyKind::Ours => {
                // The statistic is the one core's canonical spec asks of CloudWatch.
                let peak = bpi_core::policy::QUEUE_DEPTH_STAT == "Maximum";
                let backlog = if peak {
                    m.visible_max + m.in_flight_max
                } else {
                    m.visible + m.in_flight
                };
                Some(if m.running > 0.0 {
                    backlog / m.running
                } else {
                    backlog
                })
            }
            // visible / running: no datapoint at zero running tasks.
            PolicyKind::Blueprint => (m.running > 0.0).then(|| m.visible / m.running),
            // The Copilot Lambda reads live counts; the integer form mirrors its ceil().
            PolicyKind::Copilot => Some(
                backlog_per_task(
                    depth(m.visible, 0.0),
                    m.running.round() as u32,
                    BacklogCounting::VisibleOnly,
                )
                .ceil(),
            ),
            PolicyKind::Cdk | PolicyKind::KedaLike => None,
        }
    }

    fn evaluate(&mut self) {
        match self.policy {
            PolicyKind::Ours | PolicyKind::Blueprint | PolicyKind::Copilot => {
                self.target_tracking()
            }
            PolicyKind::Cdk => self.cdk_steps(),
            PolicyKind::KedaLike => {}
        }
        self.reconcile_scale_in();
    }

    fn cooldowns(&self) -> (u64, u64) {
        match self.policy {
            PolicyKind::Ours => (60, 120),
            PolicyKind::Blueprint => (240, 240),
            PolicyKind::Copilot => (60, 120),
            PolicyKind::Cdk => (300, 300),
            PolicyKind::KedaLike => (0, 300),
        }
    }

    fn target_tracking(&mut self) {
        let (out_cd, in_cd) = self.cooldowns();
        let settings = self.policy_settings();
        if self.policy == PolicyKind::Ours {
            // Scale from zero: backlog with no running task starts ⌈backlog / target⌉ tasks at once (core's
            // activation steps, ExactCapacity), whatever target tracking says.
            if settings.min_capacity == 0
                && self.desired == 0
                && let Some(m) = self.visible_minutes().last().copied()
                && m.running == 0.0
                && m.visible_max + m.in_flight_max > 0.0
                && self.cooled(self.last_scale_out_ms, 300)
            {
                let tasks = bpi_core::policy::activation_capacity(
                    &settings,
                    self.target,
                    m.visible_max + m.in_flight_max,
                );
                self.set_desired(tasks, true);
                return;
            }
            // Idle: nothing visible or in flight for `idle_minutes` datapoints sets the minimum at once.
            let backlogs = self
                .visible_minutes()
                .iter()
                .rev()
                .map(|m| m.visible_max + m.in_flight_max);
            if autoscaling::idle_alarm(backlogs, settings.idle_minutes)
                && self.desired > settings.min_capacity
                && self.cooled(self.last_scale_out_ms, out_cd)
            {
                self.set_desired(settings.min_capacity, false);
                return;
            }
        }
        // Every target tracking policy of this kind: (datapoints, target).
        let mut trackers: Vec<(Vec<Option<f64>>, f64)> = vec![(
            self.visible_minutes()
                .iter()
                .map(|m| self.metric(m))
                .collect(),
            self.target,
        )];
        if self.policy == PolicyKind::Ours
            && let Some(u) = &settings.utilization
        {
            trackers.push((
                self.utilization(u.concurrency),
                f64::from(u.target_pct) / 100.0,
            ));
        }
        let views: Vec<Tracker<'_>> = trackers
            .iter()
            .map(|(datapoints, target)| Tracker {
                datapoints,
                target: *target,
            })
            .collect();
        match autoscaling::decide(&views, self.desired) {
            Decision::Out(n) if self.cooled(self.last_scale_out_ms, out_cd) => {
                self.set_desired(n, true);
            }
            Decision::In(n)
                if self.cooled(self.last_scale_in_ms, in_cd)
                    && self.cooled(self.last_scale_out_ms, out_cd) =>
            {
                self.set_desired(n, false);
            }
            _ => {}
        }
    }

    /// Core's utilization expression per visible minute: the Sum of the processing durations completed in the
    /// minute over the slot-seconds the running tasks offered (0 with no running task).
    fn utilization(&self, concurrency: u32) -> Vec<Option<f64>> {
        let n = self.visible_minutes().len();
        self.minutes[..n]
            .iter()
            .zip(&self.stat_sets[..n])
            .map(|(m, st)| {
                Some(if m.running > 0.0 {
                    st.sum_secs / (60.0 * f64::from(concurrency.max(1)) * m.running)
                } else {
                    0.0
                })
            })
            .collect()
    }

    fn cdk_steps(&mut self) {
        let minutes = self.visible_minutes();
        if minutes.len() < 5 {
            return;
        }
        let max_visible = minutes[minutes.len() - 5..]
            .iter()
            .map(|m| m.visible_max)
            .fold(0.0, f64::max);
        let (out_cd, in_cd) = self.cooldowns();
        if max_visible >= 500.0 && self.cooled(self.last_scale_out_ms, out_cd) {
            self.set_desired(self.desired + 5, true);
        } else if max_visible >= 100.0 && self.cooled(self.last_scale_out_ms, out_cd) {
            self.set_desired(self.desired + 1, true);
        } else if max_visible == 0.0
            && self.desired > 0
            && self.cooled(self.last_scale_in_ms, in_cd)
        {
            self.set_desired(self.desired - 1, false);
        }
    }

    fn keda(&mut self) {
        let total = self.visible + self.in_flight();
        let wanted = (total as f64 / self.target).ceil() as u32;
        self.keda_history.push_back((self.now, wanted));
        while self
            .keda_history
            .front()
            .is_some_and(|(t, _)| *t + 300_000 < self.now)
        {
            self.keda_history.pop_front();
        }
        // Scale up at once; scale down to the highest recommendation of the last 300 s.
        let stabilised = self
            .keda_history
            .iter()
            .map(|(_, w)| *w)
            .max()
            .unwrap_or(wanted);
        let desired = if wanted >= self.desired {
            wanted
        } else {
            stabilised
        };
        if desired != self.desired {
            let up = desired > self.desired;
            self.set_desired(desired, up);
        }
        self.reconcile_scale_in();
    }

    fn cooled(&self, last: Option<u64>, cooldown_secs: u64) -> bool {
        last.is_none_or(|t| self.now >= t + cooldown_secs * 1000)
    }

    fn set_desired(&mut self, desired: u32, out: bool) {
        let desired = desired.clamp(
            min_tasks(self.scenario, self.policy),
            self.scenario.max_tasks,
        );
        if desired == self.desired {
            return;
        }
        self.scaling_actions += 1;
        if out {
            self.last_scale_out_ms = Some(self.now);
            self.last_scale_in_ms = None;
        } else {
            self.last_scale_in_ms = Some(self.now);
        }
        self.desired = desired;
        while self.alive_tasks() < self.desired {
            let task = self.tasks.len();
            self.tasks.push(Task {
                launched_ms: self.now,
                ready: false,
                stopped_ms: None,
                running: Vec::new(),
            });
            self.push(
                self.now + self.scenario.task_start_secs * 1000,
                Event::TaskReady { task },
            );
        }
        self.reconcile_scale_in();
    }

    /// Stops tasks above the desired count: tasks still starting first, then idle ones; busy ones only for policies
    /// without graceful workers (killed mid-message: their messages come back after the visibility timeout).
    fn reconcile_scale_in(&mut self) {
        while self.alive_tasks() > self.desired {
            let victim = self
                .tasks
                .iter()
                .rposition(|t| t.alive() && !t.ready)
                .or_else(|| {
                    self.tasks
                        .iter()
                        .rposition(|t| t.alive() && t.running.is_empty())
                })
                .or_else(|| {
                    (!self.policy.graceful_workers())
                        .then(|| self.tasks.iter().rposition(Task::alive))
                        .flatten()
                });
            let Some(victim) = victim else { return };
            let vt_ms = self.scenario.visibility_timeout_secs * 1000;
            let now = self.now;
            let t = &mut self.tasks[victim];
            t.stopped_ms = Some(now);
            let lost: Vec<(usize, u32)> = std::mem::take(&mut t.running);
            for (msg, attempt) in lost {
                // Invisible until the timeout of this receive runs out (it started at most vt ago; approximate with
                // a full timeout from now, the worst case).
                self.push(now + vt_ms, Event::VisibleAgain { msg, attempt });
            }
        }
    }

    /// Core's policy settings for this scenario (names are placeholders: the simulator has no AWS).
    fn policy_settings(&self) -> PolicySettings {
        PolicySettings {
            cluster_name: "sim".into(),
            service_name: "sim".into(),
            queue_name: "sim".into(),
            policy_name: "sim".into(),
            counting: BacklogCounting::VisibleAndInFlight,
            scale_out_cooldown_secs: 60,
            scale_in_cooldown_secs: 120,
            min_capacity: self.scenario.min_tasks,
            max_capacity: self.scenario.max_tasks,
            utilization: Some(UtilizationSettings {
                duration_metric: Metric {
                    namespace: "sim".into(),
                    metric_name: "sim".into(),
                    dimensions: Vec::new(),
                },
                concurrency: self.scenario.concurrency,
                target_pct: DEFAULT_TARGET_UTILIZATION_PCT,
            }),
            idle_minutes: DEFAULT_IDLE_MINUTES,
        }
    }

    fn update_target(&mut self) {
        let window = (self.settings.updater_every_secs / 60).max(1) as usize;
        let recent = &self.stat_sets[self.stat_sets.len().saturating_sub(window)..];
        let new_target = match self.policy {
            PolicyKind::Ours => {
                let s = TargetSettings::new(
                    self.scenario.latency_secs,
                    self.scenario.concurrency,
                    self.scenario.declared_mpd_secs,
                    10_000,
                )
                .unwrap_or_else(|_| unreachable!("scenario settings are valid"));
                let Some(mpd) = estimate_mpd(recent, 20).mpd_secs() else {
                    return;
                };
                let wanted = f64::from(target_bpi(&s, Some(mpd)).value);
                let settings = self.policy_settings();
                let current = target_tracking_config(&settings, self.target);
                let desired = target_tracking_config(&settings, wanted);
                if !decide_update(Some(&current), &desired, 0.10).write {
                    return;
                }
                wanted
            }
            PolicyKind::Blueprint => {
                // The newest per-minute mean only; int(60 / mpd); a target of 0 is refused by the API (kept).
                let Some(newest) = recent.iter().rev().find(|s| s.sample_count > 0.0) else {
                    return;
                };
                let t = (60.0 / (newest.sum_secs / newest.sample_count)).floor();
                if t < 1.0 {
                    return;
                }
                t
            }
            _ => return,
        };
        // Targets are whole numbers.
        if (new_target - self.target).abs() >= 0.5 {
            self.target = new_target;
            self.target_changes += 1;
        }
    }

    fn report(&self) -> Report {
        let end = self.end_ms();
        let task_ms: u64 = self
            .tasks
            .iter()
            .map(|t| t.stopped_ms.unwrap_or(end).min(end) - t.launched_ms.min(end))
            .sum();
        let mut waits: Vec<f64> = self
            .msgs
            .iter()
            .map(|m| (m.first_start_ms.unwrap_or(end).saturating_sub(m.arrival_ms)) as f64 / 1000.0)
            .collect();
        waits.sort_by(f64::total_cmp);
        let work_ms: u64 = self.msgs.iter().map(|m| m.work_ms).sum();
        Report::new(
            self.scenario,
            self.policy,
            &self.settings,
            &waits,
            self.msgs.iter().filter(|m| m.done).count() as u64,
            self.msgs
                .iter()
                .map(|m| u64::from(m.completions.saturating_sub(1)))
                .sum(),
            task_ms,
            work_ms,
            self.scaling_actions,
            self.target_changes,
            self.events_handled,
            Timeline(self.timeline.clone()),
        )
    }
}

/// Arrivals before events at the same instant: a message arriving when a tick samples is counted in it.
fn a_first(arrival: u64, event: u64) -> bool {
    arrival <= event
}
