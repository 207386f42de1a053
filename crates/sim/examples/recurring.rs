//! The forecaster, measured (issue 24): on the recurring families, ours against the oracle, the reactive limit and
//! ours without the forecaster (after each workload's learning period); on the rest of the suite, ours against ours
//! without it (what false forecasts cost); and the simulator's speed on the multi-day runs.
//! `cargo run --release -p bpi-sim --example recurring [-- BEHAVIOURS] [--quick] [--tuning]` (`--quick`: the
//! default behaviour and one seed, for a first look; `--tuning`: the tuning part's recurring families only, with a
//! minimum of 1 task beside each, to choose on).

use std::time::Instant;

use bpi_sim::PolicyKind;
use bpi_sim::robust::{self, Ensemble, RobustRow, Traffic};
use bpi_sim::suite::{self, Family, Part};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let tuning_only = args.iter().any(|a| a == "--tuning");
    let behaviours = args
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(Ensemble::default().behaviours);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let ensemble = |part: Part| {
        if quick {
            Ensemble {
                behaviours: 1,
                seeds: vec![part.ensemble(1).seeds[0]],
                ..part.ensemble(1)
            }
        } else {
            part.ensemble(behaviours)
        }
    };
    let recurring_policies = [
        PolicyKind::Ours,
        PolicyKind::OursWithoutForecast,
        PolicyKind::ReactiveLimit,
        PolicyKind::Oracle,
    ];
    let pair = [PolicyKind::Ours, PolicyKind::OursWithoutForecast];
    let parts: &[Part] = if tuning_only {
        &[Part::Tuning]
    } else {
        &[Part::Tuning, Part::HeldOut]
    };
    for &part in parts {
        let started = Instant::now();
        let mut workloads: Vec<_> = suite::recurring_part(part)
            .into_iter()
            .map(|w| (w.scenario, Traffic::Generated))
            .collect();
        // The same workloads at a minimum of one task (a constant background's usual setting): what is left once
        // the light background no longer waits for a task to start.
        let with_one: Vec<_> = workloads
            .iter()
            .map(|(s, t)| {
                let mut s = s.clone();
                s.name = format!("{} at min 1", s.name);
                s.min_tasks = 1;
                (s, *t)
            })
            .collect();
        workloads.extend(with_one);
        let rows = robust::run_on(
            &workloads,
            &recurring_policies,
            &ensemble(part),
            &bpi_sim::SimSettings::default(),
            threads,
        );
        println!(
            "## Recurring families, {} part ({:.1} s)\n",
            part.name(),
            started.elapsed().as_secs_f64()
        );
        print!("{}", suite::forecast_table(&rows));
        println!();
        if tuning_only {
            continue;
        }

        let started = Instant::now();
        let rest: Vec<_> = suite::part(part)
            .into_iter()
            .filter(|w| !Family::RECURRING.contains(&w.family))
            .map(|w| (w.scenario, Traffic::Generated))
            .collect();
        let rows: Vec<RobustRow> = robust::run_on(
            &rest,
            &pair,
            &ensemble(part),
            &bpi_sim::SimSettings::default(),
            threads,
        );
        println!(
            "## The rest of the suite, {} part: what the forecaster costs ({:.1} s)\n",
            part.name(),
            started.elapsed().as_secs_f64()
        );
        print!("{}", suite::forecast_cost_table(&rows));
        println!();
    }

    if tuning_only {
        return;
    }
    // Speed: one 14-day run of ours.
    let office = suite::workloads()
        .into_iter()
        .find(|w| w.family == Family::OfficeHours && w.part == Part::Tuning)
        .expect("office hours");
    let started = Instant::now();
    let report = bpi_sim::simulate(
        &office.scenario,
        PolicyKind::Ours,
        &bpi_sim::SimSettings::default(),
    );
    let secs = started.elapsed().as_secs_f64();
    let messages = office.scenario.arrivals(1).len();
    println!(
        "speed: {} ({} days, ours): {messages} messages, {} events in {secs:.2} s = {:.0} simulated messages/s ({:.0}x real time)",
        office.scenario.name,
        office.scenario.duration_secs / 86_400,
        report.events,
        messages as f64 / secs,
        office.scenario.duration_secs as f64 / secs
    );
}
