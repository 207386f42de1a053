//! The updater against the local emulator (moto server) with the real SDK. Statistic sets are written at past
//! timestamps and the run's clock is set, so the measurement window can be slid over known data. moto does not
//! evaluate the policy's metric math and never scales: what is checked is the policy written, field by field.

#![allow(clippy::float_cmp)] // exact expected values

use bpi_core::config::env_map;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use bpi_aws::AwsClients;
use bpi_aws::autoscaling::{
    delete_policy, describe_target_tracking_policy, put_target_tracking_policy,
    register_scalable_target,
};
use bpi_aws::cloudwatch::{DurationStats, put_duration_stats};
use bpi_aws::fixtures::create_service;
use bpi_core::config::UpdaterConfig;
use bpi_core::keep_alive::{KeepReason, MinimumChange};
use bpi_core::policy::{
    PolicySettings, scaling_spec, target_tracking_config, target_tracking_policy,
};
use bpi_core::update::MpdStatus;
use bpi_testkit::lambda::{Invocation, invoke};
use target_bpi_updater::{DecisionRecord, KeepAliveRecord, Updater};

const MINUTE: Duration = Duration::from_secs(60);

async fn clients() -> AwsClients {
    bpi_aws::fixtures::emulator_clients(&bpi_testkit::emulator().endpoint).await
}

/// A service with a registered scalable target, and the updater's settings for it.
struct Setup {
    clients: AwsClients,
    env: HashMap<String, String>,
}

impl Setup {
    async fn new(extra: &[(&str, &str)]) -> Self {
        let clients = clients().await;
        let cluster = bpi_testkit::unique_name("cluster");
        let service = bpi_testkit::unique_name("service");
        create_service(&clients, &cluster, &service, 1).await;
        let mut env = env_map(&[
            ("CLUSTER_NAME", cluster.as_str()),
            ("SERVICE_NAME", service.as_str()),
            ("QUEUE_NAME", bpi_testkit::unique_name("queue").as_str()),
            ("MPD_WINDOW_SECS", "600"),
        ]);
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string())),
        );
        let setup = Setup { clients, env };
        let spec = scaling_spec(&setup.config().policy, 12.0);
        register_scalable_target(&setup.clients.autoscaling, &spec.scalable_target)
            .await
            .expect("register");
        setup
    }

    fn config(&self) -> UpdaterConfig {
        UpdaterConfig::from_env(&self.env).expect("valid updater settings")
    }

    fn updater(&self) -> Updater {
        Updater::new(self.clients.clone(), self.config())
    }

    /// Writes `minutes` one-minute statistic sets of `per_minute` messages of `secs` each, ending `ago` before now.
    async fn put_durations(&self, secs: f64, per_minute: u32, minutes: u32, ago: Duration) {
        let config = self.config();
        let end = SystemTime::now() - ago;
        for m in 0..minutes {
            let mut stats = DurationStats::default();
            for _ in 0..per_minute {
                stats.record(secs);
            }
            put_duration_stats(
                &self.clients.cloudwatch,
                &config.metrics,
                &config.policy.queue_name,
                &stats,
                end - MINUTE * m,
            )
            .await
            .expect("put");
        }
    }

    async fn policy_target(&self) -> Option<f64> {
        let c = self.config();
        describe_target_tracking_policy(
            &self.clients.autoscaling,
            &c.policy.resource_id(),
            &c.policy.policy_name,
        )
        .await
        .expect("describe")
        .map(|p| {
            assert_eq!(
                p,
                target_tracking_config(&c.policy, p.target_value),
                "the written policy is core's spec"
            );
            p.target_value
        })
    }
}

