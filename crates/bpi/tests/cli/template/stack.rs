//! What the service's stack declares that the emulator does not keep: the worker's containers and platform, the
//! Lambdas, the schedules, alarms and dashboard, the queue and its DLQ, the task sizes Fargate takes.

use std::collections::BTreeSet;

use bpi_core::config::{ProcessorConfig, ProducerConfig, SamplerConfig, UpdaterConfig};
use serde_norway::Value;

use super::*;

#[test]
fn an_application_image_adds_a_container_the_worker_depends_on_and_the_worker_is_the_same_otherwise()
 {
    let t = template("stack.yaml");
    let td = &of_type(&t, "AWS::ECS::TaskDefinition")[0].1["Properties"];
    let (with_app, alone) = container_lists(td);
    assert_eq!(alone.len(), 1);
    assert_eq!(with_app.len(), 2);
    let (worker, app) = (&with_app[0], &with_app[1]);
    assert_eq!(
        (worker["Name"].as_str(), app["Name"].as_str()),
        (Some("worker"), Some("app"))
    );
    // One worker definition: the copy beside the application differs only by its dependency on it and its mode.
    let without_mode_and_dependency = |c: &Value| {
        let mut c = c.clone();
        let m = c.as_mapping_mut().expect("a container");
        m.remove("DependsOn");
        if let Some(Value::Sequence(env)) = m.get_mut("Environment") {
            env.retain(|e| e["Name"] != "WORK_MODE");
        }
        c
    };
    assert_eq!(
        without_mode_and_dependency(worker),
        without_mode_and_dependency(&alone[0]),
        "the two worker definitions drifted apart"
    );
    let mode = |c: &Value| {
        c["Environment"]
            .as_sequence()
            .expect("env")
            .iter()
            .find(|e| e["Name"] == "WORK_MODE")
            .expect("WORK_MODE")["Value"]
            .clone()
    };
    assert_eq!(mode(worker), "http");
    assert_eq!(worker["DependsOn"][0]["ContainerName"], "app");
    assert_eq!(app["Essential"].as_bool(), Some(true));
    assert!(matches!(&app["HealthCheck"], Value::Tagged(t) if t.tag == "!If"));
    // Alone, exec mode with ExecCommand, else the demo; AppImage and ExecCommand together are refused by a rule.
    assert!(format!("{:?}", mode(&alone[0])).contains("HasExec"));
    assert!(!t["Rules"]["OneKindOfWork"].is_null());
}

#[test]
fn the_worker_runs_on_fargate_arm64_with_container_insights_and_no_fixed_desired_count() {
    let t = template("stack.yaml");
    let cluster = &of_type(&t, "AWS::ECS::Cluster")[0].1["Properties"]["ClusterSettings"][0];
    assert_eq!(
        (cluster["Name"].as_str(), cluster["Value"].as_str()),
        (Some("containerInsights"), Some("enabled"))
    );

    let td = &of_type(&t, "AWS::ECS::TaskDefinition")[0].1["Properties"];
    assert_eq!(strings(&td["RequiresCompatibilities"]), ["FARGATE"]);
    assert_eq!(td["NetworkMode"], "awsvpc");
    assert_eq!(td["RuntimePlatform"]["CpuArchitecture"], "ARM64");
    assert_eq!(t["Parameters"]["TaskCpu"]["Default"], "256");
    assert_eq!(t["Parameters"]["TaskMemory"]["Default"], "512");
    let container = &container_lists(td).1[0];
    assert_eq!(container["StopTimeout"].as_u64(), Some(120));
    let known: BTreeSet<&str> = ProcessorConfig::variables()
        .iter()
        .map(|d| d.name)
        .chain(["LOG_FORMAT"])
        .collect();
    for e in container["Environment"].as_sequence().expect("env") {
        let name = e["Name"].as_str().expect("name");
        assert!(known.contains(name), "the worker reads no variable {name}");
    }
    assert!(
        t["Parameters"]["ShutdownGraceSecs"]["MaxValue"].as_u64()
            < container["StopTimeout"].as_u64(),
        "grace below stopTimeout"
    );

    let svc = &of_type(&t, "AWS::ECS::Service")[0].1["Properties"];
    assert!(
        svc["DesiredCount"].is_null(),
        "a fixed DesiredCount would reset autoscaling on every deploy"
    );
    assert_eq!(svc["LaunchType"], "FARGATE");
    let net = &svc["NetworkConfiguration"]["AwsvpcConfiguration"];
    assert!(!net["Subnets"].is_null() && !net["SecurityGroups"].is_null());
    let scaling: Vec<String> = of_type(&t, "AWS::ApplicationAutoScaling::ScalingPolicy")
        .into_iter()
        .chain(of_type(&t, "AWS::ApplicationAutoScaling::ScalableTarget"))
        .map(|(name, _)| name)
        .collect();
    assert!(
        scaling.is_empty(),
        "{scaling:?}: scaling belongs to bpi scaling apply and the updater, never to the stack"
    );
    let sg = &of_type(&t, "AWS::EC2::SecurityGroup")[0].1["Properties"];
    assert!(sg["SecurityGroupIngress"].is_null(), "no inbound rules");
}

