//! Configuration from environment variables: one typed struct per binary, every variable documented, and a bad
//! value stopping start-up with an error that names the variable and the value.
//!
//! Reading goes through [`EnvSource`] so tests pass a map instead of mutating the process environment. An empty
//! value counts as unset (deploy templates often pass `""` for "use the default").

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::backlog::BacklogCounting;
use crate::decision::DEFAULT_HYSTERESIS;
use crate::durations::DurationDistribution;
use crate::message::{DEFAULT_MAX_DURATION_SECS, MessageLimits};
use crate::mpd::DEFAULT_MIN_SAMPLES;
use crate::policy::{
    DEFAULT_IDLE_MINUTES, DEFAULT_SCALE_IN_COOLDOWN_SECS, DEFAULT_SCALE_OUT_COOLDOWN_SECS,
    DEFAULT_TARGET_UTILIZATION_PCT, Dimension, Metric, PolicySettings, SignalMetrics,
    UtilizationSettings,
};
use crate::target::{DEFAULT_MAX_TARGET_BPI, TargetSettings};

/// Where variables are read from.
pub trait EnvSource {
    /// The value of `name`, if set. A value that is not valid Unicode is returned lossily converted, so that the
    /// error message can show it.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
    }
}

impl EnvSource for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl<const N: usize> EnvSource for [(&str, &str); N] {
    fn var(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_string())
    }
}

/// A variable with a bad or missing value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The variable's name.
    pub variable: String,
    /// The value found, if any.
    pub value: Option<String>,
    /// What is wrong and what is expected.
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(
                f,
                "invalid setting {}={v:?}: {}",
                self.variable, self.problem
            ),
            None => write!(f, "missing setting {}: {}", self.variable, self.problem),
        }
    }
}

/// A documented variable: its name, default and meaning. Each binary lists its own; the README table shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VarDoc {
    /// Variable name.
    pub name: &'static str,
    /// Default, or `required`.
    pub default: &'static str,
    /// What it sets.
    pub meaning: &'static str,
}

fn config_error(name: &str, value: Option<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: name.to_string(),
        value,
        problem: problem.into(),
    }
}

/// The variables as a Markdown table (the README's configuration tables are exactly this; a test checks it).
pub fn markdown_table(docs: &[VarDoc]) -> String {
    let mut table = String::from("| variable | default | meaning |\n| --- | --- | --- |\n");
    for d in docs {
        table.push_str(&format!(
            "| `{}` | {} | {} |\n",
            d.name, d.default, d.meaning
        ));
    }
    table
}

/// Typed reads of variables with defaults and ranges.
struct Reader<'a, E: EnvSource + ?Sized> {
    env: &'a E,
}

impl<E: EnvSource + ?Sized> Reader<'_, E> {
    fn raw(&self, name: &str) -> Option<String> {
        self.env.var(name).filter(|v| !v.trim().is_empty())
    }

    fn required(&self, name: &str, what: &str) -> Result<String, ConfigError> {
        self.raw(name)
            .map(|v| v.trim().to_string())
            .ok_or_else(|| config_error(name, None, format!("required: {what}")))
    }

    fn string(&self, name: &str, default: &str) -> String {
        self.raw(name)
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| default.to_string())
    }

    /// A number in `min..=max`.
    fn number<T>(&self, name: &str, default: T, min: T, max: T) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + Copy + fmt::Display,
    {
        let Some(raw) = self.raw(name) else {
            return Ok(default);
        };
        let expected = || format!("expected a number from {min} to {max}");
        let value: T = raw
            .trim()
            .parse()
            .map_err(|_| config_error(name, Some(raw.clone()), expected()))?;
        // `!(a <= b)` rather than `a > b` so that NaN is rejected.
        if !(min <= value && value <= max) {
            return Err(config_error(name, Some(raw), expected()));
        }
        Ok(value)
    }

    fn boolean(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        let Some(raw) = self.raw(name) else {
            return Ok(default);
        };
        match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(config_error(
                name,
                Some(raw),
                "expected true or false (also 1/0, yes/no, on/off)",
            )),
        }
    }

    fn queue(&self) -> Result<QueueRef, ConfigError> {
        if let Some(url) = self.raw(QUEUE_URL) {
            let url = url.trim().to_string();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(config_error(
                    QUEUE_URL,
                    Some(url),
                    "expected an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)",
                ));
            }
            return Ok(QueueRef::Url(url));
        }
        let name = self.required(QUEUE_NAME, "set QUEUE_URL or QUEUE_NAME")?;
        validate_queue_name(&name).map_err(|p| config_error(QUEUE_NAME, Some(name.clone()), p))?;
        Ok(QueueRef::Name(name))
    }

    fn metric_names(&self) -> Result<MetricNames, ConfigError> {
        Ok(MetricNames {
            namespace: self.string(METRIC_NAMESPACE, DEFAULT_NAMESPACE),
            metric_name: self.string(APP_METRIC_NAME, DEFAULT_METRIC_NAME),
            metric_type: self.string(METRIC_TYPE, DEFAULT_METRIC_TYPE),
        })
    }
}

