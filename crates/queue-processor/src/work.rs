//! The work a message asks for, behind a small trait so the worker's guarantees (heartbeat, drain, protection,
//! batching, the measured duration) hold whatever the work is. Three implementations ship:
//! - [`SleepWork`], the blueprint's demo: sleep for the message's `duration`;
//! - [`crate::http_app::HttpWork`]: POST the body to the user's application on localhost (sqsd's convention);
//! - [`crate::exec_app::ExecWork`]: run the user's command with the body on standard input.

use std::future::Future;
use std::time::Duration;

use bpi_core::Message;
use bpi_core::calendar::{CivilDate, DAY_SECS, civil_from_days};

/// Why a message's work failed, and what that says about the application.
#[derive(Debug, thiserror::Error)]
#[error("{source}")]
pub struct WorkError {
    kind: FailureKind,
    source: Box<dyn std::error::Error + Send + Sync + 'static>,
}

/// What a failure says about the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The work ran and failed (an error answer, a non-zero exit, a timeout): the message is retried after its
    /// visibility timeout and, after the queue's maxReceiveCount, goes to the DLQ.
    Failed,
    /// The application could not be reached (refused or dropped connection, a command that cannot start): the
    /// message is handed back at once for another task, and this task stops receiving until its application
    /// passes its readiness check again.
    Unavailable,
}

impl WorkError {
    /// The work failed (`WorkError::new("upstream answered 503")`).
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        WorkError {
            kind: FailureKind::Failed,
            source: error.into(),
        }
    }

    /// The application could not be reached.
    pub fn unavailable(
        error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        WorkError {
            kind: FailureKind::Unavailable,
            source: error.into(),
        }
    }

    /// What the failure says about the application.
    pub fn kind(&self) -> FailureKind {
        self.kind
    }
}

/// Which bodies a work takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// Only the blueprint's `{"id":…,"duration":…}`: any other body is invalid and left for the DLQ unprocessed.
    BlueprintMessage,
    /// Any body: the application judges it (an application that fails a body on every receive sends it to the
    /// DLQ after maxReceiveCount).
    Any,
}

/// One received message, as the work sees it.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// SQS's message id.
    pub message_id: String,
    /// The body, as sent.
    pub body: String,
    /// How many times it has been received, this time included.
    pub receive_count: u32,
    /// When SQS accepted it, milliseconds since the Unix epoch.
    pub sent_at_ms: Option<u64>,
    /// When it was first received, milliseconds since the Unix epoch.
    pub first_received_at_ms: Option<u64>,
    /// Its message group (MessageGroupId; on a FIFO queue the worker runs a group's messages one at a time, in
    /// order).
    pub group_id: Option<String>,
    /// Its place in its group (SequenceNumber, FIFO queues only).
    pub sequence_number: Option<String>,
    /// The body read as the blueprint's message, when it is one (always, for [`BodyFormat::BlueprintMessage`]).
    pub message: Option<Message>,
}

/// Processes one message. Returning `Err` leaves the message on the queue to be retried (and, after the queue's
/// maxReceiveCount, moved to its DLQ); it never deletes it.
pub trait Work: Send + Sync + 'static {
    /// Which bodies it takes.
    fn body_format(&self) -> BodyFormat {
        BodyFormat::BlueprintMessage
    }

    /// Does the work of `delivery`.
    fn process(&self, delivery: &Delivery) -> impl Future<Output = Result<(), WorkError>> + Send;

    /// How often the application's readiness is checked while it is ready; `None` (the default) when the work
    /// is always ready and never checked.
    fn readiness_interval(&self) -> Option<Duration> {
        None
    }

    /// Whether the application can take a message now. The worker receives nothing until this succeeds, and
    /// stops receiving while it fails.
    fn check_ready(&self) -> impl Future<Output = Result<(), WorkError>> + Send {
        std::future::ready(Ok(()))
    }
}

/// The blueprint's simulated work: sleeps for the message's `duration`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SleepWork;

impl Work for SleepWork {
    async fn process(&self, delivery: &Delivery) -> Result<(), WorkError> {
        let duration = delivery
            .message
            .as_ref()
            .map_or(Duration::ZERO, Message::duration);
        // tokio's timer has a 1 ms resolution: a zero sleep would still wait for the next tick and report 1 ms.
        if !duration.is_zero() {
            tokio::time::sleep(duration).await;
        }
        Ok(())
    }
}

/// A Unix time in milliseconds as an RFC 3339 UTC timestamp with milliseconds (`2026-11-26T12:00:00.000Z`), the
/// form sqsd uses for `X-Aws-Sqsd-First-Received-At`.
pub fn rfc3339_utc(epoch_ms: u64) -> String {
    let secs = epoch_ms / 1000;
    let days = i64::try_from(secs / DAY_SECS).unwrap_or(i64::MAX);
    let rem = secs % DAY_SECS;
    let CivilDate { year, month, day } = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        epoch_ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_utc(1_795_694_400_123), "2026-11-26T12:00:00.123Z");
        assert_eq!(rfc3339_utc(4_107_542_399_999), "2100-02-28T23:59:59.999Z");
    }
}
