//! One updater run: measure MPD, compute ecsTargetBPI, compare with the policy in force, write the canonical policy
//! only when core's update decision says so, publish what was used; then the forecaster: read 14 days of the
//! queue's NumberOfMessagesSent, learn the bursts that recur (core's `forecast`) and bring the service's scheduled
//! actions of ours to them (core's `reconcile`: the user's own are never touched); and the keep-alive: the floor
//! the last day of arrivals asks for (core's `keep_alive`) becomes the scalable target's minimum. All of it in one
//! decision record.

use std::time::{Duration, SystemTime};

use bpi_aws::{AwsClients, AwsError};
use bpi_core::config::UpdaterConfig;
use bpi_core::deployed::{keep_alive_for, schedule_for};
use bpi_core::forecast::{
    DELIVERY_MARGIN_MINUTES, DeleteScheduledActionRequest, ExistingAction, HISTORY_MINUTES,
    ScheduleChange, ScheduleRecord, is_ours, raise_in_force,
};
use bpi_core::keep_alive::{self, KeepAlive, MinimumChange, minimum_change};
use bpi_core::policy::target_tracking_policy;
pub use bpi_core::update::WhenUnmeasured;
use bpi_core::update::{MpdStatus, UpdateInputs, plan_update};
use bpi_core::{MpdEstimate, target_bpi};
use serde::Serialize;

pub use crate::port::MPD_METRIC_NAME;
use crate::port::UpdaterPort;

/// What a run found and did: returned by the handler and logged as one JSON line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionRecord {
    /// Measured MPD over the window, seconds (None: too few samples).
    pub mpd: Option<f64>,
    /// Messages measured in the window.
    pub samples: u64,
    /// The window, seconds.
    pub window_secs: u32,
    /// Target of the policy before the run (None: there was no policy).
    pub old_target: Option<f64>,
    /// Target in force after the run.
    pub new_target: f64,
    /// Whether the policy was written.
    pub updated: bool,
    /// Why (or why not).
    pub reason: String,
    /// How the target was chosen: `measured`, `littles-law` (no worker durations: MPD estimated from SQS's
    /// in-flight count and deletions, `samples` then counting deletions), `kept` (too few samples, current target
    /// kept) or `fallback` (too few samples and no policy: the configured default MPD).
    pub mpd_status: MpdStatus,
    /// Warnings about the target (e.g. latency below MPD).
    pub warnings: Vec<String>,
    /// A dry run decides but writes and publishes nothing.
    pub dry_run: bool,
    /// The forecaster's scheduled capacity: the windows, why each exists, the writes, the next action.
    pub schedule: ScheduleRecord,
    /// The keep-alive: the floor the queue's arrivals ask for and what it did to the minimum capacity.
    pub keep_alive: KeepAliveRecord,
}

/// The updater: its AWS port (the SDK clients in the Lambda) and settings, built once per Lambda instance.
#[derive(Debug, Clone)]
pub struct Updater<P: UpdaterPort = AwsClients> {
    clients: P,
    config: UpdaterConfig,
    when_unmeasured: WhenUnmeasured,
}

impl<P: UpdaterPort> Updater<P> {
    /// An updater with `clients` and `config`, keeping the target in force when too little is measured.
    pub fn new(clients: P, config: UpdaterConfig) -> Self {
        Updater {
            clients,
            config,
            when_unmeasured: WhenUnmeasured::KeepTarget,
        }
    }

    /// The same updater with another rule for too few samples.
    pub fn when_unmeasured(self, when_unmeasured: WhenUnmeasured) -> Self {
        Updater {
            when_unmeasured,
            ..self
        }
    }

