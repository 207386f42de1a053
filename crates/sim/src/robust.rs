//! The robust comparison: every (scenario, policy) over an ensemble of AWS behaviours (the default model plus a
//! seeded sample of the ranges in `model.rs`) and arrival seeds, each run beside the oracle of the same behaviour
//! and arrivals. A policy is judged by its worst case, with the median beside it and the behaviour that produced
//! the worst case, so a conclusion holds whatever AWS does where it says nothing.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::engine::simulate_controller;
use crate::launch::LaunchQuota;
use crate::model::{AwsModel, GaugePhase};
use crate::policies::PolicyKind;
use crate::policies::ours::{OursController, SamplerDesign};
use crate::run::{simulate_arrivals, tune_keda};
use crate::scenario::{Arrival, Scenario};
use crate::settings::SimSettings;

/// The ensemble: how many AWS behaviours (the default first), which arrival seeds, and the seed of the sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ensemble {
    /// Behaviours, the default model included.
    pub behaviours: usize,
    /// Arrival seeds.
    pub seeds: Vec<u64>,
    /// Seed of the behaviour sample.
    pub sample_seed: u64,
}

impl Default for Ensemble {
    fn default() -> Self {
        Ensemble {
            behaviours: 12,
            seeds: vec![1, 2],
            sample_seed: 7,
        }
    }
}

/// The behaviours of `ensemble`: the default model, then a seeded sample over each parameter's explored values.
pub fn behaviours(ensemble: &Ensemble) -> Vec<AwsModel> {
    let mut rng = StdRng::seed_from_u64(ensemble.sample_seed);
    // Parameters added later draw from their own generator, so the earlier ones (and every table) stay as they were.
    let mut later = StdRng::seed_from_u64(ensemble.sample_seed ^ 0x5c4e_d01e);
    let mut out = vec![AwsModel::default()];
    while out.len() < ensemble.behaviours {
        let phases = [0, 10, 20, 30, 40, 50, 60];
        let phase = *phases.choose(&mut rng).unwrap_or(&30);
        out.push(AwsModel {
            gauge_phase: if phase == 60 {
                GaugePhase::Random
            } else {
                GaugePhase::Fixed { secs: phase }
            },
            gauge_slip_share: *[0.0, 0.05, 0.1, 0.2].choose(&mut rng).unwrap_or(&0.05),
            sqs_delay_secs: *[60, 120, 180].choose(&mut rng).unwrap_or(&60),
            insights_delay_secs: *[60, 120].choose(&mut rng).unwrap_or(&60),
            custom_delay_secs: *[60, 120].choose(&mut rng).unwrap_or(&60),
            highres_delay_secs: *[10, 20].choose(&mut rng).unwrap_or(&10),
            task_start_secs: *[20, 30, 60, 90, 180].choose(&mut rng).unwrap_or(&60),
            launch_quota: if rng.random_bool(0.5) {
                LaunchQuota::PUBLISHED
            } else {
                LaunchQuota::CROWDED_ACCOUNT
            },
            scale_in_step_pct: *[10, 25, 50].choose(&mut rng).unwrap_or(&10),
            scheduled_action_delay_secs: *[10, 60].choose(&mut later).unwrap_or(&10),
            ..AwsModel::default()
        });
    }
    out
}

/// One (scenario, policy) over the ensemble.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RobustRow {
    /// Scenario.
    pub scenario: String,
    /// Policy (`keda-tuned` with the queueLength it settled on).
    pub policy: String,
    /// The lowest share within the promise over the ensemble.
    pub worst_share: f64,
    /// The median share.
    pub median_share: f64,
    /// The lowest share minus the oracle's share under the same behaviour and arrivals (points as a fraction).
    pub worst_vs_oracle: f64,
    /// The highest task-hours over the oracle's.
    pub worst_hours_vs_oracle: f64,
    /// The median of that ratio.
    pub median_hours_vs_oracle: f64,
    /// The behaviour and seed of the worst share.
    pub worst_under: String,
    /// The lowest share minus the reactive limit's under the same behaviour and arrivals.
    pub worst_vs_reactive: f64,
    /// The highest task-hours over the reactive limit's.
    pub worst_hours_vs_reactive: f64,
    /// The median of that ratio.
    pub median_hours_vs_reactive: f64,
    /// The most scaling actions a day (changes of the desired count) over the ensemble.
    pub worst_actions_per_day: f64,
    /// The most flaps a day over the ensemble: raises of the desired count within one task start of a lowering
    /// ([`crate::Report::flaps`]), a start paid for nothing.
    pub worst_flaps_per_day: f64,
}

