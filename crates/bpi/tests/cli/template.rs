//! The CloudFormation templates, read as data: what the stack declares that the emulator does not keep (see
//! deploy.rs), and the security rules every IAM statement must follow.

use std::collections::{BTreeSet, HashMap};

use bpi_core::config::{ProcessorConfig, ProducerConfig, SamplerConfig, UpdaterConfig, VarDoc};
use serde_norway::Value;

use crate::support::strings;

fn template(name: &str) -> Value {
    let path = bpi_testkit::workspace_root().join("deploy").join(name);
    serde_norway::from_str(&std::fs::read_to_string(&path).expect("read template"))
        .expect("valid YAML")
}

fn resources(t: &Value) -> Vec<(String, &Value)> {
    t["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .map(|(k, v)| (k.as_str().expect("name").to_string(), v))
        .collect()
}

fn of_type<'a>(t: &'a Value, ty: &str) -> Vec<(String, &'a Value)> {
    resources(t)
        .into_iter()
        .filter(|(_, r)| r["Type"] == ty)
        .collect()
}

/// The statements of a policy document, each branch of a `!If` statement counted (`!Ref AWS::NoValue` is none).
fn statements(document: &Value) -> Vec<Value> {
    document["Statement"]
        .as_sequence()
        .expect("statements")
        .iter()
        .flat_map(|st| match st {
            Value::Tagged(t) if t.tag == "!If" => t.value.as_sequence().expect("!If args")[1..]
                .iter()
                .filter(|b| b.is_mapping())
                .cloned()
                .collect(),
            other => vec![other.clone()],
        })
        .collect()
}

/// A `!Tag value` as (tag, value text).
fn tagged(v: &Value) -> Option<(String, String)> {
    match v {
        Value::Tagged(t) => Some((t.tag.to_string(), strings(&t.value).join(" "))),
        _ => None,
    }
}

#[test]
fn no_iam_statement_grants_a_wildcard_action_full_access_or_passrole_on_everything() {
    for name in ["stack.yaml", "base.yaml", "pipeline.yaml"] {
        let t = template(name);
        for (role, r) in of_type(&t, "AWS::IAM::Role") {
            for arn in strings(&r["Properties"]["ManagedPolicyArns"]) {
                assert!(
                    !arn.contains("FullAccess"),
                    "{name} {role}: managed policy {arn}"
                );
            }
            let policies = r["Properties"]["Policies"]
                .as_sequence()
                .cloned()
                .unwrap_or_default();
            assert!(
                !policies.is_empty() || r["Properties"]["ManagedPolicyArns"].is_sequence(),
                "{role} has no policy"
            );
            for p in policies {
                for st in &statements(&p["PolicyDocument"]) {
                    let actions = strings(&st["Action"]);
                    assert!(
                        !actions.is_empty(),
                        "{name} {role}: statement without Action"
                    );
                    for a in &actions {
                        assert!(
                            a != "*" && !a.ends_with(":*"),
                            "{name} {role}: wildcard action {a}"
                        );
                    }
                    let resources = strings(&st["Resource"]);
                    if actions.iter().any(|a| a == "iam:PassRole") {
                        assert!(
                            !resources.iter().any(|r| r == "*"),
                            "{name} {role}: PassRole on *"
                        );
                    }
                    assert!(
                        st["NotAction"].is_null() && st["NotResource"].is_null(),
                        "{name} {role}: Not* statement"
                    );
                }
            }
        }
    }
}

#[test]
fn no_account_id_region_or_secret_is_written_into_deploy_files() {
    let root = bpi_testkit::workspace_root();
    let files = [
        "deploy/stack.yaml",
        "deploy/base.yaml",
        "deploy/pipeline.yaml",
        "deploy/deploy.sh",
        "deploy/destroy.sh",
        "deploy/load.sh",
        "deploy/lib.sh",
        "deploy/build-image.sh",
        "deploy/pipeline.sh",
        "buildspec.yml",
        "Dockerfile",
    ];
    let account = regex_like_12_digits;
    for f in files {
        let text = std::fs::read_to_string(root.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(!account(&text), "{f} holds a 12-digit account id");
        for region in ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"] {
            assert!(!text.contains(region), "{f} names region {region}");
        }
        for secret in ["AKIA", "aws_secret_access_key", "ghp_"] {
            assert!(
                !text.contains(secret),
                "{f} looks like it holds a credential ({secret})"
            );
        }
    }
}

