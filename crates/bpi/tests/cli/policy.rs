use std::process::Command;

use bpi_core::config::UpdaterConfig;
use bpi_core::policy::{ScalingSpec, scaling_spec};

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
    assert_eq!(json["activation"]["policy"]["PolicyType"], "StepScaling");
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
