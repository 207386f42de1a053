//! Honest MPD: the wall time each message's processing really took, aggregated into one statistic set
//! (SampleCount, Sum, Minimum, Maximum) per interval and published in one PutMetricData call, instead of the
//! blueprint's one call per message carrying the message's own `duration` field (bugs 3 and 10). Flushed at
//! shutdown; a failed publication is kept and merged into the next.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bpi_aws::cloudwatch::{DurationStats, WorkerMetricsClient};
use bpi_core::config::MetricNames;
use tokio::time::{MissedTickBehavior, interval};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::counters::Counters;
use crate::in_flight::InFlight;

/// Collects measured durations between publications.
#[derive(Debug, Default)]
pub struct DurationRecorder(Mutex<DurationStats>);

impl DurationRecorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, DurationStats> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records one processing duration.
    pub fn record(&self, duration: Duration) {
        self.lock().record(duration.as_secs_f64());
    }

    fn take(&self) -> DurationStats {
        std::mem::take(&mut *self.lock())
    }

    fn merge_back(&self, stats: &DurationStats) {
        self.lock().merge(stats);
    }
}

/// What the publisher needs.
#[derive(Debug)]
pub struct Publisher {
    /// CloudWatch client.
    pub client: WorkerMetricsClient,
    /// Metric names.
    pub names: MetricNames,
    /// The queue, for the `QueueName` dimension.
    pub queue_name: String,
    /// Publication interval.
    pub interval: Duration,
    /// Where durations are collected.
    pub recorder: Arc<DurationRecorder>,
    /// Counters, for the summary line.
    pub counters: Arc<Counters>,
    /// Held messages, for the summary line.
    pub in_flight: Arc<InFlight>,
    /// The application's readiness, for a worker that carries one (HTTP or exec mode).
    pub readiness: Option<Arc<crate::readiness::Readiness>>,
}

impl Publisher {
    async fn flush(&self) {
        let stats = self.recorder.take();
        // The application's state rides along with the durations, and is published alone only when it was not
        // ready: an idle worker whose application is fine says nothing, as before.
        let app_not_ready = match self.readiness.as_ref().map(|r| r.take_not_ready_seen()) {
            Some(true) => Some(true),
            Some(false) if !stats.is_empty() => Some(false),
            _ => None,
        };
        if stats.is_empty() && app_not_ready.is_none() {
            return;
        }
        Counters::bump(&self.counters.metric_requests);
        match self
            .client
            .put(
                &self.names,
                &self.queue_name,
                &stats,
                app_not_ready,
                SystemTime::now(),
            )
            .await
        {
            Ok(()) => tracing::debug!(samples = stats.count, "published processing durations"),
            Err(e) => {
                tracing::warn!(error = %e, samples = stats.count, "publishing durations failed; keeping them for the next interval");
                self.recorder.merge_back(&stats);
            }
        }
    }

    fn summary(&self, last: &mut crate::counters::CounterSnapshot) {
        let now = self.counters.snapshot();
        tracing::info!(
            processed = now.processed - last.processed,
            failed = now.failed - last.failed,
            poison = now.poison - last.poison,
            held = self.in_flight.len(),
            total_processed = now.processed,
            aws_requests = now.aws_requests,
            "interval summary"
        );
        *last = now;
    }

    /// Starts publishing every interval on `tracker`; when `stop` is cancelled it flushes once more and stops.
    pub fn spawn(self, tracker: &TaskTracker, stop: CancellationToken) {
        tracker.spawn(async move {
            let mut ticker = interval(self.interval);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
            ticker.tick().await; // the first tick is immediate
            let mut last = self.counters.snapshot();
            loop {
                tokio::select! {
                    _ = ticker.tick() => {
                        self.flush().await;
                        self.summary(&mut last);
                    }
                    _ = stop.cancelled() => {
                        self.flush().await;
                        break;
                    }
                }
            }
        });
    }
}