#[test]
fn the_lambdas_are_arm64_al2023_and_read_only_variables_they_know() {
    let t = template("stack.yaml");
    let producer: BTreeSet<&str> = ProducerConfig::variables()
        .iter()
        .map(|d| d.name)
        .chain(["LOG_FORMAT"])
        .collect();
    let updater: BTreeSet<&str> = UpdaterConfig::variables()
        .iter()
        .map(|d| d.name)
        .chain(["LOG_FORMAT"])
        .collect();
    let sampler: BTreeSet<&str> = SamplerConfig::variables()
        .iter()
        .map(|d| d.name)
        .chain(updater.iter().copied())
        .collect();
    for (name, f) in of_type(&t, "AWS::Lambda::Function") {
        let p = &f["Properties"];
        assert_eq!(p["Runtime"], "provided.al2023", "{name}");
        assert_eq!(strings(&p["Architectures"]), ["arm64"], "{name}");
        assert!(
            p["Timeout"].as_u64() >= Some(30),
            "{name}: the blueprint's 3 s was too tight"
        );
        let known = if name.contains("Producer") {
            &producer
        } else if name.contains("Sampler") {
            &sampler
        } else {
            &updater
        };
        for (var, _) in p["Environment"]["Variables"].as_mapping().expect("env") {
            let var = var.as_str().expect("name");
            assert!(known.contains(var), "{name} reads no variable {var}");
        }
    }
}

#[test]
fn schedules_alarms_and_dashboard() {
    let t = template("stack.yaml");
    let rules = of_type(&t, "AWS::Events::Rule");
    let rule = |n: &str| {
        rules
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, r)| &r["Properties"])
            .expect(n)
    };
    assert_eq!(
        (
            rule("ProducerSchedule")["ScheduleExpression"].as_str(),
            rule("ProducerSchedule")["State"].as_str()
        ),
        (Some("rate(1 minute)"), Some("DISABLED"))
    );
    assert_eq!(rule("UpdaterSchedule")["State"], "ENABLED");

    let alarms = of_type(&t, "AWS::CloudWatch::Alarm");
    let alarm = |n: &str| {
        alarms
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, r)| &r["Properties"])
            .expect(n)
    };
    let dlq = alarm("DlqNotEmptyAlarm");
    assert_eq!(
        (dlq["MetricName"].as_str(), dlq["Threshold"].as_u64()),
        (Some("ApproximateNumberOfMessagesVisible"), Some(0))
    );
    assert_eq!(
        tagged(&dlq["Dimensions"][0]["Value"]),
        Some(("!GetAtt".into(), "DeadLetterQueue.QueueName".into()))
    );
    let age = alarm("OldestMessageAlarm");
    assert_eq!(age["MetricName"], "ApproximateAgeOfOldestMessage");
    assert_eq!(
        tagged(&age["Threshold"]),
        Some(("!Ref".into(), "DesiredLatencySecs".into()))
    );

    let body =
        strings(&of_type(&t, "AWS::CloudWatch::Dashboard")[0].1["Properties"]["DashboardBody"])
            .join("\n");
    for metric in [
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesNotVisible",
        "${DlqName}",
        "ApproximateAgeOfOldestMessage",
        "ecsRunningTasks",
        "ecsDesiredTasks",
        "ecsFastPathCapacity",
        "ecsBPI",
        "ecsTargetBPI",
        "MsgProcessingDuration",
        "ecsMPD",
    ] {
        assert!(body.contains(metric), "dashboard lacks {metric}");
    }
    assert!(
        !body.contains("ContainerInsights"),
        "the dashboard shows what scaling reads: the sampler's readings"
    );
}

