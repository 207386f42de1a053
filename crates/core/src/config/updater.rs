//! The target-bpi-updater's settings (also the sampler's and `bpi`'s: everything that builds the canonical policy).

use serde::Serialize;

use super::*;
use crate::backlog::BacklogCounting;
use crate::decision::DEFAULT_HYSTERESIS;
use crate::mpd::DEFAULT_MIN_SAMPLES;
use crate::policy::{
    DEFAULT_IDLE_MINUTES, DEFAULT_SCALE_IN_COOLDOWN_SECS, DEFAULT_SCALE_IN_WINDOW_MINUTES,
    DEFAULT_SCALE_OUT_COOLDOWN_SECS, DEFAULT_TARGET_UTILIZATION_PCT, PolicySettings, SignalMetrics,
    UtilizationSettings,
};
use crate::target::{DEFAULT_MAX_TARGET_BPI, TargetSettings};

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
    /// The task start the capacity model assumes, seconds (`TASK_START_SECS`): the sampler's fast path sizes with
    /// it, the forecaster raises capacity this long before a burst.
    pub task_start_secs: u32,
    /// The most task-hours one scheduled window of the forecaster may hold (`FORECAST_MAX_TASK_HOURS`; 0: off).
    pub forecast_max_task_hours: f64,
}

/// `TASK_START_SECS`.
pub(super) const TASK_START: Number<u32> = Number {
    name: "TASK_START_SECS",
    default: crate::capacity::DEFAULT_TASK_START_SECS,
    min: 0,
    max: 900,
    meaning: "seconds from launching a task to its first receive, as the capacity model assumes: a task asked for now serves the backlog only in what is left of the promise after it; longer is safer (more tasks for a burst), shorter is leaner",
};

/// `FORECAST_MAX_TASK_HOURS`.
const FORECAST_MAX_TASK_HOURS: Number<f64> = Number {
    name: "FORECAST_MAX_TASK_HOURS",
    default: crate::forecast::DEFAULT_MAX_TASK_HOURS,
    min: 0.0,
    max: 10_000.0,
    meaning: "the forecaster: bursts that recurred at the same minute of the hour or the day in NumberOfMessagesSent (14 days) get scheduled actions that raise MIN_CAPACITY one task start ahead; each window holds at most this many task-hours above the minimum, what a wrong forecast can cost (0 = off)",
};

/// `DESIRED_LATENCY_SECS`.
const LATENCY: Number<f64> = Number {
    name: "DESIRED_LATENCY_SECS",
    default: 60.0,
    min: 0.001,
    max: 86_400.0,
    meaning: "acceptable latency: longest a message should wait",
};

/// `TASK_CONCURRENCY`.
const CONCURRENCY: Number<u32> = Number {
    name: TASK_CONCURRENCY,
    default: 1,
    min: 1,
    max: 1000,
    meaning: "messages one task processes at a time; must match the worker's",
};

/// `DEFAULT_MSG_PROC_DURATION_SECS`.
const FALLBACK_MPD: Number<f64> = Number {
    name: "DEFAULT_MSG_PROC_DURATION_SECS",
    default: 5.0,
    min: 0.001,
    max: 43_200.0,
    meaning: "MPD used until enough samples are measured",
};

/// `MAX_TARGET_BPI`.
const MAX_TARGET: Number<u32> = Number {
    name: "MAX_TARGET_BPI",
    default: DEFAULT_MAX_TARGET_BPI,
    min: 1,
    max: 1_000_000,
    meaning: "upper bound of the target",
};

/// `MPD_WINDOW_SECS`.
const MPD_WINDOW: Number<u32> = Number {
    name: "MPD_WINDOW_SECS",
    default: 3600,
    min: 60,
    max: 1_209_600,
    meaning: "history MPD is measured over",
};

/// `TARGET_HYSTERESIS_PCT`.
const HYSTERESIS_PCT: Number<f64> = Number {
    name: "TARGET_HYSTERESIS_PCT",
    default: DEFAULT_HYSTERESIS * 100.0,
    min: 0.0,
    max: 100.0,
    meaning: "target change, in percent, that makes the updater write",
};

/// `SCALE_OUT_COOLDOWN_SECS`.
const SCALE_OUT_COOLDOWN: Number<u32> = Number {
    name: "SCALE_OUT_COOLDOWN_SECS",
    default: DEFAULT_SCALE_OUT_COOLDOWN_SECS,
    min: 0,
    max: 3600,
    meaning: "target tracking scale-out cooldown",
};

/// `SCALE_IN_COOLDOWN_SECS`.
const SCALE_IN_COOLDOWN: Number<u32> = Number {
    name: "SCALE_IN_COOLDOWN_SECS",
    default: DEFAULT_SCALE_IN_COOLDOWN_SECS,
    min: 0,
    max: 3600,
    meaning: "target tracking scale-in cooldown",
};