struct Outcome {
    scenario: usize,
    policy: usize,
    share: f64,
    vs_oracle: f64,
    hours_vs_oracle: f64,
    vs_reactive: f64,
    hours_vs_reactive: f64,
    actions_per_day: f64,
    flaps_per_day: f64,
    label: String,
}

/// Where a workload's messages come from for an arrival seed.
#[derive(Debug, Clone, Copy)]
pub enum Traffic<'a> {
    /// Drawn from the scenario's own description with the seed.
    Generated,
    /// A replayed trace: the same messages for every seed (the seed still drives the model's random draws).
    Trace(&'a [Arrival]),
}

impl Traffic<'_> {
    fn arrivals(&self, scenario: &Scenario, seed: u64) -> Vec<Arrival> {
        match self {
            Traffic::Generated => scenario.arrivals(seed),
            Traffic::Trace(a) => a.to_vec(),
        }
    }
}

/// Runs the comparison on `threads` threads (at least 1).
pub fn run(
    scenarios: &[Scenario],
    policies: &[PolicyKind],
    ensemble: &Ensemble,
    base: &SimSettings,
    threads: usize,
) -> Vec<RobustRow> {
    let generated: Vec<(Scenario, Traffic<'_>)> = scenarios
        .iter()
        .map(|s| (s.clone(), Traffic::Generated))
        .collect();
    run_on(&generated, policies, ensemble, base, threads)
}

/// [`run`] on workloads whose traffic may be a replayed trace.
pub fn run_on(
    workloads: &[(Scenario, Traffic<'_>)],
    policies: &[PolicyKind],
    ensemble: &Ensemble,
    base: &SimSettings,
    threads: usize,
) -> Vec<RobustRow> {
    let scenarios: Vec<&Scenario> = workloads.iter().map(|(s, _)| s).collect();
    let models = behaviours(ensemble);
    // KEDA is tuned once per scenario, on the default behaviour and the first seed, as a user would tune it.
    let resolved: Vec<Vec<(PolicyKind, String)>> = workloads
        .iter()
        .map(|(s, traffic)| {
            policies
                .iter()
                .map(|p| match p {
                    PolicyKind::KedaTuned => {
                        let settings = SimSettings {
                            seed: ensemble.seeds.first().copied().unwrap_or(1),
                            model: AwsModel::default(),
                            ..*base
                        };
                        let ql = tune_keda(s, &traffic.arrivals(s, settings.seed), &settings);
                        (
                            PolicyKind::Keda { queue_length: ql },
                            format!("keda-tuned (queueLength {ql})"),
                        )
                    }
                    p => (*p, p.name()),
                })
                .collect()
        })
        .collect();
    let work: Vec<(usize, usize, u64)> = (0..scenarios.len())
        .flat_map(|s| {
            (0..models.len())
                .flat_map(move |m| ensemble.seeds.iter().map(move |seed| (s, m, *seed)))
        })
        .collect();
    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(s, m, seed)) = work.get(i) else {
                        break;
                    };
                    let (scenario, traffic) = &workloads[s];
                    let settings = SimSettings {
                        seed,
                        model: models[m],
                        ..*base
                    };
                    let arrivals = traffic.arrivals(scenario, seed);
                    let oracle =
                        simulate_arrivals(scenario, &arrivals, PolicyKind::Oracle, &settings);
                    let reactive = simulate_arrivals(
                        scenario,
                        &arrivals,
                        PolicyKind::ReactiveLimit,
                        &settings,
                    );
                    let label = format!("{} (seed {seed})", models[m].label());
                    let days = scenario
                        .duration_secs
                        .saturating_sub(scenario.scored_from_secs)
                        .max(1) as f64
                        / 86_400.0;
                    let start_secs = models[m].task_start_secs as f64;
                    let mut local = Vec::new();
                    for (p, (policy, _)) in resolved[s].iter().enumerate() {
                        let r = match policy {
                            PolicyKind::Oracle => oracle.clone(),
                            PolicyKind::ReactiveLimit => reactive.clone(),
                            _ => simulate_arrivals(scenario, &arrivals, *policy, &settings),
                        };
                        local.push(Outcome {
                            scenario: s,
                            policy: p,
                            share: r.within_promise,
                            vs_oracle: r.within_promise - oracle.within_promise,
                            hours_vs_oracle: r.task_hours / oracle.task_hours,
                            vs_reactive: r.within_promise - reactive.within_promise,
                            hours_vs_reactive: r.task_hours / reactive.task_hours,
                            actions_per_day: f64::from(r.scaling_actions) / days,
                            flaps_per_day: f64::from(r.flaps(start_secs)) / days,
                            label: label.clone(),
                        });
                    }
                    if let Ok(mut all) = outcomes.lock() {
                        all.append(&mut local);
                    }
                }
            });
        }
    });
    let mut outcomes = outcomes.into_inner().unwrap_or_default();
    // Deterministic order whatever the threads did.
    outcomes
        .sort_by(|a, b| (a.scenario, a.policy, &a.label).cmp(&(b.scenario, b.policy, &b.label)));
    let mut rows = Vec::new();
    for (s, scenario) in scenarios.iter().enumerate() {
        for (p, (_, name)) in resolved[s].iter().enumerate() {
            let of: Vec<&Outcome> = outcomes
                .iter()
                .filter(|o| o.scenario == s && o.policy == p)
                .collect();
            let Some(worst) = of.iter().min_by(|a, b| a.share.total_cmp(&b.share)) else {
                continue;
            };
            rows.push(RobustRow {
                scenario: scenario.name.clone(),
                policy: name.clone(),
                worst_share: worst.share,
                median_share: median(of.iter().map(|o| o.share)),
                worst_vs_oracle: of.iter().map(|o| o.vs_oracle).fold(f64::INFINITY, f64::min),
                worst_hours_vs_oracle: of.iter().map(|o| o.hours_vs_oracle).fold(0.0, f64::max),
                median_hours_vs_oracle: median(of.iter().map(|o| o.hours_vs_oracle)),
                worst_under: worst.label.clone(),
                worst_vs_reactive: of
                    .iter()
                    .map(|o| o.vs_reactive)
                    .fold(f64::INFINITY, f64::min),
                worst_hours_vs_reactive: of.iter().map(|o| o.hours_vs_reactive).fold(0.0, f64::max),
                median_hours_vs_reactive: median(of.iter().map(|o| o.hours_vs_reactive)),
                worst_actions_per_day: of.iter().map(|o| o.actions_per_day).fold(0.0, f64::max),
                worst_flaps_per_day: of.iter().map(|o| o.flaps_per_day).fold(0.0, f64::max),
            });
        }
    }
    rows
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// A sampler design's worst case on one scenario over a set of behaviours and arrival seeds, each against the oracle
/// of the same behaviour and arrivals: how the design variants are compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DesignWorstCase {
    /// The lowest share within the promise.
    pub share: f64,
    /// The lowest share minus the oracle's (points as a fraction).
    pub vs_oracle: f64,
    /// The highest task-hours over the oracle's.
    pub hours_vs_oracle: f64,
    /// The lowest share minus the reactive limit's.
    pub vs_reactive: f64,
    /// The highest task-hours over the reactive limit's.
    pub hours_vs_reactive: f64,
}