    /// Runs once as of `now`.
    pub async fn run(&self, now: SystemTime, dry_run: bool) -> Result<DecisionRecord, AwsError> {
        let c = &self.config;
        let window = Duration::from_secs(u64::from(c.mpd_window_secs));
        let periods = self.clients.duration_stats(c, window, now).await?;
        let activity = self.clients.queue_activity(c, window, now).await?;
        let current = self.clients.current_policy(c).await?;
        let plan = plan_update(
            &periods,
            &activity,
            current.as_ref(),
            &UpdateInputs {
                target: &c.target,
                policy: &c.policy,
                min_samples: c.mpd_min_samples,
                hysteresis: c.hysteresis,
                when_unmeasured: self.when_unmeasured,
            },
        );
        let estimate = plan.estimate;
        let old_target = current.as_ref().map(|p| p.target_value);
        let mpd_status = plan.status;
        let mut reason = plan.decision.reason.to_string();
        if let MpdEstimate::Unknown {
            samples,
            min_samples,
        } = estimate
        {
            reason = format!(
                "too few samples ({samples} < {min_samples}), {} target; {reason}",
                mpd_status.as_str()
            );
        }
        if plan.status == MpdStatus::LittlesLaw {
            reason = format!(
                "no MsgProcessingDuration data: MPD estimated by Little's law from SQS's in-flight count and {} deletions; {reason}",
                estimate.samples()
            );
        }
        let updated = plan.decision.write && !dry_run;
        if updated {
            self.clients
                .write_policy(&target_tracking_policy(&c.policy, plan.target))
                .await?;
        }
        let new_target = plan.target_in_force;
        if !dry_run {
            self.clients
                .publish(c, new_target, estimate.mpd_secs(), now)
                .await?;
        }
        let (schedule, keep_alive) = self.schedule(now, plan.target_in_force, dry_run).await?;
        let record = DecisionRecord {
            mpd: estimate.mpd_secs(),
            samples: estimate.samples(),
            window_secs: c.mpd_window_secs,
            old_target,
            new_target,
            updated,
            reason,
            mpd_status,
            warnings: plan.warnings.iter().map(ToString::to_string).collect(),
            dry_run,
            schedule,
            keep_alive,
        };
        for w in &record.warnings {
            tracing::warn!(warning = w.as_str(), "target warning");
        }
        tracing::info!(decision = %serde_json::to_string(&record).unwrap_or_default(), "updater decision");
        Ok(record)
    }

    /// The keep-alive alone as of `now`, on its own schedule (every [`keep_alive::EVERY_MINUTES`] minutes, the
    /// request `{"run": "keep-alive"}`): the last day of NumberOfMessagesSent, the target in force (its MPD sizes
    /// the floor), the service's scheduled actions and the scalable target's bounds; the minimum brought to the
    /// floor unless `dry_run`. The hourly run's MPD window and forecaster are untouched: between two of them a
    /// queue that starts or stops gets its floor within minutes, not within the hour.
    pub async fn run_keep_alive(
        &self,
        now: SystemTime,
        dry_run: bool,
    ) -> Result<KeepAliveRecord, AwsError> {
        let c = &self.config;
        let now_secs = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let target = self.clients.current_policy(c).await?.map_or_else(
            || f64::from(target_bpi(&c.target, None).value),
            |p| p.target_value,
        );
        let history_minutes = keep_alive::HISTORY_MINUTES as u64 + DELIVERY_MARGIN_MINUTES;
        let points = self
            .clients
            .messages_sent(c, Duration::from_secs(history_minutes * 60), now)
            .await?;
        let keep = keep_alive_for(c, &points, now_secs, target);
        let existing = self.clients.scheduled_actions(c).await?;
        let record = self
            .keep_alive(
                &keep,
                keep.minimum(c.policy.min_capacity),
                &existing,
                now_secs / 60,
                dry_run,
            )
            .await?;
        tracing::info!(keep_alive = %serde_json::to_string(&record).unwrap_or_default(), "keep-alive decision");
        Ok(record)
    }

