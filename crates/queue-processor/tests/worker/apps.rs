//! The worker carrying the user's own application: HTTP mode against a real Python HTTP server (standard library
//! only) and exec mode running a Python script, on the emulator's queues. Well-behaved and misbehaving applications:
//! nothing lost, nothing processed twice that need not be, poison still reaches the DLQ, and no message is pushed
//! toward the DLQ while the application is down.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use bpi_core::config::{ProcessorConfig, WorkMode};
use queue_processor::exec_app::ExecWork;
use queue_processor::http_app::HttpWork;
use serde_json::Value;
use tokio::process::{Child, Command};

use crate::support::*;

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The recording test application (`tests/apps/recording_app.py`) as a child process.
struct App {
    child: Child,
    port: u16,
    record: PathBuf,
}

impl App {
    fn start(port: u16, record: &Path, args: &[&str]) -> App {
        let child = Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apps/recording_app.py"))
            .arg(port.to_string())
            .arg(record)
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs the test application");
        App {
            child,
            port,
            record: record.to_path_buf(),
        }
    }

    fn fresh(args: &[&str]) -> App {
        let record =
            std::env::temp_dir().join(format!("{}.jsonl", bpi_testkit::unique_name("app")));
        App::start(free_port(), &record, args)
    }

    /// Every request the application received, in order (headers with lower-case names).
    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.record)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).expect("a recorded request");
                let headers: serde_json::Map<String, Value> = v["headers"]
                    .as_object()
                    .expect("headers")
                    .iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                    .collect();
                v["headers"] = Value::Object(headers);
                v
            })
            .collect()
    }

    /// How many times each body was posted.
    fn posts_by_body(&self) -> HashMap<String, usize> {
        let mut by_body = HashMap::new();
        for r in self.requests() {
            *by_body
                .entry(r["body"].as_str().expect("body").to_string())
                .or_default() += 1;
        }
        by_body
    }
}

fn http_config(queue: &bpi_aws::sqs::Queue, port: u16, extra: &[(&str, &str)]) -> ProcessorConfig {
    let port = port.to_string();
    let mut vars = vec![
        ("WORK_MODE", "http"),
        ("APP_PORT", port.as_str()),
        ("APP_PATH", "/jobs"),
        ("APP_HEALTH_PATH", "/health"),
    ];
    vars.extend_from_slice(extra);
    config(queue, &vars)
}

/// A worker in HTTP mode with `config`, in the background.
fn start_http(
    clients: &bpi_aws::AwsClients,
    queue: &bpi_aws::sqs::Queue,
    config: &ProcessorConfig,
) -> RunningWorker {
    RunningWorker::start(clients, queue, config.clone(), http_work(config, queue))
}

fn http_work(config: &ProcessorConfig, queue: &bpi_aws::sqs::Queue) -> HttpWork {
    let WorkMode::Http(app) = config.work.clone() else {
        panic!("http mode expected")
    };
    HttpWork::new(app, queue.name()).expect("valid settings")
}

async fn dlq_depth(q: &TestQueue) -> u64 {
    q.dlq.depth().await.map(|d| d.visible).unwrap_or(0)
}

