//! What several CLI test files share: running `bpi` against the emulator, and reading template values.

use std::process::Command;

use serde_norway::Value;

/// The updater's settings of `env`, with the service's scalable target registered as `bpi scaling apply` would
/// (what `bpi status` and the local run read the bounds from).
pub async fn register_scalable_target_of(
    clients: &bpi_aws::AwsClients,
    env: &[(&str, &str)],
) -> bpi_core::config::UpdaterConfig {
    let env: std::collections::HashMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    let config = bpi_core::config::UpdaterConfig::from_env(&env).expect("valid settings");
    bpi_aws::autoscaling::register_scalable_target(
        &clients.autoscaling,
        &bpi_core::policy::scaling_spec(&config.policy, 12.0).scalable_target,
    )
    .await
    .expect("register");
    config
}

/// `bpi ARGS` with an empty environment (commands that need no AWS and no settings).
pub fn bpi(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bpi"))
        .args(args)
        .env_clear()
        .output()
        .expect("run bpi")
}

/// `bpi ARGS` with only `env` and the emulator's variables.
fn bpi_on_emulator(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bpi"))
        .args(args)
        .env_clear()
        .envs(bpi_testkit::emulator().child_env())
        .envs(env.iter().copied())
        .output()
        .expect("run bpi")
}

/// `bpi ARGS` with only `env` (and the emulator's variables): its standard output as text.
pub fn bpi_text(args: &[&str], env: &[(&str, &str)]) -> String {
    String::from_utf8_lossy(&bpi_on_emulator(args, env).stdout).into_owned()
}

/// `bpi ARGS` with only `env` (and the emulator's variables), expected to succeed: its standard output as JSON.
pub fn bpi_json(args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let out = bpi_on_emulator(args, env);
    assert!(
        out.status.success(),
        "bpi {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// Every string in a template value (through sequences and `!Tag`s).
pub fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(items) => items.iter().flat_map(strings).collect(),
        Value::Tagged(t) => strings(&t.value),
        _ => vec![],
    }
}
