//! `bpi simulate`: runs policies on the shipped scenarios (or a replayed trace) and prints the comparison; with
//! `--robust`, over an ensemble of AWS behaviours, judged by the worst case against the oracle; with `--suite`, on
//! the workload suite's generated families, judged against the reactive limit.

use std::path::PathBuf;

use anyhow::Context;
use bpi_core::DurationDistribution;
use bpi_sim::robust::{self, Ensemble, RobustRow, Traffic};
use bpi_sim::scenario::{Arrival, Arrivals, Durations};
use bpi_sim::suite::{self, Part};
use bpi_sim::{AwsModel, PolicyKind, Scenario, SimSettings, scenarios, simulate_arrivals, table};

use crate::cli_error::{CliError, print_json};

/// Arguments of `bpi simulate`.
#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    /// Scenario name, or `all` (blueprint, varying, burst, mpd-shift, diurnal, idle-then-burst).
    #[arg(long, default_value = "all")]
    scenario: String,
    /// Replay your own traffic instead of a scenario: a CSV of `arrival_secs,duration_secs` per message.
    #[arg(long, value_name = "CSV", conflicts_with = "scenario")]
    trace: Option<PathBuf>,
    /// Replay the queue's own history instead: its messages sent per minute from CloudWatch (NumberOfMessagesSent,
    /// kept 15 days at one minute), each minute's messages spread uniformly within it, their durations drawn from
    /// the MPD measured over the same hours (the workers' MsgProcessingDuration, else Little's law on the queue).
    #[arg(long, value_name = "QUEUE", conflicts_with_all = ["scenario", "trace"])]
    pub from_cloudwatch: Option<String>,
    /// Replay recorded counts instead: a CSV of `timestamp,count` rows at any bucket width (epoch seconds or
    /// `YYYY-MM-DD HH:MM:SS`, UTC), what CloudWatch or any metrics tool exports; each bucket's messages are spread
    /// uniformly within it (estimated), their durations drawn from --durations or --mpd.
    #[arg(long, value_name = "CSV", conflicts_with_all = ["scenario", "trace", "from_cloudwatch"])]
    counts: Option<PathBuf>,
    /// With --counts: each bucket's count is multiplied by this (5: a busier queue of the same shape).
    #[arg(long, default_value_t = 1.0)]
    load: f64,
    /// With --counts: the processing durations, as the producer's JSON, e.g.
    /// `{"kind":"lognormal","mean_secs":3,"sigma":0.8}` (also constant, uniform, exponential).
    #[arg(
        long,
        default_value = r#"{"kind":"lognormal","mean_secs":3.0,"sigma":0.8}"#,
        conflicts_with = "mpd"
    )]
    durations: String,
    /// With --counts: durations exponential with this mean, seconds (instead of --durations).
    #[arg(long)]
    mpd: Option<f64>,
    /// With --counts: replay only this many days from --from-day (default: all).
    #[arg(long)]
    days: Option<u64>,
    /// With --counts and --days: the first day replayed (0: the first row's).
    #[arg(long, default_value_t = 0)]
    from_day: u64,
    /// With --from-cloudwatch: hours of history read, ending now (1-360).
    #[arg(long, default_value_t = 24)]
    history_hours: u64,
    /// With --trace or --from-cloudwatch: the latency promise, seconds.
    #[arg(long, default_value_t = 60.0)]
    latency: f64,
    /// With --trace: messages a task processes at once.
    #[arg(long, default_value_t = 1)]
    concurrency: u32,
    /// With --trace: fewest tasks.
    #[arg(long, default_value_t = 1)]
    min_tasks: u32,
    /// With --trace: most tasks.
    #[arg(long, default_value_t = 10)]
    max_tasks: u32,
    /// With --trace: the queue's visibility timeout, seconds.
    #[arg(long, default_value_t = 30)]
    visibility_timeout: u64,
    /// Policy name, or `all` (ours, ours-sqs-metrics, blueprint, copilot, cdk, keda, keda-tuned, oracle, reactive-limit;
    /// on replayed traffic also fixed fleets of 1, 2, 4, 8 and 16 tasks up to --max-tasks); also
    /// `ours-latency-first` (ours at its latency-first settings),
    /// `keda:N` (queueLength N), `cpu:N` (target tracking on CPU at N%, a CPU-bound worker assumed) and `fixed:N`
    /// (a fixed fleet of N tasks). Comma-separated for several.
    #[arg(long, default_value = "all")]
    policy: String,
    /// Seed of the arrivals.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Simulated hours (default: each scenario's own).
    #[arg(long)]
    hours: Option<u64>,
    /// The simulator's earlier model (six SQS readings a minute, a cooldown that blocks every scale-out, no launch
    /// limit), to compare.
    #[arg(long)]
    legacy_model: bool,
    /// Judge every policy over an ensemble of AWS behaviours and arrival seeds: worst case, median, and the
    /// behaviour of the worst case, against the oracle.
    #[arg(long)]
    robust: bool,
    /// Run the workload suite instead (twelve generated families of traffic, several settings each): its tuning
    /// part, its held-out part (other settings and seeds, never used to choose the design) or both, over each part's
    /// ensemble of AWS behaviours, against the reactive limit. `--policy all` compares the suite's set (ours, KEDA at
    /// queueLength 1, 2, 3, 5, 8, 13, 20, the other peers, the reactive limit, the oracle).
    #[arg(long, value_enum, value_name = "PART", conflicts_with_all = ["scenario", "trace", "hours"])]
    suite: Option<SuiteParts>,
    /// With --robust or --suite: AWS behaviours in the ensemble (the default model first, then a seeded sample).
    #[arg(long, default_value_t = Ensemble::default().behaviours)]
    behaviours: usize,
    /// With --robust: arrival seeds (1..=N; the suite's parts have their own).
    #[arg(long, default_value_t = Ensemble::default().seeds.len() as u64)]
    seeds: u64,
    /// With --robust or --suite: threads (default: the machine's cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Print the model's parameters (default, range explored, source) as a Markdown table and exit.
    #[arg(long)]
    parameters: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write the minute-by-minute timeline to this CSV file.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Also write an SVG chart (one panel per run: the longest wait against the promise, the backlog, tasks against
    /// desired, on a labelled time axis zoomed to the activity) to this file; with --suite, the trade-off chart (a
    /// panel per workload: every policy's worst share against its task-hours ÷ the reactive limit's), one file per
    /// part (`NAME-tuning.svg`, `NAME-held-out.svg` with both).
    #[arg(long)]
    svg: Option<PathBuf>,
}

