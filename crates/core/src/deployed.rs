//! The rules as a deployment runs them: core's forecaster and keep-alive fed from a deployment's settings
//! ([`UpdaterConfig`]) and CloudWatch's datapoints. The updater runs them, `bpi schedule` and `bpi status` show them.
//!
//! Why it exists: the rules themselves (`crate::forecast`, `crate::keep_alive`) know nothing of settings, and the
//! settings (`crate::config`) read the rules' defaults; these functions need both, so they sit above both, and no
//! module imports one that imports it back.

use crate::config::UpdaterConfig;
use crate::forecast::{ExistingAction, ScheduleRecord, SentHistory, WindowSizing, forecast};
use crate::keep_alive::{
    DEFAULT_MISS_BUDGET, DEFAULT_MOST_IDLE_MINUTES, FLOOR_MINUTES, HEADROOM_QUANTILE,
    HISTORY_MINUTES, KeepAlive, KeepAliveSettings, keep_alive,
};

/// The forecaster as a deployment runs it (the updater with each run, `bpi schedule` as a dry run): the history
/// from CloudWatch's NumberOfMessagesSent datapoints before `now_epoch_secs`, windows sized by the deployment's
/// capacity model at the MPD of `target` (the target in force), lowered back to `min_capacity` (the configured
/// minimum raised to the keep-alive's floor, `crate::keep_alive`), the record against the service's `existing`
/// actions.
pub fn schedule_for(
    config: &UpdaterConfig,
    sent: &[(i64, f64)],
    now_epoch_secs: u64,
    target: f64,
    min_capacity: u32,
    existing: &[ExistingAction],
    applied: bool,
) -> ScheduleRecord {
    let history = SentHistory::from_datapoints(sent, now_epoch_secs);
    let sizing = WindowSizing {
        model: config.capacity_model(),
        mpd_secs: crate::target::mpd_of_target(&config.target, target),
        min_capacity,
        max_capacity: config.policy.max_capacity,
    };
    // The history ends DELIVERY_MARGIN_MINUTES before now; a cycle counts once PEAK_MINUTES past its onset, so
    // learning at the real now never reads a minute not yet published as a miss.
    let wanted = forecast(
        &history,
        now_epoch_secs / 60,
        &sizing,
        &config.forecast_settings(),
    );
    ScheduleRecord::of(&wanted, existing, now_epoch_secs / 60, applied)
}

/// The keep-alive as a deployment runs it (the updater, hourly and on its own schedule): the last day of
/// CloudWatch's NumberOfMessagesSent datapoints up to the minute of `now_epoch_secs` (every minute published: unlike
/// the forecaster, which leaves the newest minutes out lest an unpublished minute read as a fall, the keep-alive
/// only looks for messages, and a published minute's are real), MPD from `target` (the target in force), the
/// deployment's capacity model, its idle wait as the shortest.
pub fn keep_alive_for(
    config: &UpdaterConfig,
    sent: &[(i64, f64)],
    now_epoch_secs: u64,
    target: f64,
) -> KeepAlive {
    let history = SentHistory::ending_at(sent, now_epoch_secs / 60, HISTORY_MINUTES as u64);
    let model = config.capacity_model();
    keep_alive(
        &history.per_minute,
        crate::target::mpd_of_target(&config.target, target),
        &model,
        config.policy.max_capacity,
        &KeepAliveSettings {
            task_start_secs: model.task_start_secs,
            miss_budget: DEFAULT_MISS_BUDGET,
            fewest_idle_minutes: config.policy.idle_minutes.max(1),
            most_idle_minutes: DEFAULT_MOST_IDLE_MINUTES,
            floor_minutes: FLOOR_MINUTES,
            headroom_quantile: HEADROOM_QUANTILE,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deployment_reads_every_published_minute_up_to_now() {
        let config = UpdaterConfig::from_env(&[
            ("CLUSTER_NAME", "c"),
            ("SERVICE_NAME", "s"),
            ("QUEUE_NAME", "q"),
            ("MIN_CAPACITY", "0"),
        ])
        .expect("valid");
        let now = 10 * 86_400;
        // One message two minutes ago: within the forecaster's delivery margin, but published, so the queue is
        // active.
        let k = keep_alive_for(&config, &[(now as i64 - 120, 1.0)], now, 10.0);
        assert!(k.active);
        assert_eq!(k.floor_tasks, 1);
        let k = keep_alive_for(&config, &[(now as i64 - 3_600, 1.0)], now, 10.0);
        assert!(!k.active, "an hour ago is past the shortest wait");
    }
}
