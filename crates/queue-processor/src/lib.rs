//! # queue-processor
//!
//! The Fargate worker. It replaces the blueprint's Python `app.py`: same message format and metric names, none of
//! its bugs. Long-polls SQS ten at a time, processes with bounded concurrency, measures the real processing time,
//! deletes in batches, keeps long messages invisible, drains on SIGTERM, protects itself from scale-in while it holds a message the drain could not finish,
//! leaves invalid messages to the DLQ and rides out throttling and outages with backoff.
//!
//! - [`app`]: start-up from the environment and exit codes.
//! - [`worker`]: the lifecycle (start, run, drain, stop); [`dispatch`]: which received message starts next (a FIFO
//!   queue's groups one message at a time, in order).
//! - [`work`]: the pluggable work: the demo's sleep, [`http_app`] (POST to the user's application, sqsd-style) or
//!   [`exec_app`] (a command per message); [`readiness`]: nothing is received while the application is not ready.
//! - [`deleter`], [`heartbeat`], [`metrics`], [`protection`]: the background tasks.
//! - [`in_flight`], [`counters`], [`shutdown`]: shared state and plumbing.

// Tests compare floats exactly on purpose: the expected values are exact.
#![cfg_attr(test, allow(clippy::float_cmp))]

pub mod app;
pub mod counters;
pub mod deleter;
pub mod dispatch;
pub mod exec_app;
pub mod heartbeat;
pub mod http_app;
pub mod in_flight;
pub mod metrics;
pub mod protection;
pub mod readiness;
pub mod shutdown;
pub mod work;
pub mod worker;

pub use work::{BodyFormat, Delivery, FailureKind, SleepWork, Work, WorkError};
pub use worker::{RunReport, Worker, WorkerError};
