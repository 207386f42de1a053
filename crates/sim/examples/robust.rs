//! The robust table of docs/simulator.md, as `bpi simulate --robust` prints it, without building the CLI and its AWS SDK:
//! `cargo run --release -p bpi-sim --example robust` (`-- --parameters`: the model's parameters table instead).

use bpi_sim::robust::{self, Ensemble};
use bpi_sim::{PolicyKind, SimSettings, scenarios};

fn main() {
    if std::env::args().any(|a| a == "--parameters") {
        print!("{}", bpi_sim::model::parameters_table());
        return;
    }
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let rows = robust::run(
        &scenarios(),
        &PolicyKind::ALL,
        &Ensemble::default(),
        &SimSettings::default(),
        threads,
    );
    print!("{}", robust::table(&rows));
}
