//! Prints the cost table of docs/operate.md (core's `cost::cost_table` with the deployed defaults): one sampler per service
//! against one for all, for 1, 10, 100 and 500 services. `cargo run -p bpi-core --example cost_table`.

use bpi_core::config::env_map;

use bpi_core::config::UpdaterConfig;
use bpi_core::cost::{alarm_metrics, cost_table, documented_sampler_run};
use bpi_core::policy::scaling_spec;

fn main() {
    let env = env_map(&[
        ("CLUSTER_NAME", "c"),
        ("SERVICE_NAME", "s"),
        ("QUEUE_NAME", "q"),
    ]);
    let config = UpdaterConfig::from_env(&env).expect("defaults are valid");
    print!("{}", cost_table(&config.policy, documented_sampler_run));
    let a = alarm_metrics(&scaling_spec(&config.policy, 12.0));
    eprintln!(
        "alarms per service: {} ({} standard-resolution metrics, {} high-resolution)",
        a.alarms, a.standard, a.high_resolution
    );
}
