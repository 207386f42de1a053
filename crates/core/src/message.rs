//! The message format the producer writes and the worker reads: `{"id": <int or string>, "duration": <seconds>}`.
//!
//! Kept exactly as the blueprint sends it, so a producer of the old system feeds this one unchanged. Parsing is strict
//! about what the worker relies on (a usable id, a finite, bounded, non-negative duration) and tolerant of extra
//! fields, so a producer may add fields without breaking workers.

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Number, Value};

/// SQS's own maximum message size (256 KiB). A body above it cannot have come from SQS and is rejected unread.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Default cap on a message's `duration`: 15 minutes. Longer simulated work is almost certainly a bad message.
pub const DEFAULT_MAX_DURATION_SECS: f64 = 900.0;

/// A message's identifier, as the producer chose it: an integer (the blueprint) or a string (UUIDs).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum MessageId {
    /// An integer id. Kept as a JSON number so it round-trips exactly, whatever its size within 64 bits.
    Number(Number),
    /// A non-empty string id.
    Text(String),
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageId::Number(n) => write!(f, "{n}"),
            MessageId::Text(s) => f.write_str(s),
        }
    }
}

impl From<u64> for MessageId {
    fn from(value: u64) -> Self {
        MessageId::Number(Number::from(value))
    }
}

impl From<String> for MessageId {
    fn from(value: String) -> Self {
        MessageId::Text(value)
    }
}

/// One unit of work: who it is and how many seconds of processing it asks for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// The producer's identifier for the message.
    pub id: MessageId,
    /// Seconds of processing the message asks for; finite, non-negative and within the parser's limit.
    #[serde(rename = "duration")]
    pub duration_secs: f64,
}

impl Message {
    /// How long processing this message should take.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration_secs)
    }

    /// The message as the JSON body a producer sends.
    pub fn to_body(&self) -> String {
        // Serialising a struct of a number/string id and a finite f64 cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| unreachable!("Message always serialises"))
    }
}

/// Limits applied while parsing a body.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MessageLimits {
    /// Largest accepted `duration`, in seconds.
    pub max_duration_secs: f64,
}

impl Default for MessageLimits {
    fn default() -> Self {
        MessageLimits {
            max_duration_secs: DEFAULT_MAX_DURATION_SECS,
        }
    }
}

