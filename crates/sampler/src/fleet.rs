//! One sampler run over many services: read the registry (or take the one service of the environment), prepare each
//! service once (its queue, the target in force, the workers' recent durations), then take the readings. Each
//! reading covers every service at once: the `DescribeServices` batches of ten and the queues' depths in parallel,
//! the values of all of them published in as few `PutMetricData` calls as CloudWatch takes (core's
//! [`bpi_core::fleet`]).
//!
//! A service that fails (a missing queue, a throttled read, a service ECS does not know) misses its own readings
//! and nothing else: its alarms see no datapoint, which never scales in (core's spec), and the run record names it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use bpi_aws::autoscaling::describe_target_tracking_policy;
use bpi_aws::cloudwatch::{MetricPoint, put_points, read_duration_stats};
use bpi_aws::ecs::{ServiceCounts, services_counts};
use bpi_aws::sqs::Queue;
use bpi_aws::ssm::registry;
use bpi_aws::{AwsClients, AwsError};
use bpi_core::QueueDepth;
use bpi_core::config::{QUEUE_DIMENSION, QueueRef, SamplerConfig, TYPE_DIMENSION};
use bpi_core::fleet::{CallCounts, describe_batches, ops, put_batches};
use bpi_core::sampler::{
    RECENT_MPD_MINUTES, Reading, SampledValues, fast_path_target, sampled_values,
};
use bpi_core::target::mpd_of_target;
use bpi_core::{estimate_mpd, target_bpi};
use futures::future::join_all;
use serde::Serialize;
use tokio::time::Instant;

use crate::SampleRequest;

/// Where the services come from.
#[derive(Debug, Clone)]
pub enum ServiceSource {
    /// The registry under this path, read at the start of every run (an added service is read from the next
    /// minute on, a removed one no longer).
    Registry(String),
    /// These services (the single-service sampler: the one of its environment).
    Fixed(Vec<SamplerConfig>),
}

/// What one run did for one service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceRecord {
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// Readings attempted.
    pub readings: u32,
    /// Readings published.
    pub published: u32,
    /// Readings that failed (read or publish), each logged.
    pub failed: u32,
    /// Their positions in the run (0-based): the 10-second periods the alarms see no datapoint in.
    pub failed_at: Vec<u32>,
    /// The ecsTargetBPI the capacity model's MPD was taken from (core's `fast_path_target`).
    pub target: f64,
    /// Whether the policy's target is in force (false: no policy yet, the target of the default MPD).
    pub target_from_policy: bool,
    /// The workers' MPD over the newest minutes, when measured.
    pub recent_mpd_secs: Option<f64>,
    /// The last published values.
    pub last: Option<SampledValues>,
    /// Why the service could not be read at all this run (its queue or its target), if so.
    pub error: Option<String>,
}

/// What a run did: returned by the handler and logged as one JSON line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetRecord {
    /// Readings per service in the run.
    pub readings: u32,
    /// The services served.
    pub services: Vec<ServiceRecord>,
    /// Registry entries refused (each message names the parameter and the setting).
    pub invalid_entries: Vec<String>,
    /// Per reading: milliseconds from its start to the end of its last publication.
    pub tick_millis: Vec<u64>,
    /// The AWS calls made, by operation.
    pub calls: CallCounts,
}

impl FleetRecord {
    /// Services with at least one failed reading.
    pub fn failing(&self) -> impl Iterator<Item = &ServiceRecord> {
        self.services.iter().filter(|s| s.failed > 0)
    }
}

/// Reads made at once, at most: a fleet of hundreds reads its queues this many at a time.
const READ_CONCURRENCY: usize = 64;

/// One service, ready for its readings.
#[derive(Debug, Clone)]
struct Prepared {
    config: SamplerConfig,
    /// QUEUE_NAME's queue, then EXTRA_QUEUE_NAMES'.
    queues: Vec<Queue>,
    mpd_secs: f64,
}