#[tokio::test]
async fn measured_5s_writes_12_and_7s_moves_it_to_8() {
    let s = Setup::new(&[]).await;
    // 5 s messages 25-29 minutes ago; 7 s messages 5-9 minutes ago; the window is 10 minutes.
    s.put_durations(5.0, 10, 5, 25 * MINUTE).await;
    s.put_durations(7.0, 10, 5, 5 * MINUTE).await;

    let first = s
        .updater()
        .run(SystemTime::now() - 20 * MINUTE, false)
        .await
        .expect("run");
    assert_eq!(
        first,
        DecisionRecord {
            mpd: Some(5.0),
            samples: 50,
            window_secs: 600,
            old_target: None,
            new_target: 12.0,
            updated: true,
            reason: "policy missing: creating it".into(),
            mpd_status: MpdStatus::Measured,
            warnings: vec![],
            dry_run: false,
            schedule: bpi_core::forecast::ScheduleRecord {
                windows: vec![],
                changes: vec![],
                next_action: None,
                applied: true,
            },
            // moto publishes no SQS metric: nothing was sent, no floor, the configured minimum stands.
            keep_alive: KeepAliveRecord {
                keep_alive: first.keep_alive.keep_alive,
                minimum: 1,
                change: Some(MinimumChange::Keep {
                    reason: KeepReason::AtFloor
                }),
                applied: false,
            },
        }
    );
    assert_eq!(first.keep_alive.keep_alive.floor_tasks, 0);
    assert!(!first.keep_alive.keep_alive.active);
    assert_eq!(s.policy_target().await, Some(12.0));

    let second = s
        .updater()
        .run(SystemTime::now(), false)
        .await
        .expect("run");
    assert_eq!((second.mpd, second.samples), (Some(7.0), 50));
    assert_eq!(
        (second.old_target, second.new_target, second.updated),
        (Some(12.0), 8.0, true)
    );
    assert_eq!(second.reason, "target moved by 33.3%");
    assert_eq!(s.policy_target().await, Some(8.0));
}

#[tokio::test]
async fn a_3_percent_change_writes_nothing() {
    // Latency 515 s at MPD 5 s is a target of 103, 3% from the 100 in force.
    let s = Setup::new(&[("DESIRED_LATENCY_SECS", "515")]).await;
    let c = s.config();
    put_target_tracking_policy(
        &s.clients.autoscaling,
        &target_tracking_policy(&c.policy, 100.0),
    )
    .await
    .expect("put");
    s.put_durations(5.0, 10, 3, MINUTE).await;
    let record = s
        .updater()
        .run(SystemTime::now(), false)
        .await
        .expect("run");
    assert_eq!(
        (record.old_target, record.new_target, record.updated),
        (Some(100.0), 100.0, false)
    );
    assert_eq!(record.reason, "target moved by 3.0%, within hysteresis");
    assert_eq!(s.policy_target().await, Some(100.0));
}

#[tokio::test]
async fn no_data_keeps_the_target_and_too_few_samples_too() {
    let s = Setup::new(&[]).await;
    let c = s.config();
    put_target_tracking_policy(
        &s.clients.autoscaling,
        &target_tracking_policy(&c.policy, 30.0),
    )
    .await
    .expect("put");
    let record = s
        .updater()
        .run(SystemTime::now(), false)
        .await
        .expect("run");
    assert_eq!(
        (record.mpd, record.samples, record.mpd_status),
        (None, 0, MpdStatus::Kept)
    );
    assert_eq!((record.new_target, record.updated), (30.0, false));
    assert!(
        record
            .reason
            .starts_with("too few samples (0 < 20), kept target"),
        "{}",
        record.reason
    );

    s.put_durations(1.0, 5, 2, MINUTE).await; // 10 samples, below the 20 required
    let record = s
        .updater()
        .run(SystemTime::now(), false)
        .await
        .expect("run");
    assert_eq!(
        (
            record.samples,
            record.mpd_status,
            record.new_target,
            record.updated
        ),
        (10, MpdStatus::Kept, 30.0, false)
    );
    assert_eq!(s.policy_target().await, Some(30.0));
    bpi_testkit::record_fault_result(
        8,
        r#"{"edge": "no data, then 10 samples (fewer than 20)", "target_before": 30, "target_after": 30, "written": false}"#,
    );
}

#[tokio::test]
async fn a_deleted_policy_is_recreated_even_without_data() {
    let s = Setup::new(&[]).await;
    let c = s.config();
    put_target_tracking_policy(
        &s.clients.autoscaling,
        &target_tracking_policy(&c.policy, 12.0),
    )
    .await
    .expect("put");
    delete_policy(
        &s.clients.autoscaling,
        &c.policy.resource_id(),
        &c.policy.policy_name,
    )
    .await
    .expect("delete");
    assert_eq!(s.policy_target().await, None);
    let record = s
        .updater()
        .run(SystemTime::now(), false)
        .await
        .expect("run");
    assert_eq!(
        (record.mpd_status, record.new_target, record.updated),
        (MpdStatus::Fallback, 12.0, true)
    );
    assert!(
        record.reason.ends_with("policy missing: creating it"),
        "{}",
        record.reason
    );
    assert_eq!(s.policy_target().await, Some(12.0));
    bpi_testkit::record_fault_result(
        8,
        r#"{"edge": "policy deleted, no data", "recreated": true, "target": 12}"#,
    );
}

