//! Prints how far MPD by Little's law (SQS's in-flight count over its deletions, the updater's stand-in when no
//! worker publishes durations) is from the measured MPD, per scenario over the robust ensemble:
//! `cargo run --release -p bpi-sim --example littles_law`. docs/worker.md's table is this output (a test checks it).

use bpi_sim::robust::Ensemble;
use bpi_sim::{SimSettings, scenarios};

fn main() {
    let rows =
        bpi_sim::littles_law::compare(&scenarios(), &Ensemble::default(), &SimSettings::default());
    print!("{}", bpi_sim::littles_law::table(&rows));
}
