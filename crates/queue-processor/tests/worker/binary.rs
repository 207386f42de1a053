//! The real binary as a child process: SIGTERM draining and exit codes.

use std::process::Stdio;
use std::time::{Duration, Instant};

use bpi_core::QueueDepth;
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

use crate::support::*;

fn worker_command(extra: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_queue-processor"));
    cmd.env_clear()
        .envs(bpi_testkit::emulator().child_env())
        .env("LOG_FORMAT", "json")
        .env("RECEIVE_WAIT_SECS", "1")
        .envs(extra.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

fn sigterm(child: &Child) {
    let pid = i32::try_from(child.id().expect("running")).expect("a pid");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("signal the worker");
}

async fn finish(mut child: Child, limit: Duration) -> (i32, String) {
    let status = tokio::time::timeout(limit, child.wait())
        .await
        .expect("exits in time")
        .expect("wait");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut stderr)
        .await
        .expect("read stderr");
    (status.code().expect("exited, not killed"), stderr)
}

#[tokio::test]
async fn sigterm_mid_message_lets_it_finish_then_exits_zero() {
    let clients = clients().await;
    let q = create_queue(&clients.sqs, 30, 3).await;
    let child = worker_command(&[("QUEUE_URL", q.queue.url()), ("SHUTDOWN_GRACE_SECS", "10")])
        .spawn()
        .expect("spawn");
    send_bodies(&q.queue, &messages(1, 2.0)).await;
    wait_until(Duration::from_secs(15), "message received", || async {
        depth(&q.queue).await.in_flight == 1
    })
    .await;
    let signalled = Instant::now();
    sigterm(&child);
    let (code, stderr) = finish(child, Duration::from_secs(15)).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "within the grace period"
    );
    assert!(
        stderr.contains("\"processed\":1"),
        "the running message completed: {stderr}"
    );
    assert_eq!(
        depth(&q.queue).await,
        QueueDepth {
            visible: 0,
            in_flight: 0
        },
        "completed and deleted"
    );
}

#[tokio::test]
async fn sigterm_past_the_grace_period_hands_the_message_back() {
    let clients = clients().await;
    let q = create_queue(&clients.sqs, 30, 3).await;
    let child = worker_command(&[("QUEUE_URL", q.queue.url()), ("SHUTDOWN_GRACE_SECS", "1")])
        .spawn()
        .expect("spawn");
    send_bodies(&q.queue, &messages(1, 60.0)).await;
    wait_until(Duration::from_secs(15), "message received", || async {
        depth(&q.queue).await.in_flight == 1
    })
    .await;
    let signalled = Instant::now();
    sigterm(&child);
    let (code, stderr) = finish(child, Duration::from_secs(15)).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        signalled.elapsed() < Duration::from_secs(5),
        "grace 1 s, took {:?}",
        signalled.elapsed()
    );
    assert!(stderr.contains("\"returned\":1"), "{stderr}");
    // Not lost: visible again at once (ChangeMessageVisibility 0), not after the 30 s timeout.
    assert_eq!(
        depth(&q.queue).await,
        QueueDepth {
            visible: 1,
            in_flight: 0
        }
    );
}

#[tokio::test]
async fn sigterm_while_idle_exits_zero_at_once() {
    let clients = clients().await;
    let q = create_queue(&clients.sqs, 30, 3).await;
    let child = worker_command(&[("QUEUE_URL", q.queue.url()), ("RECEIVE_WAIT_SECS", "20")])
        .spawn()
        .expect("spawn");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let signalled = Instant::now();
    sigterm(&child);
    let (code, stderr) = finish(child, Duration::from_secs(10)).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        signalled.elapsed() < Duration::from_secs(3),
        "a 20 s long poll does not delay exit"
    );
}

