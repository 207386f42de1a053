//! SDK configuration and clients, built once per process.
//!
//! [`load_sdk_config`] reads the usual AWS environment (region, credentials, profile) and honours `AWS_ENDPOINT_URL`,
//! which is how the binaries are pointed at the local emulator. Retries are the SDK's standard mode (exponential
//! backoff with jitter for throttling, 5xx and network errors) with a few more attempts than the default, since every
//! caller here is a background loop that prefers waiting to failing.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sqs::config::Credentials;

/// Attempts per call, first one included.
pub const MAX_ATTEMPTS: u32 = 5;

fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(10))
}

/// Connect within 3 s; give up an attempt after 40 s (above the 20 s long poll), so a hung endpoint never hangs a
/// caller: the attempt fails as a timeout and is retried.
fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(40))
        .build()
}

/// The SDK configuration from the environment (`AWS_REGION`, credentials chain, `AWS_ENDPOINT_URL`, ...).
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config())
        .timeout_config(timeout_config())
        .load()
        .await
}

/// The SDK configuration for a local emulator at `endpoint`: fixed test credentials and region, same retries.
/// For tests and the local run only; never needs the process environment.
pub async fn local_emulator_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "test",
            "test",
            None,
            None,
            "local-emulator",
        ))
        .retry_config(retry_config())
        .timeout_config(timeout_config())
        .load()
        .await
}

/// Every client the project uses, built from one configuration.
#[derive(Debug, Clone)]
pub struct AwsClients {
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
    /// CloudWatch (pinned to the query protocol, see the workspace Cargo.toml).
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// Application Auto Scaling.
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
    /// ECS.
    pub ecs: aws_sdk_ecs::Client,
    /// SSM Parameter Store (the fleet's registry; feature `registry`).
    #[cfg(feature = "registry")]
    pub ssm: aws_sdk_ssm::Client,
}

impl AwsClients {
    /// Builds every client from `config`.
    pub fn new(config: &SdkConfig) -> Self {
        AwsClients {
            sqs: aws_sdk_sqs::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            autoscaling: aws_sdk_applicationautoscaling::Client::new(config),
            ecs: aws_sdk_ecs::Client::new(config),
            #[cfg(feature = "registry")]
            ssm: aws_sdk_ssm::Client::new(config),
        }
    }
}