fn validate_queue_name(name: &str) -> Result<(), String> {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    let ok = !base.is_empty()
        && name.len() <= 80
        && base
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err("expected 1-80 letters, digits, - or _ (with .fifo for a FIFO queue)".to_string())
    }
}

// Variable names, shared by every binary that reads them.
/// Queue URL (takes precedence over the name).
/// Seconds in-flight messages get after SIGTERM by default; a message longer than this protects its task from
/// scale-in (the worker) and is never drained (the simulator).
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u32 = 90;

pub const QUEUE_URL: &str = "QUEUE_URL";
/// Queue name, resolved to a URL at start-up.
pub const QUEUE_NAME: &str = "QUEUE_NAME";
/// Namespace of the published metrics.
pub const METRIC_NAMESPACE: &str = "METRIC_NAMESPACE";
/// Name of the processing-duration metric.
pub const APP_METRIC_NAME: &str = "APP_METRIC_NAME";
/// Value of the `Type` dimension.
pub const METRIC_TYPE: &str = "METRIC_TYPE";
/// Messages a task processes at once.
pub const TASK_CONCURRENCY: &str = "TASK_CONCURRENCY";
/// Largest accepted message duration.
pub const MAX_MESSAGE_DURATION_SECS: &str = "MAX_MESSAGE_DURATION_SECS";

/// Default metric namespace (the blueprint's).
pub const DEFAULT_NAMESPACE: &str = "ECS-SQS-BPI";
/// Default processing-duration metric name (the blueprint's).
pub const DEFAULT_METRIC_NAME: &str = "MsgProcessingDuration";
/// Default `Type` dimension value (the blueprint's).
pub const DEFAULT_METRIC_TYPE: &str = "Single-Queue";
/// Default name of the published target metric (the blueprint's).
pub const DEFAULT_BPI_METRIC_NAME: &str = "ecsTargetBPI";
/// Name of the `Type` dimension.
pub const TYPE_DIMENSION: &str = "Type";
/// Name of the queue dimension.
pub const QUEUE_DIMENSION: &str = "QueueName";

/// A queue, by URL or by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueueRef {
    /// A full queue URL.
    Url(String),
    /// A queue name, to be resolved with GetQueueUrl.
    Name(String),
}

impl QueueRef {
    /// The queue's name: the name itself, or the URL's last path segment.
    pub fn name(&self) -> &str {
        match self {
            QueueRef::Name(n) => n,
            QueueRef::Url(u) => u.trim_end_matches('/').rsplit('/').next().unwrap_or(u),
        }
    }
}

/// Names of the processing-duration metric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricNames {
    /// Namespace, default `ECS-SQS-BPI`.
    pub namespace: String,
    /// Metric name, default `MsgProcessingDuration`.
    pub metric_name: String,
    /// `Type` dimension value, default `Single-Queue`.
    pub metric_type: String,
}

impl MetricNames {
    /// The metric's dimensions for `queue_name`: `Type` and `QueueName`, as the blueprint published them.
    pub fn dimensions(&self, queue_name: &str) -> [(&'static str, String); 2] {
        [
            (TYPE_DIMENSION, self.metric_type.clone()),
            (QUEUE_DIMENSION, queue_name.to_string()),
        ]
    }
}

const METRIC_DOCS: [VarDoc; 3] = [
    VarDoc {
        name: METRIC_NAMESPACE,
        default: DEFAULT_NAMESPACE,
        meaning: "CloudWatch namespace of the published metrics",
    },
    VarDoc {
        name: APP_METRIC_NAME,
        default: DEFAULT_METRIC_NAME,
        meaning: "name of the processing-duration metric (dimensions `Type`, `QueueName`)",
    },
    VarDoc {
        name: METRIC_TYPE,
        default: DEFAULT_METRIC_TYPE,
        meaning: "value of the metric's `Type` dimension",
    },
];

const QUEUE_DOCS: [VarDoc; 2] = [
    VarDoc {
        name: QUEUE_URL,
        default: "required (or QUEUE_NAME)",
        meaning: "URL of the SQS queue",
    },
    VarDoc {
        name: QUEUE_NAME,
        default: "required (or QUEUE_URL)",
        meaning: "name of the SQS queue, resolved to its URL at start-up",
    },
];

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
}

