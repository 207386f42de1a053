//! The producer against the local emulator (moto server) with the real SDK: in-process through `Producer`, and as
//! the real built function binary answering a stand-in of the Lambda Runtime API on 127.0.0.1.

#![allow(clippy::float_cmp)] // exact expected values

use std::collections::HashSet;
use std::time::Duration;

use bpi_aws::AwsClients;
use bpi_aws::fixtures::create_queue_with_dlq;
use bpi_aws::sqs::Queue;
use bpi_core::config::{ProducerConfig, QueueRef};
use bpi_core::{DurationDistribution, Message, QueueDepth, parse_message};
use bpi_testkit::lambda::{Invocation, invoke};
use message_producer::{ProduceReport, ProduceRequest, Producer};

async fn clients() -> AwsClients {
    bpi_aws::fixtures::emulator_clients(&bpi_testkit::emulator().endpoint).await
}

fn producer(queue: &Queue, env: &[(&str, &str)]) -> Producer {
    let mut vars: Vec<(String, String)> = vec![("QUEUE_URL".into(), queue.url().into())];
    vars.extend(
        env.iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string())),
    );
    let config = ProducerConfig::from_env(
        &vars
            .into_iter()
            .collect::<std::collections::HashMap<_, _>>(),
    )
    .expect("valid");
    Producer::new(queue.clone(), config)
}

/// Receives everything on the queue (deleting it), parsing each body with core.
async fn drain(queue: &Queue) -> Vec<Message> {
    let mut out = Vec::new();
    loop {
        let batch = queue.receive(10, 0).await.expect("receive");
        if batch.is_empty() {
            break;
        }
        let handles: Vec<String> = batch.iter().map(|m| m.receipt_handle.clone()).collect();
        for m in batch {
            out.push(
                parse_message(m.body.as_bytes(), &Default::default())
                    .expect("a valid core message"),
            );
        }
        queue.delete_batch(&handles).await.expect("delete");
    }
    out
}

#[tokio::test]
async fn fifty_messages_land_with_valid_bodies_and_unique_ids() {
    let clients = clients().await;
    let q = create_queue_with_dlq(&clients.sqs, &bpi_testkit::unique_name("produce"), 30, 3).await;
    let report = producer(&q.queue, &[])
        .produce(&ProduceRequest::default())
        .await;
    assert_eq!(
        report,
        ProduceReport {
            sent: 50,
            failed: 0
        }
    );
    let messages = drain(&q.queue).await;
    assert_eq!(messages.len(), 50);
    assert!(
        messages.iter().all(|m| m.duration_secs == 5.0),
        "the blueprint's constant 5 s by default"
    );
    let ids: HashSet<String> = messages.iter().map(|m| m.id.to_string()).collect();
    assert_eq!(ids.len(), 50);
}

#[tokio::test]
async fn a_fifo_queue_gets_every_message_with_no_dedup_collisions() {
    let clients = clients().await;
    let name = format!("{}.fifo", bpi_testkit::unique_name("produce"));
    let q = create_queue_with_dlq(&clients.sqs, &name, 30, 3).await;
    let p = producer(&q.queue, &[("PRODUCER_SEED", "1")]);
    // Two invocations with the same seed within the 5-minute deduplication window: all 100 must land.
    for _ in 0..2 {
        assert_eq!(
            p.produce(&ProduceRequest::default()).await,
            ProduceReport {
                sent: 50,
                failed: 0
            }
        );
    }
    assert_eq!(
        q.queue.depth().await.expect("depth"),
        QueueDepth {
            visible: 100,
            in_flight: 0
        }
    );
}

#[tokio::test]
async fn durations_follow_the_configured_distribution() {
    let clients = clients().await;
    let q = create_queue_with_dlq(&clients.sqs, &bpi_testkit::unique_name("produce"), 30, 3).await;
    let request = ProduceRequest {
        count: Some(400),
        duration: Some(DurationDistribution::LogNormal {
            mean_secs: 5.0,
            sigma: 0.5,
        }),
        seed: Some(2026),
    };
    assert_eq!(
        producer(&q.queue, &[]).produce(&request).await,
        ProduceReport {
            sent: 400,
            failed: 0
        }
    );
    let durations: Vec<f64> = drain(&q.queue)
        .await
        .iter()
        .map(|m| m.duration_secs)
        .collect();
    assert_eq!(durations.len(), 400);
    let mean = durations.iter().sum::<f64>() / 400.0;
    // Standard error of the mean here is about 0.13 s; 0.5 s is nearly 4 of them.
    assert!((mean - 5.0).abs() < 0.5, "mean {mean}");
    let distinct: HashSet<u64> = durations.iter().map(|d| d.to_bits()).collect();
    assert!(
        distinct.len() > 300,
        "durations vary: {} distinct",
        distinct.len()
    );
}

