//! `bpi scaling apply` against the emulator on a service set up before the sampler: the pre-sampler scale-from-zero
//! (activation) policy and its alarm are removed, the sampler's companions created, a second run changes nothing,
//! and a companion edited by hand is repaired. moto stores the policies and alarms without evaluating them; what
//! they do is checked by core's spec tests, the AWS model checks (`aws_models.rs`) and fault cases 9-10.

use bpi_aws::autoscaling::{policy_names, put_step_policy, register_scalable_target};
use bpi_aws::cloudwatch::{alarm_description, put_alarm};
use bpi_aws::fixtures::{create_queue_with_dlq, create_service};
use bpi_aws::{AwsClients, local_emulator_config};
use bpi_core::config::UpdaterConfig;
use bpi_core::policy::{fast_path_spec, scaling_spec};

/// `bpi scaling apply` with `env`: its JSON report.
fn apply(env: &[(&str, &str)]) -> serde_json::Value {
    crate::support::bpi_json(&["scaling", "apply"], env)
}

/// The report's per-policy outcomes: (fast path, idle, backstop, utilization, the retired scale-from-zero policy).
fn outcomes(r: &serde_json::Value) -> [String; 5] {
    [
        "fast_path",
        "idle",
        "backstop",
        "utilization",
        "retired_scale_from_zero",
    ]
    .map(|k| r[k].as_str().unwrap_or("?").to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_replaces_pre_sampler_scaling_keeps_what_is_right_and_repairs_edits() {
    let clients = AwsClients::new(&local_emulator_config(&bpi_testkit::emulator().endpoint).await);
    let queue = bpi_testkit::unique_name("scaling");
    let (cluster, service) = (
        bpi_testkit::unique_name("cluster"),
        bpi_testkit::unique_name("service"),
    );
    create_queue_with_dlq(&clients.sqs, &queue, 30, 3).await;
    create_service(&clients, &cluster, &service, 1).await;
    let env = [
        ("CLUSTER_NAME", cluster.as_str()),
        ("SERVICE_NAME", service.as_str()),
        ("QUEUE_NAME", queue.as_str()),
        ("MIN_CAPACITY", "0"),
    ];
    let config = UpdaterConfig::from_env(&env).expect("valid");
    let s = &config.policy;
    register_scalable_target(&clients.autoscaling, &scaling_spec(s, 12.0).scalable_target)
        .await
        .expect("register");
    // What a pre-sampler deploy left: the scale-from-zero step policy and its alarm (shaped here like the fast path; only
    // the names matter to apply).
    let activation = s.retired_scale_from_zero_policy_name();
    let mut pre_sampler = fast_path_spec(s);
    pre_sampler.policy.policy_name.clone_from(&activation);
    pre_sampler.alarm.alarm_name = s.alarm_name(&activation);
    pre_sampler.alarm.alarm_description = "before the sampler: scale from zero".into();
    let arn = put_step_policy(&clients.autoscaling, &pre_sampler.policy)
        .await
        .expect("put the pre-sampler policy");
    put_alarm(&clients.cloudwatch, &pre_sampler.alarm, &arn)
        .await
        .expect("put the pre-sampler alarm");

    let first = apply(&env);
    assert_eq!(
        outcomes(&first),
        ["created", "created", "created", "created", "removed"].map(String::from),
        "{first}"
    );
    assert_eq!(first["changed"], true);
    let resource_id = s.resource_id();
    let names = policy_names(&clients.autoscaling, &resource_id)
        .await
        .expect("names");
    assert!(!names.contains(&activation), "{names:?}");
    for wanted in [
        s.fast_path_policy_name(),
        s.idle_policy_name(),
        s.backstop_policy_name(),
        s.utilization_policy_name(),
        s.policy_name.clone(),
    ] {
        assert!(names.contains(&wanted), "{wanted} in {names:?}");
    }
    assert_eq!(
        alarm_description(&clients.cloudwatch, &s.alarm_name(&activation))
            .await
            .expect("describe"),
        None,
        "the pre-sampler alarm is gone"
    );

    // Nothing to do the second time.
    let second = apply(&env);
    assert_eq!(
        outcomes(&second),
        ["unchanged", "unchanged", "unchanged", "unchanged", "absent"].map(String::from),
        "{second}"
    );
    assert_eq!(second["changed"], false);

    // A fast-path alarm edited by hand (here: its description) is rewritten.
    let mut edited = fast_path_spec(s);
    edited.alarm.alarm_description = "edited in the console".into();
    put_alarm(&clients.cloudwatch, &edited.alarm, &arn)
        .await
        .expect("edit");
    let third = apply(&env);
    assert_eq!(third["fast_path"], "updated", "{third}");
    assert_eq!(
        alarm_description(&clients.cloudwatch, &edited.alarm.alarm_name)
            .await
            .expect("describe"),
        Some(fast_path_spec(s).alarm.alarm_description)
    );
}
