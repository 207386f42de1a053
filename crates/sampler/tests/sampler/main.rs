//! The sampler against the local emulator (moto server) with the real SDK: it reads the queue and the service and
//! publishes high-resolution values that GetMetricStatistics returns. moto stores StorageResolution without
//! checking it, and evaluates no alarm: the 10-second alarm on these values is checked against AWS's documented
//! limits elsewhere (core's alarm spec tests), not here.

#![allow(clippy::float_cmp)] // exact expected values

use bpi_core::config::env_map;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Statistic};
use bpi_aws::AwsClients;
use bpi_aws::fixtures::{create_queue_with_dlq, create_service};
use bpi_aws::sqs::Outgoing;
use bpi_core::config::SamplerConfig;
use bpi_core::sampler::{BPI_METRIC, FAST_PATH_METRIC};
use bpi_testkit::lambda::{Invocation, invoke};
use sampler::{SampleRequest, SingleServiceSampler};

mod fleet;

pub(crate) async fn clients() -> AwsClients {
    bpi_aws::fixtures::emulator_clients(&bpi_testkit::emulator().endpoint).await
}

/// A queue holding `messages`, a service at `desired` tasks (moto runs them at once), and the sampler's settings.
async fn setup(messages: usize, desired: i32) -> (AwsClients, HashMap<String, String>) {
    let clients = clients().await;
    let cluster = bpi_testkit::unique_name("cluster");
    let service = bpi_testkit::unique_name("service");
    let queue_name = bpi_testkit::unique_name("queue");
    create_service(&clients, &cluster, &service, desired).await;
    let q = create_queue_with_dlq(&clients.sqs, &queue_name, 30, 3).await;
    let batch: Vec<Outgoing> = (0..messages)
        .map(|i| Outgoing {
            body: format!(r#"{{"id": {i}, "duration": 1}}"#),
            group_id: None,
            deduplication_id: None,
        })
        .collect();
    for chunk in batch.chunks(10) {
        q.queue.send_batch(chunk).await.expect("send");
    }
    let env = env_map(&[
        ("CLUSTER_NAME", cluster.as_str()),
        ("SERVICE_NAME", service.as_str()),
        ("QUEUE_NAME", queue_name.as_str()),
    ]);
    (clients, env)
}

/// The Maximum of `metric` for the queue over the last five minutes.
pub(crate) async fn published_max(clients: &AwsClients, queue: &str, metric: &str) -> Option<f64> {
    let now = SystemTime::now();
    let out = clients
        .cloudwatch
        .get_metric_statistics()
        .namespace("ECS-SQS-BPI")
        .metric_name(metric)
        .dimensions(
            Dimension::builder()
                .name("Type")
                .value("Single-Queue")
                .build(),
        )
        .dimensions(Dimension::builder().name("QueueName").value(queue).build())
        .start_time(DateTime::from(now - Duration::from_secs(300)))
        .end_time(DateTime::from(now + Duration::from_secs(60)))
        .period(60)
        .statistics(Statistic::Maximum)
        .send()
        .await
        .expect("get metric statistics");
    out.datapoints()
        .iter()
        .filter_map(aws_sdk_cloudwatch::types::Datapoint::maximum)
        .reduce(f64::max)
}

#[tokio::test]
async fn a_backlog_with_no_task_publishes_the_backlog_and_the_tasks_it_needs() {
    let (clients, env) = setup(7, 0).await;
    let config = SamplerConfig::from_env(&env).expect("valid settings");
    let sampler = SingleServiceSampler::new(clients.clone(), config);
    let record = sampler
        .run(SampleRequest {
            readings: Some(2),
            interval_secs: Some(1),
        })
        .await
        .expect("run");
    assert_eq!(
        (record.readings, record.published, record.failed),
        (2, 2, 0)
    );
    // No policy yet: the target of the default MPD, 60 s / 5 s = 12; nothing runs, so the fast path sizes 0.25 of it,
    // 3 a task: 3 tasks.
    assert_eq!((record.target, record.target_from_policy), (12.0, false));
    let last = record.last.expect("values");
    assert_eq!((last.bpi, last.backlog, last.running), (7.0, 7, 0));
    assert_eq!(last.fast_path_capacity, 3);
    let queue = &env["QUEUE_NAME"];
    assert_eq!(published_max(&clients, queue, BPI_METRIC).await, Some(7.0));
    assert_eq!(
        published_max(&clients, queue, FAST_PATH_METRIC).await,
        Some(3.0)
    );
}

#[tokio::test]
async fn a_service_that_has_the_capacity_publishes_no_fast_path_ask() {
    let (clients, env) = setup(7, 3).await;
    let sampler = SingleServiceSampler::new(clients, SamplerConfig::from_env(&env).expect("valid"));
    let record = sampler
        .run(SampleRequest {
            readings: Some(1),
            interval_secs: Some(1),
        })
        .await
        .expect("run");
    let last = record.last.expect("values");
    let running = f64::from(last.running);
    if running > 0.0 {
        assert_eq!(last.bpi, 7.0 / running);
    }
    assert_eq!(last.desired, 3);
    assert_eq!(last.fast_path_capacity, 0, "2 needed, 3 desired");
}

#[tokio::test]
async fn a_missing_service_fails_each_reading_without_stopping_the_run() {
    let (clients, mut env) = setup(1, 1).await;
    env.insert("SERVICE_NAME".into(), "no-such-service".into());
    let sampler = SingleServiceSampler::new(clients, SamplerConfig::from_env(&env).expect("valid"));
    let record = sampler
        .run(SampleRequest {
            readings: Some(2),
            interval_secs: Some(1),
        })
        .await
        .expect("the run itself succeeds");
    assert_eq!((record.published, record.failed), (0, 2));
}

#[tokio::test]
async fn the_built_function_answers_a_scheduled_event_and_bad_settings_exit_2() {
    let (_clients, settings) = setup(3, 0).await;
    let mut env = bpi_testkit::emulator().child_env();
    env.extend(settings.iter().map(|(k, v)| (k.clone(), v.clone())));
    env.push(("SAMPLER_READINGS".into(), "2".into()));
    env.push(("SAMPLER_INTERVAL_SECS".into(), "1".into()));
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_sampler"));
    let event = r#"{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}"#;
    let good = env.clone();
    let outcome =
        tokio::task::spawn_blocking(move || invoke(binary, &good, event, Duration::from_secs(60)))
            .await
            .expect("invoke");
    let Invocation::Response(body) = outcome else {
        panic!("expected a response, got {outcome:?}")
    };
    let record: serde_json::Value = serde_json::from_str(&body).expect("json record");
    assert_eq!(
        (record["published"].as_u64(), record["failed"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(record["last"]["fast_path_capacity"], 1);

    let mut bad = env;
    bad.push(("SAMPLER_INTERVAL_SECS".into(), "0".into()));
    let outcome =
        tokio::task::spawn_blocking(move || invoke(binary, &bad, "{}", Duration::from_secs(30)))
            .await
            .expect("invoke");
    assert!(
        matches!(&outcome, Invocation::Exited(Some(2), e) if e.contains("SAMPLER_INTERVAL_SECS")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn messages_that_got_longer_lower_the_fast_paths_target_at_once() {
    // The workers report 30 s messages over the last minutes while no policy exists (target of the default MPD 5 s:
    // 12). The recent MPD's target, 60 / 30 = 2, is far below it, so the fast path sizes 0.7 of a message a task,
    // counted as 1.
    let (clients, env) = setup(7, 0).await;
    let config = SamplerConfig::from_env(&env).expect("valid settings");
    let mut stats = bpi_aws::cloudwatch::DurationStats::default();
    for _ in 0..30 {
        stats.record(30.0);
    }
    bpi_aws::cloudwatch::put_duration_stats(
        &clients.cloudwatch,
        &config.scaling.metrics,
        &env["QUEUE_NAME"],
        &stats,
        SystemTime::now() - Duration::from_secs(60),
    )
    .await
    .expect("publish durations");
    let record = SingleServiceSampler::new(clients, config)
        .run(SampleRequest {
            readings: Some(1),
            interval_secs: Some(1),
        })
        .await
        .expect("run");
    assert_eq!(record.recent_mpd_secs, Some(30.0));
    assert_eq!(record.target, 2.0);
    assert_eq!(record.last.expect("values").fast_path_capacity, 7);
}
