//! What a simulation run shows: latency against the promise, cost against the lower bound, scaling activity.

use serde::Serialize;

use crate::policies::PolicyKind;
use crate::scenario::Scenario;
use crate::settings::SimSettings;

/// One minute of the run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TimelinePoint {
    /// Minute since the start.
    pub minute: u64,
    /// Visible messages.
    pub visible: u64,
    /// In-flight messages.
    pub in_flight: u64,
    /// Tasks alive (starting or running).
    pub tasks: u32,
    /// Desired count.
    pub desired: u32,
    /// Target in force (0 for step scaling).
    pub target: f64,
    /// The longest wait, seconds, of the messages whose processing started in this period (None: none started).
    pub max_wait_secs: Option<f64>,
}

/// The per-minute timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline(pub Vec<TimelinePoint>);

impl Timeline {
    /// As CSV rows, one per minute, without a header ([`CSV_HEADER`] is it).
    pub fn to_csv(&self, policy: &str) -> String {
        let mut out = String::new();
        for p in &self.0 {
            out.push_str(&format!(
                "{policy},{},{},{},{},{},{}\n",
                p.minute, p.visible, p.in_flight, p.tasks, p.desired, p.target
            ));
        }
        out
    }
}

/// The header of [`Timeline::to_csv`].
pub const CSV_HEADER: &str = "policy,minute,visible,in_flight,tasks,desired,target\n";

/// The outcome of one policy on one scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// Policy name.
    pub policy: String,
    /// Messages that arrived.
    pub messages: u64,
    /// Messages processed by the end.
    pub processed: u64,
    /// Share of messages whose processing started within the promise (unstarted ones count as late).
    pub within_promise: f64,
    /// The promise, seconds.
    pub latency_secs: f64,
    /// Mean wait before processing started, seconds.
    pub mean_wait_secs: f64,
    /// Wait before processing started, seconds: median.
    pub p50_secs: f64,
    /// 95th percentile.
    pub p95_secs: f64,
    /// 99th percentile.
    pub p99_secs: f64,
    /// Maximum.
    pub max_secs: f64,
    /// Task-hours billed.
    pub task_hours: f64,
    /// Fargate cost at the settings' prices, USD.
    pub cost_usd: f64,
    /// Task-hours divided by the lower bound (total work ÷ concurrency).
    pub cost_vs_lower_bound: f64,
    /// Scaling actions.
    pub scaling_actions: u32,
    /// Target changes by the updater.
    pub target_changes: u32,
    /// Messages processed more than once.
    pub duplicates: u64,
    /// Events the simulation handled (arrivals, completions, task starts, redeliveries, ticks).
    pub events: u64,
    /// Minute by minute.
    #[serde(skip)]
    pub timeline: Timeline,
    /// Every change of the desired count: (seconds since the start, the new count); empty for the oracle.
    #[serde(skip)]
    pub desired_changes: Vec<(f64, u32)>,
    /// What CloudWatch holds for each minute of the run (the SQS gauges, the workers' durations); empty for the
    /// oracle. Read after the run, with every datapoint delivered.
    #[serde(skip)]
    pub minutes: Vec<crate::metrics::MinuteData>,
}

impl Report {
    /// Flaps: raises of the desired count within `within_secs` of a lowering (a task stopped and one started again
    /// within one task start: a start paid for nothing). The oracle's schedule records no change, so none.
    pub fn flaps(&self, within_secs: f64) -> u32 {
        let mut last_lowered: Option<f64> = None;
        let mut previous: Option<u32> = None;
        let mut flaps = 0;
        for &(at_secs, desired) in &self.desired_changes {
            if let Some(before) = previous {
                if desired < before {
                    last_lowered = Some(at_secs);
                } else if desired > before
                    && last_lowered.is_some_and(|t| at_secs - t <= within_secs)
                {
                    flaps += 1;
                    last_lowered = None;
                }
            }
            previous = Some(desired);
        }
        flaps
    }
}