fn function_env(extra: &[(&str, String)]) -> Vec<(String, String)> {
    let mut env = bpi_testkit::emulator().child_env();
    env.push(("LOG_FORMAT".to_string(), "json".to_string()));
    env.extend(extra.iter().map(|(k, v)| ((*k).to_string(), v.clone())));
    env
}

#[tokio::test]
async fn the_built_function_answers_a_scheduled_event() {
    let clients = clients().await;
    let q = create_queue_with_dlq(&clients.sqs, &bpi_testkit::unique_name("lambda"), 30, 3).await;
    let event = r#"{"version":"0","id":"1","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-11-26T00:00:00Z","region":"us-east-1","resources":[],"detail":{}}"#;
    let env = function_env(&[
        ("QUEUE_NAME", q.queue.name().to_string()),
        ("MESSAGE_COUNT", "12".to_string()),
    ]);
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_message-producer"));
    let outcome =
        tokio::task::spawn_blocking(move || invoke(binary, &env, event, Duration::from_secs(60)))
            .await
            .expect("invoke");
    assert_eq!(
        outcome,
        Invocation::Response(r#"{"sent":12,"failed":0}"#.to_string())
    );
    assert_eq!(q.queue.depth().await.expect("depth").visible, 12);
}

#[tokio::test]
async fn a_bad_override_fails_the_invocation_and_sends_nothing() {
    let clients = clients().await;
    let q = create_queue_with_dlq(&clients.sqs, &bpi_testkit::unique_name("lambda"), 30, 3).await;
    let env = function_env(&[("QUEUE_URL", q.queue.url().to_string())]);
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_message-producer"));
    let outcome = tokio::task::spawn_blocking(move || {
        invoke(binary, &env, r#"{"count":"ten"}"#, Duration::from_secs(60))
    })
    .await
    .expect("invoke");
    match outcome {
        Invocation::Error(body) => assert!(body.contains("invalid producer request"), "{body}"),
        other => panic!("expected an invocation error, got {other:?}"),
    }
    assert_eq!(q.queue.depth().await.expect("depth").visible, 0);
}

#[tokio::test]
async fn bad_settings_exit_2_naming_the_variable() {
    let cases = [
        ("MESSAGE_COUNT", "abc"),
        ("MESSAGE_COUNT", "-5"),
        ("MESSAGE_COUNT", "99999999999"),
        ("MESSAGE_DURATION_SECS", "NaN"),
        ("DURATION_DISTRIBUTION", "gamma"),
        ("DURATION_SIGMA", "-1"),
    ];
    for (var, bad) in cases {
        let env = function_env(&[("QUEUE_NAME", "q".to_string()), (var, bad.to_string())]);
        let binary = std::path::Path::new(env!("CARGO_BIN_EXE_message-producer"));
        let outcome = tokio::task::spawn_blocking(move || {
            invoke(binary, &env, "{}", Duration::from_secs(30))
        })
        .await
        .expect("invoke");
        match outcome {
            Invocation::Exited(Some(2), stderr) => assert!(stderr.contains(var), "{stderr}"),
            other => panic!("{var}={bad}: expected exit 2, got {other:?}"),
        }
    }
    bpi_testkit::record_fault_result(
        7,
        &format!(
            r#"{{"binary": "message-producer", "bad_settings": {}, "exit_2_naming_the_variable": {}}}"#,
            cases.len() + 1,
            cases.len() + 1
        ),
    );
    // A missing queue is named too.
    let env = function_env(&[]);
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_message-producer"));
    let outcome =
        tokio::task::spawn_blocking(move || invoke(binary, &env, "{}", Duration::from_secs(30)))
            .await
            .expect("invoke");
    assert!(
        matches!(&outcome, Invocation::Exited(Some(2), e) if e.contains("QUEUE_NAME")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_queue_that_does_not_exist_is_named_at_start() {
    let clients = clients().await;
    let err = Queue::resolve(
        clients.sqs.clone(),
        &QueueRef::Name(bpi_testkit::unique_name("absent")),
    )
    .await
    .expect_err("absent");
    assert_eq!(err.kind, bpi_aws::ErrorKind::NotFound);
    let env = function_env(&[("QUEUE_NAME", bpi_testkit::unique_name("absent"))]);
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_message-producer"));
    let outcome =
        tokio::task::spawn_blocking(move || invoke(binary, &env, "{}", Duration::from_secs(60)))
            .await
            .expect("invoke");
    assert!(
        matches!(&outcome, Invocation::Exited(Some(1), e) if e.contains("cannot use the queue")),
        "{outcome:?}"
    );
}
