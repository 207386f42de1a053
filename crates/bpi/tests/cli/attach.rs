//! `bpi attach` and `bpi detach` on a service made with the plain AWS CLI (`examples/existing-service/create.sh`:
//! CPU target tracking and a nightly scheduled action), against the emulator. moto stores policies, scheduled
//! actions and alarms without evaluating any, and creates no alarm for a target tracking policy: what is checked is
//! what the service's scaling holds before, while attached and after.

use bpi_aws::attach::scaling_state;
use bpi_aws::{AwsClients, local_emulator_config};
use bpi_core::attach::{FoundPolicy, ScalingState};

use crate::support::bpi_json;

/// The service's scaling as the describe APIs return it, this project's policies included.
async fn state(clients: &AwsClients, resource_id: &str) -> ScalingState {
    scaling_state(&clients.autoscaling, &clients.cloudwatch, resource_id, &[])
        .await
        .expect("describe")
}

#[tokio::test(flavor = "multi_thread")]
async fn attach_shows_replaces_and_detach_restores_exactly() {
    let clients = AwsClients::new(&local_emulator_config(&bpi_testkit::emulator().endpoint).await);
    let cluster = bpi_testkit::unique_name("existing");
    let service = bpi_testkit::unique_name("orders");
    let queue = bpi_testkit::unique_name("orders-queue");
    let script = bpi_testkit::workspace_root().join("examples/existing-service/create.sh");
    let aws = bpi_testkit::venv_bin("aws");
    let out = std::process::Command::new(&script)
        .args([&cluster, &service, &queue])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_CLI", &aws)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .envs(bpi_testkit::emulator().child_env())
        .output()
        .expect("run create.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let resource_id = format!("service/{cluster}/{service}");
    let before = state(&clients, &resource_id).await;
    assert_eq!(before.policies.len(), 1, "{before:?}");
    assert_eq!(before.scheduled_actions.len(), 1);

    let registry = format!("/bpi-test/{}", bpi_testkit::unique_name("attach-registry"));
    let env = [
        ("CLUSTER_NAME", cluster.as_str()),
        ("SERVICE_NAME", service.as_str()),
        ("QUEUE_NAME", queue.as_str()),
        ("FLEET_REGISTRY_PATH", registry.as_str()),
    ];

    // The dry run lists the policy and the scheduled action, and changes nothing.
    let dry = bpi_json(&["attach"], &env);
    assert_eq!(dry["applied"], false);
    assert_eq!(
        dry["fifo"],
        serde_json::json!([]),
        "a standard queue: nothing to say about FIFO"
    );
    assert_eq!(
        dry["mpd_source"], "littles_law",
        "no worker publishes durations"
    );
    let plan: Vec<(String, String)> = dry["plan"]
        .as_array()
        .expect("plan")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_string(),
                p["fate"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        plan,
        [
            (resource_id.clone(), "kept".to_string()),
            ("cpu70".to_string(), "replaced".to_string()),
            ("nightly-batch".to_string(), "kept".to_string()),
        ]
    );
    assert_eq!(
        dry["bounds"],
        serde_json::json!([2, 8]),
        "the service's own bounds"
    );
    assert_eq!(state(&clients, &resource_id).await, before);

    // Attach replaces the CPU policy with this project's, keeps the scheduled action and the bounds.
    let attached = bpi_json(&["attach", "--apply"], &env);
    assert_eq!(
        (attached["applied"].as_bool(), attached["changed"].as_bool()),
        (Some(true), Some(true))
    );
    let during = state(&clients, &resource_id).await;
    let names: Vec<&str> = during.policies.iter().map(FoundPolicy::name).collect();
    assert!(!names.contains(&"cpu70"), "{names:?}");
    assert!(names.contains(&"ecs-sqs-bpi-target-tracking"), "{names:?}");
    assert_eq!(during.scheduled_actions, before.scheduled_actions);
    assert_eq!(
        during
            .target
            .as_ref()
            .map(|t| (t.min_capacity, t.max_capacity)),
        Some((2, 8))
    );
    let listed = bpi_json(&["fleet", "list"], &env);
    assert_eq!(listed["entries"][0]["resource_id"], resource_id.as_str());
    let stopped = vec![format!("SamplerStopped-{resource_id}")];
    assert_eq!(
        bpi_aws::cloudwatch::existing_alarms(&clients.cloudwatch, &stopped)
            .await
            .expect("alarms"),
        stopped,
        "the service's own sampler-stopped alarm"
    );

    // Attaching twice changes nothing.
    let again = bpi_json(&["attach", "--apply"], &env);
    assert_eq!(
        (
            again["already_attached"].as_bool(),
            again["changed"].as_bool()
        ),
        (Some(true), Some(false))
    );
    assert_eq!(state(&clients, &resource_id).await, during);

    // While attached, the updater's forecaster writes its scheduled actions beside the user's nightly-batch.
    let ours = bpi_core::forecast::ScheduledActionSpec {
        name: "bpi-forecast-daily-1-raise".into(),
        recurrence: bpi_core::forecast::Recurrence::Daily {
            minute_of_day: 133,
            weekdays: bpi_core::forecast::Slots::ALL_WEEKDAYS,
        },
        min_capacity: 6,
    };
    bpi_aws::scheduled::put_scheduled_action(&clients.autoscaling, &ours.request(&resource_id))
        .await
        .expect("the forecaster's action");
    let during = state(&clients, &resource_id).await;
    assert_eq!(during.scheduled_actions.len(), 2);

    // Detach: this project's policies and scheduled actions go, the CPU policy and the bounds come back as they
    // were, the user's scheduled action stays.
    let dry_detach = bpi_json(&["detach"], &env);
    assert_eq!(
        dry_detach["restored_policies"],
        serde_json::json!(["cpu70"])
    );
    assert_eq!(
        dry_detach["removed_scheduled_actions"],
        serde_json::json!(["bpi-forecast-daily-1-raise"])
    );
    assert_eq!(
        dry_detach["missing_scheduled_actions"],
        serde_json::json!([])
    );
    assert_eq!(
        state(&clients, &resource_id).await,
        during,
        "a dry run changes nothing"
    );
    let detached = bpi_json(&["detach", "--apply"], &env);
    assert_eq!(detached["scalable_target"], "restored");
    assert_eq!(
        state(&clients, &resource_id).await,
        before,
        "restored exactly"
    );
    assert_eq!(
        bpi_json(&["fleet", "list"], &env)["entries"],
        serde_json::json!([])
    );

    // Detaching what is not attached is refused and changes nothing.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bpi"))
        .arg("detach")
        .env_clear()
        .envs(bpi_testkit::emulator().child_env())
        .envs(env.iter().copied())
        .output()
        .expect("run bpi");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not attached"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_step_policy_is_kept_silent_while_attached_and_heard_again_after() {
    use bpi_aws::autoscaling::{put_step_policy, register_scalable_target};
    use bpi_aws::cloudwatch::put_alarm;
    use bpi_core::config::UpdaterConfig;
    use bpi_core::policy::{fast_path_spec, scaling_spec};

    let clients = AwsClients::new(&local_emulator_config(&bpi_testkit::emulator().endpoint).await);
    let cluster = bpi_testkit::unique_name("existing");
    let service = bpi_testkit::unique_name("steps");
    let queue = bpi_testkit::unique_name("steps-queue");
    bpi_aws::fixtures::create_service(&clients, &cluster, &service, 1).await;
    clients
        .sqs
        .create_queue()
        .queue_name(&queue)
        .send()
        .await
        .expect("queue");
    // The service's own step policy on queue depth, with its alarm (shaped like this project's fast path, under
    // other names: only the names and the alarm's action matter here).
    let theirs = [
        ("CLUSTER_NAME", cluster.as_str()),
        ("SERVICE_NAME", service.as_str()),
        ("QUEUE_NAME", queue.as_str()),
        ("SCALING_POLICY_NAME", "team-depth"),
    ];
    let config = UpdaterConfig::from_env(&theirs).expect("valid");
    register_scalable_target(
        &clients.autoscaling,
        &scaling_spec(&config.policy, 12.0).scalable_target,
    )
    .await
    .expect("register");
    let mut step = fast_path_spec(&config.policy);
    step.alarm.alarm_name = bpi_testkit::unique_name("team-depth-high");
    let arn = put_step_policy(&clients.autoscaling, &step.policy)
        .await
        .expect("step policy");
    put_alarm(&clients.cloudwatch, &step.alarm, &arn)
        .await
        .expect("alarm");
    let alarm = vec![step.alarm.alarm_name.clone()];
    let enabled = |clients: AwsClients, alarm: Vec<String>| async move {
        bpi_aws::attach::alarms_with_actions_enabled(&clients.cloudwatch, &alarm)
            .await
            .expect("describe alarms")
            .len()
            == 1
    };
    assert!(enabled(clients.clone(), alarm.clone()).await);

    let registry = format!("/bpi-test/{}", bpi_testkit::unique_name("attach-registry"));
    let env = [
        ("CLUSTER_NAME", cluster.as_str()),
        ("SERVICE_NAME", service.as_str()),
        ("QUEUE_NAME", queue.as_str()),
        ("FLEET_REGISTRY_PATH", registry.as_str()),
    ];
    let dry = bpi_json(&["attach"], &env);
    let fates: Vec<&str> = dry["plan"]
        .as_array()
        .expect("plan")
        .iter()
        .filter_map(|p| p["fate"].as_str())
        .collect();
    assert_eq!(fates, ["kept", "kept_silenced"]);
    bpi_json(&["attach", "--apply"], &env);
    assert!(
        !enabled(clients.clone(), alarm.clone()).await,
        "silenced while attached"
    );
    let resource_id = format!("service/{cluster}/{service}");
    let names: Vec<String> = state(&clients, &resource_id)
        .await
        .policies
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    assert!(names.contains(&step.policy.policy_name), "kept: {names:?}");
    bpi_json(&["detach", "--apply"], &env);
    assert!(
        enabled(clients.clone(), alarm).await,
        "heard again after detach"
    );
}
