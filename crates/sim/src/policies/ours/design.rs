//! The tunable choices of this project's policy as the simulator runs it: what ships by default, the latency-first
//! preset, and the designs measured beside them (not shipped).

use bpi_core::capacity::{BusyRule, DEFAULT_TASK_START_SECS};
use bpi_core::sampler::FastPathShares;

/// The design's tunable choices, measured in the simulator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplerDesign {
    /// Target tracking aims at this share of the updater's target.
    pub headroom: f64,
    /// The utilization policy's target, percent (0: no utilization policy).
    pub utilization_pct: u32,
    /// The fast path's step cooldown, seconds.
    pub fast_cooldown_secs: u64,
    /// Minutes of an empty queue before the idle policy sets the minimum (0: none).
    pub idle_minutes: u32,
    /// The fast path sizes the fleet for these shares of the target per task, while the backlog outgrows the running
    /// fleet and otherwise (core's `FastPathShares`, its defaults by default).
    pub fast_shares: FastPathShares,
    /// The updater's cadence (and MPD window), seconds. Measured beside every 5 minutes (docs/design.md, the
    /// design variants): no worst case moved by more than a tenth of a point (the utilization policy follows a change
    /// of duration meanwhile).
    pub updater_every_secs: u64,
    /// The fast path sizes against the target of the workers' newest minutes of MPD when that is lower than the
    /// updater's (core's `fast_path_target`).
    pub recent_mpd: bool,
    /// Where the utilization policy's busy share comes from.
    pub utilization_source: UtilizationSource,
    /// A design not shipped, measured: the sampler sets the desired count itself (ecs:UpdateService) on the reading
    /// that asks for more, instead of publishing it for a high-resolution alarm `highres_delay_secs` later.
    pub fast_path_by_the_sampler: bool,
    /// When the fast path asks ahead (at the rising share).
    pub ask_ahead: AskAhead,
    /// A design not shipped, measured: each updater run sets the idle policy's wait to one minute more than the
    /// longest gap between busy minutes of the last hour, within these bounds (minutes); `idle_minutes` until the
    /// first run.
    pub idle_after_longest_gap: Option<(u32, u32)>,
    /// How the fast path sizes the fleet it asks for.
    pub sizing: FastPathSizing,
    /// The fast scale-in: when every reading of this many seconds needed fewer tasks than desired (core's capacity
    /// model), a step policy lowers the desired count to the need (at least one task; the idle policy takes the
    /// last). None: scale-in is left to target tracking and the idle policy.
    pub scale_in_window_secs: Option<u64>,
    /// The forecaster (core's `forecast`, run with each updater run): the most task-hours one scheduled window may
    /// hold (`FORECAST_MAX_TASK_HOURS`; 0: no forecasting, the reactive path alone).
    pub forecast_max_task_hours: f64,
    /// A design not shipped, measured: Application Auto Scaling's predictive scaling beside the reactive path
    /// ([`PredictiveModel`]).
    pub predictive: Option<PredictiveModel>,
    /// The keep-alive (core's `keep_alive`, on the queue's NumberOfMessagesSent of the last day): the idle wait from
    /// the gaps between messages, at most this share of them left waiting for a start, and the minimum raised to
    /// its floor. None: the fixed idle wait and the configured minimum.
    pub keep_alive_miss_budget: Option<f64>,
    /// The keep-alive on its own cadence, seconds (core's `EVERY_MINUTES`; None: with each updater run only).
    pub keep_alive_every_secs: Option<u64>,
    /// The keep-alive's floor keeps up with the median minute of this many newest minutes (core's `floor_minutes`).
    pub keep_alive_floor_minutes: usize,
    /// The keep-alive's headroom quantile (core's `headroom_quantile`; 0: none).
    pub keep_alive_headroom_quantile: f64,
}

/// Application Auto Scaling's predictive scaling for ECS as modelled (ForecastAndScale). Documented (AAS user guide,
/// "How predictive scaling works"): it needs 24 hours of the load metric, reads up to 14 days, forecasts each hour,
/// sets the capacity at the start of each hour, `SchedulingBufferTime` earlier, and never scales in. Modelled: the
/// forecast of an hour is the mean load of the same hour on the days held (a seasonal average; AWS's model is
/// undocumented, and so is its accuracy: `load_error` biases the forecast), the load metric is the messages sent a
/// minute, the capacity is that load over one task's throughput at the utilization target, and it holds as the
/// hour's minimum capacity (EC2 Auto Scaling documents this for its groups; for ECS it is a guess).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PredictiveModel {
    /// The forecast's relative error (0.2: 20% above the seasonal average; a guess, explored).
    pub load_error: f64,
    /// SchedulingBufferTime, seconds (AAS default 300).
    pub buffer_secs: u64,
}
/// How the fast path sizes the fleet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FastPathSizing {
    /// Core's `FastPathShares`: the backlog at a share of the target per task.
    Shares,
    /// Core's capacity model (`bpi_core::capacity`), assuming task starts of `task_start_secs` (the deployment's
    /// setting, not the behaviour's truth: the model cannot see it).
    Capacity {
        /// The start the model assumes, seconds.
        task_start_secs: f64,
        /// The busy part's rule.
        busy_rule: BusyRule,
    },
}