/// The parts of the workload suite `--suite` runs.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum SuiteParts {
    /// The workloads the design was chosen on.
    Tuning,
    /// The workloads kept out of every choice.
    HeldOut,
    /// Both, reported apart.
    All,
}

impl SuiteParts {
    fn parts(self) -> Vec<Part> {
        match self {
            SuiteParts::Tuning => vec![Part::Tuning],
            SuiteParts::HeldOut => vec![Part::HeldOut],
            SuiteParts::All => vec![Part::Tuning, Part::HeldOut],
        }
    }
}

/// One part of the suite's results, as `--json` prints them.
#[derive(serde::Serialize)]
struct SuiteResult {
    part: Part,
    rows: Vec<RobustRow>,
}

/// `--suite`: every part asked for, its table against the reactive limit and the peers (fixed fleets included) that beat ours on
/// both counts.
fn run_suite(args: &SimulateArgs, parts: SuiteParts) -> Result<(), CliError> {
    let policies = if args.policy == "all" {
        suite::policies()
    } else {
        policies(&args.policy).map_err(CliError::Usage)?
    };
    let results: Vec<SuiteResult> = parts
        .parts()
        .into_iter()
        .map(|part| SuiteResult {
            part,
            rows: suite::run(
                part,
                &policies,
                args.behaviours.max(1),
                threads(args.threads),
            ),
        })
        .collect();
    if let Some(path) = &args.svg {
        for r in &results {
            // One chart per part: with both parts, the file name takes the part's.
            let file = if results.len() == 1 {
                path.clone()
            } else {
                let stem = path
                    .file_stem()
                    .map_or_else(|| "suite".to_string(), |s| s.to_string_lossy().into_owned());
                path.with_file_name(format!("{stem}-{}.svg", r.part.name()))
            };
            let title = bpi_sim::tradeoff::title(r.part);
            std::fs::write(&file, bpi_sim::tradeoff::svg(&title, &r.rows))
                .with_context(|| format!("cannot write {}", file.display()))?;
        }
    }
    if args.json {
        return print_json(&results);
    }
    for r in &results {
        println!("## the {} part\n", r.part.name());
        print!("{}", suite::table(&r.rows));
        for (workload, peer) in suite::dominating_ours(&r.rows) {
            println!("- {workload}: {peer} has both a higher share and fewer task-hours than ours");
        }
        println!();
    }
    Ok(())
}

