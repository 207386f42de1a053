//! Writes the scenario charts of docs/simulator.md ([`bpi_sim::chart::documented_charts`]):
//! `cargo run --release -p bpi-sim --example scenario_charts` (from the repository's root).

fn main() {
    for (file, svg) in bpi_sim::chart::documented_charts() {
        let path = format!("docs/{file}");
        std::fs::write(&path, svg).expect("write the chart");
        println!("wrote {path}");
    }
}
