//! What the worker has done, counted: messages by outcome and AWS requests by operation. Logged in the summary
//! lines and at exit, and read by tests and the benchmark.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Counters shared by the worker's tasks.
#[derive(Debug, Default)]
pub struct Counters {
    /// Messages received (poison included).
    pub received: AtomicU64,
    /// Messages processed successfully.
    pub processed: AtomicU64,
    /// Messages whose processing failed (left for retry).
    pub failed: AtomicU64,
    /// Messages whose body is invalid (left for the DLQ).
    pub poison: AtomicU64,
    /// Messages deleted.
    pub deleted: AtomicU64,
    /// Messages handed back to the queue at shutdown.
    pub returned: AtomicU64,
    /// ReceiveMessage calls.
    pub receive_requests: AtomicU64,
    /// DeleteMessageBatch calls.
    pub delete_requests: AtomicU64,
    /// ChangeMessageVisibilityBatch calls.
    pub visibility_requests: AtomicU64,
    /// PutMetricData calls.
    pub metric_requests: AtomicU64,
    /// Task protection calls to the ECS agent.
    pub protection_requests: AtomicU64,
}

/// A point-in-time copy of [`Counters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CounterSnapshot {
    /// Messages received (poison included).
    pub received: u64,
    /// Messages processed successfully.
    pub processed: u64,
    /// Messages whose processing failed.
    pub failed: u64,
    /// Messages with an invalid body.
    pub poison: u64,
    /// Messages deleted.
    pub deleted: u64,
    /// Messages handed back at shutdown.
    pub returned: u64,
    /// AWS requests (SQS and CloudWatch).
    pub aws_requests: u64,
    /// ReceiveMessage calls.
    pub receive_requests: u64,
    /// DeleteMessageBatch calls.
    pub delete_requests: u64,
    /// ChangeMessageVisibilityBatch calls.
    pub visibility_requests: u64,
    /// PutMetricData calls.
    pub metric_requests: u64,
    /// Task protection calls.
    pub protection_requests: u64,
}

impl Counters {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `n` to `counter`.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// A copy of the counts.
    pub fn snapshot(&self) -> CounterSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let receive_requests = get(&self.receive_requests);
        let delete_requests = get(&self.delete_requests);
        let visibility_requests = get(&self.visibility_requests);
        let metric_requests = get(&self.metric_requests);
        CounterSnapshot {
            received: get(&self.received),
            processed: get(&self.processed),
            failed: get(&self.failed),
            poison: get(&self.poison),
            deleted: get(&self.deleted),
            returned: get(&self.returned),
            aws_requests: receive_requests
                + delete_requests
                + visibility_requests
                + metric_requests,
            receive_requests,
            delete_requests,
            visibility_requests,
            metric_requests,
            protection_requests: get(&self.protection_requests),
        }
    }
}
