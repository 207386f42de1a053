//! The queue-processor's settings.

use serde::Serialize;

use super::*;
use crate::message::{DEFAULT_MAX_DURATION_SECS, MessageLimits};

/// Settings of the queue-processor (the Fargate worker).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessorConfig {
    /// The queue worked.
    pub queue: QueueRef,
    /// Messages processed at once (≥ 1).
    pub concurrency: u32,
    /// Long-poll wait of ReceiveMessage, seconds (0-20).
    pub receive_wait_secs: u32,
    /// Largest number of messages received per call (1-10).
    pub receive_batch_size: u32,
    /// Seconds between metric publications.
    pub metrics_interval_secs: u32,
    /// Seconds in-flight messages get to finish after SIGTERM.
    pub shutdown_grace_secs: u32,
    /// How long completions are coalesced before a DeleteMessageBatch, milliseconds.
    pub delete_flush_millis: u32,
    /// Expiry of ECS task scale-in protection, minutes (1-2880).
    pub task_protection_minutes: u32,
    /// Seconds of work held beyond the running messages (prefetch), at the recent mean duration.
    pub prefetch_secs: f64,
    /// The ECS agent endpoint (set by ECS on Fargate); task protection is used only when present.
    pub ecs_agent_uri: Option<String>,
    /// Limits on message bodies.
    pub message_limits: MessageLimits,
    /// Names of the published metric.
    pub metrics: MetricNames,
    /// What each message is given to: the demo's sleep, or the user's application.
    pub work: WorkMode,
}

/// `TASK_CONCURRENCY`.
const CONCURRENCY: Number<u32> = Number {
    name: TASK_CONCURRENCY,
    default: 1,
    min: 1,
    max: 1000,
    meaning: "messages one task processes at a time",
};

/// `RECEIVE_WAIT_SECS`.
const RECEIVE_WAIT: Number<u32> = Number {
    name: "RECEIVE_WAIT_SECS",
    default: 20,
    min: 0,
    max: 20,
    meaning: "long-poll wait of each ReceiveMessage",
};

/// `RECEIVE_BATCH_SIZE`.
const RECEIVE_BATCH: Number<u32> = Number {
    name: "RECEIVE_BATCH_SIZE",
    default: 10,
    min: 1,
    max: 10,
    meaning: "most messages received per call",
};

/// `METRICS_INTERVAL_SECS`.
const METRICS_INTERVAL: Number<u32> = Number {
    name: "METRICS_INTERVAL_SECS",
    default: 60,
    min: 1,
    max: 3600,
    meaning: "seconds between MsgProcessingDuration statistic sets",
};

/// `SHUTDOWN_GRACE_SECS`.
const SHUTDOWN_GRACE: Number<u32> = Number {
    name: "SHUTDOWN_GRACE_SECS",
    default: DEFAULT_SHUTDOWN_GRACE_SECS,
    min: 0,
    max: 3600,
    meaning: "seconds in-flight messages get to finish after SIGTERM; keep below the task's stopTimeout",
};

/// `DELETE_FLUSH_MILLIS`.
const DELETE_FLUSH: Number<u32> = Number {
    name: "DELETE_FLUSH_MILLIS",
    default: 100,
    min: 0,
    max: 10_000,
    meaning: "milliseconds completions are coalesced into one DeleteMessageBatch",
};

/// `TASK_PROTECTION_MINUTES`.
const TASK_PROTECTION: Number<u32> = Number {
    name: "TASK_PROTECTION_MINUTES",
    default: 60,
    min: 1,
    max: 2880,
    meaning: "expiry of ECS task scale-in protection, set while the task holds a message longer than SHUTDOWN_GRACE_SECS; used only where ECS_AGENT_URI is set",
};

/// `PREFETCH_SECS`.
const PREFETCH: Number<f64> = Number {
    name: "PREFETCH_SECS",
    default: 2.0,
    min: 0.0,
    max: 60.0,
    meaning: "beyond the messages being processed, hold as many as the task starts within this many seconds at the recent mean duration (at most RECEIVE_BATCH_SIZE; 0 = no prefetch)",
};

/// `MAX_MESSAGE_DURATION_SECS`.
const MAX_DURATION: Number<f64> = Number {
    name: MAX_MESSAGE_DURATION_SECS,
    default: DEFAULT_MAX_DURATION_SECS,
    min: 0.001,
    max: 43_200.0,
    meaning: "largest accepted message `duration`; longer ones go to the DLQ",
};

impl ProcessorConfig {
    /// Every variable the processor reads.
    pub fn variables() -> Vec<VarDoc> {
        let mut docs = queue_docs();
        docs.extend([
            CONCURRENCY.doc(),
            RECEIVE_WAIT.doc(),
            RECEIVE_BATCH.doc(),
            METRICS_INTERVAL.doc(),
            SHUTDOWN_GRACE.doc(),
            DELETE_FLUSH.doc(),
            TASK_PROTECTION.doc(),
            PREFETCH.doc(),
            MAX_DURATION.doc(),
            VarDoc::new("ECS_AGENT_URI", "set by ECS", "ECS agent endpoint; when set, the task is protected from scale-in while it holds a message longer than SHUTDOWN_GRACE_SECS"),
        ]);
        docs.extend(metric_docs());
        docs.extend(app::docs());
        docs
    }