impl ProcessorConfig {
    /// Every variable the processor reads.
    pub fn variables() -> Vec<VarDoc> {
        let mut docs = QUEUE_DOCS.to_vec();
        docs.extend([
            VarDoc { name: TASK_CONCURRENCY, default: "1", meaning: "messages one task processes at a time (1-1000)" },
            VarDoc { name: "RECEIVE_WAIT_SECS", default: "20", meaning: "long-poll wait of each ReceiveMessage (0-20)" },
            VarDoc { name: "RECEIVE_BATCH_SIZE", default: "10", meaning: "most messages received per call (1-10)" },
            VarDoc { name: "METRICS_INTERVAL_SECS", default: "60", meaning: "seconds between MsgProcessingDuration statistic sets (1-3600)" },
            VarDoc { name: "SHUTDOWN_GRACE_SECS", default: "90", meaning: "seconds in-flight messages get to finish after SIGTERM; keep below the task's stopTimeout (0-3600)" },
            VarDoc { name: "DELETE_FLUSH_MILLIS", default: "100", meaning: "milliseconds completions are coalesced into one DeleteMessageBatch (0-10000)" },
            VarDoc { name: "TASK_PROTECTION_MINUTES", default: "60", meaning: "expiry of ECS task scale-in protection, set while the task holds a message longer than SHUTDOWN_GRACE_SECS (1-2880); used only where ECS_AGENT_URI is set" },
            VarDoc { name: "PREFETCH_SECS", default: "2", meaning: "beyond the messages being processed, hold as many as the task starts within this many seconds at the recent mean duration (at most RECEIVE_BATCH_SIZE; 0 = no prefetch) (0-60)" },
            VarDoc { name: MAX_MESSAGE_DURATION_SECS, default: "900", meaning: "largest accepted message `duration`; longer ones go to the DLQ (0.001-43200)" },
            VarDoc { name: "ECS_AGENT_URI", default: "set by ECS", meaning: "ECS agent endpoint; when set, the task is protected from scale-in while it holds a message longer than SHUTDOWN_GRACE_SECS" },
        ]);
        docs.extend(METRIC_DOCS);
        docs
    }

    /// Reads the processor's settings.
    pub fn from_env(env: &(impl EnvSource + ?Sized)) -> Result<Self, ConfigError> {
        let r = Reader { env };
        Ok(ProcessorConfig {
            queue: r.queue()?,
            concurrency: r.number(TASK_CONCURRENCY, 1, 1, 1000)?,
            receive_wait_secs: r.number("RECEIVE_WAIT_SECS", 20, 0, 20)?,
            receive_batch_size: r.number("RECEIVE_BATCH_SIZE", 10, 1, 10)?,
            metrics_interval_secs: r.number("METRICS_INTERVAL_SECS", 60, 1, 3600)?,
            shutdown_grace_secs: r.number(
                "SHUTDOWN_GRACE_SECS",
                DEFAULT_SHUTDOWN_GRACE_SECS,
                0,
                3600,
            )?,
            delete_flush_millis: r.number("DELETE_FLUSH_MILLIS", 100, 0, 10_000)?,
            task_protection_minutes: r.number("TASK_PROTECTION_MINUTES", 60, 1, 2880)?,
            prefetch_secs: r.number("PREFETCH_SECS", 2.0, 0.0, 60.0)?,
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
                max_duration_secs: r.number(
                    MAX_MESSAGE_DURATION_SECS,
                    DEFAULT_MAX_DURATION_SECS,
                    0.001,
                    43_200.0,
                )?,
            },
            metrics: r.metric_names()?,
        })
    }
}

/// How FIFO messages are spread over message groups (messages of one group are delivered in order, one at a time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupStrategy {
    /// Each message its own group: no ordering, full parallelism (the default).
    PerMessage,
    /// One group: strict order, one message in flight at a time.
    Single,
    /// Messages spread round-robin over this many groups.
    Groups(u32),
}

impl GroupStrategy {
    /// The MessageGroupId of the `index`-th message (of id `message_id`) of an invocation.
    pub fn group_id(&self, index: u32, message_id: &str) -> String {
        match self {
            GroupStrategy::PerMessage => message_id.to_string(),
            GroupStrategy::Single => "bpi".to_string(),
            GroupStrategy::Groups(n) => format!("bpi-{}", index % (*n).max(1)),
        }
    }
}

/// Settings of the message-producer Lambda.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProducerConfig {
    /// The queue written to.
    pub queue: QueueRef,
    /// Messages sent per invocation.
    pub message_count: u32,
    /// How each message's `duration` is drawn.
    pub durations: DurationDistribution,
    /// Message groups on a FIFO queue.
    pub group_strategy: GroupStrategy,
    /// Seed for the durations (None: a fresh random seed per invocation).
    pub seed: Option<u64>,
}

