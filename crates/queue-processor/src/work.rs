//! The work a message asks for, behind a small trait so a user can plug in real work. The default, [`SleepWork`],
//! is the blueprint's simulated work: sleep for the message's `duration`.

use std::future::Future;

use bpi_core::Message;

/// Processes one message. Returning `Err` leaves the message on the queue to be retried (and, after the queue's
/// maxReceiveCount, moved to its DLQ); it never deletes it.
pub trait Work: Send + Sync + 'static {
    /// Does the work of `message`.
    fn process(&self, message: &Message) -> impl Future<Output = Result<(), String>> + Send;
}

/// The blueprint's simulated work: sleeps for the message's `duration`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SleepWork;

impl Work for SleepWork {
    async fn process(&self, message: &Message) -> Result<(), String> {
        tokio::time::sleep(message.duration()).await;
        Ok(())
    }
}