    /// The forecaster's and the keep-alive's part of a run: the keep-alive's floor from the last day of the
    /// history, then the windows the history asks for at `target` (its MPD sizes them), lowered back to the
    /// configured minimum raised to that floor, and the writes that make the service's actions of ours those (made
    /// unless `dry_run`). With the forecaster off (`FORECAST_MAX_TASK_HOURS=0`) only the last day is read, and any
    /// action of ours left is deleted.
    async fn schedule(
        &self,
        now: SystemTime,
        target: f64,
        dry_run: bool,
    ) -> Result<(ScheduleRecord, KeepAliveRecord), AwsError> {
        let c = &self.config;
        let now_secs = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let settings = c.forecast_settings();
        // The forecaster reads 14 days; the keep-alive alone, its last day.
        let history_minutes = if settings.max_task_hours > 0.0 {
            HISTORY_MINUTES
        } else {
            keep_alive::HISTORY_MINUTES as u64 + DELIVERY_MARGIN_MINUTES
        };
        let points = self
            .clients
            .messages_sent(c, Duration::from_secs(history_minutes * 60), now)
            .await?;
        let keep = keep_alive_for(c, &points, now_secs, target);
        let minimum = keep.minimum(c.policy.min_capacity);
        let existing = self.clients.scheduled_actions(c).await?;
        let keep_alive = self
            .keep_alive(&keep, minimum, &existing, now_secs / 60, dry_run)
            .await?;
        let record = schedule_for(c, &points, now_secs, target, minimum, &existing, !dry_run);
        if !dry_run {
            let resource_id = c.policy.resource_id();
            for change in &record.changes {
                match change {
                    ScheduleChange::Create(a) | ScheduleChange::Update(a) => {
                        self.clients
                            .put_scheduled_action(&a.request(&resource_id))
                            .await?;
                    }
                    ScheduleChange::Delete { name } => {
                        self.clients
                            .delete_scheduled_action(&DeleteScheduledActionRequest::new(
                                &resource_id,
                                name,
                            ))
                            .await?;
                    }
                }
            }
        }
        Ok((record, keep_alive))
    }

    /// The keep-alive's part of a run: the scalable target's minimum brought to `minimum` (core's
    /// `minimum_change`: raised always, lowered only when no scheduled action holds it), written unless `dry_run`.
    async fn keep_alive(
        &self,
        keep: &KeepAlive,
        minimum: u32,
        existing: &[ExistingAction],
        now_epoch_minute: u64,
        dry_run: bool,
    ) -> Result<KeepAliveRecord, AwsError> {
        let c = &self.config;
        let Some((current_min, max)) = self.clients.capacity_bounds(c).await? else {
            return Ok(KeepAliveRecord {
                keep_alive: *keep,
                minimum,
                change: None,
                applied: false,
            });
        };
        let change = minimum_change(
            current_min,
            minimum.min(max),
            raise_in_force(existing, now_epoch_minute),
            existing.iter().any(|a| !is_ours(&a.name)),
        );
        let applied = match change {
            MinimumChange::Set { min_capacity } if !dry_run => {
                self.clients
                    .set_capacity_bounds(c, min_capacity, max)
                    .await?;
                true
            }
            _ => false,
        };
        Ok(KeepAliveRecord {
            keep_alive: *keep,
            minimum,
            change: Some(change),
            applied,
        })
    }
}

/// What the keep-alive found and did: the decision record holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeepAliveRecord {
    /// The idle wait, the floor and what they rest on.
    pub keep_alive: KeepAlive,
    /// The minimum asked for: the configured one raised to the floor.
    pub minimum: u32,
    /// What it does to the scalable target's minimum (None: no scalable target registered yet).
    pub change: Option<MinimumChange>,
    /// Whether the change was written (false on a dry run, or when the minimum is kept).
    pub applied: bool,
}

#[cfg(test)]
mod tests {
    //! The updater's branches against an in-memory port: no emulator, milliseconds.
    #![allow(clippy::float_cmp)] // targets are whole numbers, compared exactly

    use std::sync::Mutex;
    use std::time::Duration;

    use bpi_core::StatisticSet;
    use bpi_core::forecast::{ExistingAction, ScheduledActionRequest};
    use bpi_core::policy::{
        PolicySettings, TargetTrackingConfig, TargetTrackingPolicy, target_tracking_config,
    };

    use super::*;

