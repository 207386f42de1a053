//! # bpi-faults
//!
//! The fault suite lives in `tests/faults`; this library is empty. The tests are `#[ignore]`d so that
//! `cargo test --workspace` stays quick and undisturbed: `deploy/fault-suite.sh` runs them one at a time and renders
//! the table of docs/testing.md from their recorded figures.
