//! The fleet sampler at scale against the local emulator: N services over N/50 clusters, each with its queue,
//! registered under a fresh path; R runs of 6 readings 2 s apart. Prints each reading's duration (start to the
//! end of its last publication: p50, p99, max), the process's peak memory, the calls a run made against core's
//! prediction, and the cost table of docs/operate.md.
//!
//! `cargo run --release -p sampler --example fleet_bench -- [SERVICES] [RUNS]` (default 100 and 3), with
//! `BPI_EMULATOR_ENDPOINT` set or the emulator started by the test kit. moto answers slower than AWS and in one
//! process, so the durations are an upper bound of the network's part, not AWS's figures.

use bpi_core::config::env_map;

use bpi_aws::AwsClients;
use bpi_aws::fixtures::create_service;
use bpi_aws::ssm::put_parameter;
use bpi_core::fleet::{FleetShape, entry_of_env, entry_parameter_name};
use futures::future::join_all;
use sampler::{FleetSampler, SampleRequest, ServiceSource};

/// The process's peak resident memory, MB (VmHWM).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let services: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let runs: u32 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(3);
    let clients =
        AwsClients::new(&bpi_aws::local_emulator_config(&bpi_testkit::emulator().endpoint).await);
    let path = format!("/bench/{}", bpi_testkit::unique_name("fleet"));
    let clusters: Vec<String> = (0..services.div_ceil(50))
        .map(|i| bpi_testkit::unique_name(&format!("bench{i}")))
        .collect();
    let setup = std::time::Instant::now();
    let all: Vec<(String, String, String)> = (0..services)
        .map(|i| {
            (
                clusters[i % clusters.len()].clone(),
                bpi_testkit::unique_name(&format!("svc{i}")),
                bpi_testkit::unique_name(&format!("q{i}")),
            )
        })
        .collect();
    for chunk in all.chunks(25) {
        join_all(chunk.iter().map(|(cluster, service, queue)| {
            let clients = &clients;
            let path = &path;
            async move {
                create_service(clients, cluster, service, 1).await;
                clients
                    .sqs
                    .create_queue()
                    .queue_name(queue)
                    .send()
                    .await
                    .expect("create queue");
                let env = env_map(&[
                    ("CLUSTER_NAME", cluster.as_str()),
                    ("SERVICE_NAME", service.as_str()),
                    ("QUEUE_NAME", queue.as_str()),
                ]);
                let entry = entry_of_env(&env).expect("valid");
                put_parameter(
                    &clients.ssm,
                    &entry_parameter_name(path, cluster, service),
                    &serde_json::to_string(&entry.0).expect("json"),
                    "bench",
                )
                .await
                .expect("register");
            }
        }))
        .await;
    }
    eprintln!(
        "set up {services} services in {:.1} s",
        setup.elapsed().as_secs_f64()
    );
    let before_runs_mb = peak_rss_mb();
    let sampler = FleetSampler::new(clients, ServiceSource::Registry(path), 6, 2);
    let mut ticks: Vec<u64> = Vec::new();
    let mut last_calls = None;
    let mut failing = 0;
    for _ in 0..runs {
        let record = sampler.run(SampleRequest::default()).await.expect("a run");
        failing += record.failing().count();
        ticks.extend(&record.tick_millis);
        last_calls = Some(record.calls);
    }
    ticks.sort_unstable();
    let predicted = FleetShape {
        services: u32::try_from(services).unwrap_or(u32::MAX),
        clusters: u32::try_from(clusters.len()).unwrap_or(u32::MAX),
        readings_per_run: 6,
        metrics_per_reading: 7,
    }
    .calls_per_run();
    println!(
        "| services | clusters | readings measured | reading p50 | p99 | max | failing service-runs | peak memory (process, set-up included) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    println!(
        "| {services} | {} | {} | {} ms | {} ms | {} ms | {failing} | {:.0} MB (before the runs {:.0} MB) |",
        clusters.len(),
        ticks.len(),
        percentile(&ticks, 0.5),
        percentile(&ticks, 0.99),
        ticks.last().copied().unwrap_or(0),
        peak_rss_mb(),
        before_runs_mb,
    );
    println!();
    println!("| operation | calls in the last run | core's prediction |");
    println!("| --- | --- | --- |");
    if let Some(calls) = last_calls {
        for (op, n) in &calls.0 {
            println!("| {op} | {n} | {} |", predicted.get(op));
        }
    }
}
