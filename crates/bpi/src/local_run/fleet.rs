//! The local stand-in for the ECS service: queue-processor processes started and stopped like Fargate tasks.
//!
//! Lifecycle of a worker: spawned (the real binary, pointed at the emulator), running (its per-message log events
//! say how many messages it holds), stopping (SIGTERM: it drains and exits 0), exited (reaped, exit code kept).
//! Like ECS with scale-in protection, a scale-in stops idle workers only; busy ones are stopped once idle.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// What a worker's log said that the local run needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WorkerEvent {
    /// A message's processing started, `waited_ms` after SQS accepted it.
    Started {
        worker: usize,
        waited_ms: Option<u64>,
    },
    /// A message was processed in `duration_secs`.
    Processed { worker: usize, duration_secs: f64 },
}

/// Reads one JSON log line of a worker (see `queue_processor::worker::MESSAGE_LOG_TARGET`).
pub fn parse_event(worker: usize, line: &str) -> Option<WorkerEvent> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    if v.get("target")?.as_str()? != "message" {
        return None;
    }
    match v.get("message")?.as_str()? {
        "started" => Some(WorkerEvent::Started {
            worker,
            waited_ms: v.get("waited_ms").and_then(serde_json::Value::as_u64),
        }),
        "processed" => Some(WorkerEvent::Processed {
            worker,
            duration_secs: v.get("duration_secs")?.as_f64()?,
        }),
        _ => None,
    }
}

struct Worker {
    child: Child,
    /// Its application (HTTP mode): one per worker, as each ECS task has its own.
    app: Option<Child>,
    holding: u32,
    stop_sent: Option<Instant>,
}

/// The user's application the workers hand their messages to, if not the demo's built-in work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalApp {
    /// The demo's built-in work.
    BuiltIn,
    /// HTTP mode: this command is started beside each worker with `APP_PORT` set to a free port of its own.
    Http {
        /// Program and arguments.
        command: Vec<String>,
        /// The readiness path the worker checks.
        health_path: Option<String>,
    },
    /// Exec mode: each worker runs this command per message (`APP_COMMAND`, as given).
    Exec {
        /// The command, as `APP_COMMAND` takes it.
        command: String,
    },
}

/// A child process of the local run: no input, standard error piped, killed if dropped, and in its own process
/// group, so a Ctrl-C in the terminal reaches the local run (which drains the workers with SIGTERM), not every
/// child at once.
fn child_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    command
}

/// A port nobody listens on now (the kernel's choice), for one worker's application.
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// How a worker ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct WorkerExit {
    /// Exit code (None: killed by a signal).
    pub code: Option<i32>,
    /// Seconds from SIGTERM to exit (None: it exited on its own).
    pub stop_secs: Option<u64>,
}

/// The worker processes.
pub struct Fleet {
    bin: PathBuf,
    env: Vec<(String, String)>,
    app: LocalApp,
    workers: HashMap<usize, Worker>,
    next_id: usize,
    events: mpsc::UnboundedSender<WorkerEvent>,
    log_lines: mpsc::UnboundedSender<String>,
    /// Workers that ended, in order.
    pub exits: Vec<WorkerExit>,
    /// Workers started in total.
    pub started: u32,
}

impl Fleet {
    /// A fleet of `bin` processes with `env` added to this process's environment; their events and (non-message)
    /// log lines come out of the returned channels.
    pub fn new(
        bin: PathBuf,
        env: Vec<(String, String)>,
        app: LocalApp,
    ) -> (
        Fleet,
        mpsc::UnboundedReceiver<WorkerEvent>,
        mpsc::UnboundedReceiver<String>,
    ) {
        let (events, events_rx) = mpsc::unbounded_channel();
        let (log_lines, log_rx) = mpsc::unbounded_channel();
        let fleet = Fleet {
            bin,
            env,
            app,
            workers: HashMap::new(),
            next_id: 0,
            events,
            log_lines,
            exits: Vec::new(),
            started: 0,
        };
        (fleet, events_rx, log_rx)
    }

    /// Workers not asked to stop.
    pub fn running(&self) -> u32 {
        self.workers
            .values()
            .filter(|w| w.stop_sent.is_none())
            .count() as u32
    }

    /// Workers alive, stopping ones included (billed, in ECS terms).
    pub fn alive(&self) -> u32 {
        self.workers.len() as u32
    }

    /// Records what a worker's log said.
    pub fn note(&mut self, event: &WorkerEvent) {
        match *event {
            WorkerEvent::Started { worker, .. } => {
                if let Some(w) = self.workers.get_mut(&worker) {
                    w.holding += 1;
                }
            }
            WorkerEvent::Processed { worker, .. } => {
                if let Some(w) = self.workers.get_mut(&worker) {
                    w.holding = w.holding.saturating_sub(1);
                }
            }
        }
    }

