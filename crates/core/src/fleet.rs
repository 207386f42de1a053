//! The services one sampler serves: the registry's format and how a reading of all of them is cut into AWS calls.
//!
//! Why it exists: a sampler per service costs a Lambda, six PutMetricData calls a minute and a schedule each, and a
//! platform team runs tens to hundreds of services. One sampler reads a **registry** instead: one SSM parameter per
//! service under a path (`/ecs-sqs-bpi/services/CLUSTER/SERVICE`), whose value is a JSON object of the very settings
//! a single-service sampler reads from its environment (`{"CLUSTER_NAME": "...", "QUEUE_NAME": "...",
//! "DESIRED_LATENCY_SECS": 60, ...}`). So a setting is declared once ([`UpdaterConfig::variables`],
//! [`SamplerConfig::variables`]) and read, checked and documented the same way wherever it is given, and a bad entry
//! is refused with a message that names the parameter and the setting.
//!
//! Why SSM parameters rather than tags or a stack parameter: adding a service is one `PutParameter` (no redeploy of
//! the sampler), the sampler's role is scoped to the path, standard parameters and their API calls cost nothing at
//! standard throughput (AWS Systems Manager pricing), and the same parameter can hold what an attach replaced.
//! Tags would need a cluster and service listing every run, and hold at most 256 characters a value.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::config::{ConfigError, EnvSource, SamplerConfig, UpdaterConfig};

/// The registry path a fleet sampler reads when `FLEET_REGISTRY_PATH` names none.
pub const DEFAULT_REGISTRY_PATH: &str = "/ecs-sqs-bpi/services";

/// Services one `DescribeServices` call takes (ECS API reference, DescribeServices: "You may specify up to 10
/// services to describe").
pub const SERVICES_PER_DESCRIBE: usize = 10;

/// Metric data one `PutMetricData` call takes (CloudWatch API reference, PutMetricData: "Each request ... can
/// include as many as 1000 different metrics"; `MetricData` is 1-1000 items in botocore's model).
pub const METRIC_DATA_PER_PUT: usize = 1000;

/// Parameters one `GetParametersByPath` page returns at most (SSM API reference: MaxResults 1-10).
pub const PARAMETERS_PER_PAGE: usize = 10;

/// The settings a registry entry may give: the updater's and the sampler's per-service ones. The readings per run
/// and their interval are the fleet's, set on the sampler function itself.
pub fn entry_settings() -> Vec<&'static str> {
    let fleet_wide = [
        "SAMPLER_READINGS",
        "SAMPLER_INTERVAL_SECS",
        "FLEET_REGISTRY_PATH",
    ];
    UpdaterConfig::variables()
        .into_iter()
        .chain(SamplerConfig::variables())
        .map(|d| d.name)
        .filter(|n| !fleet_wide.contains(n))
        .collect()
}

/// The registry parameter of a service: `PATH/CLUSTER/SERVICE`.
pub fn entry_parameter_name(registry_path: &str, cluster: &str, service: &str) -> String {
    format!(
        "{}/{cluster}/{service}",
        registry_path.trim_end_matches('/')
    )
}

/// A registry entry that cannot be used: the sampler logs it, counts it and serves the others.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EntryError {
    /// The value is not a JSON object of settings.
    #[error("registry entry {parameter}: not a JSON object of settings ({problem})")]
    NotAnObject {
        /// The parameter's name.
        parameter: String,
        /// What is wrong.
        problem: String,
    },
    /// A key is not a per-service setting.
    #[error(
        "registry entry {parameter}: {key} is not a per-service setting (expected one of the sampler's and updater's variables, SAMPLER_READINGS and SAMPLER_INTERVAL_SECS excepted)"
    )]
    UnknownSetting {
        /// The parameter's name.
        parameter: String,
        /// The key.
        key: String,
    },
    /// A setting has a bad value (the same message as at a single sampler's start).
    #[error("registry entry {parameter}: {source}")]
    BadSetting {
        /// The parameter's name.
        parameter: String,
        /// The setting and its problem.
        source: ConfigError,
    },
    /// The parameter's name does not match the entry's cluster and service.
    #[error(
        "registry entry {parameter}: names another service than its settings (CLUSTER_NAME {cluster}, SERVICE_NAME {service}; expected {expected})"
    )]
    MisplacedEntry {
        /// The parameter's name.
        parameter: String,
        /// The entry's cluster.
        cluster: String,
        /// The entry's service.
        service: String,
        /// The name it should have.
        expected: String,
    },
}

