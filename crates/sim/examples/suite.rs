//! The workload suite over its robust ensembles, the tuning part and the held-out part apart, with the time it
//! took, and the trade-off charts (`docs/suite-tuning.svg`, `docs/suite-held-out.svg`, written with `--charts`):
//! `cargo run --release -p bpi-sim --example suite [-- BEHAVIOURS] [--charts] [--headline]`; `--headline` ends with
//! the README's headline table, both parts in one.

use std::time::Instant;

use bpi_sim::suite::{self, Part};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let behaviours = args
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(bpi_sim::robust::Ensemble::default().behaviours);
    let charts = args.iter().any(|a| a == "--charts");
    let headline = args.iter().any(|a| a == "--headline");
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let mut both = Vec::new();
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
        for (workload, peer) in suite::dominating_ours(&rows) {
            println!("- {workload}: {peer} has both a higher share and fewer task-hours than ours");
        }
        println!();
        if charts {
            let path = format!("docs/suite-{}.svg", part.name());
            let title = bpi_sim::tradeoff::title(part);
            std::fs::write(&path, bpi_sim::tradeoff::svg(&title, &rows)).expect("write the chart");
            println!("wrote {path}\n");
        }
        both.extend(rows);
    }
    if headline {
        println!("## Headline\n");
        print!("{}", suite::headline_table(&both));
    }
}
