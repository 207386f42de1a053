//! Configuration from environment variables: one typed struct per binary, every variable documented, and a bad
//! value stopping start-up with an error that names the variable and the value.
//!
//! Reading goes through [`EnvSource`] so tests pass a map instead of mutating the process environment. An empty
//! value counts as unset (deploy templates often pass `""` for "use the default").

//! One file per binary (`processor`, `producer`, `sampler`, `updater`), each reading its variables through the
//! typed reader (`reader.rs`); a numeric variable is declared once ([`Number`]: name, default, range, meaning) and both read
//! and documented from that declaration.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

mod app;
mod processor;
mod producer;
mod reader;
mod sampler;
mod updater;

pub use app::{APP_COMMAND, APP_PORT, ExecApp, HttpApp, WORK_MODE, WorkMode, parse_command};
pub use processor::ProcessorConfig;
pub use producer::{GroupStrategy, ProducerConfig};
pub use reader::{Flag, Number, Text};
use reader::{Reader, config_error, validate_queue_name};
pub use sampler::{FleetSamplerConfig, SamplerConfig, SamplerMode};
pub use updater::{UpdaterConfig, registry_path};

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

/// Checks a deployment's settings before anything is deployed, as each binary of the deployment (the worker, the
/// updater, the sampler) will read them at start-up: `deploy.sh` runs it (`bpi settings check`), so a range or a
/// rule is stated here once, not again in the script. The names of what is to be deployed (queue, cluster,
/// service) do not exist yet; where `env` has none, a valid stand-in is checked instead.
pub fn check_deployment(env: &(impl EnvSource + ?Sized)) -> Result<(), ConfigError> {
    let env = WithStandIns { env };
    ProcessorConfig::from_env(&env)?;
    UpdaterConfig::from_env(&env)?;
    SamplerConfig::from_env(&env)?;
    Ok(())
}

/// An environment with stand-ins for the names a deployment creates ([`check_deployment`]).
struct WithStandIns<'a, E: ?Sized> {
    env: &'a E,
}

impl<E: EnvSource + ?Sized> EnvSource for WithStandIns<'_, E> {
    fn var(&self, name: &str) -> Option<String> {
        let stand_in = match name {
            QUEUE_NAME => "deploy-check-queue",
            "CLUSTER_NAME" => "deploy-check-cluster",
            "SERVICE_NAME" => "deploy-check-service",
            _ => return self.env.var(name),
        };
        Some(
            self.env
                .var(name)
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| stand_in.to_string()),
        )
    }
}

/// An environment as a map, from `(name, value)` pairs: what a fleet registry entry holds, and how tests and
/// benchmarks give settings without touching the process environment.
pub fn env_map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
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

/// A documented variable: its name, default and meaning. Each binary lists its own; docs/configuration.md shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VarDoc {
    /// Variable name.
    pub name: &'static str,
    /// Default, or `required`.
    pub default: String,
    /// What it sets (with its range, for a number).
    pub meaning: String,
    /// A number's accepted range, inclusive.
    pub range: Option<(f64, f64)>,
}

impl VarDoc {
    /// A variable that is not a number.
    pub fn new(name: &'static str, default: &str, meaning: &str) -> Self {
        VarDoc {
            name,
            default: default.to_string(),
            meaning: meaning.to_string(),
            range: None,
        }
    }
}

/// The variables as a Markdown table (docs/configuration.md's tables are exactly this; a test checks it).
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

/// Seconds in-flight messages get after SIGTERM by default; a message longer than this protects its task from
/// scale-in (the worker) and is never drained (the simulator).
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u32 = 90;

// Variable names, shared by every binary that reads them.
/// Queue URL (takes precedence over the name).
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
/// The worker's report that its application (HTTP or exec mode) was not ready during an interval: 1, or 0 beside
/// its durations when it was; high resolution, dimensions `Type` and `QueueName`. `bpi status` reads its Maximum.
pub const APP_NOT_READY_METRIC: &str = "WorkerAppNotReady";
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

fn metric_docs() -> Vec<VarDoc> {
    vec![
        VarDoc::new(
            METRIC_NAMESPACE,
            DEFAULT_NAMESPACE,
            "CloudWatch namespace of the published metrics",
        ),
        VarDoc::new(
            APP_METRIC_NAME,
            DEFAULT_METRIC_NAME,
            "name of the processing-duration metric (dimensions `Type`, `QueueName`)",
        ),
        VarDoc::new(
            METRIC_TYPE,
            DEFAULT_METRIC_TYPE,
            "value of the metric's `Type` dimension",
        ),
    ]
}