fn threads(asked: Option<usize>) -> usize {
    asked.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
}

fn policies(spec: &str) -> Result<Vec<PolicyKind>, String> {
    if spec == "all" {
        return Ok(PolicyKind::ALL.to_vec());
    }
    spec.split(',')
        .map(|name| {
            PolicyKind::from_name(name.trim()).ok_or_else(|| {
                format!(
                    "unknown policy '{name}' (ours, ours-latency-first, ours-sqs-metrics, blueprint, copilot, cdk, keda, keda:N, keda-tuned, cpu:N, fixed:N, oracle, reactive-limit)"
                )
            })
        })
        .collect()
}

/// The scenario of a replayed trace: it lasts until the last arrival plus the promise and the longest message.
fn trace_scenario(args: &SimulateArgs, path: &PathBuf) -> Result<(Scenario, Vec<Arrival>), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let arrivals = bpi_sim::trace::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path
        .file_stem()
        .map_or("trace".to_string(), |s| s.to_string_lossy().into_owned());
    scenario_of(
        args,
        arrivals,
        name,
        format!("replayed from {}", path.display()),
    )
}

/// The scenario of recorded counts (`--counts`): each bucket's messages × `--load`, spread within it, durations from
/// `--durations` or `--mpd`, `--days` of them from `--from-day`.
fn counts_scenario(
    args: &SimulateArgs,
    path: &PathBuf,
) -> Result<(Scenario, Vec<Arrival>), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut counts =
        bpi_sim::counts::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if !(args.load.is_finite() && args.load > 0.0) {
        return Err(format!("--load {} must be above 0", args.load));
    }
    let durations = match args.mpd {
        Some(mean_secs) => DurationDistribution::Exponential { mean_secs },
        None => serde_json::from_str::<DurationDistribution>(&args.durations)
            .map_err(|e| format!("--durations '{}': {e}", args.durations))?,
    };
    durations
        .validate()
        .map_err(|e| format!("--durations/--mpd: {e}"))?;
    if let Some(days) = args.days {
        const DAY_SECS: u64 = 86_400;
        counts = counts.window(args.from_day * DAY_SECS, days * DAY_SECS);
        if counts.buckets.is_empty() {
            return Err(format!(
                "--from-day {} --days {days}: no row of {} falls in them",
                args.from_day,
                path.display()
            ));
        }
    }
    let arrivals = bpi_sim::counts::spread(&counts, args.load, durations, args.seed);
    if arrivals.is_empty() {
        return Err(format!("{}: the counts hold no message", path.display()));
    }
    let name = path
        .file_stem()
        .map_or("counts".to_string(), |s| s.to_string_lossy().into_owned());
    scenario_of(
        args,
        arrivals,
        name,
        format!(
            "from {} ({} buckets of {} s, ×{}; arrivals spread within each bucket, estimated)",
            path.display(),
            counts.buckets.len(),
            counts.bucket_secs,
            args.load
        ),
    )
}

/// How a trace was built from a queue's CloudWatch history: what is measured and what is estimated.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HistorySource {
    /// The queue.
    pub queue: String,
    /// Minutes with a NumberOfMessagesSent datapoint.
    pub minutes: usize,
    /// Messages in them.
    pub messages: u64,
    /// The MPD the durations are drawn from, seconds.
    pub mpd_secs: f64,
    /// Where it came from.
    pub mpd_from: &'static str,
    /// The service's own scaling policies (CLUSTER_NAME and SERVICE_NAME set), each with how it is modelled.
    pub current_policies: Vec<String>,
    /// The simulator's models of them, run beside the policies asked for.
    #[serde(skip)]
    pub modelled: Vec<PolicyKind>,
}