impl ProducerConfig {
    /// Every variable the producer reads.
    pub fn variables() -> Vec<VarDoc> {
        let mut docs = QUEUE_DOCS.to_vec();
        docs.extend([
            VarDoc { name: "MESSAGE_COUNT", default: "50", meaning: "messages sent per invocation (0-100000)" },
            VarDoc { name: "DURATION_DISTRIBUTION", default: "constant", meaning: "how each message's `duration` is drawn: constant, uniform, lognormal or exponential" },
            VarDoc { name: "MESSAGE_DURATION_SECS", default: "5", meaning: "constant: the `duration` of every message (0-900)" },
            VarDoc { name: "DURATION_MIN_SECS", default: "1", meaning: "uniform: lower bound (0-900)" },
            VarDoc { name: "DURATION_MAX_SECS", default: "9", meaning: "uniform: upper bound (0-900, at least the lower)" },
            VarDoc { name: "DURATION_MEAN_SECS", default: "5", meaning: "lognormal and exponential: mean (0-900)" },
            VarDoc { name: "DURATION_SIGMA", default: "0.5", meaning: "lognormal: shape, the standard deviation of the log (0-3)" },
            VarDoc { name: "MESSAGE_GROUP_STRATEGY", default: "per-message", meaning: "FIFO queues: per-message (no ordering), single (one ordered group) or groups:N (round-robin over N)" },
            VarDoc { name: "PRODUCER_SEED", default: "random", meaning: "seed of the durations, for repeatable loads" },
        ]);
        docs
    }

    /// Reads the producer's settings.
    pub fn from_env(env: &(impl EnvSource + ?Sized)) -> Result<Self, ConfigError> {
        let r = Reader { env };
        // Every duration variable is checked, whichever distribution is chosen: a bad value is a mistake either way.
        let kind = r.string("DURATION_DISTRIBUTION", "constant");
        let secs = r.number("MESSAGE_DURATION_SECS", 5.0, 0.0, DEFAULT_MAX_DURATION_SECS)?;
        let min_secs = r.number("DURATION_MIN_SECS", 1.0, 0.0, DEFAULT_MAX_DURATION_SECS)?;
        let max_secs = r.number("DURATION_MAX_SECS", 9.0, 0.0, DEFAULT_MAX_DURATION_SECS)?;
        let mean_secs = r.number("DURATION_MEAN_SECS", 5.0, 0.0, DEFAULT_MAX_DURATION_SECS)?;
        let sigma = r.number("DURATION_SIGMA", 0.5, 0.0, 3.0)?;
        let durations = match kind.as_str() {
            "constant" => DurationDistribution::Constant { secs },
            "uniform" if max_secs < min_secs => {
                return Err(config_error(
                    "DURATION_MAX_SECS",
                    Some(max_secs.to_string()),
                    format!("must be at least DURATION_MIN_SECS ({min_secs})"),
                ));
            }
            "uniform" => DurationDistribution::Uniform { min_secs, max_secs },
            "lognormal" => DurationDistribution::LogNormal { mean_secs, sigma },
            "exponential" => DurationDistribution::Exponential { mean_secs },
            _ => {
                return Err(config_error(
                    "DURATION_DISTRIBUTION",
                    Some(kind),
                    "expected constant, uniform, lognormal or exponential",
                ));
            }
        };
        let strategy = r.string("MESSAGE_GROUP_STRATEGY", "per-message");
        let group_strategy = match strategy.as_str() {
            "per-message" => GroupStrategy::PerMessage,
            "single" => GroupStrategy::Single,
            other => match other.strip_prefix("groups:").map(str::parse::<u32>) {
                Some(Ok(n)) if (1..=10_000).contains(&n) => GroupStrategy::Groups(n),
                _ => {
                    return Err(config_error(
                        "MESSAGE_GROUP_STRATEGY",
                        Some(strategy),
                        "expected per-message, single or groups:N with N from 1 to 10000",
                    ));
                }
            },
        };
        let seed = match r.raw("PRODUCER_SEED") {
            None => None,
            Some(_) => Some(r.number("PRODUCER_SEED", 0u64, 0, u64::MAX)?),
        };
        Ok(ProducerConfig {
            queue: r.queue()?,
            message_count: r.number("MESSAGE_COUNT", 50, 0, 100_000)?,
            durations,
            group_strategy,
            seed,
        })
    }
}

/// Settings of the sampler Lambda: the scaling settings it shares with the updater (queue, cluster, service, the
/// policy whose target it reads, counting rule, maximum capacity, fallback target) and how often it reads.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SamplerConfig {
    /// The shared scaling settings (the updater's variables).
    pub scaling: UpdaterConfig,
    /// Readings per invocation (the schedule invokes it once a minute).
    pub readings_per_run: u32,
    /// Seconds between readings.
    pub reading_interval_secs: u32,
}

