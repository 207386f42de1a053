//! Case 5: 5xx and throttling injected on ~10% of requests for 60 s by a fault-injecting proxy in front of the
//! emulator (`deploy/fault-proxy.py`): workers, producer and updater all talk through it. No crash, no busy loop,
//! none lost, and the SDK's backoff is visible in the workers' logs.

use std::time::{Duration, Instant, SystemTime};

use bpi_aws::autoscaling::register_scalable_target;
use bpi_aws::fixtures::{create_queue_with_dlq, create_service};
use bpi_core::config::UpdaterConfig;
use bpi_core::policy::scaling_spec;
use message_producer::ProduceRequest;
use target_bpi_updater::Updater;

use crate::support::*;

const PRESENT: u64 = 200;
const WINDOW_SECS: u64 = 60;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "fault suite: deploy/fault-suite.sh"]
async fn injected_5xx_and_throttling_crash_nothing_lose_nothing_and_back_off() {
    let endpoint = bpi_testkit::emulator().endpoint.clone();
    let direct = clients_for(&endpoint).await;
    let name = bpi_testkit::unique_name("faults");
    let (cluster, service) = (
        bpi_testkit::unique_name("cluster"),
        bpi_testkit::unique_name("service"),
    );
    let q = create_queue_with_dlq(&direct.sqs, &name, 30, 3).await;
    create_service(&direct, &cluster, &service, 1).await;
    let updater_config = UpdaterConfig::from_env(&[
        ("CLUSTER_NAME", cluster.as_str()),
        ("SERVICE_NAME", service.as_str()),
        ("QUEUE_NAME", name.as_str()),
    ])
    .expect("valid");
    register_scalable_target(
        &direct.autoscaling,
        &scaling_spec(&updater_config.policy, 12.0).scalable_target,
    )
    .await
    .expect("register");
    send_messages(&q.queue, 0, PRESENT, 0.2).await;

    let proxy = Proxy::start(&endpoint, 0.10, WINDOW_SECS);
    let proxied = clients_for(&proxy.url).await;
    let settings = [
        ("TASK_CONCURRENCY", "2"),
        (
            "RUST_LOG",
            "info,message=debug,aws_smithy_runtime::client::retries=debug",
        ),
    ];
    let mut workers: Vec<WorkerProcess> = (0..2)
        .map(|_| WorkerProcess::start(&proxy.url, q.queue.url(), &settings))
        .collect();
    let producer = producer(&proxied, q.queue.url()).await;
    let updater = Updater::new(proxied.clone(), updater_config);
    let (mut sent, mut refused, mut updates_ok, mut updates_failed) = (0u64, 0u64, 0u32, 0u32);
    let start = Instant::now();
    let mut second = 0u64;
    while start.elapsed() < Duration::from_secs(WINDOW_SECS) {
        if second.is_multiple_of(5) {
            let r = producer.produce(&ProduceRequest::default()).await;
            sent += u64::from(r.sent);
            refused += u64::from(r.failed);
        }
        if second.is_multiple_of(10) {
            match updater.run(SystemTime::now(), false).await {
                Ok(_) => updates_ok += 1,
                Err(_) => updates_failed += 1,
            }
        }
        for w in &mut workers {
            assert!(w.alive(), "a worker crashed under injected faults");
        }
        second += 1;
        tokio::time::sleep_until(tokio::time::Instant::from_std(
            start + Duration::from_secs(second),
        ))
        .await;
    }
    let stats = proxy.stats();
    wait_until(Duration::from_secs(120), "the queue drained", || {
        empty(&q.queue)
    })
    .await;
    for w in &mut workers {
        assert!(w.alive());
        w.sigterm();
        assert_eq!(w.wait(Duration::from_secs(30)).0, Some(0));
    }
    let p = processed(&workers.iter().collect::<Vec<_>>());
    let lost = missing(&p.ids, 0, PRESENT);
    let dead = q.dlq.depth().await.expect("dlq").visible;
    let lines: Vec<String> = workers.iter().flat_map(WorkerProcess::lines).collect();
    let sdk_retries = lines
        .iter()
        .filter(|l| l.contains("retrying after"))
        .count();
    let own_backoffs = lines.iter().filter(|l| l.contains("backing off")).count();
    let injected = stats["injected_5xx"].as_u64().unwrap_or(0)
        + stats["injected_throttling"].as_u64().unwrap_or(0);
    let per_sec = stats["in_window"].as_f64().unwrap_or(0.0) / WINDOW_SECS as f64;
    bpi_testkit::record_fault_result(
        5,
        &format!(
            r#"{{"window_secs": {WINDOW_SECS}, "requests_in_window": {}, "requests_per_sec": {per_sec:.1}, "injected_5xx": {}, "injected_throttling": {}, "sent": {}, "producer_refused": {refused}, "processed": {}, "lost": {}, "duplicates": {}, "dlq": {dead}, "sdk_retries_logged": {sdk_retries}, "backoff_lines": {own_backoffs}, "updater_runs_ok": {updates_ok}, "updater_runs_failed": {updates_failed}, "worker_crashes": 0}}"#,
            stats["in_window"],
            stats["injected_5xx"],
            stats["injected_throttling"],
            PRESENT + sent,
            p.ids.len(),
            lost.len(),
            p.duplicates()
        ),
    );
    assert!(injected >= 10, "faults were injected: {stats}");
    assert!(lost.is_empty(), "lost {lost:?}");
    assert!(
        p.ids.len() as u64 >= PRESENT + sent,
        "every message sent was processed: {} < {}",
        p.ids.len(),
        PRESENT + sent
    );
    assert_eq!(dead, 0);
    assert!(sdk_retries > 0, "the SDK's backoff shows in the logs");
    assert!(per_sec < 100.0, "no busy loop: {per_sec} requests/s");
    assert!(updates_ok > 0, "the updater got through");
}
