//! The single-service sampler: a fleet of one (the service of its environment), with that service's record as the
//! run's; and the publication of one reading, which the local run shares.

use std::time::SystemTime;

use bpi_aws::cloudwatch::{MetricPoint, put_points};
use bpi_aws::{AwsClients, AwsError};
use bpi_core::config::{QUEUE_DIMENSION, SamplerConfig, TYPE_DIMENSION, UpdaterConfig};
use bpi_core::sampler::SampledValues;
use serde::Serialize;

use crate::SampleRequest;
use crate::fleet::{FleetSampler, ServiceSource};

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
    let dimensions = vec![
        (TYPE_DIMENSION, scaling.metrics.metric_type.clone()),
        (QUEUE_DIMENSION, scaling.policy.queue_name.clone()),
    ];
    let points: Vec<MetricPoint> = values
        .metrics()
        .into_iter()
        .map(|(name, value)| MetricPoint {
            name,
            dimensions: dimensions.clone(),
            value,
            at,
        })
        .collect();
    put_points(&clients.cloudwatch, &scaling.metrics.namespace, &points).await
}

/// The single-service sampler: the fleet sampler over the one service of its settings.
#[derive(Debug)]
pub struct SingleServiceSampler {
    fleet: FleetSampler,
}

impl SingleServiceSampler {
    /// A sampler of the service of `config`.
    pub fn new(clients: AwsClients, config: SamplerConfig) -> Self {
        let (readings, interval) = (config.readings_per_run, config.reading_interval_secs);
        SingleServiceSampler {
            fleet: FleetSampler::new(
                clients,
                ServiceSource::Fixed(vec![config]),
                readings,
                interval,
            ),
        }
    }

    /// One run. Fails only when the queue or the target cannot be found at its start; a failed reading is
    /// counted and logged, and the run goes on.
    pub async fn run(&self, request: SampleRequest) -> Result<RunRecord, AwsError> {
        let record = self.fleet.run(request).await?;
        let Some(service) = record.services.into_iter().next() else {
            return Err(AwsError::other("sampler", "no service to read"));
        };
        if let Some(e) = service.error {
            return Err(AwsError::other("sampler", e));
        }
        Ok(RunRecord {
            readings: service.readings,
            published: service.published,
            failed: service.failed,
            failed_at: service.failed_at,
            target: service.target,
            target_from_policy: service.target_from_policy,
            recent_mpd_secs: service.recent_mpd_secs,
            last: service.last,
        })
    }
}