    /// Reads the processor's settings.
    pub fn from_env(env: &(impl EnvSource + ?Sized)) -> Result<Self, ConfigError> {
        let r = Reader { env };
        Ok(ProcessorConfig {
            queue: r.queue()?,
            concurrency: r.number_var(&CONCURRENCY)?,
            receive_wait_secs: r.number_var(&RECEIVE_WAIT)?,
            receive_batch_size: r.number_var(&RECEIVE_BATCH)?,
            metrics_interval_secs: r.number_var(&METRICS_INTERVAL)?,
            shutdown_grace_secs: r.number_var(&SHUTDOWN_GRACE)?,
            delete_flush_millis: r.number_var(&DELETE_FLUSH)?,
            task_protection_minutes: r.number_var(&TASK_PROTECTION)?,
            prefetch_secs: r.number_var(&PREFETCH)?,
            ecs_agent_uri: match r.raw("ECS_AGENT_URI") {
                None => None,
                Some(uri) if uri.trim().starts_with("http://") => Some(uri.trim().to_string()),
                Some(uri) => {
                    return Err(config_error(
                        "ECS_AGENT_URI",
                        Some(uri),
                        "expected an http:// URL",
                    ));
                }
            },
            message_limits: MessageLimits {
                max_duration_secs: r.number_var(&MAX_DURATION)?,
            },
            metrics: r.metric_names()?,
            work: r.work_mode()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processor_defaults_match_the_blueprint_where_sensible() {
        let c = ProcessorConfig::from_env(&[(QUEUE_NAME, "jobs")]).expect("valid");
        assert_eq!(c.queue, QueueRef::Name("jobs".into()));
        assert_eq!(c.concurrency, 1);
        assert_eq!((c.receive_wait_secs, c.receive_batch_size), (20, 10));
        assert_eq!(c.metrics_interval_secs, 60);
        assert_eq!(c.metrics.namespace, "ECS-SQS-BPI");
        assert_eq!(c.metrics.metric_name, "MsgProcessingDuration");
        assert_eq!(
            c.metrics.dimensions("jobs"),
            [
                ("Type", "Single-Queue".to_string()),
                ("QueueName", "jobs".to_string())
            ]
        );
        assert_eq!(c.message_limits.max_duration_secs, 900.0);
    }

    #[test]
    fn queue_url_wins_and_gives_the_name() {
        let c = ProcessorConfig::from_env(&[
            (QUEUE_URL, "http://127.0.0.1:5000/123456789012/jobs.fifo"),
            (QUEUE_NAME, "ignored"),
        ])
        .expect("valid");
        assert_eq!(c.queue.name(), "jobs.fifo");
    }

    #[test]
    fn errors_name_the_variable_and_the_value() {
        let err = ProcessorConfig::from_env(&[(QUEUE_NAME, "q"), (TASK_CONCURRENCY, "abc")])
            .expect_err("non-numeric");
        assert_eq!(err.variable, TASK_CONCURRENCY);
        assert_eq!(err.value.as_deref(), Some("abc"));
        assert_eq!(
            err.to_string(),
            "invalid setting TASK_CONCURRENCY=\"abc\": expected a number from 1 to 1000"
        );

        for (var, bad) in [
            (TASK_CONCURRENCY, "0"),
            (TASK_CONCURRENCY, "-1"),
            (TASK_CONCURRENCY, "1e9"),
            ("RECEIVE_WAIT_SECS", "21"),
            ("RECEIVE_BATCH_SIZE", "11"),
            ("TASK_PROTECTION_MINUTES", "2881"),
            (MAX_MESSAGE_DURATION_SECS, "NaN"),
            (MAX_MESSAGE_DURATION_SECS, "inf"),
            (MAX_MESSAGE_DURATION_SECS, "0"),
        ] {
            let err = ProcessorConfig::from_env(&[(QUEUE_NAME, "q"), (var, bad)])
                .expect_err(&format!("{var}={bad}"));
            assert_eq!(err.variable, var);
            assert_eq!(err.value.as_deref(), Some(bad));
        }
    }

    #[test]
    fn a_missing_queue_is_named() {
        let err = ProcessorConfig::from_env(&[("OTHER", "x")]).expect_err("no queue");
        assert_eq!(err.variable, QUEUE_NAME);
        assert_eq!(
            err.to_string(),
            "missing setting QUEUE_NAME: required: set QUEUE_URL or QUEUE_NAME"
        );
        assert_eq!(
            ProcessorConfig::from_env(&[(QUEUE_NAME, "  ")])
                .expect_err("blank")
                .variable,
            QUEUE_NAME
        );
        assert_eq!(
            ProcessorConfig::from_env(&[(QUEUE_NAME, "bad name!")])
                .expect_err("invalid")
                .variable,
            QUEUE_NAME
        );
        assert_eq!(
            ProcessorConfig::from_env(&[(QUEUE_URL, "sqs/jobs")])
                .expect_err("invalid")
                .variable,
            QUEUE_URL
        );
    }
}