#[tokio::test]
async fn http_mode_posts_each_body_with_sqsd_headers_and_deletes_on_2xx() {
    let clients = clients().await;
    let q = create_queue(&clients.sqs, 30, 3).await;
    let bodies = messages(20, 0.05);
    send_bodies(&q.queue, &bodies).await;
    let app = App::fresh(&[]);
    let config = http_config(&q.queue, app.port, &[("TASK_CONCURRENCY", "4")]);
    let worker = start_http(&clients, &q.queue, &config);
    wait_until(Duration::from_secs(30), "20 messages processed", || async {
        worker.processed() == 20
    })
    .await;
    let report = worker.stop().await;
    assert_eq!((report.counters.failed, report.interrupted), (0, 0));
    wait_until(Duration::from_secs(10), "the queue empty", || async {
        depth(&q.queue).await
            == bpi_core::QueueDepth {
                visible: 0,
                in_flight: 0,
            }
    })
    .await;
    let requests = app.requests();
    assert_eq!(requests.len(), 20, "each message posted once");
    let mut ids: Vec<&str> = requests
        .iter()
        .map(|r| {
            r["headers"]["x-aws-sqsd-msgid"]
                .as_str()
                .expect("message id header")
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 20, "20 distinct message ids");
    for r in &requests {
        let h = &r["headers"];
        assert_eq!(r["path"], "/jobs");
        assert!(
            bodies
                .iter()
                .any(|b| b == r["body"].as_str().expect("body")),
            "the body as sent: {r}"
        );
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(h["x-aws-sqsd-queue"], q.queue.name());
        assert_eq!(h["x-aws-sqsd-receive-count"], "1");
        assert_eq!(h["user-agent"], queue_processor::http_app::USER_AGENT_VALUE);
        for stamp in ["x-aws-sqsd-first-received-at", "x-aws-sqsd-sent-at"] {
            let s = h[stamp]
                .as_str()
                .unwrap_or_else(|| panic!("{stamp} in {h}"));
            assert!(
                s.len() == 24 && s.ends_with('Z') && s.as_bytes()[10] == b'T',
                "{stamp}: {s}"
            );
        }
    }
}

#[tokio::test]
async fn an_error_answer_is_retried_and_poison_reaches_the_dlq() {
    let clients = clients().await;
    let q = create_queue(&clients.sqs, 1, 2).await;
    let poison = r#"{"id":99,"duration":0,"fail":true}"#.to_string();
    let mut bodies = messages(5, 0.0);
    bodies.push(poison.clone());
    send_bodies(&q.queue, &bodies).await;
    let app = App::fresh(&[]);
    let config = http_config(&q.queue, app.port, &[("TASK_CONCURRENCY", "2")]);
    let worker = start_http(&clients, &q.queue, &config);
    wait_until(
        Duration::from_secs(40),
        "the failing body in the DLQ",
        || async { dlq_depth(&q).await == 1 },
    )
    .await;
    let report = worker.stop().await;
    assert_eq!(report.counters.processed, 5);
    let posts = app.posts_by_body();
    assert_eq!(
        posts[&poison], 2,
        "answered 500 on each of maxReceiveCount=2 receives: {posts:?}"
    );
    for body in &bodies[..5] {
        assert_eq!(posts[body], 1, "a message answered 2xx is posted once");
    }
}

#[tokio::test]
async fn nothing_is_received_while_the_application_is_down_or_starting() {
    let clients = clients().await;
    let q = create_queue(&clients.sqs, 30, 2).await;
    send_bodies(&q.queue, &messages(10, 0.0)).await;
    let port = free_port();
    let config = http_config(
        &q.queue,
        port,
        &[("TASK_CONCURRENCY", "4"), ("METRICS_INTERVAL_SECS", "1")],
    );
    let worker = start_http(&clients, &q.queue, &config);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        worker.counters.snapshot().received,
        0,
        "no application: nothing received"
    );
    assert_eq!(depth(&q.queue).await.visible, 10);
    // And it says so where `bpi status` reads it.
    let reported = bpi_aws::cloudwatch::latest_values(
        &clients.cloudwatch,
        &config.metrics.namespace,
        &[bpi_core::config::APP_NOT_READY_METRIC],
        &[
            ("Type", config.metrics.metric_type.as_str()),
            ("QueueName", q.queue.name()),
        ],
        Duration::from_secs(60),
        std::time::SystemTime::now(),
    )
    .await
    .expect("read");
    assert_eq!(
        reported[0].map(|(_, v)| v),
        Some(1.0),
        "WorkerAppNotReady published"
    );
    // The application takes 2 s to listen: still nothing received until its health path answers.
    let record = std::env::temp_dir().join(format!("{}.jsonl", bpi_testkit::unique_name("app")));
    let app = App::start(port, &record, &["--start-delay", "2"]);
    wait_until(
        Duration::from_secs(30),
        "all processed once the application is up",
        || async { worker.processed() == 10 },
    )
    .await;
    worker.stop().await;
    let requests = app.requests();
    assert_eq!(requests.len(), 10);
    assert!(
        requests
            .iter()
            .all(|r| r["headers"]["x-aws-sqsd-receive-count"] == "1"),
        "no receive was spent while the application was down"
    );
}

