//! `bpi attach` and `bpi detach`: put this scaling on a service that already runs (its own cluster, service, queue
//! and worker), and take it off again, leaving the service's scaling as it was (core's [`bpi_core::attach`] says
//! what happens to each part).
//!
//! Attach also writes the service's sampler-stopped alarm (core's `sampler_stopped_alarm`: no reading for three
//! minutes, from a stopped sampler or this service's own queue failing), which a service deployed by the stack has
//! from the stack.
//!
//! Both are dry runs unless `--apply`: they print what the service has now and what they would change. Attach keeps
//! what it replaced in an SSM parameter (`/ecs-sqs-bpi/attached/CLUSTER/SERVICE`) before it changes anything, applies
//! the scaling set-up (`bpi scaling apply`'s) and registers the service with the fleet sampler and updater. Attaching
//! again changes nothing; detach puts back what the record holds, then deletes it.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use bpi_aws::AwsClients;
use bpi_aws::attach::{
    alarms_with_actions_enabled, put_saved_target_tracking, register_saved_target, scaling_state,
    set_alarm_actions,
};
use bpi_aws::autoscaling::{delete_policy, deregister_scalable_target};
use bpi_aws::cloudwatch::{
    alarm_description, delete_alarms, existing_alarms, put_watch_alarm, read_duration_stats,
};
use bpi_aws::scheduled::delete_scheduled_action;
use bpi_aws::ssm::{delete_parameter, parameter, put_parameter};
use bpi_core::attach::{
    AttachRecord, DEFAULT_ATTACHED_PATH, Fate, FoundPolicy, PlannedPart, ScalingState, attach_plan,
};
use bpi_core::config::{EnvSource, ProcessEnv, UpdaterConfig, registry_path};
use bpi_core::fleet::{DEFAULT_REGISTRY_PATH, entry_of_env, entry_parameter_name};
use bpi_core::forecast::{DeleteScheduledActionRequest, is_ours};
use clap::Args;
use serde::Serialize;

use crate::cli_error::CliError;
use crate::scaling::{self, ApplyReport};

/// `bpi attach` / `bpi detach` options.
#[derive(Args, Debug, Clone, Copy)]
pub struct AttachArgs {
    /// Make the changes (without it: a dry run that only shows them).
    #[arg(long)]
    pub apply: bool,
}

/// Where the workers' processing durations come from, as attach found them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MpdSource {
    /// The workers publish MsgProcessingDuration (the metric contract): MPD is measured.
    MetricContract,
    /// No worker publishes it: MPD is estimated by Little's law from the in-flight count and the deletions.
    LittlesLaw,
}

/// What `bpi attach` found and did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttachReport {
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// Whether a record of an earlier attach exists (then nothing of the service's own is touched again).
    pub already_attached: bool,
    /// What the service has, and what attach does to each part.
    pub plan: Vec<PlannedPart>,
    /// The bounds the scaling set-up uses (the service's own unless MIN_CAPACITY or MAX_CAPACITY say otherwise).
    pub bounds: (u32, u32),
    /// How MPD will be known.
    pub mpd_source: MpdSource,
    /// The parameter holding what attach replaced.
    pub record: String,
    /// The fleet registry entry.
    pub registry_entry: String,
    /// Whether the changes were made (false: a dry run).
    pub applied: bool,
    /// The scaling set-up applied, when applied.
    pub scaling: Option<ApplyReport>,
    /// Whether anything changed.
    pub changed: bool,
    /// What changes on a FIFO queue (empty for a standard one).
    pub fifo: Vec<String>,
}

/// What `bpi detach` found and did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetachReport {
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// This project's policies removed (or to remove).
    pub removed_policies: Vec<String>,
    /// This project's alarms removed (or to remove).
    pub removed_alarms: Vec<String>,
    /// The service's own target tracking policies put back.
    pub restored_policies: Vec<String>,
    /// The alarms whose actions are enabled again.
    pub enabled_alarms: Vec<String>,
    /// `restored` (bounds and suspended state as they were) or `deregistered` (there was none before).
    pub scalable_target: &'static str,
    /// Scheduled actions of the record that are no longer there (attach never removes one).
    pub missing_scheduled_actions: Vec<String>,
    /// The forecaster's scheduled actions removed (or to remove); the user's stay.
    pub removed_scheduled_actions: Vec<String>,
    /// Whether the changes were made (false: a dry run).
    pub applied: bool,
}

/// The process environment, with the service's own bounds where MIN_CAPACITY or MAX_CAPACITY are not given.
struct WithBounds(HashMap<&'static str, String>);

impl EnvSource for WithBounds {
    fn var(&self, name: &str) -> Option<String> {
        ProcessEnv
            .var(name)
            .filter(|v| !v.is_empty())
            .or_else(|| self.0.get(name).cloned())
    }
}

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::Usage(e.to_string())
}

