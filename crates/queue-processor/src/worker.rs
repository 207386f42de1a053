//! The worker's lifecycle: start (background tasks), run (receive, dispatch, complete), drain (on shutdown: stop
//! receiving, finish the messages running and those already received within the grace period, hand back what is
//! still running when it ends), stop (flush deletes and metrics).
//!
//! Receiving happens only while the work's application is ready ([`crate::readiness`]): each receive counts toward
//! the queue's maxReceiveCount, so a worker must not take messages it cannot hand over.
//!
//! Receiving: a long poll is issued only when a processing slot is free and nothing received waits locally; it asks
//! for the free slots plus a prefetch sized to [`ProcessorConfig::prefetch_secs`] of work at the recent mean
//! duration. Quick messages are thus received ten at a time (few requests per message) while long ones are taken
//! one slot at a time, so a busy task never sits on work an idle task could start. A FIFO queue is received one
//! message at a time ([`crate::dispatch`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bpi_aws::AwsError;
use bpi_aws::cloudwatch::WorkerMetricsClient;
use bpi_aws::sqs::{Queue, Received};
use bpi_core::config::ProcessorConfig;
use bpi_core::parse_message;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::counters::{CounterSnapshot, Counters};
use crate::deleter;
use crate::dispatch::{Dispatch, Pending};
use crate::heartbeat;
use crate::in_flight::InFlight;
use crate::metrics::{DurationRecorder, Publisher};
use crate::protection::TaskProtection;
use crate::readiness::Readiness;
use crate::shutdown::Shutdown;
use crate::work::{BodyFormat, Delivery, FailureKind, Work, WorkError};
use bpi_aws::backoff::Backoff;

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    /// Final counts.
    pub counters: CounterSnapshot,
    /// Messages whose processing was cut off at the end of the grace period (handed back to the queue).
    pub interrupted: u64,
}

/// A start-up failure.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The queue's attributes could not be read.
    #[error("cannot read the queue's visibility timeout: {0}")]
    Queue(#[from] AwsError),
    /// ECS_AGENT_URI is unusable.
    #[error("invalid setting ECS_AGENT_URI: {0}")]
    AgentUri(String),
}

/// How long a receive in flight at shutdown may take to answer before it is aborted.
const RECEIVE_SETTLE: Duration = Duration::from_secs(1);

/// Log target of the per-message events (`started` with `waited_ms`, `processed` with `duration_secs`), off by
/// default; `RUST_LOG=info,message=debug` turns them on (the local run reads them for latency and utilization).
pub const MESSAGE_LOG_TARGET: &str = "message";

/// Exponentially weighted mean of recent processing durations, for sizing the prefetch.
#[derive(Debug, Default, Clone, Copy)]
struct RecentMean(Option<f64>);

impl RecentMean {
    fn update(&mut self, secs: f64) {
        self.0 = Some(match self.0 {
            None => secs,
            Some(m) => m + 0.2 * (secs - m),
        });
    }
}

/// Messages to ask for: the free slots plus the prefetch, at most one batch.
fn receive_size(config: &ProcessorConfig, running: usize, mean: RecentMean) -> u32 {
    let free = config
        .concurrency
        .saturating_sub(u32::try_from(running).unwrap_or(u32::MAX));
    let prefetch = match mean.0 {
        _ if config.prefetch_secs <= 0.0 => 0,
        // Nothing measured yet: take only what can start now.
        None => 0,
        Some(m) if m <= 1e-6 => config.receive_batch_size,
        Some(m) => {
            let n = (config.prefetch_secs * f64::from(config.concurrency) / m).floor();
            if n >= f64::from(config.receive_batch_size) {
                config.receive_batch_size
            } else {
                n as u32
            }
        }
    };
    (free + prefetch).clamp(1, config.receive_batch_size)
}

