//! `bpi status` against the emulator shows the numbers the test set up.

use std::time::{Duration, SystemTime};

use bpi_aws::autoscaling::put_target_tracking_policy;
use bpi_aws::cloudwatch::{DurationStats, MetricUnit, Resolution, put_duration_stats, put_values};
use bpi_aws::fixtures::{create_queue_with_dlq, create_service};
use bpi_aws::{AwsClients, local_emulator_config};
use bpi_core::capacity::ServiceLoad;
use bpi_core::config::{SamplerConfig, UpdaterConfig};
use bpi_core::policy::{PolicySettings, need_verdict, target_tracking_policy};
use bpi_core::sampler::{BPI_METRIC, FAST_PATH_METRIC, NEEDED_METRIC};
use bpi_core::{Message, MessageId};

/// `bpi status --json` with `env`, against the emulator.
fn status_json(env: &[(&str, &str)]) -> serde_json::Value {
    crate::support::bpi_json(&["status", "--json"], env)
}

/// A queue with a DLQ, a service with `desired` tasks and its scalable target: what `bpi status` watches.
struct Watched {
    clients: AwsClients,
    queue: bpi_aws::fixtures::QueueWithDlq,
    queue_name: String,
    cluster: String,
    service: String,
    config: UpdaterConfig,
}

impl Watched {
    async fn new(prefix: &str, desired: i32) -> Self {
        let clients =
            AwsClients::new(&local_emulator_config(&bpi_testkit::emulator().endpoint).await);
        let queue_name = bpi_testkit::unique_name(prefix);
        let (cluster, service) = (
            bpi_testkit::unique_name("cluster"),
            bpi_testkit::unique_name("service"),
        );
        let queue = create_queue_with_dlq(&clients.sqs, &queue_name, 30, 3).await;
        create_service(&clients, &cluster, &service, desired).await;
        let config = crate::support::register_scalable_target_of(
            &clients,
            &[
                ("CLUSTER_NAME", cluster.as_str()),
                ("SERVICE_NAME", service.as_str()),
                ("QUEUE_NAME", queue_name.as_str()),
            ],
        )
        .await;
        Watched {
            clients,
            queue,
            queue_name,
            cluster,
            service,
            config,
        }
    }

