//! The target-bpi-updater Lambda: tracing, settings and clients once, then the runtime loop.
//! Exit code 2 (and a message naming the variable) on a bad setting: no policy is ever written from one.

use std::process::ExitCode;

use bpi_aws::{AwsClients, load_sdk_config};
use bpi_core::config::{ProcessEnv, UpdaterConfig, registry_path};
use lambda_runtime::{LambdaEvent, service_fn};
use target_bpi_updater::{AnyUpdater, FleetUpdater, Updater};

#[tokio::main]
async fn main() -> ExitCode {
    // Fleet mode when FLEET_REGISTRY_PATH is set, else the one service of the variables.
    let mode = bpi_aws::logging::init(&ProcessEnv)
        .and_then(|()| registry_path(&ProcessEnv))
        .and_then(|path| match path {
            Some(path) => Ok((None, Some(path))),
            None => UpdaterConfig::from_env(&ProcessEnv).map(|c| (Some(c), None)),
        });
    let clients = match mode {
        Ok(_) => AwsClients::new(&load_sdk_config().await),
        Err(e) => {
            eprintln!("target-bpi-updater: {e}");
            return ExitCode::from(2);
        }
    };
    let updater = match mode {
        Ok((Some(config), _)) => AnyUpdater::Single(Box::new(Updater::new(clients, config))),
        Ok((None, Some(path))) => AnyUpdater::Fleet(FleetUpdater::new(clients, path)),
        _ => return ExitCode::from(2),
    };
    let updater = &updater;
    match lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        updater.handle(event.payload)
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
