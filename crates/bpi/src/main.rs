//! `bpi`: the ecs-sqs-bpi command line. Settings come from the same environment variables as the updater
//! (CLUSTER_NAME, SERVICE_NAME, QUEUE_NAME, DESIRED_LATENCY_SECS, MIN_CAPACITY, ...); AWS from the usual variables.
//! Exit codes: 0 done; 1 an AWS call failed; 2 a bad setting.

use std::process::ExitCode;

use bpi_aws::{AwsClients, load_sdk_config};
use bpi_core::config::{ProcessEnv, SamplerConfig, UpdaterConfig, check_deployment};
use bpi_core::policy::scaling_spec;
use bpi_core::target_bpi;
use clap::{Parser, Subcommand};
use cli_error::{CliError, print_json};

mod attach;
mod cli_error;
mod fleet;
mod floor_advice;
mod local_run;
mod plan;
mod scaling;
mod schedule;
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
    /// Put this scaling on a service that already runs (its cluster, service, queue and worker): shows what the
    /// service has and what would change; --apply keeps what it replaces, then applies the scaling set-up and
    /// registers the service with the fleet sampler.
    Attach(attach::AttachArgs),
    /// Take it off again: this project's policies and alarms removed, the service's own scaling put back as attach
    /// found it (a dry run without --apply).
    Detach(attach::AttachArgs),
    /// Add, remove or list the services one fleet sampler reads (its registry under FLEET_REGISTRY_PATH).
    Fleet {
        #[command(subcommand)]
        action: fleet::FleetAction,
    },
    /// The forecaster's dry run: the scheduled actions the updater would write for bursts that recur in the queue's
    /// last 14 days (NumberOfMessagesSent), why each exists, and the writes; changes nothing.
    Schedule,
    /// Simulate policies on shipped scenarios (latency against the promise, cost against the lower bound).
    Simulate(simulate::SimulateArgs),
    /// Plan a deployment: target BPI, steady-state tasks and monthly cost for a workload.
    Plan(plan::PlanArgs),
    /// Show a deployed system's live state: queue, tasks, ecsBPI vs target, MPD, policy drift.
    Status(status::StatusArgs),
    /// Check settings before deploying them (deploy/deploy.sh runs it): the environment as the worker, the updater
    /// and the sampler of a deployment will read it, with stand-ins for the names not yet created. Exit 2 with the
    /// variable named when one is bad.
    Settings {
        #[command(subcommand)]
        action: SettingsAction,
    },
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

#[derive(Subcommand, Debug)]
enum SettingsAction {
    /// Check every setting of the environment against core's declarations (range, type, the rules between them).
    Check,
}

fn settings() -> Result<UpdaterConfig, CliError> {
    UpdaterConfig::from_env(&ProcessEnv).map_err(|e| CliError::Usage(e.to_string()))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bpi: {e}");
            e.exit_code()
        }
    }
}

/// Runs one command.
async fn run(cli: Cli) -> Result<(), CliError> {
    bpi_aws::logging::init(&ProcessEnv).map_err(|e| CliError::Usage(e.to_string()))?;
    match cli.command {
        Command::Simulate(args) => {
            let history = if args.from_cloudwatch.is_some() {
                let clients = AwsClients::new(&load_sdk_config().await);
                simulate::history_trace(&args, &clients).await?
            } else {
                None
            };
            simulate::run(&args, history)
        }
        Command::Plan(args) => plan::run(&args),
        Command::Settings {
            action: SettingsAction::Check,
        } => {
            check_deployment(&ProcessEnv).map_err(|e| CliError::Usage(e.to_string()))?;
            println!("settings: ok");
            Ok(())
        }
        Command::Policy { target } => {
            let config = settings()?;
            let target =
                target.unwrap_or_else(|| f64::from(target_bpi(&config.target, None).value));
            print_json(&scaling_spec(&config.policy, target))
        }
        Command::Scaling { action } => {
            let config = settings()?;
            let clients = AwsClients::new(&load_sdk_config().await);
            let report = match action {
                ScalingAction::Apply => {
                    serde_json::to_value(scaling::apply(&clients, &config).await?)
                }
                ScalingAction::Remove => {
                    serde_json::to_value(scaling::remove(&clients, &config).await?)
                }
            }
            .map_err(anyhow::Error::from)?;
            print_json(&report)
        }
        Command::Schedule => {
            let config = settings()?;
            let clients = AwsClients::new(&load_sdk_config().await);
            print_json(&schedule::run(&clients, &config).await?)
        }
        Command::Attach(args) => {
            let clients = AwsClients::new(&load_sdk_config().await);
            print_json(&attach::attach(args, &clients).await?)
        }
        Command::Detach(args) => {
            let clients = AwsClients::new(&load_sdk_config().await);
            print_json(&attach::detach(args, &clients).await?)
        }
        Command::Fleet { action } => {
            let clients = AwsClients::new(&load_sdk_config().await);
            print_json(&fleet::run(&action, &clients).await?)
        }
        Command::Status(args) => {
            // The sampler's settings: the updater's and the start its capacity model assumes.
            let config =
                SamplerConfig::from_env(&ProcessEnv).map_err(|e| CliError::Usage(e.to_string()))?;
            let clients = AwsClients::new(&load_sdk_config().await);
            Ok(status::run(&args, &clients, &config).await?)
        }
        Command::LocalRun(args) => {
            let config = settings()?;
            let clients = AwsClients::new(&load_sdk_config().await);
            local_run::run(&args, &clients, &config).await?;
            Ok(())
        }
    }
}
