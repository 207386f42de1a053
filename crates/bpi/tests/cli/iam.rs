//! IAM coverage: every AWS operation a deployed component calls, read from its code, against what its role in
//! `deploy/stack.yaml` grants, both ways. moto enforces no IAM, so a missing grant would otherwise first show as
//! AccessDenied in a real account, and a grant nothing uses would never show at all.
//!
//! The operations come from the code, not from a list typed here: `crates/aws` names the operation of every call it
//! makes (`AwsError::from_sdk("sqs:ReceiveMessage", …)`, `const OP`), so each of its functions has a set of
//! operations (with the functions of the same crate it calls); a component calls those functions, and may name an
//! operation itself (the worker's `protection::IAM_ACTION`, performed by the ECS agent with the task role). Test
//! modules are left out. The only tables here map API operations to IAM actions where AWS documents they differ,
//! and list grants that no code of the component calls, each with its reason.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_norway::Value;

use crate::support::strings;

/// Source text of the `.rs` files under `dir`, test modules cut off.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read");
                let code = text.split("#[cfg(test)]").next().unwrap_or("").to_string();
                out.push((path.display().to_string(), code));
            }
        }
    }
    out
}

/// Quoted `service:Operation` strings in `code`.
fn named_operations(code: &str) -> BTreeSet<String> {
    let mut ops = BTreeSet::new();
    for piece in code.split('"').skip(1).step_by(2) {
        if let Some((svc, op)) = piece.split_once(':')
            && !svc.is_empty()
            && svc
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && op.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && op.chars().all(|c| c.is_ascii_alphanumeric())
        {
            ops.insert(piece.to_string());
        }
    }
    ops
}