/// The settings of one entry, as strings, the way the environment gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntrySettings(pub BTreeMap<String, String>);

impl EnvSource for EntrySettings {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// Fleet-wide values layered under an entry (the readings per run and their interval).
struct WithFleet<'a> {
    entry: &'a EntrySettings,
    readings_per_run: u32,
    reading_interval_secs: u32,
}

impl EnvSource for WithFleet<'_> {
    fn var(&self, name: &str) -> Option<String> {
        match name {
            "SAMPLER_READINGS" => Some(self.readings_per_run.to_string()),
            "SAMPLER_INTERVAL_SECS" => Some(self.reading_interval_secs.to_string()),
            _ => self.entry.var(name),
        }
    }
}

/// Reads the settings of a parameter's value: strings, numbers and booleans are taken as the environment would
/// give them; anything else, or an unknown key, is refused.
pub fn entry_settings_of(parameter: &str, value: &str) -> Result<EntrySettings, EntryError> {
    let not_object = |problem: String| EntryError::NotAnObject {
        parameter: parameter.to_string(),
        problem,
    };
    let parsed: Value = serde_json::from_str(value).map_err(|e| not_object(e.to_string()))?;
    let Value::Object(fields) = parsed else {
        return Err(not_object(format!("got {parsed}")));
    };
    let known = entry_settings();
    let mut settings = BTreeMap::new();
    for (key, v) in fields {
        if !known.contains(&key.as_str()) {
            return Err(EntryError::UnknownSetting {
                parameter: parameter.to_string(),
                key,
            });
        }
        let text = match v {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => return Err(not_object(format!("{key} is {other}"))),
        };
        settings.insert(key, text);
    }
    Ok(EntrySettings(settings))
}

/// One service of the registry, ready to be read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceEntry {
    /// The registry parameter it came from (its name in the run record and the logs).
    pub parameter: String,
    /// Its settings, as a single-service sampler would read them.
    pub config: SamplerConfig,
}

/// Reads one registry parameter into a service entry, with the fleet's readings per run and interval.
pub fn parse_entry(
    registry_path: &str,
    parameter: &str,
    value: &str,
    readings_per_run: u32,
    reading_interval_secs: u32,
) -> Result<ServiceEntry, EntryError> {
    let entry = entry_settings_of(parameter, value)?;
    let config = SamplerConfig::from_env(&WithFleet {
        entry: &entry,
        readings_per_run,
        reading_interval_secs,
    })
    .map_err(|source| EntryError::BadSetting {
        parameter: parameter.to_string(),
        source,
    })?;
    let p = &config.scaling.policy;
    let expected = entry_parameter_name(registry_path, &p.cluster_name, &p.service_name);
    if expected != parameter {
        return Err(EntryError::MisplacedEntry {
            parameter: parameter.to_string(),
            cluster: p.cluster_name.clone(),
            service: p.service_name.clone(),
            expected,
        });
    }
    Ok(ServiceEntry {
        parameter: parameter.to_string(),
        config,
    })
}

/// The entry of the settings in `env` (every per-service setting that is set), as `bpi fleet add` writes it.
/// Checked first: what the sampler would refuse is refused here.
pub fn entry_of_env(env: &(impl EnvSource + ?Sized)) -> Result<EntrySettings, ConfigError> {
    let settings: BTreeMap<String, String> = entry_settings()
        .into_iter()
        .filter_map(|name| {
            env.var(name)
                .filter(|v| !v.is_empty())
                .map(|v| (name.to_string(), v))
        })
        .collect();
    let entry = EntrySettings(settings);
    SamplerConfig::from_env(&WithFleet {
        entry: &entry,
        readings_per_run: 1,
        reading_interval_secs: 1,
    })?;
    Ok(entry)
}

