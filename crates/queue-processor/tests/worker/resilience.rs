//! Outages: the emulator killed mid-run and restarted.

use std::time::Duration;

use bpi_core::QueueDepth;
use bpi_testkit::PrivateEmulator;

use crate::support::*;

#[tokio::test]
async fn the_worker_rides_out_an_emulator_restart_and_finishes_the_backlog() {
    // A private emulator: killing the shared one would disturb the tests running beside this one.
    let mut emulator = PrivateEmulator::start();
    let clients = clients_for(&emulator.emulator.endpoint).await;
    let name = bpi_testkit::unique_name("outage");
    let q = create_queue_named(&clients.sqs, &name, 30, 3).await;
    send_bodies(&q.queue, &messages(20, 0.1)).await;
    let work = RecordingWork::default();
    let worker = RunningWorker::start(
        &clients,
        &q.queue,
        config(&q.queue, &[("TASK_CONCURRENCY", "2")]),
        work.clone(),
    );
    wait_until(Duration::from_secs(15), "some processed", || async {
        worker.processed() >= 5
    })
    .await;

    emulator.kill();
    tokio::time::sleep(Duration::from_secs(3)).await;
    emulator.restart();
    // moto keeps no state across a restart: the queue and its messages are gone. Recreate the queue under the same
    // name (the same URL) and re-send the backlog, as an operator would after losing a real queue.
    let q = create_queue_named(&clients.sqs, &name, 30, 3).await;
    send_bodies(&q.queue, &messages(20, 0.1)).await;

    wait_until(
        Duration::from_secs(90),
        "backlog drained after the restart",
        || async {
            q.queue
                .depth()
                .await
                .map(|d| {
                    d == QueueDepth {
                        visible: 0,
                        in_flight: 0,
                    }
                })
                .unwrap_or(false)
        },
    )
    .await;
    let before = worker.processed();
    let report = worker.stop().await;
    assert!(
        before >= 25,
        "processed before and after the outage: {before}"
    );
    assert!(report.counters.receive_requests > 0);
    // The worker never exited: it was stopped by the test, and it kept its counters.
    assert!(report.counters.processed >= 25);
}