/// Why a body is not a valid message. Each variant names what is wrong, for the worker's log line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MessageError {
    /// The body is larger than SQS allows.
    #[error("body is {bytes} bytes, above the {max} byte limit")]
    TooLarge {
        /// Size of the body.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The body is empty or whitespace only.
    #[error("body is empty")]
    Empty,
    /// The body is not valid JSON (or not UTF-8).
    #[error("body is not valid JSON: {0}")]
    InvalidJson(String),
    /// The body is JSON but not an object.
    #[error("body is JSON {0}, expected an object")]
    NotAnObject(&'static str),
    /// No `id` field.
    #[error("missing field `id`")]
    MissingId,
    /// `id` is neither an integer nor a non-empty string.
    #[error("field `id` must be an integer or a non-empty string, got {0}")]
    InvalidId(String),
    /// No `duration` field.
    #[error("missing field `duration`")]
    MissingDuration,
    /// `duration` is not a JSON number.
    #[error("field `duration` must be a number of seconds, got {0}")]
    DurationNotANumber(String),
    /// `duration` is a number that is not finite as an f64 (e.g. `1e400`).
    #[error("field `duration` is not a finite number: {0}")]
    DurationNotFinite(String),
    /// `duration` is below zero.
    #[error("field `duration` is negative: {0}")]
    DurationNegative(f64),
    /// `duration` is above the configured maximum.
    #[error("field `duration` is {secs} s, above the {max_secs} s limit")]
    DurationTooLong {
        /// The value found.
        secs: f64,
        /// The limit.
        max_secs: f64,
    },
}

/// Parses and validates a message body. Never panics, whatever the bytes.
pub fn parse_message(body: &[u8], limits: &MessageLimits) -> Result<Message, MessageError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(MessageError::TooLarge {
            bytes: body.len(),
            max: MAX_BODY_BYTES,
        });
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(MessageError::Empty);
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| MessageError::InvalidJson(e.to_string()))?;
    let Value::Object(fields) = value else {
        return Err(MessageError::NotAnObject(json_kind(&value)));
    };

    let id = match fields.get("id") {
        None => return Err(MessageError::MissingId),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => MessageId::Number(n.clone()),
        Some(Value::String(s)) if !s.trim().is_empty() => MessageId::Text(s.clone()),
        Some(other) => return Err(MessageError::InvalidId(describe(other))),
    };

    let duration_secs = match fields.get("duration") {
        None => return Err(MessageError::MissingDuration),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(secs) if secs.is_finite() => secs,
            _ => return Err(MessageError::DurationNotFinite(n.to_string())),
        },
        Some(other) => return Err(MessageError::DurationNotANumber(describe(other))),
    };
    if duration_secs < 0.0 {
        return Err(MessageError::DurationNegative(duration_secs));
    }
    if duration_secs > limits.max_duration_secs {
        return Err(MessageError::DurationTooLong {
            secs: duration_secs,
            max_secs: limits.max_duration_secs,
        });
    }
    Ok(Message { id, duration_secs })
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A short description of a JSON value for an error message: its kind and, for scalars, the value (truncated).
fn describe(value: &Value) -> String {
    match value {
        Value::Array(_) | Value::Object(_) => json_kind(value).to_string(),
        _ => {
            let text = value.to_string();
            let short: String = text.chars().take(40).collect();
            let ellipsis = if short.len() < text.len() { "…" } else { "" };
            format!("{} {short}{ellipsis}", json_kind(value))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Message, MessageError> {
        parse_message(body.as_bytes(), &MessageLimits::default())
    }

    #[test]
    fn parses_the_blueprint_message() {
        let m = parse(r#"{"id": 42, "duration": 5}"#).expect("valid");
        assert_eq!(m.id, MessageId::from(42));
        assert_eq!(m.duration_secs, 5.0);
        assert_eq!(m.duration(), Duration::from_secs(5));
    }

    #[test]
    fn accepts_string_ids_fractional_durations_zero_and_extra_fields() {
        let m = parse(r#"{"id": "a-b", "duration": 0.25, "extra": [1]}"#).expect("valid");
        assert_eq!(m.id, MessageId::Text("a-b".into()));
        assert_eq!(m.duration(), Duration::from_millis(250));
        assert_eq!(
            parse(r#"{"id":1,"duration":0}"#)
                .expect("zero")
                .duration_secs,
            0.0
        );
        assert_eq!(
            parse(r#"{"id":1,"duration":900}"#)
                .expect("limit")
                .duration_secs,
            900.0
        );
        assert!(parse(r#"{"id":18446744073709551615,"duration":1}"#).is_ok());
        assert!(parse(r#"{"id":-3,"duration":1}"#).is_ok());
    }

    #[test]
    fn round_trips_through_to_body() {
        let m = Message {
            id: MessageId::from(7),
            duration_secs: 5.0,
        };
        assert_eq!(m.to_body(), r#"{"id":7,"duration":5.0}"#);
        assert_eq!(parse(&m.to_body()).expect("round trip"), m);
    }

    #[test]
    fn each_bad_body_has_its_own_typed_error() {
        use MessageError::*;
        type Check = fn(&MessageError) -> bool;
        let cases: Vec<(&str, Check)> = vec![
            ("", |e| matches!(e, Empty)),
            ("  \n", |e| matches!(e, Empty)),
            ("{not json", |e| matches!(e, InvalidJson(_))),
            ("[1,2]", |e| matches!(e, NotAnObject("array"))),
            ("\"text\"", |e| matches!(e, NotAnObject("string"))),
            ("null", |e| matches!(e, NotAnObject("null"))),
            (r#"{"duration":5}"#, |e| matches!(e, MissingId)),
            (r#"{"id":1.5,"duration":5}"#, |e| matches!(e, InvalidId(_))),
            (r#"{"id":true,"duration":5}"#, |e| matches!(e, InvalidId(_))),
            (r#"{"id":null,"duration":5}"#, |e| matches!(e, InvalidId(_))),
            (r#"{"id":"","duration":5}"#, |e| matches!(e, InvalidId(_))),
            (r#"{"id":{},"duration":5}"#, |e| matches!(e, InvalidId(_))),
            (r#"{"id":1}"#, |e| matches!(e, MissingDuration)),
            (r#"{"id":1,"duration":"5"}"#, |e| {
                matches!(e, DurationNotANumber(_))
            }),
            (r#"{"id":1,"duration":null}"#, |e| {
                matches!(e, DurationNotANumber(_))
            }),
            (r#"{"id":1,"duration":-1}"#, |e| {
                matches!(e, DurationNegative(_))
            }),
            (r#"{"id":1,"duration":900.5}"#, |e| {
                matches!(e, DurationTooLong { .. })
            }),
            (r#"{"id":1,"duration":NaN}"#, |e| {
                matches!(e, InvalidJson(_))
            }),
        ];
        for (body, expected) in cases {
            let err = parse(body).expect_err(body);
            assert!(expected(&err), "{body:?} gave {err:?}");
            assert!(!err.to_string().is_empty());
        }
    }

    #[test]
    fn out_of_range_numbers_are_rejected_not_infinite() {
        let err = parse(r#"{"id":1,"duration":1e400}"#).expect_err("1e400");
        assert!(
            matches!(
                err,
                MessageError::InvalidJson(_) | MessageError::DurationNotFinite(_)
            ),
            "{err:?}"
        );
    }

    #[test]
    fn rejects_bodies_over_256_kib_before_parsing() {
        let padding = "x".repeat(MAX_BODY_BYTES);
        let body = format!(r#"{{"id":1,"duration":1,"pad":"{padding}"}}"#);
        assert!(matches!(
            parse(&body),
            Err(MessageError::TooLarge {
                max: MAX_BODY_BYTES,
                ..
            })
        ));
    }

    #[test]
    fn a_lower_limit_is_honoured() {
        let limits = MessageLimits {
            max_duration_secs: 10.0,
        };
        assert!(parse_message(br#"{"id":1,"duration":10}"#, &limits).is_ok());
        assert_eq!(
            parse_message(br#"{"id":1,"duration":11}"#, &limits),
            Err(MessageError::DurationTooLong {
                secs: 11.0,
                max_secs: 10.0
            })
        );
    }

    #[test]
    fn invalid_utf8_is_invalid_json() {
        assert!(matches!(
            parse_message(&[0xff, 0xfe, b'{'], &MessageLimits::default()),
            Err(MessageError::InvalidJson(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(body in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse_message(&body, &MessageLimits::default());
        }

        #[test]
        fn never_panics_on_json_like_text(body in r#"\{("(id|duration|x)":(-?[0-9]{0,400}(\.[0-9]*)?(e-?[0-9]{1,4})?|"[^"]{0,8}"|true|null|\[\]|\{\}),?){0,4}\}"#) {
            if let Ok(m) = parse_message(body.as_bytes(), &MessageLimits::default()) {
                proptest::prop_assert!(m.duration_secs.is_finite());
                proptest::prop_assert!((0.0..=DEFAULT_MAX_DURATION_SECS).contains(&m.duration_secs));
            }
        }

        #[test]
        fn every_valid_message_round_trips(id in 0u64.., secs in 0.0f64..=900.0) {
            let m = Message { id: MessageId::from(id), duration_secs: secs };
            proptest::prop_assert_eq!(parse_message(m.to_body().as_bytes(), &MessageLimits::default()), Ok(m));
        }
    }
}