#[test]
fn queue_has_a_dlq_with_sse() {
    let t = template("stack.yaml");
    for (name, q) in of_type(&t, "AWS::SQS::Queue") {
        assert_eq!(
            q["Properties"]["SqsManagedSseEnabled"].as_bool(),
            Some(true),
            "{name}"
        );
    }
    let queue = &resources(&t)
        .into_iter()
        .find(|(k, _)| k == "Queue")
        .expect("Queue")
        .1["Properties"];
    assert_eq!(
        tagged(&queue["RedrivePolicy"]["maxReceiveCount"]),
        Some(("!Ref".into(), "MaxReceiveCount".into()))
    );
    assert_eq!(
        t["Parameters"]["MaxReceiveCount"]["Default"].as_u64(),
        Some(3)
    );
}

#[test]
fn the_sampler_runs_every_minute_with_only_what_it_reads_and_an_alarm_when_it_stops() {
    let t = template("stack.yaml");
    let f = &t["Resources"]["SamplerFunction"]["Properties"];
    // Six readings ten seconds apart, then the last publication, within the timeout.
    assert!(f["Timeout"].as_u64() >= Some(60 + 20), "{:?}", f["Timeout"]);
    let rule = &t["Resources"]["SamplerSchedule"]["Properties"];
    assert_eq!(rule["ScheduleExpression"], "rate(1 minute)");
    assert_eq!(rule["State"], "ENABLED");
    let statements =
        &t["Resources"]["SamplerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
    let actions: BTreeSet<String> = statements
        .as_sequence()
        .expect("statements")
        .iter()
        .flat_map(|s| strings(&s["Action"]))
        .collect();
    assert_eq!(
        actions,
        [
            "application-autoscaling:DescribeScalingPolicies",
            "cloudwatch:GetMetricData",
            "cloudwatch:PutMetricData",
            "ecs:DescribeServices",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
        ]
        .into_iter()
        .map(str::to_string)
        .collect::<BTreeSet<_>>()
    );
    let alarm = &t["Resources"]["SamplerStoppedAlarm"]["Properties"];
    assert_eq!(alarm["MetricName"], bpi_core::sampler::BPI_METRIC);
    assert_eq!(
        alarm["TreatMissingData"], "breaching",
        "silence is the failure"
    );
}

/// Fargate's task sizes (ECS developer guide, "Amazon ECS task definition parameters for Fargate"): memory MiB per
/// CPU units.
fn fargate_memory(cpu: u32) -> Vec<u32> {
    match cpu {
        256 => vec![512, 1024, 2048],
        512 => (1..=4).map(|g| g * 1024).collect(),
        1024 => (2..=8).map(|g| g * 1024).collect(),
        2048 => (4..=16).map(|g| g * 1024).collect(),
        4096 => (8..=30).map(|g| g * 1024).collect(),
        _ => vec![],
    }
}

#[test]
fn the_stack_refuses_a_task_size_fargate_would_refuse() {
    let t = template("stack.yaml");
    let cpus: Vec<u32> = strings(&t["Parameters"]["TaskCpu"]["AllowedValues"])
        .iter()
        .map(|c| c.parse().expect("a number"))
        .collect();
    let rules = t["Rules"].as_mapping().expect("a Rules section");
    for cpu in cpus {
        let rule = rules
            .values()
            .find(|r| strings(&r["RuleCondition"]).contains(&cpu.to_string()))
            .unwrap_or_else(|| panic!("no rule for TaskCpu {cpu}"));
        let allowed: Vec<u32> = match &rule["Assertions"][0]["Assert"] {
            Value::Tagged(c) if c.tag == "!Contains" => strings(&c.value[0])
                .iter()
                .map(|m| m.parse().expect("a number"))
                .collect(),
            other => panic!("expected !Contains: {other:?}"),
        };
        assert_eq!(allowed, fargate_memory(cpu), "TaskCpu {cpu}");
    }
    let default = (
        t["Parameters"]["TaskCpu"]["Default"].as_str().expect("cpu"),
        t["Parameters"]["TaskMemory"]["Default"]
            .as_str()
            .expect("memory"),
    );
    assert!(fargate_memory(default.0.parse().expect("n")).contains(&default.1.parse().expect("n")));
}

#[test]
fn the_updater_schedule_is_valid_at_every_allowed_rate() {
    // EventBridge: rate(1 minute), rate(N minutes) for N > 1.
    let t = template("stack.yaml");
    assert_eq!(
        t["Parameters"]["UpdaterRateMinutes"]["MinValue"].as_u64(),
        Some(1)
    );
    let expr = &t["Resources"]["UpdaterSchedule"]["Properties"]["ScheduleExpression"];
    let Value::Tagged(tagged_if) = expr else {
        panic!("expected !If: {expr:?}")
    };
    assert_eq!(tagged_if.tag, "!If");
    let condition = tagged_if.value[0].as_str().expect("a condition name");
    assert_eq!(tagged_if.value[1], "rate(1 minute)");
    assert_eq!(
        strings(&tagged_if.value[2]),
        vec!["rate(${UpdaterRateMinutes} minutes)".to_string()]
    );
    let c = strings(&t["Conditions"][condition]);
    assert_eq!(
        c,
        vec!["UpdaterRateMinutes".to_string()],
        "{:?}",
        t["Conditions"][condition]
    );
    assert!(format!("{:?}", t["Conditions"][condition]).contains("Number(1)"));
}

#[test]
fn both_templates_run_the_keep_alive_at_cores_cadence_on_the_updater() {
    let expected = format!("rate({} minutes)", bpi_core::keep_alive::EVERY_MINUTES);
    for (file, rule, function) in [
        ("stack.yaml", "KeepAliveSchedule", "UpdaterFunction"),
        (
            "fleet.yaml",
            "FleetKeepAliveSchedule",
            "FleetUpdaterFunction",
        ),
    ] {
        let t = template(file);
        let p = &t["Resources"][rule]["Properties"];
        assert_eq!(
            p["ScheduleExpression"].as_str(),
            Some(expected.as_str()),
            "{file}"
        );
        assert_eq!(p["State"], "ENABLED", "{file}");
        let target = &p["Targets"][0];
        assert_eq!(
            tagged(&target["Arn"]),
            Some(("!GetAtt".into(), format!("{function}.Arn"))),
            "{file}"
        );
        // The updater's request for its keep-alive part (target-bpi-updater's `RunKind::KeepAlive`).
        let input: serde_json::Value =
            serde_json::from_str(target["Input"].as_str().expect("a constant input"))
                .expect("JSON");
        assert_eq!(input, serde_json::json!({"run": "keep-alive"}), "{file}");
        // EventBridge may invoke the function for this rule.
        let allowed = resources(&t).into_iter().any(|(_, r)| {
            r["Type"] == "AWS::Lambda::Permission"
                && tagged(&r["Properties"]["SourceArn"])
                    == Some(("!GetAtt".into(), format!("{rule}.Arn")))
        });
        assert!(allowed, "{file}: no permission for {rule}");
    }
}