/// Lambda's longest run, less a margin for the last publication: readings × interval must fit in it.
const SAMPLER_MAX_RUN_SECS: u32 = 840;

impl SamplerConfig {
    /// The variables the sampler reads beyond the updater's.
    pub fn variables() -> Vec<VarDoc> {
        vec![
            VarDoc {
                name: "SAMPLER_READINGS",
                default: "6",
                meaning: "readings per invocation; the schedule invokes the sampler every minute (1-60)",
            },
            VarDoc {
                name: "SAMPLER_INTERVAL_SECS",
                default: "10",
                meaning: "seconds between readings; readings × interval must stay within 840 (1-60)",
            },
        ]
    }

    /// Reads the sampler's settings.
    pub fn from_env(env: &(impl EnvSource + ?Sized)) -> Result<Self, ConfigError> {
        let scaling = UpdaterConfig::from_env(env)?;
        let r = Reader { env };
        let readings_per_run: u32 = r.number("SAMPLER_READINGS", 6, 1, 60)?;
        let reading_interval_secs: u32 = r.number("SAMPLER_INTERVAL_SECS", 10, 1, 60)?;
        if readings_per_run * reading_interval_secs > SAMPLER_MAX_RUN_SECS {
            return Err(config_error(
                "SAMPLER_INTERVAL_SECS",
                Some(reading_interval_secs.to_string()),
                format!(
                    "SAMPLER_READINGS ({readings_per_run}) × SAMPLER_INTERVAL_SECS must stay within \
                     {SAMPLER_MAX_RUN_SECS} s (Lambda's 900 s limit)"
                ),
            ));
        }
        Ok(SamplerConfig {
            scaling,
            readings_per_run,
            reading_interval_secs,
        })
    }
}

/// Settings of the target-bpi-updater Lambda, and of anything else that builds the canonical policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdaterConfig {
    /// Names and knobs of the canonical policy.
    pub policy: PolicySettings,
    /// Latency, concurrency, fallback MPD and maximum target.
    pub target: TargetSettings,
    /// Seconds of MsgProcessingDuration history the MPD is measured over.
    pub mpd_window_secs: u32,
    /// Samples below which the measured MPD is not trusted.
    pub mpd_min_samples: u64,
    /// Relative target change that triggers a write (0.10 = 10%).
    pub hysteresis: f64,
    /// Names of the processing-duration metric read.
    pub metrics: MetricNames,
    /// Name of the published target metric.
    pub bpi_metric_name: String,
}

impl UpdaterConfig {
    /// Every variable the updater reads.
    pub fn variables() -> Vec<VarDoc> {
        let mut docs = vec![
            VarDoc {
                name: "CLUSTER_NAME",
                default: "required",
                meaning: "ECS cluster of the scaled service",
            },
            VarDoc {
                name: "SERVICE_NAME",
                default: "required",
                meaning: "ECS service scaled",
            },
            VarDoc {
                name: QUEUE_NAME,
                default: "required",
                meaning: "SQS queue whose backlog drives scaling",
            },
            VarDoc {
                name: "SCALING_POLICY_NAME",
                default: "ecs-sqs-bpi-target-tracking",
                meaning: "name of the target tracking policy the updater owns",
            },
            VarDoc {
                name: "DESIRED_LATENCY_SECS",
                default: "60",
                meaning: "acceptable latency: longest a message should wait (0.001-86400)",
            },
            VarDoc {
                name: TASK_CONCURRENCY,
                default: "1",
                meaning: "messages one task processes at a time; must match the worker's (1-1000)",
            },
            VarDoc {
                name: "DEFAULT_MSG_PROC_DURATION_SECS",
                default: "5",
                meaning: "MPD used until enough samples are measured (0.001-43200)",
            },
            VarDoc {
                name: "MAX_TARGET_BPI",
                default: "10000",
                meaning: "upper bound of the target (1-1000000)",
            },
            VarDoc {
                name: "MPD_WINDOW_SECS",
                default: "3600",
                meaning: "history MPD is measured over (60-1209600)",
            },
            VarDoc {
                name: "MPD_MIN_SAMPLES",
                default: "20",
                meaning: "messages needed before the measured MPD is used (1-1000000)",
            },
            VarDoc {
                name: "TARGET_HYSTERESIS_PCT",
                default: "10",
                meaning: "target change, in percent, that makes the updater write (0-100)",
            },
            VarDoc {
                name: "COUNT_IN_FLIGHT",
                default: "true",
                meaning: "count in-flight messages as backlog (false = the blueprint's visible only)",
            },
            VarDoc {
                name: "SCALE_OUT_COOLDOWN_SECS",
                default: "60",
                meaning: "target tracking scale-out cooldown (0-3600)",
            },
            VarDoc {
                name: "SCALE_IN_COOLDOWN_SECS",
                default: "120",
                meaning: "target tracking scale-in cooldown (0-3600)",
            },
            VarDoc {
                name: "MIN_CAPACITY",
                default: "1",
                meaning: "fewest tasks; at 0 the fast path starts the first tasks for any backlog (0-10000)",
            },
            VarDoc {
                name: "MAX_CAPACITY",
                default: "10",
                meaning: "most tasks (1-10000, at least MIN_CAPACITY)",
            },
            VarDoc {
                name: "TARGET_UTILIZATION_PCT",
                default: "80",
                meaning: "second target tracking policy: keep this share of the task slots busy (from the processing-duration metric); it stops scale-in below the work (0 = no such policy, 1-100)",
            },
            VarDoc {
                name: "IDLE_SCALE_IN_MINUTES",
                default: "3",
                meaning: "after this many minutes with nothing visible or in flight, set the service to MIN_CAPACITY at once (0 = off, 1-60)",
            },
            VarDoc {
                name: "BPI_METRIC_NAME",
                default: DEFAULT_BPI_METRIC_NAME,
                meaning: "name of the published target metric",
            },
        ];
        docs.extend(METRIC_DOCS);
        docs
    }

