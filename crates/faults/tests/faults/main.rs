//! The fault suite: real queue-processor processes (and the producer and updater, in-process) against the local
//! emulator, each case asserting its outcome and recording its figures (`bpi_testkit::record_fault_result`) for the
//! table of docs/testing.md. Ignored by default, so `cargo test --workspace` stays quick: `deploy/fault-suite.sh` runs them
//! one at a time, then the fault cases that live beside the code they test (poison, bad settings, updater edges).

mod crash;
mod deployment;
mod fast_scale_in;
mod injected;
mod load;
mod outage;
mod sampler;
mod scale_in;
mod support;