    fn spawn(&mut self) -> anyhow::Result<()> {
        let id = self.next_id;
        self.next_id += 1;
        let mut mode_env: Vec<(String, String)> = Vec::new();
        let mut app = None;
        match &self.app {
            LocalApp::BuiltIn => {}
            LocalApp::Http {
                command,
                health_path,
            } => {
                let port = free_port()?.to_string();
                app = Some(self.start_app(id, command, &port)?);
                mode_env.extend([
                    ("WORK_MODE".into(), "http".into()),
                    ("APP_PORT".into(), port),
                ]);
                if let Some(path) = health_path {
                    mode_env.push(("APP_HEALTH_PATH".into(), path.clone()));
                }
            }
            LocalApp::Exec { command } => {
                mode_env.extend([
                    ("WORK_MODE".into(), "exec".into()),
                    ("APP_COMMAND".into(), command.clone()),
                ]);
            }
        }
        let mut child = child_command(&self.bin)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(mode_env)
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        let stderr = child.stderr.take().context("worker stderr")?;
        let events = self.events.clone();
        let log_lines = self.log_lines.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                match parse_event(id, &line) {
                    Some(e) => {
                        let _ = events.send(e);
                    }
                    None => {
                        let _ = log_lines.send(format!("worker {id}: {line}"));
                    }
                }
            }
        });
        self.workers.insert(
            id,
            Worker {
                child,
                app,
                holding: 0,
                stop_sent: None,
            },
        );
        self.started += 1;
        Ok(())
    }

    /// Starts worker `id`'s application on `port`; its standard error goes to the log.
    fn start_app(&self, id: usize, command: &[String], port: &str) -> anyhow::Result<Child> {
        let (program, args) = command.split_first().context("an empty --app command")?;
        let mut child = child_command(program)
            .args(args)
            .env("APP_PORT", port)
            .spawn()
            .with_context(|| format!("starting the application {command:?}"))?;
        if let Some(stderr) = child.stderr.take() {
            let log_lines = self.log_lines.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let _ = log_lines.send(format!("app {id}: {line}"));
                }
            });
        }
        Ok(child)
    }

    fn sigterm(worker: &mut Worker) {
        if let Some(pid) = worker.child.id().and_then(|p| i32::try_from(p).ok()) {
            // Fails only for a worker that already exited; it is reaped either way.
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        worker.stop_sent = Some(Instant::now());
    }

    /// Brings the running workers to `desired`: starts new ones, or sends SIGTERM to idle ones (newest first).
    /// Busy workers are left until a later call finds them idle, as scale-in protection makes ECS do.
    pub fn scale_to(&mut self, desired: u32) -> anyhow::Result<()> {
        while self.running() < desired {
            self.spawn()?;
        }
        let mut idle: Vec<usize> = self
            .workers
            .iter()
            .filter(|(_, w)| w.stop_sent.is_none() && w.holding == 0)
            .map(|(id, _)| *id)
            .collect();
        idle.sort_unstable_by(|a, b| b.cmp(a));
        for id in idle {
            if self.running() <= desired {
                break;
            }
            if let Some(w) = self.workers.get_mut(&id) {
                Self::sigterm(w);
            }
        }
        Ok(())
    }

    /// Collects the workers that exited, and stops their applications (after the worker, as ECS stops the
    /// containers of a task in the reverse order of their dependencies).
    pub fn reap(&mut self) {
        let mut done = Vec::new();
        for (id, w) in &mut self.workers {
            if let Ok(Some(status)) = w.child.try_wait() {
                if let Some(app) = w.app.as_mut() {
                    let _ = app.start_kill();
                }
                self.exits.push(WorkerExit {
                    code: status.code(),
                    stop_secs: w.stop_sent.map(|t| t.elapsed().as_secs()),
                });
                done.push(*id);
            }
        }
        for id in done {
            self.workers.remove(&id);
        }
    }

    /// Stops every worker: SIGTERM, then SIGKILL for any still alive after `grace`. Leaves no process behind.
    pub async fn stop_all(&mut self, grace: Duration) {
        for w in self.workers.values_mut() {
            if w.stop_sent.is_none() {
                Self::sigterm(w);
            }
        }
        let deadline = Instant::now() + grace;
        while !self.workers.is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            self.reap();
        }
        for w in self.workers.values_mut() {
            let _ = w.child.kill().await;
        }
        self.reap();
        // Killed ones that try_wait has not seen yet.
        for (_, mut w) in self.workers.drain() {
            let status = w.child.wait().await.ok();
            self.exits.push(WorkerExit {
                code: status.and_then(|s| s.code()),
                stop_secs: w.stop_sent.map(|t| t.elapsed().as_secs()),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_per_message_events_and_ignores_other_lines() {
        let started = r#"{"timestamp":"t","level":"DEBUG","message":"started","message_id":"m","waited_ms":1500,"receive_count":1,"target":"message"}"#;
        assert_eq!(
            parse_event(3, started),
            Some(WorkerEvent::Started {
                worker: 3,
                waited_ms: Some(1500)
            })
        );
        let processed = r#"{"level":"DEBUG","message":"processed","message_id":"m","duration_secs":0.25,"target":"message"}"#;
        assert_eq!(
            parse_event(1, processed),
            Some(WorkerEvent::Processed {
                worker: 1,
                duration_secs: 0.25
            })
        );
        assert_eq!(
            parse_event(
                1,
                r#"{"message":"started","target":"queue_processor::app"}"#
            ),
            None
        );
        assert_eq!(parse_event(1, "not json"), None);
    }
}
