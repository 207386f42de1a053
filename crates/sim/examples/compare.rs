//! Runs every shipped scenario under every policy and prints the comparison table:
//! `cargo run --release -p bpi-sim --example compare`.

fn main() {
    let settings = bpi_sim::SimSettings::default();
    let mut reports = Vec::new();
    for scenario in bpi_sim::scenarios() {
        for policy in bpi_sim::PolicyKind::ALL {
            reports.push(bpi_sim::simulate(&scenario, policy, &settings));
        }
    }
    print!("{}", bpi_sim::table(&reports));
}
