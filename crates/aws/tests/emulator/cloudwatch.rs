use std::time::{Duration, SystemTime};

use bpi_aws::cloudwatch::{DurationStats, put_duration_stats, read_duration_stats};
use bpi_core::config::MetricNames;
use bpi_core::{MpdEstimate, estimate_mpd};

use crate::clients;

fn stats(durations: &[f64]) -> DurationStats {
    let mut s = DurationStats::default();
    for d in durations {
        s.record(*d);
    }
    s
}

#[tokio::test]
async fn statistic_sets_are_read_back_with_the_right_sums() {
    let clients = clients().await;
    let names = MetricNames {
        namespace: "ECS-SQS-BPI".into(),
        metric_name: "MsgProcessingDuration".into(),
        metric_type: "Single-Queue".into(),
    };
    // A queue name of its own: the dimension isolates this test's data.
    let queue = bpi_testkit::unique_name("cw");
    let now = SystemTime::now();
    let minute = Duration::from_secs(60);
    // Three minutes: 10 messages of 5 s, 1 message of 100 s, 30 messages of 2 s.
    let sets = [stats(&[5.0; 10]), stats(&[100.0]), stats(&[2.0; 30])];
    for (i, s) in sets.iter().enumerate() {
        let at = now - minute * (3 - i as u32);
        put_duration_stats(&clients.cloudwatch, &names, &queue, s, at)
            .await
            .expect("put");
    }
    // Empty stats publish nothing and do not fail.
    put_duration_stats(
        &clients.cloudwatch,
        &names,
        &queue,
        &DurationStats::default(),
        now,
    )
    .await
    .expect("empty");

    let read = read_duration_stats(
        &clients.cloudwatch,
        &names,
        &queue,
        Duration::from_secs(3600),
        now + minute,
    )
    .await
    .expect("get metric data");
    let total_count: f64 = read.iter().map(|s| s.sample_count).sum();
    let total_sum: f64 = read.iter().map(|s| s.sum_secs).sum();
    assert_eq!(total_count, 41.0, "{read:?}");
    assert_eq!(total_sum, 210.0, "{read:?}");
    // The weighted mean, 210 / 41, not the mean of per-minute means (5 + 100 + 2) / 3.
    assert_eq!(
        estimate_mpd(&read, 20),
        MpdEstimate::Known {
            mpd_secs: 210.0 / 41.0,
            samples: 41
        }
    );

    let other = read_duration_stats(
        &clients.cloudwatch,
        &names,
        "no-such-queue",
        Duration::from_secs(3600),
        now,
    )
    .await
    .expect("get metric data");
    assert!(other.is_empty());
}