impl DesignWorstCase {
    /// A table cell against the reactive limit: `share% (points against it) / task-hours ÷ its task-hours`.
    pub fn cell_vs_reactive(&self) -> String {
        format!(
            "{:.2}% ({:+.2}) / {:.2}",
            self.share * 100.0,
            self.vs_reactive * 100.0,
            self.hours_vs_reactive
        )
    }

    /// A table cell: `share% (points against the oracle) / task-hours ÷ the oracle's`.
    pub fn cell(&self) -> String {
        format!(
            "{:.2}% ({:+.2}) / {:.2}",
            self.share * 100.0,
            self.vs_oracle * 100.0,
            self.hours_vs_oracle
        )
    }
}

/// [`DesignWorstCase`] of `design` (this project's policy, [`crate::policies::ours`]) on `scenario` under every
/// model of `models` and arrival seed of `seeds`.
pub fn design_worst_case(
    scenario: &Scenario,
    design: SamplerDesign,
    models: &[AwsModel],
    seeds: &[u64],
) -> DesignWorstCase {
    let runs: Vec<(u64, Vec<Arrival>)> = seeds
        .iter()
        .map(|&seed| (seed, scenario.arrivals(seed)))
        .collect();
    design_worst_case_on(scenario, design, models, &runs)
}