/// Receives, retrying with backoff and jitter until it succeeds (it is cancelled by aborting its task).
async fn receive_until_ok(
    queue: Queue,
    max: u32,
    wait_secs: u32,
    counters: Arc<Counters>,
) -> Vec<Received> {
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
    loop {
        Counters::bump(&counters.receive_requests);
        match queue.receive(max, wait_secs).await {
            Ok(messages) => return messages,
            Err(e) => {
                let delay = backoff.next_delay();
                if e.kind.is_retryable() {
                    tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, failures = backoff.failures(), "receive failed; backing off");
                } else {
                    tracing::error!(error = %e, retry_in_ms = delay.as_millis() as u64, failures = backoff.failures(), "receive failed; backing off (check the queue and the task's permissions)");
                }
                sleep(delay).await;
            }
        }
    }
}

/// The queue worker.
pub struct Worker<W: Work> {
    config: ProcessorConfig,
    queue: Queue,
    cloudwatch: WorkerMetricsClient,
    work: Arc<W>,
    counters: Arc<Counters>,
}

impl<W: Work> std::fmt::Debug for Worker<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("queue", &self.queue.name())
            .finish_non_exhaustive()
    }
}

/// What a processing task returns.
struct Outcome {
    /// SQS's message id.
    message_id: String,
    /// Its FIFO group.
    group: Option<String>,
    /// The measured duration, or why it failed.
    result: Result<Duration, WorkError>,
    /// On a FIFO queue the task deletes its message itself, before the group's next may start: whether that
    /// worked (None: not tried; the deleter batches the deletes of a standard queue).
    deleted: Option<bool>,
}

/// The loop's state while running.
struct Running {
    dispatch: Dispatch,
    tasks: JoinSet<Outcome>,
    /// Each running task's message id and group, for a task that panics.
    task_messages: HashMap<tokio::task::Id, (String, Option<String>)>,
    receive: Option<JoinHandle<Vec<Received>>>,
    mean: RecentMean,
    /// Set when draining starts: the end of the grace period.
    drain_deadline: Option<Instant>,
    /// Messages cut off at the end of the grace period.
    interrupted: u64,
    /// Follows the application's readiness: nothing is received while it is not ready.
    ready: tokio::sync::watch::Receiver<bool>,
}

/// What runs beside the loop: the background tasks on one tracker, stopped by one token, and what the loop shares
/// with them.
struct Background {
    stop: CancellationToken,
    tracker: TaskTracker,
    in_flight: Arc<InFlight>,
    deleter: deleter::Deleter,
    recorder: Arc<DurationRecorder>,
    visibility: Duration,
    readiness: Arc<Readiness>,
}

impl Background {
    /// Stops every background task (the deleter and the metrics flush what they hold first) and waits for them.
    async fn stop(self) {
        self.stop.cancel();
        drop(self.deleter);
        self.tracker.close();
        self.tracker.wait().await;
    }
}

/// Why the loop woke up.
enum Wake {
    Shutdown,
    Received(Result<Vec<Received>, tokio::task::JoinError>),
    Completed(Result<(tokio::task::Id, Outcome), tokio::task::JoinError>),
    ReadinessChanged,
    GraceOver,
}

impl<W: Work> Worker<W> {
    /// A worker on `queue`, publishing to CloudWatch with `cloudwatch`, doing `work`.
    pub fn new(
        config: ProcessorConfig,
        queue: Queue,
        cloudwatch: WorkerMetricsClient,
        work: W,
    ) -> Self {
        Worker {
            config,
            queue,
            cloudwatch,
            work: Arc::new(work),
            counters: Arc::new(Counters::default()),
        }
    }

    /// The live counters (for tests and progress reports).
    pub fn counters(&self) -> Arc<Counters> {
        self.counters.clone()
    }

    /// Runs until `shutdown` is triggered and draining is done: start, serve (and drain), stop.
    pub async fn run(self, mut shutdown: Shutdown) -> Result<RunReport, WorkerError> {
        let bg = self.start().await?;
        let mut state = Running {
            dispatch: Dispatch::new(self.queue.is_fifo()),
            tasks: JoinSet::new(),
            task_messages: HashMap::new(),
            receive: None,
            mean: RecentMean::default(),
            drain_deadline: None,
            interrupted: 0,
            ready: bg.readiness.subscribe(),
        };
        while !self.finished(&mut state, &bg) {
            match self.next_wake(&mut state, &mut shutdown).await {
                Wake::Shutdown => self.begin_drain(&mut state, &bg).await,
                Wake::Received(result) => {
                    state.receive = None;
                    if let Ok(batch) = result {
                        self.accept(&mut state, &bg.in_flight, bg.visibility, batch);
                    }
                }
                Wake::Completed(done) => self.complete(&mut state, &bg, done),
                Wake::ReadinessChanged => {}
                Wake::GraceOver => {
                    self.interrupt(&mut state).await;
                    break;
                }
            }
        }
        Ok(self.stop(bg, state.interrupted).await)
    }

