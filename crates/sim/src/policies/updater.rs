//! The simulated target-bpi-updater shared by `ours` and the sampler design: core's own rule
//! (`bpi_core::update::plan_update`, the function the updater Lambda and `bpi status` call) over the workers'
//! statistic sets that CloudWatch has delivered, from the target a deploy writes (the declared MPD's).

use bpi_core::policy::{
    DEFAULT_IDLE_MINUTES, DEFAULT_SCALE_IN_COOLDOWN_SECS, DEFAULT_SCALE_OUT_COOLDOWN_SECS,
    DEFAULT_TARGET_UTILIZATION_PCT, PolicySettings, UtilizationSettings, target_tracking_config,
};
use bpi_core::update::{UpdateInputs, WhenUnmeasured, plan_update};
use bpi_core::{BacklogCounting, StatisticSet, TargetSettings, target_bpi};

use super::{Ctx, last_minutes};
use crate::scenario::Scenario;

/// The updater and the target it keeps in force.
#[derive(Debug)]
pub struct SimulatedUpdater {
    policy: PolicySettings,
    target_settings: TargetSettings,
    target: f64,
    changes: u32,
}

impl SimulatedUpdater {
    /// The updater of `scenario`, at the target of its declared MPD.
    pub fn new(scenario: &Scenario) -> Self {
        let target_settings = TargetSettings::new(
            scenario.latency_secs,
            scenario.concurrency,
            scenario.declared_mpd_secs,
            10_000,
        )
        .unwrap_or_else(|_| unreachable!("scenario settings are valid"));
        SimulatedUpdater {
            policy: policy_settings(scenario),
            target: f64::from(target_bpi(&target_settings, None).value),
            target_settings,
            changes: 0,
        }
    }

    /// Core's policy settings for the scenario.
    pub fn policy(&self) -> &PolicySettings {
        &self.policy
    }

    /// The target in force.
    pub fn target(&self) -> f64 {
        self.target
    }

    /// The target's settings (latency, concurrency, fallback MPD).
    pub fn target_settings(&self) -> &TargetSettings {
        &self.target_settings
    }

    /// Times the target changed.
    pub fn changes(&self) -> u32 {
        self.changes
    }

    /// One run over the last `window_minutes` of delivered statistic sets.
    pub fn run(&mut self, ctx: &Ctx<'_>, window_minutes: usize) {
        let delivered = ctx
            .metrics
            .delivered(ctx.now_ms, ctx.model.custom_delay_secs);
        let periods: Vec<StatisticSet> = last_minutes(delivered, window_minutes.max(1))
            .filter_map(|m| ctx.metrics.durations_at(m, ctx.now_ms))
            .collect();
        let activity: Vec<_> = last_minutes(delivered, window_minutes.max(1))
            .filter_map(|m| ctx.metrics.activity_at(m, ctx.now_ms))
            .collect();
        let current = target_tracking_config(&self.policy, self.target);
        let plan = plan_update(
            &periods,
            &activity,
            Some(&current),
            &UpdateInputs {
                target: &self.target_settings,
                policy: &self.policy,
                min_samples: bpi_core::mpd::DEFAULT_MIN_SAMPLES,
                hysteresis: bpi_core::decision::DEFAULT_HYSTERESIS,
                when_unmeasured: WhenUnmeasured::KeepTarget,
            },
        );
        // Targets are whole numbers.
        if (plan.target_in_force - self.target).abs() >= 0.5 {
            self.target = plan.target_in_force;
            self.changes += 1;
        }
    }
}

/// Core's policy settings for `scenario` (names are placeholders: the simulator has no AWS).
pub fn policy_settings(scenario: &Scenario) -> PolicySettings {
    PolicySettings {
        cluster_name: "sim".into(),
        service_name: "sim".into(),
        queue_name: "sim".into(),
        policy_name: "sim".into(),
        counting: BacklogCounting::VisibleAndInFlight,
        scale_out_cooldown_secs: DEFAULT_SCALE_OUT_COOLDOWN_SECS,
        scale_in_cooldown_secs: DEFAULT_SCALE_IN_COOLDOWN_SECS,
        min_capacity: scenario.min_tasks,
        max_capacity: scenario.max_tasks,
        utilization: Some(UtilizationSettings {
            concurrency: scenario.concurrency,
            target_pct: DEFAULT_TARGET_UTILIZATION_PCT,
        }),
        idle_minutes: DEFAULT_IDLE_MINUTES,
        scale_in_window_minutes: bpi_core::policy::DEFAULT_SCALE_IN_WINDOW_MINUTES,
        signal: bpi_core::policy::SignalMetrics::for_queue("ECS-SQS-BPI", "Single-Queue", "q"),
    }
}
