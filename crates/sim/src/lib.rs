//! # bpi-sim
//!
//! A deterministic (seeded) discrete-event simulation, in virtual time, of the whole control loop: arrivals, the
//! queue, workers, CloudWatch's per-minute metrics, target tracking or step scaling, and the updater, for any of
//! the compared policies. Ours runs on core's own functions (backlog per task, target BPI, MPD estimate, update
//! decision, canonical policy), so the simulated updater IS the real logic. Pure: no AWS, no I/O.
//!
//! - [`scenario`]: workloads and the shipped scenarios.
//! - [`policy`]: the policies compared.
//! - [`autoscaling`]: target tracking's decision, shared with the local run's scaler.
//! - [`engine`]: the simulation.
//! - [`report`]: latency, cost and activity figures, table and timeline.
//! - [`chart`]: an SVG chart of runs.

// Tests compare floats exactly on purpose: the expected values are exact.
#![cfg_attr(test, allow(clippy::float_cmp))]

pub mod autoscaling;
pub mod chart;
pub mod engine;
pub mod policy;
pub mod report;
pub mod scenario;

pub use engine::{SimSettings, simulate, simulate_arrivals};
pub use policy::PolicyKind;
pub use report::{Report, table};
pub use scenario::{Scenario, scenario, scenarios};