/// The `DescribeServices` calls one reading of `services` (cluster, service) takes: per cluster, in chunks of
/// [`SERVICES_PER_DESCRIBE`], in a stable order.
pub fn describe_batches<'a>(
    services: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<(String, Vec<String>)> {
    let mut by_cluster: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (cluster, service) in services {
        let names = by_cluster.entry(cluster).or_default();
        if !names.contains(&service) {
            names.push(service);
        }
    }
    by_cluster
        .into_iter()
        .flat_map(|(cluster, names)| {
            names
                .chunks(SERVICES_PER_DESCRIBE)
                .map(|chunk| {
                    (
                        cluster.to_string(),
                        chunk.iter().map(|s| (*s).to_string()).collect(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The `PutMetricData` calls `data` of a reading take: per namespace, in chunks of [`METRIC_DATA_PER_PUT`]. Returns
/// (namespace, the indices of `data` in the call).
pub fn put_batches(namespaces: &[&str]) -> Vec<(String, Vec<usize>)> {
    let mut by_namespace: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, ns) in namespaces.iter().enumerate() {
        by_namespace.entry(ns).or_default().push(i);
    }
    by_namespace
        .into_iter()
        .flat_map(|(ns, indices)| {
            indices
                .chunks(METRIC_DATA_PER_PUT)
                .map(|c| (ns.to_string(), c.to_vec()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The AWS calls of one sampler run, by operation: counted by the sampler as it makes them, and predicted by
/// [`FleetShape::calls_per_run`] for the cost table. A test checks that the two agree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallCounts(pub BTreeMap<&'static str, u64>);

impl CallCounts {
    /// Counts `n` calls of `operation`.
    pub fn add(&mut self, operation: &'static str, n: u64) {
        *self.0.entry(operation).or_insert(0) += n;
    }

    /// The calls of `operation`.
    pub fn get(&self, operation: &str) -> u64 {
        self.0.get(operation).copied().unwrap_or(0)
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &CallCounts) {
        for (op, n) in &other.0 {
            self.add(op, *n);
        }
    }
}

/// What one sampler serves, for counting its calls: services, the clusters they are in, the readings of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FleetShape {
    /// Services served.
    pub services: u32,
    /// Distinct clusters among them.
    pub clusters: u32,
    /// Readings per run (one run a minute).
    pub readings_per_run: u32,
    /// Metrics published per service and reading.
    pub metrics_per_reading: u32,
}

/// The names of the operations the sampler counts.
pub mod ops {
    /// Reads the registry.
    pub const GET_PARAMETERS_BY_PATH: &str = "ssm:GetParametersByPath";
    /// Resolves a queue's URL (once per queue and sampler instance).
    pub const GET_QUEUE_URL: &str = "sqs:GetQueueUrl";
    /// Reads a queue's depth.
    pub const GET_QUEUE_ATTRIBUTES: &str = "sqs:GetQueueAttributes";
    /// Reads up to ten services' counts.
    pub const DESCRIBE_SERVICES: &str = "ecs:DescribeServices";
    /// Reads the target tracking policies in force.
    pub const DESCRIBE_SCALING_POLICIES: &str = "application-autoscaling:DescribeScalingPolicies";
    /// Reads the workers' recent processing durations.
    pub const GET_METRIC_DATA: &str = "cloudwatch:GetMetricData";
    /// Publishes a reading.
    pub const PUT_METRIC_DATA: &str = "cloudwatch:PutMetricData";
}

impl FleetShape {
    /// The calls of one steady run (queue URLs resolved, every read succeeding), by operation, as the fleet
    /// sampler makes them: the registry once, each service's policy and recent durations once, then per reading one
    /// `GetQueueAttributes` per service, the `DescribeServices` batches, and the `PutMetricData` batches.
    pub fn calls_per_run(&self) -> CallCounts {
        let services = u64::from(self.services);
        let readings = u64::from(self.readings_per_run);
        let div_ceil = |n: u64, d: usize| n.div_ceil(d as u64);
        // Services spread over clusters as evenly as they can be: the fewest DescribeServices batches.
        let clusters = u64::from(self.clusters.max(1)).min(services.max(1));
        let per_cluster = services / clusters;
        let extra = services % clusters;
        let describe = extra * div_ceil(per_cluster + 1, SERVICES_PER_DESCRIBE)
            + (clusters - extra) * div_ceil(per_cluster, SERVICES_PER_DESCRIBE);
        let data = services * u64::from(self.metrics_per_reading);
        let mut calls = CallCounts::default();
        calls.add(
            ops::GET_PARAMETERS_BY_PATH,
            div_ceil(services, PARAMETERS_PER_PAGE).max(1),
        );
        calls.add(ops::DESCRIBE_SCALING_POLICIES, services);
        calls.add(ops::GET_METRIC_DATA, services);
        calls.add(ops::GET_QUEUE_ATTRIBUTES, services * readings);
        calls.add(ops::DESCRIBE_SERVICES, describe * readings);
        calls.add(
            ops::PUT_METRIC_DATA,
            div_ceil(data, METRIC_DATA_PER_PUT) * readings,
        );
        calls
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env_map;

    const PATH: &str = "/ecs-sqs-bpi/services";

    fn entry_json() -> String {
        r#"{"CLUSTER_NAME": "c1", "SERVICE_NAME": "s1", "QUEUE_NAME": "q1", "DESIRED_LATENCY_SECS": 30, "COUNT_IN_FLIGHT": false}"#.to_string()
    }

    #[test]
    fn an_entry_reads_as_the_environment_would() {
        let e = parse_entry(PATH, "/ecs-sqs-bpi/services/c1/s1", &entry_json(), 6, 10)
            .expect("valid entry");
        assert_eq!(e.config.scaling.policy.queue_name, "q1");
        assert_eq!(e.config.scaling.target.latency_secs(), 30.0);
        assert_eq!(
            e.config.scaling.policy.counting,
            crate::BacklogCounting::VisibleOnly
        );
        assert_eq!(e.config.readings_per_run, 6);
        assert_eq!(e.config.reading_interval_secs, 10);
    }

    #[test]
    fn bad_entries_name_the_parameter_and_the_setting() {
        let p = "/ecs-sqs-bpi/services/c1/s1";
        let unknown = parse_entry(
            PATH,
            p,
            r#"{"CLUSTER_NAME": "c1", "SERVICE_NAME": "s1", "QUEUE_NAME": "q1", "LATENCY": 5}"#,
            6,
            10,
        )
        .expect_err("unknown key");
        assert!(
            unknown
                .to_string()
                .contains("LATENCY is not a per-service setting")
        );
        let fleet_wide = parse_entry(
            PATH,
            p,
            r#"{"CLUSTER_NAME": "c1", "SERVICE_NAME": "s1", "QUEUE_NAME": "q1", "SAMPLER_READINGS": 5}"#,
            6,
            10,
        )
        .expect_err("fleet-wide key");
        assert!(matches!(fleet_wide, EntryError::UnknownSetting { .. }));
        let bad = parse_entry(
            PATH,
            p,
            r#"{"CLUSTER_NAME": "c1", "SERVICE_NAME": "s1", "QUEUE_NAME": "q1", "MAX_CAPACITY": 0}"#,
            6,
            10,
        )
        .expect_err("bad value");
        let text = bad.to_string();
        assert!(text.contains(p) && text.contains("MAX_CAPACITY"), "{text}");
        assert!(matches!(
            parse_entry(PATH, p, "[1]", 6, 10),
            Err(EntryError::NotAnObject { .. })
        ));
        assert!(matches!(
            parse_entry(PATH, "/ecs-sqs-bpi/services/c1/other", &entry_json(), 6, 10),
            Err(EntryError::MisplacedEntry { .. })
        ));
    }

    #[test]
    fn an_entry_of_the_environment_keeps_what_is_set_and_is_checked() {
        let env = env_map(&[
            ("CLUSTER_NAME", "c1"),
            ("SERVICE_NAME", "s1"),
            ("QUEUE_NAME", "q1"),
            ("MAX_CAPACITY", "20"),
            ("SAMPLER_READINGS", "3"),
            ("AWS_REGION", "us-east-1"),
        ]);
        let entry = entry_of_env(&env).expect("valid");
        assert_eq!(
            entry.0.keys().map(String::as_str).collect::<Vec<_>>(),
            ["CLUSTER_NAME", "MAX_CAPACITY", "QUEUE_NAME", "SERVICE_NAME"]
        );
        let json = serde_json::to_string(&entry.0).expect("json");
        let parsed = parse_entry(PATH, "/ecs-sqs-bpi/services/c1/s1", &json, 6, 10).expect("valid");
        assert_eq!(parsed.config.scaling.policy.max_capacity, 20);
        let mut bad = env.clone();
        bad.insert("MAX_CAPACITY".into(), "zero".into());
        assert!(
            entry_of_env(&bad)
                .expect_err("bad")
                .to_string()
                .contains("MAX_CAPACITY")
        );
    }

    #[test]
    fn registry_paths_are_checked() {
        assert!(crate::config::validate_registry_path(PATH).is_ok());
        for bad in ["", "/", "services", "/a/", "/a//b", "/aws/x", "/a b"] {
            assert!(crate::config::validate_registry_path(bad).is_err(), "{bad}");
        }
        assert_eq!(
            entry_parameter_name("/p/", "c", "s"),
            "/p/c/s",
            "a trailing slash is not doubled"
        );
    }

    #[test]
    fn describe_batches_take_ten_services_of_one_cluster() {
        let names: Vec<String> = (0..23).map(|i| format!("s{i}")).collect();
        let mut services: Vec<(&str, &str)> = names.iter().map(|s| ("a", s.as_str())).collect();
        services.push(("b", "s0"));
        services.push(("a", "s0"));
        let batches = describe_batches(services);
        let sizes: Vec<(String, usize)> =
            batches.iter().map(|(c, s)| (c.clone(), s.len())).collect();
        assert_eq!(
            sizes,
            [
                ("a".to_string(), 10),
                ("a".to_string(), 10),
                ("a".to_string(), 3),
                ("b".to_string(), 1)
            ]
        );
    }

    #[test]
    fn put_batches_split_by_namespace_and_size() {
        let mut namespaces = vec!["A"; 2001];
        namespaces.push("B");
        let batches = put_batches(&namespaces);
        let sizes: Vec<(&str, usize)> =
            batches.iter().map(|(n, i)| (n.as_str(), i.len())).collect();
        assert_eq!(sizes, [("A", 1000), ("A", 1000), ("A", 1), ("B", 1)]);
        assert_eq!(batches[3].1, [2001]);
    }

    #[test]
    fn the_calls_of_a_run_follow_the_fleet() {
        let one = FleetShape {
            services: 1,
            clusters: 1,
            readings_per_run: 6,
            metrics_per_reading: 7,
        }
        .calls_per_run();
        assert_eq!(one.get(ops::PUT_METRIC_DATA), 6);
        assert_eq!(one.get(ops::DESCRIBE_SERVICES), 6);
        assert_eq!(one.get(ops::GET_QUEUE_ATTRIBUTES), 6);
        let hundred = FleetShape {
            services: 100,
            clusters: 3,
            readings_per_run: 6,
            metrics_per_reading: 7,
        }
        .calls_per_run();
        // 34 + 33 + 33 services: 4 + 4 + 4 batches a reading; 700 data: one PutMetricData a reading.
        assert_eq!(hundred.get(ops::DESCRIBE_SERVICES), 12 * 6);
        assert_eq!(hundred.get(ops::PUT_METRIC_DATA), 6);
        assert_eq!(hundred.get(ops::GET_QUEUE_ATTRIBUTES), 600);
        assert_eq!(hundred.get(ops::GET_PARAMETERS_BY_PATH), 10);
    }
}
