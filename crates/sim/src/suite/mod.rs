//! The workload suite: generated, seeded traffic shapes beyond the six shipped scenarios, on which a design is
//! judged, each family at several parameter settings.
//!
//! Why it exists: the scaling loop was designed on six scenarios, and on other shapes (on/off, cron dumps, ramps)
//! it ran several times the tasks the work needed. A design chosen on some workloads can be fitted to them, so the
//! suite has two parts: the **tuning** part, on which designs are compared and chosen, and the **held-out** part
//! (other parameters, other arrival seeds, another sample of AWS behaviours), reported apart and never used to
//! choose.
//!
//! Every workload runs on one deployment unless its family needs another: a 60 s promise, concurrency 1, 0-60 tasks,
//! a 60 s visibility timeout (a new user's first try, `bpi simulate --trace` with its defaults but for the bounds).

use serde::Serialize;

use crate::policies::PolicyKind;
use crate::robust::{self, Ensemble, RobustRow, Traffic};
use crate::scenario::Scenario;
use crate::settings::SimSettings;

mod tables;
mod workloads;

pub use tables::*;
pub(crate) use workloads::deployment;
pub use workloads::{part, recurring_part, workloads};

/// A family of traffic shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// Poisson arrivals at a steady rate.
    Steady,
    /// A batch at the start of every minute (the blueprint's producer).
    MinuteBatches,
    /// Busy and quiet periods alternating.
    OnOff,
    /// Thousands of messages at once over a light background.
    CronDump,
    /// The rate rising (and falling) over hours.
    Ramp,
    /// A day's swing.
    Diurnal,
    /// Log-normal durations with a heavy tail.
    HeavyTailed,
    /// Mostly short messages, a few long.
    Bimodal,
    /// Messages suddenly take longer.
    DurationShift,
    /// Nothing for a long time, then a burst (min 0 tasks).
    IdleThenBurst,
    /// Single messages minutes apart.
    Sparse,
    /// A background, a dump and busy hours in one day.
    MixedDay,
    /// A dump at the same minute every day, with jitter (a nightly export).
    DailyDump,
    /// A batch at the same minute every hour, with jitter.
    HourlyJob,
    /// Busy from morning to evening on weekdays, quiet at night and on weekends (14 days).
    OfficeHours,
    /// A daily dump that stops recurring half-way through.
    StoppedJob,
    /// A light continuous stream: a few short messages a minute, all day (min 0): the most common real queue.
    LightStream,
}

impl Family {
    /// Every family, in the order tables show them.
    pub const ALL: [Family; 17] = [
        Family::Steady,
        Family::MinuteBatches,
        Family::OnOff,
        Family::CronDump,
        Family::Ramp,
        Family::Diurnal,
        Family::HeavyTailed,
        Family::Bimodal,
        Family::DurationShift,
        Family::IdleThenBurst,
        Family::Sparse,
        Family::MixedDay,
        Family::DailyDump,
        Family::HourlyJob,
        Family::OfficeHours,
        Family::StoppedJob,
        Family::LightStream,
    ];

    /// The families whose bursts recur: the forecaster's (scored after a learning period).
    pub const RECURRING: [Family; 4] = [
        Family::DailyDump,
        Family::HourlyJob,
        Family::OfficeHours,
        Family::StoppedJob,
    ];

    /// The family's name in tables and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Family::Steady => "steady",
            Family::MinuteBatches => "minute-batches",
            Family::OnOff => "on-off",
            Family::CronDump => "cron-dump",
            Family::Ramp => "ramp",
            Family::Diurnal => "diurnal",
            Family::HeavyTailed => "heavy-tailed",
            Family::Bimodal => "bimodal",
            Family::DurationShift => "duration-shift",
            Family::IdleThenBurst => "idle-then-burst",
            Family::Sparse => "sparse",
            Family::MixedDay => "mixed-day",
            Family::DailyDump => "daily-dump",
            Family::HourlyJob => "hourly-job",
            Family::OfficeHours => "office-hours",
            Family::StoppedJob => "stopped-job",
            Family::LightStream => "light-stream",
        }
    }
}

