//! ECS task scale-in protection. No emulator has an ECS agent, so a local HTTP endpoint on 127.0.0.1 stands in for
//! it and records the requests.

use std::time::Duration;

use queue_processor::protection::IDLE_DEBOUNCE;

use crate::support::*;

/// A stand-in ECS agent (bpi-testkit's): its URI and what it was asked.
async fn fake_agent() -> (String, bpi_testkit::ecs_agent::Requests) {
    let agent = bpi_testkit::ecs_agent::FakeEcsAgent::start();
    (agent.uri.clone(), agent.requests_handle())
}

#[tokio::test]
async fn protected_while_holding_what_the_drain_could_not_finish_toggled_only_on_transitions() {
    let (uri, seen) = fake_agent().await;
    let clients = clients().await;
    let q = create_queue(&clients.sqs, 30, 3).await;
    let worker = RunningWorker::start(
        &clients,
        &q.queue,
        config(
            &q.queue,
            &[
                ("ECS_AGENT_URI", uri.as_str()),
                ("TASK_PROTECTION_MINUTES", "30"),
                // No drain time: every message outlasts it and needs protection.
                ("SHUTDOWN_GRACE_SECS", "0"),
            ],
        ),
        RecordingWork::default(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        seen.lock().expect("lock").is_empty(),
        "idle at start: no call"
    );

    // A stream of such messages keeps the task protected: one enable, no flapping.
    send_bodies(&q.queue, &messages(6, 0.3)).await;
    wait_until(Duration::from_secs(15), "6 processed", || async {
        worker.processed() == 6
    })
    .await;
    wait_until(
        IDLE_DEBOUNCE + Duration::from_secs(5),
        "protection cleared",
        || async { seen.lock().expect("lock").len() == 2 },
    )
    .await;
    worker.stop().await;

    let seen = seen.lock().expect("lock").clone();
    assert_eq!(
        seen,
        vec![
            (
                "PUT /api/task/task-protection/v1/state HTTP/1.1".to_string(),
                r#"{"ProtectionEnabled":true,"ExpiresInMinutes":30}"#.to_string()
            ),
            (
                "PUT /api/task/task-protection/v1/state HTTP/1.1".to_string(),
                r#"{"ProtectionEnabled":false}"#.to_string()
            ),
        ]
    );
}

#[tokio::test]
async fn a_sustained_stream_that_fits_the_drain_grace_is_never_protected_so_deployments_can_stop_the_task()
 {
    // ECS stops no protected task of an old revision in a rolling deployment: a task protected whenever busy was
    // never stoppable under a sustained backlog. Messages that SIGTERM's drain can finish need no protection.
    let (uri, seen) = fake_agent().await;
    let clients = clients().await;
    let q = create_queue(&clients.sqs, 30, 3).await;
    let worker = RunningWorker::start(
        &clients,
        &q.queue,
        config(
            &q.queue,
            &[
                ("ECS_AGENT_URI", uri.as_str()),
                ("SHUTDOWN_GRACE_SECS", "1"),
            ],
        ),
        RecordingWork::default(),
    );
    // Short messages back to back: never idle, never protected.
    send_bodies(&q.queue, &messages(8, 0.3)).await;
    wait_until(Duration::from_secs(20), "8 processed", || async {
        worker.processed() == 8
    })
    .await;
    assert!(seen.lock().expect("lock").is_empty(), "{:?}", seen.lock());
    // One message longer than the grace: protected while held, cleared after.
    send_bodies(&q.queue, &messages(1, 1.5)).await;
    wait_until(
        Duration::from_secs(10) + IDLE_DEBOUNCE,
        "protection set and cleared",
        || async { seen.lock().expect("lock").len() == 2 },
    )
    .await;
    worker.stop().await;
    let bodies: Vec<String> = seen
        .lock()
        .expect("lock")
        .iter()
        .map(|(_, b)| b.clone())
        .collect();
    assert_eq!(
        bodies,
        vec![
            r#"{"ProtectionEnabled":true,"ExpiresInMinutes":60}"#.to_string(),
            r#"{"ProtectionEnabled":false}"#.to_string()
        ]
    );
}