    /// The settings `bpi status` is run with.
    fn env(&self) -> [(&'static str, &str); 3] {
        [
            ("CLUSTER_NAME", self.cluster.as_str()),
            ("SERVICE_NAME", self.service.as_str()),
            ("QUEUE_NAME", self.queue_name.as_str()),
        ]
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn status_shows_what_the_test_set_up() {
    let w = Watched::new("status", 3).await;
    let (clients, q, queue_name, config) = (&w.clients, &w.queue, &w.queue_name, &w.config);
    let env = w.env();

    // 7 messages, 2 of them received (in flight); a policy edited to another service (drift); 30 samples of 6 s.
    let bodies: Vec<_> = (0..7)
        .map(|i| bpi_aws::sqs::Outgoing {
            body: Message {
                id: MessageId::from(i),
                duration_secs: 1.0,
            }
            .to_body(),
            group_id: None,
            deduplication_id: None,
        })
        .collect();
    q.queue.send_batch(&bodies).await.expect("send");
    assert_eq!(q.queue.receive(2, 0).await.expect("receive").len(), 2);
    // A policy reading another queue's ecsBPI (the blueprint's wrong-name bug, in this set-up's terms).
    let other = PolicySettings {
        signal: bpi_core::policy::SignalMetrics::for_queue("ECS-SQS-BPI", "Single-Queue", "other"),
        ..config.policy.clone()
    };
    let mut drifted = target_tracking_policy(&other, 12.0);
    drifted.resource_id = config.policy.resource_id();
    put_target_tracking_policy(&clients.autoscaling, &drifted)
        .await
        .expect("put");
    let mut stats = DurationStats::default();
    for _ in 0..30 {
        stats.record(6.0);
    }
    put_duration_stats(
        &clients.cloudwatch,
        &config.metrics,
        queue_name,
        &stats,
        SystemTime::now() - Duration::from_secs(120),
    )
    .await
    .expect("stats");

    let st = status_json(&env);
    assert_eq!(
        (
            st["depth"]["visible"].as_u64(),
            st["depth"]["in_flight"].as_u64()
        ),
        (Some(5), Some(2))
    );
    assert_eq!(st["dlq"][1], 0);
    assert_eq!(st["tasks"]["desired"], 3);
    assert_eq!(st["target"], 12.0);
    assert_eq!(st["drift"], true);
    // Only the target tracking policy was put: the companions the default settings call for are named as missing.
    assert_eq!(
        st["missing_policies"],
        serde_json::json!([
            config.policy.fast_path_policy_name(),
            config.policy.backstop_policy_name(),
            config.policy.utilization_policy_name(),
            config.policy.idle_policy_name(),
            config.policy.scale_in_policy_name()
        ])
    );
    assert_eq!(
        (st["mpd_secs"].as_f64(), st["samples"].as_u64()),
        (Some(6.0), Some(30))
    );
    assert_eq!(st["computed_target"], 10, "60 s / 6 s");
    assert_eq!(st["mpd_status"], "measured", "the updater's own rule");
    assert_eq!(
        st["would_write"], true,
        "12 -> 10 moves past the hysteresis"
    );
    // moto runs no task: with 0 running the backlog itself is the ecsBPI (core's zero-task rule).
    let running = st["tasks"]["running"].as_f64().expect("running");
    let expected = if running > 0.0 { 7.0 / running } else { 7.0 };
    assert_eq!(st["backlog_per_task"].as_f64(), Some(expected));

    let text = crate::support::bpi_text(&["status"], &env);
    assert!(text.contains("5 visible, 2 in flight"), "{text}");
    assert!(text.contains("DRIFTED"), "{text}");
    assert!(text.contains("MISSING"), "{text}");
    assert!(text.contains("6.00 s over 30 samples"), "{text}");
    assert!(
        text.contains("sampler    NO READING"),
        "no sampler ran: {text}"
    );
    // The need: core's capacity model on the live counts with the sampler's MPD: the target in force's (12: 5 s;
    // the recent 6 s gives 10, not 20% below it), against the desired 3, and the policy that acts on it.
    let model = SamplerConfig::from_env(&env)
        .expect("settings")
        .capacity_model();
    let want = model.needed(
        ServiceLoad {
            visible: 5,
            in_flight: 2,
            running: running as u32,
            desired: 3,
        },
        5.0,
        config.policy.max_capacity,
    );
    assert!(want.tasks > 0);
    assert_eq!(st["need"]["needed"]["tasks"], want.tasks, "{st}");
    assert_eq!(st["need"]["mpd_secs"], 5.0);
    assert_eq!(
        st["need"]["verdict"],
        serde_json::to_value(need_verdict(&config.policy, want.tasks, 3)).expect("json")
    );
    assert!(
        text.contains(&format!("capacity   needs {} of 3 desired", want.tasks)),
        "{text}"
    );
    assert_eq!(st["sampler"], serde_json::Value::Null);

    // A sampler reading taken 20 s ago: its age and values are shown.
    put_values(
        &clients.cloudwatch,
        "ECS-SQS-BPI",
        &[("Type", "Single-Queue"), ("QueueName", queue_name.as_str())],
        &[
            (BPI_METRIC, 2.5, MetricUnit::Count),
            (FAST_PATH_METRIC, 4.0, MetricUnit::Count),
            (NEEDED_METRIC, 3.0, MetricUnit::Count),
        ],
        SystemTime::now() - Duration::from_secs(20),
        Resolution::High,
    )
    .await
    .expect("put a reading");
    let st = status_json(&env);
    let sampler = &st["sampler"];
    assert_eq!(sampler["bpi"], 2.5, "{st}");
    assert_eq!(sampler["fast_path_capacity"], 4.0);
    assert_eq!(sampler["needed"], 3.0);
    let age = sampler["age_secs"].as_u64().expect("age");
    assert!((20..=60).contains(&age), "age {age}");
}

#[tokio::test(flavor = "multi_thread")]
async fn status_labels_an_mpd_by_littles_law_and_says_when_an_application_is_not_ready() {
    let w = Watched::new("status-ll", 2).await;
    let (clients, queue_name, config) = (&w.clients, &w.queue_name, &w.config);
    let env = w.env();
    // No worker durations: five minutes of the sampler's ecsInFlight (3 on average) and of SQS's deletions (48 a
    // minute). SQS publishes NumberOfMessagesDeleted itself; AWS refuses PutMetricData into an AWS/ namespace, moto
    // takes it, so the test stands in for SQS here.
    let dims = [("Type", "Single-Queue"), ("QueueName", queue_name.as_str())];
    let minute = |m: u64| SystemTime::now() - Duration::from_secs(60 * m + 90);
    for m in 1..=5 {
        put_values(
            &clients.cloudwatch,
            "ECS-SQS-BPI",
            &dims,
            &[(bpi_core::sampler::IN_FLIGHT_METRIC, 3.0, MetricUnit::Count)],
            minute(m),
            Resolution::High,
        )
        .await
        .expect("in flight");
        put_values(
            &clients.cloudwatch,
            "AWS/SQS",
            &[("QueueName", queue_name.as_str())],
            &[("NumberOfMessagesDeleted", 48.0, MetricUnit::Count)],
            minute(m),
            Resolution::Standard,
        )
        .await
        .expect("deleted");
    }
    // A worker whose application was not ready, 10 s ago.
    bpi_aws::cloudwatch::put_worker_metrics(
        &clients.cloudwatch,
        &config.metrics,
        queue_name,
        &DurationStats::default(),
        Some(true),
        SystemTime::now() - Duration::from_secs(10),
    )
    .await
    .expect("app not ready");

    let st = status_json(&env);
    assert_eq!(st["mpd_status"], "littles-law", "{st}");
    assert_eq!(
        (st["mpd_secs"].as_f64(), st["samples"].as_u64()),
        (Some(3.75), Some(240)),
        "3 in flight × 60 s / 48 deleted; the deletions are the samples"
    );
    assert_eq!(st["computed_target"], 16, "60 s / 3.75 s");
    assert_eq!(st["app"]["not_ready"], true, "{st}");
    let text = crate::support::bpi_text(&["status"], &env);
    assert!(text.contains("ESTIMATED by Little's law"), "{text}");
    assert!(text.contains("app        NOT READY on a task"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bpi_schedule_prints_what_the_updater_would_write_and_status_shows_what_is_written() {
    let w = Watched::new("schedule", 1).await;
    let env = w.env();
    // A dump of 2,000 messages three hours ago and a day before.
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let dump = SystemTime::UNIX_EPOCH + Duration::from_secs((secs / 60 - 180) * 60);
    for day in [0, 1] {
        bpi_aws::fixtures::put_messages_sent(
            &w.clients,
            &w.queue_name,
            dump - Duration::from_secs(day * 86_400),
            2000.0,
        )
        .await;
    }
    let before = status_json(&env);
    assert_eq!(before["schedule"]["next"], serde_json::Value::Null);
    // The keep-alive: the dumps are hours old, nothing within the idle wait: no floor.
    assert_eq!(
        before["keep_alive"]["keep_alive"]["active"], false,
        "{before}"
    );
    assert_eq!(before["keep_alive"]["keep_alive"]["floor_tasks"], 0);
    // Five messages two minutes ago: the queue is active, the floor is one task.
    bpi_aws::fixtures::put_messages_sent(
        &w.clients,
        &w.queue_name,
        SystemTime::now() - Duration::from_secs(120),
        5.0,
    )
    .await;
    let active = status_json(&env);
    let keep = &active["keep_alive"];
    assert_eq!(keep["keep_alive"]["active"], true, "{keep}");
    assert_eq!(keep["keep_alive"]["floor_tasks"], 1);
    assert_eq!(
        keep["wanted_minimum"].as_u64(),
        Some(u64::from(w.config.policy.min_capacity.max(1)))
    );
    let text = crate::support::bpi_text(&["status"], &env);
    assert!(text.contains("keep-alive floor 1 task(s)"), "{text}");

    let dry = crate::support::bpi_json(&["schedule"], &env);
    assert_eq!(dry["applied"], false);
    let windows = dry["windows"].as_array().expect("windows");
    assert_eq!(windows.len(), 1, "{dry}");
    assert!(
        windows[0]["why"]
            .as_str()
            .is_some_and(|why| why.starts_with("2 onsets at ")),
        "{dry}"
    );
    assert_eq!(dry["changes"].as_array().map(Vec::len), Some(2));
    let resource_id = w.config.policy.resource_id();
    assert!(
        bpi_aws::scheduled::scheduled_actions(&w.clients.autoscaling, &resource_id)
            .await
            .expect("describe")
            .is_empty(),
        "a dry run writes nothing"
    );

    // The updater writes them (here by hand, the same requests): status shows the next one.
    let w0 = &windows[0];
    let tasks = u32::try_from(w0["tasks"].as_u64().expect("tasks")).expect("u32");
    for (name, cron, min_capacity) in [
        ("bpi-forecast-daily-1-raise", &w0["raise"], tasks),
        ("bpi-forecast-daily-1-lower", &w0["lower"], 1),
    ] {
        let spec = bpi_core::forecast::ScheduledActionSpec {
            name: name.to_string(),
            recurrence: bpi_core::forecast::parse_cron(cron.as_str().expect("cron"))
                .expect("a cron the forecaster writes"),
            min_capacity,
        };
        bpi_aws::scheduled::put_scheduled_action(
            &w.clients.autoscaling,
            &spec.request(&resource_id),
        )
        .await
        .expect("put");
    }
    let after = status_json(&env);
    assert_eq!(
        after["schedule"]["actions"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(
        after["schedule"]["next"]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("bpi-forecast-daily-1-")),
        "{}",
        after["schedule"]
    );
}
