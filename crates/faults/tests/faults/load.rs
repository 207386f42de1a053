//! Case 1: 20,000 zero-duration messages through 4 workers: all processed, none lost, duplicates counted.

use std::time::{Duration, Instant};

use bpi_aws::fixtures::create_queue_with_dlq;

use crate::support::*;

const MESSAGES: u64 = 20_000;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "fault suite: deploy/fault-suite.sh"]
async fn twenty_thousand_messages_through_four_workers_none_lost() {
    let endpoint = bpi_testkit::emulator().endpoint.clone();
    let clients = clients_for(&endpoint).await;
    let q = create_queue_with_dlq(&clients.sqs, &bpi_testkit::unique_name("load"), 30, 3).await;
    let sending = Instant::now();
    send_messages(&q.queue, 0, MESSAGES, 0.0).await;
    let send_secs = sending.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut workers: Vec<WorkerProcess> = (0..4)
        .map(|_| WorkerProcess::start(&endpoint, q.queue.url(), &[("TASK_CONCURRENCY", "4")]))
        .collect();
    wait_until(Duration::from_secs(900), "the queue drained", || empty(&q.queue)).await;
    let drain_secs = started.elapsed().as_secs_f64();
    for w in &mut workers {
        assert!(w.alive(), "no worker crashed");
        w.sigterm();
    }
    for w in &mut workers {
        assert_eq!(w.wait(Duration::from_secs(30)).0, Some(0));
    }
    let p = processed(&workers.iter().collect::<Vec<_>>());
    let lost = missing(&p.ids, 0, MESSAGES);
    let dead = q.dlq.depth().await.expect("dlq").visible;
    bpi_testkit::record_fault_result(
        1,
        &format!(
            r#"{{"sent": {MESSAGES}, "processed": {}, "lost": {}, "duplicates": {}, "dlq": {dead}, "workers": 4, "send_secs": {send_secs:.1}, "drain_secs": {drain_secs:.1}, "msgs_per_sec": {:.0}}}"#,
            p.ids.len(),
            lost.len(),
            p.duplicates(),
            MESSAGES as f64 / drain_secs
        ),
    );
    assert!(lost.is_empty(), "{} lost, e.g. {:?}", lost.len(), &lost[..lost.len().min(5)]);
    assert_eq!(dead, 0);
}
