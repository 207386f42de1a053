//! The sampler's settings.

use serde::Serialize;

use super::*;

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
    /// More queues the service consumes (`EXTRA_QUEUE_NAMES`): their visible and in-flight messages add to
    /// QUEUE_NAME's in every reading.
    pub extra_queue_names: Vec<String>,
}

/// Lambda's longest run, less a margin for the last publication: readings × interval must fit in it.
const SAMPLER_MAX_RUN_SECS: u32 = 840;

/// `SAMPLER_READINGS`.
const READINGS: Number<u32> = Number {
    name: "SAMPLER_READINGS",
    default: 6,
    min: 1,
    max: 60,
    meaning: "readings per invocation; the schedule invokes the sampler every minute",
};

/// `SAMPLER_INTERVAL_SECS`.
const INTERVAL: Number<u32> = Number {
    name: "SAMPLER_INTERVAL_SECS",
    default: 10,
    min: 1,
    max: 60,
    meaning: "seconds between readings; readings × interval must stay within 840",
};

/// Settings of a sampler serving the services of a registry (fleet mode): where the registry is and how often
/// it reads. Each service's own settings are its registry entry's (core's [`crate::fleet`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FleetSamplerConfig {
    /// The SSM path of the registry.
    pub registry_path: String,
    /// Readings per invocation.
    pub readings_per_run: u32,
    /// Seconds between readings.
    pub reading_interval_secs: u32,
}

/// What a sampler function serves: one service (its variables) or a registry's services.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum SamplerMode {
    /// The service of CLUSTER_NAME, SERVICE_NAME and QUEUE_NAME.
    Single(Box<SamplerConfig>),
    /// Every service under FLEET_REGISTRY_PATH.
    Fleet(FleetSamplerConfig),
}

impl SamplerMode {
    /// Fleet mode when `FLEET_REGISTRY_PATH` is set, else the single service of the variables.
    pub fn from_env(env: &(impl EnvSource + ?Sized)) -> Result<Self, ConfigError> {
        let Some(path) = registry_path(env)? else {
            return SamplerConfig::from_env(env).map(|c| SamplerMode::Single(Box::new(c)));
        };
        let r = Reader { env };
        let (readings_per_run, reading_interval_secs) = readings(&r)?;
        Ok(SamplerMode::Fleet(FleetSamplerConfig {
            registry_path: path,
            readings_per_run,
            reading_interval_secs,
        }))
    }
}

/// Reads `EXTRA_QUEUE_NAMES`: queue names, none of them `primary` or repeated.
fn extra_queues(
    r: &Reader<'_, impl EnvSource + ?Sized>,
    primary: &str,
) -> Result<Vec<String>, ConfigError> {
    let raw = r.text_var(&EXTRA_QUEUES);
    let mut names: Vec<String> = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        validate_queue_name(name).map_err(|p| {
            config_error(EXTRA_QUEUES.name, Some(raw.clone()), format!("{name}: {p}"))
        })?;
        if name == primary || names.iter().any(|n| n == name) {
            return Err(config_error(
                EXTRA_QUEUES.name,
                Some(raw.clone()),
                format!("{name} is named twice (QUEUE_NAME is counted already)"),
            ));
        }
        names.push(name.to_string());
    }
    Ok(names)
}

/// Reads the readings per run and their interval, checked against Lambda's limit.
fn readings(r: &Reader<'_, impl EnvSource + ?Sized>) -> Result<(u32, u32), ConfigError> {
    let readings_per_run: u32 = r.number_var(&READINGS)?;
    let reading_interval_secs: u32 = r.number_var(&INTERVAL)?;
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
    Ok((readings_per_run, reading_interval_secs))
}

/// `EXTRA_QUEUE_NAMES`.
const EXTRA_QUEUES: Text = Text {
    name: "EXTRA_QUEUE_NAMES",
    default: "",
    meaning: "more queues the service consumes, comma-separated: their messages add to QUEUE_NAME's backlog in every sampler reading (metrics stay under QUEUE_NAME; MPD, the backstop and `bpi status` read QUEUE_NAME's)",
};

impl SamplerConfig {
    /// Every queue the service consumes: QUEUE_NAME's first.
    pub fn queue_names(&self) -> Vec<String> {
        std::iter::once(self.scaling.policy.queue_name.clone())
            .chain(self.extra_queue_names.iter().cloned())
            .collect()
    }

    /// The variables the sampler reads beyond the updater's.
    pub fn variables() -> Vec<VarDoc> {
        vec![READINGS.doc(), INTERVAL.doc(), EXTRA_QUEUES.doc()]
    }

    /// Reads the sampler's settings.
    pub fn from_env(env: &(impl EnvSource + ?Sized)) -> Result<Self, ConfigError> {
        let scaling = UpdaterConfig::from_env(env)?;
        let r = Reader { env };
        let (readings_per_run, reading_interval_secs) = readings(&r)?;
        let extra_queue_names = extra_queues(&r, &scaling.policy.queue_name)?;
        Ok(SamplerConfig {
            scaling,
            readings_per_run,
            reading_interval_secs,
            extra_queue_names,
        })
    }

    /// The capacity model of this deployment (the shared settings').
    pub fn capacity_model(&self) -> crate::capacity::CapacityModel {
        self.scaling.capacity_model()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let env = env_with(&[("SAMPLER_READINGS", "60"), ("SAMPLER_INTERVAL_SECS", "15")]);
        let err = SamplerConfig::from_env(&env).expect_err("a run past Lambda's limit");
        assert_eq!(err.variable, "SAMPLER_INTERVAL_SECS");
    }
}