#[tokio::test]
async fn a_crash_mid_request_hands_the_message_back_and_receiving_waits_for_the_restart() {
    let clients = clients().await;
    // A 60 s visibility timeout: a message left in flight would not come back within this test.
    let q = create_queue(&clients.sqs, 60, 3).await;
    let bodies = messages(8, 0.05);
    send_bodies(&q.queue, &bodies).await;
    let mut app = App::fresh(&["--crash-on", "3"]);
    let config = http_config(
        &q.queue,
        app.port,
        &[("TASK_CONCURRENCY", "1"), ("PREFETCH_SECS", "0")],
    );
    let worker = start_http(&clients, &q.queue, &config);
    let status = tokio::time::timeout(Duration::from_secs(30), app.child.wait())
        .await
        .expect("the application crashes on its third request")
        .expect("exit status");
    assert_eq!(status.code(), Some(3));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let received = worker.counters.snapshot().received;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        worker.counters.snapshot().received,
        received,
        "nothing received while it is down"
    );
    assert_eq!(worker.processed(), 2);
    let restarted = App::start(app.port, &app.record, &[]);
    wait_until(
        Duration::from_secs(30),
        "everything processed after the restart",
        || async { worker.processed() == 8 },
    )
    .await;
    let report = worker.stop().await;
    assert_eq!(
        report.counters.returned, 1,
        "the crashed request's message was handed back"
    );
    assert_eq!(dlq_depth(&q).await, 0);
    let posts = restarted.posts_by_body();
    let twice: Vec<_> = posts.iter().filter(|(_, n)| **n > 1).collect();
    assert_eq!(
        twice.len(),
        1,
        "only the message of the crashed request is posted again: {posts:?}"
    );
    assert_eq!(posts.len(), 8, "every message reached the application");
}

#[tokio::test]
async fn a_request_past_the_visibility_timeout_is_kept_then_abandoned_at_the_app_timeout() {
    let clients = clients().await;
    let q = create_queue(&clients.sqs, 2, 2).await;
    let hang = r#"{"id":7,"duration":0,"hang":true}"#.to_string();
    let slow = r#"{"id":8,"duration":4}"#.to_string();
    send_bodies(&q.queue, &[hang.clone(), slow.clone()]).await;
    let app = App::fresh(&[]);
    let config = http_config(
        &q.queue,
        app.port,
        &[("TASK_CONCURRENCY", "2"), ("APP_TIMEOUT_SECS", "7")],
    );
    let worker = start_http(&clients, &q.queue, &config);
    wait_until(
        Duration::from_secs(40),
        "the hanging message in the DLQ",
        || async { dlq_depth(&q).await == 1 },
    )
    .await;
    let report = worker.stop().await;
    assert_eq!(report.counters.processed, 1);
    let posts = app.posts_by_body();
    assert_eq!(
        posts[&slow], 1,
        "4 s of work past a 2 s visibility timeout is posted once: {posts:?}"
    );
    assert_eq!(
        posts[&hang], 2,
        "abandoned at APP_TIMEOUT_SECS on each receive"
    );
}

#[tokio::test]
async fn exec_mode_runs_the_command_per_message_and_fails_bad_bodies_to_the_dlq() {
    let clients = clients().await;
    let q = create_queue(&clients.sqs, 1, 2).await;
    let mut bodies = messages(6, 0.05);
    bodies.push("not json".to_string());
    send_bodies(&q.queue, &bodies).await;
    let script = repo_path("examples/python-worker/work.py");
    let command = serde_json::json!(["python3", script]).to_string();
    let config = config(
        &q.queue,
        &[
            ("WORK_MODE", "exec"),
            ("APP_COMMAND", &command),
            ("TASK_CONCURRENCY", "3"),
        ],
    );
    let WorkMode::Exec(app) = config.work.clone() else {
        panic!("exec mode expected")
    };
    let worker = RunningWorker::start(
        &clients,
        &q.queue,
        config,
        ExecWork::new(app, q.queue.name()),
    );
    wait_until(
        Duration::from_secs(40),
        "6 processed and the bad body in the DLQ",
        || async { worker.processed() == 6 && dlq_depth(&q).await == 1 },
    )
    .await;
    let report = worker.stop().await;
    assert_eq!(report.counters.processed, 6);
    assert_eq!(
        report.counters.failed, 2,
        "the bad body failed on each of its 2 receives"
    );
    assert_eq!(report.interrupted, 0);
}

