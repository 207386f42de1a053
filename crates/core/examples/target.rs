//! Computes ecsTargetBPI and prints the canonical target tracking policy, from the same environment variables the
//! updater reads (CLUSTER_NAME, SERVICE_NAME, QUEUE_NAME, DESIRED_LATENCY_SECS, TASK_CONCURRENCY, ...).
//!
//! ```sh
//! CLUSTER_NAME=demo SERVICE_NAME=worker QUEUE_NAME=jobs MPD_SECS=5 cargo run -p bpi-core --example target
//! ```

use bpi_core::config::{EnvSource, ProcessEnv, UpdaterConfig};
use bpi_core::policy::scaling_spec;
use bpi_core::target_bpi;

fn main() {
    let config = match UpdaterConfig::from_env(&ProcessEnv) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let mpd = match ProcessEnv.var("MPD_SECS").map(|v| v.parse::<f64>()) {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => {
            eprintln!("error: invalid setting MPD_SECS: expected a number of seconds");
            std::process::exit(2);
        }
    };
    let target = target_bpi(&config.target, mpd);
    println!(
        "ecsTargetBPI = {} x {} s / {} s = {:.3} -> {} ({:?} MPD)",
        config.target.concurrency(),
        config.target.latency_secs(),
        target.mpd_secs,
        target.exact,
        target.value,
        target.mpd_source,
    );
    for w in &target.warnings {
        println!("warning: {w}");
    }
    let spec = scaling_spec(&config.policy, f64::from(target.value));
    match serde_json::to_string_pretty(&spec) {
        Ok(json) => println!("{json}"),
        Err(e) => eprintln!("error: {e}"),
    }
}
