//! `bpi simulate --from-cloudwatch`: a known traffic pattern written into the emulator's CloudWatch (SQS's
//! NumberOfMessagesSent per minute, the workers' MsgProcessingDuration), replayed, against the same pattern given
//! as a trace. moto stores what PutMetricData sends under any namespace, AWS/SQS included (AWS itself refuses
//! `AWS/` namespaces from callers: there SQS writes them), and answers GetMetricData for it.

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use bpi_aws::{AwsClients, local_emulator_config};
use bpi_core::DurationDistribution;

use crate::support::bpi_json;

/// The pattern: per minute of two hours, the messages sent (30 a minute, a half-hour pause, then 90 a minute).
fn pattern() -> Vec<(u64, u64)> {
    (0..120u64)
        .map(|m| {
            let n = match m {
                0..60 => 30,
                60..90 => 0,
                _ => 90,
            };
            (m * 60, n)
        })
        .collect()
}

/// (share within the promise, task-hours) of each policy in a JSON report list.
fn outcomes(reports: &serde_json::Value) -> Vec<(String, f64, f64)> {
    reports
        .as_array()
        .expect("reports")
        .iter()
        .map(|r| {
            (
                r["policy"].as_str().unwrap_or_default().to_string(),
                r["within_promise"].as_f64().unwrap_or(f64::NAN),
                r["task_hours"].as_f64().unwrap_or(f64::NAN),
            )
        })
        .collect()
}

/// Writes the pattern into CloudWatch for `queue`: NumberOfMessagesSent per minute over two hours ending three
/// minutes ago, and the workers' 2 s a message.
async fn write_pattern(clients: &AwsClients, queue: &str) {
    // The two hours end three minutes ago, minute-aligned.
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let start = (now / 60) * 60 - 123 * 60;
    let data: Vec<MetricDatum> = pattern()
        .iter()
        .map(|(offset, n)| {
            MetricDatum::builder()
                .metric_name("NumberOfMessagesSent")
                .dimensions(Dimension::builder().name("QueueName").value(queue).build())
                .value(*n as f64)
                .unit(StandardUnit::Count)
                .timestamp(DateTime::from_secs((start + offset) as i64))
                .build()
        })
        .collect();
    for chunk in data.chunks(100) {
        clients
            .cloudwatch
            .put_metric_data()
            .namespace("AWS/SQS")
            .set_metric_data(Some(chunk.to_vec()))
            .send()
            .await
            .expect("put NumberOfMessagesSent");
    }
    // The workers measured 2 s a message.
    let names = bpi_core::config::MetricNames {
        namespace: bpi_core::config::DEFAULT_NAMESPACE.into(),
        metric_name: bpi_core::config::DEFAULT_METRIC_NAME.into(),
        metric_type: bpi_core::config::DEFAULT_METRIC_TYPE.into(),
    };
    let mut stats = bpi_aws::cloudwatch::DurationStats::default();
    for _ in 0..100 {
        stats.record(2.0);
    }
    bpi_aws::cloudwatch::put_duration_stats(
        &clients.cloudwatch,
        &names,
        queue,
        &stats,
        SystemTime::UNIX_EPOCH + Duration::from_secs(start + 600),
    )
    .await
    .expect("durations");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_queues_history_replays_as_its_trace_does() {
    let clients = AwsClients::new(&local_emulator_config(&bpi_testkit::emulator().endpoint).await);
    let queue = bpi_testkit::unique_name("history");
    write_pattern(&clients, &queue).await;

    let common = [
        "--latency",
        "60",
        "--max-tasks",
        "20",
        "--policy",
        "ours,keda",
        "--json",
    ];
    let mut from_history = vec![
        "simulate",
        "--from-cloudwatch",
        queue.as_str(),
        "--history-hours",
        "3",
    ];
    from_history.extend(common);
    let replayed = outcomes(&bpi_json(&from_history, &[]));

    // The same pattern as a trace, drawn as the history's was (seed 1, the command's default): the two must agree
    // exactly, since every estimate (offsets within the minute, durations) is the same draw of the same counts and
    // MPD; and with other draws (seed 99) the share within the promise stays within 2 points.
    let trace = |seed: u64| {
        let arrivals = bpi_sim::trace::from_minute_counts(
            &pattern(),
            DurationDistribution::Exponential { mean_secs: 2.0 },
            seed,
        );
        let mut csv = String::from("arrival_secs,duration_secs\n");
        for a in &arrivals {
            csv.push_str(&format!(
                "{},{}\n",
                a.at_ms as f64 / 1000.0,
                a.work_ms as f64 / 1000.0
            ));
        }
        let path = std::env::temp_dir().join(format!("{queue}-{seed}.csv"));
        std::fs::write(&path, csv).expect("trace");
        path.to_string_lossy().into_owned()
    };
    let run_trace = |path: &str| {
        let mut args = vec!["simulate", "--trace", path];
        args.extend(common);
        outcomes(&bpi_json(&args, &[]))
    };
    let same = run_trace(&trace(1));
    assert_eq!(replayed.len(), 2);
    for ((policy, share_h, hours_h), (_, share_t, hours_t)) in replayed.iter().zip(&same) {
        assert!(
            (share_h - share_t).abs() < 1e-9,
            "{policy}: {share_h} vs {share_t}"
        );
        assert!(
            (hours_h - hours_t).abs() < 1e-9,
            "{policy}: {hours_h} vs {hours_t}"
        );
    }
    let other = run_trace(&trace(99));
    for ((policy, share_h, _), (_, share_t, _)) in replayed.iter().zip(&other) {
        assert!(
            (share_h - share_t).abs() <= 0.02,
            "{policy}: {share_h} vs {share_t}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_services_own_cpu_policy_runs_beside_ours() {
    let clients = AwsClients::new(&local_emulator_config(&bpi_testkit::emulator().endpoint).await);
    let cluster = bpi_testkit::unique_name("whatif");
    let service = bpi_testkit::unique_name("orders");
    let queue = bpi_testkit::unique_name("whatif-queue");
    let out = std::process::Command::new(
        bpi_testkit::workspace_root().join("examples/existing-service/create.sh"),
    )
    .args([&cluster, &service, &queue])
    .env_clear()
    .env("PATH", std::env::var("PATH").unwrap_or_default())
    .env("AWS_CLI", bpi_testkit::venv_bin("aws"))
    .env("AWS_DEFAULT_REGION", "us-east-1")
    .envs(bpi_testkit::emulator().child_env())
    .output()
    .expect("run create.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    write_pattern(&clients, &queue).await;
    let reports = bpi_json(
        &[
            "simulate",
            "--from-cloudwatch",
            &queue,
            "--history-hours",
            "3",
            "--max-tasks",
            "20",
            "--policy",
            "ours",
            "--json",
        ],
        &[("CLUSTER_NAME", &cluster), ("SERVICE_NAME", &service)],
    );
    let policies: Vec<String> = outcomes(&reports).into_iter().map(|(p, _, _)| p).collect();
    assert_eq!(
        policies,
        ["cpu:70", "ours"],
        "the service's CPU policy at 70%, modelled, then ours"
    );
}
