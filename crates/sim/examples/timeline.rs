//! Prints one policy's minute-by-minute timeline on one scenario:
//! `cargo run --release -p bpi-sim --example timeline -- SCENARIO POLICY [MINUTES]`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scenario =
        bpi_sim::scenario(args.get(1).map_or("blueprint", String::as_str)).expect("scenario");
    let policy =
        bpi_sim::PolicyKind::from_name(args.get(2).map_or("ours", String::as_str)).expect("policy");
    let minutes: usize = args.get(3).and_then(|m| m.parse().ok()).unwrap_or(40);
    let report = bpi_sim::simulate(&scenario, policy, &bpi_sim::SimSettings::default());
    println!("minute,visible,in_flight,tasks,desired,target");
    for p in report.timeline.0.iter().take(minutes) {
        println!(
            "{},{},{},{},{},{}",
            p.minute, p.visible, p.in_flight, p.tasks, p.desired, p.target
        );
    }
}