    /// Reads the updater's settings.
    pub fn from_env(env: &(impl EnvSource + ?Sized)) -> Result<Self, ConfigError> {
        let r = Reader { env };
        let queue_name = r.required(QUEUE_NAME, "name of the SQS queue")?;
        validate_queue_name(&queue_name)
            .map_err(|p| config_error(QUEUE_NAME, Some(queue_name.clone()), p))?;
        let min_capacity = r.number("MIN_CAPACITY", 1, 0, 10_000)?;
        let max_capacity: u32 = r.number("MAX_CAPACITY", 10, 1, 10_000)?;
        if max_capacity < min_capacity {
            return Err(config_error(
                "MAX_CAPACITY",
                Some(max_capacity.to_string()),
                format!("must be at least MIN_CAPACITY ({min_capacity})"),
            ));
        }
        let policy = PolicySettings {
            cluster_name: r.required("CLUSTER_NAME", "name of the ECS cluster")?,
            service_name: r.required("SERVICE_NAME", "name of the ECS service")?,
            queue_name,
            policy_name: r.string("SCALING_POLICY_NAME", "ecs-sqs-bpi-target-tracking"),
            counting: if r.boolean("COUNT_IN_FLIGHT", true)? {
                BacklogCounting::VisibleAndInFlight
            } else {
                BacklogCounting::VisibleOnly
            },
            scale_out_cooldown_secs: r.number(
                "SCALE_OUT_COOLDOWN_SECS",
                DEFAULT_SCALE_OUT_COOLDOWN_SECS,
                0,
                3600,
            )?,
            scale_in_cooldown_secs: r.number(
                "SCALE_IN_COOLDOWN_SECS",
                DEFAULT_SCALE_IN_COOLDOWN_SECS,
                0,
                3600,
            )?,
            min_capacity,
            max_capacity,
            utilization: None,
            idle_minutes: r.number("IDLE_SCALE_IN_MINUTES", DEFAULT_IDLE_MINUTES, 0, 60)?,
            signal: SignalMetrics::for_queue("", "", ""),
        };
        // Ranges are checked by the reads, so TargetSettings::new cannot fail; map its error anyway.
        let latency = r.number("DESIRED_LATENCY_SECS", 60.0, 0.001, 86_400.0)?;
        let concurrency = r.number(TASK_CONCURRENCY, 1, 1, 1000)?;
        let fallback = r.number("DEFAULT_MSG_PROC_DURATION_SECS", 5.0, 0.001, 43_200.0)?;
        let max_target = r.number("MAX_TARGET_BPI", DEFAULT_MAX_TARGET_BPI, 1, 1_000_000)?;
        let target = TargetSettings::new(latency, concurrency, fallback, max_target)
            .map_err(|e| config_error("DESIRED_LATENCY_SECS", None, e.to_string()))?;
        let metrics = r.metric_names()?;
        let target_pct: u32 = r.number(
            "TARGET_UTILIZATION_PCT",
            DEFAULT_TARGET_UTILIZATION_PCT,
            0,
            100,
        )?;
        let mut policy = policy;
        policy.signal =
            SignalMetrics::for_queue(&metrics.namespace, &metrics.metric_type, &policy.queue_name);
        policy.utilization = (target_pct > 0).then(|| UtilizationSettings {
            duration_metric: Metric {
                namespace: metrics.namespace.clone(),
                metric_name: metrics.metric_name.clone(),
                dimensions: metrics
                    .dimensions(&policy.queue_name)
                    .into_iter()
                    .map(|(name, value)| Dimension {
                        name: name.to_string(),
                        value,
                    })
                    .collect(),
            },
            concurrency,
            target_pct,
        });
        Ok(UpdaterConfig {
            policy,
            target,
            mpd_window_secs: r.number("MPD_WINDOW_SECS", 3600, 60, 1_209_600)?,
            mpd_min_samples: r.number("MPD_MIN_SAMPLES", DEFAULT_MIN_SAMPLES, 1, 1_000_000)?,
            hysteresis: r.number(
                "TARGET_HYSTERESIS_PCT",
                DEFAULT_HYSTERESIS * 100.0,
                0.0,
                100.0,
            )? / 100.0,
            metrics,
            bpi_metric_name: r.string("BPI_METRIC_NAME", DEFAULT_BPI_METRIC_NAME),
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

    #[test]
    fn updater_builds_the_policy_settings_from_names_it_is_given() {
        let env = [
            ("CLUSTER_NAME", "core-infra"),
            ("SERVICE_NAME", "queue-proc"),
            (QUEUE_NAME, "jobs"),
        ];
        let c = UpdaterConfig::from_env(&env).expect("valid");
        assert_eq!(c.policy.resource_id(), "service/core-infra/queue-proc");
        assert_eq!(c.policy.queue_name, "jobs");
        assert_eq!(c.policy.counting, BacklogCounting::VisibleAndInFlight);
        assert_eq!(
            (
                c.policy.scale_out_cooldown_secs,
                c.policy.scale_in_cooldown_secs
            ),
            (60, 120)
        );
        assert_eq!(c.target.latency_secs(), 60.0);
        assert_eq!(c.target.fallback_mpd_secs(), 5.0);
        assert_eq!(c.mpd_window_secs, 3600);
        assert!((c.hysteresis - 0.10).abs() < 1e-12);
        assert_eq!(c.bpi_metric_name, "ecsTargetBPI");
        let u = c.policy.utilization.as_ref().expect("on by default");
        assert_eq!((u.target_pct, u.concurrency), (80, 1));
        assert_eq!(u.duration_metric.metric_name, "MsgProcessingDuration");
        // The sampler's metrics: the same namespace and dimensions as the workers' metric.
        assert_eq!(c.policy.signal.namespace, "ECS-SQS-BPI");
        assert_eq!(c.policy.signal.dimensions, u.duration_metric.dimensions);
        assert_eq!(c.policy.idle_minutes, 3);
        let off = UpdaterConfig::from_env(&[
            ("CLUSTER_NAME", "c"),
            ("SERVICE_NAME", "s"),
            (QUEUE_NAME, "q"),
            ("TARGET_UTILIZATION_PCT", "0"),
            ("IDLE_SCALE_IN_MINUTES", "0"),
        ])
        .expect("valid");
        assert_eq!((off.policy.utilization, off.policy.idle_minutes), (None, 0));
    }

    #[test]
    fn updater_rejects_bad_settings_by_name() {
        let base = |extra: (&'static str, &'static str)| {
            [
                ("CLUSTER_NAME", "c"),
                ("SERVICE_NAME", "s"),
                (QUEUE_NAME, "q"),
                extra,
            ]
        };
        for (var, bad) in [
            ("DESIRED_LATENCY_SECS", "0"),
            ("DESIRED_LATENCY_SECS", "-5"),
            ("DESIRED_LATENCY_SECS", "sixty"),
            ("DEFAULT_MSG_PROC_DURATION_SECS", "0"),
            ("MPD_WINDOW_SECS", "1"),
            ("TARGET_HYSTERESIS_PCT", "101"),
            ("COUNT_IN_FLIGHT", "maybe"),
            ("MAX_CAPACITY", "0"),
            ("MAX_TARGET_BPI", "0"),
            ("TARGET_UTILIZATION_PCT", "101"),
            ("TARGET_UTILIZATION_PCT", "ninety"),
            ("IDLE_SCALE_IN_MINUTES", "-1"),
            ("IDLE_SCALE_IN_MINUTES", "61"),
        ] {
            let err = UpdaterConfig::from_env(&base((var, bad))).expect_err(var);
            assert_eq!(err.variable, var, "{var}={bad}: {err}");
        }
        let err = UpdaterConfig::from_env(&[("SERVICE_NAME", "s"), (QUEUE_NAME, "q")])
            .expect_err("no cluster");
        assert_eq!(err.variable, "CLUSTER_NAME");
        let err = UpdaterConfig::from_env(&[
            ("CLUSTER_NAME", "c"),
            ("SERVICE_NAME", "s"),
            (QUEUE_NAME, "q"),
            ("MIN_CAPACITY", "5"),
            ("MAX_CAPACITY", "4"),
        ])
        .expect_err("max < min");
        assert_eq!(err.variable, "MAX_CAPACITY");
    }

    #[test]
    fn sampler_settings_name_the_variable_at_fault() {
        let base = [
            ("CLUSTER_NAME", "c"),
            ("SERVICE_NAME", "s"),
            (QUEUE_NAME, "q"),
        ];
        let c = SamplerConfig::from_env(&base).expect("valid");
        assert_eq!((c.readings_per_run, c.reading_interval_secs), (6, 10));
        assert_eq!(c.scaling.policy.queue_name, "q");
        for (var, bad) in [
            ("SAMPLER_READINGS", "0"),
            ("SAMPLER_READINGS", "six"),
            ("SAMPLER_INTERVAL_SECS", "61"),
            ("DESIRED_LATENCY_SECS", "0"),
        ] {
            let mut env: HashMap<String, String> = base
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect();
            env.insert(var.to_string(), bad.to_string());
            assert_eq!(SamplerConfig::from_env(&env).expect_err(var).variable, var);
        }
        let mut env: HashMap<String, String> = base
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        env.insert("SAMPLER_READINGS".into(), "60".into());
        env.insert("SAMPLER_INTERVAL_SECS".into(), "15".into());
        let err = SamplerConfig::from_env(&env).expect_err("a run past Lambda's limit");
        assert_eq!(err.variable, "SAMPLER_INTERVAL_SECS");
    }

    #[test]
    fn the_readme_documents_every_variable_exactly() {
        let readme = include_str!("../../../README.md");
        for (binary, docs) in [
            ("queue-processor", ProcessorConfig::variables()),
            ("message-producer", ProducerConfig::variables()),
            ("target-bpi-updater", UpdaterConfig::variables()),
            ("sampler", SamplerConfig::variables()),
        ] {
            let table = markdown_table(&docs);
            assert!(
                readme.contains(&table),
                "README.md must hold the {binary} table exactly as generated:\n{table}"
            );
        }
    }

    #[test]
    fn producer_reads_distributions_and_group_strategies() {
        let c = ProducerConfig::from_env(&[(QUEUE_NAME, "q")]).expect("valid");
        assert_eq!(c.message_count, 50);
        assert_eq!(c.durations, DurationDistribution::Constant { secs: 5.0 });
        assert_eq!(c.group_strategy, GroupStrategy::PerMessage);
        assert_eq!(c.seed, None);
        let c = ProducerConfig::from_env(&[
            (QUEUE_NAME, "q.fifo"),
            ("DURATION_DISTRIBUTION", "lognormal"),
            ("DURATION_MEAN_SECS", "7"),
            ("MESSAGE_GROUP_STRATEGY", "groups:4"),
            ("PRODUCER_SEED", "42"),
        ])
        .expect("valid");
        assert_eq!(
            c.durations,
            DurationDistribution::LogNormal {
                mean_secs: 7.0,
                sigma: 0.5
            }
        );
        assert_eq!(c.group_strategy, GroupStrategy::Groups(4));
        assert_eq!(c.group_strategy.group_id(5, "m"), "bpi-1");
        assert_eq!(c.seed, Some(42));
        for (var, bad) in [
            ("DURATION_DISTRIBUTION", "normal"),
            ("MESSAGE_GROUP_STRATEGY", "groups:0"),
            ("MESSAGE_GROUP_STRATEGY", "random"),
            ("PRODUCER_SEED", "-1"),
            ("MESSAGE_COUNT", "100001"),
            ("MESSAGE_DURATION_SECS", "901"),
        ] {
            let err = ProducerConfig::from_env(&[(QUEUE_NAME, "q"), (var, bad)]).expect_err(var);
            assert_eq!(err.variable, var);
        }
        let err = ProducerConfig::from_env(&[
            (QUEUE_NAME, "q"),
            ("DURATION_DISTRIBUTION", "uniform"),
            ("DURATION_MIN_SECS", "5"),
            ("DURATION_MAX_SECS", "2"),
        ])
        .expect_err("max < min");
        assert_eq!(err.variable, "DURATION_MAX_SECS");
    }

    #[test]
    fn every_documented_variable_is_unique() {
        for docs in [
            ProcessorConfig::variables(),
            ProducerConfig::variables(),
            UpdaterConfig::variables(),
        ] {
            let mut names: Vec<_> = docs.iter().map(|d| d.name).collect();
            names.sort_unstable();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len());
        }
    }
}
