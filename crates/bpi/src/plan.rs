//! `bpi plan`: what a workload needs, from core's own target computation; with `--history`, the keep-alive's floor
//! and headroom on the queue's own arrivals, with their cost a month.

use std::path::PathBuf;

use bpi_core::{DurationDistribution, TargetSettings, target_bpi};

use crate::cli_error::CliError;
use crate::floor_advice::{self, Deployment};

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
    /// Arrival rate, messages per minute (default with --history: the history's mean).
    #[arg(long, required_unless_present = "history")]
    rate: Option<f64>,
    /// The queue's own arrivals: a CSV of `timestamp,count` rows at any bucket width (what `bpi simulate --counts`
    /// reads: CloudWatch's NumberOfMessagesSent exported, or any metrics tool's). Adds the keep-alive's floor and
    /// headroom on it, with their cost a month.
    #[arg(long, value_name = "CSV")]
    history: Option<PathBuf>,
    /// Most tasks the service may run.
    #[arg(long, default_value_t = 10)]
    max_tasks: u32,
    /// Fargate price per task-hour (default: ARM64 0.25 vCPU / 0.5 GB, us-east-1 list price).
    #[arg(long, default_value_t = bpi_core::cost::DEFAULT_TASK_HOUR_USD)]
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
    let history = match &args.history {
        Some(path) => Some(history_per_minute(path, args.mpd)?),
        None => None,
    };
    let rate = match (args.rate, &history) {
        (Some(rate), _) => rate,
        (None, Some(h)) => h.iter().sum::<f64>() / h.len().max(1) as f64,
        (None, None) => return Err(CliError::Usage("--rate or --history is needed".into())),
    };
    if !(args.mpd.is_finite() && args.mpd > 0.0 && rate.is_finite() && rate >= 0.0) {
        return Err(CliError::Usage(
            "--mpd must be positive and --rate not negative".into(),
        ));
    }
    let target = target_bpi(&settings, Some(args.mpd));
    // Work arriving per second × seconds per message ÷ messages per task at once.
    let busy_tasks = rate / 60.0 * args.mpd / f64::from(args.concurrency);
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
    if let Some(sent) = &history {
        print!(
            "{}",
            floor_advice::render(
                sent,
                args.mpd,
                &Deployment {
                    latency_secs: args.latency,
                    concurrency: args.concurrency,
                    max_tasks: args.max_tasks,
                    task_hour_usd: args.task_hour_usd,
                }
            )
        );
    }
    Ok(())
}

/// The history's messages sent a minute: its counts spread within their buckets as `bpi simulate --counts` spreads
/// them (seed 1), then binned by the minute.
fn history_per_minute(path: &PathBuf, mpd_secs: f64) -> Result<Vec<f64>, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))?;
    let counts = bpi_sim::counts::parse(&text)
        .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
    let durations = DurationDistribution::Constant {
        secs: if mpd_secs.is_finite() && mpd_secs > 0.0 {
            mpd_secs
        } else {
            1.0
        },
    };
    let arrivals = bpi_sim::counts::spread(&counts, 1.0, durations, 1);
    if arrivals.is_empty() {
        return Err(CliError::Usage(format!(
            "{}: the history holds no message",
            path.display()
        )));
    }
    Ok(floor_advice::per_minute(arrivals.iter().map(|a| a.at_ms)))
}