/// The `p`th percentile (nearest rank) of `sorted`; 0 when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A run's raw figures, as the engine (or the oracle) counted them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RunFigures {
    /// Messages processed by the end.
    pub processed: u64,
    /// Messages processed more than once.
    pub duplicates: u64,
    /// Task-milliseconds billed.
    pub task_ms: u64,
    /// Processing work of every message that arrived, ms.
    pub work_ms: u64,
    /// Changes of the desired count.
    pub scaling_actions: u32,
    /// Target changes by the updater.
    pub target_changes: u32,
    /// Events handled.
    pub events: u64,
}

impl Report {
    /// Builds the report from the run's waits (sorted) and figures.
    pub fn new(
        scenario: &Scenario,
        policy: PolicyKind,
        settings: &SimSettings,
        waits: &[f64],
        figures: RunFigures,
        timeline: Timeline,
    ) -> Self {
        let within = waits
            .iter()
            .filter(|w| **w <= scenario.latency_secs)
            .count();
        let task_hours = figures.task_ms as f64 / 3_600_000.0;
        let lower_bound_hours =
            figures.work_ms as f64 / 3_600_000.0 / f64::from(scenario.concurrency);
        let hourly =
            settings.task_vcpu * settings.vcpu_hour_usd + settings.task_gb * settings.gb_hour_usd;
        Report {
            scenario: scenario.name.clone(),
            policy: policy.name(),
            messages: waits.len() as u64,
            processed: figures.processed,
            within_promise: if waits.is_empty() {
                1.0
            } else {
                within as f64 / waits.len() as f64
            },
            latency_secs: scenario.latency_secs,
            mean_wait_secs: if waits.is_empty() {
                0.0
            } else {
                waits.iter().sum::<f64>() / waits.len() as f64
            },
            p50_secs: percentile(waits, 50.0),
            p95_secs: percentile(waits, 95.0),
            p99_secs: percentile(waits, 99.0),
            max_secs: waits.last().copied().unwrap_or(0.0),
            task_hours,
            cost_usd: task_hours * hourly,
            cost_vs_lower_bound: if lower_bound_hours > 0.0 {
                task_hours / lower_bound_hours
            } else {
                f64::INFINITY
            },
            scaling_actions: figures.scaling_actions,
            target_changes: figures.target_changes,
            duplicates: figures.duplicates,
            events: figures.events,
            timeline,
            desired_changes: Vec::new(),
            minutes: Vec::new(),
        }
    }
}

/// Reports as a Markdown table; where a scenario's reports include the oracle's, each row also shows its share
/// within the promise minus the oracle's, and its task-hours over the oracle's.
pub fn table(reports: &[Report]) -> String {
    let mut out = String::from(
        "| scenario | policy | within promise | vs oracle | mean wait | p50 | p99 | max | task-hours | × oracle | × lower bound | scaling actions | processed twice |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for r in reports {
        let oracle = reports
            .iter()
            .find(|o| o.scenario == r.scenario && o.policy == "oracle");
        let (vs_share, vs_hours) = oracle.map_or(("".to_string(), "".to_string()), |o| {
            (
                format!("{:+.2}", (r.within_promise - o.within_promise) * 100.0),
                format!("{:.2}", r.task_hours / o.task_hours),
            )
        });
        out.push_str(&format!(
            "| {} | {} | {:.2}% | {vs_share} | {:.0} s | {:.0} s | {:.0} s | {:.0} s | {:.1} | {vs_hours} | {:.2} | {} | {} |\n",
            r.scenario,
            r.policy,
            r.within_promise * 100.0,
            r.mean_wait_secs,
            r.p50_secs,
            r.p99_secs,
            r.max_secs,
            r.task_hours,
            r.cost_vs_lower_bound,
            r.scaling_actions,
            r.duplicates
        ));
    }
    out
}
