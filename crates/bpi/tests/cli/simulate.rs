//! `bpi simulate` beyond the shipped scenarios: a replayed trace, recorded counts, a fixed fleet, the robust mode, the
//! parameters.

use crate::support::bpi;

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn a_trace_replays_on_a_fixed_fleet_with_the_mean_wait_worked_by_hand() {
    // Ten 10 s messages at 120 s on two tasks: they wait 0, 0, 10, 10, ..., 40, 40 s; mean wait 20 s.
    let dir = std::env::temp_dir().join(format!("bpi-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let trace = dir.join("ten.csv");
    let mut csv = String::from("arrival_secs,duration_secs\n");
    for _ in 0..10 {
        csv.push_str("120,10\n");
    }
    std::fs::write(&trace, csv).expect("write trace");
    let path = trace.to_string_lossy().into_owned();
    let reports = json(&bpi(&[
        "simulate",
        "--trace",
        &path,
        "--latency",
        "30",
        "--policy",
        "fixed:2,oracle",
        "--json",
    ]));
    let fixed = &reports[0];
    assert_eq!(fixed["policy"], "fixed:2");
    assert_eq!(fixed["scenario"], "ten");
    assert_eq!(fixed["messages"], 10);
    assert_eq!(fixed["mean_wait_secs"], 20.0);
    assert_eq!(fixed["max_secs"], 40.0);
    assert_eq!(fixed["within_promise"], 0.8, "waits 0-30 s: 8 of 10");
    assert_eq!(fixed["scaling_actions"], 0);
    // The oracle launches enough tasks a start latency ahead: everything within the 30 s promise.
    assert_eq!(reports[1]["policy"], "oracle");
    assert_eq!(reports[1]["within_promise"], 1.0);

    // A bad line is named, and nothing runs.
    std::fs::write(&trace, "0,10\nten,1\n").expect("write trace");
    let out = bpi(&["simulate", "--trace", &path]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn recorded_counts_replay_at_their_bucket_width_scaled_by_the_load() {
    // Three 5-minute buckets: 10, 0 and 5 messages; at ×2, 30 messages of a constant 1 s.
    let dir = std::env::temp_dir().join(format!("bpi-counts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let counts = dir.join("sent.csv");
    std::fs::write(
        &counts,
        "timestamp,value\n2015-02-26 21:40:00,10\n2015-02-26 21:45:00,0\n2015-02-26 21:50:00,5\n",
    )
    .expect("write counts");
    let path = counts.to_string_lossy().into_owned();
    let reports = json(&bpi(&[
        "simulate",
        "--counts",
        &path,
        "--load",
        "2",
        "--durations",
        r#"{"kind":"constant","secs":1}"#,
        "--min-tasks",
        "0",
        "--policy",
        "fixed:1,ours",
        "--json",
    ]));
    assert_eq!(reports[0]["scenario"], "sent");
    assert_eq!(reports[0]["messages"], 30);
    assert_eq!(
        reports[0]["within_promise"], 1.0,
        "one task serves 30 s of work in 15 minutes"
    );
    assert_eq!(reports[1]["policy"], "ours");

    // `all` on replayed traffic compares fixed fleets up to --max-tasks, and the keep-alive is priced on stderr.
    let out = bpi(&[
        "simulate",
        "--counts",
        &path,
        "--mpd",
        "1",
        "--max-tasks",
        "4",
        "--policy",
        "all",
        "--json",
    ]);
    let policies: Vec<String> = json(&out)
        .as_array()
        .expect("reports")
        .iter()
        .map(|r| r["policy"].as_str().expect("policy").to_string())
        .collect();
    for fixed in ["fixed:1", "fixed:2", "fixed:4"] {
        assert!(policies.iter().any(|p| p == fixed), "{policies:?}");
    }
    assert!(
        !policies.iter().any(|p| p == "fixed:8"),
        "not past --max-tasks"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("keep-alive          idle wait"), "{err}");

    // A bad row is named with its line, and nothing runs; so is a bad load.
    std::fs::write(&counts, "t,v\n0,1\n300,many\n").expect("write counts");
    let out = bpi(&["simulate", "--counts", &path]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3") && err.contains("many"), "{err}");
    std::fs::write(&counts, "0,1\n300,2\n").expect("write counts");
    let out = bpi(&["simulate", "--counts", &path, "--load", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--load"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn robust_mode_reports_worst_and_median_against_the_oracle() {
    let rows = json(&bpi(&[
        "simulate",
        "--robust",
        "--scenario",
        "varying",
        "--hours",
        "1",
        "--policy",
        "ours,keda,oracle",
        "--behaviours",
        "3",
        "--seeds",
        "1",
        "--json",
    ]));
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 3);
    for r in rows {
        let worst = r["worst_share"].as_f64().expect("worst");
        let median = r["median_share"].as_f64().expect("median");
        assert!(worst <= median, "{r}");
        assert!(!r["worst_under"].as_str().unwrap_or("").is_empty());
    }
    let oracle = &rows[2];
    assert_eq!(oracle["policy"], "oracle");
    assert_eq!(oracle["worst_vs_oracle"], 0.0);
    assert_eq!(oracle["worst_hours_vs_oracle"], 1.0);
}

#[test]
fn robust_mode_takes_a_trace_and_replays_it_under_every_behaviour() {
    // 40 messages of 2 s at once, twice, an hour apart: a cron dump.
    let dir = std::env::temp_dir().join(format!("bpi-robust-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let trace = dir.join("dumps.csv");
    let mut csv = String::from("arrival_secs,duration_secs\n");
    for at in [60, 3660] {
        for _ in 0..40 {
            csv.push_str(&format!("{at},2\n"));
        }
    }
    std::fs::write(&trace, csv).expect("write trace");
    let path = trace.to_string_lossy().into_owned();
    let rows = json(&bpi(&[
        "simulate",
        "--robust",
        "--trace",
        &path,
        "--policy",
        "ours,reactive-limit",
        "--behaviours",
        "2",
        "--seeds",
        "2",
        "--json",
    ]));
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 2);
    for r in rows {
        assert_eq!(r["scenario"], "dumps");
        let worst = r["worst_share"].as_f64().expect("worst");
        assert!(worst <= r["median_share"].as_f64().expect("median"), "{r}");
        assert!(!r["worst_under"].as_str().unwrap_or("").is_empty());
    }
    assert_eq!(rows[1]["policy"], "reactive-limit");
    assert_eq!(rows[1]["worst_vs_reactive"], 0.0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_suite_reports_its_part_against_the_reactive_limit() {
    let chart = std::env::temp_dir().join(format!("bpi-suite-{}.svg", std::process::id()));
    let chart_path = chart.to_string_lossy().into_owned();
    let results = json(&bpi(&[
        "simulate",
        "--suite",
        "tuning",
        "--policy",
        "ours,reactive-limit",
        "--behaviours",
        "1",
        "--svg",
        &chart_path,
        "--json",
    ]));
    let results = results.as_array().expect("parts");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["part"], "tuning");
    let rows = results[0]["rows"].as_array().expect("rows");
    // Every family of the suite, both policies each.
    assert!(rows.len() >= 24, "{} rows", rows.len());
    assert_eq!(rows.len() % 2, 0);
    for pair in rows.chunks(2) {
        assert_eq!(pair[0]["policy"], "ours");
        assert_eq!(pair[1]["policy"], "reactive-limit");
        assert_eq!(pair[0]["scenario"], pair[1]["scenario"]);
        assert_eq!(pair[1]["worst_hours_vs_reactive"], 1.0);
    }
    // The trade-off chart: a panel (its title) per workload.
    let svg = std::fs::read_to_string(&chart).expect("the chart");
    assert!(svg.starts_with("<svg"), "{svg}");
    for pair in rows.chunks(2) {
        let title = format!(">{}</text>", pair[0]["scenario"].as_str().expect("name"));
        assert!(svg.contains(&title), "no panel {title}");
    }
    std::fs::remove_file(&chart).ok();
    // A suite is not a scenario.
    let out = bpi(&["simulate", "--suite", "all", "--scenario", "burst"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_parameters_table_names_every_parameter_with_a_source() {
    let out = bpi(&["simulate", "--parameters"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for name in [
        "gauge_readings_per_minute",
        "gauge_phase",
        "gauge_slip_share",
        "sqs_delay_secs",
        "insights_delay_secs",
        "task_start_secs",
        "launch_quota",
        "scale_in_step_pct",
        "cooldown_rule",
    ] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
}
