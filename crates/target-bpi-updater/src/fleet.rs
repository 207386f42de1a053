//! The updater over a registry (fleet mode, `FLEET_REGISTRY_PATH`): each run reads the registry and runs the one
//! updater's decision for every service in turn. A service whose run fails is recorded and logged; the others go
//! on, and the next run tries it again.

use std::time::SystemTime;

use bpi_aws::AwsClients;
use bpi_aws::ssm::registry;
use serde::Serialize;

use crate::{DecisionRecord, KeepAliveRecord, RunKind, Updater};

/// What one run did for one service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceDecision {
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// The updater's decision, when a whole run succeeded.
    pub decision: Option<DecisionRecord>,
    /// The keep-alive's, when a keep-alive run succeeded.
    pub keep_alive: Option<KeepAliveRecord>,
    /// Why its run failed, if it did.
    pub error: Option<String>,
}

/// What a fleet run did: returned by the handler and logged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetDecisions {
    /// Each registered service's outcome.
    pub services: Vec<ServiceDecision>,
    /// Registry entries refused (each names the parameter and the setting).
    pub invalid_entries: Vec<String>,
}

/// The updater of every service under a registry path.
#[derive(Debug, Clone)]
pub struct FleetUpdater {
    clients: AwsClients,
    registry_path: String,
}

impl FleetUpdater {
    /// An updater of the services registered under `registry_path`.
    pub fn new(clients: AwsClients, registry_path: String) -> Self {
        FleetUpdater {
            clients,
            registry_path,
        }
    }

    /// One run of `kind` over the registry. Fails only when the registry cannot be read.
    pub async fn run(
        &self,
        now: SystemTime,
        dry_run: bool,
        kind: RunKind,
    ) -> Result<FleetDecisions, bpi_aws::AwsError> {
        let r = registry(&self.clients.ssm, &self.registry_path, 1, 1).await?;
        let mut services = Vec::with_capacity(r.services.len());
        for config in r.services {
            let resource_id = config.scaling.policy.resource_id();
            let updater = Updater::new(self.clients.clone(), config.scaling);
            let outcome = match kind {
                RunKind::Full => updater.run(now, dry_run).await.map(|d| (Some(d), None)),
                RunKind::KeepAlive => updater
                    .run_keep_alive(now, dry_run)
                    .await
                    .map(|k| (None, Some(k))),
            };
            services.push(match outcome {
                Ok((decision, keep_alive)) => ServiceDecision {
                    resource_id,
                    decision,
                    keep_alive,
                    error: None,
                },
                Err(e) => {
                    tracing::error!(service = %resource_id, error = %e, "updating this service failed; the others go on");
                    ServiceDecision {
                        resource_id,
                        decision: None,
                        keep_alive: None,
                        error: Some(e.to_string()),
                    }
                }
            });
        }
        let record = FleetDecisions {
            services,
            invalid_entries: r.invalid,
        };
        tracing::info!(
            services = record.services.len(),
            failed = record.services.iter().filter(|s| s.error.is_some()).count(),
            invalid_entries = record.invalid_entries.len(),
            "fleet updater run"
        );
        Ok(record)
    }
}
