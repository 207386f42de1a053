//! `bpi schedule`: the forecaster's dry run. It reads what the updater reads (14 days of the queue's
//! NumberOfMessagesSent, the target in force, the service's scheduled actions) and prints the schedule the updater
//! would write, why each window exists and the writes it would make, through the same core function
//! (`bpi_core::deployed::schedule_for`). Nothing is changed.

use std::time::{Duration, SystemTime};

use anyhow::Context;
use bpi_aws::AwsClients;
use bpi_aws::autoscaling::describe_target_tracking_policy;
use bpi_aws::cloudwatch::read_messages_sent;
use bpi_aws::scheduled::scheduled_actions;
use bpi_core::config::UpdaterConfig;
use bpi_core::deployed::schedule_for;
use bpi_core::forecast::{HISTORY_MINUTES, ScheduleRecord};
use bpi_core::target_bpi;

/// The schedule the updater's next run would write for the service of `config`.
pub async fn run(clients: &AwsClients, config: &UpdaterConfig) -> anyhow::Result<ScheduleRecord> {
    let s = &config.policy;
    let now = SystemTime::now();
    let sent = read_messages_sent(
        &clients.cloudwatch,
        &s.queue_name,
        Duration::from_secs(HISTORY_MINUTES * 60),
        now,
    )
    .await
    .context("reading NumberOfMessagesSent")?;
    let existing = scheduled_actions(&clients.autoscaling, &s.resource_id())
        .await
        .context("reading the service's scheduled actions")?;
    let current =
        describe_target_tracking_policy(&clients.autoscaling, &s.resource_id(), &s.policy_name)
            .await?;
    let target = current.map_or_else(
        || f64::from(target_bpi(&config.target, None).value),
        |p| p.target_value,
    );
    let now_secs = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let keep = bpi_core::deployed::keep_alive_for(config, &sent, now_secs, target);
    Ok(schedule_for(
        config,
        &sent,
        now_secs,
        target,
        keep.minimum(config.policy.min_capacity),
        &existing,
        false,
    ))
}