#[test]
fn no_credential_or_account_id_anywhere_in_the_repository() {
    let root = bpi_testkit::workspace_root();
    let out = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(&root)
        .output()
        .expect("git ls-files");
    assert!(out.status.success(), "git ls-files");
    let files: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split('\0')
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect();
    assert!(files.len() > 50, "the repository's files: {}", files.len());
    let mut scanned = 0;
    for f in &files {
        let Ok(text) = std::fs::read_to_string(root.join(f)) else {
            continue; // binary or deleted in the working tree
        };
        scanned += 1;
        // Cargo.lock's checksums are hex: runs of 12 digits happen there by chance. 123456789012 is the placeholder
        // account of AWS's documentation and the emulator's fixed account.
        if f != "Cargo.lock" {
            assert!(
                !regex_like_12_digits(&text.replace("123456789012", "")),
                "{f} holds a 12-digit account id"
            );
        }
        assert!(!has_access_key_id(&text), "{f} holds an AWS access key id");
        // Built at run time, so this file does not match itself.
        for kind in ["RSA ", "", "OPENSSH ", "EC "] {
            let header = format!("{}{kind}PRIVATE KEY", "BEGIN ");
            assert!(!text.contains(&header), "{f} holds a private key");
        }
    }
    assert!(scanned > 50);
}

/// `AKIA` or `ASIA` followed by 16 upper-case letters or digits: an AWS access key id.
fn has_access_key_id(text: &str) -> bool {
    let b = text.as_bytes();
    b.windows(20).any(|w| {
        (w.starts_with(b"AKIA") || w.starts_with(b"ASIA"))
            && w[4..]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    })
}

fn regex_like_12_digits(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut run = 0;
    for (i, b) in bytes.iter().enumerate() {
        if b.is_ascii_digit() {
            run += 1;
        } else {
            if run == 12 {
                return true;
            }
            run = 0;
        }
        if i + 1 == bytes.len() && run == 12 {
            return true;
        }
    }
    false
}

