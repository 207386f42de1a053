//! ECS task scale-in protection: while the task holds a message that could not finish within the drain grace after
//! SIGTERM (`SHUTDOWN_GRACE_SECS`), it asks the ECS agent not to pick it for scale-in or a deployment
//! (`PUT $ECS_AGENT_URI/task-protection/v1/state`), and clears that when it holds none, so neither ever cuts such a
//! message short. Messages that fit in the grace need no protection: SIGTERM's drain finishes them.
//!
//! Why not protect whenever busy: ECS does not stop protected tasks of the old revision in a rolling deployment,
//! and under a sustained backlog a task is never idle, so deployments never finished (ECS developer guide,
//! "Protect your Amazon ECS tasks from being terminated by scale-in events", considerations). Now a deployment
//! waits at most for the longest message that outlasts the grace.
//!
//! Toggled only on transitions (cleared after a short debounce, so a stream of long messages does not flap it),
//! renewed before it expires while needed. Skipped when `ECS_AGENT_URI` is unset.
//!
//! The agent speaks plain HTTP on a link-local address; a minimal HTTP/1.1 client keeps the worker free of an HTTP
//! client dependency.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{sleep, timeout};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::counters::Counters;
use bpi_aws::backoff::Backoff;

/// The IAM action the agent performs with the task role's credentials on a PUT to the endpoint (ECS developer
/// guide, "Amazon ECS task scale-in protection endpoint"; the worker never GETs, so it needs no
/// `ecs:GetTaskProtection`). Read by the IAM coverage test as this component's AWS operation.
pub const IAM_ACTION: &str = "ecs:UpdateTaskProtection";

/// Idle time before protection is cleared.
pub const IDLE_DEBOUNCE: Duration = Duration::from_secs(5);

/// A client of the ECS agent's task protection endpoint.
#[derive(Debug, Clone)]
pub struct TaskProtection {
    host_port: String,
    path: String,
    expires_minutes: u32,
}

impl TaskProtection {
    /// From `ECS_AGENT_URI` (`http://HOST[:PORT]/PATH`) and the protection expiry in minutes.
    pub fn new(agent_uri: &str, expires_minutes: u32) -> Result<Self, String> {
        let rest = agent_uri
            .strip_prefix("http://")
            .ok_or_else(|| format!("ECS_AGENT_URI {agent_uri:?} is not an http:// URL"))?;
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        if host.is_empty() {
            return Err(format!("ECS_AGENT_URI {agent_uri:?} has no host"));
        }
        let host_port = if host.contains(':') {
            host.to_string()
        } else {
            format!("{host}:80")
        };
        let path =
            format!("/{}/task-protection/v1/state", path.trim_end_matches('/')).replace("//", "/");
        Ok(TaskProtection {
            host_port,
            path,
            expires_minutes,
        })
    }

    /// The request body for a state.
    pub fn body(&self, enabled: bool) -> String {
        if enabled {
            format!(
                r#"{{"ProtectionEnabled":true,"ExpiresInMinutes":{}}}"#,
                self.expires_minutes
            )
        } else {
            r#"{"ProtectionEnabled":false}"#.to_string()
        }
    }

    /// Sets protection on or off. Errors on connection failure, a non-2xx status, or a `failure` in the body.
    pub async fn set(&self, enabled: bool) -> Result<(), String> {
        let body = self.body(enabled);
        let request = format!(
            "PUT {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
            self.path,
            self.host_port,
            body.len(),
            body
        );
        let exchange = async {
            let mut stream = TcpStream::connect(&self.host_port)
                .await
                .map_err(|e| e.to_string())?;
            stream
                .write_all(request.as_bytes())
                .await
                .map_err(|e| e.to_string())?;
            let mut response = Vec::new();
            stream
                .read_to_end(&mut response)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(String::from_utf8_lossy(&response).into_owned())
        };
        let response = timeout(Duration::from_secs(5), exchange)
            .await
            .map_err(|_| "ECS agent did not answer within 5 s".to_string())??;
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| "malformed response from the ECS agent".to_string())?;
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or_default();
        if !(200..300).contains(&status) || body.contains("\"failure\"") {
            return Err(format!("ECS agent answered {status}: {}", body.trim()));
        }
        Ok(())
    }

    async fn set_with_retries(&self, enabled: bool, counters: &Counters) -> bool {
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(2));
        for _ in 0..3 {
            Counters::bump(&counters.protection_requests);
            match self.set(enabled).await {
                Ok(()) => {
                    tracing::info!(enabled, "task scale-in protection set");
                    return true;
                }
                Err(e) => {
                    tracing::warn!(error = %e, enabled, "task scale-in protection call failed")
                }
            }
            sleep(backoff.next_delay()).await;
        }
        false
    }

    /// Follows the need for protection on `tracker` until `stop` is cancelled (or it can no longer change):
    /// protected while needed, cleared when not.
    pub fn spawn(
        self,
        tracker: &TaskTracker,
        stop: CancellationToken,
        mut busy: watch::Receiver<bool>,
        counters: Arc<Counters>,
    ) {
        tracker.spawn(stop.run_until_cancelled_owned(async move {
            let renew_every = Duration::from_secs(u64::from(self.expires_minutes) * 60 / 2)
                .max(Duration::from_secs(30));
            let mut protected = false;
            loop {
                let want = *busy.borrow_and_update();
                if want != protected {
                    if !want {
                        // Debounce: only clear after staying idle a moment.
                        tokio::select! {
                            changed = busy.changed() => { if changed.is_err() { return; } continue; }
                            _ = sleep(IDLE_DEBOUNCE) => {}
                        }
                    }
                    if self.set_with_retries(want, &counters).await {
                        protected = want;
                    }
                }
                tokio::select! {
                    changed = busy.changed() => if changed.is_err() { return; },
                    _ = sleep(renew_every), if protected => {
                        if self.set_with_retries(true, &counters).await {
                            tracing::debug!("task scale-in protection renewed");
                        }
                    }
                }
            }
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_agent_uri() {
        let p = TaskProtection::new("http://169.254.170.2/api/abc-123", 60).expect("valid");
        assert_eq!(p.host_port, "169.254.170.2:80");
        assert_eq!(p.path, "/api/abc-123/task-protection/v1/state");
        let p = TaskProtection::new("http://127.0.0.1:5000", 1).expect("valid");
        assert_eq!(
            (p.host_port.as_str(), p.path.as_str()),
            ("127.0.0.1:5000", "/task-protection/v1/state")
        );
        assert_eq!(
            p.body(true),
            r#"{"ProtectionEnabled":true,"ExpiresInMinutes":1}"#
        );
        assert_eq!(p.body(false), r#"{"ProtectionEnabled":false}"#);
        assert!(TaskProtection::new("https://x", 1).is_err());
        assert!(TaskProtection::new("http:///x", 1).is_err());
    }
}
