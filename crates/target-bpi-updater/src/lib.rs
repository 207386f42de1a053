//! # target-bpi-updater
//!
//! The scheduled Lambda that keeps the scaling target honest. Each run reads `MsgProcessingDuration` statistic sets
//! (Sum, SampleCount; 1-minute periods; NextToken followed) over the window, estimates MPD as ΣSum / ΣSampleCount,
//! computes ecsTargetBPI with core, describes the service's policy by name and resource id, and writes core's
//! canonical policy only when the target moved by the hysteresis, or the policy is missing or has drifted. It
//! publishes `ecsTargetBPI` and `ecsMPD` and returns one decision record:
//! `{mpd, samples, window_secs, old_target, new_target, updated, reason, ...}`.
//!
//! With `FLEET_REGISTRY_PATH` set, one function updates every service registered under that SSM path ([`fleet`]).
//!
//! Invocation payload: the scheduled event, `{}`, or `{"dry_run": true}` to see the decision without acting;
//! `{"run": "keep-alive"}` (the keep-alive's own schedule, every 5 minutes) runs only the keep-alive.

pub mod fleet;
pub mod port;
pub mod updater;

use serde::Deserialize;
use serde_json::Value;

pub use fleet::{FleetDecisions, FleetUpdater, ServiceDecision};
pub use port::UpdaterPort;
pub use updater::{DecisionRecord, KeepAliveRecord, Updater, WhenUnmeasured};

/// A hand invocation's options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    /// Decide, but write and publish nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Which run.
    #[serde(default)]
    pub run: RunKind,
}

/// What one invocation runs: the updater has two schedules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunKind {
    /// The whole run (the hourly schedule): MPD and the target, the forecaster, the keep-alive.
    #[default]
    Full,
    /// The keep-alive alone (its own schedule, every few minutes).
    KeepAlive,
}

/// A payload that is neither a scheduled event nor a valid request.
#[derive(Debug, thiserror::Error)]
#[error("invalid updater request (expected a scheduled event, {{}} or {{\"dry_run\": true}}): {0}")]
pub struct RequestError(String);

impl UpdateRequest {
    /// Reads a payload: an EventBridge event (it has `detail-type`) or null means a normal run.
    pub fn from_payload(payload: &Value) -> Result<Self, RequestError> {
        match payload {
            Value::Null => Ok(UpdateRequest::default()),
            Value::Object(fields) if fields.contains_key("detail-type") => {
                Ok(UpdateRequest::default())
            }
            _ => serde_json::from_value(payload.clone()).map_err(|e| RequestError(e.to_string())),
        }
    }
}

/// What an updater function serves: the one service of its settings, or a registry's services.
#[derive(Debug)]
pub enum AnyUpdater {
    /// One service (CLUSTER_NAME, SERVICE_NAME, QUEUE_NAME).
    Single(Box<Updater>),
    /// Every service of the registry (FLEET_REGISTRY_PATH).
    Fleet(FleetUpdater),
}

impl AnyUpdater {
    /// One invocation: the single service's decision record, or the fleet's. The handlers' futures are boxed: the
    /// two together are too deep a type for the compiler's default limit.
    pub async fn handle(&self, payload: Value) -> Result<Value, lambda_runtime::Error> {
        let request = UpdateRequest::from_payload(&payload)?;
        Ok(match self {
            AnyUpdater::Single(u) if request.run == RunKind::KeepAlive => serde_json::to_value(
                u.run_keep_alive(std::time::SystemTime::now(), request.dry_run)
                    .await?,
            )?,
            AnyUpdater::Single(u) => serde_json::to_value(Box::pin(handler(u, payload)).await?)?,
            AnyUpdater::Fleet(f) => {
                serde_json::to_value(Box::pin(fleet_handler(f, payload)).await?)?
            }
        })
    }
}

/// The fleet handler: one run over the registry. A failed read of the registry fails the invocation; a failing
/// service is in the record.
pub async fn fleet_handler(
    updater: &FleetUpdater,
    payload: Value,
) -> Result<FleetDecisions, lambda_runtime::Error> {
    let request = UpdateRequest::from_payload(&payload)?;
    Ok(updater
        .run(std::time::SystemTime::now(), request.dry_run, request.run)
        .await?)
}

/// The Lambda handler. Errors (AWS failures, bad payloads) fail the invocation, so the schedule's retry and the
/// function's error metrics see them; no policy is written on any error path.
pub async fn handler(
    updater: &Updater,
    payload: Value,
) -> Result<DecisionRecord, lambda_runtime::Error> {
    let request = UpdateRequest::from_payload(&payload)?;
    Ok(updater
        .run(std::time::SystemTime::now(), request.dry_run)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_scheduled_events_and_dry_runs() {
        let scheduled =
            json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
        let full = |dry_run| UpdateRequest {
            dry_run,
            run: RunKind::Full,
        };
        assert_eq!(
            UpdateRequest::from_payload(&scheduled).expect("valid"),
            full(false)
        );
        assert_eq!(
            UpdateRequest::from_payload(&json!({})).expect("valid"),
            full(false)
        );
        assert_eq!(
            UpdateRequest::from_payload(&json!({"dry_run": true})).expect("valid"),
            full(true)
        );
        assert_eq!(
            UpdateRequest::from_payload(&json!({"run": "keep-alive"})).expect("valid"),
            UpdateRequest {
                dry_run: false,
                run: RunKind::KeepAlive
            },
            "the keep-alive schedule's constant input"
        );
        assert!(UpdateRequest::from_payload(&json!({"run": "forecast"})).is_err());
        assert!(UpdateRequest::from_payload(&json!({"dryrun": true})).is_err());
        assert!(UpdateRequest::from_payload(&json!("go")).is_err());
    }
}