/// The task definition's two container lists, `!If [HasApp, WITH_APP, ALONE]`: (worker and application, worker).
fn container_lists(td: &Value) -> (&Vec<Value>, &Vec<Value>) {
    let Value::Tagged(choice) = &td["ContainerDefinitions"] else {
        panic!("ContainerDefinitions is an !If on HasApp")
    };
    assert_eq!(choice.tag, "!If");
    let args = choice.value.as_sequence().expect("!If args");
    assert_eq!(args[0], "HasApp");
    (
        args[1].as_sequence().expect("with the application"),
        args[2].as_sequence().expect("the worker alone"),
    )
}

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
fn buildspec_builds_tags_with_the_commit_and_publishes_what_the_deploy_stage_needs() {
    let root = bpi_testkit::workspace_root();
    let spec: Value =
        serde_norway::from_str(&std::fs::read_to_string(root.join("buildspec.yml")).expect("read"))
            .expect("YAML");
    assert_eq!(spec["version"].as_f64(), Some(0.2));
    for phase in ["install", "pre_build", "build", "post_build"] {
        assert!(
            spec["phases"][phase]["commands"]
                .as_sequence()
                .is_some_and(|c| !c.is_empty()),
            "phase {phase}"
        );
    }
    let artifacts = strings(&spec["artifacts"]["files"]);
    for a in [
        "imagedefinitions.json",
        "message-producer.zip",
        "target-bpi-updater.zip",
    ] {
        assert!(artifacts.iter().any(|f| f == a), "artifact {a}");
    }
    let commands: Vec<String> = ["install", "pre_build", "build", "post_build"]
        .iter()
        .flat_map(|p| strings(&spec["phases"][p]["commands"]))
        .collect();
    // Every repository script a command runs exists and is executable.
    let mut scripts = 0;
    for word in commands.iter().flat_map(|c| c.split_whitespace()) {
        let word = word.trim_matches('"');
        if word.starts_with("deploy/") && !word.ends_with(".txt") {
            let path = root.join(word);
            assert!(path.exists(), "buildspec runs {word}, which does not exist");
            scripts += 1;
        }
    }
    assert!(scripts >= 3, "the build runs the repository's scripts");
    let all = commands.join("\n");
    assert!(
        all.contains("$REPOSITORY_URI:$IMAGE_TAG")
            && all.contains("CODEBUILD_RESOLVED_SOURCE_VERSION"),
        "tagged with the commit"
    );
    assert!(!all.contains(":latest"), "never only latest");
    assert!(
        all.contains(r#""name":"worker""#),
        "imagedefinitions names the task definition's container"
    );
}

#[test]
fn dockerfile_is_scratch_non_root_and_exec_form() {
    let text =
        std::fs::read_to_string(bpi_testkit::workspace_root().join("Dockerfile")).expect("read");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .collect();
    assert_eq!(lines.first().copied(), Some("FROM scratch"));
    let user = lines
        .iter()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER");
    assert!(
        user.split(':')
            .all(|id| id.parse::<u32>().is_ok_and(|n| n > 0)),
        "numeric non-root user, got {user}"
    );
    let entrypoint = lines
        .iter()
        .find_map(|l| l.strip_prefix("ENTRYPOINT "))
        .expect("an ENTRYPOINT");
    assert!(
        entrypoint.starts_with('['),
        "exec form, so SIGTERM reaches the worker: {entrypoint}"
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

/// The statements of every inline policy of `role` in `t`.
fn role_statements(t: &Value, role: &str) -> Vec<Value> {
    t["Resources"][role]["Properties"]["Policies"]
        .as_sequence()
        .expect("policies")
        .iter()
        .flat_map(|p| statements(&p["PolicyDocument"]))
        .collect()
}

#[test]
fn the_pipeline_can_use_connections_of_both_prefixes() {
    // Connections made in the console since July 2024 are arn:aws:codeconnections:...; the action's prefix must
    // match the ARN's (Developer Tools console guide, "Connections rename - Summary of changes").
    let t = template("pipeline.yaml");
    let grants: BTreeSet<String> = role_statements(&t, "PipelineRole")
        .into_iter()
        .filter(|s| strings(&s["Resource"]).iter().any(|r| r == "ConnectionArn"))
        .flat_map(|s| strings(&s["Action"]))
        .collect();
    assert_eq!(
        grants,
        BTreeSet::from([
            "codeconnections:UseConnection".to_string(),
            "codestar-connections:UseConnection".to_string()
        ])
    );
    let pattern = t["Parameters"]["ConnectionArn"]["AllowedPattern"]
        .as_str()
        .expect("a pattern");
    assert!(pattern.contains("codeconnections") && pattern.contains("codestar-connections"));
}

#[test]
fn notifications_can_reach_their_topic() {
    // A topic under the AWS managed key (alias/aws/sns) drops what AWS services publish: the key policy cannot
    // grant them the key (SNS developer guide, "Key management", compatibility with AWS services).
    let t = template("pipeline.yaml");
    let topic = &t["Resources"]["Topic"]["Properties"];
    let key = &topic["KmsMasterKeyId"];
    assert!(
        !strings(key).iter().any(|k| k.starts_with("alias/aws/")),
        "{key:?}"
    );
    let key_name = strings(key).join("");
    let key_policy = &t["Resources"][key_name.as_str()]["Properties"]["KeyPolicy"];
    let for_notifications = key_policy["Statement"]
        .as_sequence()
        .expect("key statements")
        .iter()
        .find(|s| s["Principal"]["Service"] == "codestar-notifications.amazonaws.com")
        .expect("the notification service may use the key");
    let actions = strings(&for_notifications["Action"]);
    assert!(
        actions.contains(&"kms:GenerateDataKey*".to_string())
            && actions.contains(&"kms:Decrypt".to_string())
    );
    // Every service principal that may publish is bound to this account.
    for s in t["Resources"]["TopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        .as_sequence()
        .expect("statements")
    {
        if !s["Principal"]["Service"].is_null() {
            assert!(
                !s["Condition"]["StringEquals"]["aws:SourceAccount"].is_null(),
                "{s:?}"
            );
        }
    }
}

#[test]
fn a_pipeline_rerun_does_not_push_an_existing_tag_to_the_immutable_repository() {
    let base = template("base.yaml");
    let repo = of_type(&base, "AWS::ECR::Repository");
    assert_eq!(repo[0].1["Properties"]["ImageTagMutability"], "IMMUTABLE");
    let spec: Value = serde_norway::from_str(
        &std::fs::read_to_string(bpi_testkit::workspace_root().join("buildspec.yml"))
            .expect("buildspec"),
    )
    .expect("yaml");
    let build = strings(&spec["phases"]["build"]["commands"]).join("\n");
    let check = build
        .find("ecr describe-images")
        .expect("the tag is looked up");
    let push = build.find("build-image.sh").expect("the image is built");
    assert!(check < push, "{build}");
    // The build role may look it up.
    let pipeline = template("pipeline.yaml");
    assert!(
        role_statements(&pipeline, "BuildRole")
            .iter()
            .any(|s| strings(&s["Action"]).contains(&"ecr:DescribeImages".to_string()))
    );
    // And no Docker layer cache on an ARM build host: CodeBuild documents it for LINUX_CONTAINER only.
    let project = &pipeline["Resources"]["BuildProject"]["Properties"];
    if project["Environment"]["Type"] != "LINUX_CONTAINER" {
        assert!(
            !strings(&project["Cache"]["Modes"]).contains(&"LOCAL_DOCKER_LAYER_CACHE".to_string())
        );
    }
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

/// Every variable the binaries read, as core declares it (name, default, range).
fn core_variables() -> HashMap<&'static str, VarDoc> {
    ProcessorConfig::variables()
        .into_iter()
        .chain(ProducerConfig::variables())
        .chain(UpdaterConfig::variables())
        .chain(SamplerConfig::variables())
        .map(|d| (d.name, d))
        .collect()
}

/// The stack's parameters passed on to a binary's variable, as (variable, parameter): the worker's environment and
/// the Lambdas'.
fn passed_parameters(t: &Value) -> Vec<(String, String)> {
    let mut passed: Vec<(String, String)> = Vec::new();
    let env = &container_lists(&t["Resources"]["TaskDefinition"]["Properties"]).1[0]["Environment"];
    for e in env.as_sequence().expect("environment") {
        if let Some((tag, param)) = tagged(&e["Value"])
            && tag == "!Ref"
            && t["Parameters"][param.as_str()].is_mapping()
        {
            passed.push((strings(&e["Name"]).join(""), param));
        }
    }
    for (_, f) in of_type(t, "AWS::Lambda::Function") {
        if let Some(vars) = f["Properties"]["Environment"]["Variables"].as_mapping() {
            for (k, v) in vars {
                if let Some((tag, param)) = tagged(v)
                    && tag == "!Ref"
                    && t["Parameters"][param.as_str()].is_mapping()
                {
                    passed.push((k.as_str().expect("name").to_string(), param));
                }
            }
        }
    }
    passed.sort();
    passed.dedup();
    passed
}

/// A default as text: a YAML number or string; core's "unset" and "required ..." are the empty value.
fn default_text(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// Whether two defaults are the same setting: equal numbers, or equal text (core documents "unset" and
/// "required ..." where a template passes "").
fn same_default(ours: &str, core: &str) -> bool {
    let core = if core == "unset" || core.starts_with("required") {
        ""
    } else {
        core
    };
    match (ours.parse::<f64>(), core.parse::<f64>()) {
        (Ok(a), Ok(b)) => (a - b).abs() < 1e-9,
        _ => ours == core,
    }
}

/// The option table of deploy/deploy.sh: (option, environment variable, default, stack parameter, setting).
fn deploy_options() -> Vec<[String; 5]> {
    let script = std::fs::read_to_string(bpi_testkit::workspace_root().join("deploy/deploy.sh"))
        .expect("deploy.sh");
    let table = script
        .split_once("options=(\n")
        .and_then(|(_, rest)| rest.split_once("\n)\n"))
        .expect("deploy.sh declares its options in one table")
        .0;
    table
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.trim().trim_matches('"').split('|').collect();
            assert_eq!(fields.len(), 7, "option row {line}");
            [0, 2, 3, 4, 5].map(|i| fields[i].to_string())
        })
        .collect()
}

#[test]
fn every_default_and_range_agrees_with_core_both_ways() {
    // One setting, one declaration: a stack default or a deploy.sh default that differs from core's would deploy
    // something else than `bpi scaling apply` and the binaries assume (a policy name that differs makes the
    // updater and `bpi scaling apply` write two target tracking policies that fight), and a stack parameter wider
    // than its variable would let CloudFormation deploy a value the binary then refuses at start-up.
    let t = template("stack.yaml");
    let core = core_variables();
    let mut checked_stack = 0;
    for (variable, param) in passed_parameters(&t) {
        let Some(doc) = core.get(variable.as_str()) else {
            continue; // the stack's own wiring (QUEUE_URL, CLUSTER_NAME, ...): no default of core's
        };
        let p = &t["Parameters"][param.as_str()];
        let default = default_text(&p["Default"]);
        assert!(
            same_default(&default, &doc.default),
            "parameter {param} defaults to {default:?}, {variable} to {:?}",
            doc.default
        );
        if let Some((lo, hi)) = doc.range {
            let bound = |k: &str| {
                p[k].as_f64().unwrap_or_else(|| {
                    panic!("parameter {param} (for {variable}) has no {k}: the binary accepts {lo}-{hi}")
                })
            };
            let (min, max) = (bound("MinValue"), bound("MaxValue"));
            // Narrower only where the stack knows more than the variable; each such case says why.
            let narrower_because = match variable.as_str() {
                "SHUTDOWN_GRACE_SECS" => Some("the task's stopTimeout of 120 s"),
                "MESSAGE_COUNT" => Some("a demo producer's run"),
                _ => None,
            };
            if narrower_because.is_some() {
                assert!(
                    lo <= min && max <= hi,
                    "parameter {param} allows {min}-{max}, {variable} accepts {lo}-{hi}"
                );
            } else {
                assert_eq!(
                    (min, max),
                    (lo, hi),
                    "parameter {param}'s range differs from {variable}'s"
                );
            }
        }
        checked_stack += 1;
    }
    assert!(
        checked_stack >= 12,
        "only {checked_stack} stack parameters checked"
    );
    let policy_name = &t["Parameters"]["ScalingPolicyName"]["Default"];
    assert_eq!(
        default_text(policy_name),
        core["SCALING_POLICY_NAME"].default,
        "the stack's policy name is core's"
    );

    let mut checked_options = 0;
    for [option, variable, default, param, setting] in deploy_options() {
        assert!(
            variable.starts_with("BPI_"),
            "--{option}: {variable} is not the script's own"
        );
        if setting != "-" {
            let doc = core
                .get(setting.as_str())
                .unwrap_or_else(|| panic!("--{option} feeds {setting}, which no binary reads"));
            assert!(
                same_default(&default, &doc.default),
                "--{option} defaults to {default:?}, {setting} to {:?}",
                doc.default
            );
            checked_options += 1;
        }
        if param != "-" {
            let p = &t["Parameters"][param.as_str()];
            assert!(
                p.is_mapping(),
                "--{option} is passed as {param}, which the stack does not declare"
            );
            assert!(
                same_default(&default, &default_text(&p["Default"])),
                "--{option} defaults to {default:?}, parameter {param} to {:?}",
                p["Default"]
            );
        }
    }
    assert!(
        checked_options >= 10,
        "only {checked_options} options checked"
    );
}
