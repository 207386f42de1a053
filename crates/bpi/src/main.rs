//! `bpi`: the ecs-sqs-bpi command line. Settings come from the same environment variables as the updater
//! (CLUSTER_NAME, SERVICE_NAME, QUEUE_NAME, DESIRED_LATENCY_SECS, MIN_CAPACITY, ...); AWS from the usual variables.
//! Exit codes: 0 done; 1 an AWS call failed; 2 a bad setting.

use std::process::ExitCode;

use bpi_aws::{AwsClients, load_sdk_config};
use bpi_core::config::{ProcessEnv, UpdaterConfig};
use bpi_core::policy::scaling_spec;
use bpi_core::target_bpi;
use clap::{Parser, Subcommand};

mod local_run;
mod plan;
mod scaling;
mod simulate;
mod status;

#[derive(Parser, Debug)]
#[command(
    name = "bpi",
    version,
    about = "ecs-sqs-bpi: scale an SQS worker service on ECS to a latency promise"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the canonical scaling spec (scalable target, target tracking policies, the fast path, idle and backstop
    /// step policies and their alarms) as the JSON the AWS APIs take.
    Policy {
        /// Target value; default: computed from the settings with DEFAULT_MSG_PROC_DURATION_SECS.
        #[arg(long)]
        target: Option<f64>,
    },
    /// Apply or remove the scaling set-up of a deployed service.
    Scaling {
        #[command(subcommand)]
        action: ScalingAction,
    },
    /// Simulate policies on shipped scenarios (latency against the promise, cost against the lower bound).
    Simulate(simulate::SimulateArgs),
    /// Plan a deployment: target BPI, steady-state tasks and monthly cost for a workload.
    Plan(plan::PlanArgs),
    /// Show a deployed system's live state: queue, tasks, ecsBPI vs target, MPD, policy drift.
    Status(status::StatusArgs),
    /// Run the deployed system locally against the emulator: producer and updater on accelerated schedules, worker
    /// processes scaled by the written policy; live status, then a summary and a chart (deploy/local-run.sh).
    LocalRun(local_run::LocalRunArgs),
}

#[derive(Subcommand, Debug)]
enum ScalingAction {
    /// Register the scalable target and bring the policies to the canonical spec (idempotent).
    Apply,
    /// Remove the set-up's alarms, the service's scaling policies and the scalable target.
    Remove,
}

fn settings() -> Result<UpdaterConfig, ExitCode> {
    UpdaterConfig::from_env(&ProcessEnv).map_err(|e| {
        eprintln!("bpi: {e}");
        ExitCode::from(2)
    })
}

fn print_json(value: &impl serde::Serialize) -> ExitCode {
    match serde_json::to_string_pretty(value) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bpi: {e}");
            ExitCode::from(1)
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = bpi_aws::logging::init(&ProcessEnv) {
        eprintln!("bpi: {e}");
        return ExitCode::from(2);
    }
    let cli = match cli.command {
        Command::Simulate(args) => return simulate::run(&args),
        Command::Plan(args) => return plan::run(&args),
        other => other,
    };
    let config = match settings() {
        Ok(c) => c,
        Err(code) => return code,
    };
    match cli {
        Command::Simulate(_) | Command::Plan(_) => unreachable!("handled above"),
        Command::LocalRun(args) => {
            let clients = AwsClients::new(&load_sdk_config().await);
            match local_run::run(&args, &clients, &config).await {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("bpi: {e:#}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Status(args) => {
            let clients = AwsClients::new(&load_sdk_config().await);
            match status::run(&args, &clients, &config).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("bpi: {e:#}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Policy { target } => {
            let target =
                target.unwrap_or_else(|| f64::from(target_bpi(&config.target, None).value));
            print_json(&scaling_spec(&config.policy, target))
        }
        Command::Scaling { action } => {
            let clients = AwsClients::new(&load_sdk_config().await);
            let result = match action {
                ScalingAction::Apply => scaling::apply(&clients, &config)
                    .await
                    .map(serde_json::to_value),
                ScalingAction::Remove => scaling::remove(&clients, &config)
                    .await
                    .map(serde_json::to_value),
            };
            match result {
                Ok(Ok(report)) => print_json(&report),
                Ok(Err(e)) => {
                    eprintln!("bpi: {e}");
                    ExitCode::from(1)
                }
                Err(e) => {
                    eprintln!("bpi: {e:#}");
                    ExitCode::from(1)
                }
            }
        }
    }
}
