//! How long the idle policy should wait, against a producer that sends a batch every few minutes (docs/design.md's
//! table): `cargo run --release -p bpi-sim --example idle_gap`. See `bpi_sim::idle_gap`.

fn main() {
    print!(
        "{}",
        bpi_sim::idle_gap::table(&bpi_sim::idle_gap::compare())
    );
}
