//! One updater run: measure MPD, compute ecsTargetBPI, compare with the policy in force, write the canonical policy
//! only when core's update decision says so, publish what was used, and say all of it in one decision record.

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::types::StandardUnit;
use bpi_aws::autoscaling::{describe_target_tracking_policy, put_target_tracking_policy};
use bpi_aws::cloudwatch::{Resolution, put_values, read_duration_stats};
use bpi_aws::{AwsClients, AwsError};
use bpi_core::MpdEstimate;
use bpi_core::config::{QUEUE_DIMENSION, TYPE_DIMENSION, UpdaterConfig};
use bpi_core::policy::target_tracking_policy;
pub use bpi_core::update::WhenUnmeasured;
use bpi_core::update::{UpdateInputs, plan_update};
use serde::Serialize;

/// Name of the published metric carrying the MPD the target rests on.
pub const MPD_METRIC_NAME: &str = "ecsMPD";

/// What a run found and did: returned by the handler and logged as one JSON line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionRecord {
    /// Measured MPD over the window, seconds (None: too few samples).
    pub mpd: Option<f64>,
    /// Messages measured in the window.
    pub samples: u64,
    /// The window, seconds.
    pub window_secs: u32,
    /// Target of the policy before the run (None: there was no policy).
    pub old_target: Option<f64>,
    /// Target in force after the run.
    pub new_target: f64,
    /// Whether the policy was written.
    pub updated: bool,
    /// Why (or why not).
    pub reason: String,
    /// How the target was chosen: `measured`, `kept` (too few samples, current target kept) or `fallback`
    /// (too few samples and no policy: the configured default MPD).
    pub mpd_status: &'static str,
    /// Warnings about the target (e.g. latency below MPD).
    pub warnings: Vec<String>,
    /// A dry run decides but writes and publishes nothing.
    pub dry_run: bool,
}

/// The updater: clients and settings, built once per Lambda instance.
#[derive(Debug, Clone)]
pub struct Updater {
    clients: AwsClients,
    config: UpdaterConfig,
    when_unmeasured: WhenUnmeasured,
}

impl Updater {
    /// An updater with `clients` and `config`, keeping the target in force when too little is measured.
    pub fn new(clients: AwsClients, config: UpdaterConfig) -> Self {
        Updater {
            clients,
            config,
            when_unmeasured: WhenUnmeasured::KeepTarget,
        }
    }

    /// The same updater with another rule for too few samples.
    pub fn when_unmeasured(self, when_unmeasured: WhenUnmeasured) -> Self {
        Updater {
            when_unmeasured,
            ..self
        }
    }

    /// Runs once as of `now`.
    pub async fn run(&self, now: SystemTime, dry_run: bool) -> Result<DecisionRecord, AwsError> {
        let c = &self.config;
        let window = Duration::from_secs(u64::from(c.mpd_window_secs));
        let periods = read_duration_stats(
            &self.clients.cloudwatch,
            &c.metrics,
            &c.policy.queue_name,
            window,
            now,
        )
        .await?;
        let resource_id = c.policy.resource_id();
        let current = describe_target_tracking_policy(
            &self.clients.autoscaling,
            &resource_id,
            &c.policy.policy_name,
        )
        .await?;
        let plan = plan_update(
            &periods,
            current.as_ref(),
            &UpdateInputs {
                target: &c.target,
                policy: &c.policy,
                min_samples: c.mpd_min_samples,
                hysteresis: c.hysteresis,
                when_unmeasured: self.when_unmeasured,
            },
        );
        let estimate = plan.estimate;
        let old_target = current.as_ref().map(|p| p.target_value);
        let mpd_status = plan.status.as_str();
        let mut reason = plan.decision.reason.to_string();
        if let MpdEstimate::Unknown {
            samples,
            min_samples,
        } = estimate
        {
            reason = format!(
                "too few samples ({samples} < {min_samples}), {mpd_status} target; {reason}"
            );
        }
        let updated = plan.decision.write && !dry_run;
        if updated {
            put_target_tracking_policy(
                &self.clients.autoscaling,
                &target_tracking_policy(&c.policy, plan.target),
            )
            .await?;
        }
        let new_target = plan.target_in_force;
        if !dry_run {
            self.publish(new_target, estimate.mpd_secs(), now).await?;
        }
        let record = DecisionRecord {
            mpd: estimate.mpd_secs(),
            samples: estimate.samples(),
            window_secs: c.mpd_window_secs,
            old_target,
            new_target,
            updated,
            reason,
            mpd_status,
            warnings: plan.warnings.iter().map(ToString::to_string).collect(),
            dry_run,
        };
        for w in &record.warnings {
            tracing::warn!(warning = w.as_str(), "target warning");
        }
        tracing::info!(decision = %serde_json::to_string(&record).unwrap_or_default(), "updater decision");
        Ok(record)
    }

    /// Publishes the target in force and the measured MPD (when known) in one PutMetricData call.
    async fn publish(
        &self,
        target: f64,
        mpd: Option<f64>,
        now: SystemTime,
    ) -> Result<(), AwsError> {
        let c = &self.config;
        let mut values = vec![(c.bpi_metric_name.as_str(), target, StandardUnit::Count)];
        if let Some(m) = mpd {
            values.push((MPD_METRIC_NAME, m, StandardUnit::Seconds));
        }
        let dims = [
            (TYPE_DIMENSION, c.metrics.metric_type.as_str()),
            (QUEUE_DIMENSION, c.policy.queue_name.as_str()),
        ];
        put_values(
            &self.clients.cloudwatch,
            &c.metrics.namespace,
            &dims,
            &values,
            now,
            Resolution::Standard,
        )
        .await
    }
}
