//! Prints the configuration tables of every binary as Markdown, for docs/configuration.md:
//! `cargo run -q -p bpi-core --example config_tables`.

use bpi_core::config::{
    ProcessorConfig, ProducerConfig, SamplerConfig, UpdaterConfig, markdown_table,
};

fn main() {
    for (binary, docs) in [
        ("queue-processor", ProcessorConfig::variables()),
        ("message-producer", ProducerConfig::variables()),
        ("target-bpi-updater", UpdaterConfig::variables()),
        ("sampler", SamplerConfig::variables()),
    ] {
        println!("#### {binary}\n\n{}", markdown_table(&docs));
    }
}
