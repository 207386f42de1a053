//! Deletes completed messages in batches: completions are coalesced for a short moment (or until 10 are waiting)
//! into one DeleteMessageBatch, instead of one call per message as the blueprint made (bug 10).

use std::sync::Arc;
use std::time::Duration;

use bpi_aws::sqs::Queue;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::counters::Counters;
use bpi_aws::backoff::Backoff;

/// SQS's batch limit.
const BATCH: usize = 10;
/// Rounds for entries a batch call refused, before they are left to reappear (processed twice, never lost).
const ENTRY_ROUNDS: u32 = 4;

/// Hands completed messages' receipt handles to the deleting task. Cancelling its token, or dropping every
/// `Deleter`, flushes and ends it.
#[derive(Debug, Clone)]
pub struct Deleter {
    tx: mpsc::UnboundedSender<String>,
}

impl Deleter {
    /// Queues a completed message for deletion.
    pub fn delete(&self, receipt_handle: String) {
        // Fails only after the stop, when the worker hands nothing more in.
        let _ = self.tx.send(receipt_handle);
    }
}

/// Starts the deleting task on `tracker`: batches of up to 10, each sent at most `flush` after its first
/// completion. It ends when `stop` is cancelled or every `Deleter` is dropped, after deleting everything handed in.
pub fn spawn(
    tracker: &TaskTracker,
    stop: CancellationToken,
    queue: Queue,
    flush: Duration,
    counters: Arc<Counters>,
) -> Deleter {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    tracker.spawn(async move {
        let mut stopping = false;
        loop {
            let first = tokio::select! {
                next = rx.recv() => match next {
                    Some(h) => h,
                    None => break,
                },
                _ = stop.cancelled(), if !stopping => {
                    // Nothing new is taken; what was handed in is still deleted.
                    stopping = true;
                    rx.close();
                    continue;
                }
            };
            let mut batch = vec![first];
            let deadline = Instant::now() + flush;
            while batch.len() < BATCH {
                tokio::select! {
                    next = rx.recv() => match next {
                        Some(h) => batch.push(h),
                        None => break,
                    },
                    _ = sleep_until(deadline) => break,
                }
            }
            delete(&queue, batch, &counters).await;
        }
    });
    Deleter { tx }
}

/// Deletes a batch. A failed call has had the SDK's retries and is not repeated (its messages reappear after the
/// visibility timeout and are processed again, never lost); entries refused inside a successful answer for a
/// transient reason are retried, paced by the shared backoff.
async fn delete(queue: &Queue, mut batch: Vec<String>, counters: &Counters) {
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
    for _ in 0..ENTRY_ROUNDS {
        Counters::bump(&counters.delete_requests);
        match queue.delete_batch(&batch).await {
            Ok(result) => {
                Counters::add(
                    &counters.deleted,
                    (batch.len() - result.failed.len()) as u64,
                );
                let mut retry = Vec::new();
                for (handle, code, message) in result.failed {
                    if code.contains("ReceiptHandleIsInvalid") {
                        tracing::warn!(
                            code,
                            message,
                            "delete refused: the message was already handed to another receive"
                        );
                    } else {
                        retry.push(handle);
                    }
                }
                if retry.is_empty() {
                    return;
                }
                batch = retry;
            }
            Err(e) => {
                tracing::error!(error = %e, messages = batch.len(), "delete failed after the SDK's retries; these messages will be processed again");
                return;
            }
        }
        sleep(backoff.next_delay()).await;
    }
    tracing::error!(
        messages = batch.len(),
        "delete kept refusing entries; these messages will reappear after the visibility timeout and be processed again"
    );
}