/// The service's own policies (when CLUSTER_NAME and SERVICE_NAME name it), described, and those the simulator
/// models: target tracking on ECSServiceAverageCPUUtilization as `cpu:TARGET`.
async fn current_policies(
    clients: &bpi_aws::AwsClients,
) -> Result<(Vec<String>, Vec<PolicyKind>), CliError> {
    use bpi_core::attach::{FoundPolicy, SavedMetric};
    use bpi_core::config::{EnvSource, ProcessEnv};
    let (Some(cluster), Some(service)) = (
        ProcessEnv.var("CLUSTER_NAME"),
        ProcessEnv.var("SERVICE_NAME"),
    ) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let resource_id = format!("service/{cluster}/{service}");
    let state = bpi_aws::attach::scaling_state(
        &clients.autoscaling,
        &clients.cloudwatch,
        &resource_id,
        &[],
    )
    .await
    .context("reading the service's scaling policies")?;
    let mut described = Vec::new();
    let mut modelled = Vec::new();
    for p in &state.policies {
        match p {
            FoundPolicy::TargetTracking(t) => match &t.metric {
                SavedMetric::Predefined { metric_type, .. }
                    if metric_type == "ECSServiceAverageCPUUtilization" =>
                {
                    let kind = PolicyKind::Cpu {
                        target_pct: t.target_value.round().clamp(1.0, 100.0) as u32,
                    };
                    described.push(format!(
                        "{}: target tracking at {} on CPU, modelled as {kind} (a CPU-bound worker assumed)",
                        t.policy_name, t.target_value
                    ));
                    modelled.push(kind);
                }
                _ => described.push(format!(
                    "{}: target tracking on another metric, not modelled",
                    t.policy_name
                )),
            },
            other => described.push(format!(
                "{}: not modelled (compare with cdk for step scaling on queue depth)",
                other.name()
            )),
        }
    }
    Ok((described, modelled))
}

/// The trace of a queue's last `--history-hours` from CloudWatch (`--from-cloudwatch`).
pub async fn history_trace(
    args: &SimulateArgs,
    clients: &bpi_aws::AwsClients,
) -> Result<Option<(Scenario, Vec<Arrival>, HistorySource)>, CliError> {
    use std::time::{Duration, SystemTime};
    let Some(queue) = &args.from_cloudwatch else {
        return Ok(None);
    };
    if !(1..=360).contains(&args.history_hours) {
        return Err(CliError::Usage(format!(
            "--history-hours {} must be 1-360 (CloudWatch keeps one-minute data 15 days)",
            args.history_hours
        )));
    }
    let window = Duration::from_secs(args.history_hours * 3600);
    let end = SystemTime::now();
    let sent = bpi_aws::cloudwatch::read_messages_sent(&clients.cloudwatch, queue, window, end)
        .await
        .context("reading NumberOfMessagesSent")?;
    let Some(first) = sent.first().map(|(t, _)| *t) else {
        return Err(anyhow::anyhow!(
            "no NumberOfMessagesSent for queue {queue} in the last {} hours",
            args.history_hours
        )
        .into());
    };
    let names = bpi_core::config::MetricNames {
        namespace: bpi_core::config::DEFAULT_NAMESPACE.to_string(),
        metric_name: bpi_core::config::DEFAULT_METRIC_NAME.to_string(),
        metric_type: bpi_core::config::DEFAULT_METRIC_TYPE.to_string(),
    };
    let stats =
        bpi_aws::cloudwatch::read_duration_stats(&clients.cloudwatch, &names, queue, window, end)
            .await
            .context("reading MsgProcessingDuration")?;
    let measured = bpi_core::estimate_mpd(&stats, 1).mpd_secs();
    let (mpd_secs, mpd_from) = match measured {
        Some(m) => (m, "MsgProcessingDuration (the workers' metric)"),
        None => {
            let dims = names.dimensions(queue);
            let dims: Vec<(&str, &str)> = dims.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let minutes = bpi_aws::cloudwatch::read_queue_activity(
                &clients.cloudwatch,
                queue,
                bpi_aws::cloudwatch::SamplerMetrics {
                    namespace: &names.namespace,
                    dimensions: &dims,
                },
                window,
                end,
            )
            .await
            .context("reading the queue's activity")?;
            let estimate = bpi_core::estimate_mpd_littles_law(&minutes, 1)
                .mpd_secs()
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "no processing duration for queue {queue}: neither MsgProcessingDuration nor the in-flight count and deletions are in CloudWatch"
                    )
                })?;
            (
                estimate,
                "Little's law (in flight over deletions, an estimate)",
            )
        }
    };
    let minutes: Vec<(u64, u64)> = sent
        .iter()
        .map(|(t, v)| {
            (
                u64::try_from(t - first).unwrap_or(0),
                v.round().max(0.0) as u64,
            )
        })
        .collect();
    let arrivals = bpi_sim::trace::from_minute_counts(
        &minutes,
        DurationDistribution::Exponential {
            mean_secs: mpd_secs,
        },
        args.seed,
    );
    let (current, modelled) = current_policies(clients).await?;
    let source = HistorySource {
        queue: queue.clone(),
        minutes: minutes.len(),
        messages: minutes.iter().map(|(_, n)| n).sum(),
        mpd_secs,
        mpd_from,
        current_policies: current,
        modelled,
    };
    if arrivals.is_empty() {
        return Err(anyhow::anyhow!(
            "queue {queue} received no message in the last {} hours",
            args.history_hours
        )
        .into());
    }
    let (scenario, arrivals) = scenario_of(
        args,
        arrivals,
        queue.clone(),
        format!(
            "the last {} hours of {queue} from CloudWatch (arrivals spread within each minute, durations exponential with the measured mean: estimates)",
            args.history_hours
        ),
    )
    .map_err(CliError::Usage)?;
    Ok(Some((scenario, arrivals, source)))
}

