//! # bpi-aws
//!
//! The one place ecs-sqs-bpi talks to AWS. Binaries build their clients here once ([`sdk_config`]), and reach each
//! service through a small adapter that speaks `bpi-core`'s types, so the logic above never sees an SDK type:
//!
//! - [`sqs`]: queue resolution and depth (and, for the worker, receive/delete/visibility batches).
//! - [`cloudwatch`]: statistic sets of `MsgProcessingDuration` written and read back.
//! - [`attach`]: a service's whole scaling read and put back (bpi attach and detach).
//! - [`autoscaling`]: the canonical policy written, read back and compared.
//! - [`scheduled`]: the forecaster's scheduled actions read, written and deleted.
//! - [`ecs`]: services' task counts.
//! - `ssm` (feature `registry`): the fleet's registry of services.
//!
//! Every failure is an [`AwsError`] that says which call failed and whether retrying can help.

// Tests compare floats exactly on purpose: the expected values are exact.
#![cfg_attr(test, allow(clippy::float_cmp))]

pub mod attach;
pub mod autoscaling;
pub mod backoff;
pub mod cloudwatch;
pub mod ecs;
pub mod error;
#[cfg(feature = "test-fixtures")]
#[allow(clippy::expect_used, missing_docs)]
pub mod fixtures;
pub mod logging;
pub mod scheduled;
pub mod sdk_config;
pub mod sqs;
#[cfg(feature = "registry")]
pub mod ssm;

pub use error::{AwsError, ErrorKind};
pub use sdk_config::{AwsClients, load_sdk_config, local_emulator_config};
