//! Case 4: the emulator killed and restarted mid-run. Workers (real processes), the producer and the updater ride
//! it out: nothing crashes, each recovers once it answers again, and no message is lost. moto keeps no state across
//! a restart, so the test redeploys what the stack held (queue, DLQ, service, scalable target) and re-sends the
//! messages the emulator lost (those not processed before the kill), and says how many.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

use bpi_aws::AwsClients;
use bpi_aws::autoscaling::register_scalable_target;
use bpi_aws::fixtures::{QueueWithDlq, create_queue_with_dlq, create_service};
use bpi_core::config::UpdaterConfig;
use bpi_core::policy::scaling_spec;
use bpi_testkit::PrivateEmulator;
use message_producer::ProduceRequest;
use target_bpi_updater::Updater;

use crate::support::*;

const PRESENT: u64 = 100;

async fn deploy(clients: &AwsClients, name: &str, config: &UpdaterConfig) -> QueueWithDlq {
    let q = create_queue_with_dlq(&clients.sqs, name, 30, 3).await;
    create_service(
        clients,
        &config.policy.cluster_name,
        &config.policy.service_name,
        1,
    )
    .await;
    register_scalable_target(
        &clients.autoscaling,
        &scaling_spec(&config.policy, 12.0).scalable_target,
    )
    .await
    .expect("register");
    q
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "fault suite: deploy/fault-suite.sh"]
async fn workers_producer_and_updater_ride_out_an_emulator_restart() {
    // A private emulator: killing the shared one would disturb everything else.
    let mut emulator = PrivateEmulator::start();
    let endpoint = emulator.emulator.endpoint.clone();
    let clients = clients_for(&endpoint).await;
    let name = bpi_testkit::unique_name("outage");
    let config = UpdaterConfig::from_env(&[
        ("CLUSTER_NAME", bpi_testkit::unique_name("cluster").as_str()),
        ("SERVICE_NAME", bpi_testkit::unique_name("service").as_str()),
        ("QUEUE_NAME", name.as_str()),
    ])
    .expect("valid");
    let q = deploy(&clients, &name, &config).await;
    send_messages(&q.queue, 0, PRESENT, 0.2).await;
    let mut workers: Vec<WorkerProcess> = (0..2)
        .map(|_| WorkerProcess::start(&endpoint, q.queue.url(), &[("TASK_CONCURRENCY", "2")]))
        .collect();
    let producer = producer(&clients, q.queue.url()).await;
    let updater = Updater::new(clients.clone(), config.clone());
    assert!(updater.run(SystemTime::now(), false).await.is_ok());
    wait_until(Duration::from_secs(60), "some processed", || {
        let n = processed(&workers.iter().collect::<Vec<_>>()).ids.len();
        async move { n >= 20 }
    })
    .await;

    emulator.kill();
    let before: HashSet<String> = processed(&workers.iter().collect::<Vec<_>>()).ids;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during = producer.produce(&ProduceRequest::default()).await;
    let updater_during = updater.run(SystemTime::now(), false).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    for w in &mut workers {
        assert!(w.alive(), "a worker exited during the outage");
    }

    emulator.restart();
    let restarted = Instant::now();
    let q = deploy(&clients, &name, &config).await;
    let lost_by_emulator = missing(&before, 0, PRESENT);
    for id in &lost_by_emulator {
        send_messages(&q.queue, *id, 1, 0.2).await;
    }
    let after = producer.produce(&ProduceRequest::default()).await;
    let updater_after = updater
        .run(SystemTime::now(), false)
        .await
        .expect("the updater recovers");
    wait_until(
        Duration::from_secs(120),
        "drained after the restart",
        || empty(&q.queue),
    )
    .await;
    let recovered_secs = restarted.elapsed().as_secs_f64();
    for w in &mut workers {
        assert!(w.alive(), "workers kept running");
        w.sigterm();
        assert_eq!(w.wait(Duration::from_secs(30)).0, Some(0));
    }
    let p = processed(&workers.iter().collect::<Vec<_>>());
    let lost = missing(&p.ids, 0, PRESENT);
    bpi_testkit::record_fault_result(
        4,
        &format!(
            r#"{{"sent": {PRESENT}, "processed_before_kill": {}, "resent_after_restart": {}, "producer_during_outage": {{"sent": {}, "failed": {}}}, "producer_after": {{"sent": {}, "failed": {}}}, "updater_during_outage": "{}", "updater_after": "{}", "processed": {}, "lost": {}, "duplicates": {}, "worker_crashes": 0, "drained_secs_after_restart": {recovered_secs:.1}}}"#,
            before.len(),
            lost_by_emulator.len(),
            during.sent,
            during.failed,
            after.sent,
            after.failed,
            if updater_during.is_err() {
                "error (no crash)"
            } else {
                "ok"
            },
            if updater_after.updated {
                "policy recreated"
            } else {
                "ok"
            },
            p.ids.len(),
            lost.len(),
            p.duplicates()
        ),
    );
    assert_eq!(
        during.sent, 0,
        "nothing can be sent while the emulator is down"
    );
    assert!(updater_during.is_err());
    assert_eq!((after.sent, after.failed), (10, 0), "the producer recovers");
    assert!(
        updater_after.updated,
        "the updater recreates the lost policy"
    );
    assert!(lost.is_empty(), "lost {lost:?}");
    assert!(p.ids.len() as u64 >= PRESENT + 10);
}
