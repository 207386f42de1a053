//! The fleet sampler against the emulator: one function reading a hundred registered services, and one failing
//! queue that costs only its own service its readings. moto runs no task (running follows desired at once) and
//! evaluates no alarm: what is checked here is what the sampler reads, publishes and counts.

use bpi_core::config::env_map;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use bpi_aws::AwsClients;
use bpi_aws::fixtures::create_service;
use bpi_aws::sqs::{Outgoing, Queue};
use bpi_aws::ssm::put_parameter;
use bpi_core::config::QueueRef;
use bpi_core::fleet::{FleetShape, entry_of_env, entry_parameter_name, ops};
use bpi_core::sampler::BACKLOG_METRIC;
use bpi_testkit::proxy::Proxy;
use futures::future::join_all;
use sampler::{FleetSampler, SampleRequest, ServiceSource};

use crate::{clients, published_max};

/// A service registered under `path`: its cluster, name and queue, and the messages its queue holds.
#[derive(Debug, Clone)]
struct Registered {
    cluster: String,
    service: String,
    queue: String,
    messages: usize,
}

/// Creates the service and its queue with `messages` messages and registers it under `path` (its queue is not
/// created when `create_queue` is false).
async fn register(clients: &AwsClients, path: &str, r: &Registered, create_queue: bool) {
    create_service(clients, &r.cluster, &r.service, 1).await;
    if create_queue {
        clients
            .sqs
            .create_queue()
            .queue_name(&r.queue)
            .send()
            .await
            .expect("create queue");
        let q = Queue::resolve(clients.sqs.clone(), &QueueRef::Name(r.queue.clone()))
            .await
            .expect("resolve");
        let batch: Vec<Outgoing> = (0..r.messages)
            .map(|i| Outgoing {
                body: format!(r#"{{"id": {i}, "duration": 1}}"#),
                group_id: None,
                deduplication_id: None,
            })
            .collect();
        for chunk in batch.chunks(10) {
            q.send_batch(chunk).await.expect("send");
        }
    }
    let env = env_map(&[
        ("CLUSTER_NAME", r.cluster.as_str()),
        ("SERVICE_NAME", r.service.as_str()),
        ("QUEUE_NAME", r.queue.as_str()),
        ("MAX_CAPACITY", "20"),
    ]);
    let entry = entry_of_env(&env).expect("valid settings");
    put_parameter(
        &clients.ssm,
        &entry_parameter_name(path, &r.cluster, &r.service),
        &serde_json::to_string(&entry.0).expect("json"),
        "test",
    )
    .await
    .expect("register");
}

/// `n` services over two clusters, the i-th with i % 7 messages.
fn fleet(n: usize) -> Vec<Registered> {
    let clusters = [
        bpi_testkit::unique_name("fleet-a"),
        bpi_testkit::unique_name("fleet-b"),
    ];
    (0..n)
        .map(|i| Registered {
            cluster: clusters[i % 2].clone(),
            service: bpi_testkit::unique_name(&format!("svc{i}")),
            queue: bpi_testkit::unique_name(&format!("fq{i}")),
            messages: i % 7,
        })
        .collect()
}

#[tokio::test]
async fn one_sampler_reads_a_hundred_services_in_each_reading_and_refuses_only_bad_entries() {
    let clients = clients().await;
    let path = format!("/bpi-test/{}", bpi_testkit::unique_name("registry"));
    let services = fleet(100);
    for chunk in services.chunks(20) {
        join_all(chunk.iter().map(|r| register(&clients, &path, r, true))).await;
    }
    // A service whose queue does not exist, and an entry with a bad setting.
    let orphan = Registered {
        cluster: services[0].cluster.clone(),
        service: bpi_testkit::unique_name("orphan"),
        queue: bpi_testkit::unique_name("no-such-queue"),
        messages: 0,
    };
    register(&clients, &path, &orphan, false).await;
    put_parameter(
        &clients.ssm,
        &format!("{path}/c/bad"),
        r#"{"CLUSTER_NAME": "c", "SERVICE_NAME": "bad", "QUEUE_NAME": "q", "MAX_CAPACITY": 0}"#,
        "test",
    )
    .await
    .expect("bad entry");

    let sampler = FleetSampler::new(
        clients.clone(),
        ServiceSource::Registry(path.clone()),
        6,
        10,
    );
    let record = sampler
        .run(SampleRequest {
            readings: Some(2),
            interval_secs: Some(2),
        })
        .await
        .expect("the run");

    assert_eq!(
        record.invalid_entries.len(),
        1,
        "{:?}",
        record.invalid_entries
    );
    assert!(record.invalid_entries[0].contains("MAX_CAPACITY"));
    assert_eq!(record.services.len(), 101);
    let failing: Vec<&str> = record.failing().map(|s| s.resource_id.as_str()).collect();
    assert_eq!(
        failing,
        [format!("service/{}/{}", orphan.cluster, orphan.service)]
    );
    let by_id: HashMap<&str, &sampler::ServiceRecord> = record
        .services
        .iter()
        .map(|s| (s.resource_id.as_str(), s))
        .collect();
    for r in &services {
        let s = by_id[format!("service/{}/{}", r.cluster, r.service).as_str()];
        assert_eq!((s.published, s.failed), (2, 0), "{}", s.resource_id);
        let last = s.last.expect("values");
        assert_eq!(last.backlog, r.messages as u64, "{}", s.resource_id);
        assert_eq!(last.desired, 1, "{}", s.resource_id);
    }

    // The calls the sampler counted are the ones core's cost table predicts for 100 services on 2 clusters (the
    // orphan adds its failed GetQueueUrl only; the registry's 102 parameters take 11 pages).
    let predicted = FleetShape {
        services: 100,
        clusters: 2,
        readings_per_run: 2,
        metrics_per_reading: 7,
    }
    .calls_per_run();
    for op in [
        ops::DESCRIBE_SERVICES,
        ops::GET_QUEUE_ATTRIBUTES,
        ops::PUT_METRIC_DATA,
        ops::DESCRIBE_SCALING_POLICIES,
        ops::GET_METRIC_DATA,
    ] {
        assert_eq!(record.calls.get(op), predicted.get(op), "{op}");
    }
    assert_eq!(
        record.calls.get(ops::DESCRIBE_SERVICES),
        20,
        "5 + 5 batches of ten, twice"
    );
    assert_eq!(
        record.calls.get(ops::PUT_METRIC_DATA),
        2,
        "700 values: one call a reading"
    );
    assert_eq!(record.calls.get(ops::GET_PARAMETERS_BY_PATH), 11);
    assert_eq!(record.calls.get(ops::GET_QUEUE_URL), 101);

    // Published: every service's backlog is in CloudWatch under its own queue.
    for r in services.iter().step_by(9) {
        assert_eq!(
            published_max(&clients, &r.queue, BACKLOG_METRIC).await,
            Some(r.messages as f64),
            "{}",
            r.queue
        );
    }

    // A second run on the same instance resolves no queue again.
    let again = sampler
        .run(SampleRequest {
            readings: Some(1),
            interval_secs: Some(1),
        })
        .await
        .expect("the second run");
    assert_eq!(
        again.calls.get(ops::GET_QUEUE_URL),
        1,
        "only the orphan's, which failed"
    );
}

#[tokio::test]
async fn a_throttled_queue_costs_only_its_own_service_its_readings() {
    let clients = clients().await;
    let path = format!("/bpi-test/{}", bpi_testkit::unique_name("registry"));
    let services = fleet(3);
    join_all(services.iter().map(|r| register(&clients, &path, r, true))).await;
    // Every request that names the second service's queue is answered with throttling or a 500.
    let proxy = Proxy::start_matching(
        &bpi_testkit::emulator().endpoint,
        1.0,
        600,
        &services[1].queue,
    );
    let through_proxy = AwsClients::new(&bpi_aws::local_emulator_config(&proxy.url).await);
    let started = SystemTime::now();
    let record = FleetSampler::new(through_proxy, ServiceSource::Registry(path), 6, 10)
        .run(SampleRequest {
            readings: Some(2),
            interval_secs: Some(1),
        })
        .await
        .expect("the run");
    let outcome: Vec<(u32, u32)> = record
        .services
        .iter()
        .map(|s| (s.published, s.failed))
        .collect();
    let index = |r: &Registered| {
        record
            .services
            .iter()
            .position(|s| s.resource_id == format!("service/{}/{}", r.cluster, r.service))
            .expect("served")
    };
    assert_eq!(outcome[index(&services[0])], (2, 0));
    assert_eq!(outcome[index(&services[2])], (2, 0));
    assert_eq!(outcome[index(&services[1])], (0, 2));
    let failed = &record.services[index(&services[1])];
    let why = failed.error.as_deref().unwrap_or_default();
    assert!(
        why.contains("hrottl") || why.contains("InternalFailure"),
        "{why}"
    );
    assert!(proxy.stats()["injected_throttling"].as_u64().unwrap_or(0) > 0);
    assert!(started.elapsed().unwrap_or_default() < Duration::from_secs(120));
}

#[tokio::test]
async fn a_service_consuming_two_queues_reads_their_backlogs_added_up() {
    let clients = clients().await;
    let path = format!("/bpi-test/{}", bpi_testkit::unique_name("registry"));
    let mut r = fleet(4).remove(3); // 3 messages
    r.messages = 3;
    register(&clients, &path, &r, true).await;
    // A second queue with 4 messages, named in the entry's EXTRA_QUEUE_NAMES.
    let extra = Registered {
        queue: bpi_testkit::unique_name("fq-extra"),
        messages: 4,
        ..r.clone()
    };
    register(&clients, &format!("{path}-unused"), &extra, true).await;
    let env = env_map(&[
        ("CLUSTER_NAME", r.cluster.as_str()),
        ("SERVICE_NAME", r.service.as_str()),
        ("QUEUE_NAME", r.queue.as_str()),
        ("EXTRA_QUEUE_NAMES", extra.queue.as_str()),
    ]);
    put_parameter(
        &clients.ssm,
        &entry_parameter_name(&path, &r.cluster, &r.service),
        &serde_json::to_string(&entry_of_env(&env).expect("valid").0).expect("json"),
        "test",
    )
    .await
    .expect("register");
    let record = FleetSampler::new(clients.clone(), ServiceSource::Registry(path), 6, 10)
        .run(SampleRequest {
            readings: Some(1),
            interval_secs: Some(1),
        })
        .await
        .expect("the run");
    let s = &record.services[0];
    assert_eq!(s.last.expect("values").backlog, 7, "3 + 4");
    assert_eq!(record.calls.get(ops::GET_QUEUE_ATTRIBUTES), 2);
    assert_eq!(
        published_max(&clients, &r.queue, BACKLOG_METRIC).await,
        Some(7.0),
        "published under QUEUE_NAME"
    );
}