/// Identifiers followed by `(` in `code`: the functions and methods it calls.
fn calls(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() || bytes[i] == '_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == '_') {
                i += 1;
            }
            let mut j = i;
            // Turbofish or generics between the name and the parenthesis are rare here; plain calls only.
            while j < bytes.len() && bytes[j] == ' ' {
                j += 1;
            }
            if j < bytes.len() && bytes[j] == '(' {
                out.insert(bytes[start..i].iter().collect());
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The operations of each function of `crates/aws` (public or not), closed over the calls between them.
fn aws_functions() -> BTreeMap<String, BTreeSet<String>> {
    let dir = bpi_testkit::workspace_root().join("crates/aws/src");
    let mut bodies: BTreeMap<String, String> = BTreeMap::new();
    for (file, code) in sources(&dir) {
        if file.ends_with("fixtures.rs") {
            continue; // test set-up, compiled only with the test-fixtures feature
        }
        let mut current: Option<String> = None;
        for line in code.lines() {
            let t = line.trim_start();
            let t = t.strip_prefix("pub(crate) ").unwrap_or(t);
            let after = t
                .strip_prefix("pub ")
                .unwrap_or(t)
                .strip_prefix("async ")
                .unwrap_or_else(|| t.strip_prefix("pub ").unwrap_or(t));
            if let Some(rest) = after.strip_prefix("fn ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                current = Some(name);
            }
            if let Some(name) = &current {
                let body = bodies.entry(name.clone()).or_default();
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    let direct: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = bodies
        .iter()
        .map(|(name, body)| {
            let called: BTreeSet<String> = calls(body)
                .into_iter()
                .filter(|c| c != name && bodies.contains_key(c))
                .collect();
            (name.clone(), (named_operations(body), called))
        })
        .collect();
    direct
        .keys()
        .map(|name| {
            let mut ops = BTreeSet::new();
            let mut seen = BTreeSet::new();
            let mut todo = vec![name.clone()];
            while let Some(f) = todo.pop() {
                if !seen.insert(f.clone()) {
                    continue;
                }
                let (o, c) = &direct[&f];
                ops.extend(o.iter().cloned());
                todo.extend(c.iter().cloned());
            }
            (name.clone(), ops)
        })
        .collect()
}

/// The IAM action that authorizes an API operation. The batch operations are authorized by their single actions
/// (SQS developer guide, "Amazon SQS API permissions: Actions and resource reference": batch actions need the
/// permission of the single action).
fn iam_action(operation: &str) -> String {
    match operation {
        "sqs:SendMessageBatch" => "sqs:SendMessage",
        "sqs:DeleteMessageBatch" => "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibilityBatch" => "sqs:ChangeMessageVisibility",
        other => other,
    }
    .to_string()
}

/// The IAM actions a component's code performs.
fn component_actions(
    crate_dir: &str,
    aws: &BTreeMap<String, BTreeSet<String>>,
) -> BTreeSet<String> {
    let mut ops = BTreeSet::new();
    for (_, code) in sources(&bpi_testkit::workspace_root().join(crate_dir).join("src")) {
        ops.extend(named_operations(&code));
        for c in calls(&code) {
            if let Some(o) = aws.get(&c) {
                ops.extend(o.iter().cloned());
            }
        }
    }
    ops.iter().map(|o| iam_action(o)).collect()
}

/// The actions `role` grants in `template` (every branch of a conditional statement).
fn granted(template: &str, role: &str) -> BTreeSet<String> {
    let t: Value = serde_norway::from_str(
        &std::fs::read_to_string(bpi_testkit::workspace_root().join(template)).expect(template),
    )
    .expect("yaml");
    let mut out = BTreeSet::new();
    for p in t["Resources"][role]["Properties"]["Policies"]
        .as_sequence()
        .expect("policies")
    {
        for st in p["PolicyDocument"]["Statement"]
            .as_sequence()
            .expect("statements")
        {
            let st = match st {
                Value::Tagged(t) if t.tag == "!If" => t.value[1].clone(),
                other => other.clone(),
            };
            out.extend(strings(&st["Action"]));
        }
    }
    out
}

/// Grants a role holds that its code does not call, and why.
const DELIBERATE: &[(&str, &str, &str)] = &[
    (
        "ProducerRole",
        "logs:CreateLogStream logs:PutLogEvents",
        "the Lambda runtime writes the function's logs with its role",
    ),
    (
        "UpdaterRole",
        "logs:CreateLogStream logs:PutLogEvents",
        "the Lambda runtime writes the function's logs with its role",
    ),
    (
        "SamplerRole",
        "logs:CreateLogStream logs:PutLogEvents",
        "the Lambda runtime writes the function's logs with its role",
    ),
    (
        "FleetSamplerRole",
        "logs:CreateLogStream logs:PutLogEvents",
        "the Lambda runtime writes the function's logs with its role",
    ),
    (
        "FleetUpdaterRole",
        "logs:CreateLogStream logs:PutLogEvents",
        "the Lambda runtime writes the function's logs with its role",
    ),
    (
        "FleetUpdaterRole",
        "ecs:DescribeServices ecs:UpdateService cloudwatch:DescribeAlarms cloudwatch:PutMetricAlarm cloudwatch:DeleteAlarms",
        "PutScalingPolicy on an ECS service needs them (ECS developer guide, \"IAM permissions required for Amazon ECS \
         service auto scaling\"): target tracking creates and deletes its alarms with the caller's permissions",
    ),
    (
        "UpdaterRole",
        "ecs:DescribeServices ecs:UpdateService cloudwatch:DescribeAlarms cloudwatch:PutMetricAlarm cloudwatch:DeleteAlarms",
        "PutScalingPolicy on an ECS service needs them (ECS developer guide, \"IAM permissions required for Amazon ECS \
         service auto scaling\"): target tracking creates and deletes its alarms with the caller's permissions",
    ),
];

/// Operations a component's code can make that its deployment never does, and why (checked below).
const NOT_AS_DEPLOYED: &[(&str, &str, &str)] = &[
    (
        "WorkerTaskRole",
        "sqs:GetQueueUrl",
        "the stack gives the worker QUEUE_URL; only a QUEUE_NAME is resolved with GetQueueUrl",
    ),
    (
        "ProducerRole",
        "sqs:GetQueueUrl",
        "the stack gives the producer QUEUE_URL; only a QUEUE_NAME is resolved with GetQueueUrl",
    ),
    (
        "UpdaterRole",
        "ssm:GetParametersByPath",
        "the stack's updater serves its own service (no FLEET_REGISTRY_PATH); only the fleet updater of \
         deploy/fleet.yaml reads a registry",
    ),
    (
        "SamplerRole",
        "ssm:GetParametersByPath",
        "the stack's sampler serves its own service (no FLEET_REGISTRY_PATH); only the fleet sampler of \
         deploy/fleet.yaml reads a registry",
    ),
];

fn check(component: &str, crate_dir: &str, role: &str) -> BTreeSet<String> {
    check_in("deploy/stack.yaml", component, crate_dir, role)
}

fn check_in(template: &str, component: &str, crate_dir: &str, role: &str) -> BTreeSet<String> {
    let aws = aws_functions();
    let mut called = component_actions(crate_dir, &aws);
    for (r, action, _) in NOT_AS_DEPLOYED {
        if *r == role {
            assert!(
                called.remove(*action),
                "{role}: {action} is no longer called at all"
            );
        }
    }
    let granted = granted(template, role);
    let deliberate: BTreeSet<String> = DELIBERATE
        .iter()
        .filter(|(r, _, _)| *r == role)
        .flat_map(|(_, actions, _)| actions.split_whitespace().map(str::to_string))
        .collect();
    let missing: Vec<&String> = called
        .union(&deliberate)
        .filter(|a| !granted.contains(*a))
        .collect();
    assert!(
        missing.is_empty(),
        "{component} calls or needs {missing:?}, which {role} does not grant (called: {called:?})"
    );
    let unused: Vec<&String> = granted
        .difference(&called)
        .filter(|a| !deliberate.contains(*a))
        .collect();
    assert!(
        unused.is_empty(),
        "{role} grants {unused:?}, which no code of {component} calls (add the reason to DELIBERATE if it is needed)"
    );
    called
}

#[test]
fn the_worker_and_the_producer_are_given_their_queue_url() {
    // What NOT_AS_DEPLOYED rests on.
    let t: Value = serde_norway::from_str(
        &std::fs::read_to_string(bpi_testkit::workspace_root().join("deploy/stack.yaml"))
            .expect("stack.yaml"),
    )
    .expect("yaml");
    // ContainerDefinitions is `!If [HasApp, [worker, app], [worker]]`: the worker alone.
    let Value::Tagged(containers) =
        &t["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    else {
        panic!("ContainerDefinitions is an !If")
    };
    let worker_env = &containers.value[2][0]["Environment"];
    let names: Vec<String> = worker_env
        .as_sequence()
        .expect("environment")
        .iter()
        .filter_map(|e| e["Name"].as_str().map(str::to_string))
        .collect();
    assert!(names.contains(&"QUEUE_URL".to_string()) && !names.contains(&"QUEUE_NAME".to_string()));
    let producer_env =
        &t["Resources"]["ProducerFunction"]["Properties"]["Environment"]["Variables"];
    assert!(!producer_env["QUEUE_URL"].is_null() && producer_env["QUEUE_NAME"].is_null());
}

#[test]
fn the_operations_are_read_from_the_code() {
    // The reader itself: crates/aws's queue resolution calls GetQueueUrl and, through depth(), GetQueueAttributes.
    let aws = aws_functions();
    assert!(aws["resolve"].contains("sqs:GetQueueUrl"));
    assert!(
        aws["resolve"].contains("sqs:GetQueueAttributes"),
        "{:?}",
        aws["resolve"]
    );
    assert_eq!(
        aws["put_target_tracking_policy"],
        BTreeSet::from(["application-autoscaling:PutScalingPolicy".to_string()])
    );
    assert_eq!(iam_action("sqs:DeleteMessageBatch"), "sqs:DeleteMessage");
}

#[test]
fn the_worker_role_grants_exactly_what_the_worker_calls() {
    let called = check(
        "queue-processor",
        "crates/queue-processor",
        "WorkerTaskRole",
    );
    assert!(called.contains("ecs:UpdateTaskProtection"), "{called:?}");
    assert!(called.contains("sqs:ReceiveMessage"), "{called:?}");
}

#[test]
fn the_producer_role_grants_exactly_what_the_producer_calls() {
    let called = check(
        "message-producer",
        "crates/message-producer",
        "ProducerRole",
    );
    assert!(called.contains("sqs:SendMessage"), "{called:?}");
}

#[test]
fn the_updater_role_grants_exactly_what_the_updater_calls() {
    let called = check(
        "target-bpi-updater",
        "crates/target-bpi-updater",
        "UpdaterRole",
    );
    assert!(
        called.contains("application-autoscaling:PutScalingPolicy"),
        "{called:?}"
    );
}

#[test]
fn the_sampler_role_grants_exactly_what_the_sampler_calls() {
    let called = check("sampler", "crates/sampler", "SamplerRole");
    assert!(called.contains("ecs:DescribeServices"), "{called:?}");
    assert!(called.contains("cloudwatch:GetMetricData"), "{called:?}");
}

#[test]
fn the_fleet_sampler_role_grants_exactly_what_the_sampler_calls() {
    let called = check_in(
        "deploy/fleet.yaml",
        "sampler",
        "crates/sampler",
        "FleetSamplerRole",
    );
    assert!(called.contains("ssm:GetParametersByPath"), "{called:?}");
    assert!(called.contains("ecs:DescribeServices"), "{called:?}");
}

#[test]
fn the_fleet_updater_role_grants_exactly_what_the_updater_calls() {
    let called = check_in(
        "deploy/fleet.yaml",
        "target-bpi-updater",
        "crates/target-bpi-updater",
        "FleetUpdaterRole",
    );
    assert!(called.contains("ssm:GetParametersByPath"), "{called:?}");
    assert!(
        called.contains("application-autoscaling:PutScalingPolicy"),
        "{called:?}"
    );
}

#[test]
fn what_bpi_scaling_apply_needs_is_derived_the_same_way() {
    // `bpi scaling apply` runs with the deployer's credentials (deploy.sh); the pipeline does not run it (it only
    // deploys the worker's image). Its operations, for a deployer's policy: its own calls and the updater's.
    let aws = aws_functions();
    let mut ops = component_actions("crates/target-bpi-updater", &aws);
    let scaling =
        std::fs::read_to_string(bpi_testkit::workspace_root().join("crates/bpi/src/scaling.rs"))
            .expect("scaling.rs");
    for c in calls(&scaling) {
        if let Some(o) = aws.get(&c) {
            ops.extend(o.iter().map(|o| iam_action(o)));
        }
    }
    for needed in [
        "application-autoscaling:RegisterScalableTarget",
        "application-autoscaling:PutScalingPolicy",
        "application-autoscaling:DeleteScalingPolicy",
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DeleteAlarms",
    ] {
        assert!(ops.contains(needed), "{needed} in {ops:?}");
    }
}