/// The sampler: clients, where the services come from, how often it reads; built once per Lambda instance, so the
/// queues' URLs are resolved once per instance.
#[derive(Debug)]
pub struct FleetSampler {
    clients: AwsClients,
    source: ServiceSource,
    readings_per_run: u32,
    reading_interval_secs: u32,
    queues: Mutex<HashMap<String, Queue>>,
}

impl FleetSampler {
    /// A sampler of `source`, `readings_per_run` readings a run `reading_interval_secs` apart.
    pub fn new(
        clients: AwsClients,
        source: ServiceSource,
        readings_per_run: u32,
        reading_interval_secs: u32,
    ) -> Self {
        FleetSampler {
            clients,
            source,
            readings_per_run,
            reading_interval_secs,
            queues: Mutex::new(HashMap::new()),
        }
    }

    /// The services of this run, and the entries refused.
    async fn services(
        &self,
        calls: &mut CallCounts,
    ) -> Result<(Vec<SamplerConfig>, Vec<String>), AwsError> {
        match &self.source {
            ServiceSource::Fixed(configs) => Ok((configs.clone(), Vec::new())),
            ServiceSource::Registry(path) => {
                let r = registry(
                    &self.clients.ssm,
                    path,
                    self.readings_per_run,
                    self.reading_interval_secs,
                )
                .await?;
                calls.add(ops::GET_PARAMETERS_BY_PATH, r.pages);
                Ok((r.services, r.invalid))
            }
        }
    }

    /// The queue of `name`, resolved once per instance.
    async fn queue(&self, name: &str, calls: &mut CallCounts) -> Result<Queue, AwsError> {
        let cached = self
            .queues
            .lock()
            .map_err(|_| AwsError::other("sqs:GetQueueUrl", "queue cache poisoned"))?
            .get(name)
            .cloned();
        if let Some(q) = cached {
            return Ok(q);
        }
        calls.add(ops::GET_QUEUE_URL, 1);
        let q = Queue::resolve(self.clients.sqs.clone(), &QueueRef::Name(name.to_string())).await?;
        if let Ok(mut cache) = self.queues.lock() {
            cache.insert(name.to_string(), q.clone());
        }
        Ok(q)
    }