    /// AWS in memory: the statistic sets there are, the policy in force, what was written and published.
    #[derive(Default)]
    struct InMemory {
        stats: Vec<StatisticSet>,
        activity: Vec<bpi_core::ActivityMinute>,
        policy: Mutex<Option<TargetTrackingConfig>>,
        writes: Mutex<u32>,
        published: Mutex<Vec<(f64, Option<f64>)>>,
        sent: Vec<(i64, f64)>,
        actions: Mutex<Vec<ExistingAction>>,
        /// The scalable target's (min, max), None: not registered.
        bounds: Mutex<Option<(u32, u32)>>,
    }

    impl UpdaterPort for InMemory {
        async fn duration_stats(
            &self,
            _: &UpdaterConfig,
            _: Duration,
            _: SystemTime,
        ) -> Result<Vec<StatisticSet>, AwsError> {
            Ok(self.stats.clone())
        }

        async fn queue_activity(
            &self,
            _: &UpdaterConfig,
            _: Duration,
            _: SystemTime,
        ) -> Result<Vec<bpi_core::ActivityMinute>, AwsError> {
            Ok(self.activity.clone())
        }

        async fn current_policy(
            &self,
            _: &UpdaterConfig,
        ) -> Result<Option<TargetTrackingConfig>, AwsError> {
            Ok(self.policy.lock().expect("lock").clone())
        }

        async fn write_policy(&self, policy: &TargetTrackingPolicy) -> Result<(), AwsError> {
            *self.policy.lock().expect("lock") =
                Some(policy.target_tracking_scaling_policy_configuration.clone());
            *self.writes.lock().expect("lock") += 1;
            Ok(())
        }

        async fn messages_sent(
            &self,
            _: &UpdaterConfig,
            _: Duration,
            _: SystemTime,
        ) -> Result<Vec<(i64, f64)>, AwsError> {
            Ok(self.sent.clone())
        }

        async fn scheduled_actions(
            &self,
            _: &UpdaterConfig,
        ) -> Result<Vec<ExistingAction>, AwsError> {
            Ok(self.actions.lock().expect("lock").clone())
        }

        async fn put_scheduled_action(
            &self,
            request: &ScheduledActionRequest,
        ) -> Result<(), AwsError> {
            let mut actions = self.actions.lock().expect("lock");
            actions.retain(|a| a.name != request.scheduled_action_name);
            actions.push(ExistingAction {
                name: request.scheduled_action_name.clone(),
                schedule: request.schedule.clone(),
                timezone: Some(request.timezone.clone()),
                min_capacity: Some(request.scalable_target_action.min_capacity),
            });
            Ok(())
        }

        async fn delete_scheduled_action(
            &self,
            request: &DeleteScheduledActionRequest,
        ) -> Result<(), AwsError> {
            self.actions
                .lock()
                .expect("lock")
                .retain(|a| a.name != request.scheduled_action_name);
            Ok(())
        }

        async fn capacity_bounds(&self, _: &UpdaterConfig) -> Result<Option<(u32, u32)>, AwsError> {
            Ok(*self.bounds.lock().expect("lock"))
        }

        async fn set_capacity_bounds(
            &self,
            _: &UpdaterConfig,
            min: u32,
            max: u32,
        ) -> Result<(), AwsError> {
            *self.bounds.lock().expect("lock") = Some((min, max));
            Ok(())
        }

        async fn publish(
            &self,
            _: &UpdaterConfig,
            target: f64,
            mpd_secs: Option<f64>,
            _: SystemTime,
        ) -> Result<(), AwsError> {
            self.published
                .lock()
                .expect("lock")
                .push((target, mpd_secs));
            Ok(())
        }
    }

    /// Promise 60 s, concurrency 1, default MPD 5 s (target 12), 20 samples needed.
    fn config() -> UpdaterConfig {
        UpdaterConfig::from_env(&[
            ("CLUSTER_NAME", "c"),
            ("SERVICE_NAME", "s"),
            ("QUEUE_NAME", "q"),
        ])
        .expect("valid")
    }