    /// Start: reads the queue's settings and starts the background tasks.
    async fn start(&self) -> Result<Background, WorkerError> {
        let visibility =
            Duration::from_secs(u64::from(self.queue.visibility_timeout_secs().await?));
        if visibility < Duration::from_secs(5) {
            tracing::warn!(
                visibility_secs = visibility.as_secs(),
                "the queue's visibility timeout is very short; extensions will be frequent"
            );
        }
        match self.queue.redrive_policy().await {
            Ok(Some(_)) => {}
            Ok(None) => tracing::warn!(
                queue = self.queue.name(),
                "the queue has no redrive policy: invalid messages will be retried until they expire; configure a DLQ"
            ),
            Err(e) => tracing::warn!(error = %e, "cannot read the queue's redrive policy"),
        }
        let protection = match &self.config.ecs_agent_uri {
            Some(uri) => Some(
                TaskProtection::new(uri, self.config.task_protection_minutes)
                    .map_err(WorkerError::AgentUri)?,
            ),
            None => None,
        };
        let stop = CancellationToken::new();
        let tracker = TaskTracker::new();
        let in_flight = Arc::new(InFlight::default());
        let deleter = deleter::spawn(
            &tracker,
            stop.clone(),
            self.queue.clone(),
            Duration::from_millis(u64::from(self.config.delete_flush_millis)),
            self.counters.clone(),
        );
        heartbeat::spawn(
            &tracker,
            stop.clone(),
            self.queue.clone(),
            in_flight.clone(),
            visibility,
            self.counters.clone(),
        );
        let readiness_interval = self.work.readiness_interval();
        let readiness = Readiness::new(readiness_interval.is_none());
        if let Some(interval) = readiness_interval {
            tracing::info!("waiting for the application to be ready before receiving");
            readiness.spawn_checker(self.work.clone(), interval, &tracker, stop.clone());
        }
        let recorder = Arc::new(DurationRecorder::default());
        Publisher {
            client: self.cloudwatch.clone(),
            names: self.config.metrics.clone(),
            queue_name: self.queue.name().to_string(),
            interval: Duration::from_secs(u64::from(self.config.metrics_interval_secs)),
            recorder: recorder.clone(),
            counters: self.counters.clone(),
            in_flight: in_flight.clone(),
            readiness: readiness_interval.map(|_| readiness.clone()),
        }
        .spawn(&tracker, stop.clone());
        let task_protection = protection.is_some();
        if let Some(p) = protection {
            p.spawn(
                &tracker,
                stop.clone(),
                in_flight.needs_protection(),
                self.counters.clone(),
            );
        }
        tracing::info!(
            queue = self.queue.name(),
            concurrency = self.config.concurrency,
            visibility_secs = visibility.as_secs(),
            task_protection,
            "worker started"
        );
        Ok(Background {
            stop,
            tracker,
            in_flight,
            deleter,
            recorder,
            visibility,
            readiness,
        })
    }