/// `MIN_CAPACITY`.
const MIN_CAPACITY: Number<u32> = Number {
    name: "MIN_CAPACITY",
    default: 1,
    min: 0,
    max: 10_000,
    meaning: "fewest tasks; at 0 the fast path starts the first tasks for any backlog",
};

/// `MAX_CAPACITY`.
const MAX_CAPACITY: Number<u32> = Number {
    name: "MAX_CAPACITY",
    default: 10,
    min: 1,
    max: 10_000,
    meaning: "most tasks, at least MIN_CAPACITY",
};

/// `MPD_MIN_SAMPLES`.
const MPD_MIN_SAMPLES: Number<u32> = Number {
    name: "MPD_MIN_SAMPLES",
    // 20: fits a u32, as the documented range does.
    default: DEFAULT_MIN_SAMPLES as u32,
    min: 1,
    max: 1_000_000,
    meaning: "messages needed before the measured MPD is used",
};

/// `TARGET_UTILIZATION_PCT`.
const TARGET_UTILIZATION_PCT: Number<u32> = Number {
    name: "TARGET_UTILIZATION_PCT",
    default: DEFAULT_TARGET_UTILIZATION_PCT,
    min: 0,
    max: 100,
    meaning: "second target tracking policy: keep this share of the task slots busy (the sampler's in-flight count over concurrency × its running count); it stops scale-in below the work (0 = no such policy)",
};

/// `IDLE_SCALE_IN_MINUTES`.
const IDLE_SCALE_IN_MINUTES: Number<u32> = Number {
    name: "IDLE_SCALE_IN_MINUTES",
    default: DEFAULT_IDLE_MINUTES,
    min: 0,
    max: 60,
    meaning: "after this many minutes with nothing visible or in flight, set the service to MIN_CAPACITY at once (0 = off)",
};

/// `SCALE_IN_WINDOW_MINUTES`.
const SCALE_IN_WINDOW_MINUTES: Number<u32> = Number {
    name: "SCALE_IN_WINDOW_MINUTES",
    default: DEFAULT_SCALE_IN_WINDOW_MINUTES,
    min: 0,
    max: 15,
    meaning: "fast scale-in: once every sampler reading of this many minutes needed fewer tasks than desired (the capacity model's ecsNeededTasks), set the service to that need, at least one task (0 = off)",
};

/// `SCALING_POLICY_NAME`.
const POLICY_NAME: Text = Text {
    name: "SCALING_POLICY_NAME",
    default: crate::policy::DEFAULT_POLICY_NAME,
    meaning: "name of the target tracking policy the updater owns",
};

/// `BPI_METRIC_NAME`.
const BPI_METRIC: Text = Text {
    name: "BPI_METRIC_NAME",
    default: DEFAULT_BPI_METRIC_NAME,
    meaning: "name of the published target metric",
};

/// `FLEET_REGISTRY_PATH`.
pub(super) const REGISTRY_PATH: Text = Text {
    name: "FLEET_REGISTRY_PATH",
    default: "",
    meaning: "fleet mode (the sampler and the updater): serve every service registered under this SSM path (one parameter per service, `PATH/CLUSTER/SERVICE`, holding its settings as JSON; `bpi fleet add` writes it) instead of the one service of CLUSTER_NAME, SERVICE_NAME and QUEUE_NAME; unset = that one service",
};

/// The registry path of fleet mode, when `FLEET_REGISTRY_PATH` is set (checked); None: the one service of the
/// variables.
pub fn registry_path(env: &(impl EnvSource + ?Sized)) -> Result<Option<String>, ConfigError> {
    let path = Reader { env }.text_var(&REGISTRY_PATH);
    if path.is_empty() {
        return Ok(None);
    }
    super::validate_registry_path(&path)
        .map_err(|p| config_error(REGISTRY_PATH.name, Some(path.clone()), p))?;
    Ok(Some(path))
}

/// `COUNT_IN_FLIGHT`.
const COUNT_IN_FLIGHT: Flag = Flag {
    name: "COUNT_IN_FLIGHT",
    default: true,
    meaning: "count in-flight messages as backlog (false = the blueprint's visible only)",
};