#[tokio::test]
async fn bad_settings_exit_2_naming_the_variable() {
    let mut refused = 0;
    for (env, variable) in [
        (
            vec![("QUEUE_NAME", "q"), ("TASK_CONCURRENCY", "abc")],
            "TASK_CONCURRENCY",
        ),
        (
            vec![("QUEUE_NAME", "q"), ("TASK_CONCURRENCY", "0")],
            "TASK_CONCURRENCY",
        ),
        (
            vec![("QUEUE_NAME", "q"), ("TASK_CONCURRENCY", "-3")],
            "TASK_CONCURRENCY",
        ),
        (
            vec![("QUEUE_NAME", "q"), ("RECEIVE_WAIT_SECS", "99999999999")],
            "RECEIVE_WAIT_SECS",
        ),
        (
            vec![("QUEUE_NAME", "q"), ("SHUTDOWN_GRACE_SECS", "")],
            "none",
        ),
        (
            vec![("QUEUE_NAME", "q"), ("MAX_MESSAGE_DURATION_SECS", "NaN")],
            "MAX_MESSAGE_DURATION_SECS",
        ),
        (
            vec![("QUEUE_NAME", "q"), ("LOG_FORMAT", "xml")],
            "LOG_FORMAT",
        ),
        (
            vec![("QUEUE_NAME", "q"), ("ECS_AGENT_URI", "169.254.170.2")],
            "ECS_AGENT_URI",
        ),
        (
            vec![("QUEUE_NAME", "q"), ("WORK_MODE", "lambda")],
            "WORK_MODE",
        ),
        (
            vec![("QUEUE_NAME", "q"), ("WORK_MODE", "exec")],
            "APP_COMMAND",
        ),
        (
            vec![
                ("QUEUE_NAME", "q"),
                ("WORK_MODE", "http"),
                ("APP_PORT", "0"),
            ],
            "APP_PORT",
        ),
        (
            vec![
                ("QUEUE_NAME", "q"),
                ("WORK_MODE", "http"),
                ("APP_HEALTH_PATH", "health"),
            ],
            "APP_HEALTH_PATH",
        ),
        (vec![], "QUEUE_NAME"),
    ] {
        if variable == "none" {
            continue; // an empty value is "unset": not an error
        }
        let child = worker_command(&env).spawn().expect("spawn");
        let (code, stderr) = finish(child, Duration::from_secs(10)).await;
        assert_eq!(code, 2, "{env:?}: {stderr}");
        assert!(
            stderr.contains(variable),
            "{env:?} must name {variable}: {stderr}"
        );
        refused += 1;
    }
    bpi_testkit::record_fault_result(
        7,
        &format!(
            r#"{{"binary": "queue-processor", "bad_settings": {refused}, "exit_2_naming_the_variable": {refused}}}"#
        ),
    );
}

#[tokio::test]
async fn a_missing_queue_exits_1_with_a_clear_message() {
    let child = worker_command(&[("QUEUE_NAME", &bpi_testkit::unique_name("absent"))])
        .spawn()
        .expect("spawn");
    let (code, stderr) = finish(child, Duration::from_secs(60)).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("the queue does not exist"), "{stderr}");
}

#[tokio::test]
async fn sigkill_mid_message_loses_nothing_the_message_comes_back_after_the_visibility_timeout() {
    let clients = clients().await;
    // Visibility 2 s: a killed worker's message is visible again 2 s after its last extension.
    let q = create_queue(&clients.sqs, 2, 5).await;
    let mut child = worker_command(&[("QUEUE_URL", q.queue.url())])
        .spawn()
        .expect("spawn");
    send_bodies(&q.queue, &messages(1, 30.0)).await;
    wait_until(Duration::from_secs(15), "message received", || async {
        depth(&q.queue).await.in_flight == 1
    })
    .await;
    child.start_kill().expect("SIGKILL");
    let status = child.wait().await.expect("wait");
    assert!(status.code().is_none(), "killed by a signal, no drain");
    // Nothing handed it back: it reappears on its own once the last extension runs out, and another worker (short
    // work this time, by config) finishes it.
    wait_until(Duration::from_secs(15), "visible again", || async {
        depth(&q.queue).await.visible == 1
    })
    .await;
    let work = RecordingWork::default();
    let rescuer = RunningWorker::start(
        &clients,
        &q.queue,
        config(&q.queue, &[]),
        InstantWork(work.clone()),
    );
    wait_until(
        Duration::from_secs(15),
        "processed by the second worker",
        || async { rescuer.processed() == 1 },
    )
    .await;
    rescuer.stop().await;
    assert_eq!(work.ids(), vec![bpi_core::MessageId::from(0)]);
    assert_eq!(
        depth(&q.queue).await,
        QueueDepth {
            visible: 0,
            in_flight: 0
        }
    );
}

/// Records the message and returns at once (the rescuing worker need not wait 30 s).
struct InstantWork(RecordingWork);

impl queue_processor::Work for InstantWork {
    async fn process(
        &self,
        delivery: &queue_processor::Delivery,
    ) -> Result<(), queue_processor::WorkError> {
        let message = blueprint(delivery);
        self.0.done.lock().expect("lock").push(message.id.clone());
        Ok(())
    }
}
