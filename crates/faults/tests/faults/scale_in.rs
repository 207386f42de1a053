//! Case 2: SIGTERM to workers mid-message at random moments (scale-in, with a replacement started as a scale-out
//! would): none lost, each exits 0 within its grace period.

use std::time::Duration;

use bpi_aws::fixtures::create_queue_with_dlq;
use rand::Rng;

use crate::support::*;

const MESSAGES: u64 = 600;
const GRACE_SECS: u64 = 10;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "fault suite: deploy/fault-suite.sh"]
async fn random_sigterms_lose_nothing_and_every_worker_exits_zero_within_its_grace() {
    let endpoint = bpi_testkit::emulator().endpoint.clone();
    let clients = clients_for(&endpoint).await;
    let q = create_queue_with_dlq(&clients.sqs, &bpi_testkit::unique_name("scalein"), 30, 3).await;
    send_messages(&q.queue, 0, MESSAGES, 0.5).await;
    let grace = GRACE_SECS.to_string();
    let settings = [
        ("TASK_CONCURRENCY", "2"),
        ("SHUTDOWN_GRACE_SECS", grace.as_str()),
    ];
    let start = || WorkerProcess::start(&endpoint, q.queue.url(), &settings);
    let mut live: Vec<WorkerProcess> = (0..4).map(|_| start()).collect();
    let mut stopped: Vec<WorkerProcess> = Vec::new();
    let mut exits: Vec<(Option<i32>, f64)> = Vec::new();
    let mut rng = rand::rng();
    while !empty(&q.queue).await {
        tokio::time::sleep(Duration::from_millis(rng.random_range(500..2000))).await;
        if empty(&q.queue).await {
            break;
        }
        let mut victim = live.swap_remove(rng.random_range(0..live.len()));
        victim.sigterm();
        exits.push(tokio::task::block_in_place(|| {
            victim.wait(Duration::from_secs(GRACE_SECS + 5))
        }));
        stopped.push(victim);
        live.push(start());
        assert!(stopped.len() < 200, "the queue never drained");
    }
    for w in &mut live {
        w.sigterm();
        exits.push(w.wait(Duration::from_secs(GRACE_SECS + 5)));
    }
    let all: Vec<&WorkerProcess> = live.iter().chain(&stopped).collect();
    let p = processed(&all);
    let lost = missing(&p.ids, 0, MESSAGES);
    let slowest = exits.iter().map(|e| e.1).fold(0.0, f64::max);
    let clean = exits.iter().filter(|e| e.0 == Some(0)).count();
    let dead = q.dlq.depth().await.expect("dlq").visible;
    bpi_testkit::record_fault_result(
        2,
        &format!(
            r#"{{"sent": {MESSAGES}, "processed": {}, "lost": {}, "duplicates": {}, "dlq": {dead}, "sigterms_mid_run": {}, "exited_0": {clean}, "exits": {}, "slowest_exit_secs": {slowest:.1}, "grace_secs": {GRACE_SECS}}}"#,
            p.ids.len(),
            lost.len(),
            p.duplicates(),
            stopped.len(),
            exits.len()
        ),
    );
    assert!(lost.is_empty(), "lost {lost:?} ({dead} in the DLQ)");
    assert_eq!(dead, 0, "a scale-in never dead-letters a valid message");
    assert_eq!(clean, exits.len(), "every worker exits 0: {exits:?}");
    assert!(slowest <= GRACE_SECS as f64, "within the grace: {slowest}");
    assert!(!stopped.is_empty());
}