fn queue_docs() -> Vec<VarDoc> {
    vec![
        VarDoc::new(
            QUEUE_URL,
            "required (or QUEUE_NAME)",
            "URL of the SQS queue",
        ),
        VarDoc::new(
            QUEUE_NAME,
            "required (or QUEUE_URL)",
            "name of the SQS queue, resolved to its URL at start-up",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BacklogCounting, DurationDistribution};

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
        // The sampler's metrics: the same namespace and dimensions as the workers' metric.
        assert_eq!(c.policy.signal.namespace, "ECS-SQS-BPI");
        assert_eq!(
            c.policy.signal.metric("x").dimensions,
            c.metrics
                .dimensions("jobs")
                .into_iter()
                .map(|(name, value)| crate::policy::Dimension {
                    name: name.to_string(),
                    value
                })
                .collect::<Vec<_>>()
        );
        assert_eq!(
            (c.policy.idle_minutes, c.policy.scale_in_window_minutes),
            (3, 2)
        );
        let off = UpdaterConfig::from_env(&[
            ("CLUSTER_NAME", "c"),
            ("SERVICE_NAME", "s"),
            (QUEUE_NAME, "q"),
            ("TARGET_UTILIZATION_PCT", "0"),
            ("IDLE_SCALE_IN_MINUTES", "0"),
            ("SCALE_IN_WINDOW_MINUTES", "0"),
        ])
        .expect("valid");
        assert_eq!(
            (
                off.policy.utilization,
                off.policy.idle_minutes,
                off.policy.scale_in_window_minutes
            ),
            (None, 0, 0)
        );
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
            ("SCALE_IN_WINDOW_MINUTES", "16"),
            ("SCALE_IN_WINDOW_MINUTES", "two"),
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
        let err = check_deployment(&[(WORK_MODE, "http"), (APP_PORT, "70000")])
            .expect_err("a port out of range");
        assert_eq!(err.variable, APP_PORT);
    }

    #[test]
    fn sampler_settings_name_the_variable_at_fault() {
        let base = [
            ("CLUSTER_NAME", "c"),
            ("SERVICE_NAME", "s"),
            (QUEUE_NAME, "q"),
        ];
        // The base variables and `extra` on top.
        let env_with = |extra: &[(&str, &str)]| -> HashMap<String, String> {
            base.iter()
                .chain(extra)
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect()
        };
        let c = SamplerConfig::from_env(&base).expect("valid");
        assert_eq!((c.readings_per_run, c.reading_interval_secs), (6, 10));
        assert_eq!(
            c.scaling.task_start_secs,
            crate::capacity::DEFAULT_TASK_START_SECS
        );
        assert_eq!(
            c.scaling.forecast_max_task_hours,
            crate::forecast::DEFAULT_MAX_TASK_HOURS
        );
        assert_eq!(c.scaling.policy.queue_name, "q");
        let model = c.capacity_model();
        assert_eq!(
            (
                model.promise_secs,
                model.concurrency,
                model.target_utilization
            ),
            (60.0, 1, 0.8)
        );
        let env = env_with(&[("TASK_START_SECS", "30")]);
        assert_eq!(
            SamplerConfig::from_env(&env)
                .expect("valid")
                .capacity_model()
                .task_start_secs,
            30.0
        );
        for (var, bad) in [
            ("SAMPLER_READINGS", "0"),
            ("SAMPLER_READINGS", "six"),
            ("SAMPLER_INTERVAL_SECS", "61"),
            ("TASK_START_SECS", "901"),
            ("TASK_START_SECS", "a minute"),
            ("SCALE_IN_WINDOW_MINUTES", "16"),
            ("DESIRED_LATENCY_SECS", "0"),
        ] {
            let env = env_with(&[(var, bad)]);
            assert_eq!(SamplerConfig::from_env(&env).expect_err(var).variable, var);
        }
        for bad in ["q!", "q, q", "q1,q1"] {
            let env = env_with(&[("EXTRA_QUEUE_NAMES", bad)]);
            assert_eq!(
                SamplerConfig::from_env(&env).expect_err(bad).variable,
                "EXTRA_QUEUE_NAMES",
                "{bad}"
            );
        }
        let env = env_with(&[("EXTRA_QUEUE_NAMES", " a, b.fifo ,")]);
        assert_eq!(
            SamplerConfig::from_env(&env)
                .expect("valid")
                .extra_queue_names,
            ["a", "b.fifo"]
        );
        for bad in ["q!", "q, q", "q1,q1"] {
            let env = env_with(&[("EXTRA_QUEUE_NAMES", bad)]);
            assert_eq!(
                SamplerConfig::from_env(&env).expect_err(bad).variable,
                "EXTRA_QUEUE_NAMES",
                "{bad}"
            );
        }
        let env = env_with(&[("EXTRA_QUEUE_NAMES", " a, b.fifo ,")]);
        assert_eq!(
            SamplerConfig::from_env(&env)
                .expect("valid")
                .extra_queue_names,
            ["a", "b.fifo"]
        );
        let env = env_with(&[("SAMPLER_READINGS", "60"), ("SAMPLER_INTERVAL_SECS", "15")]);
        let err = SamplerConfig::from_env(&env).expect_err("a run past Lambda's limit");
        assert_eq!(err.variable, "SAMPLER_INTERVAL_SECS");
    }

    #[test]
    fn a_deployment_is_checked_as_each_of_its_binaries_reads_it() {
        assert_eq!(check_deployment(&[("DESIRED_LATENCY_SECS", "60")]), Ok(()));
        for (name, value) in [
            ("IDLE_SCALE_IN_MINUTES", "61"),
            ("SCALE_IN_WINDOW_MINUTES", "16"),
            ("TASK_START_SECS", "fast"),
            ("FORECAST_MAX_TASK_HOURS", "-1"),
            ("TASK_CONCURRENCY", "0"),
        ] {
            let err = check_deployment(&[(name, value)]).expect_err(name);
            assert_eq!(err.variable, name, "{err}");
        }
        let err = check_deployment(&[("MIN_CAPACITY", "5"), ("MAX_CAPACITY", "2")])
            .expect_err("max below min");
        assert_eq!(err.variable, "MAX_CAPACITY");
    }

    #[test]
    fn the_configuration_reference_documents_every_variable_exactly() {
        let readme = include_str!("../../../../docs/configuration.md");
        for (binary, docs) in [
            ("queue-processor", ProcessorConfig::variables()),
            ("message-producer", ProducerConfig::variables()),
            ("target-bpi-updater", UpdaterConfig::variables()),
            ("sampler", SamplerConfig::variables()),
        ] {
            let table = markdown_table(&docs);
            assert!(
                readme.contains(&table),
                "docs/configuration.md must hold the {binary} table exactly as generated:\n{table}"
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

    /// An environment that records every variable asked for.
    struct Recording<'a> {
        values: &'a [(&'a str, &'a str)],
        asked: std::cell::RefCell<std::collections::BTreeSet<String>>,
    }

    impl EnvSource for Recording<'_> {
        fn var(&self, name: &str) -> Option<String> {
            self.asked.borrow_mut().insert(name.to_string());
            self.values
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_string())
        }
    }

    fn asked(values: &[(&str, &str)], read: impl Fn(&Recording<'_>)) -> Vec<String> {
        let env = Recording {
            values,
            asked: Default::default(),
        };
        read(&env);
        env.asked.into_inner().into_iter().collect()
    }

    #[test]
    fn every_variable_a_binary_reads_is_documented() {
        let names =
            |docs: Vec<VarDoc>| -> Vec<&'static str> { docs.iter().map(|d| d.name).collect() };
        let scaling = [
            ("CLUSTER_NAME", "c"),
            ("SERVICE_NAME", "s"),
            (QUEUE_NAME, "q"),
        ];
        let cases: Vec<(&str, Vec<String>, Vec<&'static str>)> = vec![
            (
                "queue-processor",
                asked(&[(QUEUE_NAME, "q"), ("ECS_AGENT_URI", "http://x")], |e| {
                    ProcessorConfig::from_env(e).expect("valid");
                }),
                names(ProcessorConfig::variables()),
            ),
            (
                "message-producer",
                asked(&[(QUEUE_NAME, "q"), ("PRODUCER_SEED", "1")], |e| {
                    ProducerConfig::from_env(e).expect("valid");
                }),
                names(ProducerConfig::variables()),
            ),
            (
                "target-bpi-updater",
                asked(&scaling, |e| {
                    UpdaterConfig::from_env(e).expect("valid");
                }),
                names(UpdaterConfig::variables()),
            ),
            (
                "sampler",
                asked(&scaling, |e| {
                    SamplerConfig::from_env(e).expect("valid");
                }),
                names(UpdaterConfig::variables())
                    .into_iter()
                    .chain(names(SamplerConfig::variables()))
                    .collect(),
            ),
        ];
        for (binary, read, documented) in cases {
            assert!(!read.is_empty(), "{binary} read nothing?");
            for name in read {
                assert!(
                    documented.contains(&name.as_str()),
                    "{binary} reads {name}, which its variables() do not document"
                );
            }
        }
    }

    #[test]
    fn a_numbers_documentation_and_its_reading_come_from_one_declaration() {
        let var = Number {
            name: "X",
            default: 5u32,
            min: 1,
            max: 9,
            meaning: "a knob",
        };
        let doc = var.doc();
        assert_eq!(
            (doc.default.as_str(), doc.meaning.as_str(), doc.range),
            ("5", "a knob (1-9)", Some((1.0, 9.0)))
        );
        let r = Reader {
            env: &[("X", "10")],
        };
        assert_eq!(r.number_var(&var).expect_err("out of range").variable, "X");
        let r = Reader { env: &[("Y", "1")] };
        assert_eq!(r.number_var(&var).expect("default"), 5);
    }
}
