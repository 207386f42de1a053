//! Exec mode: each message runs the user's command (no shell) with the body on standard input and the message's
//! metadata in the environment:
//! `SQS_MESSAGE_ID`, `SQS_QUEUE`, `SQS_RECEIVE_COUNT`, `SQS_FIRST_RECEIVED_AT` and `SQS_SENT_AT` (RFC 3339, UTC;
//! absent when SQS did not say), `SQS_MESSAGE_GROUP_ID` and `SQS_SEQUENCE_NUMBER` (when the message has them: a
//! FIFO queue's).
//!
//! Exit 0 completes the message; a non-zero exit, a signal or `APP_TIMEOUT_SECS` (the command is then killed)
//! leave it for retry. A command that cannot start (missing, not executable) means the application is not there:
//! the message is handed back at once and the worker stops receiving. Each line the command writes (standard
//! output and error) goes to the worker's log with the message id.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use bpi_core::config::ExecApp;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::Command;

use crate::work::{BodyFormat, Delivery, Work, WorkError, rfc3339_utc};

/// Log target of the command's output lines.
pub const APP_LOG_TARGET: &str = "app";

/// Runs a command per message.
#[derive(Debug, Clone)]
pub struct ExecWork {
    app: ExecApp,
    queue_name: String,
}

impl ExecWork {
    /// The command of `app`, for messages of `queue_name`.
    pub fn new(app: ExecApp, queue_name: &str) -> Self {
        ExecWork {
            app,
            queue_name: queue_name.to_string(),
        }
    }
}

/// Where `program` is found: itself when it names a path, else the first executable match on `PATH`.
fn resolve(program: &str) -> Option<PathBuf> {
    let executable = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return executable(&p).then_some(p);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| executable(p))
    })
}

/// Sends each line of `stream` to the log with the message id.
async fn log_lines(stream: impl AsyncRead + Unpin, message_id: String, stream_name: &'static str) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::info!(target: APP_LOG_TARGET, message_id, stream = stream_name, "{line}");
    }
}

