//! What an invocation asks for: the scheduled EventBridge event (use the configured defaults) or a JSON override
//! `{"count": N, "duration": {...}, "seed": S}` from a hand invocation.

use bpi_core::DurationDistribution;
use serde::Deserialize;
use serde_json::Value;

/// Overrides of the configured defaults for one invocation.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProduceRequest {
    /// Messages to send.
    #[serde(default)]
    pub count: Option<u32>,
    /// How durations are drawn, e.g. `{"kind": "uniform", "min_secs": 1, "max_secs": 9}`.
    #[serde(default)]
    pub duration: Option<DurationDistribution>,
    /// Seed of the durations.
    #[serde(default)]
    pub seed: Option<u64>,
}

/// An invocation payload that is neither a scheduled event nor a valid override.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid producer request (expected a scheduled event or {{\"count\": N, \"duration\": {{\"kind\": \"constant\"|\"uniform\"|\"lognormal\"|\"exponential\", ...}}, \"seed\": S}}): {0}"
)]
pub struct RequestError(String);

/// Largest count one invocation may ask for.
pub const MAX_COUNT: u32 = 100_000;

impl ProduceRequest {
    /// Reads a payload: an EventBridge event (it has `detail-type`) or null/`{}` means "use the defaults".
    pub fn from_payload(payload: &Value) -> Result<Self, RequestError> {
        match payload {
            Value::Null => return Ok(ProduceRequest::default()),
            Value::Object(fields) if fields.contains_key("detail-type") => {
                return Ok(ProduceRequest::default());
            }
            _ => {}
        }
        let request: ProduceRequest =
            serde_json::from_value(payload.clone()).map_err(|e| RequestError(e.to_string()))?;
        if let Some(count) = request.count
            && count > MAX_COUNT
        {
            return Err(RequestError(format!("count {count} is above {MAX_COUNT}")));
        }
        if let Some(d) = &request.duration {
            d.validate().map_err(|e| RequestError(e.to_string()))?;
        }
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scheduled_events_and_empty_payloads_use_the_defaults() {
        let scheduled = json!({
            "version": "0", "id": "53dc4d37", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-26T00:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/SQSTestMessageProducer"], "detail": {}
        });
        assert_eq!(
            ProduceRequest::from_payload(&scheduled).expect("valid"),
            ProduceRequest::default()
        );
        assert_eq!(
            ProduceRequest::from_payload(&Value::Null).expect("valid"),
            ProduceRequest::default()
        );
        assert_eq!(
            ProduceRequest::from_payload(&json!({})).expect("valid"),
            ProduceRequest::default()
        );
    }

    #[test]
    fn overrides_are_read_and_checked() {
        let r = ProduceRequest::from_payload(&json!({"count": 7, "duration": {"kind": "uniform", "min_secs": 1, "max_secs": 3}, "seed": 9}))
            .expect("valid");
        assert_eq!(r.count, Some(7));
        assert_eq!(
            r.duration,
            Some(DurationDistribution::Uniform {
                min_secs: 1.0,
                max_secs: 3.0
            })
        );
        assert_eq!(r.seed, Some(9));
        for bad in [
            json!({"count": "ten"}),
            json!({"count": -1}),
            json!({"count": 100_001}),
            json!({"cuont": 5}),
            json!({"duration": {"kind": "uniform", "min_secs": 5, "max_secs": 1}}),
            json!({"duration": {"kind": "gamma"}}),
            json!([1, 2]),
        ] {
            let err = ProduceRequest::from_payload(&bad).expect_err(&bad.to_string());
            assert!(
                err.to_string().starts_with("invalid producer request"),
                "{err}"
            );
        }
    }
}
