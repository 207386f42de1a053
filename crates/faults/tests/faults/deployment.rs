//! Case 11: a rolling deployment under a sustained backlog. moto's ECS neither runs tasks nor honours scale-in
//! protection, so the test plays ECS's part as documented (ECS developer guide, "Protect your Amazon ECS tasks from
//! being terminated by scale-in events": a deployment does not stop a protected task of the old revision): it
//! starts the new workers, then stops each old one with SIGTERM as soon as its protection is off. Each worker talks
//! to its own stand-in ECS agent on 127.0.0.1 (`bpi_testkit::ecs_agent`), which records the protection state.
//!
//! The backlog never empties, so a worker protected whenever busy would never be stoppable. Here only the one message
//! longer than the drain grace protects its worker, so the deployment takes about that message's remaining time;
//! nothing is lost and nothing is cut short.

use std::time::{Duration, Instant};

use bpi_aws::fixtures::create_queue_with_dlq;

use crate::support::*;

const GRACE_SECS: u64 = 3;
const LONG_SECS: f64 = 12.0;
const SHORT_SECS: f64 = 0.5;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "fault suite: deploy/fault-suite.sh"]
async fn a_rolling_deployment_under_sustained_load_waits_only_for_the_message_longer_than_the_grace()
 {
    let endpoint = bpi_testkit::emulator().endpoint.clone();
    let clients = clients_for(&endpoint).await;
    let q = create_queue_with_dlq(&clients.sqs, &bpi_testkit::unique_name("deploy"), 30, 3).await;
    let grace = GRACE_SECS.to_string();
    let settings = [
        ("TASK_CONCURRENCY", "2"),
        ("SHUTDOWN_GRACE_SECS", grace.as_str()),
        ("TASK_PROTECTION_MINUTES", "5"),
    ];
    // The long message first, so an old worker takes it; then a backlog that keeps every worker busy.
    send_messages(&q.queue, 0, 1, LONG_SECS).await;
    let mut next_id = 1u64;
    send_messages(&q.queue, next_id, 40, SHORT_SECS).await;
    next_id += 40;
    let mut old = Vec::new();
    for _ in 0..2 {
        old.push(start_with_agent(&endpoint, q.queue.url(), &settings));
    }
    // Sustained load: 8 short messages a second (2 workers × 2 slots take 8 a second at 0.5 s each).
    let feed = |from: u64| {
        let queue = q.queue.clone();
        async move { send_messages(&queue, from, 8, SHORT_SECS).await }
    };
    for _ in 0..3 {
        feed(next_id).await;
        next_id += 8;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let protected_before: usize = old
        .iter()
        .filter(|(_, a)| a.protected() == Some(true))
        .count();

    // The deployment: new workers first, then each old one once ECS may stop it.
    let deploy_started = Instant::now();
    let mut new: Vec<WorkerProcess> = (0..2)
        .map(|_| WorkerProcess::start(&endpoint, q.queue.url(), &settings))
        .collect();
    let mut stop_after_secs = Vec::new();
    let mut exits = Vec::new();
    let mut remaining: Vec<usize> = (0..old.len()).collect();
    while !remaining.is_empty() {
        assert!(
            deploy_started.elapsed() < Duration::from_secs(120),
            "the deployment never finished"
        );
        let mut still = Vec::new();
        for i in remaining {
            let protected = old[i].1.protected() == Some(true);
            if protected {
                still.push(i);
            } else {
                stop_after_secs.push(deploy_started.elapsed().as_secs_f64());
                old[i].0.sigterm();
                exits.push(tokio::task::block_in_place(|| {
                    old[i].0.wait(Duration::from_secs(GRACE_SECS + 5))
                }));
            }
        }
        remaining = still;
        feed(next_id).await;
        next_id += 8;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let deployment_secs = deploy_started.elapsed().as_secs_f64();

    // The backlog drains on the new revision.
    wait_until(Duration::from_secs(120), "the queue drained", || {
        empty(&q.queue)
    })
    .await;
    for w in &mut new {
        w.sigterm();
        exits.push(w.wait(Duration::from_secs(GRACE_SECS + 5)));
    }
    let all: Vec<&WorkerProcess> = old.iter().map(|(w, _)| w).chain(new.iter()).collect();
    let p = processed(&all);
    let lost = missing(&p.ids, 0, next_id);
    let interrupted: usize = all
        .iter()
        .flat_map(|w| w.lines())
        .filter(|l| l.contains("grace period over"))
        .count();
    let clean = exits.iter().filter(|e| e.0 == Some(0)).count();
    let stops: Vec<String> = stop_after_secs.iter().map(|s| format!("{s:.1}")).collect();
    bpi_testkit::record_fault_result(
        11,
        &format!(
            r#"{{"sent": {next_id}, "processed": {}, "lost": {}, "duplicates": {}, "long_message_secs": {LONG_SECS}, "grace_secs": {GRACE_SECS}, "old_workers_protected_at_deploy": {protected_before}, "old_workers_stopped_after_secs": [{}], "deployment_secs": {deployment_secs:.1}, "interrupted": {interrupted}, "exited_0": {clean}, "exits": {}}}"#,
            p.ids.len(),
            lost.len(),
            p.duplicates(),
            stops.join(", "),
            exits.len()
        ),
    );
    assert!(lost.is_empty(), "lost {lost:?}");
    assert_eq!(interrupted, 0, "no message cut short");
    assert_eq!(clean, exits.len(), "every worker exited 0");
    assert_eq!(
        protected_before, 1,
        "only the worker holding the long message is protected"
    );
    assert!(
        deployment_secs <= LONG_SECS + GRACE_SECS as f64 + 10.0,
        "the deployment waited {deployment_secs:.1} s"
    );
    // The unprotected old worker was stoppable at once, under the same backlog.
    assert!(stop_after_secs[0] < 2.0, "{stop_after_secs:?}");
}
