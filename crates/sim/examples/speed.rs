//! Simulation speed: 7 simulated days of the `blueprint` scenario under our policy.
//! `cargo run --release -p bpi-sim --example speed`

use std::time::Instant;

fn main() {
    let scenario = bpi_sim::scenario("blueprint")
        .expect("shipped")
        .lasting(7 * 24 * 3600);
    let settings = bpi_sim::SimSettings::default();
    // Timed whole: drawing the arrivals and simulating.
    let started = Instant::now();
    let report = bpi_sim::simulate(&scenario, bpi_sim::PolicyKind::Ours, &settings);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "7 simulated days of 'blueprint' (ours): {} messages, {} events in {secs:.3} s = {:.1} M events/s ({:.0}x real time)",
        report.messages,
        report.events,
        report.events as f64 / secs / 1e6,
        7.0 * 86_400.0 / secs
    );
}
