//! `bpi scaling apply|remove`: the scaling set-up a deploy applies after its stack, outside the stack (a stack that
//! owned the policy would fight the updater on every deploy, the blueprint's Terraform/Lambda ping-pong).
//!
//! `apply` registers the scalable target, then runs the updater's own decision (`target_bpi_updater::Updater`), so
//! a first deploy creates the canonical policy, a changed setting (latency, cooldowns, counting) moves or repairs
//! it, and a repeated deploy changes nothing. Beside it: the target tracking policy on task utilization, and the
//! step policies with their alarms: the fast path, the idle scale-in and the backstop; each is created, repaired
//! (when its alarm's description, which names its settings, differs) or removed as the settings say, and the
//! step policy that scaled from zero before the fast path did is removed where it is found. `remove` undoes all of it.

use std::time::SystemTime;

use anyhow::Context;
use bpi_aws::AwsClients;
use bpi_aws::autoscaling::{
    delete_policy, deregister_scalable_target, describe_target_tracking_policy, policy_names,
    put_step_policy, put_target_tracking_policy, register_scalable_target, scalable_target_bounds,
};
use bpi_aws::cloudwatch::{alarm_description, delete_alarms, existing_alarms, put_alarm};
use bpi_core::config::UpdaterConfig;
use bpi_core::policy::{
    PolicySettings, StepPolicySpec, backstop_spec, fast_path_spec, idle_spec, scale_in_spec,
    scaling_spec, utilization_policy,
};
use serde::Serialize;
use target_bpi_updater::{DecisionRecord, Updater, WhenUnmeasured};

/// What `apply` did to one part of the set-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PartOutcome {
    /// Not wanted and not there.
    Absent,
    /// Written where there was none.
    Created,
    /// Rewritten: a piece was missing or differed from the spec.
    Updated,
    /// Already as the spec says.
    Unchanged,
    /// Not wanted any more, and deleted.
    Removed,
}

impl PartOutcome {
    /// Whether the part changed on AWS.
    pub fn changed(self) -> bool {
        matches!(
            self,
            PartOutcome::Created | PartOutcome::Updated | PartOutcome::Removed
        )
    }
}

/// What `apply` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApplyReport {
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// (min, max) before, if registered.
    pub old_bounds: Option<(i32, i32)>,
    /// (min, max) now.
    pub bounds: (u32, u32),
    /// The updater's decision on the target tracking policy.
    pub policy: DecisionRecord,
    /// The fast path.
    pub fast_path: PartOutcome,
    /// The backstop.
    pub backstop: PartOutcome,
    /// The step policy that scaled from zero before the fast path did (deployments before the sampler wrote it):
    /// `absent`, or `removed` where an earlier deploy left one.
    pub retired_scale_from_zero: PartOutcome,
    /// The target tracking policy on task utilization.
    pub utilization: PartOutcome,
    /// The idle scale-in policy.
    pub idle: PartOutcome,
    /// The fast scale-in policy.
    pub scale_in: PartOutcome,
    /// Whether anything changed.
    pub changed: bool,
}

/// Applies the scaling set-up for `config`.
pub async fn apply(clients: &AwsClients, config: &UpdaterConfig) -> anyhow::Result<ApplyReport> {
    let s = &config.policy;
    let resource_id = s.resource_id();
    let spec = scaling_spec(s, 1.0);
    let old_bounds = scalable_target_bounds(&clients.autoscaling, &resource_id).await?;
    let bounds = (s.min_capacity, s.max_capacity);
    let bounds_i32 = (
        i32::try_from(bounds.0).unwrap_or(i32::MAX),
        i32::try_from(bounds.1).unwrap_or(i32::MAX),
    );
    if old_bounds != Some(bounds_i32) {
        register_scalable_target(&clients.autoscaling, &spec.scalable_target)
            .await
            .context("registering the scalable target (does the ECS service exist?)")?;
    }
    // A deploy applies its settings now: with too few samples the default MPD is used, so a changed latency moves
    // the target (the scheduled updater keeps the target in force instead).
    let policy = Updater::new(clients.clone(), config.clone())
        .when_unmeasured(WhenUnmeasured::UseDefaultMpd)
        .run(SystemTime::now(), false)
        .await
        .context("applying the target tracking policy")?;

    let existing = policy_names(&clients.autoscaling, &resource_id).await?;
    let step = |name: String, wanted: Option<StepPolicySpec>| {
        let existing = &existing;
        async move { apply_step_policy(clients, s, existing, &name, wanted).await }
    };
    let fast_path = step(s.fast_path_policy_name(), Some(fast_path_spec(s))).await?;
    let idle = step(s.idle_policy_name(), idle_spec(s)).await?;
    let scale_in = step(s.scale_in_policy_name(), scale_in_spec(s)).await?;
    let backstop = step(s.backstop_policy_name(), Some(backstop_spec(s))).await?;
    let retired_scale_from_zero = step(s.retired_scale_from_zero_policy_name(), None).await?;
    let utilization = apply_utilization(clients, &resource_id, &existing, s).await?;
    let changed = old_bounds != Some(bounds_i32)
        || policy.updated
        || [
            fast_path,
            idle,
            scale_in,
            backstop,
            retired_scale_from_zero,
            utilization,
        ]
        .iter()
        .any(|part| part.changed());
    Ok(ApplyReport {
        resource_id,
        old_bounds,
        bounds,
        policy,
        fast_path,
        backstop,
        retired_scale_from_zero,
        utilization,
        idle,
        scale_in,
        changed,
    })
}

