//! `bpi simulate`: runs policies on the shipped scenarios and prints the comparison.

use std::process::ExitCode;

use bpi_sim::{PolicyKind, SimSettings, scenarios, simulate, table};

/// Arguments of `bpi simulate`.
#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    /// Scenario name, or `all` (blueprint, varying, burst, mpd-shift, diurnal, idle-then-burst).
    #[arg(long, default_value = "all")]
    scenario: String,
    /// Policy name, or `all` (ours, blueprint, copilot, cdk, keda-like).
    #[arg(long, default_value = "all")]
    policy: String,
    /// Seed of the arrivals.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Simulated hours (default: each scenario's own).
    #[arg(long)]
    hours: Option<u64>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write the minute-by-minute timeline to this CSV file.
    #[arg(long)]
    csv: Option<std::path::PathBuf>,
    /// Also write an SVG chart (one panel per run: backlog, tasks, desired, target) to this file.
    #[arg(long)]
    svg: Option<std::path::PathBuf>,
}

/// Runs the command.
pub fn run(args: &SimulateArgs) -> ExitCode {
    let chosen: Vec<_> = scenarios()
        .into_iter()
        .filter(|s| args.scenario == "all" || s.name == args.scenario)
        .collect();
    if chosen.is_empty() {
        eprintln!("bpi: unknown scenario '{}'", args.scenario);
        return ExitCode::from(2);
    }
    let policies: Vec<PolicyKind> = if args.policy == "all" {
        PolicyKind::ALL.to_vec()
    } else if let Some(p) = PolicyKind::from_name(&args.policy) {
        vec![p]
    } else {
        eprintln!("bpi: unknown policy '{}'", args.policy);
        return ExitCode::from(2);
    };
    let settings = SimSettings {
        seed: args.seed,
        ..SimSettings::default()
    };
    let mut reports = Vec::new();
    for scenario in chosen {
        let scenario = match args.hours {
            Some(h) => scenario.lasting(h * 3600),
            None => scenario,
        };
        for p in &policies {
            reports.push(simulate(&scenario, *p, &settings));
        }
    }
    if let Some(path) = &args.csv {
        let mut csv = String::from("scenario,");
        csv.push_str(bpi_sim::report::CSV_HEADER);
        for r in &reports {
            for line in r.timeline.to_csv(r.policy).lines() {
                csv.push_str(&format!("{},{line}\n", r.scenario));
            }
        }
        if let Err(e) = std::fs::write(path, csv) {
            eprintln!("bpi: cannot write {}: {e}", path.display());
            return ExitCode::from(1);
        }
    }
    if let Some(path) = &args.svg
        && let Err(e) = std::fs::write(path, bpi_sim::chart::svg(&reports))
    {
        eprintln!("bpi: cannot write {}: {e}", path.display());
        return ExitCode::from(1);
    }
    if args.json {
        match serde_json::to_string_pretty(&reports) {
            Ok(j) => println!("{j}"),
            Err(e) => {
                eprintln!("bpi: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        print!("{}", table(&reports));
    }
    ExitCode::SUCCESS
}
