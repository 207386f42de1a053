//! # sampler
//!
//! The scheduled Lambda that gives the scaling loop a signal of its own. Each run (EventBridge, every minute) reads
//! the queue (`GetQueueAttributes`) and the service (`DescribeServices`) `SAMPLER_READINGS` times,
//! `SAMPLER_INTERVAL_SECS` apart, and publishes each reading at once as high-resolution metrics (StorageResolution
//! 1): ecsBPI, the backlog, the running and desired counts, and the capacity the fast path asks for (core's
//! [`bpi_core::sampler`]). A failed reading or publication is logged and the next one is tried; the run never
//! stops early for it.
//!
//! With `FLEET_REGISTRY_PATH` set, one function serves every service registered under that SSM path ([`fleet`]):
//! each reading covers all of them at once, and one failing service misses only its own readings.
//!
//! Invocation payload: the scheduled event, `{}`, or `{"readings": N, "interval_secs": S}` to override the
//! settings for one run.

pub mod fleet;
pub mod sampler;

use serde::Deserialize;
use serde_json::Value;

pub use fleet::{FleetRecord, FleetSampler, ServiceRecord, ServiceSource};
pub use sampler::{RunRecord, SingleServiceSampler, publish};

/// A hand invocation's options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleRequest {
    /// Readings in this run (default: the settings').
    #[serde(default)]
    pub readings: Option<u32>,
    /// Seconds between them (default: the settings').
    #[serde(default)]
    pub interval_secs: Option<u32>,
}

/// A payload that is neither a scheduled event nor a valid request.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid sampler request (expected a scheduled event, {{}} or {{\"readings\": N, \"interval_secs\": S}} with N and S in 1-60): {0}"
)]
pub struct RequestError(String);

impl SampleRequest {
    /// Reads a payload: an EventBridge event (it has `detail-type`) or null means a normal run.
    pub fn from_payload(payload: &Value) -> Result<Self, RequestError> {
        let request: SampleRequest = match payload {
            Value::Null => SampleRequest::default(),
            Value::Object(fields) if fields.contains_key("detail-type") => SampleRequest::default(),
            _ => {
                serde_json::from_value(payload.clone()).map_err(|e| RequestError(e.to_string()))?
            }
        };
        let in_range = |v: Option<u32>| v.is_none_or(|n| (1..=60).contains(&n));
        if !(in_range(request.readings) && in_range(request.interval_secs)) {
            return Err(RequestError(format!("{payload} is out of range")));
        }
        Ok(request)
    }
}

/// What a sampler function serves: the one service of its settings, or a registry's services.
#[derive(Debug)]
pub enum AnySampler {
    /// One service (CLUSTER_NAME, SERVICE_NAME, QUEUE_NAME).
    Single(SingleServiceSampler),
    /// Every service of the registry (FLEET_REGISTRY_PATH).
    Fleet(FleetSampler),
}

impl AnySampler {
    /// The sampler of `mode`.
    pub fn new(clients: bpi_aws::AwsClients, mode: bpi_core::config::SamplerMode) -> Self {
        match mode {
            bpi_core::config::SamplerMode::Single(config) => {
                AnySampler::Single(SingleServiceSampler::new(clients, *config))
            }
            bpi_core::config::SamplerMode::Fleet(f) => AnySampler::Fleet(FleetSampler::new(
                clients,
                ServiceSource::Registry(f.registry_path),
                f.readings_per_run,
                f.reading_interval_secs,
            )),
        }
    }
}

/// The Lambda handler: one run of readings, its record as the response (a single service's [`RunRecord`], or a
/// fleet's [`FleetRecord`]). A bad payload fails the invocation before any reading.
pub async fn handler(sampler: &AnySampler, payload: Value) -> Result<Value, lambda_runtime::Error> {
    let request = SampleRequest::from_payload(&payload)?;
    Ok(match sampler {
        AnySampler::Single(s) => serde_json::to_value(s.run(request).await?)?,
        AnySampler::Fleet(f) => serde_json::to_value(f.run(request).await?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_scheduled_events_and_overrides() {
        let scheduled =
            json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
        assert_eq!(
            SampleRequest::from_payload(&scheduled).expect("valid"),
            SampleRequest::default()
        );
        assert_eq!(
            SampleRequest::from_payload(&json!({"readings": 2, "interval_secs": 1}))
                .expect("valid"),
            SampleRequest {
                readings: Some(2),
                interval_secs: Some(1)
            }
        );
        assert!(SampleRequest::from_payload(&json!({"readings": 0})).is_err());
        assert!(SampleRequest::from_payload(&json!({"reading": 2})).is_err());
        assert!(SampleRequest::from_payload(&json!("go")).is_err());
    }
}