    fn durations(mpd_secs: f64, samples: u32) -> Vec<StatisticSet> {
        vec![StatisticSet {
            sum_secs: mpd_secs * f64::from(samples),
            sample_count: f64::from(samples),
        }]
    }

    fn with_policy(port: InMemory, settings: &PolicySettings, target: f64) -> InMemory {
        *port.policy.lock().expect("lock") = Some(target_tracking_config(settings, target));
        port
    }

    async fn run(port: InMemory, dry_run: bool) -> (DecisionRecord, InMemory) {
        let updater = Updater::new(port, config());
        let record = updater.run(SystemTime::now(), dry_run).await.expect("run");
        (record, updater.clients)
    }

    #[tokio::test]
    async fn a_measured_mpd_writes_its_target_and_publishes_both() {
        let c = config();
        let port = with_policy(
            InMemory {
                stats: durations(2.0, 50),
                ..InMemory::default()
            },
            &c.policy,
            12.0,
        );
        let (record, port) = run(port, false).await;
        assert_eq!(
            (record.mpd_status, record.new_target, record.updated),
            (MpdStatus::Measured, 30.0, true)
        );
        assert_eq!(*port.writes.lock().expect("lock"), 1);
        assert_eq!(
            *port.published.lock().expect("lock"),
            vec![(30.0, Some(2.0))]
        );
    }

    #[tokio::test]
    async fn without_worker_durations_the_mpd_comes_from_littles_law_and_says_so() {
        let c = config();
        // 3 in flight on average and 48 deleted a minute: 3 × 60 / 48 = 3.75 s in flight each; 60 / 3.75 = 16.
        let port = with_policy(
            InMemory {
                activity: vec![
                    bpi_core::ActivityMinute {
                        in_flight_mean: 3.0,
                        deleted: 48.0
                    };
                    10
                ],
                ..InMemory::default()
            },
            &c.policy,
            12.0,
        );
        let (record, port) = run(port, false).await;
        assert_eq!(
            (
                record.mpd_status,
                record.mpd,
                record.samples,
                record.new_target
            ),
            (MpdStatus::LittlesLaw, Some(3.75), 480, 16.0)
        );
        assert!(record.reason.contains("Little's law"), "{}", record.reason);
        assert_eq!(
            *port.published.lock().expect("lock"),
            vec![(16.0, Some(3.75))]
        );
    }

    #[tokio::test]
    async fn too_few_samples_keep_the_target_in_force() {
        let c = config();
        let port = with_policy(
            InMemory {
                stats: durations(2.0, 5),
                ..InMemory::default()
            },
            &c.policy,
            20.0,
        );
        let (record, port) = run(port, false).await;
        assert_eq!(
            (record.mpd_status, record.new_target, record.updated),
            (MpdStatus::Kept, 20.0, false)
        );
        assert_eq!(*port.writes.lock().expect("lock"), 0);
        assert_eq!(*port.published.lock().expect("lock"), vec![(20.0, None)]);
    }

    #[tokio::test]
    async fn no_policy_and_no_data_writes_the_default_mpds_target() {
        let (record, port) = run(InMemory::default(), false).await;
        assert_eq!(
            (
                record.mpd_status,
                record.old_target,
                record.new_target,
                record.updated
            ),
            (MpdStatus::Fallback, None, 12.0, true)
        );
        assert_eq!(*port.writes.lock().expect("lock"), 1);
    }

    #[tokio::test]
    async fn a_drifted_policy_is_rewritten_at_the_same_target() {
        let c = config();
        let other = PolicySettings {
            signal: bpi_core::policy::SignalMetrics::for_queue(
                "ECS-SQS-BPI",
                "Single-Queue",
                "other",
            ),
            ..c.policy.clone()
        };
        let port = with_policy(InMemory::default(), &other, 12.0);
        let (record, port) = run(port, false).await;
        assert!(record.updated, "{record:?}");
        assert_eq!(
            port.policy.lock().expect("lock").clone(),
            Some(target_tracking_config(&c.policy, 12.0))
        );
    }

