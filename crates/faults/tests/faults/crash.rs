//! Case 3: SIGKILL to a worker mid-message: its messages reappear after the visibility timeout and are processed by
//! the others; none lost.

use std::time::{Duration, Instant};

use bpi_aws::fixtures::create_queue_with_dlq;

use crate::support::*;

const MESSAGES: u64 = 60;
const VISIBILITY_SECS: u32 = 6;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "fault suite: deploy/fault-suite.sh"]
async fn a_killed_workers_messages_come_back_and_are_processed() {
    let endpoint = bpi_testkit::emulator().endpoint.clone();
    let clients = clients_for(&endpoint).await;
    let q = create_queue_with_dlq(
        &clients.sqs,
        &bpi_testkit::unique_name("crash"),
        VISIBILITY_SECS,
        5,
    )
    .await;
    send_messages(&q.queue, 0, MESSAGES, 1.0).await;
    let settings = [("TASK_CONCURRENCY", "2")];
    let mut victim = WorkerProcess::start(&endpoint, q.queue.url(), &settings);
    let mut others: Vec<WorkerProcess> = (0..2)
        .map(|_| WorkerProcess::start(&endpoint, q.queue.url(), &settings))
        .collect();
    // Kill it while it holds messages.
    wait_until(Duration::from_secs(30), "the victim is mid-message", || {
        let started = victim
            .lines()
            .iter()
            .filter(|l| l.contains(r#""message":"started""#))
            .count();
        let done = victim
            .lines()
            .iter()
            .filter(|l| l.contains(r#""message":"processed""#))
            .count();
        async move { started >= 3 && started > done }
    })
    .await;
    victim.sigkill();
    assert_eq!(
        victim.wait(Duration::from_secs(5)).0,
        None,
        "killed by the signal"
    );
    let killed = Instant::now();
    wait_until(Duration::from_secs(120), "the queue drained", || {
        empty(&q.queue)
    })
    .await;
    let recovered_secs = killed.elapsed().as_secs_f64();
    for w in &mut others {
        assert!(w.alive());
        w.sigterm();
        assert_eq!(w.wait(Duration::from_secs(30)).0, Some(0));
    }
    let all: Vec<&WorkerProcess> = others.iter().chain(std::iter::once(&victim)).collect();
    let p = processed(&all);
    let lost = missing(&p.ids, 0, MESSAGES);
    let dead = q.dlq.depth().await.expect("dlq").visible;
    bpi_testkit::record_fault_result(
        3,
        &format!(
            r#"{{"sent": {MESSAGES}, "processed": {}, "lost": {}, "duplicates": {}, "dlq": {dead}, "visibility_timeout_secs": {VISIBILITY_SECS}, "drained_secs_after_kill": {recovered_secs:.1}}}"#,
            p.ids.len(),
            lost.len(),
            p.duplicates()
        ),
    );
    assert!(lost.is_empty(), "lost {lost:?}");
    assert_eq!(dead, 0);
}
