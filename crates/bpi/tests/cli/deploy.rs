//! deploy.sh / destroy.sh / load.sh against the emulator, each resource checked with describe calls.
//!
//! moto quirks met here, worked around and said where they matter: stacks made through change sets have no
//! Outputs (the scripts read resources instead); a stack holding an AWS::EC2::RouteTable cannot be deleted
//! (DependencyViolation on the VPC), so the full deploy-redeploy-destroy cycle runs with existing subnets and the
//! created network is checked on creation only; change sets re-apply unchanged resources (e.g. a new task
//! definition revision), so "a second run changes nothing" is checked on the resources and the scaling report;
//! AWS::CloudWatch::Alarm and Dashboard resources are reported created but not created; and ECS resources made by
//! CloudFormation lose their ClusterSettings (Container Insights reads "disabled") and the service's
//! NetworkConfiguration. Those are checked in the template instead (template/stack.rs), where the stack declares them.

use std::path::PathBuf;
use std::process::{Command, Output};

use bpi_aws::AwsClients;
use bpi_aws::autoscaling::{describe_target_tracking_policy, policy_names, scalable_target_bounds};
use bpi_aws::cloudwatch::existing_alarms;
use bpi_core::config::UpdaterConfig;
use bpi_core::policy::{target_tracking_config, utilization_policy};
use serde_json::Value;

fn zips_dir() -> PathBuf {
    // moto stores the functions but never runs them: a zip holding a tiny `bootstrap` stands in for the real ones.
    let dir = std::env::temp_dir().join(format!("bpi-deploy-zips-{}", std::process::id()));
    for f in ["message-producer", "target-bpi-updater", "sampler"] {
        let d = dir.join("arm64").join(f);
        std::fs::create_dir_all(&d).expect("mkdir");
        let zip = d.join("bootstrap.zip");
        if !zip.exists() {
            let status = Command::new("python3")
                .args(["-c", "import sys,zipfile; z=zipfile.ZipFile(sys.argv[1],'w'); z.writestr('bootstrap','#!/bin/sh\\n'); z.close()"])
                .arg(&zip)
                .status()
                .expect("python3");
            assert!(status.success());
        }
    }
    dir
}

