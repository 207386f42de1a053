//! `bpi plan`: what a workload needs, from core's own target computation.

use bpi_core::{TargetSettings, target_bpi};

use crate::cli_error::CliError;

/// Arguments of `bpi plan`.
#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    /// Acceptable latency, seconds.
    #[arg(long, default_value_t = 60.0)]
    latency: f64,
    /// Mean processing duration, seconds (measured, or your estimate).
    #[arg(long)]
    mpd: f64,
    /// Messages a task processes at once.
    #[arg(long, default_value_t = 1)]
    concurrency: u32,
    /// Arrival rate, messages per minute.
    #[arg(long)]
    rate: f64,
    /// Most tasks the service may run.
    #[arg(long, default_value_t = 10)]
    max_tasks: u32,
    /// Fargate price per task-hour (default: ARM64 0.25 vCPU / 0.5 GB, us-east-1 list price).
    #[arg(long, default_value_t = 0.25 * 0.032_38 + 0.5 * 0.003_56)]
    task_hour_usd: f64,
}

/// Runs the command.
pub fn run(args: &PlanArgs) -> Result<(), CliError> {
    let settings = TargetSettings::new(args.latency, args.concurrency.max(1), 5.0, 10_000)
        .map_err(|_| {
            CliError::Usage(
                "--latency must be a positive number of seconds and --concurrency at least 1"
                    .into(),
            )
        })?;
    if !(args.mpd.is_finite() && args.mpd > 0.0 && args.rate.is_finite() && args.rate >= 0.0) {
        return Err(CliError::Usage(
            "--mpd must be positive and --rate not negative".into(),
        ));
    }
    let target = target_bpi(&settings, Some(args.mpd));
    // Work arriving per second × seconds per message ÷ messages per task at once.
    let busy_tasks = args.rate / 60.0 * args.mpd / f64::from(args.concurrency);
    let tasks = busy_tasks.ceil().max(1.0) as u32;
    let monthly = f64::from(tasks) * args.task_hour_usd * 730.0;
    println!(
        "ecsTargetBPI        {} (= {} x {} s / {} s = {:.2}, rounded down)",
        target.value, args.concurrency, args.latency, args.mpd, target.exact
    );
    println!("busy tasks          {busy_tasks:.2} on average -> {tasks} tasks at steady state");
    println!(
        "cost                ${:.4}/hour, ${monthly:.2}/month (730 h) at ${:.4} per task-hour",
        f64::from(tasks) * args.task_hour_usd,
        args.task_hour_usd
    );
    for w in &target.warnings {
        println!("warning             {w}");
    }
    if tasks > args.max_tasks {
        println!(
            "warning             {tasks} tasks needed but --max-tasks is {}: the backlog will grow and the promise break",
            args.max_tasks
        );
    }
    Ok(())
}
