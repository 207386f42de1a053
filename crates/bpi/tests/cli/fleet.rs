//! `bpi fleet add|list|remove` against the emulator: the registry a fleet sampler reads (SSM parameters, which moto
//! stores as AWS does; the sampler reading them is tested in the sampler crate).

use crate::support::{bpi_json, bpi_text};

#[tokio::test]
async fn add_is_idempotent_list_names_bad_entries_and_remove_deletes() {
    let path = format!("/bpi-test/{}", bpi_testkit::unique_name("cli-registry"));
    let env = [
        ("FLEET_REGISTRY_PATH", path.as_str()),
        ("CLUSTER_NAME", "fleet-cluster"),
        ("SERVICE_NAME", "orders"),
        ("QUEUE_NAME", "orders-queue"),
        ("DESIRED_LATENCY_SECS", "30"),
    ];
    let parameter = format!("{path}/fleet-cluster/orders");
    let first = bpi_json(&["fleet", "add"], &env);
    assert_eq!(first["action"], "added");
    assert_eq!(first["parameter"], parameter.as_str());
    assert_eq!(first["changed"], true);
    assert_eq!(bpi_json(&["fleet", "add"], &env)["changed"], false);

    // An entry the sampler would refuse, written by hand.
    let clients = bpi_aws::AwsClients::new(
        &bpi_aws::local_emulator_config(&bpi_testkit::emulator().endpoint).await,
    );
    bpi_aws::ssm::put_parameter(
        &clients.ssm,
        &format!("{path}/fleet-cluster/typo"),
        r#"{"CLUSTER_NAME": "fleet-cluster", "SERVICE_NAME": "typo", "QUEUE_NAME": "q", "LATENCY": 5}"#,
        "test",
    )
    .await
    .expect("write");
    let listed = bpi_json(&["fleet", "list"], &env);
    let entries = listed["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["resource_id"], "service/fleet-cluster/orders");
    assert!(
        entries[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("LATENCY is not a per-service setting")),
        "{listed}"
    );

    let removed = bpi_json(&["fleet", "remove"], &env);
    assert_eq!(
        (removed["action"].as_str(), removed["existed"].as_bool()),
        (Some("removed"), Some(true))
    );
    assert_eq!(bpi_json(&["fleet", "remove"], &env)["existed"], false);

    // A bad setting is refused before anything is written, naming the setting.
    let mut bad = env.to_vec();
    bad.push(("MAX_CAPACITY", "none"));
    assert!(bpi_text(&["fleet", "add"], &bad).is_empty());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bpi"))
        .args(["fleet", "add"])
        .env_clear()
        .envs(bpi_testkit::emulator().child_env())
        .envs(bad.iter().copied())
        .output()
        .expect("run bpi");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("MAX_CAPACITY"));
}
