//! # bpi-core
//!
//! The pure heart of ecs-sqs-bpi: everything that decides how large the worker fleet should be, with no AWS SDK, no
//! async runtime and no I/O, so every rule is proven by plain unit and property tests and reused unchanged by the
//! worker, the Lambdas, the deploy scripts and the simulator.
//!
//! - [`message`]: the `{"id", "duration"}` message format and its strict parser.
//! - [`attach`]: putting this scaling on a running service and taking it off: what it had and what attach does to it.
//! - [`backlog`]: ecsBPI, the backlog per task.
//! - [`target`]: ecsTargetBPI = concurrency × latency / MPD.
//! - [`mpd`]: MPD estimated from CloudWatch statistic sets.
//! - [`decision`]: whether the updater should write the policy.
//! - [`update`]: the updater's whole rule, measure → target → decide (updater, simulator, `bpi status`).
//! - [`policy`]: the canonical scaling policy spec.
//! - [`capacity`]: the tasks a reading needs (the capacity model: busy and backlog parts).
//! - [`sampler`]: the sampler's values from one live reading (ecsBPI, the fast path's capacity).
//! - [`fleet`]: the services one sampler serves (the registry) and the AWS calls a reading of them takes.
//! - [`keep_alive`]: the idle wait and the floor the queue's own arrivals ask for (its gaps, its median minute).
//! - [`forecast`]: bursts that recur become scheduled capacity (learn, plan, the actions, their reconcile).
//! - [`durations`]: duration distributions of generated messages.
//! - [`calendar`]: days since the epoch to and from civil dates (the forecaster's schedules, the worker's headers).
//! - [`cost`]: what the set-up costs a month per service, from the code's call counts and its own alarms.
//! - [`config`]: settings from environment variables, one struct per binary.

// Tests compare floats exactly on purpose: the expected values are exact.
#![cfg_attr(test, allow(clippy::float_cmp))]

pub mod alarm;
pub mod attach;
pub mod backlog;
pub mod calendar;
pub mod capacity;
pub mod config;
pub mod cost;
pub mod decision;
pub mod deployed;
pub mod durations;
pub mod fleet;
pub mod forecast;
pub mod keep_alive;
pub mod littles_law;
pub mod message;
pub mod mpd;
pub mod policy;
pub mod sampler;
pub mod target;
pub mod update;

pub use backlog::{BacklogCounting, QueueDepth, backlog_per_task};
pub use decision::{UpdateDecision, UpdateReason, decide_update};
pub use durations::DurationDistribution;
pub use littles_law::{ActivityMinute, estimate_mpd_littles_law};
pub use message::{Message, MessageError, MessageId, MessageLimits, parse_message};
pub use mpd::{MpdEstimate, StatisticSet, estimate_mpd};
pub use target::{MpdSource, TargetBpi, TargetSettings, TargetWarning, target_bpi};