/// Which part of the suite a workload belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    /// Designs are compared and chosen on it.
    Tuning,
    /// Never used to choose: reported apart.
    HeldOut,
}

impl Part {
    /// The part's name.
    pub fn name(self) -> &'static str {
        match self {
            Part::Tuning => "tuning",
            Part::HeldOut => "held-out",
        }
    }

    /// The ensemble the part is judged over: the tuning part on the robust mode's default ensemble, the held-out
    /// part on other arrival seeds and another sample of behaviours.
    pub fn ensemble(self, behaviours: usize) -> Ensemble {
        match self {
            Part::Tuning => Ensemble {
                behaviours,
                ..Ensemble::default()
            },
            Part::HeldOut => Ensemble {
                behaviours,
                seeds: vec![3, 4],
                sample_seed: 11,
            },
        }
    }
}

/// One workload of the suite.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    /// Its family.
    pub family: Family,
    /// Its part.
    pub part: Part,
    /// The traffic and the deployment (its name says family, part and variant).
    pub scenario: Scenario,
}

/// The policies the suite compares: ours at its defaults and latency first, KEDA over its usual queueLengths, every other peer,
/// fixed fleets of [`FIXED_FLEETS`] tasks, the reactive limit and the oracle.
pub fn policies() -> Vec<PolicyKind> {
    let mut out = vec![PolicyKind::Ours, PolicyKind::OursLatencyFirst];
    out.extend(
        KEDA_QUEUE_LENGTHS
            .iter()
            .map(|&queue_length| PolicyKind::Keda { queue_length }),
    );
    out.extend([PolicyKind::Copilot, PolicyKind::Cdk, PolicyKind::Blueprint]);
    out.extend(
        FIXED_FLEETS
            .iter()
            .map(|&tasks| PolicyKind::Fixed { tasks }),
    );
    out.extend([PolicyKind::ReactiveLimit, PolicyKind::Oracle]);
    out
}

/// The KEDA queueLengths every workload is judged against.
pub const KEDA_QUEUE_LENGTHS: [u32; 7] = [1, 2, 3, 5, 8, 13, 20];

/// The fixed fleets every workload is judged against (a user who keeps N tasks running is a peer like any other).
pub const FIXED_FLEETS: [u32; 5] = [1, 2, 4, 8, 16];

/// The goal a reactive policy is judged by on each workload (robust worst case): its share within the promise at
/// most 1 point below the reactive limit's under the same behaviour and arrivals (or at least 99.5%), for at most
/// 1.5× the reactive limit's task-hours.
pub fn meets_goal(row: &RobustRow) -> (bool, bool) {
    (
        row.worst_vs_reactive >= -0.01 || row.worst_share >= 0.995,
        row.worst_hours_vs_reactive <= 1.5,
    )
}

/// Every policy of `policies` on the workloads of `part`, over that part's ensemble of `behaviours` behaviours.
pub fn run(
    part_of_suite: Part,
    policies: &[PolicyKind],
    behaviours: usize,
    threads: usize,
) -> Vec<RobustRow> {
    let workloads: Vec<(Scenario, Traffic<'_>)> = part(part_of_suite)
        .into_iter()
        .map(|w| (w.scenario, Traffic::Generated))
        .collect();
    robust::run_on(
        &workloads,
        policies,
        &part_of_suite.ensemble(behaviours),
        &SimSettings::default(),
        threads,
    )
}

/// The forecaster's goal on a recurring workload (robust worst case, after the learning period): a share within
/// the promise at most 1 point below the oracle's, for at most 1.5× the oracle's task-hours.
pub fn meets_forecast_goal(row: &RobustRow) -> (bool, bool) {
    (
        row.worst_vs_oracle >= -0.01,
        row.worst_hours_vs_oracle <= 1.5,
    )
}
