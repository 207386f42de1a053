//! The updater over a registry (fleet mode, `FLEET_REGISTRY_PATH`): each run reads the registry and runs the one
//! updater's decision for every service in turn. A service whose run fails is recorded and logged; the others go
//! on, and the next run tries it again.

use std::time::SystemTime;

use bpi_aws::AwsClients;
use bpi_aws::ssm::registry;
use serde::Serialize;

use crate::{DecisionRecord, Updater};

/// What one run did for one service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceDecision {
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// The updater's decision, when its run succeeded.
    pub decision: Option<DecisionRecord>,
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

    /// One run over the registry. Fails only when the registry cannot be read.
    pub async fn run(
        &self,
        now: SystemTime,
        dry_run: bool,
    ) -> Result<FleetDecisions, bpi_aws::AwsError> {
        let r = registry(&self.clients.ssm, &self.registry_path, 1, 1).await?;
        let mut services = Vec::with_capacity(r.services.len());
        for config in r.services {
            let resource_id = config.scaling.policy.resource_id();
            let outcome = Updater::new(self.clients.clone(), config.scaling)
                .run(now, dry_run)
                .await;
            services.push(match outcome {
                Ok(decision) => ServiceDecision {
                    resource_id,
                    decision: Some(decision),
                    error: None,
                },
                Err(e) => {
                    tracing::error!(service = %resource_id, error = %e, "updating this service failed; the others go on");
                    ServiceDecision {
                        resource_id,
                        decision: None,
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
