//! Case 1: 20,000 (`BPI_FAULT_LOAD_MESSAGES`) zero-duration messages through 4 workers: all processed, none lost, duplicates counted.
//!
//! The messages go in while the workers run, keeping at most `BACKLOG` queued: moto scans a queue's whole message
//! list on every call, so 20,000 queued at once would measure moto's quadratic cost, not the workers. A private
//! emulator keeps other tests' state out of the measurement.

use std::time::{Duration, Instant};

use bpi_aws::fixtures::create_queue_with_dlq;
use bpi_testkit::PrivateEmulator;

use crate::support::*;

/// Messages sent: 20,000, or `BPI_FAULT_LOAD_MESSAGES` (CI runs a shorter load; moto handles about 30 a second).
fn messages() -> u64 {
    std::env::var("BPI_FAULT_LOAD_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}
const BACKLOG: u64 = 300;
const WAVE: u64 = 100;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "fault suite: deploy/fault-suite.sh"]
async fn twenty_thousand_messages_through_four_workers_none_lost() {
    let emulator = PrivateEmulator::start();
    let endpoint = emulator.emulator.endpoint.clone();
    let clients = clients_for(&endpoint).await;
    let q = create_queue_with_dlq(&clients.sqs, &bpi_testkit::unique_name("load"), 30, 3).await;
    let total = messages();
    let started = Instant::now();
    let mut workers: Vec<WorkerProcess> = (0..4)
        .map(|_| WorkerProcess::start(&endpoint, q.queue.url(), &[("TASK_CONCURRENCY", "4")]))
        .collect();
    let mut sent = 0;
    while sent < total {
        let depth = q.queue.depth().await.expect("depth");
        if depth.visible + depth.in_flight + WAVE > BACKLOG {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        let n = WAVE.min(total - sent);
        send_messages(&q.queue, sent, n, 0.0).await;
        sent += n;
    }
    wait_until(Duration::from_secs(600), "the queue drained", || {
        empty(&q.queue)
    })
    .await;
    let secs = started.elapsed().as_secs_f64();
    for w in &mut workers {
        assert!(w.alive(), "no worker crashed");
        w.sigterm();
    }
    for w in &mut workers {
        assert_eq!(w.wait(Duration::from_secs(30)).0, Some(0));
    }
    let p = processed(&workers.iter().collect::<Vec<_>>());
    let lost = missing(&p.ids, 0, total);
    let dead = q.dlq.depth().await.expect("dlq").visible;
    bpi_testkit::record_fault_result(
        1,
        &format!(
            r#"{{"sent": {total}, "processed": {}, "lost": {}, "duplicates": {}, "dlq": {dead}, "workers": 4, "secs": {secs:.0}, "msgs_per_sec": {:.0}}}"#,
            p.ids.len(),
            lost.len(),
            p.duplicates(),
            total as f64 / secs
        ),
    );
    assert!(
        lost.is_empty(),
        "{} lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    assert_eq!(dead, 0);
}
