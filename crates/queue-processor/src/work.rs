//! The work a message asks for, behind a small trait so a user can plug in real work. The default, [`SleepWork`],
//! is the blueprint's simulated work: sleep for the message's `duration`.

use std::future::Future;

use bpi_core::Message;

/// Why a message's work failed: any error of the user's work, kept with its source chain for the log.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct WorkError(Box<dyn std::error::Error + Send + Sync + 'static>);

impl WorkError {
    /// Wraps any error (or a message: `WorkError::new("upstream answered 503")`).
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        WorkError(error.into())
    }
}

/// Processes one message. Returning `Err` leaves the message on the queue to be retried (and, after the queue's
/// maxReceiveCount, moved to its DLQ); it never deletes it.
pub trait Work: Send + Sync + 'static {
    /// Does the work of `message`.
    fn process(&self, message: &Message) -> impl Future<Output = Result<(), WorkError>> + Send;
}

/// The blueprint's simulated work: sleeps for the message's `duration`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SleepWork;

impl Work for SleepWork {
    async fn process(&self, message: &Message) -> Result<(), WorkError> {
        tokio::time::sleep(message.duration()).await;
        Ok(())
    }
}
