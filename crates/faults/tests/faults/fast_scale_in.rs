//! Case 12: the fast scale-in under a sustained load. Six workers run a load two of them carry, one of them holding a
//! message longer than the drain grace. A stand-in sampler reads the queue every 2 s and sizes the fleet with core's
//! capacity model; when a window of readings breaches core's fast scale-in rule (`scale_in_breaches`: the window's
//! largest need below its fewest desired, and above none), the desired count becomes that need and the surplus
//! workers are stopped as ECS stops tasks on a scale-in: SIGTERM, skipping a task whose scale-in protection is on
//! (ECS developer guide, "Protect your Amazon ECS tasks from being terminated by scale-in events"). moto runs no
//! task and evaluates no alarm, so the test plays ECS's and CloudWatch's parts; the window is 3 readings of 2 s, not
//! minutes, to keep the case short (the rule does not depend on the period).
//!
//! What must hold: nothing lost, nothing in the DLQ, no message cut short, every stopped worker exits 0 within its
//! grace, the worker holding the long message is never stopped while it holds it, and the fleet does come down.

use std::time::{Duration, Instant};

use bpi_aws::fixtures::create_queue_with_dlq;
use bpi_core::capacity::{BusyRule, CapacityModel, ServiceLoad};
use bpi_core::policy::scale_in_breaches;
use bpi_testkit::ecs_agent::FakeEcsAgent;

use crate::support::*;

