//! `bpi scaling apply|remove`: the scaling set-up a deploy applies after its stack, outside the stack (a stack that
//! owned the policy would fight the updater on every deploy, the blueprint's Terraform/Lambda ping-pong).
//!
//! `apply` registers the scalable target, then runs the updater's own decision (`target_bpi_updater::Updater`), so
//! a first deploy creates the canonical policy, a changed setting (latency, cooldowns, counting) moves or repairs
//! it, and a repeated deploy changes nothing; with a minimum of 0 it adds the scale-from-zero step policy and its
//! alarm, and removes them again when the minimum is raised. `remove` undoes all of it.

use std::time::SystemTime;

use anyhow::Context;
use bpi_aws::AwsClients;
use bpi_aws::autoscaling::{
    delete_policy, deregister_scalable_target, policy_names, put_step_policy,
    register_scalable_target, scalable_target_bounds,
};
use bpi_aws::cloudwatch::{delete_alarms, existing_alarms, put_alarm};
use bpi_core::config::UpdaterConfig;
use bpi_core::policy::{activation_spec, scaling_spec};
use serde::Serialize;
use target_bpi_updater::{DecisionRecord, Updater, WhenUnmeasured};

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
    /// The scale-from-zero policy: `absent`, `created`, `updated`, `unchanged` or `removed`.
    pub activation: &'static str,
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

    let activation_name = s.activation_policy_name();
    let existing = policy_names(&clients.autoscaling, &resource_id).await?;
    let has_policy = existing.contains(&activation_name);
    let has_alarm = !existing_alarms(&clients.cloudwatch, std::slice::from_ref(&activation_name))
        .await?
        .is_empty();
    let activation = if s.min_capacity == 0 {
        // Its steps are sized by the target: rewritten when the target moved.
        if has_policy && has_alarm && !policy.updated {
            "unchanged"
        } else {
            let act = activation_spec(s, policy.new_target);
            let arn = put_step_policy(&clients.autoscaling, &act.policy).await?;
            put_alarm(&clients.cloudwatch, &act.alarm, &arn).await?;
            if has_policy { "updated" } else { "created" }
        }
    } else if has_policy || has_alarm {
        delete_alarms(&clients.cloudwatch, std::slice::from_ref(&activation_name)).await?;
        delete_policy(&clients.autoscaling, &resource_id, &activation_name).await?;
        "removed"
    } else {
        "absent"
    };
    let changed = old_bounds != Some(bounds_i32)
        || policy.updated
        || matches!(activation, "created" | "removed");
    Ok(ApplyReport {
        resource_id,
        old_bounds,
        bounds,
        policy,
        activation,
        changed,
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

/// Removes the scaling set-up: the activation alarm, every policy on the service, the scalable target.
pub async fn remove(clients: &AwsClients, config: &UpdaterConfig) -> anyhow::Result<RemoveReport> {
    let s = &config.policy;
    let resource_id = s.resource_id();
    let alarms = existing_alarms(&clients.cloudwatch, &[s.activation_policy_name()]).await?;
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
