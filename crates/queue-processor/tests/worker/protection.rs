//! ECS task scale-in protection. No emulator has an ECS agent, so a local HTTP endpoint on 127.0.0.1 stands in for
//! it and records the requests.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use queue_processor::protection::IDLE_DEBOUNCE;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::*;

/// A stand-in ECS agent: answers 200 to every request, records (request line, body).
async fn fake_agent() -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let uri = format!(
        "http://{}/api/task-123",
        listener.local_addr().expect("addr")
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            // Read headers and the Content-Length body.
            loop {
                let n = stream.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= len {
                        let request_line = head.lines().next().unwrap_or_default().to_string();
                        record
                            .lock()
                            .expect("lock")
                            .push((request_line, body.to_string()));
                        break;
                    }
                }
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
                .await;
        }
    });
    (uri, seen)
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
                "PUT /api/task-123/task-protection/v1/state HTTP/1.1".to_string(),
                r#"{"ProtectionEnabled":true,"ExpiresInMinutes":30}"#.to_string()
            ),
            (
                "PUT /api/task-123/task-protection/v1/state HTTP/1.1".to_string(),
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