/// [`DesignWorstCase`] of `design` on `scenario`'s deployment under every model of `models`, for given arrivals
/// (each with the seed of the model's random draws): traffic other than the scenario's own.
pub fn design_worst_case_on(
    scenario: &Scenario,
    design: SamplerDesign,
    models: &[AwsModel],
    runs: &[(u64, Vec<Arrival>)],
) -> DesignWorstCase {
    let mut worst = DesignWorstCase {
        share: 1.0,
        vs_oracle: 1.0,
        hours_vs_oracle: 0.0,
        vs_reactive: 1.0,
        hours_vs_reactive: 0.0,
    };
    for model in models {
        for (seed, arrivals) in runs {
            let settings = SimSettings {
                seed: *seed,
                model: *model,
                ..SimSettings::default()
            };
            let oracle = simulate_arrivals(scenario, arrivals, PolicyKind::Oracle, &settings);
            let reactive =
                simulate_arrivals(scenario, arrivals, PolicyKind::ReactiveLimit, &settings);
            let r = simulate_controller(
                scenario,
                arrivals,
                PolicyKind::Ours,
                Box::new(OursController::new(scenario, design)),
                &settings,
            );
            worst.share = worst.share.min(r.within_promise);
            worst.vs_oracle = worst
                .vs_oracle
                .min(r.within_promise - oracle.within_promise);
            worst.hours_vs_oracle = worst.hours_vs_oracle.max(r.task_hours / oracle.task_hours);
            worst.vs_reactive = worst
                .vs_reactive
                .min(r.within_promise - reactive.within_promise);
            worst.hours_vs_reactive = worst
                .hours_vs_reactive
                .max(r.task_hours / reactive.task_hours);
        }
    }
    worst
}

/// The rows as a Markdown table.
pub fn table(rows: &[RobustRow]) -> String {
    let mut out = String::from(
        "| scenario | policy | worst within promise | median | worst − oracle (points) | task-hours ÷ oracle, worst | median | actions / flaps a day, worst | worst case under |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {:.2}% | {:.2}% | {:+.2} | {:.2} | {:.2} | {:.0} / {:.1} | {} |\n",
            r.scenario,
            r.policy,
            r.worst_share * 100.0,
            r.median_share * 100.0,
            r.worst_vs_oracle * 100.0,
            r.worst_hours_vs_oracle,
            r.median_hours_vs_oracle,
            r.worst_actions_per_day,
            r.worst_flaps_per_day,
            r.worst_under
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ensemble_starts_with_the_default_and_is_seeded() {
        let e = Ensemble::default();
        let a = behaviours(&e);
        assert_eq!(a.len(), e.behaviours);
        assert_eq!(a[0], AwsModel::default());
        assert_eq!(a, behaviours(&e));
        assert!(a[1..].iter().any(|m| m.task_start_secs != 60));
    }

    #[test]
    fn median_of_even_and_odd() {
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), 2.0);
        assert_eq!(median([4.0, 1.0, 2.0, 3.0].into_iter()), 2.5);
    }
}
