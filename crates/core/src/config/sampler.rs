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
    /// The shares of the target per task the fast path sizes the fleet for (core's `FastPathShares`).
    pub fast_path: crate::sampler::FastPathShares,
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

/// `FAST_PATH_HEADROOM`.
const HEADROOM: Number<f64> = Number {
    name: "FAST_PATH_HEADROOM",
    default: crate::sampler::DEFAULT_FAST_PATH_HEADROOM,
    min: 0.1,
    max: 1.0,
    meaning: "while the backlog outgrows the running fleet (none runs, or it needs over 1.2 times the running tasks at the steady share), the fast path asks for a task per this share of the target in the backlog: lower asks further ahead (safer when messages suddenly take longer, more task-hours)",
};

/// `FAST_PATH_STEADY_HEADROOM`.
const STEADY_HEADROOM: Number<f64> = Number {
    name: "FAST_PATH_STEADY_HEADROOM",
    default: crate::sampler::DEFAULT_FAST_PATH_STEADY_HEADROOM,
    min: 0.1,
    max: 1.0,
    meaning: "the same share otherwise; set both to 0.25 to put latency first",
};

impl SamplerConfig {
    /// The variables the sampler reads beyond the updater's.
    pub fn variables() -> Vec<VarDoc> {
        vec![
            READINGS.doc(),
            INTERVAL.doc(),
            HEADROOM.doc(),
            STEADY_HEADROOM.doc(),
        ]
    }

    /// Reads the sampler's settings.
    pub fn from_env(env: &(impl EnvSource + ?Sized)) -> Result<Self, ConfigError> {
        let scaling = UpdaterConfig::from_env(env)?;
        let r = Reader { env };
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
        Ok(SamplerConfig {
            scaling,
            readings_per_run,
            reading_interval_secs,
            fast_path: crate::sampler::FastPathShares::new(
                r.number_var(&HEADROOM)?,
                r.number_var(&STEADY_HEADROOM)?,
            ),
        })
    }
}
