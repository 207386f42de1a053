//! # bpi-faults
//!
//! The fault suite lives in `tests/faults`; this library is empty. The tests are `#[ignore]`d so that
//! `cargo test --workspace` stays quick and undisturbed: `deploy/fault-suite.sh` runs them one at a time and renders
//! the README's table from their recorded figures.
