//! The canonical scaling setup, as plain data: the one spec the updater writes, deploy applies and a simulator models.
//!
//! The blueprint wrote its policy from two places (Terraform and the updater, which fought, bug 2) and the updater's
//! copy named the wrong service (bug 1), so the task-count metric had no data and scaling died after the first update.
//! Here every name comes from [`PolicySettings`], the spec is built in one function, and it serialises to exactly the
//! JSON the Application Auto Scaling / CloudWatch APIs take (`--cli-input-json`), so no second copy is ever written.
//!
//! - [`settings`](PolicySettings): the names and knobs, from the updater's variables;
//! - the wire types: the requests exactly as the APIs take them (and as DescribeScalingPolicies returns them);
//! - the builders: the spec from the settings, one function per policy, one file per kind of policy.

mod backstop;
mod build;
mod fast_path;
mod idle;
mod scale_in;
mod settings;
mod target_tracking;
mod wire;

pub use backstop::*;
pub use build::*;
pub use fast_path::*;
pub use idle::*;
pub use scale_in::*;
pub use settings::*;
pub use target_tracking::*;
pub use wire::*;

/// Application Auto Scaling namespace of an ECS service.
pub const SERVICE_NAMESPACE: &str = "ecs";
/// The dimension scaled: the service's desired task count.
pub const SCALABLE_DIMENSION: &str = "ecs:service:DesiredCount";
/// Default scale-out cooldown, seconds.
pub const DEFAULT_SCALE_OUT_COOLDOWN_SECS: u32 = 60;
/// Default scale-in cooldown, seconds.
pub const DEFAULT_SCALE_IN_COOLDOWN_SECS: u32 = 120;
/// Cooldown of the retired scale-from-zero policy, seconds (the simulator's `ours-sqs-metrics` keeps it for
/// comparison).
pub const DEFAULT_SCALE_FROM_ZERO_COOLDOWN_SECS: u32 = 300;
/// Id of the expression that returns ecsBPI.
pub const BPI_EXPRESSION_ID: &str = "e1";
