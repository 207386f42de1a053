//! One sampler run: resolve the queue, read the target in force and the workers' newest processing durations once,
//! then take the readings, each published at once, and say what was done in one record.

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::types::StandardUnit;
use bpi_aws::autoscaling::describe_target_tracking_policy;
use bpi_aws::cloudwatch::{Resolution, put_values, read_duration_stats};
use bpi_aws::ecs::service_counts;
use bpi_aws::sqs::Queue;
use bpi_aws::{AwsClients, AwsError};
use bpi_core::config::{QUEUE_DIMENSION, QueueRef, SamplerConfig, TYPE_DIMENSION, UpdaterConfig};
use bpi_core::sampler::{
    RECENT_MPD_MINUTES, Reading, SampledValues, fast_path_target, sampled_values,
};
use bpi_core::target::mpd_of_target;
use bpi_core::{estimate_mpd, target_bpi};
use serde::Serialize;
use tokio::time::Instant;

use crate::SampleRequest;

/// What a run did: returned by the handler and logged as one JSON line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// Readings attempted.
    pub readings: u32,
    /// Readings published.
    pub published: u32,
    /// Readings that failed (read or publish), each logged.
    pub failed: u32,
    /// Their positions in the run (0-based): the 10-second periods the alarms see no datapoint in.
    pub failed_at: Vec<u32>,
    /// The ecsTargetBPI the capacity model's MPD was taken from: the policy's, lowered by the recent MPD when
    /// messages got longer (core's `fast_path_target`).
    pub target: f64,
    /// Whether the policy's target is in force (false: no policy yet, the target of the default MPD).
    pub target_from_policy: bool,
    /// The workers' MPD over the newest minutes, when measured (None: too few samples, or the read failed).
    pub recent_mpd_secs: Option<f64>,
    /// The last published values.
    pub last: Option<SampledValues>,
}

/// Publishes one reading's values as the sampler's high-resolution metrics, stamped with the time of the reading.
/// The local run publishes its own readings through this too, so `bpi status` and the dashboard read them there.
pub async fn publish(
    clients: &AwsClients,
    scaling: &UpdaterConfig,
    values: &SampledValues,
    at: SystemTime,
) -> Result<(), AwsError> {
    let dims = [
        (TYPE_DIMENSION, scaling.metrics.metric_type.as_str()),
        (QUEUE_DIMENSION, scaling.policy.queue_name.as_str()),
    ];
    let metrics: Vec<(&str, f64, StandardUnit)> = values
        .metrics()
        .into_iter()
        .map(|(name, value)| (name, value, StandardUnit::Count))
        .collect();
    put_values(
        &clients.cloudwatch,
        &scaling.metrics.namespace,
        &dims,
        &metrics,
        at,
        Resolution::High,
    )
    .await
}

/// The sampler: clients and settings, built once per Lambda instance.
#[derive(Debug, Clone)]
pub struct Sampler {
    clients: AwsClients,
    config: SamplerConfig,
}

impl Sampler {
    /// A sampler with `clients` and `config`.
    pub fn new(clients: AwsClients, config: SamplerConfig) -> Self {
        Sampler { clients, config }
    }

    /// The target in force: the policy's, or the default MPD's while there is none.
    async fn target(&self) -> Result<(f64, bool), AwsError> {
        let s = &self.config.scaling;
        let policy = describe_target_tracking_policy(
            &self.clients.autoscaling,
            &s.policy.resource_id(),
            &s.policy.policy_name,
        )
        .await?;
        Ok(match policy {
            Some(p) if p.target_value.is_finite() && p.target_value >= 1.0 => {
                (p.target_value, true)
            }
            _ => (f64::from(target_bpi(&s.target, None).value), false),
        })
    }

    /// The workers' statistic sets of the newest minutes. A failed read is logged and reads as none: the fast
    /// path then keeps the policy's target, as it did before this refinement.
    async fn recent_durations(&self) -> Vec<bpi_core::StatisticSet> {
        let s = &self.config.scaling;
        let window = Duration::from_secs(u64::from(RECENT_MPD_MINUTES) * 60);
        match read_duration_stats(
            &self.clients.cloudwatch,
            &s.metrics,
            &s.policy.queue_name,
            window,
            SystemTime::now(),
        )
        .await
        {
            Ok(periods) => periods,
            Err(e) => {
                tracing::warn!(error = %e, "reading the recent processing durations failed; the fast path uses the policy's target");
                Vec::new()
            }
        }
    }

    /// Reads the queue and the service at once.
    async fn read(&self, queue: &Queue) -> Result<Reading, AwsError> {
        let s = &self.config.scaling.policy;
        let (depth, counts) = tokio::join!(
            queue.depth(),
            service_counts(&self.clients.ecs, &s.cluster_name, &s.service_name)
        );
        let counts = counts?;
        Ok(Reading {
            depth: depth?,
            running: counts.running,
            desired: counts.desired,
        })
    }

    /// One run. Fails only when the queue or the target cannot be found at its start; a failed reading is
    /// counted and logged, and the run goes on.
    pub async fn run(&self, request: SampleRequest) -> Result<RunRecord, AwsError> {
        let s = &self.config.scaling;
        let readings = request.readings.unwrap_or(self.config.readings_per_run);
        let interval = Duration::from_secs(u64::from(
            request
                .interval_secs
                .unwrap_or(self.config.reading_interval_secs),
        ));
        let queue = Queue::resolve(
            self.clients.sqs.clone(),
            &QueueRef::Name(s.policy.queue_name.clone()),
        )
        .await?;
        let (policy_target, target_from_policy) = self.target().await?;
        let recent = self.recent_durations().await;
        let target = fast_path_target(policy_target, &recent, &s.target);
        let model = self.config.capacity_model();
        let mpd_secs = mpd_of_target(&s.target, target);
        let mut record = RunRecord {
            readings,
            published: 0,
            failed: 0,
            failed_at: Vec::new(),
            target,
            target_from_policy,
            recent_mpd_secs: estimate_mpd(&recent, bpi_core::mpd::DEFAULT_MIN_SAMPLES).mpd_secs(),
            last: None,
        };
        let started = Instant::now();
        for i in 0..readings {
            // Readings keep their slots even when one is slow: i × interval after the start.
            tokio::time::sleep_until(started + interval * i).await;
            let at = SystemTime::now();
            let result = match self.read(&queue).await {
                Ok(reading) => {
                    let values = sampled_values(
                        reading,
                        s.policy.counting,
                        &model,
                        mpd_secs,
                        s.policy.max_capacity,
                    );
                    publish(&self.clients, &self.config.scaling, &values, at)
                        .await
                        .map(|()| values)
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(values) => {
                    record.published += 1;
                    record.last = Some(values);
                }
                Err(e) => {
                    record.failed += 1;
                    record.failed_at.push(i);
                    tracing::warn!(reading = i, error = %e, "sampler reading failed; the next one is tried");
                }
            }
        }
        tracing::info!(run = %serde_json::to_string(&record).unwrap_or_default(), "sampler run");
        Ok(record)
    }
}
