//! One setting, one declaration: every default and range of the stack and of deploy.sh against core's, both ways.

use std::collections::HashMap;

use bpi_core::config::{ProcessorConfig, ProducerConfig, SamplerConfig, UpdaterConfig, VarDoc};
use serde_norway::Value;

use super::*;

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
