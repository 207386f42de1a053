//! The message-producer Lambda: tracing, settings and clients once, then the runtime loop.
//! Exit code 2 (and a message naming the variable) on a bad setting; 1 when the queue cannot be used.

use std::process::ExitCode;

use bpi_aws::sqs::Queue;
use bpi_aws::{AwsClients, load_sdk_config};
use bpi_core::config::{ProcessEnv, ProducerConfig};
use lambda_runtime::{LambdaEvent, service_fn};
use message_producer::{Producer, handler};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match bpi_aws::logging::init(&ProcessEnv)
        .and_then(|()| ProducerConfig::from_env(&ProcessEnv))
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("message-producer: {e}");
            return ExitCode::from(2);
        }
    };
    let clients = AwsClients::new(&load_sdk_config().await);
    let producer = match Queue::resolve(clients.sqs, &config.queue).await {
        Ok(queue) => Producer::new(queue, config),
        Err(e) => {
            eprintln!("message-producer: cannot use the queue: {e}");
            return ExitCode::from(1);
        }
    };
    let producer = &producer;
    match lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        handler(producer, event.payload)
    }))
    .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("message-producer: {e}");
            ExitCode::from(1)
        }
    }
}
