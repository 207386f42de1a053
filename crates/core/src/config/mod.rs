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

/// Checks a registry path: `/` then SSM's parameter name characters, not one of AWS's reserved prefixes.
pub fn validate_registry_path(path: &str) -> Result<(), String> {
    let reserved = ["/aws", "/ssm"];
    let ok = path.starts_with('/')
        && path.len() > 1
        && path.len() <= 900
        && !path.ends_with('/')
        && !path.contains("//")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c))
        && !reserved
            .iter()
            .any(|r| path.to_ascii_lowercase().starts_with(r));
    if ok {
        Ok(())
    } else {
        Err("expected a path such as /ecs-sqs-bpi/services: / then letters, digits, _ . - and /, no trailing /, not under /aws or /ssm".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