/// When the fast path sizes at the rising share rather than the steady one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AskAhead {
    /// Core's rule (`FastPathShares::capacity`): while the backlog outgrows the running fleet.
    RisingBacklog,
    /// The previous rule, measured: while some desired task is not running yet (or none runs). A spill of one task's
    /// worth feeds on itself: the ask for one more task makes a task pending, and the next reading asks ahead.
    PendingTasks,
}

/// Where the utilization policy reads the busy share of the running tasks' slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UtilizationSource {
    /// The workers' Sum(MsgProcessingDuration) over 60 × concurrency × the sampler's running count, the workers'
    /// minute filled with 0 until it arrives (`custom_delay_secs` after the sampler's).
    WorkerDurations,
    /// The sampler's own in-flight count over concurrency × its running count: one clock, no fill.
    SamplerInFlight,
}

impl Default for SamplerDesign {
    fn default() -> Self {
        SamplerDesign {
            headroom: 1.0,
            utilization_pct: bpi_core::policy::DEFAULT_TARGET_UTILIZATION_PCT,
            fast_cooldown_secs: u64::from(bpi_core::policy::FAST_PATH_COOLDOWN_SECS),
            idle_minutes: bpi_core::policy::DEFAULT_IDLE_MINUTES,
            fast_shares: FastPathShares::default(),
            updater_every_secs: 3600,
            recent_mpd: true,
            utilization_source: UtilizationSource::SamplerInFlight,
            fast_path_by_the_sampler: false,
            ask_ahead: AskAhead::RisingBacklog,
            idle_after_longest_gap: None,
            sizing: FastPathSizing::Capacity {
                task_start_secs: f64::from(DEFAULT_TASK_START_SECS),
                busy_rule: BusyRule::Utilization,
            },
            scale_in_window_secs: Some(
                u64::from(bpi_core::policy::DEFAULT_SCALE_IN_WINDOW_MINUTES) * 60,
            ),
            forecast_max_task_hours: bpi_core::forecast::DEFAULT_MAX_TASK_HOURS,
            predictive: None,
            keep_alive_miss_budget: Some(bpi_core::keep_alive::DEFAULT_MISS_BUDGET),
            keep_alive_every_secs: Some(u64::from(bpi_core::keep_alive::EVERY_MINUTES) * 60),
            keep_alive_floor_minutes: bpi_core::keep_alive::FLOOR_MINUTES,
            keep_alive_headroom_quantile: bpi_core::keep_alive::HEADROOM_QUANTILE,
        }
    }
}

impl SamplerDesign {
    /// The design with the reactive path alone (no forecaster).
    pub fn reactive_only(self) -> Self {
        SamplerDesign {
            forecast_max_task_hours: 0.0,
            ..self
        }
    }

    /// The "latency first" settings (`deploy.sh --task-start 300 --idle-minutes 6`): bursts sized for a longer
    /// start, an empty queue's fleet kept 6 minutes (a pause of up to 6 minutes finds it warm). More task-hours for
    /// the share within the promise where traffic pauses. Measured beside (the workload suite): a 5-minute scale-in
    /// window lowered shares for more task-hours; a 15-minute idle wait ran many times the reactive limit's
    /// task-hours after each burst of `idle-then-burst`, and target tracking's own scale-in (15 minutes of an empty
    /// queue's ecsBPI of 0) ends the bridge about then anyway.
    pub fn latency_first() -> Self {
        SamplerDesign {
            sizing: FastPathSizing::Capacity {
                task_start_secs: LATENCY_FIRST_TASK_START_SECS,
                busy_rule: BusyRule::Utilization,
            },
            scale_in_window_secs: Some(u64::from(LATENCY_FIRST_SCALE_IN_WINDOW_MINUTES) * 60),
            idle_minutes: LATENCY_FIRST_IDLE_MINUTES,
            ..SamplerDesign::default()
        }
    }
}

/// The latency-first preset's `TASK_START_SECS`.
pub const LATENCY_FIRST_TASK_START_SECS: f64 = 300.0;
/// The latency-first preset's `SCALE_IN_WINDOW_MINUTES`.
pub const LATENCY_FIRST_SCALE_IN_WINDOW_MINUTES: u32 = 2;
/// The latency-first preset's `IDLE_SCALE_IN_MINUTES`.
pub const LATENCY_FIRST_IDLE_MINUTES: u32 = 6;
