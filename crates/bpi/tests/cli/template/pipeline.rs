//! The build and release path: the buildspec, the Dockerfile and the pipeline stack.

use std::collections::BTreeSet;

use serde_norway::Value;

use super::*;

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