    #[tokio::test]
    async fn a_dry_run_decides_and_touches_nothing() {
        let (record, port) = run(
            InMemory {
                stats: durations(2.0, 50),
                ..InMemory::default()
            },
            true,
        )
        .await;
        assert!(record.dry_run && !record.updated, "{record:?}");
        assert_eq!(record.new_target, 30.0);
        assert_eq!(*port.writes.lock().expect("lock"), 0);
        assert!(port.published.lock().expect("lock").is_empty());
    }

    /// 2026-11-04 12:00 UTC, as epoch seconds.
    const NOON_DAY_3: u64 = 1_793_793_600;

    /// A dump of 2,000 messages at 02:17 UTC on each of the two days before [`NOON_DAY_3`], over 2 a minute.
    fn two_dumps() -> Vec<(i64, f64)> {
        let start = NOON_DAY_3 / 60 - 14 * 1440;
        (start..NOON_DAY_3 / 60)
            .map(|m| {
                let dump = m % 1440 == 137 && m >= NOON_DAY_3 / 60 - 2 * 1440;
                ((m * 60) as i64, if dump { 2002.0 } else { 2.0 })
            })
            .collect()
    }

    fn user_action() -> ExistingAction {
        ExistingAction {
            name: "nightly-batch".into(),
            schedule: "cron(0 1 * * ? *)".into(),
            timezone: Some("Europe/Paris".into()),
            min_capacity: Some(3),
        }
    }

