use std::time::{Duration, Instant, SystemTime};

use bpi_aws::cloudwatch::read_duration_stats;
use bpi_core::{MessageId, QueueDepth};

use crate::support::*;

#[tokio::test]
async fn every_message_is_processed_and_deleted_once_with_honest_durations() {
    let clients = clients().await;
    let q = create_queue(&clients.sqs, 30, 3).await;
    send_bodies(&q.queue, &messages(25, 0.05)).await;

    let work = RecordingWork::default();
    let config = config(&q.queue, &[("TASK_CONCURRENCY", "4")]);
    let names = config.metrics.clone();
    let worker = RunningWorker::start(&clients, &q.queue, config, work.clone());
    wait_until(Duration::from_secs(30), "25 processed", || async {
        worker.processed() == 25
    })
    .await;
    let report = worker.stop().await;

    let mut ids = work.ids();
    ids.sort_by_key(|id| id.to_string().parse::<u64>().expect("numeric id"));
    assert_eq!(
        ids,
        (0..25).map(MessageId::from).collect::<Vec<_>>(),
        "each processed exactly once"
    );
    assert_eq!(report.counters.deleted, 25, "each deleted once");
    assert_eq!(report.counters.poison + report.counters.failed, 0);
    assert_eq!(
        depth(&q.queue).await,
        QueueDepth {
            visible: 0,
            in_flight: 0
        },
        "queue ends empty"
    );
    assert!(
        report.counters.delete_requests <= 13,
        "deletes are batched: {} calls for 25 messages",
        report.counters.delete_requests
    );

    // Flushed at shutdown: one statistic set whose count and sum are the measured work.
    let stats = read_duration_stats(
        &clients.cloudwatch,
        &names,
        q.queue.name(),
        Duration::from_secs(600),
        SystemTime::now() + Duration::from_secs(60),
    )
    .await
    .expect("read back");
    let count: f64 = stats.iter().map(|s| s.sample_count).sum();
    let sum: f64 = stats.iter().map(|s| s.sum_secs).sum();
    assert_eq!(count, 25.0, "{stats:?}");
    assert!(
        (1.25..2.5).contains(&sum),
        "measured wall time of 25 x 50 ms, got {sum}"
    );
    assert_eq!(
        report.counters.metric_requests, 1,
        "one statistic set, not one call per message"
    );
}

#[tokio::test]
async fn concurrency_four_runs_eight_one_second_messages_in_about_two_seconds() {
    let clients = clients().await;
    let q = create_queue(&clients.sqs, 30, 3).await;
    send_bodies(&q.queue, &messages(8, 1.0)).await;
    let started = Instant::now();
    let worker = RunningWorker::start(
        &clients,
        &q.queue,
        config(&q.queue, &[("TASK_CONCURRENCY", "4")]),
        RecordingWork::default(),
    );
    wait_until(Duration::from_secs(20), "8 processed", || async {
        worker.processed() == 8
    })
    .await;
    let elapsed = started.elapsed();
    worker.stop().await;
    assert!(
        elapsed >= Duration::from_millis(1900) && elapsed < Duration::from_millis(3500),
        "8 x 1 s at concurrency 4 took {elapsed:?}"
    );
}