    /// Prepares one service: its queue, the target in force, the recent durations. Returns its record so far.
    async fn prepare(
        &self,
        config: SamplerConfig,
        readings: u32,
    ) -> (ServiceRecord, Option<Prepared>, CallCounts) {
        let mut calls = CallCounts::default();
        let s = &config.scaling;
        let mut record = ServiceRecord {
            resource_id: s.policy.resource_id(),
            readings,
            published: 0,
            failed: 0,
            failed_at: Vec::new(),
            target: 0.0,
            target_from_policy: false,
            recent_mpd_secs: None,
            last: None,
            error: None,
        };
        let mut queues = Vec::new();
        for name in config.queue_names() {
            match self.queue(&name, &mut calls).await {
                Ok(q) => queues.push(q),
                Err(e) => {
                    record.error = Some(e.to_string());
                    return (record, None, calls);
                }
            }
        }
        calls.add(ops::DESCRIBE_SCALING_POLICIES, 1);
        let policy = match describe_target_tracking_policy(
            &self.clients.autoscaling,
            &s.policy.resource_id(),
            &s.policy.policy_name,
        )
        .await
        {
            Ok(p) => p,
            Err(e) => {
                record.error = Some(e.to_string());
                return (record, None, calls);
            }
        };
        let (policy_target, from_policy) = match policy {
            Some(p) if p.target_value.is_finite() && p.target_value >= 1.0 => {
                (p.target_value, true)
            }
            _ => (f64::from(target_bpi(&s.target, None).value), false),
        };
        // A failed read of the durations reads as none: the model then keeps the policy's target.
        calls.add(ops::GET_METRIC_DATA, 1);
        let window = Duration::from_secs(u64::from(RECENT_MPD_MINUTES) * 60);
        let recent = match read_duration_stats(
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
                tracing::warn!(service = %record.resource_id, error = %e, "reading the recent processing durations failed; the policy's target is used");
                Vec::new()
            }
        };
        let target = fast_path_target(policy_target, &recent, &s.target);
        record.target = target;
        record.target_from_policy = from_policy;
        record.recent_mpd_secs =
            estimate_mpd(&recent, bpi_core::mpd::DEFAULT_MIN_SAMPLES).mpd_secs();
        let mpd_secs = mpd_of_target(&s.target, target);
        (
            record,
            Some(Prepared {
                config,
                queues,
                mpd_secs,
            }),
            calls,
        )
    }

    /// One run. Fails only when the registry cannot be read; every service's failure stays its own.
    pub async fn run(&self, request: SampleRequest) -> Result<FleetRecord, AwsError> {
        let readings = request.readings.unwrap_or(self.readings_per_run);
        let interval = Duration::from_secs(u64::from(
            request.interval_secs.unwrap_or(self.reading_interval_secs),
        ));
        let mut calls = CallCounts::default();
        let (configs, invalid_entries) = self.services(&mut calls).await?;

        // Prepare every service, READ_CONCURRENCY at a time.
        let mut records = Vec::with_capacity(configs.len());
        let mut prepared = Vec::with_capacity(configs.len());
        for chunk in configs.chunks(READ_CONCURRENCY) {
            let results = join_all(chunk.iter().map(|c| self.prepare(c.clone(), readings))).await;
            for (record, ready, c) in results {
                calls.merge(&c);
                if let Some(e) = &record.error {
                    tracing::warn!(service = %record.resource_id, error = %e, "service not read this run; the others are");
                }
                prepared.push(ready);
                records.push(record);
            }
        }

        let mut tick_millis = Vec::with_capacity(readings as usize);
        let started = Instant::now();
        for i in 0..readings {
            // Readings keep their slots even when one is slow: i × interval after the start.
            tokio::time::sleep_until(started + interval * i).await;
            let tick = Instant::now();
            let outcomes = self.read_and_publish(&prepared, &mut calls).await;
            tick_millis.push(u64::try_from(tick.elapsed().as_millis()).unwrap_or(u64::MAX));
            for (record, outcome) in records.iter_mut().zip(outcomes) {
                match outcome {
                    Ok(values) => {
                        record.published += 1;
                        record.last = Some(values);
                    }
                    Err(e) => {
                        record.failed += 1;
                        record.failed_at.push(i);
                        if record.error.is_none() || record.failed == 1 {
                            tracing::warn!(service = %record.resource_id, reading = i, error = %e, "sampler reading failed; the next one is tried");
                        }
                    }
                }
            }
        }
        let record = FleetRecord {
            readings,
            services: records,
            invalid_entries,
            tick_millis,
            calls,
        };
        tracing::info!(
            services = record.services.len(),
            failing = record.failing().count(),
            invalid_entries = record.invalid_entries.len(),
            ticks_ms = ?record.tick_millis,
            calls = ?record.calls.0,
            "sampler run"
        );
        Ok(record)
    }

    /// One reading of every prepared service: the services' counts and the queues' depths at once, then the values
    /// published. Returns each service's values or why it has none.
    async fn read_and_publish(
        &self,
        prepared: &[Option<Prepared>],
        calls: &mut CallCounts,
    ) -> Vec<Result<SampledValues, String>> {
        let at = SystemTime::now();
        let ready: Vec<&Prepared> = prepared.iter().flatten().collect();
        let batches = describe_batches(ready.iter().map(|p| {
            let s = &p.config.scaling.policy;
            (s.cluster_name.as_str(), s.service_name.as_str())
        }));
        calls.add(ops::DESCRIBE_SERVICES, batches.len() as u64);
        calls.add(
            ops::GET_QUEUE_ATTRIBUTES,
            ready.iter().map(|p| p.queues.len() as u64).sum(),
        );
        let ecs = self.clients.ecs.clone();
        let counts_fut = join_all(batches.into_iter().map(|(cluster, names)| {
            let ecs = ecs.clone();
            async move {
                services_counts(&ecs, &cluster, &names)
                    .await
                    .into_iter()
                    .map(move |(name, r)| ((cluster.clone(), name), r))
                    .collect::<Vec<_>>()
            }
        }));
        let depths_fut = async {
            let mut depths: Vec<Result<QueueDepth, AwsError>> = Vec::with_capacity(ready.len());
            for chunk in ready.chunks(READ_CONCURRENCY) {
                depths.extend(join_all(chunk.iter().map(|p| total_depth(&p.queues))).await);
            }
            depths
        };
        let (counts, depths) = tokio::join!(counts_fut, depths_fut);
        let counts: HashMap<(String, String), Result<ServiceCounts, AwsError>> =
            counts.into_iter().flatten().collect();

        // The values of every service read, and the points to publish.
        let mut values: Vec<Result<SampledValues, String>> = Vec::with_capacity(prepared.len());
        let mut points: Vec<(usize, MetricPoint)> = Vec::new();
        let mut namespaces: Vec<String> = Vec::new();
        let mut depths = depths.into_iter();
        for p in prepared {
            let Some(p) = p else {
                values.push(Err("not prepared this run".to_string()));
                continue;
            };
            let depth = depths
                .next()
                .unwrap_or_else(|| Err(AwsError::other("sqs:GetQueueAttributes", "no depth read")));
            let s = &p.config.scaling;
            let key = (s.policy.cluster_name.clone(), s.policy.service_name.clone());
            let count = counts.get(&key).cloned().unwrap_or_else(|| {
                Err(AwsError::other(
                    "ecs:DescribeServices",
                    "service not described",
                ))
            });
            match (depth, count) {
                (Ok(depth), Ok(count)) => {
                    let v = sampled_values(
                        Reading {
                            depth,
                            running: count.running,
                            desired: count.desired,
                        },
                        s.policy.counting,
                        &p.config.capacity_model(),
                        p.mpd_secs,
                        s.policy.max_capacity,
                    );
                    let index = values.len();
                    let dims = vec![
                        (TYPE_DIMENSION, s.metrics.metric_type.clone()),
                        (QUEUE_DIMENSION, s.policy.queue_name.clone()),
                    ];
                    for (name, value) in v.metrics() {
                        points.push((
                            index,
                            MetricPoint {
                                name,
                                dimensions: dims.clone(),
                                value,
                                at,
                            },
                        ));
                        namespaces.push(s.metrics.namespace.clone());
                    }
                    values.push(Ok(v));
                }
                (Err(e), _) | (_, Err(e)) => values.push(Err(e.to_string())),
            }
        }

        // Publish: per namespace, at most 1,000 points a call, the calls at once. A failed call fails the
        // services whose points it carried.
        let ns_refs: Vec<&str> = namespaces.iter().map(String::as_str).collect();
        let batches = put_batches(&ns_refs);
        calls.add(ops::PUT_METRIC_DATA, batches.len() as u64);
        let cloudwatch = self.clients.cloudwatch.clone();
        let results = join_all(batches.into_iter().map(|(namespace, indices)| {
            let cloudwatch = cloudwatch.clone();
            let batch: Vec<MetricPoint> = indices.iter().map(|&i| points[i].1.clone()).collect();
            let owners: Vec<usize> = indices.iter().map(|&i| points[i].0).collect();
            async move {
                let result = put_points(&cloudwatch, &namespace, &batch).await;
                (owners, result)
            }
        }))
        .await;
        for (owners, result) in results {
            if let Err(e) = result {
                for i in owners {
                    values[i] = Err(e.to_string());
                }
            }
        }
        values
    }
}

/// The depth of every queue a service consumes, added up: the service's backlog. One failed read fails it (a part
/// of the backlog is not a reading).
async fn total_depth(queues: &[Queue]) -> Result<QueueDepth, AwsError> {
    let depths = join_all(queues.iter().map(Queue::depth)).await;
    depths
        .into_iter()
        .try_fold(QueueDepth::default(), |sum, d| {
            let d = d?;
            Ok(QueueDepth {
                visible: sum.visible + d.visible,
                in_flight: sum.in_flight + d.in_flight,
            })
        })
}