/// The record's parameter for the service of `config`.
fn record_parameter(config: &UpdaterConfig) -> String {
    entry_parameter_name(
        DEFAULT_ATTACHED_PATH,
        &config.policy.cluster_name,
        &config.policy.service_name,
    )
}

/// The service's scaling, and the record of an earlier attach.
async fn read(
    clients: &AwsClients,
    config: &UpdaterConfig,
) -> Result<(ScalingState, Option<AttachRecord>), CliError> {
    let s = &config.policy;
    let state = scaling_state(
        &clients.autoscaling,
        &clients.cloudwatch,
        &s.resource_id(),
        &s.own_policy_names(),
    )
    .await
    .context("reading the service's scaling")?;
    let record = parameter(&clients.ssm, &record_parameter(config))
        .await
        .context("reading the attach record")?
        .map(|json| serde_json::from_str::<AttachRecord>(&json))
        .transpose()
        .context("the attach record is not one this version reads")?;
    Ok((state, record))
}

/// `bpi attach [--apply]`.
pub async fn attach(args: AttachArgs, clients: &AwsClients) -> Result<AttachReport, CliError> {
    let names = UpdaterConfig::from_env(&ProcessEnv).map_err(usage)?;
    let (state, record) = read(clients, &names).await?;
    let mut bounds = HashMap::new();
    if let Some(t) = record
        .as_ref()
        .and_then(|r| r.before.target.as_ref())
        .or(state.target.as_ref())
    {
        bounds.insert("MIN_CAPACITY", t.min_capacity.max(0).to_string());
        bounds.insert("MAX_CAPACITY", t.max_capacity.max(1).to_string());
    }
    let env = WithBounds(bounds);
    let config = UpdaterConfig::from_env(&env).map_err(usage)?;
    let registry = registry_path(&env)
        .map_err(usage)?
        .unwrap_or_else(|| DEFAULT_REGISTRY_PATH.to_string());
    let entry_name = entry_parameter_name(
        &registry,
        &config.policy.cluster_name,
        &config.policy.service_name,
    );
    let plan = attach_plan(&state);
    let durations = read_duration_stats(
        &clients.cloudwatch,
        &config.metrics,
        &config.policy.queue_name,
        Duration::from_secs(3600),
        SystemTime::now(),
    )
    .await
    .context("reading the workers' processing durations")?;
    let mut report = AttachReport {
        resource_id: state.resource_id.clone(),
        already_attached: record.is_some(),
        plan,
        bounds: (config.policy.min_capacity, config.policy.max_capacity),
        mpd_source: if durations.is_empty() {
            MpdSource::LittlesLaw
        } else {
            MpdSource::MetricContract
        },
        record: record_parameter(&config),
        registry_entry: entry_name.clone(),
        applied: false,
        scaling: None,
        changed: false,
        fifo: bpi_core::attach::fifo_notes(&config.policy.queue_name),
    };
    if let Some(blocking) = report.plan.iter().find(|p| p.fate == Fate::Blocks) {
        if args.apply {
            return Err(
                anyhow::anyhow!("not attached: policy {} {}", blocking.name, blocking.why).into(),
            );
        }
        return Ok(report);
    }
    if !args.apply {
        return Ok(report);
    }

    // 1. Keep what is replaced, before anything changes (an earlier record is never overwritten).
    let mut changed = false;
    if record.is_none() {
        let step_alarms: Vec<String> = state
            .policies
            .iter()
            .filter_map(|p| match p {
                FoundPolicy::Step { alarms, .. } => Some(alarms.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        let silenced = alarms_with_actions_enabled(&clients.cloudwatch, &step_alarms)
            .await
            .context("reading the step policies' alarms")?;
        let mut before = state.clone();
        before
            .policies
            .retain(|p| !matches!(p, FoundPolicy::Own { .. }));
        let record = AttachRecord {
            before,
            silenced_alarms: silenced.clone(),
        };
        put_parameter(
            &clients.ssm,
            &report.record,
            &serde_json::to_string(&record).map_err(anyhow::Error::from)?,
            "ecs-sqs-bpi: what bpi attach replaced, for bpi detach",
        )
        .await
        .context("keeping the attach record (nothing was changed)")?;
        // 2. Silence the step policies, remove the target tracking policies of the service's own.
        set_alarm_actions(&clients.cloudwatch, &silenced, false)
            .await
            .context("disabling the step policies' alarm actions")?;
        for t in record.replaced() {
            delete_policy(&clients.autoscaling, &state.resource_id, &t.policy_name)
                .await
                .with_context(|| format!("removing the policy {}", t.policy_name))?;
        }
        changed = true;
    }
    // 3. The scaling set-up, as `bpi scaling apply`.
    let applied = scaling::apply(clients, &config).await?;
    changed |= applied.changed;
    // 4. The alarm that says the sampler stopped reading this service (the stack's, for a service without one).
    let stopped = bpi_core::policy::sampler_stopped_alarm(&config.policy);
    if alarm_description(&clients.cloudwatch, &stopped.alarm_name)
        .await
        .context("reading the sampler-stopped alarm")?
        .as_deref()
        != Some(stopped.alarm_description.as_str())
    {
        put_watch_alarm(&clients.cloudwatch, &stopped)
            .await
            .context("writing the sampler-stopped alarm")?;
        changed = true;
    }
    // 5. The fleet's registry entry.
    let entry = entry_of_env(&env).map_err(usage)?;
    let value = serde_json::to_string(&entry.0).map_err(anyhow::Error::from)?;
    if parameter(&clients.ssm, &entry_name)
        .await
        .context("reading the registry entry")?
        != Some(value.clone())
    {
        put_parameter(
            &clients.ssm,
            &entry_name,
            &value,
            "ecs-sqs-bpi: a service the fleet sampler reads (bpi attach)",
        )
        .await
        .context("writing the registry entry")?;
        changed = true;
    }
    report.applied = true;
    report.scaling = Some(applied);
    report.changed = changed;
    Ok(report)
}

/// `bpi detach [--apply]`.
pub async fn detach(args: AttachArgs, clients: &AwsClients) -> Result<DetachReport, CliError> {
    let config = UpdaterConfig::from_env(&ProcessEnv).map_err(usage)?;
    let (state, record) = read(clients, &config).await?;
    let Some(record) = record else {
        return Err(anyhow::anyhow!(
            "{} is not attached: no record at {} (nothing to restore)",
            state.resource_id,
            record_parameter(&config)
        )
        .into());
    };
    let s = &config.policy;
    let removed_policies: Vec<String> = state
        .policies
        .iter()
        .filter(|p| matches!(p, FoundPolicy::Own { .. }))
        .map(|p| p.name().to_string())
        .collect();
    let removed_alarms = existing_alarms(&clients.cloudwatch, &s.alarm_names())
        .await
        .context("reading this project's alarms")?;
    let missing_scheduled_actions: Vec<String> = record
        .before
        .scheduled_actions
        .iter()
        .filter(|a| !is_ours(&a.name))
        .filter(|a| !state.scheduled_actions.iter().any(|b| b.name == a.name))
        .map(|a| a.name.clone())
        .collect();
    // The forecaster's actions go with the project; the user's are never touched.
    let removed_scheduled_actions: Vec<String> = state
        .scheduled_actions
        .iter()
        .filter(|a| is_ours(&a.name))
        .map(|a| a.name.clone())
        .collect();
    let report = DetachReport {
        resource_id: state.resource_id.clone(),
        removed_policies,
        removed_alarms,
        restored_policies: record.replaced().map(|t| t.policy_name.clone()).collect(),
        enabled_alarms: record.silenced_alarms.clone(),
        scalable_target: if record.before.target.is_some() {
            "restored"
        } else {
            "deregistered"
        },
        missing_scheduled_actions,
        removed_scheduled_actions,
        applied: args.apply,
    };
    if !args.apply {
        return Ok(report);
    }
    delete_alarms(&clients.cloudwatch, &report.removed_alarms)
        .await
        .context("removing this project's alarms")?;
    for p in &report.removed_policies {
        delete_policy(&clients.autoscaling, &state.resource_id, p)
            .await
            .with_context(|| format!("removing the policy {p}"))?;
    }
    for name in &report.removed_scheduled_actions {
        delete_scheduled_action(
            &clients.autoscaling,
            &DeleteScheduledActionRequest::new(&state.resource_id, name),
        )
        .await
        .with_context(|| format!("removing the forecaster's scheduled action {name}"))?;
    }
    match &record.before.target {
        Some(t) => register_saved_target(&clients.autoscaling, &state.resource_id, t)
            .await
            .context("restoring the scalable target")?,
        None => deregister_scalable_target(&clients.autoscaling, &state.resource_id)
            .await
            .context("deregistering the scalable target attach registered")?,
    }
    for t in record.replaced() {
        put_saved_target_tracking(&clients.autoscaling, &state.resource_id, t)
            .await
            .with_context(|| format!("putting back the policy {}", t.policy_name))?;
    }
    set_alarm_actions(&clients.cloudwatch, &record.silenced_alarms, true)
        .await
        .context("enabling the step policies' alarm actions")?;
    let registry = registry_path(&ProcessEnv)
        .map_err(usage)?
        .unwrap_or_else(|| DEFAULT_REGISTRY_PATH.to_string());
    delete_parameter(
        &clients.ssm,
        &entry_parameter_name(&registry, &s.cluster_name, &s.service_name),
    )
    .await
    .context("removing the registry entry")?;
    delete_parameter(&clients.ssm, &record_parameter(&config))
        .await
        .context("removing the attach record")?;
    Ok(report)
}