#[tokio::test]
async fn a_policy_edited_by_hand_is_repaired() {
    let s = Setup::new(&[]).await;
    let c = s.config();
    // The blueprint's bug, in this set-up's terms: the same policy name, but the metric of another queue and the
    // blueprint's cooldowns.
    let edited = PolicySettings {
        signal: bpi_core::policy::SignalMetrics::for_queue(
            "ECS-SQS-BPI",
            "Single-Queue",
            "ecsdemo-queue",
        ),
        scale_in_cooldown_secs: 240,
        scale_out_cooldown_secs: 240,
        ..c.policy.clone()
    };
    let mut wrong = target_tracking_policy(&edited, 12.0);
    wrong.resource_id = c.policy.resource_id();
    put_target_tracking_policy(&s.clients.autoscaling, &wrong)
        .await
        .expect("put");
    s.put_durations(5.0, 10, 3, MINUTE).await;
    let record = s
        .updater()
        .run(SystemTime::now(), false)
        .await
        .expect("run");
    assert_eq!((record.new_target, record.updated), (12.0, true));
    assert_eq!(
        record.reason,
        "policy differs from the canonical spec: repairing it"
    );
    assert_eq!(
        s.policy_target().await,
        Some(12.0),
        "and now equal to core's spec"
    );
}

#[tokio::test]
async fn a_dry_run_decides_but_writes_nothing() {
    let s = Setup::new(&[]).await;
    s.put_durations(5.0, 10, 3, MINUTE).await;
    let record = s.updater().run(SystemTime::now(), true).await.expect("run");
    assert_eq!(
        (record.new_target, record.updated, record.dry_run),
        (12.0, false, true)
    );
    assert_eq!(s.policy_target().await, None);
}

#[tokio::test]
async fn latency_below_mpd_writes_1_with_a_warning_and_publishes_the_target() {
    let s = Setup::new(&[]).await;
    s.put_durations(90.0, 10, 3, MINUTE).await;
    let record = s
        .updater()
        .run(SystemTime::now(), false)
        .await
        .expect("run");
    assert_eq!(
        (record.mpd, record.new_target, record.updated),
        (Some(90.0), 1.0, true)
    );
    assert_eq!(record.warnings.len(), 1);
    assert!(
        record.warnings[0].contains("cannot be met by scaling"),
        "{:?}",
        record.warnings
    );
    bpi_testkit::record_fault_result(
        8,
        r#"{"edge": "spike: every duration 90 s against a 60 s promise", "target": 1, "warning": true}"#,
    );

    let c = s.config();
    let stats = s
        .clients
        .cloudwatch
        .get_metric_statistics()
        .namespace(&c.metrics.namespace)
        .metric_name("ecsTargetBPI")
        .dimensions(
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name("Type")
                .value(&c.metrics.metric_type)
                .build(),
        )
        .dimensions(
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name("QueueName")
                .value(&c.policy.queue_name)
                .build(),
        )
        .start_time((SystemTime::now() - 10 * MINUTE).into())
        .end_time((SystemTime::now() + MINUTE).into())
        .period(60)
        .statistics(aws_sdk_cloudwatch::types::Statistic::Maximum)
        .send()
        .await
        .expect("read ecsTargetBPI");
    let published: Vec<f64> = stats
        .datapoints()
        .iter()
        .filter_map(|d| d.maximum())
        .collect();
    assert_eq!(published, vec![1.0]);
}

/// The environment of the function binary: the emulator's plus the updater's settings.
fn function_env(settings: &HashMap<String, String>) -> Vec<(String, String)> {
    let mut env = bpi_testkit::emulator().child_env();
    env.extend(settings.iter().map(|(k, v)| (k.clone(), v.clone())));
    env
}