/// The scenario of `arrivals`, named `name`, with the trace settings of `args`.
fn scenario_of(
    args: &SimulateArgs,
    arrivals: Vec<Arrival>,
    name: String,
    from: String,
) -> Result<(Scenario, Vec<Arrival>), String> {
    if !(args.latency.is_finite() && args.latency > 0.0) {
        return Err(format!("--latency {} must be above 0", args.latency));
    }
    if args.concurrency == 0 || args.max_tasks == 0 || args.min_tasks > args.max_tasks {
        return Err("need --concurrency >= 1 and 1 <= --max-tasks >= --min-tasks".to_string());
    }
    let last_ms = arrivals.last().map_or(0, |a| a.at_ms);
    let longest_ms = arrivals.iter().map(|a| a.work_ms).max().unwrap_or(0);
    let duration_secs = (last_ms + longest_ms).div_ceil(1000) + args.latency.ceil() as u64 + 60;
    let mean_secs =
        arrivals.iter().map(|a| a.work_ms).sum::<u64>() as f64 / 1000.0 / arrivals.len() as f64;
    let scenario = Scenario {
        name,
        description: format!("{} messages {from}", arrivals.len()),
        duration_secs: duration_secs.div_ceil(60) * 60,
        arrivals: Arrivals::Replayed {
            messages: arrivals.len(),
        },
        durations: Durations::fixed(DurationDistribution::Constant { secs: mean_secs }),
        latency_secs: args.latency,
        concurrency: args.concurrency,
        min_tasks: args.min_tasks,
        max_tasks: args.max_tasks,
        visibility_timeout_secs: args.visibility_timeout,
        declared_mpd_secs: mean_secs.max(0.001),
        scored_from_secs: 0,
    };
    Ok((scenario, arrivals))
}

