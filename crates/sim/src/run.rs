//! Runs a policy on a scenario: the one place that knows which policies the engine drives (those with a
//! [`crate::policies::Controller`]) and which are schedules computed apart (the oracle and the reactive limit), and
//! that tunes KEDA's queueLength for a scenario by running the engine over a grid. Above the engine, the oracle
//! and the policies, which know nothing of each other.

use crate::engine;
use crate::oracle::{self, Foresight};
use crate::policies::{KEDA_DEFAULT_QUEUE_LENGTH, PolicyKind};
use crate::report::Report;
use crate::scenario::{Arrival, Scenario};
use crate::settings::SimSettings;

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
    match policy.controller(scenario) {
        Some(c) => engine::simulate_controller(scenario, arrivals, policy, c, settings),
        None => simulate_offline(scenario, arrivals, policy, settings),
    }
}

/// The oracle, or KEDA tuned for the scenario first.
fn simulate_offline(
    scenario: &Scenario,
    arrivals: &[Arrival],
    policy: PolicyKind,
    settings: &SimSettings,
) -> Report {
    // A learning period is not scored: the oracle and the reactive limit see only the arrivals after it.
    let from_ms = scenario.scored_from_secs * 1000;
    let scored = arrivals.partition_point(|a| a.at_ms < from_ms);
    let arrivals = &arrivals[scored..];
    match policy {
        PolicyKind::Oracle => {
            oracle::run(scenario, arrivals, settings, Foresight::KnowsEveryArrival)
        }
        PolicyKind::ReactiveLimit => {
            oracle::run(scenario, arrivals, settings, Foresight::LearnsOnArrival)
        }
        PolicyKind::KedaTuned => {
            let queue_length = tune_keda(scenario, arrivals, settings);
            let mut r = simulate_arrivals(
                scenario,
                arrivals,
                PolicyKind::Keda { queue_length },
                settings,
            );
            r.policy = format!("keda-tuned (queueLength {queue_length})");
            r
        }
        _ => unreachable!("every other policy has a controller"),
    }
}

/// The KEDA queueLength values [`tune_keda`] tries.
pub const KEDA_TUNING_GRID: [u32; 12] = [1, 2, 3, 5, 8, 12, 20, 30, 50, 80, 120, 200];

/// KEDA's best queueLength for `scenario` under `settings`: of the values in [`KEDA_TUNING_GRID`], the one with the
/// fewest task-hours among those within 0.1 point of the best share within the promise.
pub fn tune_keda(scenario: &Scenario, arrivals: &[Arrival], settings: &SimSettings) -> u32 {
    let runs: Vec<(u32, f64, f64)> = KEDA_TUNING_GRID
        .iter()
        .map(|&queue_length| {
            let r = simulate_arrivals(
                scenario,
                arrivals,
                PolicyKind::Keda { queue_length },
                settings,
            );
            (queue_length, r.within_promise, r.task_hours)
        })
        .collect();
    let best_share = runs.iter().map(|r| r.1).fold(0.0, f64::max);
    runs.iter()
        .filter(|r| r.1 >= best_share - 0.001)
        .min_by(|a, b| a.2.total_cmp(&b.2))
        .map_or(KEDA_DEFAULT_QUEUE_LENGTH, |r| r.0)
}