impl UpdaterConfig {
    /// Every variable the updater reads.
    pub fn variables() -> Vec<VarDoc> {
        let mut docs = vec![
            VarDoc::new(
                "CLUSTER_NAME",
                "required",
                "ECS cluster of the scaled service",
            ),
            VarDoc::new("SERVICE_NAME", "required", "ECS service scaled"),
            VarDoc::new(
                QUEUE_NAME,
                "required",
                "SQS queue whose backlog drives scaling",
            ),
            POLICY_NAME.doc(),
            LATENCY.doc(),
            CONCURRENCY.doc(),
            FALLBACK_MPD.doc(),
            MAX_TARGET.doc(),
            MPD_WINDOW.doc(),
            MPD_MIN_SAMPLES.doc(),
            HYSTERESIS_PCT.doc(),
            COUNT_IN_FLIGHT.doc(),
            SCALE_OUT_COOLDOWN.doc(),
            SCALE_IN_COOLDOWN.doc(),
            MIN_CAPACITY.doc(),
            MAX_CAPACITY.doc(),
            TARGET_UTILIZATION_PCT.doc(),
            IDLE_SCALE_IN_MINUTES.doc(),
            SCALE_IN_WINDOW_MINUTES.doc(),
            BPI_METRIC.doc(),
            TASK_START.doc(),
            FORECAST_MAX_TASK_HOURS.doc(),
            REGISTRY_PATH.doc(),
        ];
        docs.extend(metric_docs());
        docs
    }

    /// Reads the updater's settings.
    pub fn from_env(env: &(impl EnvSource + ?Sized)) -> Result<Self, ConfigError> {
        let r = Reader { env };
        let queue_name = r.required(QUEUE_NAME, "name of the SQS queue")?;
        validate_queue_name(&queue_name)
            .map_err(|p| config_error(QUEUE_NAME, Some(queue_name.clone()), p))?;
        let min_capacity = r.number_var(&MIN_CAPACITY)?;
        let max_capacity: u32 = r.number_var(&MAX_CAPACITY)?;
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
            policy_name: r.text_var(&POLICY_NAME),
            counting: if r.flag_var(&COUNT_IN_FLIGHT)? {
                BacklogCounting::VisibleAndInFlight
            } else {
                BacklogCounting::VisibleOnly
            },
            scale_out_cooldown_secs: r.number_var(&SCALE_OUT_COOLDOWN)?,
            scale_in_cooldown_secs: r.number_var(&SCALE_IN_COOLDOWN)?,
            min_capacity,
            max_capacity,
            utilization: None,
            idle_minutes: r.number_var(&IDLE_SCALE_IN_MINUTES)?,
            scale_in_window_minutes: r.number_var(&SCALE_IN_WINDOW_MINUTES)?,
            signal: SignalMetrics::for_queue("", "", ""),
        };
        // Ranges are checked by the reads, so TargetSettings::new cannot fail; map its error anyway.
        let latency = r.number_var(&LATENCY)?;
        let concurrency = r.number_var(&CONCURRENCY)?;
        let fallback = r.number_var(&FALLBACK_MPD)?;
        let max_target = r.number_var(&MAX_TARGET)?;
        let target = TargetSettings::new(latency, concurrency, fallback, max_target)
            .map_err(|e| config_error("DESIRED_LATENCY_SECS", None, e.to_string()))?;
        let metrics = r.metric_names()?;
        let target_pct: u32 = r.number_var(&TARGET_UTILIZATION_PCT)?;
        let mut policy = policy;
        policy.signal =
            SignalMetrics::for_queue(&metrics.namespace, &metrics.metric_type, &policy.queue_name);
        policy.utilization = (target_pct > 0).then_some(UtilizationSettings {
            concurrency,
            target_pct,
        });
        Ok(UpdaterConfig {
            policy,
            target,
            mpd_window_secs: r.number_var(&MPD_WINDOW)?,
            mpd_min_samples: u64::from(r.number_var(&MPD_MIN_SAMPLES)?),
            hysteresis: r.number_var(&HYSTERESIS_PCT)? / 100.0,
            metrics,
            bpi_metric_name: r.text_var(&BPI_METRIC),
            task_start_secs: r.number_var(&TASK_START)?,
            forecast_max_task_hours: r.number_var(&FORECAST_MAX_TASK_HOURS)?,
        })
    }

    /// The capacity model of this deployment: its promise and concurrency, the start it assumes, the utilization
    /// policy's target (80% when that policy is off).
    pub fn capacity_model(&self) -> crate::capacity::CapacityModel {
        let target_pct = self
            .policy
            .utilization
            .as_ref()
            .map_or(DEFAULT_TARGET_UTILIZATION_PCT, |u| u.target_pct);
        crate::capacity::CapacityModel {
            promise_secs: self.target.latency_secs(),
            concurrency: self.target.concurrency(),
            task_start_secs: f64::from(self.task_start_secs),
            target_utilization: f64::from(target_pct.clamp(1, 100)) / 100.0,
            busy_rule: crate::capacity::BusyRule::Utilization,
        }
    }

    /// The forecaster's bounds (`FORECAST_MAX_TASK_HOURS`, `TASK_START_SECS`).
    pub fn forecast_settings(&self) -> crate::forecast::ForecastSettings {
        crate::forecast::ForecastSettings {
            max_task_hours: self.forecast_max_task_hours,
            task_start_secs: self.task_start_secs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BacklogCounting;

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
}
