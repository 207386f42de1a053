//! What every fault case needs: clients, queues, messages with known ids, real worker processes whose per-message
//! log lines are collected, and the accounting of what was processed (by the body's id, so re-sent messages count
//! once) and how often.

pub use bpi_testkit::proxy::Proxy;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bpi_aws::sqs::{Outgoing, Queue};
use bpi_aws::{AwsClients, local_emulator_config};
use bpi_core::config::{ProducerConfig, QueueRef};
use bpi_core::{Message, MessageId};
use message_producer::Producer;

/// The producer (the Lambda's own code) on `queue_url`: 10 messages of 0.2 s per invocation.
pub async fn producer(clients: &AwsClients, queue_url: &str) -> Producer {
    Producer::new(
        Queue::resolve(clients.sqs.clone(), &QueueRef::Url(queue_url.to_string()))
            .await
            .expect("queue"),
        ProducerConfig::from_env(&[
            ("QUEUE_URL", queue_url),
            ("MESSAGE_COUNT", "10"),
            ("MESSAGE_DURATION_SECS", "0.2"),
        ])
        .expect("valid"),
    )
}

pub async fn clients_for(endpoint: &str) -> AwsClients {
    AwsClients::new(&local_emulator_config(endpoint).await)
}

/// `count` messages of `secs` with body ids `first..first + count`, sent 10 per call, 8 calls at a time.
pub async fn send_messages(queue: &Queue, first: u64, count: u64, secs: f64) {
    let bodies: Vec<Outgoing> = (first..first + count)
        .map(|i| Outgoing {
            body: Message {
                id: MessageId::from(i),
                duration_secs: secs,
            }
            .to_body(),
            group_id: None,
            deduplication_id: None,
        })
        .collect();
    let chunks: Vec<Vec<Outgoing>> = bodies.chunks(10).map(<[Outgoing]>::to_vec).collect();
    for group in chunks.chunks(8) {
        let mut set = tokio::task::JoinSet::new();
        for chunk in group.iter().cloned() {
            let q = queue.clone();
            set.spawn(async move {
                let mut pending = chunk;
                for _ in 0..10 {
                    match q.send_batch(&pending).await {
                        Ok(failed) if failed.is_empty() => return,
                        Ok(failed) => {
                            let bad: HashSet<_> = failed.iter().map(|f| f.index).collect();
                            pending = pending
                                .into_iter()
                                .enumerate()
                                .filter(|(i, _)| bad.contains(i))
                                .map(|(_, m)| m)
                                .collect();
                        }
                        Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                    }
                }
                panic!("could not send a batch");
            });
        }
        while let Some(r) = set.join_next().await {
            r.expect("send task");
        }
    }
}

/// A real queue-processor process and its log lines.
pub struct WorkerProcess {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
    stopped_at: Option<Instant>,
}

impl WorkerProcess {
    /// Starts the worker on `queue_url` at `endpoint` with `extra` settings; per-message events logged as JSON.
    pub fn start(endpoint: &str, queue_url: &str, extra: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(bpi_testkit::workspace_binary("queue-processor"));
        cmd.env_clear()
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("QUEUE_URL", queue_url)
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info,message=debug")
            .env("METRICS_INTERVAL_SECS", "5")
            .envs(extra.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start queue-processor");
        let stderr = child.stderr.take().expect("stderr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().expect("lines").push(line);
            }
        });
        WorkerProcess {
            child,
            lines,
            reader: Some(reader),
            stopped_at: None,
        }
    }

    fn signal(&self, sig: nix::sys::signal::Signal) {
        let pid = i32::try_from(self.child.id()).expect("a pid");
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig).expect("signal the worker");
    }

    /// Sends SIGTERM (a scale-in).
    pub fn sigterm(&mut self) {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        self.stopped_at = Some(Instant::now());
    }

    /// Sends SIGKILL (a crash).
    pub fn sigkill(&mut self) {
        self.signal(nix::sys::signal::Signal::SIGKILL);
        self.stopped_at = Some(Instant::now());
    }

    /// Whether it is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits up to `limit` for it to exit: (exit code, seconds since the signal).
    pub fn wait(&mut self, limit: Duration) -> (Option<i32>, f64) {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let secs = self.stopped_at.map_or(0.0, |t| t.elapsed().as_secs_f64());
                // Every line it wrote, read to the end of the pipe.
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                return (status.code(), secs);
            }
            assert!(
                Instant::now() < deadline,
                "worker still running after {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Its log lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines").clone()
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A worker with `settings` talking to a stand-in ECS agent of its own (scale-in protection recorded there).
pub fn start_with_agent(
    endpoint: &str,
    queue_url: &str,
    settings: &[(&str, &str)],
) -> (WorkerProcess, bpi_testkit::ecs_agent::FakeEcsAgent) {
    let agent = bpi_testkit::ecs_agent::FakeEcsAgent::start();
    let worker = WorkerProcess::start(
        endpoint,
        queue_url,
        &[settings, &[("ECS_AGENT_URI", agent.uri.as_str())]].concat(),
    );
    (worker, agent)
}

/// What the workers' logs say was processed.
#[derive(Debug, Default)]
pub struct Processed {
    /// Body ids processed at least once.
    pub ids: HashSet<String>,
    /// Completions in total.
    pub completions: u64,
}

impl Processed {
    /// Completions beyond the first per body id.
    pub fn duplicates(&self) -> u64 {
        self.completions - self.ids.len() as u64
    }
}

/// Accounts the `started` / `processed` events of every worker's log.
pub fn processed(workers: &[&WorkerProcess]) -> Processed {
    let mut body_of: HashMap<String, String> = HashMap::new();
    let mut out = Processed::default();
    let lines: Vec<String> = workers.iter().flat_map(|w| w.lines()).collect();
    for line in &lines {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if v["target"] == "message"
            && v["message"] == "started"
            && let (Some(sqs), Some(id)) = (v["message_id"].as_str(), v["id"].as_str())
        {
            body_of.insert(sqs.to_string(), id.to_string());
        }
    }
    for line in &lines {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if v["target"] == "message"
            && v["message"] == "processed"
            && let Some(sqs) = v["message_id"].as_str()
        {
            out.completions += 1;
            if let Some(id) = body_of.get(sqs) {
                out.ids.insert(id.clone());
            }
        }
    }
    out
}

/// Ids `first..first + count` missing from `seen`.
pub fn missing(seen: &HashSet<String>, first: u64, count: u64) -> Vec<u64> {
    (first..first + count)
        .filter(|i| !seen.contains(&i.to_string()))
        .collect()
}

/// Polls `check` every 200 ms until it holds; panics naming `what` after `limit`.
pub async fn wait_until<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Whether `queue` holds nothing, visible or in flight.
pub async fn empty(queue: &Queue) -> bool {
    queue
        .depth()
        .await
        .map(|d| d.visible == 0 && d.in_flight == 0)
        .unwrap_or(false)
}