    /// Starts what can start and issues the next receive; true once draining has nothing left to run.
    fn finished(&self, state: &mut Running, bg: &Background) -> bool {
        let concurrency = self.config.concurrency as usize;
        // Received messages are started while draining too: handing them back would count a receive against the
        // queue's maxReceiveCount, and a worker stopped often enough (scale-ins) would dead-letter valid messages.
        // They are few (the prefetch holds `PREFETCH_SECS` of work), so they fit in the grace period.
        while state.tasks.len() < concurrency {
            let Some(pending) = state.dispatch.start_next() else {
                break;
            };
            self.start_message(state, bg, pending);
        }
        if state.drain_deadline.is_some() {
            return state.tasks.is_empty();
        }
        let ready = *state.ready.borrow_and_update();
        // On a FIFO queue the messages held may all belong to groups with one running: a slot is free for
        // another group's, which a receive can bring (SQS hands out no more of the groups this task holds).
        let holding_room =
            state.dispatch.len() < concurrency * self.config.receive_batch_size as usize;
        if ready
            && state.receive.is_none()
            && !state.dispatch.has_startable()
            && holding_room
            && state.tasks.len() < concurrency
        {
            // A FIFO queue is received one message at a time (Shoryuken's choice): SQS fills a batch with one
            // group's messages, and a later one held behind an earlier one that fails must be given back, which
            // counts a receive toward maxReceiveCount: a poison message's neighbours were dead-lettered with it.
            let max = if state.dispatch.ordered() {
                1
            } else {
                receive_size(&self.config, state.tasks.len(), state.mean)
            };
            state.receive = Some(tokio::spawn(receive_until_ok(
                self.queue.clone(),
                max,
                self.config.receive_wait_secs,
                self.counters.clone(),
            )));
        }
        false
    }

    /// Waits for the next thing that needs the loop.
    async fn next_wake(&self, state: &mut Running, shutdown: &mut Shutdown) -> Wake {
        let draining = state.drain_deadline.is_some();
        let deadline = state.drain_deadline.unwrap_or_else(Instant::now);
        let waiting_for_app = !draining && !*state.ready.borrow();
        tokio::select! {
            Ok(()) = state.ready.changed(), if waiting_for_app => Wake::ReadinessChanged,
            () = shutdown.triggered(), if !draining => Wake::Shutdown,
            result = async { state.receive.as_mut().expect("guarded by is_some").await }, if state.receive.is_some() => Wake::Received(result),
            Some(done) = state.tasks.join_next_with_id(), if !state.tasks.is_empty() => Wake::Completed(done),
            () = sleep_until(deadline), if draining => Wake::GraceOver,
        }
    }

    /// Drain: stop receiving; the messages running and those already received get the grace period.
    async fn begin_drain(&self, state: &mut Running, bg: &Background) {
        let grace = Duration::from_secs(u64::from(self.config.shutdown_grace_secs));
        state.drain_deadline = Some(Instant::now() + grace);
        tracing::info!(
            running = state.tasks.len(),
            waiting = state.dispatch.len(),
            grace_secs = grace.as_secs(),
            "draining"
        );
        if let Some(mut receive) = state.receive.take() {
            // A receive with messages to return answers within milliseconds; one still waiting after RECEIVE_SETTLE
            // is an empty long poll, safe to abort. Aborting a receive whose answer is on its way would leave its
            // messages invisible until the visibility timeout with a receive counted against maxReceiveCount: a
            // fleet scaled in often enough dead-lettered valid messages that way (fault suite, case 2).
            match tokio::time::timeout(RECEIVE_SETTLE, &mut receive).await {
                Ok(Ok(batch)) => self.accept(state, &bg.in_flight, bg.visibility, batch),
                Ok(Err(_)) => {}
                Err(_) => {
                    receive.abort();
                    // It may have finished just before the abort: then it still returns its messages.
                    if let Ok(batch) = receive.await {
                        self.accept(state, &bg.in_flight, bg.visibility, batch);
                    }
                }
            }
        }
    }

    /// The grace period is over: what still runs is cut off (and handed back by `stop`).
    async fn interrupt(&self, state: &mut Running) {
        state.interrupted = state.tasks.len() as u64;
        tracing::warn!(
            messages = state.interrupted,
            "grace period over: interrupting and handing back the messages still running"
        );
        state.tasks.abort_all();
        while state.tasks.join_next().await.is_some() {}
    }

    /// Stop: hand back everything still held (received but not started, or interrupted), stop the background
    /// tasks (deletes and metrics flushed), report.
    async fn stop(&self, bg: Background, interrupted: u64) -> RunReport {
        let leftover = bg.in_flight.release_all();
        self.hand_back(&leftover).await;
        bg.stop().await;
        let counters = self.counters.snapshot();
        tracing::info!(
            processed = counters.processed,
            failed = counters.failed,
            poison = counters.poison,
            deleted = counters.deleted,
            returned = counters.returned,
            interrupted,
            aws_requests = counters.aws_requests,
            receive_requests = counters.receive_requests,
            delete_requests = counters.delete_requests,
            visibility_requests = counters.visibility_requests,
            metric_requests = counters.metric_requests,
            "worker stopped"
        );
        RunReport {
            counters,
            interrupted,
        }
    }

