//! The capacity model's candidates against the shares it replaces, on the workload suite's tuning part (or, with
//! `--held-out`, the held-out part) and the six shipped scenarios: worst case over the part's ensemble, share within
//! the promise (points against the reactive limit) / task-hours ÷ the reactive limit's.
//! `cargo run --release -p bpi-sim --example capacity_designs [-- --held-out] [-- --only NAME]`.

use bpi_core::capacity::BusyRule;
use bpi_sim::policies::ours::{FastPathSizing, SamplerDesign};
use bpi_sim::robust::{behaviours, design_worst_case};
use bpi_sim::suite::{self, Part};
use bpi_sim::{Scenario, scenarios};

fn designs() -> Vec<(&'static str, SamplerDesign)> {
    let capacity = |task_start_secs: f64| FastPathSizing::Capacity {
        task_start_secs,
        busy_rule: BusyRule::Utilization,
    };
    let sqrt = |beta: f64| FastPathSizing::Capacity {
        task_start_secs: 180.0,
        busy_rule: BusyRule::SquareRoot { beta },
    };
    let shipped = SamplerDesign::default().reactive_only();
    // The previous design: the shares, target tracking's scale-in.
    let base = SamplerDesign {
        sizing: FastPathSizing::Shares,
        scale_in_window_secs: None,
        ..shipped
    };
    let with = |start: f64, window: Option<u64>| SamplerDesign {
        sizing: capacity(start),
        scale_in_window_secs: window,
        ..base
    };
    vec![
        ("shares (previous)", base),
        (
            "shares + scale-in 2 min",
            SamplerDesign {
                scale_in_window_secs: Some(120),
                ..base
            },
        ),
        ("capacity 180 s", with(180.0, None)),
        ("capacity 60 s + scale-in 2 min", with(60.0, Some(120))),
        ("capacity 180 s + scale-in 1 min", with(180.0, Some(60))),
        ("capacity 180 s + scale-in 2 min (shipped)", shipped),
        ("capacity 180 s + scale-in 5 min", with(180.0, Some(300))),
        (
            "square-root staffing (beta 1) + scale-in 2 min",
            SamplerDesign {
                sizing: sqrt(1.0),
                scale_in_window_secs: Some(120),
                ..base
            },
        ),
    ]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let part = if args.iter().any(|a| a == "--held-out") {
        Part::HeldOut
    } else {
        Part::Tuning
    };
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let ensemble = part.ensemble(12);
    let models = behaviours(&ensemble);
    // The reactive path's candidates, on the families they were chosen on (the recurring ones came later, with the
    // forecaster: examples/recurring.rs).
    let mut workloads: Vec<Scenario> = suite::part(part)
        .into_iter()
        .filter(|w| !suite::Family::RECURRING.contains(&w.family))
        .map(|w| w.scenario)
        .collect();
    if part == Part::Tuning {
        workloads.extend(scenarios());
    }
    let designs = designs();
    print!("| workload |");
    for (name, _) in &designs {
        print!(" {name} |");
    }
    println!();
    println!("| --- |{}", " --- |".repeat(designs.len()));
    for w in workloads
        .iter()
        .filter(|w| only.as_ref().is_none_or(|o| w.name.contains(o.as_str())))
    {
        let cells: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = designs
                .iter()
                .map(|(_, d)| {
                    let models = &models;
                    let seeds = &ensemble.seeds;
                    scope.spawn(move || design_worst_case(w, *d, models, seeds).cell_vs_reactive())
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a design run"))
                .collect()
        });
        println!("| {} | {} |", w.name, cells.join(" | "));
    }
}