#[tokio::test]
async fn a_message_longer_than_the_visibility_timeout_is_processed_once() {
    let clients = clients().await;
    // Visibility 2 s, work 5 s: without the heartbeat the second worker would receive it after 2 s.
    let q = create_queue(&clients.sqs, 2, 5).await;
    send_bodies(&q.queue, &messages(1, 5.0)).await;
    let (a, b) = (RecordingWork::default(), RecordingWork::default());
    let wa = RunningWorker::start(&clients, &q.queue, config(&q.queue, &[]), a.clone());
    let wb = RunningWorker::start(&clients, &q.queue, config(&q.queue, &[]), b.clone());
    wait_until(Duration::from_secs(20), "processed", || async {
        wa.processed() + wb.processed() == 1
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (ra, rb) = (wa.stop().await, wb.stop().await);
    assert_eq!(
        a.ids().len() + b.ids().len(),
        1,
        "processed by one worker only"
    );
    assert_eq!(
        ra.counters.received + rb.counters.received,
        1,
        "never handed to a second worker"
    );
    assert!(
        ra.counters.visibility_requests + rb.counters.visibility_requests >= 2,
        "the heartbeat extended it"
    );
    assert_eq!(
        depth(&q.queue).await,
        QueueDepth {
            visible: 0,
            in_flight: 0
        }
    );
}

#[tokio::test]
async fn poison_ends_in_the_dlq_and_valid_messages_interleaved_are_processed() {
    let clients = clients().await;
    let q = create_queue(&clients.sqs, 1, 2).await;
    let big_invalid = format!(
        r#"{{"id":1,"duration":1,"pad":"{}"#,
        "x".repeat(256 * 1024 - 40)
    );
    let poison: Vec<String> = vec![
        "not json".into(),
        "{\"id\":1".into(),
        r#"{"id":1}"#.into(),
        r#"{"id":1,"duration":"5"}"#.into(),
        r#"{"id":1,"duration":-1}"#.into(),
        r#"{"id":1,"duration":NaN}"#.into(),
        r#"{"id":1,"duration":1e400}"#.into(),
        r#"{"id":1,"duration":901}"#.into(),
        r#"{"duration":1}"#.into(),
        r#"{"id":true,"duration":1}"#.into(),
        "[1,2,3]".into(),
        " ".into(),
        big_invalid,
    ];
    let valid = messages(10, 0.0);
    let mut bodies = Vec::new();
    for i in 0..poison.len().max(valid.len()) {
        bodies.extend(poison.get(i).cloned());
        bodies.extend(valid.get(i).cloned());
    }
    for body in &bodies {
        // One at a time: the 256 KiB body alone fills a batch's size limit.
        send_bodies(&q.queue, std::slice::from_ref(body)).await;
    }
    let work = RecordingWork::default();
    let worker = RunningWorker::start(
        &clients,
        &q.queue,
        config(&q.queue, &[("TASK_CONCURRENCY", "2")]),
        work.clone(),
    );
    let poison_count = poison.len() as u64;
    wait_until(Duration::from_secs(60), "all poison in the DLQ", || async {
        q.dlq.depth().await.map(|d| d.visible).unwrap_or(0) == poison_count
    })
    .await;
    wait_until(Duration::from_secs(10), "valid processed", || async {
        worker.processed() == 10
    })
    .await;
    let report = worker.stop().await;
    assert_eq!(work.ids().len(), 10);
    assert!(
        report.counters.poison >= poison_count,
        "each poison logged per receive: {:?}",
        report.counters
    );
    assert_eq!(report.counters.deleted, 10, "poison is never deleted");
    bpi_testkit::record_fault_result(
        6,
        &format!(
            r#"{{"poison_kinds": {poison_count}, "valid": 10, "valid_processed": {}, "in_dlq": {poison_count}, "deleted": {}, "worker_crashes": 0}}"#,
            work.ids().len(),
            report.counters.deleted
        ),
    );
    assert_eq!(
        depth(&q.queue).await,
        QueueDepth {
            visible: 0,
            in_flight: 0
        }
    );
}

/// Work that panics on the message with id 0 and sleeps on the others.
#[derive(Clone, Default)]
struct PanickyWork;

impl queue_processor::Work for PanickyWork {
    async fn process(
        &self,
        delivery: &queue_processor::Delivery,
    ) -> Result<(), queue_processor::WorkError> {
        let message = blueprint(delivery);
        if message.id == MessageId::from(0) {
            panic!("bug in user work");
        }
        tokio::time::sleep(message.duration()).await;
        Ok(())
    }
}

#[tokio::test]
async fn a_panicking_work_neither_crashes_the_worker_nor_loses_the_message() {
    let clients = clients().await;
    let q = create_queue(&clients.sqs, 1, 2).await;
    send_bodies(&q.queue, &messages(5, 0.0)).await;
    let worker = RunningWorker::start(&clients, &q.queue, config(&q.queue, &[]), PanickyWork);
    // The panicking message is retried (visibility 1 s), then redriven to the DLQ after 2 receives.
    wait_until(
        Duration::from_secs(30),
        "poisoned work in the DLQ",
        || async { q.dlq.depth().await.map(|d| d.visible).unwrap_or(0) == 1 },
    )
    .await;
    let report = worker.stop().await;
    assert_eq!(report.counters.processed, 4);
    assert!(report.counters.failed >= 2, "{:?}", report.counters);
    assert_eq!(
        depth(&q.queue).await,
        QueueDepth {
            visible: 0,
            in_flight: 0
        }
    );
}