    fn accept(
        &self,
        state: &mut Running,
        in_flight: &InFlight,
        visibility: Duration,
        batch: Vec<Received>,
    ) {
        let format = self.work.body_format();
        // FIFO groups of this batch whose earlier message is invalid: their later ones go back, not ahead of it.
        let mut stopped_groups: Vec<String> = Vec::new();
        let mut give_back: Vec<String> = Vec::new();
        for received in batch {
            Counters::bump(&self.counters.received);
            if state.dispatch.ordered()
                && let Some(g) = &received.group_id
                && stopped_groups.contains(g)
            {
                give_back.push(received.receipt_handle);
                continue;
            }
            let parsed = parse_message(received.body.as_bytes(), &self.config.message_limits);
            let message = match (parsed, format) {
                (Ok(m), _) => Ok(Some(m)),
                (Err(_), BodyFormat::Any) => Ok(None),
                (Err(reason), BodyFormat::BlueprintMessage) => Err(reason),
            };
            match message {
                Ok(message) => {
                    // Scale-in protection only for what SIGTERM's drain could not finish. A body of unknown
                    // length is protected once it has outlasted the grace (see `start_message`).
                    let needs_protection = message.as_ref().is_some_and(|m| {
                        m.duration_secs > f64::from(self.config.shutdown_grace_secs)
                    });
                    in_flight.hold(
                        &received.message_id,
                        &received.receipt_handle,
                        visibility,
                        needs_protection,
                    );
                    state.dispatch.push(Pending {
                        delivery: Delivery {
                            message_id: received.message_id,
                            body: received.body,
                            receive_count: received.receive_count,
                            sent_at_ms: received.sent_at_ms,
                            first_received_at_ms: received.first_received_at_ms,
                            group_id: received.group_id,
                            sequence_number: received.sequence_number,
                            message,
                        },
                        receipt_handle: received.receipt_handle,
                    });
                }
                Err(reason) => {
                    // Not deleted, not held: it reappears after the visibility timeout and, after the queue's
                    // maxReceiveCount, moves to the DLQ. On a FIFO queue it blocks its group until then (SQS:
                    // "a failed message blocks its message group until it's deleted or expires").
                    Counters::bump(&self.counters.poison);
                    tracing::warn!(
                        message_id = received.message_id,
                        group_id = received.group_id,
                        receive_count = received.receive_count,
                        reason = %reason,
                        "invalid message body; left for the dead-letter queue"
                    );
                    if state.dispatch.ordered()
                        && let Some(g) = received.group_id
                    {
                        stopped_groups.push(g);
                    }
                }
            }
        }
        if !give_back.is_empty() {
            let (queue, counters) = (self.queue.clone(), self.counters.clone());
            tokio::spawn(async move { hand_back(&queue, &counters, &give_back).await });
        }
    }

