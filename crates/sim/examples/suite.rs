//! The workload suite over its robust ensembles, the tuning part and the held-out part apart, with the time it
//! took: `cargo run --release -p bpi-sim --example suite [-- BEHAVIOURS]`.

use std::time::Instant;

use bpi_sim::suite::{self, Part};

fn main() {
    let behaviours = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(bpi_sim::robust::Ensemble::default().behaviours);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    for part in [Part::Tuning, Part::HeldOut] {
        let started = Instant::now();
        let rows = suite::run(part, &suite::policies(), behaviours, threads);
        println!(
            "## {} part ({:.1} s)\n",
            part.name(),
            started.elapsed().as_secs_f64()
        );
        print!("{}", suite::table(&rows));
        println!();
        for (workload, keda) in suite::keda_dominating_ours(&rows) {
            println!("- {workload}: {keda} has both a higher share and fewer task-hours than ours");
        }
        println!();
    }
}
