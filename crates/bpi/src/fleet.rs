//! `bpi fleet add|remove|list`: the registry a fleet sampler reads (core's [`bpi_core::fleet`]). `add` writes the
//! service of the current settings (the same variables `bpi scaling apply` reads) as its entry, checked first as
//! the sampler would check it; `remove` deletes the entry; `list` shows every entry and whether the sampler takes it.
//! The registry path is `FLEET_REGISTRY_PATH`, or core's default.

use anyhow::Context;
use bpi_aws::AwsClients;
use bpi_aws::ssm::{delete_parameter, parameters_under, put_parameter};
use bpi_core::config::{EnvSource, ProcessEnv};
use bpi_core::fleet::{DEFAULT_REGISTRY_PATH, entry_of_env, entry_parameter_name, parse_entry};
use clap::Subcommand;
use serde::Serialize;

use crate::cli_error::CliError;

/// What `bpi fleet` does.
#[derive(Subcommand, Debug)]
pub enum FleetAction {
    /// Register the service of the current settings (CLUSTER_NAME, SERVICE_NAME, QUEUE_NAME, ...) with the fleet
    /// sampler: it is read from the sampler's next run on.
    Add,
    /// Remove the service of CLUSTER_NAME and SERVICE_NAME from the registry: its readings stop at the next run.
    Remove,
    /// List the registry: every entry, and why the sampler refuses any it refuses.
    List,
}

/// One registry entry as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListedEntry {
    /// The parameter.
    pub parameter: String,
    /// `service/CLUSTER/SERVICE` when the sampler takes it.
    pub resource_id: Option<String>,
    /// Why the sampler refuses it.
    pub error: Option<String>,
}

/// What a `bpi fleet` command did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum FleetReport {
    /// The entry written (`changed` false when it already held these settings).
    Added {
        /// The parameter.
        parameter: String,
        /// Whether its value changed.
        changed: bool,
    },
    /// The entry deleted (`existed` false when there was none).
    Removed {
        /// The parameter.
        parameter: String,
        /// Whether it existed.
        existed: bool,
    },
    /// The registry.
    Listed {
        /// Its path.
        path: String,
        /// Its entries.
        entries: Vec<ListedEntry>,
    },
}

/// The registry path of the settings.
fn registry_path() -> Result<String, CliError> {
    Ok(bpi_core::config::registry_path(&ProcessEnv)
        .map_err(|e| CliError::Usage(e.to_string()))?
        .unwrap_or_else(|| DEFAULT_REGISTRY_PATH.to_string()))
}

/// A setting that must be given.
fn required(name: &str) -> Result<String, CliError> {
    ProcessEnv
        .var(name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| CliError::Usage(format!("missing setting {name}")))
}

/// Runs one `bpi fleet` action.
pub async fn run(action: &FleetAction, clients: &AwsClients) -> Result<FleetReport, CliError> {
    let path = registry_path()?;
    match action {
        FleetAction::Add => {
            let entry = entry_of_env(&ProcessEnv).map_err(|e| CliError::Usage(e.to_string()))?;
            let cluster = required("CLUSTER_NAME")?;
            let service = required("SERVICE_NAME")?;
            let parameter = entry_parameter_name(&path, &cluster, &service);
            let value = serde_json::to_string(&entry.0).map_err(anyhow::Error::from)?;
            let current = bpi_aws::ssm::parameter(&clients.ssm, &parameter)
                .await
                .context("reading the registry entry")?;
            let changed = current.as_deref() != Some(value.as_str());
            if changed {
                put_parameter(
                    &clients.ssm,
                    &parameter,
                    &value,
                    "ecs-sqs-bpi: a service the fleet sampler reads (bpi fleet add)",
                )
                .await
                .context("writing the registry entry")?;
            }
            Ok(FleetReport::Added { parameter, changed })
        }
        FleetAction::Remove => {
            let parameter = entry_parameter_name(
                &path,
                &required("CLUSTER_NAME")?,
                &required("SERVICE_NAME")?,
            );
            let existed = delete_parameter(&clients.ssm, &parameter)
                .await
                .context("deleting the registry entry")?;
            Ok(FleetReport::Removed { parameter, existed })
        }
        FleetAction::List => {
            let (parameters, _) = parameters_under(&clients.ssm, &path)
                .await
                .context("reading the registry")?;
            let entries = parameters
                .into_iter()
                .map(|p| match parse_entry(&path, &p.name, &p.value, 1, 1) {
                    Ok(e) => ListedEntry {
                        parameter: p.name,
                        resource_id: Some(e.config.scaling.policy.resource_id()),
                        error: None,
                    },
                    Err(e) => ListedEntry {
                        parameter: p.name,
                        resource_id: None,
                        error: Some(e.to_string()),
                    },
                })
                .collect();
            Ok(FleetReport::Listed { path, entries })
        }
    }
}