    #[tokio::test]
    async fn a_recurring_dump_becomes_two_scheduled_actions_and_the_users_own_is_left_alone() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(NOON_DAY_3);
        let port = InMemory {
            sent: two_dumps(),
            actions: Mutex::new(vec![user_action()]),
            ..InMemory::default()
        };
        let updater = Updater::new(port, config());
        let dry = updater.run(now, true).await.expect("dry run");
        assert_eq!(dry.schedule.windows.len(), 1, "{:?}", dry.schedule);
        assert_eq!(dry.schedule.changes.len(), 2);
        assert!(!dry.schedule.applied);
        assert_eq!(
            updater.clients.actions.lock().expect("lock").len(),
            1,
            "a dry run writes nothing"
        );
        let record = updater.run(now, false).await.expect("run");
        let w = &record.schedule.windows[0];
        // Raised 4 minutes ahead (a 180 s task start and a minute), at the maximum of 10 tasks.
        assert_eq!((w.raise.as_str(), w.tasks), ("cron(13 2 * * ? *)", 10));
        assert!(
            w.why.contains("2026-11-03T02:17Z, 2026-11-04T02:17Z"),
            "{}",
            w.why
        );
        let next = record.schedule.next_action.as_ref().expect("next");
        assert_eq!(next.at, "2026-11-05T02:13Z");
        let mut names: Vec<String> = updater
            .clients
            .actions
            .lock()
            .expect("lock")
            .iter()
            .map(|a| a.name.clone())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "bpi-forecast-daily-1-lower",
                "bpi-forecast-daily-1-raise",
                "nightly-batch"
            ]
        );
        // The next run finds them as wanted: nothing to write.
        let again = updater.run(now, false).await.expect("run");
        assert!(again.schedule.changes.is_empty(), "{:?}", again.schedule);
    }

    #[tokio::test]
    async fn with_the_forecaster_off_its_actions_are_removed_and_the_users_kept() {
        let ours = ExistingAction {
            name: "bpi-forecast-daily-1-raise".into(),
            schedule: "cron(13 2 * * ? *)".into(),
            timezone: Some("UTC".into()),
            min_capacity: Some(10),
        };
        let port = InMemory {
            sent: two_dumps(),
            actions: Mutex::new(vec![user_action(), ours]),
            ..InMemory::default()
        };
        let mut c = config();
        c.forecast_max_task_hours = 0.0;
        let updater = Updater::new(port, c);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(NOON_DAY_3);
        let record = updater.run(now, false).await.expect("run");
        assert!(record.schedule.windows.is_empty());
        assert_eq!(
            *updater.clients.actions.lock().expect("lock"),
            vec![user_action()]
        );
    }

    /// [`config`] with a configured minimum of 0.
    fn config_from_zero() -> UpdaterConfig {
        UpdaterConfig::from_env(&[
            ("CLUSTER_NAME", "c"),
            ("SERVICE_NAME", "s"),
            ("QUEUE_NAME", "q"),
            ("MIN_CAPACITY", "0"),
        ])
        .expect("valid")
    }

    /// `per_minute` messages sent every minute of the day before [`NOON_DAY_3`].
    fn stream(per_minute: f64) -> Vec<(i64, f64)> {
        let end = NOON_DAY_3 / 60;
        (end - 1440..end)
            .map(|m| ((m * 60) as i64, per_minute))
            .collect()
    }

    #[tokio::test]
    async fn a_light_stream_raises_the_minimum_to_one_task_and_silence_lowers_it_unless_the_user_schedules()
     {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(NOON_DAY_3);
        let port = InMemory {
            sent: stream(4.0),
            bounds: Mutex::new(Some((0, 10))),
            ..InMemory::default()
        };
        let updater = Updater::new(port, config_from_zero());
        let dry = updater.run(now, true).await.expect("dry run");
        assert_eq!(dry.keep_alive.minimum, 1, "{:?}", dry.keep_alive);
        assert_eq!(
            dry.keep_alive.change,
            Some(MinimumChange::Set { min_capacity: 1 })
        );
        assert!(!dry.keep_alive.applied);
        assert_eq!(*updater.clients.bounds.lock().expect("lock"), Some((0, 10)));
        let record = updater.run(now, false).await.expect("run");
        assert!(record.keep_alive.applied);
        assert_eq!(*updater.clients.bounds.lock().expect("lock"), Some((1, 10)));

        // A silent day: the keep-alive's own minimum goes back to the configured 0.
        let silent = Updater::new(
            InMemory {
                sent: stream(0.0),
                bounds: Mutex::new(Some((1, 10))),
                ..InMemory::default()
            },
            config_from_zero(),
        );
        let record = silent.run(now, false).await.expect("run");
        assert_eq!(record.keep_alive.keep_alive.floor_tasks, 0);
        assert_eq!(*silent.clients.bounds.lock().expect("lock"), Some((0, 10)));

        // The same with a scheduled action of the user's: its minimum may be the user's, so it stays.
        let users = Updater::new(
            InMemory {
                sent: stream(0.0),
                bounds: Mutex::new(Some((3, 10))),
                actions: Mutex::new(vec![user_action()]),
                ..InMemory::default()
            },
            config_from_zero(),
        );
        let record = users.run(now, false).await.expect("run");
        assert_eq!(
            record.keep_alive.change,
            Some(MinimumChange::Keep {
                reason: keep_alive::KeepReason::UsersActions
            })
        );
        assert_eq!(*users.clients.bounds.lock().expect("lock"), Some((3, 10)));
    }

    #[tokio::test]
    async fn the_keep_alive_run_moves_only_the_minimum() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(NOON_DAY_3);
        let updater = Updater::new(
            InMemory {
                sent: stream(4.0),
                bounds: Mutex::new(Some((0, 10))),
                ..InMemory::default()
            },
            config_from_zero(),
        );
        let dry = updater.run_keep_alive(now, true).await.expect("dry run");
        assert_eq!(dry.change, Some(MinimumChange::Set { min_capacity: 1 }));
        assert!(!dry.applied);
        assert_eq!(*updater.clients.bounds.lock().expect("lock"), Some((0, 10)));
        let record = updater.run_keep_alive(now, false).await.expect("run");
        assert!(record.applied);
        assert_eq!(record.keep_alive.floor_tasks, 1);
        assert_eq!(*updater.clients.bounds.lock().expect("lock"), Some((1, 10)));
        assert_eq!(
            *updater.clients.writes.lock().expect("lock"),
            0,
            "no policy written"
        );
        assert!(
            updater.clients.published.lock().expect("lock").is_empty(),
            "nothing published"
        );
        assert!(
            updater.clients.actions.lock().expect("lock").is_empty(),
            "no scheduled action written"
        );
    }
}