#[tokio::test]
async fn the_built_function_answers_a_scheduled_event() {
    let s = Setup::new(&[]).await;
    s.put_durations(5.0, 10, 3, MINUTE).await;
    let env = function_env(&s.env);
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_target-bpi-updater"));
    let event = r#"{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}"#;
    let outcome =
        tokio::task::spawn_blocking(move || invoke(binary, &env, event, Duration::from_secs(60)))
            .await
            .expect("invoke");
    let Invocation::Response(body) = outcome else {
        panic!("expected a response, got {outcome:?}")
    };
    let record: serde_json::Value = serde_json::from_str(&body).expect("json record");
    assert_eq!(record["mpd"], 5.0);
    assert_eq!(record["samples"], 30);
    assert_eq!(record["new_target"], 12.0);
    assert_eq!(record["updated"], true);
    assert_eq!(s.policy_target().await, Some(12.0));
}

#[tokio::test]
async fn bad_settings_exit_2_and_write_no_policy() {
    let s = Setup::new(&[]).await;
    let cases = [
        ("DESIRED_LATENCY_SECS", Some("0")),
        ("DESIRED_LATENCY_SECS", Some("sixty")),
        ("TASK_CONCURRENCY", Some("-2")),
        ("MAX_CAPACITY", Some("0")),
        ("MPD_WINDOW_SECS", Some("99999999999")),
        ("TARGET_UTILIZATION_PCT", Some("250")),
        ("CLUSTER_NAME", None),
    ];
    for (var, value) in cases {
        let mut bad = s.env.clone();
        match value {
            Some(v) => bad.insert(var.into(), v.into()),
            None => bad.remove(var),
        };
        let env = function_env(&bad);
        let binary = std::path::Path::new(env!("CARGO_BIN_EXE_target-bpi-updater"));
        let outcome = tokio::task::spawn_blocking(move || {
            invoke(binary, &env, "{}", Duration::from_secs(30))
        })
        .await
        .expect("invoke");
        assert!(
            matches!(&outcome, Invocation::Exited(Some(2), e) if e.contains(var)),
            "{var}={value:?}: {outcome:?}"
        );
    }
    let c = s.config();
    let policy = describe_target_tracking_policy(
        &s.clients.autoscaling,
        &c.policy.resource_id(),
        &c.policy.policy_name,
    )
    .await
    .expect("describe");
    assert_eq!(policy, None, "no bad policy was written");
    bpi_testkit::record_fault_result(
        7,
        &format!(
            r#"{{"binary": "target-bpi-updater", "bad_settings": {}, "exit_2_naming_the_variable": {}, "policies_written": 0}}"#,
            cases.len(),
            cases.len()
        ),
    );
}

#[tokio::test]
async fn the_fleet_updater_writes_every_registered_services_policy_and_skips_only_a_bad_entry() {
    // Two services registered under a fresh path, one entry with a bad setting.
    let path = format!("/bpi-test/{}", bpi_testkit::unique_name("updater-registry"));
    let a = Setup::new(&[]).await;
    let b = Setup::new(&[("DESIRED_LATENCY_SECS", "30")]).await;
    for s in [&a, &b] {
        let entry = bpi_core::fleet::entry_of_env(&s.env).expect("valid");
        bpi_aws::ssm::put_parameter(
            &s.clients.ssm,
            &bpi_core::fleet::entry_parameter_name(
                &path,
                &s.env["CLUSTER_NAME"],
                &s.env["SERVICE_NAME"],
            ),
            &serde_json::to_string(&entry.0).expect("json"),
            "test",
        )
        .await
        .expect("register");
    }
    bpi_aws::ssm::put_parameter(
        &a.clients.ssm,
        &format!("{path}/c/bad"),
        r#"{"CLUSTER_NAME": "c", "SERVICE_NAME": "bad", "QUEUE_NAME": "q", "DESIRED_LATENCY_SECS": "soon"}"#,
        "test",
    )
    .await
    .expect("bad entry");

    let record = target_bpi_updater::FleetUpdater::new(a.clients.clone(), path)
        .run(SystemTime::now(), false, target_bpi_updater::RunKind::Full)
        .await
        .expect("the run");
    assert_eq!(record.invalid_entries.len(), 1);
    assert!(record.invalid_entries[0].contains("DESIRED_LATENCY_SECS"));
    assert_eq!(record.services.len(), 2);
    // No durations measured: each policy is created at its default MPD's target (60 / 5 = 12, 30 / 5 = 6).
    for (s, target) in [(&a, 12.0), (&b, 6.0)] {
        let c = s.config();
        let policy = describe_target_tracking_policy(
            &s.clients.autoscaling,
            &c.policy.resource_id(),
            &c.policy.policy_name,
        )
        .await
        .expect("describe")
        .expect("created");
        assert_eq!(policy.target_value, target, "{}", c.policy.resource_id());
    }
    assert!(record.services.iter().all(|s| s.error.is_none()));
}