/// Runs `words` with `stdin` as input and `env` set, until it exits or `timeout`.
async fn run(
    words: &[String],
    stdin: &[u8],
    env: Vec<(&'static str, String)>,
    timeout: Duration,
    message_id: &str,
) -> Result<(), WorkError> {
    let (program, args) = words
        .split_first()
        .ok_or_else(|| WorkError::unavailable("no command"))?;
    let mut child = Command::new(program)
        .args(args)
        .envs(env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Aborted (the drain's grace ended, or a timeout): the command is killed with it.
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| WorkError::unavailable(format!("cannot start {program:?}: {e}")))?;
    let out = child
        .stdout
        .take()
        .map(|s| tokio::spawn(log_lines(s, message_id.to_string(), "stdout")));
    let err = child
        .stderr
        .take()
        .map(|s| tokio::spawn(log_lines(s, message_id.to_string(), "stderr")));
    if let Some(mut input) = child.stdin.take() {
        // A command that does not read its input closes the pipe: that is not a failure of the message.
        let _ = input.write_all(stdin).await;
        drop(input);
    }
    let status = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(status) => {
            status.map_err(|e| WorkError::new(format!("waiting for {program:?}: {e}")))?
        }
        Err(_) => {
            let _ = child.kill().await;
            return Err(WorkError::new(format!(
                "{program:?} ran past APP_TIMEOUT_SECS={} and was killed",
                timeout.as_secs()
            )));
        }
    };
    for task in [out, err].into_iter().flatten() {
        let _ = task.await;
    }
    if status.success() {
        Ok(())
    } else {
        Err(WorkError::new(format!("{program:?} failed: {status}")))
    }
}

impl Work for ExecWork {
    fn body_format(&self) -> BodyFormat {
        BodyFormat::Any
    }

    async fn process(&self, delivery: &Delivery) -> Result<(), WorkError> {
        let mut env = vec![
            ("SQS_MESSAGE_ID", delivery.message_id.clone()),
            ("SQS_QUEUE", self.queue_name.clone()),
            ("SQS_RECEIVE_COUNT", delivery.receive_count.to_string()),
        ];
        if let Some(ms) = delivery.first_received_at_ms {
            env.push(("SQS_FIRST_RECEIVED_AT", rfc3339_utc(ms)));
        }
        if let Some(ms) = delivery.sent_at_ms {
            env.push(("SQS_SENT_AT", rfc3339_utc(ms)));
        }
        if let Some(group) = &delivery.group_id {
            env.push(("SQS_MESSAGE_GROUP_ID", group.clone()));
        }
        if let Some(sequence) = &delivery.sequence_number {
            env.push(("SQS_SEQUENCE_NUMBER", sequence.clone()));
        }
        run(
            &self.app.command,
            delivery.body.as_bytes(),
            env,
            Duration::from_secs(u64::from(self.app.timeout_secs)),
            &delivery.message_id,
        )
        .await
    }

    fn readiness_interval(&self) -> Option<Duration> {
        Some(Duration::from_secs(u64::from(
            self.app.health_interval_secs,
        )))
    }

    async fn check_ready(&self) -> Result<(), WorkError> {
        match &self.app.health_command {
            Some(words) => run(words, b"", Vec::new(), Duration::from_secs(10), "readiness")
                .await
                .map_err(|e| WorkError::unavailable(format!("APP_HEALTH_COMMAND: {e}"))),
            None => {
                let program = &self.app.command[0];
                resolve(program).map(|_| ()).ok_or_else(|| {
                    WorkError::unavailable(format!(
                        "APP_COMMAND's program {program:?} is not an executable file"
                    ))
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(command: &[&str]) -> ExecWork {
        ExecWork::new(
            ExecApp {
                command: command.iter().map(|s| (*s).to_string()).collect(),
                health_command: None,
                timeout_secs: 2,
                health_interval_secs: 5,
            },
            "q",
        )
    }

    fn delivery(body: &str) -> Delivery {
        Delivery {
            message_id: "m-1".into(),
            body: body.into(),
            receive_count: 2,
            sent_at_ms: Some(0),
            first_received_at_ms: None,
            group_id: None,
            sequence_number: None,
            message: None,
        }
    }

    #[tokio::test]
    async fn exit_status_decides_and_the_body_and_metadata_reach_the_command() {
        let check = r#"[ "$(cat)" = "hello" ] && [ "$SQS_MESSAGE_ID" = m-1 ] && [ "$SQS_RECEIVE_COUNT" = 2 ] && [ "$SQS_SENT_AT" = 1970-01-01T00:00:00.000Z ] && [ -z "$SQS_FIRST_RECEIVED_AT" ]"#;
        let w = work(&["sh", "-c", check]);
        w.process(&delivery("hello"))
            .await
            .expect("matching input exits 0");
        let e = w.process(&delivery("other")).await.expect_err("exit 1");
        assert_eq!(e.kind(), crate::work::FailureKind::Failed);
    }

    #[tokio::test]
    async fn a_timeout_kills_and_a_missing_program_is_unavailable() {
        let slow = work(&["sleep", "30"]);
        let started = std::time::Instant::now();
        let e = slow.process(&delivery("")).await.expect_err("timed out");
        assert!(started.elapsed() < Duration::from_secs(5), "{e}");
        assert_eq!(e.kind(), crate::work::FailureKind::Failed);
        let missing = work(&["/nonexistent/worker"]);
        let e = missing
            .process(&delivery(""))
            .await
            .expect_err("cannot start");
        assert_eq!(e.kind(), crate::work::FailureKind::Unavailable);
        assert!(missing.check_ready().await.is_err());
        assert!(work(&["sh"]).check_ready().await.is_ok());
    }
}