    fn start_message(&self, state: &mut Running, bg: &Background, pending: Pending) {
        let Pending {
            delivery,
            receipt_handle,
        } = pending;
        let work = self.work.clone();
        let message_id = delivery.message_id.clone();
        let group = delivery.group_id.clone();
        // The latency the promise is about: from SQS accepting the message to its processing starting.
        let waited_ms = delivery.sent_at_ms.map(|sent| {
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
            now_ms.saturating_sub(sent)
        });
        tracing::debug!(
            target: MESSAGE_LOG_TARGET,
            message_id,
            id = delivery.message.as_ref().map(|m| tracing::field::display(&m.id)),
            group_id = delivery.group_id,
            sequence_number = delivery.sequence_number,
            waited_ms,
            receive_count = delivery.receive_count,
            "started"
        );
        // A body of unknown length protects its task once it has run longer than the drain grace: a message that
        // short always finishes in the drain, so a sustained stream of them never blocks a deployment.
        let protect_after = delivery
            .message
            .is_none()
            .then(|| Duration::from_secs(u64::from(self.config.shutdown_grace_secs)));
        let in_flight = bg.in_flight.clone();
        // On a FIFO queue the message is deleted before the group's next starts: a later message must not run
        // while an earlier one could still come back.
        let delete_now = state.dispatch.ordered().then(|| self.queue.clone());
        let counters = self.counters.clone();
        let handle = state.tasks.spawn(async move {
            let started = Instant::now();
            let processing = work.process(&delivery);
            let result = match protect_after {
                None => processing.await,
                Some(after) => {
                    tokio::pin!(processing);
                    tokio::select! {
                        r = &mut processing => r,
                        () = sleep(after) => {
                            in_flight.protect(&delivery.message_id);
                            processing.await
                        }
                    }
                }
            };
            let result = result.map(|()| started.elapsed());
            let deleted = match (&delete_now, &result) {
                (Some(queue), Ok(_)) => {
                    in_flight.release(&delivery.message_id);
                    Some(delete_one(queue, &counters, receipt_handle).await)
                }
                _ => None,
            };
            Outcome {
                message_id: delivery.message_id,
                group: delivery.group_id,
                result,
                deleted,
            }
        });
        state.task_messages.insert(handle.id(), (message_id, group));
    }

    fn complete(
        &self,
        state: &mut Running,
        bg: &Background,
        done: Result<(tokio::task::Id, Outcome), tokio::task::JoinError>,
    ) {
        let (in_flight, deleter, recorder) = (&bg.in_flight, &bg.deleter, &bg.recorder);
        let (group, failed) = match done {
            Ok((id, outcome)) => {
                state.task_messages.remove(&id);
                let Outcome {
                    message_id,
                    group,
                    result,
                    deleted,
                } = outcome;
                let failed = match result {
                    Ok(duration) => {
                        match deleted {
                            None => {
                                if let Some(handle) = in_flight.release(&message_id) {
                                    deleter.delete(handle);
                                }
                            }
                            Some(true) => {}
                            Some(false) => tracing::warn!(
                                message_id,
                                group_id = group,
                                "processed but not deleted: it comes back, and its group's later messages go back with it"
                            ),
                        }
                        recorder.record(duration);
                        state.mean.update(duration.as_secs_f64());
                        Counters::bump(&self.counters.processed);
                        tracing::debug!(
                            target: MESSAGE_LOG_TARGET,
                            message_id,
                            duration_secs = duration.as_secs_f64(),
                            "processed"
                        );
                        deleted == Some(false)
                    }
                    Err(reason) if reason.kind() == FailureKind::Unavailable => {
                        // Never handed to the application (or dropped by it): back to the queue at once, for a
                        // task whose application is up; this one stops receiving until its application is ready.
                        bg.readiness.unavailable(&reason.to_string());
                        Counters::bump(&self.counters.failed);
                        tracing::warn!(
                            message_id,
                            reason = %reason,
                            "the application could not take the message; handed back"
                        );
                        if let Some(handle) = in_flight.release(&message_id) {
                            let (queue, counters) = (self.queue.clone(), self.counters.clone());
                            bg.tracker.spawn(async move {
                                hand_back(&queue, &counters, &[handle]).await
                            });
                        }
                        true
                    }
                    Err(reason) => {
                        // Released but not deleted: it reappears after its visibility timeout and is retried.
                        in_flight.release(&message_id);
                        Counters::bump(&self.counters.failed);
                        tracing::warn!(
                            message_id,
                            reason = %reason,
                            "processing failed; the message will be retried"
                        );
                        true
                    }
                };
                (group, failed)
            }
            Err(join_error) => {
                let (message_id, group) = state
                    .task_messages
                    .remove(&join_error.id())
                    .unwrap_or_default();
                in_flight.release(&message_id);
                Counters::bump(&self.counters.failed);
                tracing::error!(message_id, error = %join_error, "processing panicked; the message will be retried");
                (group, true)
            }
        };
        if failed {
            let later = state.dispatch.failed(group.as_deref());
            if !later.is_empty() {
                tracing::info!(
                    group_id = group,
                    messages = later.len(),
                    "giving back the group's later messages: they must not run ahead of the one that failed"
                );
                let handles: Vec<String> = later
                    .iter()
                    .filter_map(|p| in_flight.release(&p.delivery.message_id))
                    .collect();
                let (queue, counters) = (self.queue.clone(), self.counters.clone());
                bg.tracker
                    .spawn(async move { hand_back(&queue, &counters, &handles).await });
            }
        } else {
            state.dispatch.done(group.as_deref());
        }
    }

