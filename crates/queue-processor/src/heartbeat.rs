//! Keeps held messages invisible while they are worked: a message whose visibility is about to run out is
//! extended (ChangeMessageVisibilityBatch, up to 10 per call), so a message longer than the queue's visibility
//! timeout is never handed to a second worker (the blueprint had no heartbeat: duplicates after 30 s, bug 9).

use std::sync::Arc;
use std::time::Duration;

use bpi_aws::sqs::Queue;
use tokio::time::{Instant, MissedTickBehavior, interval};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::counters::Counters;
use crate::in_flight::InFlight;

/// How often to look, and how early to extend, for a visibility timeout: every quarter of it (0.25-10 s), for
/// messages with less than half of it left.
pub fn schedule(visibility: Duration) -> (Duration, Duration) {
    let tick = (visibility / 4).clamp(Duration::from_millis(250), Duration::from_secs(10));
    (tick, visibility / 2)
}

/// Starts the heartbeat on `tracker`; it stops when `stop` is cancelled (between rounds of extensions).
pub fn spawn(
    tracker: &TaskTracker,
    stop: CancellationToken,
    queue: Queue,
    in_flight: Arc<InFlight>,
    visibility: Duration,
    counters: Arc<Counters>,
) {
    let (tick, margin) = schedule(visibility);
    let visibility_secs = u32::try_from(visibility.as_secs()).unwrap_or(u32::MAX);
    tracker.spawn(async move {
        let mut ticker = interval(tick);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            let due = in_flight.due_for_extension(margin);
            for chunk in due.chunks(10) {
                let handles: Vec<String> = chunk.iter().map(|(_, h)| h.clone()).collect();
                let at = Instant::now();
                Counters::bump(&counters.visibility_requests);
                match queue
                    .change_visibility_batch(&handles, visibility_secs)
                    .await
                {
                    Ok(result) => {
                        for (id, handle) in chunk {
                            if !result.failed.iter().any(|(h, _, _)| h == handle) {
                                in_flight.extended(id, at, visibility);
                            }
                        }
                        for (_, code, message) in result.failed {
                            tracing::warn!(code, message, "visibility extension refused");
                        }
                        tracing::debug!(
                            messages = chunk.len(),
                            visibility_secs,
                            "extended visibility"
                        );
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "visibility extension failed; retrying next tick")
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_well_inside_the_timeout() {
        assert_eq!(
            schedule(Duration::from_secs(30)),
            (Duration::from_millis(7500), Duration::from_secs(15))
        );
        assert_eq!(
            schedule(Duration::from_secs(2)),
            (Duration::from_millis(500), Duration::from_secs(1))
        );
        assert_eq!(
            schedule(Duration::from_secs(900)),
            (Duration::from_secs(10), Duration::from_secs(450))
        );
    }
}
