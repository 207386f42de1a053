//! # bpi-sim
//!
//! A deterministic (seeded) discrete-event simulation, in virtual time, of the whole control loop: arrivals, the
//! queue, workers, CloudWatch's per-minute metrics, target tracking or step scaling, and the updater, for any of
//! the compared policies. Ours runs on core's own functions (backlog per task, target BPI, MPD estimate, update
//! decision, canonical policy), so the simulated updater IS the real logic. Pure: no AWS, no I/O.
//!
//! - [`model`]: what AWS leaves undocumented, as parameters with their sources.
//! - [`scenario`](mod@scenario): workloads and the shipped scenarios; [`suite`]: the workload suite, with its held-out part;
//!   [`trace`]: a user's own traffic replayed; [`counts`]: recorded counts per bucket replayed;
//!   [`recorded`]: weeks of recorded real traffic as workloads.
//! - [`queue`], [`fleet`], [`metrics`]: SQS, the ECS service's tasks, CloudWatch; [`launch`]: Fargate's launch
//!   quotas.
//! - [`autoscaling`]: target tracking's decision and the scalable target's cooldowns, shared with the local run.
//! - [`policies`]: the policies compared, one type each; [`oracle`]: the physical limit.
//! - [`engine`]: the simulation; [`robust`]: the comparison over an ensemble of AWS behaviours; [`idle_gap`]: the
//!   idle policy's wait against batches a few minutes apart.
//! - [`report`]: latency, cost and activity figures, table and timeline; [`chart`]: an SVG chart of runs.

// Tests compare floats exactly on purpose: the expected values are exact.
#![cfg_attr(test, allow(clippy::float_cmp))]

pub mod autoscaling;
pub mod chart;
pub mod counts;
pub mod engine;
pub mod fleet;
pub mod idle_gap;
pub mod launch;
pub mod littles_law;
pub mod metrics;
pub mod model;
pub mod oracle;
pub mod policies;
pub mod queue;
pub mod recorded;
pub mod report;
pub mod robust;
pub mod run;
pub mod scenario;
pub mod schedule;
pub mod settings;
pub mod suite;
pub mod trace;
pub mod tradeoff;

pub use model::AwsModel;
pub use policies::PolicyKind;
pub use report::{Report, table};
pub use run::{simulate, simulate_arrivals};
pub use scenario::{Scenario, scenario, scenarios};
pub use settings::SimSettings;