/// Creates, repairs or removes the target tracking policy on task utilization.
async fn apply_utilization(
    clients: &AwsClients,
    resource_id: &str,
    existing: &[String],
    s: &PolicySettings,
) -> anyhow::Result<PartOutcome> {
    let name = s.utilization_policy_name();
    let current = describe_target_tracking_policy(&clients.autoscaling, resource_id, &name).await?;
    Ok(match (utilization_policy(s), current) {
        (Some(wanted), Some(current))
            if current.same_except_target(&wanted.target_tracking_scaling_policy_configuration)
                && (current.target_value
                    - wanted
                        .target_tracking_scaling_policy_configuration
                        .target_value)
                    .abs()
                    < 1e-9 =>
        {
            PartOutcome::Unchanged
        }
        (Some(wanted), current) => {
            put_target_tracking_policy(&clients.autoscaling, &wanted)
                .await
                .context("writing the utilization policy")?;
            if current.is_some() {
                PartOutcome::Updated
            } else {
                PartOutcome::Created
            }
        }
        (None, _) if existing.contains(&name) => {
            delete_policy(&clients.autoscaling, resource_id, &name).await?;
            PartOutcome::Removed
        }
        (None, _) => PartOutcome::Absent,
    })
}

/// Creates, rewrites (when a piece is missing or its alarm's description differs from the spec's) or removes one
/// alarm-driven step policy.
async fn apply_step_policy(
    clients: &AwsClients,
    s: &PolicySettings,
    existing: &[String],
    name: &str,
    wanted: Option<StepPolicySpec>,
) -> anyhow::Result<PartOutcome> {
    let has_policy = existing.iter().any(|p| p == name);
    let alarm = s.alarm_name(name);
    let description = alarm_description(&clients.cloudwatch, &alarm).await?;
    let has_alarm = description.is_some();
    Ok(match wanted {
        Some(spec)
            if has_policy
                && description.as_deref() == Some(spec.alarm.alarm_description.as_str()) =>
        {
            PartOutcome::Unchanged
        }
        Some(spec) => {
            let arn = put_step_policy(&clients.autoscaling, &spec.policy)
                .await
                .with_context(|| format!("writing the step policy {name}"))?;
            put_alarm(&clients.cloudwatch, &spec.alarm, &arn)
                .await
                .with_context(|| format!("writing the alarm {name}"))?;
            if has_policy {
                PartOutcome::Updated
            } else {
                PartOutcome::Created
            }
        }
        None if has_policy || has_alarm => {
            delete_alarms(&clients.cloudwatch, &[alarm]).await?;
            delete_policy(&clients.autoscaling, &s.resource_id(), name).await?;
            PartOutcome::Removed
        }
        None => PartOutcome::Absent,
    })
}

/// What `remove` deleted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemoveReport {
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// Policies deleted.
    pub policies: Vec<String>,
    /// Alarms deleted.
    pub alarms: Vec<String>,
    /// Whether a scalable target was deregistered.
    pub scalable_target: bool,
}

/// Removes the scaling set-up: its alarms, every policy on the service, the scalable target.
pub async fn remove(clients: &AwsClients, config: &UpdaterConfig) -> anyhow::Result<RemoveReport> {
    let s = &config.policy;
    let resource_id = s.resource_id();
    let alarms = existing_alarms(&clients.cloudwatch, &s.alarm_names()).await?;
    delete_alarms(&clients.cloudwatch, &alarms).await?;
    let policies = policy_names(&clients.autoscaling, &resource_id).await?;
    for p in &policies {
        delete_policy(&clients.autoscaling, &resource_id, p).await?;
    }
    let registered = scalable_target_bounds(&clients.autoscaling, &resource_id)
        .await?
        .is_some();
    if registered {
        deregister_scalable_target(&clients.autoscaling, &resource_id).await?;
    }
    Ok(RemoveReport {
        resource_id,
        policies,
        alarms,
        scalable_target: registered,
    })
}
