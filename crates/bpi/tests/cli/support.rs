//! What several CLI test files share: running `bpi` against the emulator, and reading template values.

use std::process::Command;

use serde_norway::Value;

/// `bpi ARGS` with an empty environment (commands that need no AWS and no settings).
pub fn bpi(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bpi"))
        .args(args)
        .env_clear()
        .output()
        .expect("run bpi")
}

/// `bpi ARGS` with only `env` (and the emulator's variables), expected to succeed: its standard output as JSON.
pub fn bpi_json(args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_bpi"))
        .args(args)
        .env_clear()
        .envs(bpi_testkit::emulator().child_env())
        .envs(env.iter().copied())
        .output()
        .expect("run bpi");
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