fn script(name: &str, args: &[&str]) -> Output {
    let emulator = bpi_testkit::emulator();
    let venv_bin = bpi_testkit::venv_bin("aws")
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        venv_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg(bpi_testkit::workspace_root().join("deploy").join(name))
        .args(args)
        .envs(emulator.child_env())
        .env("PATH", path)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("BPI_BIN", env!("CARGO_BIN_EXE_bpi"))
        .env("LAMBDA_OUT", zips_dir())
        .env("RUST_LOG", "warn")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run script");
    eprintln!(
        "--- {name} {args:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Every attribute of the queue at `url`.
fn queue_attributes(url: &str) -> Value {
    aws(&[
        "sqs",
        "get-queue-attributes",
        "--queue-url",
        url,
        "--attribute-names",
        "All",
    ])["Attributes"]
        .clone()
}

fn aws(args: &[&str]) -> Value {
    let out = Command::new(bpi_testkit::venv_bin("aws"))
        .arg("--endpoint-url")
        .arg(&bpi_testkit::emulator().endpoint)
        .args(args)
        .args(["--output", "json"])
        .envs(bpi_testkit::emulator().child_env())
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .expect("aws cli");
    assert!(
        out.status.success(),
        "aws {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&out.stdout).expect("json")
    }
}

/// A JSON scalar as text (moto keeps some strings it was given as numbers, e.g. environment values "60" as 60).
fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

fn ok(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the scaling report")
}

/// A VPC, a subnet and a security group made outside the stack, as a user with an existing network has.
fn existing_network() -> (String, String) {
    let vpc = aws(&["ec2", "create-vpc", "--cidr-block", "10.77.0.0/16"])["Vpc"]["VpcId"]
        .as_str()
        .expect("vpc")
        .to_string();
    let subnet = aws(&[
        "ec2",
        "create-subnet",
        "--vpc-id",
        &vpc,
        "--cidr-block",
        "10.77.1.0/24",
    ])["Subnet"]["SubnetId"]
        .as_str()
        .expect("subnet")
        .to_string();
    let sg = aws(&[
        "ec2",
        "create-security-group",
        "--group-name",
        &bpi_testkit::unique_name("sg"),
        "--description",
        "t",
        "--vpc-id",
        &vpc,
    ])["GroupId"]
        .as_str()
        .expect("sg")
        .to_string();
    (subnet, sg)
}

fn stack_resource(stack: &str, logical: &str) -> String {
    aws(&[
        "cloudformation",
        "list-stack-resources",
        "--stack-name",
        stack,
    ])["StackResourceSummaries"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["LogicalResourceId"] == logical)
        .and_then(|r| r["PhysicalResourceId"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// The configuration of the stack's Lambda function `logical` (ProducerFunction, UpdaterFunction, SamplerFunction).
fn function_configuration(stack: &str, logical: &str) -> Value {
    aws(&[
        "lambda",
        "get-function-configuration",
        "--function-name",
        &stack_resource(stack, logical),
    ])
}

async fn clients() -> AwsClients {
    bpi_aws::fixtures::emulator_clients(&bpi_testkit::emulator().endpoint).await
}

fn stack_name() -> String {
    // Lowercase, short: it names the image repository.
    format!(
        "t{}",
        bpi_testkit::unique_name("d")
            .replace('-', "")
            .chars()
            .rev()
            .take(14)
            .collect::<String>()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_redeploy_change_load_and_destroy() {
    let (subnet, sg) = existing_network();
    let stack = stack_name();
    let base = [
        "--stack-name",
        stack.as_str(),
        "--image",
        "worker:test",
        "--subnets",
        subnet.as_str(),
        "--security-group",
        sg.as_str(),
    ];
    let first = ok(&script(
        "deploy.sh",
        &[
            &base[..],
            &[
                "--visibility-timeout",
                "45",
                "--max-receive-count",
                "5",
                "--max",
                "7",
                "--updater-rate",
                "30",
            ],
        ]
        .concat(),
    ));
    assert_eq!(first["changed"], true);
    assert_eq!(first["policy"]["new_target"], 12.0);

    // Queue: visibility, redrive to the DLQ, SSE.
    let queue_url = stack_resource(&stack, "Queue");
    let dlq_url = stack_resource(&stack, "DeadLetterQueue");
    let attrs = &queue_attributes(&queue_url);
    assert_eq!(attrs["VisibilityTimeout"], "45");
    let redrive: Value =
        serde_json::from_str(attrs["RedrivePolicy"].as_str().expect("redrive")).expect("json");
    assert_eq!(
        redrive["maxReceiveCount"].to_string().trim_matches('"'),
        "5"
    );
    assert!(
        redrive["deadLetterTargetArn"]
            .as_str()
            .expect("arn")
            .ends_with(dlq_url.rsplit('/').next().expect("name"))
    );
    assert_eq!(attrs["SqsManagedSseEnabled"], "true");

    // Cluster (its Container Insights setting is checked in the template); task definition; service.
    let cluster = stack_resource(&stack, "Cluster");
    let c = &aws(&["ecs", "describe-clusters", "--clusters", &cluster])["clusters"][0];
    assert_eq!(c["status"], "ACTIVE");
    // moto keeps only the memory and the containers of a CloudFormation task definition: Fargate, ARM64, awsvpc and
    // the CPU are checked in the template.
    let td = &aws(&[
        "ecs",
        "describe-task-definition",
        "--task-definition",
        &stack_resource(&stack, "TaskDefinition"),
    ])["taskDefinition"];
    assert_eq!(td["memory"].as_str(), Some("512"));
    let container = &td["containerDefinitions"][0];
    assert_eq!(
        (
            container["image"].as_str(),
            container["stopTimeout"].as_i64()
        ),
        (Some("worker:test"), Some(120))
    );
    let env: Vec<(String, String)> = container["environment"]
        .as_array()
        .expect("env")
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap_or_default().to_string(),
                e["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        env.contains(&("QUEUE_URL".into(), queue_url.clone())),
        "{env:?}"
    );
    let service_arn = stack_resource(&stack, "Service");
    let svc = &aws(&[
        "ecs",
        "describe-services",
        "--cluster",
        &cluster,
        "--services",
        &service_arn,
    ])["services"][0];
    assert_eq!(svc["status"], "ACTIVE", "{svc}");
    // The subnets and security group reach the service through the stack's parameters (the wiring is in the
    // template test; moto drops a CloudFormation service's network configuration).
    let params = &aws(&["cloudformation", "describe-stacks", "--stack-name", &stack])["Stacks"][0]
        ["Parameters"];
    let param = |k: &str| {
        params
            .as_array()
            .expect("params")
            .iter()
            .find(|p| p["ParameterKey"] == k)
            .map(|p| p["ParameterValue"].clone())
    };
    // (moto echoes a list parameter as a Python list, "['subnet-…']").
    assert!(
        param("SubnetIds").is_some_and(|v| v.as_str().is_some_and(|v| v.contains(&subnet))),
        "{params}"
    );
    assert_eq!(param("SecurityGroupId"), Some(Value::from(sg.clone())));
    let service = service_arn.rsplit('/').next().expect("name").to_string();

    // Functions and schedules.
    for (logical, timeout) in [("ProducerFunction", 60), ("UpdaterFunction", 120)] {
        let f = &function_configuration(&stack, logical);
        assert_eq!(f["Runtime"], "provided.al2023");
        // (arm64 is checked in the template: moto's CloudFormation ignores a function's Architectures.)
        assert_eq!(f["Timeout"], timeout);
    }
    let updater = function_configuration(&stack, "UpdaterFunction");
    let vars = &updater["Environment"]["Variables"];
    assert_eq!(
        (text(&vars["CLUSTER_NAME"]), text(&vars["SERVICE_NAME"])),
        (cluster.clone(), service.clone())
    );
    assert_eq!(
        text(&vars["QUEUE_NAME"]),
        queue_url.rsplit('/').next().expect("name")
    );
    assert_eq!(text(&vars["DESIRED_LATENCY_SECS"]), "60");
    let sampler = function_configuration(&stack, "SamplerFunction");
    let sampler_vars = &sampler["Environment"]["Variables"];
    assert_eq!(
        text(&sampler_vars["TASK_START_SECS"]),
        "180",
        "the capacity model's default start"
    );
    let producer_rule = aws(&[
        "events",
        "describe-rule",
        "--name",
        &stack_resource(&stack, "ProducerSchedule"),
    ]);
    assert_eq!(
        (
            producer_rule["ScheduleExpression"].as_str(),
            producer_rule["State"].as_str()
        ),
        (Some("rate(1 minute)"), Some("DISABLED"))
    );
    let updater_rule = aws(&[
        "events",
        "describe-rule",
        "--name",
        &stack_resource(&stack, "UpdaterSchedule"),
    ]);
    assert_eq!(
        (
            updater_rule["ScheduleExpression"].as_str(),
            updater_rule["State"].as_str()
        ),
        (Some("rate(30 minutes)"), Some("ENABLED"))
    );
    // The keep-alive's own schedule: the same function, its keep-alive part.
    let keep_alive_rule = stack_resource(&stack, "KeepAliveSchedule");
    let rule = aws(&["events", "describe-rule", "--name", &keep_alive_rule]);
    assert_eq!(
        rule["ScheduleExpression"].as_str(),
        Some(format!("rate({} minutes)", bpi_core::keep_alive::EVERY_MINUTES).as_str())
    );
    let targets = aws(&["events", "list-targets-by-rule", "--rule", &keep_alive_rule]);
    assert_eq!(
        targets["Targets"][0]["Input"].as_str(),
        Some(r#"{"run": "keep-alive"}"#),
        "{targets}"
    );

    // Scaling, applied outside the stack, equal to core's spec.
    let clients = clients().await;
    let config = UpdaterConfig::from_env(&[
        ("CLUSTER_NAME", cluster.as_str()),
        ("SERVICE_NAME", service.as_str()),
        ("QUEUE_NAME", queue_url.rsplit('/').next().expect("name")),
    ])
    .expect("valid");
    let resource_id = config.policy.resource_id();
    assert_eq!(
        scalable_target_bounds(&clients.autoscaling, &resource_id)
            .await
            .expect("describe"),
        Some((1, 7))
    );
    let policy = describe_target_tracking_policy(
        &clients.autoscaling,
        &resource_id,
        &config.policy.policy_name,
    )
    .await
    .expect("describe");
    assert_eq!(policy, Some(target_tracking_config(&config.policy, 12.0)));
    // Beside it: the utilization policy and the idle policy with its alarm (named after the service, so tests
    // running in parallel with the same policy name never share one).
    let utilization = describe_target_tracking_policy(
        &clients.autoscaling,
        &resource_id,
        &config.policy.utilization_policy_name(),
    )
    .await
    .expect("describe");
    assert_eq!(
        utilization,
        utilization_policy(&config.policy).map(|p| p.target_tracking_scaling_policy_configuration)
    );
    assert!(
        policy_names(&clients.autoscaling, &resource_id)
            .await
            .expect("names")
            .contains(&config.policy.idle_policy_name())
    );
    let idle_alarm = config.policy.alarm_name(&config.policy.idle_policy_name());
    assert_eq!(
        existing_alarms(&clients.cloudwatch, std::slice::from_ref(&idle_alarm))
            .await
            .expect("alarms"),
        vec![idle_alarm.clone()]
    );

    // A second run changes nothing.
    let second = ok(&script(
        "deploy.sh",
        &[
            &base[..],
            &[
                "--visibility-timeout",
                "45",
                "--max-receive-count",
                "5",
                "--max",
                "7",
                "--updater-rate",
                "30",
            ],
        ]
        .concat(),
    ));
    assert_eq!(second["changed"], false, "{second}");
    assert_eq!(stack_resource(&stack, "Queue"), queue_url);
    assert_eq!(stack_resource(&stack, "Service"), service_arn);

    // A changed latency moves the target; min 0 rewrites the idle policy (it sets the minimum) and needs nothing
    // more: the fast path starts tasks from zero, and no retired scale-from-zero policy is made.
    let third = ok(&script(
        "deploy.sh",
        &[
            &base[..],
            &[
                "--latency",
                "120",
                "--min",
                "0",
                "--max",
                "7",
                "--task-start",
                "45",
                "--scale-in-window",
                "4",
                "--idle-minutes",
                "6",
            ],
        ]
        .concat(),
    ));
    assert_eq!(
        (
            third["policy"]["new_target"].as_f64(),
            third["fast_path"].as_str(),
            third["idle"].as_str(),
            third["retired_scale_from_zero"].as_str()
        ),
        (
            Some(24.0),
            Some("unchanged"),
            Some("updated"),
            Some("absent")
        )
    );
    let policy = describe_target_tracking_policy(
        &clients.autoscaling,
        &resource_id,
        &config.policy.policy_name,
    )
    .await
    .expect("describe");
    assert_eq!(policy.map(|p| p.target_value), Some(24.0));
    assert_eq!(
        scalable_target_bounds(&clients.autoscaling, &resource_id)
            .await
            .expect("describe"),
        Some((0, 7))
    );
    let names = policy_names(&clients.autoscaling, &resource_id)
        .await
        .expect("names");
    assert!(names.contains(&config.policy.fast_path_policy_name()));
    assert!(names.contains(&config.policy.backstop_policy_name()));
    assert!(!names.contains(&config.policy.retired_scale_from_zero_policy_name()));
    // --idle-minutes 6: the idle alarm looks at 36 ten-second readings.
    let idle_alarm = config.policy.alarm_name(&config.policy.idle_policy_name());
    let alarms = aws(&[
        "cloudwatch",
        "describe-alarms",
        "--alarm-names",
        &idle_alarm,
    ]);
    assert_eq!(
        alarms["MetricAlarms"][0]["EvaluationPeriods"].as_u64(),
        Some(36),
        "{alarms}"
    );
    // --scale-in-window 4: the fast scale-in's alarm is one datapoint of a 4-minute period.
    assert!(names.contains(&config.policy.scale_in_policy_name()));
    let scale_in_alarm = config
        .policy
        .alarm_name(&config.policy.scale_in_policy_name());
    let alarms = aws(&[
        "cloudwatch",
        "describe-alarms",
        "--alarm-names",
        &scale_in_alarm,
    ]);
    assert_eq!(
        alarms["MetricAlarms"][0]["Metrics"][0]["MetricStat"]["Period"].as_u64(),
        Some(240),
        "{alarms}"
    );
    let updater = function_configuration(&stack, "UpdaterFunction");
    assert_eq!(
        text(&updater["Environment"]["Variables"]["DESIRED_LATENCY_SECS"]),
        "120"
    );
    let sampler = function_configuration(&stack, "SamplerFunction");
    let sampler_vars = &sampler["Environment"]["Variables"];
    assert_eq!(text(&sampler_vars["TASK_START_SECS"]), "45");

    // Load on and off.
    let rule = stack_resource(&stack, "ProducerSchedule");
    assert!(
        script("load.sh", &["on", "--stack-name", &stack])
            .status
            .success()
    );
    assert_eq!(
        aws(&["events", "describe-rule", "--name", &rule])["State"],
        "ENABLED"
    );
    assert!(
        script("load.sh", &["off", "--stack-name", &stack])
            .status
            .success()
    );
    assert_eq!(
        aws(&["events", "describe-rule", "--name", &rule])["State"],
        "DISABLED"
    );

    // Destroy leaves nothing behind.
    let destroyed = script("destroy.sh", &["--stack-name", &stack]);
    assert!(
        destroyed.status.success(),
        "{}",
        String::from_utf8_lossy(&destroyed.stderr)
    );
    let said = String::from_utf8_lossy(&destroyed.stderr);
    assert!(
        said.contains(&format!("removed stack {stack}-base")),
        "{said}"
    );
    assert_eq!(
        scalable_target_bounds(&clients.autoscaling, &resource_id)
            .await
            .expect("describe"),
        None
    );
    assert!(
        policy_names(&clients.autoscaling, &resource_id)
            .await
            .expect("names")
            .is_empty()
    );
    assert!(
        existing_alarms(&clients.cloudwatch, &config.policy.alarm_names())
            .await
            .expect("alarms")
            .is_empty(),
        "the step policies' alarms are removed too"
    );
    let stacks = aws(&[
        "cloudformation",
        "list-stacks",
        "--stack-status-filter",
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
    ]);
    assert!(
        !stacks.to_string().contains(&format!("\"{stack}")),
        "stacks left: {stacks}"
    );
    let queues = aws(&["sqs", "list-queues", "--queue-name-prefix", &stack]);
    assert!(
        queues["QueueUrls"].as_array().is_none_or(|q| q.is_empty()),
        "{queues}"
    );
    let repos = aws(&["ecr", "describe-repositories"]);
    assert!(
        !repos.to_string().contains(&format!("{stack}-base-worker")),
        "{repos}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_subnets_a_minimal_vpc_with_no_inbound_rules_is_created() {
    let stack = stack_name();
    ok(&script(
        "deploy.sh",
        &["--stack-name", &stack, "--image", "worker:test"],
    ));
    let subnets = ["PublicSubnetA", "PublicSubnetB"].map(|s| stack_resource(&stack, s));
    let sg = stack_resource(&stack, "TaskSecurityGroup");
    let group = &aws(&["ec2", "describe-security-groups", "--group-ids", &sg])["SecurityGroups"][0];
    assert!(
        group["IpPermissions"]
            .as_array()
            .is_none_or(|p| p.is_empty()),
        "no inbound rules: {group}"
    );
    let vpc = stack_resource(&stack, "Vpc");
    assert_eq!(group["VpcId"], vpc.as_str());
    for subnet in &subnets {
        let s = &aws(&["ec2", "describe-subnets", "--subnet-ids", subnet])["Subnets"][0];
        assert_eq!(s["VpcId"], vpc.as_str());
    }
    let zones: std::collections::HashSet<String> = subnets
        .iter()
        .map(|s| {
            aws(&["ec2", "describe-subnets", "--subnet-ids", s])["Subnets"][0]["AvailabilityZone"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(zones.len(), 2, "two availability zones");
    // Not destroyed: moto cannot delete a stack holding a route table (see the module comment).
}

#[test]
fn bad_settings_are_refused_before_anything_is_deployed() {
    for (args, says) in [
        (
            vec!["--latency", "soon"],
            "--latency: invalid setting DESIRED_LATENCY_SECS=\"soon\": expected a number from 0.001 to 86400",
        ),
        (
            vec!["--min", "5", "--max", "2"],
            "--max: invalid setting MAX_CAPACITY=\"2\": must be at least MIN_CAPACITY (5)",
        ),
        (
            vec!["--subnets", "subnet-1"],
            "--subnets needs --security-group",
        ),
        (vec!["--stack-name", "Bad_Name"], "--stack-name must be"),
        (
            vec!["--updater-rate", "0"],
            "--updater-rate must be at least 1 minute",
        ),
        (vec!["--frobnicate"], "unknown option '--frobnicate'"),
        (
            vec!["--queue-type", "ordered"],
            "--queue-type must be standard or fifo, got 'ordered'",
        ),
        (
            vec!["--content-based-dedup", "yes"],
            "--content-based-dedup must be true or false",
        ),
        (
            vec!["--app-image", "app:1", "--exec-command", "work"],
            "give --app-image (HTTP mode) or --exec-command (exec mode), not both",
        ),
        (
            vec!["--exec-command", "work"],
            "--exec-command runs in the worker's container: give --image",
        ),
        (
            vec!["--app-port", "70000"],
            "--app-port: invalid setting APP_PORT=\"70000\": expected a number from 1 to 65535",
        ),
        (
            vec!["--idle-minutes", "61"],
            "--idle-minutes: invalid setting IDLE_SCALE_IN_MINUTES=\"61\": expected a number from 0 to 60",
        ),
        (
            vec!["--idle-minutes", "two"],
            "--idle-minutes: invalid setting IDLE_SCALE_IN_MINUTES=\"two\"",
        ),
        (
            vec!["--task-start", "901"],
            "--task-start: invalid setting TASK_START_SECS=\"901\": expected a number from 0 to 900",
        ),
        (
            vec!["--task-start", "fast"],
            "--task-start: invalid setting TASK_START_SECS=\"fast\"",
        ),
        (
            vec!["--scale-in-window", "16"],
            "--scale-in-window: invalid setting SCALE_IN_WINDOW_MINUTES=\"16\"",
        ),
        (
            vec!["--app-health-path", "health"],
            "--app-health-path: invalid setting APP_HEALTH_PATH=\"health\": expected a path starting with `/`",
        ),
    ] {
        let out = script("deploy.sh", &args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let help = script("deploy.sh", &["--help"]);
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("Usage: deploy/deploy.sh"));
    assert!(
        help.contains("--idle-minutes MINUTES  [BPI_IDLE_SCALE_IN_MINUTES=3]"),
        "{help}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_cluster_is_used_and_its_container_insights_checked() {
    let (subnet, sg) = existing_network();
    let cluster = bpi_testkit::unique_name("existing");
    aws(&[
        "ecs",
        "create-cluster",
        "--cluster-name",
        &cluster,
        "--settings",
        "name=containerInsights,value=disabled",
    ]);
    let stack = stack_name();
    let out = script(
        "deploy.sh",
        &[
            "--stack-name",
            &stack,
            "--image",
            "worker:test",
            "--cluster",
            &cluster,
            "--subnets",
            &subnet,
            "--security-group",
            &sg,
        ],
    );
    let report = ok(&out);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&format!(
            "WARNING: cluster {cluster} has Container Insights 'disabled'"
        )),
        "{said}"
    );
    assert!(
        said.contains("update-cluster-settings"),
        "says how to fix it: {said}"
    );
    assert!(
        stack_resource(&stack, "Cluster").is_empty(),
        "no cluster created"
    );
    let service = stack_resource(&stack, "Service");
    assert!(
        service.contains(&format!("service/{cluster}/")),
        "{service}"
    );
    assert_eq!(
        report["resource_id"],
        format!(
            "service/{cluster}/{}",
            service.rsplit('/').next().expect("name")
        )
    );
    assert!(
        script("destroy.sh", &["--stack-name", &stack])
            .status
            .success()
    );
    let clusters = &aws(&["ecs", "describe-clusters", "--clusters", &cluster])["clusters"][0];
    assert_eq!(
        clusters["status"], "ACTIVE",
        "an existing cluster is left alone"
    );
}

/// The containers of the stack's task definition, and each one's environment as a map.
fn task_containers(stack: &str) -> Vec<(Value, std::collections::BTreeMap<String, String>)> {
    let td = aws(&[
        "ecs",
        "describe-task-definition",
        "--task-definition",
        &stack_resource(stack, "TaskDefinition"),
    ])["taskDefinition"]
        .clone();
    td["containerDefinitions"]
        .as_array()
        .expect("containers")
        .iter()
        .map(|c| {
            let env = c["environment"]
                .as_array()
                .map(|e| {
                    e.iter()
                        .map(|v| (text(&v["name"]), text(&v["value"])))
                        .collect()
                })
                .unwrap_or_default();
            (c.clone(), env)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_application_image_runs_beside_the_worker_and_exec_mode_sets_the_command() {
    let (subnet, sg) = existing_network();
    let stack = stack_name();
    let network = [
        "--subnets",
        subnet.as_str(),
        "--security-group",
        sg.as_str(),
    ];
    let health_check = "curl -fs http://127.0.0.1:9000/health || exit 1";
    ok(&script(
        "deploy.sh",
        &[
            &["--stack-name", stack.as_str(), "--image", "worker:test"][..],
            &network,
            &[
                "--app-image",
                "app:test",
                "--app-port",
                "9000",
                "--app-path",
                "/jobs",
                "--app-health-path",
                "/health",
                "--app-health-check",
                health_check,
            ],
        ]
        .concat(),
    ));
    let containers = task_containers(&stack);
    assert_eq!(containers.len(), 2, "the worker and the application");
    let (worker, worker_env) = &containers[0];
    let (app, app_env) = &containers[1];
    assert_eq!(
        (text(&worker["name"]), text(&app["name"])),
        ("worker".into(), "app".into())
    );
    assert_eq!(text(&app["image"]), "app:test");
    for (k, v) in [
        ("WORK_MODE", "http"),
        ("APP_PORT", "9000"),
        ("APP_PATH", "/jobs"),
        ("APP_HEALTH_PATH", "/health"),
    ] {
        assert_eq!(
            worker_env.get(k).map(String::as_str),
            Some(v),
            "{k}: {worker_env:?}"
        );
    }
    assert_eq!(app_env.get("APP_PORT").map(String::as_str), Some("9000"));
    // moto keeps what CloudFormation passes for these two; AWS's meaning is in the template's comments.
    assert_eq!(worker["dependsOn"][0]["containerName"], "app", "{worker}");
    assert_eq!(worker["dependsOn"][0]["condition"], "HEALTHY", "{worker}");
    assert_eq!(app["healthCheck"]["command"][1], health_check, "{app}");

    let destroyed = script("destroy.sh", &["--stack-name", stack.as_str()]);
    assert!(
        destroyed.status.success(),
        "{}",
        String::from_utf8_lossy(&destroyed.stderr)
    );

    // Exec mode: one container, with the command. (A new stack: moto loses a CloudFormation task definition's
    // containers when a stack update replaces it, so updating the one above would show nothing.)
    let stack = stack_name();
    ok(&script(
        "deploy.sh",
        &[
            &[
                "--stack-name",
                stack.as_str(),
                "--image",
                "worker-with-python:test",
            ][..],
            &network,
            &["--exec-command", r#"["python3","/app/work.py"]"#],
            // The same stack's queue as a FIFO queue with content-based deduplication.
            &["--queue-type", "fifo", "--content-based-dedup", "true"],
        ]
        .concat(),
    ));
    let queue_url = stack_resource(&stack, "Queue");
    let dlq_url = stack_resource(&stack, "DeadLetterQueue");
    assert!(
        queue_url.ends_with(&format!("{stack}-queue.fifo")),
        "{queue_url}"
    );
    assert!(dlq_url.ends_with(&format!("{stack}-dlq.fifo")), "{dlq_url}");
    let attrs = &queue_attributes(&queue_url);
    assert_eq!(
        (
            attrs["FifoQueue"].as_str(),
            attrs["ContentBasedDeduplication"].as_str()
        ),
        (Some("true"), Some("true")),
        "{attrs}"
    );
    let dlq_attrs = &queue_attributes(&dlq_url);
    assert_eq!(
        dlq_attrs["FifoQueue"].as_str(),
        Some("true"),
        "a FIFO queue's DLQ is FIFO"
    );
    let containers = task_containers(&stack);
    assert_eq!(containers.len(), 1, "{containers:?}");
    let (_, env) = &containers[0];
    assert_eq!(
        env.get("WORK_MODE").map(String::as_str),
        Some("exec"),
        "{containers:?}"
    );
    assert_eq!(
        env.get("APP_COMMAND").map(String::as_str),
        Some(r#"["python3","/app/work.py"]"#)
    );
    let destroyed = script("destroy.sh", &["--stack-name", stack.as_str()]);
    assert!(
        destroyed.status.success(),
        "{}",
        String::from_utf8_lossy(&destroyed.stderr)
    );
}