const WORKERS: usize = 6;
const CONCURRENCY: u32 = 2;
const GRACE_SECS: u64 = 3;
const LONG_SECS: f64 = 12.0;
const SHORT_SECS: f64 = 0.5;
/// Short messages a second: 2 s of work a second, one worker's two slots half busy.
const RATE_PER_SEC: u64 = 4;
const LOAD_SECS: u64 = 40;
const READING_SECS: u64 = 2;
const WINDOW_READINGS: usize = 3;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "fault suite: deploy/fault-suite.sh"]
async fn a_fast_scale_in_under_sustained_load_loses_nothing_and_cuts_no_message_short() {
    let endpoint = bpi_testkit::emulator().endpoint.clone();
    let clients = clients_for(&endpoint).await;
    let q = create_queue_with_dlq(&clients.sqs, &bpi_testkit::unique_name("fastin"), 30, 3).await;
    let grace = GRACE_SECS.to_string();
    let concurrency = CONCURRENCY.to_string();
    let settings = [
        ("TASK_CONCURRENCY", concurrency.as_str()),
        ("SHUTDOWN_GRACE_SECS", grace.as_str()),
        ("TASK_PROTECTION_MINUTES", "5"),
    ];
    // The long message first, so a worker takes it at once; then the sustained load.
    send_messages(&q.queue, 0, 1, LONG_SECS).await;
    let mut next_id = 1u64;
    let mut live: Vec<(WorkerProcess, FakeEcsAgent)> = (0..WORKERS)
        .map(|_| start_with_agent(&endpoint, q.queue.url(), &settings))
        .collect();
    let model = CapacityModel {
        promise_secs: 60.0,
        concurrency: CONCURRENCY,
        task_start_secs: 180.0,
        target_utilization: 0.8,
        busy_rule: BusyRule::Utilization,
    };
    let mut desired = WORKERS as u32;
    let mut window: Vec<(u32, u32)> = Vec::new();
    let mut stopped: Vec<WorkerProcess> = Vec::new();
    let mut exits: Vec<(Option<i32>, f64)> = Vec::new();
    let mut desired_over_time = vec![desired];
    // Workers protected when a scale-in stopped others (the one holding the long message).
    let mut protected_at_scale_in: Option<usize> = None;
    let started = Instant::now();
    let mut last_reading = Instant::now();
    while started.elapsed() < Duration::from_secs(LOAD_SECS) {
        send_messages(&q.queue, next_id, RATE_PER_SEC, SHORT_SECS).await;
        next_id += RATE_PER_SEC;
        tokio::time::sleep(Duration::from_secs(1)).await;
        if last_reading.elapsed() < Duration::from_secs(READING_SECS) {
            continue;
        }
        last_reading = Instant::now();
        let depth = q.queue.depth().await.expect("depth");
        let running = live.len() as u32;
        let need = model
            .needed(
                ServiceLoad {
                    visible: depth.visible,
                    in_flight: depth.in_flight,
                    running,
                    desired,
                },
                SHORT_SECS,
                WORKERS as u32,
            )
            .tasks;
        window.push((need, desired));
        if window.len() > WINDOW_READINGS {
            window.remove(0);
        }
        let need_max = window.iter().map(|w| w.0).max();
        let desired_min = window.iter().map(|w| w.1).min().unwrap_or(desired);
        if window.len() < WINDOW_READINGS || !scale_in_breaches(need_max, desired_min) {
            continue;
        }
        // The fast scale-in: the desired count becomes the window's largest need (at least the minimum, 1).
        desired = need_max.unwrap_or(desired).max(1);
        desired_over_time.push(desired);
        window.clear();
        // ECS stops the surplus, never a protected task.
        protected_at_scale_in.get_or_insert(
            live.iter()
                .filter(|(_, a)| a.protected() == Some(true))
                .count(),
        );
        while live.len() as u32 > desired {
            let Some(i) = live.iter().rposition(|(_, a)| a.protected() != Some(true)) else {
                break;
            };
            let (mut victim, _agent) = live.remove(i);
            victim.sigterm();
            exits.push(tokio::task::block_in_place(|| {
                victim.wait(Duration::from_secs(GRACE_SECS + 5))
            }));
            stopped.push(victim);
        }
    }
    wait_until(Duration::from_secs(120), "the queue drained", || {
        empty(&q.queue)
    })
    .await;
    for (w, _) in &mut live {
        w.sigterm();
        exits.push(w.wait(Duration::from_secs(LONG_SECS as u64 + GRACE_SECS + 5)));
    }
    let all: Vec<&WorkerProcess> = live.iter().map(|(w, _)| w).chain(stopped.iter()).collect();
    let p = processed(&all);
    let lost = missing(&p.ids, 0, next_id);
    let interrupted: usize = all
        .iter()
        .flat_map(|w| w.lines())
        .filter(|l| l.contains("grace period over"))
        .count();
    let scale_in_exits = &exits[..stopped.len()];
    let slowest = scale_in_exits.iter().map(|e| e.1).fold(0.0, f64::max);
    let clean = exits.iter().filter(|e| e.0 == Some(0)).count();
    let dead = q.dlq.depth().await.expect("dlq").visible;
    let trail: Vec<String> = desired_over_time.iter().map(u32::to_string).collect();
    bpi_testkit::record_fault_result(
        12,
        &format!(
            r#"{{"sent": {next_id}, "processed": {}, "lost": {}, "duplicates": {}, "dlq": {dead}, "desired": "{}", "stopped_by_scale_in": {}, "protected_at_scale_in": {}, "slowest_scale_in_exit_secs": {slowest:.1}, "grace_secs": {GRACE_SECS}, "interrupted": {interrupted}, "exited_0": {clean}, "exits": {}}}"#,
            p.ids.len(),
            lost.len(),
            p.duplicates(),
            trail.join(" -> "),
            stopped.len(),
            protected_at_scale_in.unwrap_or(0),
            exits.len()
        ),
    );
    assert!(lost.is_empty(), "lost {lost:?} ({dead} in the DLQ)");
    assert_eq!(dead, 0, "a scale-in never dead-letters a valid message");
    assert_eq!(interrupted, 0, "no message cut short");
    assert_eq!(clean, exits.len(), "every worker exits 0: {exits:?}");
    assert!(
        slowest <= GRACE_SECS as f64 + 1.0,
        "a stopped worker drains within its grace: {slowest:.1} s"
    );
    assert_eq!(
        protected_at_scale_in,
        Some(1),
        "the worker holding the long message was protected and kept"
    );
    assert!(
        stopped.len() >= WORKERS / 2,
        "the fleet came down: desired {}",
        trail.join(" -> ")
    );
}