/// Runs the command; `history` is the trace `--from-cloudwatch` read (see [`history_trace`]).
pub fn run(
    args: &SimulateArgs,
    history: Option<(Scenario, Vec<Arrival>, HistorySource)>,
) -> Result<(), CliError> {
    if args.parameters {
        print!("{}", bpi_sim::model::parameters_table());
        return Ok(());
    }
    if let Some(parts) = args.suite {
        return run_suite(args, parts);
    }
    let mut policies = policies(&args.policy).map_err(CliError::Usage)?;
    // On your own traffic a fixed fleet is a peer like any other: `all` adds the suite's sizes up to --max-tasks.
    let replayed = history.is_some() || args.trace.is_some() || args.counts.is_some();
    if args.policy == "all" && replayed {
        policies.extend(
            suite::FIXED_FLEETS
                .iter()
                .filter(|&&tasks| tasks <= args.max_tasks)
                .map(|&tasks| PolicyKind::Fixed { tasks }),
        );
    }
    if let Some((_, _, source)) = &history {
        for p in &source.current_policies {
            eprintln!("bpi simulate: the service's own policy {p}");
        }
        for m in &source.modelled {
            if !policies.contains(m) {
                policies.insert(0, *m);
            }
        }
    }
    let settings = SimSettings {
        seed: args.seed,
        model: if args.legacy_model {
            AwsModel::legacy()
        } else {
            AwsModel::default()
        },
        ..SimSettings::default()
    };
    if let Some((_, _, source)) = &history {
        eprintln!(
            "bpi simulate: {} minutes of NumberOfMessagesSent for {} ({} messages); durations exponential with MPD {:.3} s from {}; arrivals spread uniformly within each minute (estimated)",
            source.minutes, source.queue, source.messages, source.mpd_secs, source.mpd_from
        );
    }
    let runs: Vec<(Scenario, Option<Vec<Arrival>>)> = match (&args.trace, &args.counts, history) {
        (_, _, Some((s, a, _))) => vec![(s, Some(a))],
        (_, Some(path), None) => {
            let (s, a) = counts_scenario(args, path).map_err(CliError::Usage)?;
            vec![(s, Some(a))]
        }
        (Some(path), None, None) => {
            let (s, a) = trace_scenario(args, path).map_err(CliError::Usage)?;
            vec![(s, Some(a))]
        }
        (None, None, None) => {
            let chosen: Vec<_> = scenarios()
                .into_iter()
                .filter(|s| args.scenario == "all" || s.name == args.scenario)
                .map(|s| match args.hours {
                    Some(h) => (s.lasting(h * 3600), None),
                    None => (s, None),
                })
                .collect();
            if chosen.is_empty() {
                return Err(CliError::Usage(format!(
                    "unknown scenario '{}'",
                    args.scenario
                )));
            }
            chosen
        }
    };
    for (_, arrivals) in &runs {
        if let Some(a) = arrivals.as_ref().filter(|a| !a.is_empty()) {
            let mpd_secs =
                a.iter().map(|m| m.work_ms as f64).sum::<f64>() / a.len() as f64 / 1000.0;
            eprint!(
                "{}",
                crate::floor_advice::render(
                    &crate::floor_advice::per_minute(a.iter().map(|m| m.at_ms)),
                    mpd_secs,
                    &crate::floor_advice::Deployment {
                        latency_secs: args.latency,
                        concurrency: args.concurrency,
                        max_tasks: args.max_tasks,
                        task_hour_usd: bpi_core::cost::DEFAULT_TASK_HOUR_USD,
                    },
                )
            );
        }
    }
    if args.robust {
        let ensemble = Ensemble {
            behaviours: args.behaviours.max(1),
            seeds: (1..=args.seeds.max(1)).collect(),
            ..Ensemble::default()
        };
        // A trace is the same messages for every seed; the seeds still vary the model's own draws.
        let workloads: Vec<(Scenario, Traffic<'_>)> = runs
            .iter()
            .map(|(s, a)| {
                let traffic = a.as_deref().map_or(Traffic::Generated, Traffic::Trace);
                (s.clone(), traffic)
            })
            .collect();
        let rows = robust::run_on(
            &workloads,
            &policies,
            &ensemble,
            &settings,
            threads(args.threads),
        );
        if args.json {
            return print_json(&rows);
        }
        print!("{}", robust::table(&rows));
        return Ok(());
    }
    let mut reports = Vec::new();
    for (scenario, arrivals) in &runs {
        let arrivals = arrivals
            .clone()
            .unwrap_or_else(|| scenario.arrivals(settings.seed));
        for p in &policies {
            reports.push(simulate_arrivals(scenario, &arrivals, *p, &settings));
        }
    }
    if let Some(path) = &args.csv {
        let mut csv = String::from("scenario,");
        csv.push_str(bpi_sim::report::CSV_HEADER);
        for r in &reports {
            for line in r.timeline.to_csv(&r.policy).lines() {
                csv.push_str(&format!("{},{line}\n", r.scenario));
            }
        }
        std::fs::write(path, csv).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.svg {
        // The oracle and the reactive limit are schedules, with no minute-by-minute timeline to draw.
        let charted: Vec<_> = reports
            .iter()
            .filter(|r| !r.timeline.0.is_empty())
            .cloned()
            .collect();
        std::fs::write(path, bpi_sim::chart::svg(&charted))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.json {
        return print_json(&reports);
    }
    print!("{}", table(&reports));
    Ok(())
}