    /// Hands `handles` back for another task to take now (see the free function).
    async fn hand_back(&self, handles: &[String]) {
        hand_back(&self.queue, &self.counters, handles).await;
    }
}

/// Deletes one message (a FIFO group's, before the group's next starts), retrying with backoff what can be retried
/// for up to about a minute; false when it could not.
async fn delete_one(queue: &Queue, counters: &Counters, receipt_handle: String) -> bool {
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    loop {
        Counters::bump(&counters.delete_requests);
        match queue
            .delete_batch(std::slice::from_ref(&receipt_handle))
            .await
        {
            Ok(result) if result.failed.is_empty() => {
                Counters::bump(&counters.deleted);
                return true;
            }
            Ok(result) => {
                tracing::warn!(failed = ?result.failed, "delete refused");
                return false;
            }
            Err(e) if e.kind.is_retryable() && backoff.failures() < 6 => {
                sleep(backoff.next_delay()).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "delete failed");
                return false;
            }
        }
    }
}

/// Makes `handles` visible again at once (ChangeMessageVisibility 0), ten a call. A call the SDK's retries could
/// not get through is not repeated: those messages reappear after the visibility timeout anyway.
async fn hand_back(queue: &Queue, counters: &Counters, handles: &[String]) {
    for chunk in handles.chunks(10) {
        Counters::bump(&counters.visibility_requests);
        match queue.change_visibility_batch(chunk, 0).await {
            Ok(result) => Counters::add(
                &counters.returned,
                (chunk.len() - result.failed.len()) as u64,
            ),
            Err(e) => {
                tracing::warn!(error = %e, messages = chunk.len(), "could not hand messages back; they reappear after the visibility timeout");
            }
        }
    }
    if !handles.is_empty() {
        tracing::info!(
            messages = handles.len(),
            "handed back messages not processed"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpi_core::config::QUEUE_NAME;

    fn config(concurrency: &str, prefetch: &str) -> ProcessorConfig {
        ProcessorConfig::from_env(&[
            (QUEUE_NAME, "q"),
            ("TASK_CONCURRENCY", concurrency),
            ("PREFETCH_SECS", prefetch),
        ])
        .expect("valid")
    }

    #[test]
    fn receives_free_slots_plus_a_prefetch_sized_to_recent_work() {
        let c = config("1", "2");
        assert_eq!(
            receive_size(&c, 0, RecentMean(None)),
            1,
            "nothing measured: only what can start"
        );
        assert_eq!(
            receive_size(&c, 0, RecentMean(Some(0.0))),
            10,
            "instant work: a full batch"
        );
        assert_eq!(
            receive_size(&c, 0, RecentMean(Some(0.5))),
            5,
            "1 slot + 2 s / 0.5 s"
        );
        assert_eq!(
            receive_size(&c, 0, RecentMean(Some(5.0))),
            1,
            "long work: no prefetch"
        );
        let c4 = config("4", "2");
        assert_eq!(
            receive_size(&c4, 1, RecentMean(Some(5.0))),
            4,
            "3 free + 4 x 2 / 5 = 1"
        );
        assert_eq!(
            receive_size(&config("64", "2"), 0, RecentMean(None)),
            10,
            "capped at a batch"
        );
        assert_eq!(
            receive_size(&config("1", "0"), 0, RecentMean(Some(0.0))),
            1,
            "prefetch off"
        );
    }

    #[test]
    fn recent_mean_follows_the_work() {
        let mut m = RecentMean::default();
        m.update(5.0);
        assert_eq!(m.0, Some(5.0));
        for _ in 0..50 {
            m.update(1.0);
        }
        assert!((m.0.expect("some") - 1.0).abs() < 0.01);
    }
}
