//! # message-producer
//!
//! The test-load Lambda: on its EventBridge schedule (or by hand) it sends `count` messages of the core format to
//! the queue and returns `{"sent": n, "failed": m}`.
//!
//! - [`request`]: the invocation payload (scheduled event or override).
//! - [`producer`]: generation and batched, retried sending.
//! - [`handler`]: the Lambda handler, a plain async fn over the payload.

pub mod producer;
pub mod request;

pub use producer::{ProduceReport, Producer};
pub use request::ProduceRequest;

/// The Lambda handler: reads the payload, sends, reports. A bad payload is an error (nothing is sent).
pub async fn handler(
    producer: &Producer,
    payload: serde_json::Value,
) -> Result<ProduceReport, lambda_runtime::Error> {
    let request = ProduceRequest::from_payload(&payload)?;
    Ok(producer.produce(&request).await)
}
