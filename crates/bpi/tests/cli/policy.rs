use std::process::Command;

use bpi_core::config::UpdaterConfig;
use bpi_core::policy::{ScalingSpec, scaling_spec};

use bpi_sim::PolicyKind;

use crate::support::bpi;

const SETTINGS: [(&str, &str); 4] = [
    ("CLUSTER_NAME", "c"),
    ("SERVICE_NAME", "s"),
    ("QUEUE_NAME", "q"),
    ("MIN_CAPACITY", "0"),
];

#[test]
fn policy_prints_core_s_spec_as_the_api_json() {
    let out = Command::new(env!("CARGO_BIN_EXE_bpi"))
        .arg("policy")
        .env_clear()
        .envs(SETTINGS)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: ScalingSpec = serde_json::from_slice(&out.stdout).expect("json");
    let config = UpdaterConfig::from_env(&SETTINGS).expect("valid");
    assert_eq!(
        printed,
        scaling_spec(&config.policy, 12.0),
        "latency 60 / default MPD 5"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        json["target_tracking"]["PolicyType"],
        "TargetTrackingScaling"
    );
    assert_eq!(json["fast_path"]["policy"]["PolicyType"], "StepScaling");
    assert_eq!(json["backstop"]["policy"]["PolicyType"], "StepScaling");
}

#[test]
fn a_bad_setting_exits_2_naming_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_bpi"))
        .arg("policy")
        .env_clear()
        .envs(SETTINGS)
        .env("DESIRED_LATENCY_SECS", "soon")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DESIRED_LATENCY_SECS=\"soon\""));
}

#[test]
fn plan_gives_the_target_the_steady_tasks_and_the_cost() {
    let out = bpi(&["plan", "--mpd", "5", "--rate", "50"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ecsTargetBPI        12 "), "{text}");
    assert!(text.contains("4.17 on average -> 5 tasks"), "{text}");
    assert!(text.contains("$36.04/month"), "5 x $0.00988 x 730: {text}");
    assert!(!text.contains("warning"), "{text}");

    let out = bpi(&["plan", "--mpd", "90", "--rate", "50", "--max-tasks", "10"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("cannot be met by scaling"), "{text}");
    assert!(
        text.contains("75 tasks needed but --max-tasks is 10"),
        "{text}"
    );
    assert_eq!(
        bpi(&["plan", "--mpd", "0", "--rate", "5"]).status.code(),
        Some(2)
    );
}

#[test]
fn plan_prices_the_keep_alive_and_the_headroom_on_a_history() {
    // Two days at 5-minute buckets: 10 messages every bucket, and one bucket of 600 each day at noon.
    let dir = std::env::temp_dir().join(bpi_testkit::unique_name("plan-history"));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("sent.csv");
    let mut csv = String::from("timestamp,count\n");
    for bucket in 0..(2 * 288) {
        let count = if bucket % 288 == 144 { 600 } else { 10 };
        csv.push_str(&format!("{},{count}\n", 1_700_000_000 + bucket * 300));
    }
    std::fs::write(&path, csv).expect("write");
    let out = bpi(&[
        "plan",
        "--mpd",
        "3",
        "--history",
        path.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // The mean is the rate: (574 × 10 + 2 × 600) messages over 2,880 minutes.
    assert!(
        text.contains("busy tasks          0.12 on average"),
        "{text}"
    );
    assert!(
        text.contains(
            "the floor of one task holds 100% of the time: 730 task-hours, $7.21 a month"
        ),
        "{text}"
    );
    assert!(text.contains("headroom            the"), "{text}");
    assert_eq!(
        bpi(&["plan", "--mpd", "3"]).status.code(),
        Some(2),
        "--rate or --history"
    );
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "timestamp,count\nyesterday,3\n").expect("write");
    let out = bpi(&[
        "plan",
        "--mpd",
        "3",
        "--history",
        bad.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bad.csv"),
        "the file named"
    );
}

#[test]
fn simulate_prints_reports_as_json_and_refuses_unknown_names() {
    let out = bpi(&[
        "simulate",
        "--scenario",
        "blueprint",
        "--policy",
        "ours",
        "--hours",
        "1",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(reports.as_array().map(Vec::len), Some(1));
    assert_eq!(reports[0]["messages"], 3000, "50 a minute for an hour");
    assert_eq!(
        (
            reports[0]["scenario"].as_str(),
            reports[0]["policy"].as_str()
        ),
        (Some("blueprint"), Some("ours"))
    );
    let table = bpi(&["simulate", "--scenario", "burst", "--hours", "1"]);
    assert_eq!(
        String::from_utf8_lossy(&table.stdout).lines().count(),
        2 + PolicyKind::ALL.len(),
        "header + one row per policy, the oracle's and the reactive limit's included"
    );
    assert_eq!(
        bpi(&["simulate", "--scenario", "nope"]).status.code(),
        Some(2)
    );
    assert_eq!(
        bpi(&["simulate", "--policy", "nope"]).status.code(),
        Some(2)
    );
}
