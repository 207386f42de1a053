//! The keep-alive's variants (core's `keep_alive`: its cadence, a floor for the median minute, headroom for the
//! arrivals of a start) on the recorded traffic (week 1, ×1 and ×5; FB, KO, UPS tuned on, AAPL, IBM held out) and the
//! suite's workloads they change most, worst case over the ensemble of `BEHAVIOURS` (6 by default), arrival seed 1:
//! each cell the worst share within the promise / task-hours ÷ the oracle's.
//! `cargo run --release -p bpi-sim --example keep_alive_designs [-- BEHAVIOURS] [--only NAME,NAME]`
//! (`--only` keeps the workloads whose name contains one of the names).

use bpi_sim::Scenario;
use bpi_sim::policies::ours::SamplerDesign;
use bpi_sim::recorded::{self, LOADS, RECORDINGS};
use bpi_sim::robust::{Ensemble, behaviours, design_worst_case_on};
use bpi_sim::scenario::Arrival;
use bpi_sim::suite::{self, Family};

/// The suite's workloads the keep-alive moves: light streams, and those a held floor costs most on.
const SUITE_WORKLOADS: [&str; 4] = [
    "ramp/up-and-down",
    "minute-batches/120-of-1s",
    "on-off/10-on-20-off",
    "sparse/",
];

fn designs() -> Vec<(&'static str, SamplerDesign)> {
    let shipped = SamplerDesign::default();
    let headroom = |q: f64| SamplerDesign {
        keep_alive_headroom_quantile: q,
        ..shipped
    };
    vec![
        (
            "none",
            SamplerDesign {
                keep_alive_miss_budget: None,
                ..shipped
            },
        ),
        (
            "hourly only (the updater's run)",
            SamplerDesign {
                keep_alive_every_secs: None,
                ..shipped
            },
        ),
        ("shipped: every 5 minutes, one task while active", shipped),
        (
            "+ a floor for the median minute of the last hour",
            SamplerDesign {
                keep_alive_floor_minutes: 60,
                ..shipped
            },
        ),
        (
            "+ a floor for the median minute of the last 15",
            SamplerDesign {
                keep_alive_floor_minutes: 15,
                ..shipped
            },
        ),
        ("+ headroom at q 0.9", headroom(0.9)),
        ("+ headroom at q 0.99", headroom(0.99)),
    ]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let behaviour_count = args.iter().find_map(|a| a.parse().ok()).unwrap_or(6usize);
    let only: Option<Vec<String>> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(|o| o.split(',').map(str::to_string).collect());
    let models = behaviours(&Ensemble {
        behaviours: behaviour_count,
        seeds: vec![1],
        ..Ensemble::default()
    });
    let mut workloads: Vec<(Scenario, Vec<Arrival>)> = Vec::new();
    for r in RECORDINGS {
        let all = recorded::read(&r).expect("a shipped recording");
        for load in LOADS {
            workloads.push(recorded::window(&r, &all, 1, load, 1));
        }
    }
    for w in suite::workloads() {
        if w.family == Family::LightStream
            || SUITE_WORKLOADS.iter().any(|n| w.scenario.name.contains(n))
        {
            let arrivals = w.scenario.arrivals(1);
            workloads.push((w.scenario, arrivals));
        }
    }
    workloads.retain(|(s, _)| {
        only.as_ref()
            .is_none_or(|names| names.iter().any(|n| s.name.contains(n.as_str())))
    });
    let designs = designs();
    println!(
        "| workload | {} |",
        designs
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("| --- |{}", " --- |".repeat(designs.len()));
    for (scenario, arrivals) in &workloads {
        let runs = vec![(1u64, arrivals.clone())];
        // One thread a design pair: the two cores each run half the designs.
        let cells: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = designs
                .chunks(designs.len().div_ceil(2))
                .map(|chunk| {
                    let (models, runs) = (&models, &runs);
                    scope.spawn(move || {
                        chunk
                            .iter()
                            .map(|(_, d)| {
                                let w = design_worst_case_on(scenario, *d, models, runs);
                                format!("{:.2}% / {:.2}", w.share * 100.0, w.hours_vs_oracle)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("a design's run"))
                .collect()
        });
        println!("| {} | {} |", scenario.name, cells.join(" | "));
    }
}
