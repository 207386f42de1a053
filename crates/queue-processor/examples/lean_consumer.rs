//! The emulator's ceiling for the drain benchmark (`bench/worker-drain.sh`): the leanest consumer there is, on the
//! same SDK and client settings as the worker. It receives 10, deletes the batch, and does nothing else, one
//! request at a time, until a receive comes back empty; then it prints what it did as one JSON line.
//!
//! `QUEUE_URL=… AWS_ENDPOINT_URL=… cargo run --release -p queue-processor --example lean_consumer`

use std::time::Instant;

use bpi_aws::sqs::Queue;
use bpi_aws::{AwsClients, load_sdk_config};
use bpi_core::config::QueueRef;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("QUEUE_URL").map_err(|_| "set QUEUE_URL")?;
    let clients = AwsClients::new(&load_sdk_config().await);
    let queue = Queue::resolve(clients.sqs, &QueueRef::Url(url)).await?;
    let started = Instant::now();
    let (mut messages, mut requests) = (0_u64, 0_u64);
    loop {
        let batch = queue.receive(10, 0).await?;
        requests += 1;
        if batch.is_empty() {
            break;
        }
        let handles: Vec<String> = batch.into_iter().map(|m| m.receipt_handle).collect();
        messages += handles.len() as u64;
        queue.delete_batch(&handles).await?;
        requests += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{{\"messages\":{messages},\"requests\":{requests},\"secs\":{secs:.4},\"msgs_per_sec\":{:.1}}}",
        messages as f64 / secs
    );
    Ok(())
}
