//! The CloudFormation templates and the build files, read as data: what the stack declares that the emulator does not
//! keep (see deploy.rs), the security rules every file must follow, the pipeline's build, and the settings every
//! template shares with core. This module holds the readers the four share.

mod pipeline;
mod security;
mod settings;
mod stack;

use serde_norway::Value;

use crate::support::strings;

pub(super) fn template(name: &str) -> Value {
    let path = bpi_testkit::workspace_root().join("deploy").join(name);
    serde_norway::from_str(&std::fs::read_to_string(&path).expect("read template"))
        .expect("valid YAML")
}

pub(super) fn resources(t: &Value) -> Vec<(String, &Value)> {
    t["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .map(|(k, v)| (k.as_str().expect("name").to_string(), v))
        .collect()
}

pub(super) fn of_type<'a>(t: &'a Value, ty: &str) -> Vec<(String, &'a Value)> {
    resources(t)
        .into_iter()
        .filter(|(_, r)| r["Type"] == ty)
        .collect()
}

/// The statements of a policy document, each branch of a `!If` statement counted (`!Ref AWS::NoValue` is none).
pub(super) fn statements(document: &Value) -> Vec<Value> {
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
pub(super) fn tagged(v: &Value) -> Option<(String, String)> {
    match v {
        Value::Tagged(t) => Some((t.tag.to_string(), strings(&t.value).join(" "))),
        _ => None,
    }
}

/// The task definition's two container lists, `!If [HasApp, WITH_APP, ALONE]`: (worker and application, worker).
pub(super) fn container_lists(td: &Value) -> (&Vec<Value>, &Vec<Value>) {
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

/// The statements of every inline policy of `role` in `t`.
pub(super) fn role_statements(t: &Value, role: &str) -> Vec<Value> {
    t["Resources"][role]["Properties"]["Policies"]
        .as_sequence()
        .expect("policies")
        .iter()
        .flat_map(|p| statements(&p["PolicyDocument"]))
        .collect()
}
