//! The sampler Lambda: tracing, settings and clients once, then the runtime loop.
//! Exit code 2 (and a message naming the variable) on a bad setting.

use std::process::ExitCode;

use bpi_aws::{AwsClients, load_sdk_config};
use bpi_core::config::{ProcessEnv, SamplerMode};
use lambda_runtime::{LambdaEvent, service_fn};
use sampler::{AnySampler, handler};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match bpi_aws::logging::init(&ProcessEnv)
        .and_then(|()| SamplerMode::from_env(&ProcessEnv))
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sampler: {e}");
            return ExitCode::from(2);
        }
    };
    let sampler = AnySampler::new(AwsClients::new(&load_sdk_config().await), config);
    let sampler = &sampler;
    match lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        handler(sampler, event.payload)
    }))
    .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sampler: {e}");
            ExitCode::from(1)
        }
    }
}
