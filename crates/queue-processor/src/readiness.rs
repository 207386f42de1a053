//! Whether the application beside the worker can take messages. Every receive counts toward the queue's
//! maxReceiveCount, so a worker that received while its application was down would push good messages toward the
//! DLQ: the worker receives only while this says ready.
//!
//! A background check runs the work's readiness check every `interval` while ready and every second while not; a
//! message whose application could not be reached turns it to not ready at once and re-checks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::sleep;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::work::Work;

/// How often a not-ready application is checked again.
pub const NOT_READY_RECHECK: Duration = Duration::from_secs(1);

/// The application's readiness, shared by the receive loop and the checker.
#[derive(Debug)]
pub struct Readiness {
    ready: watch::Sender<bool>,
    recheck: Notify,
    /// Not ready at some moment since the metrics publisher last asked.
    not_ready_seen: AtomicBool,
}

impl Readiness {
    /// Ready from the start (work that is never checked), or not until the first check passes.
    pub fn new(initially_ready: bool) -> Arc<Self> {
        Arc::new(Readiness {
            ready: watch::channel(initially_ready).0,
            recheck: Notify::new(),
            not_ready_seen: AtomicBool::new(!initially_ready),
        })
    }

    /// Whether the application can take messages now.
    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    /// Follows changes.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.ready.subscribe()
    }

    /// A message could not be handed to the application: stop receiving and check again.
    pub fn unavailable(&self, reason: &str) {
        if self.set(false) {
            tracing::warn!(
                reason,
                "the application cannot be reached; not receiving until it passes its readiness check"
            );
        }
        self.recheck.notify_one();
    }

    /// Whether the application was not ready at any moment since the last call (for the worker's metric).
    pub fn take_not_ready_seen(&self) -> bool {
        // Not ready now: the next interval starts not ready, so it reports it too.
        let not_ready_now = !self.is_ready();
        self.not_ready_seen.swap(not_ready_now, Ordering::Relaxed) || not_ready_now
    }

    /// Sets the state; true when it changed.
    fn set(&self, ready: bool) -> bool {
        if !ready {
            self.not_ready_seen.store(true, Ordering::Relaxed);
        }
        self.ready
            .send_if_modified(|r| std::mem::replace(r, ready) != ready)
    }

    /// Starts checking `work` on `tracker` until `stop`.
    pub fn spawn_checker<W: Work>(
        self: &Arc<Self>,
        work: Arc<W>,
        interval: Duration,
        tracker: &TaskTracker,
        stop: CancellationToken,
    ) {
        let me = self.clone();
        tracker.spawn(async move {
            let mut failures: u64 = 0;
            loop {
                let result = tokio::select! {
                    () = stop.cancelled() => return,
                    r = work.check_ready() => r,
                };
                match result {
                    Ok(()) => {
                        if me.set(true) {
                            tracing::info!(
                                failed_checks = failures,
                                "the application is ready; receiving"
                            );
                        }
                        failures = 0;
                    }
                    Err(e) => {
                        failures += 1;
                        let changed = me.set(false);
                        // Said on the change, then every 30 failed checks, so a long outage is visible without
                        // a line a second.
                        if changed || failures == 1 || failures.is_multiple_of(30) {
                            tracing::warn!(error = %e, failed_checks = failures, "the application is not ready; not receiving");
                        }
                    }
                }
                let wait = if me.is_ready() {
                    interval
                } else {
                    NOT_READY_RECHECK
                };
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = sleep(wait) => {}
                    () = me.recheck.notified() => sleep(NOT_READY_RECHECK.min(wait)).await,
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::work::{Delivery, WorkError};
    use std::sync::atomic::{AtomicBool, Ordering};

    struct Switch(AtomicBool);

    impl Work for Switch {
        async fn process(&self, _: &Delivery) -> Result<(), WorkError> {
            Ok(())
        }
        fn readiness_interval(&self) -> Option<Duration> {
            Some(Duration::from_secs(5))
        }
        async fn check_ready(&self) -> Result<(), WorkError> {
            if self.0.load(Ordering::SeqCst) {
                Ok(())
            } else {
                Err(WorkError::unavailable("down"))
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn follows_the_check_and_drops_at_once_on_an_unreachable_application() {
        let work = Arc::new(Switch(AtomicBool::new(false)));
        let readiness = Readiness::new(false);
        let (tracker, stop) = (TaskTracker::new(), CancellationToken::new());
        readiness.spawn_checker(work.clone(), Duration::from_secs(5), &tracker, stop.clone());
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(!readiness.is_ready(), "down: not ready");
        assert!(readiness.take_not_ready_seen());
        work.0.store(true, Ordering::SeqCst);
        tokio::time::sleep(NOT_READY_RECHECK).await;
        assert!(readiness.is_ready(), "up: ready within a second");
        assert!(
            readiness.take_not_ready_seen(),
            "it was not ready in this interval"
        );
        assert!(!readiness.take_not_ready_seen(), "and has been ready since");
        work.0.store(false, Ordering::SeqCst);
        readiness.unavailable("connection refused");
        assert!(!readiness.is_ready(), "a refused message turns it at once");
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(!readiness.is_ready(), "still down");
        work.0.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert!(readiness.is_ready());
        stop.cancel();
        tracker.close();
        tracker.wait().await;
    }
}
