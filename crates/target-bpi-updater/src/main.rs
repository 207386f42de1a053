//! The target-bpi-updater Lambda: tracing, settings and clients once, then the runtime loop.
//! Exit code 2 (and a message naming the variable) on a bad setting: no policy is ever written from one.

use std::process::ExitCode;

use bpi_aws::{AwsClients, load_sdk_config};
use bpi_core::config::{ProcessEnv, UpdaterConfig};
use lambda_runtime::{LambdaEvent, service_fn};
use target_bpi_updater::{Updater, handler};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match bpi_aws::logging::init(&ProcessEnv)
        .and_then(|()| UpdaterConfig::from_env(&ProcessEnv))
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("target-bpi-updater: {e}");
            return ExitCode::from(2);
        }
    };
    let updater = Updater::new(AwsClients::new(&load_sdk_config().await), config);
    let updater = &updater;
    match lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        handler(updater, event.payload)
    }))
    .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("target-bpi-updater: {e}");
            ExitCode::from(1)
        }
    }
}