#[tokio::test]
async fn a_recurring_dump_is_scheduled_updated_and_removed_and_the_users_own_action_is_kept() {
    use bpi_aws::scheduled::{put_scheduled_action, scheduled_actions};
    use bpi_core::forecast::{Recurrence, ScheduledActionSpec, Slots};
    let s = Setup::new(&[("MAX_CAPACITY", "20")]).await;
    let c = s.config();
    let resource_id = c.policy.resource_id();
    // A user's own action, in another time zone: never touched.
    let mut users = ScheduledActionSpec {
        name: "nightly-batch".into(),
        recurrence: Recurrence::Daily {
            minute_of_day: 60,
            weekdays: Slots::ALL_WEEKDAYS,
        },
        min_capacity: 3,
    }
    .request(&resource_id);
    users.timezone = "Europe/Paris".into();
    put_scheduled_action(&s.clients.autoscaling, &users)
        .await
        .expect("the user's action");
    // 3,000 messages in one minute, three hours ago and a day before that.
    let minute = |t: SystemTime| {
        let secs = t
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs / 60 * 60)
    };
    let dump = minute(SystemTime::now() - 3 * 60 * MINUTE);
    for day in [0, 1] {
        bpi_aws::fixtures::put_messages_sent(
            &s.clients,
            &c.policy.queue_name,
            dump - day * 1440 * MINUTE,
            3000.0,
        )
        .await;
    }
    let record = s
        .updater()
        .run(SystemTime::now(), false)
        .await
        .expect("run");
    assert_eq!(record.schedule.windows.len(), 1, "{:?}", record.schedule);
    assert_eq!(record.schedule.windows[0].tasks, 20, "the maximum");
    let names = |actions: &[bpi_core::forecast::ExistingAction]| -> Vec<String> {
        actions.iter().map(|a| a.name.clone()).collect()
    };
    let actions = scheduled_actions(&s.clients.autoscaling, &resource_id)
        .await
        .expect("describe");
    assert_eq!(
        names(&actions),
        [
            "bpi-forecast-daily-1-lower",
            "bpi-forecast-daily-1-raise",
            "nightly-batch"
        ]
    );
    let raise = &actions[1];
    assert_eq!(
        (raise.min_capacity, raise.timezone.as_deref()),
        (Some(20), Some("UTC"))
    );
    assert_eq!(raise.schedule, record.schedule.windows[0].raise);
    assert_eq!(actions[0].min_capacity, Some(1), "set back to MIN_CAPACITY");

    // A lower maximum: the raise is updated in place.
    let mut smaller = s.config();
    smaller.policy.max_capacity = 12;
    let record = Updater::new(s.clients.clone(), smaller)
        .run(SystemTime::now(), false)
        .await
        .expect("run");
    assert!(
        matches!(record.schedule.changes.as_slice(), [bpi_core::forecast::ScheduleChange::Update(a)] if a.min_capacity == 12),
        "{:?}",
        record.schedule.changes
    );
    let actions = scheduled_actions(&s.clients.autoscaling, &resource_id)
        .await
        .expect("describe");
    assert_eq!(actions[1].min_capacity, Some(12));

    // A day later with no dump: the pattern stopped recurring, its actions go, the user's stays.
    let record = s
        .updater()
        .run(SystemTime::now() + 1440 * MINUTE, false)
        .await
        .expect("run");
    assert!(record.schedule.windows.is_empty(), "{:?}", record.schedule);
    let actions = scheduled_actions(&s.clients.autoscaling, &resource_id)
        .await
        .expect("describe");
    assert_eq!(names(&actions), ["nightly-batch"]);
    assert_eq!(actions[0].timezone.as_deref(), Some("Europe/Paris"));
}
