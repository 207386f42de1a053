//! Queues, messages, workers and waiting, for the worker tests.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use bpi_aws::AwsClients;
use bpi_aws::cloudwatch::WorkerMetricsClient;
use bpi_aws::sqs::{Outgoing, Queue};
use bpi_core::config::ProcessorConfig;
use bpi_core::{Message, MessageId, QueueDepth};
use queue_processor::counters::Counters;
use queue_processor::shutdown::{self, ShutdownTrigger};
use queue_processor::{Delivery, RunReport, Work, Worker};
use tokio::task::JoinHandle;

pub async fn clients_for(endpoint: &str) -> AwsClients {
    bpi_aws::fixtures::emulator_clients(endpoint).await
}

pub async fn clients() -> AwsClients {
    clients_for(&bpi_testkit::emulator().endpoint).await
}

pub use bpi_aws::fixtures::QueueWithDlq as TestQueue;

/// Creates `name` (and `name-dlq`) with a visibility timeout and redrive after `max_receive` receives.
pub async fn create_queue_named(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    visibility_secs: u32,
    max_receive: u32,
) -> TestQueue {
    bpi_aws::fixtures::create_queue_with_dlq(sqs, name, visibility_secs, max_receive).await
}

pub async fn create_queue(
    sqs: &aws_sdk_sqs::Client,
    visibility_secs: u32,
    max_receive: u32,
) -> TestQueue {
    create_queue_named(
        sqs,
        &bpi_testkit::unique_name("worker"),
        visibility_secs,
        max_receive,
    )
    .await
}

/// Sends bodies in batches of 10.
pub async fn send_bodies(queue: &Queue, bodies: &[String]) {
    let entries: Vec<Outgoing> = bodies
        .iter()
        .map(|body| Outgoing {
            body: body.clone(),
            group_id: None,
            deduplication_id: None,
        })
        .collect();
    send_outgoing(queue, &entries).await;
}

/// Sends messages (a FIFO queue's with their group and deduplication ids) in batches of 10, in order.
pub async fn send_outgoing(queue: &Queue, messages: &[Outgoing]) {
    for (chunk_no, chunk) in messages.chunks(10).enumerate() {
        let entries: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(i, m)| {
                SendMessageBatchRequestEntry::builder()
                    .id(format!("m{chunk_no}-{i}"))
                    .message_body(&m.body)
                    .set_message_group_id(m.group_id.clone())
                    .set_message_deduplication_id(m.deduplication_id.clone())
                    .build()
                    .expect("entry")
            })
            .collect();
        let out = queue
            .client()
            .send_message_batch()
            .queue_url(queue.url())
            .set_entries(Some(entries))
            .send()
            .await
            .expect("send batch");
        assert!(out.failed().is_empty(), "{:?}", out.failed());
    }
}

/// `n` valid messages with ids `0..n` and the given duration.
pub fn messages(n: u64, duration_secs: f64) -> Vec<String> {
    (0..n)
        .map(|id| {
            Message {
                id: MessageId::from(id),
                duration_secs,
            }
            .to_body()
        })
        .collect()
}

/// The blueprint's message of a delivery (work with the default body format only gets those).
pub fn blueprint(delivery: &Delivery) -> &Message {
    delivery
        .message
        .as_ref()
        .expect("blueprint-format work is given parsed messages")
}

/// Work that sleeps for the duration and records which messages it processed.
#[derive(Clone, Default)]
pub struct RecordingWork {
    pub done: Arc<Mutex<Vec<MessageId>>>,
}

impl RecordingWork {
    pub fn ids(&self) -> Vec<MessageId> {
        self.done.lock().expect("lock").clone()
    }
}

impl Work for RecordingWork {
    async fn process(&self, delivery: &Delivery) -> Result<(), queue_processor::WorkError> {
        let message = blueprint(delivery);
        tokio::time::sleep(message.duration()).await;
        self.done.lock().expect("lock").push(message.id.clone());
        Ok(())
    }
}

/// The worker's configuration for `queue`, with extra settings.
pub fn config(queue: &Queue, extra: &[(&str, &str)]) -> ProcessorConfig {
    let mut env: HashMap<String, String> = HashMap::from([
        ("QUEUE_URL".to_string(), queue.url().to_string()),
        ("RECEIVE_WAIT_SECS".to_string(), "1".to_string()),
        ("METRICS_INTERVAL_SECS".to_string(), "60".to_string()),
    ]);
    for (k, v) in extra {
        env.insert((*k).to_string(), (*v).to_string());
    }
    ProcessorConfig::from_env(&env).expect("valid test config")
}

/// An in-process worker running in the background.
pub struct RunningWorker {
    pub counters: Arc<Counters>,
    trigger: ShutdownTrigger,
    task: JoinHandle<RunReport>,
}

impl RunningWorker {
    pub fn start<W: Work>(
        clients: &AwsClients,
        queue: &Queue,
        config: ProcessorConfig,
        work: W,
    ) -> Self {
        let worker = Worker::new(
            config,
            queue.clone(),
            WorkerMetricsClient::new(clients),
            work,
        );
        let counters = worker.counters();
        let (trigger, listener) = shutdown::channel();
        let task = tokio::spawn(async move { worker.run(listener).await.expect("worker starts") });
        RunningWorker {
            counters,
            trigger,
            task,
        }
    }

    pub fn processed(&self) -> u64 {
        self.counters.snapshot().processed
    }

    pub async fn stop(self) -> RunReport {
        self.trigger.trigger();
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("worker stops in time")
            .expect("worker task")
    }
}

/// Polls `condition` every 50 ms until it holds; panics with `what` after `limit`.
pub async fn wait_until<F, Fut>(limit: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn depth(queue: &Queue) -> QueueDepth {
    queue.depth().await.expect("depth")
}