#[tokio::test]
async fn a_body_of_unknown_length_protects_its_task_only_once_it_outlasts_the_drain_grace() {
    // An opaque body says nothing of its length: protecting every busy task would block deployments (ECS stops
    // no protected task), so a request is protected once it has run longer than SHUTDOWN_GRACE_SECS.
    let agent = bpi_testkit::ecs_agent::FakeEcsAgent::start();
    let seen = agent.requests_handle();
    let clients = clients().await;
    let q = create_queue(&clients.sqs, 30, 3).await;
    let app = App::fresh(&[]);
    let config = http_config(
        &q.queue,
        app.port,
        &[
            ("ECS_AGENT_URI", agent.uri.as_str()),
            ("SHUTDOWN_GRACE_SECS", "1"),
        ],
    );
    let worker = start_http(&clients, &q.queue, &config);
    let short: Vec<String> = (0..6).map(|_| r#"{"duration":0.3}"#.to_string()).collect();
    send_bodies(&q.queue, &short).await;
    wait_until(Duration::from_secs(20), "6 processed", || async {
        worker.processed() == 6
    })
    .await;
    assert!(
        seen.lock().expect("lock").is_empty(),
        "short requests: never protected"
    );
    send_bodies(&q.queue, &[r#"{"duration":2.5}"#.to_string()]).await;
    wait_until(
        Duration::from_secs(10) + queue_processor::protection::IDLE_DEBOUNCE,
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
        [
            r#"{"ProtectionEnabled":true,"ExpiresInMinutes":60}"#,
            r#"{"ProtectionEnabled":false}"#
        ]
    );
}

/// Groups, messages per group and poisoned positions of the FIFO order tests of the HTTP and exec modes (smaller
/// than the in-process one: each message is a request or a process).
const FIFO_GROUPS: u64 = 10;
const FIFO_PER_GROUP: u64 = 24;
const FIFO_POISONED: [(u64, u64); 2] = [(2, 5), (6, 12)];

/// A body the application fails on (a 500, or a non-zero exit).
fn failing_body(id: u64) -> String {
    serde_json::json!({"id": id, "duration": 0.0, "fail": true}).to_string()
}

/// A recorded body's position within its group.
fn position(body: &str) -> u64 {
    let v: Value = serde_json::from_str(body).expect("a JSON body");
    v["id"].as_u64().expect("a numbered message") % 1000
}

/// Runs the FIFO order scenario with `work` for each worker: two workers at concurrency 8 with a prefetch, the
/// first drained on SIGTERM mid-run while the second takes over; returns when every valid message was processed
/// and the failing ones are in the DLQ.
async fn fifo_scenario<W: queue_processor::Work + Clone>(
    clients: &bpi_aws::AwsClients,
    q: &TestQueue,
    config: &ProcessorConfig,
    work: W,
    processed: impl Fn() -> usize,
) {
    let sender = tokio::spawn(crate::fifo::send_groups(
        q.queue.clone(),
        FIFO_GROUPS,
        FIFO_PER_GROUP,
        &FIFO_POISONED,
        failing_body,
    ));
    let valid = (FIFO_GROUPS * FIFO_PER_GROUP) as usize - FIFO_POISONED.len();
    let first = RunningWorker::start(clients, &q.queue, config.clone(), work.clone());
    wait_until(Duration::from_secs(180), "a third processed", || {
        let n = processed();
        async move { n >= valid / 3 }
    })
    .await;
    let second = RunningWorker::start(clients, &q.queue, config.clone(), work);
    first.stop().await;
    wait_until(
        Duration::from_secs(300),
        "every valid message processed and the failing ones dead-lettered",
        || {
            let n = processed();
            async move { n >= valid && dlq_depth(q).await == FIFO_POISONED.len() as u64 }
        },
    )
    .await;
    second.stop().await;
    sender.await.expect("sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn http_mode_keeps_every_fifo_groups_order_and_sends_the_group_headers() {
    let clients = clients().await;
    let name = format!("{}.fifo", bpi_testkit::unique_name("fifo-http"));
    let q = create_queue_named(&clients.sqs, &name, 4, 2).await;
    let app = App::fresh(&["--record-ends"]);
    let config = http_config(
        &q.queue,
        app.port,
        &[("TASK_CONCURRENCY", "8"), ("PREFETCH_SECS", "2")],
    );
    let work = http_work(&config, &q.queue);
    let done = || {
        app.requests()
            .iter()
            .filter_map(|r| r.get("end").and_then(Value::as_str).map(str::to_string))
            .filter(|body| !body.contains("fail"))
            .collect::<std::collections::HashSet<String>>()
            .len()
    };
    fifo_scenario(&clients, &q, &config, work, done).await;
    let requests = app.requests();
    let events: Vec<crate::fifo::Event> = requests
        .iter()
        .map(|r| {
            let group = r["headers"]["x-aws-sqsd-message-group-id"]
                .as_str()
                .expect("the group header")
                .to_string();
            match r.get("end") {
                Some(end) => crate::fifo::Event::End(group, position(end.as_str().expect("body"))),
                None => {
                    crate::fifo::Event::Start(group, position(r["body"].as_str().expect("body")))
                }
            }
        })
        .collect();
    let breaches = crate::fifo::order_breaches(&events);
    assert!(breaches.is_empty(), "{breaches:?}");
    assert!(
        requests
            .iter()
            .all(|r| r["headers"]["x-aws-sqsd-sequence-number"]
                .as_str()
                .is_some_and(|s| !s.is_empty())),
        "every request carries its sequence number"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exec_mode_keeps_every_fifo_groups_order_and_passes_the_group_in_the_environment() {
    let clients = clients().await;
    let name = format!("{}.fifo", bpi_testkit::unique_name("fifo-exec"));
    let q = create_queue_named(&clients.sqs, &name, 4, 2).await;
    let record =
        std::env::temp_dir().join(format!("{}.log", bpi_testkit::unique_name("fifo-exec")));
    // Each process appends "start GROUP SEQUENCE BODY" and "end GROUP SEQUENCE BODY" lines (O_APPEND: whole
    // lines); a failing body exits 1.
    let script = format!(
        r#"body=$(cat); case "$body" in *fail*) exit 1;; esac
printf 'start %s %s %s\n' "$SQS_MESSAGE_GROUP_ID" "$SQS_SEQUENCE_NUMBER" "$body" >> '{0}'
sleep 0.02
printf 'end %s %s %s\n' "$SQS_MESSAGE_GROUP_ID" "$SQS_SEQUENCE_NUMBER" "$body" >> '{0}'"#,
        record.display()
    );
    let command = serde_json::json!(["sh", "-c", script]).to_string();
    let config = config(
        &q.queue,
        &[
            ("WORK_MODE", "exec"),
            ("APP_COMMAND", &command),
            ("TASK_CONCURRENCY", "8"),
            ("PREFETCH_SECS", "2"),
        ],
    );
    let WorkMode::Exec(app) = config.work.clone() else {
        panic!("exec mode expected")
    };
    let work = ExecWork::new(app, q.queue.name());
    let lines = || std::fs::read_to_string(&record).unwrap_or_default();
    let done = || {
        lines()
            .lines()
            .filter_map(|l| l.strip_prefix("end "))
            .map(|l| l.splitn(3, ' ').nth(2).unwrap_or("").to_string())
            .collect::<std::collections::HashSet<String>>()
            .len()
    };
    fifo_scenario(&clients, &q, &config, work, done).await;
    let mut events = Vec::new();
    for line in lines().lines() {
        let mut parts = line.splitn(4, ' ');
        let (kind, group, sequence, body) = (
            parts.next().expect("kind"),
            parts.next().expect("group").to_string(),
            parts.next().expect("sequence"),
            parts.next().expect("body"),
        );
        assert!(!sequence.is_empty(), "{line}");
        let n = position(body);
        events.push(match kind {
            "start" => crate::fifo::Event::Start(group, n),
            _ => crate::fifo::Event::End(group, n),
        });
    }
    let breaches = crate::fifo::order_breaches(&events);
    assert!(breaches.is_empty(), "{breaches:?}");
}
