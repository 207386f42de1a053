//! `bpi local-run`: the whole system on one machine against a deployed stack on the local emulator.
//!
//! The producer runs on an accelerated schedule and the updater on its cadence (both the Lambdas' own code, called
//! in-process: the emulator stores Lambdas but never runs them); real queue-processor processes do the work; a
//! local scaler stands in for Application Auto Scaling: it reads the live queue and the policy the updater wrote,
//! builds datapoints on an accelerated period, applies the simulator's target-tracking model and starts workers or
//! stops idle ones with SIGTERM. A live status view refreshes while it runs. When the duration is over it stops
//! producing and lets the fleet finish the backlog (at most `--drain-secs`); on Ctrl-C or SIGTERM it stops at
//! once. Either way it stops every worker (SIGTERM, SIGKILL after the grace), prints a summary and writes a chart.
//!
//! Lifecycle: start (resolve queue, first updater run, workers at the minimum), run (tick every second), drain
//! (stop workers), stop (summary, chart).

mod fleet;
mod record;
mod scaler;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use bpi_aws::AwsClients;
use bpi_aws::autoscaling::describe_target_tracking_policy;
use bpi_aws::ecs::ServiceCounts;
use bpi_aws::sqs::Queue;
use bpi_core::config::{EnvSource, ProcessEnv, ProducerConfig, QueueRef, UpdaterConfig};
use bpi_core::sampler::{Reading, sampled_values};
use bpi_core::{QueueDepth, backlog_per_task};
use bpi_sim::chart::{Panel, svg_panels};
use bpi_sim::report::TimelinePoint;
use message_producer::{ProduceRequest, Producer};
use target_bpi_updater::Updater;

use crate::status::Watched;
use fleet::{Fleet, WorkerEvent};
use record::Record;
use scaler::{Action, Scaler};

/// Options of `bpi local-run`.
#[derive(clap::Args, Debug)]
pub struct LocalRunArgs {
    /// URL of the deployed queue (the stack's `Queue` resource).
    #[arg(long)]
    queue_url: String,
    /// The queue-processor binary (default: the one next to this `bpi`).
    #[arg(long)]
    worker_bin: Option<PathBuf>,
    /// How long to run, seconds.
    #[arg(long, default_value_t = 300)]
    duration_secs: u64,
    /// Seconds that stand for one CloudWatch minute: datapoints, cooldowns and idle minutes keep their counts.
    #[arg(long, default_value_t = 10)]
    period_secs: u64,
    /// The producer's schedule: one invocation every this many seconds (EventBridge's is 60).
    #[arg(long, default_value_t = 10)]
    produce_every_secs: u64,
    /// The updater's cadence, seconds.
    #[arg(long, default_value_t = 60)]
    updater_every_secs: u64,
    /// Refresh of the live status, seconds (0: none).
    #[arg(long, default_value_t = 5)]
    status_every_secs: u64,
    /// After the duration: seconds the fleet may take to finish the backlog before it is stopped (0: stop at once).
    #[arg(long, default_value_t = 120)]
    drain_secs: u64,
    /// Seconds the workers get to drain at the end before SIGKILL.
    #[arg(long, default_value_t = 30)]
    stop_grace_secs: u64,
    /// Where the chart (SVG) is written.
    #[arg(long, default_value = "local-run.svg")]
    chart: PathBuf,
    /// Also write the figures as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// The process environment with the queue given on the command line.
struct ProcessEnvWithQueue<'a>(&'a str);

impl EnvSource for ProcessEnvWithQueue<'_> {
    fn var(&self, name: &str) -> Option<String> {
        if name == "QUEUE_URL" {
            Some(self.0.to_string())
        } else {
            ProcessEnv.var(name)
        }
    }
}

fn positive(name: &str, v: u64) -> anyhow::Result<u64> {
    anyhow::ensure!(v > 0, "--{name} must be at least 1");
    Ok(v)
}

/// Runs the local system until the duration ends, Ctrl-C or SIGTERM. Returns the figures.
pub async fn run(
    args: &LocalRunArgs,
    clients: &AwsClients,
    config: &UpdaterConfig,
) -> anyhow::Result<Record> {
    let period = positive("period-secs", args.period_secs)?;
    let produce_every = positive("produce-every-secs", args.produce_every_secs)?;
    let updater_every = positive("updater-every-secs", args.updater_every_secs)?;
    let queue_ref = QueueRef::Url(args.queue_url.clone());
    let queue = Queue::resolve(clients.sqs.clone(), &queue_ref)
        .await
        .context("resolving the queue (is the stack deployed on this endpoint?)")?;
    // The producer's own variables (MESSAGE_COUNT, DURATION_DISTRIBUTION, ...), as its Lambda reads them.
    let producer_config = ProducerConfig::from_env(&ProcessEnvWithQueue(&args.queue_url))
        .map_err(anyhow::Error::from)
        .context("producer settings")?;
    let producer = Producer::new(queue.clone(), producer_config);
    let watched = Watched::resolve(clients, config).await?;
    let updater = Updater::new(clients.clone(), config.clone());
    let worker_bin = match &args.worker_bin {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("queue-processor"),
    };
    anyhow::ensure!(
        worker_bin.exists(),
        "no worker binary at {} (build it: cargo build --release -p queue-processor, or give --worker-bin)",
        worker_bin.display()
    );
    let concurrency = config.target.concurrency();
    let (mut fleet, mut events, mut worker_logs) = Fleet::new(
        worker_bin,
        vec![
            ("QUEUE_URL".into(), args.queue_url.clone()),
            ("TASK_CONCURRENCY".into(), concurrency.to_string()),
            ("METRICS_INTERVAL_SECS".into(), period.to_string()),
            ("LOG_FORMAT".into(), "json".into()),
            ("RUST_LOG".into(), "info,message=debug".into()),
        ],
    );
    let mut scaler = Scaler::new(
        config.policy.clone(),
        config.target,
        period as f64,
        config.policy.min_capacity,
    );
    let mut record = Record::default();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.duration_secs);
    let mut target = first_target(clients, &updater, config, &mut record, started).await?;
    fleet.scale_to(scaler.desired)?;

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let (mut next_produce, mut next_update, mut next_period, mut next_status) =
        (0u64, updater_every, period, 0u64);
    let tty = std::io::stdout().is_terminal();
    let mut last_depth = QueueDepth::default();
    let stop_reason;
    let mut producing = true;
    let mut drain_until = deadline;
    let mut unmet_ask_since: Option<f64> = None;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tokio::signal::ctrl_c() => { stop_reason = "Ctrl-C"; break; }
            _ = sigterm.recv() => { stop_reason = "SIGTERM"; break; }
        }
        if producing && Instant::now() >= deadline {
            // The duration is over: no more messages; the fleet finishes the backlog (up to --drain-secs).
            producing = false;
            drain_until = Instant::now() + Duration::from_secs(args.drain_secs);
            eprintln!(
                "bpi local-run: duration reached: producing stopped; the fleet finishes the backlog (at most {} s)",
                args.drain_secs
            );
        }
        if !producing {
            if last_depth.visible + last_depth.in_flight == 0 {
                stop_reason = "duration reached, backlog finished";
                break;
            }
            if Instant::now() >= drain_until {
                stop_reason = "duration reached, drain time over";
                break;
            }
        }
        let t = started.elapsed().as_secs();
        while let Ok(e) = events.try_recv() {
            absorb(e, &mut fleet, &mut scaler, &mut record);
        }
        while let Ok(line) = worker_logs.try_recv() {
            if line.contains("\"WARN\"") || line.contains("\"ERROR\"") {
                tracing::info!(target: "local_run", "{line}");
            }
        }
        fleet.reap();
        if producing && t >= next_produce {
            next_produce += produce_every;
            let report = producer.produce(&ProduceRequest::default()).await;
            record.produced += u64::from(report.sent);
            record.produce_failed += u64::from(report.failed);
        }
        if t >= next_update {
            next_update += updater_every;
            match updater.run(SystemTime::now(), false).await {
                Ok(d) if d.updated => record.target_changes.push((t, d.old_target, d.new_target)),
                Ok(_) => {}
                Err(e) => tracing::warn!(target: "local_run", error = %e, "updater run failed"),
            }
        }
        match queue.depth().await {
            Ok(depth) => {
                last_depth = depth;
                // The reading as the sampler Lambda publishes it (core's values, high resolution), so `bpi status`
                // and the dashboard show the sampler's health here too; the emulator runs no Lambda.
                let values = sampled_values(
                    Reading {
                        depth,
                        running: fleet.running(),
                        desired: scaler.desired,
                    },
                    config.policy.counting,
                    scaler.fast_path_target(target),
                    config.policy.max_capacity,
                );
                if let Err(e) = sampler::publish(clients, config, &values, SystemTime::now()).await
                {
                    tracing::warn!(target: "local_run", error = %e, "publishing the sampler's reading failed");
                }
                // Reaction: from the first reading that asks for more tasks to the change of the desired count.
                if values.fast_path_capacity == 0 {
                    unmet_ask_since = None;
                } else {
                    unmet_ask_since.get_or_insert(started.elapsed().as_secs_f64());
                }
                if let Some(action) = scaler.sample(depth, fleet.running(), target) {
                    if action == Action::FastPath
                        && let Some(since) = unmet_ask_since.take()
                    {
                        record
                            .reactions_secs
                            .push(started.elapsed().as_secs_f64() - since);
                    }
                    record
                        .scaling_actions
                        .push((t, action.name(), scaler.desired));
                }
            }
            Err(e) => tracing::warn!(target: "local_run", error = %e, "reading the queue failed"),
        }
        if t >= next_period {
            next_period += period;
            if let Ok(Some(p)) = describe_target_tracking_policy(
                &clients.autoscaling,
                &config.policy.resource_id(),
                &config.policy.policy_name,
            )
            .await
            {
                target = p.target_value;
            }
            if let Some(action) = scaler.close_period(target) {
                record
                    .scaling_actions
                    .push((t, action.name(), scaler.desired));
            }
            record.timeline.push(TimelinePoint {
                minute: record.timeline.len() as u64 + 1,
                visible: last_depth.visible,
                in_flight: last_depth.in_flight,
                tasks: fleet.alive(),
                desired: scaler.desired,
                target,
                max_wait_secs: record.period_max_wait_secs.take(),
            });
        }
        fleet.scale_to(scaler.desired)?;
        if args.status_every_secs > 0 && t >= next_status {
            next_status += args.status_every_secs;
            show_status(
                clients,
                config,
                &watched,
                &fleet,
                &scaler,
                &record,
                t,
                args.duration_secs,
                tty,
            )
            .await;
        }
    }

    // Drain and stop.
    eprintln!(
        "bpi local-run: stopping ({stop_reason}): workers get {} s to finish what they hold",
        args.stop_grace_secs
    );
    fleet
        .stop_all(Duration::from_secs(args.stop_grace_secs))
        .await;
    while let Ok(e) = events.try_recv() {
        absorb(e, &mut fleet, &mut scaler, &mut record);
    }
    record.exits = fleet.exits.clone();
    record.workers_started = fleet.started;
    if let Ok(d) = queue.depth().await {
        record.left_visible = d.visible;
        record.left_in_flight = d.in_flight;
    }
    if let Ok(n) = watched.dead_letters().await {
        record.dead_letters = n;
    }
    let promise = config.target.latency_secs();
    print!(
        "{}",
        record.summary(promise, started.elapsed().as_secs(), period)
    );
    let (_, _, _, within) = record.latency(promise);
    let title = format!(
        "local run: {:.1}% within the {promise} s promise, {} produced, {} processed, {} in the DLQ",
        within * 100.0,
        record.produced,
        record.processed,
        record.dead_letters
    );
    let timeline = record.timeline();
    std::fs::write(
        &args.chart,
        svg_panels(&[Panel {
            title: &title,
            timeline: &timeline,
            period_secs: period as f64,
            promise_secs: config.target.latency_secs(),
        }]),
    )
    .with_context(|| format!("writing {}", args.chart.display()))?;
    println!("chart      {}", args.chart.display());
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&record)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(record)
}

/// The target in force at the start: the updater's first run (as its schedule would do), else the written policy.
async fn first_target(
    clients: &AwsClients,
    updater: &Updater,
    config: &UpdaterConfig,
    record: &mut Record,
    started: Instant,
) -> anyhow::Result<f64> {
    let d = updater
        .run(SystemTime::now(), false)
        .await
        .context("the updater's first run")?;
    if d.updated {
        record
            .target_changes
            .push((started.elapsed().as_secs(), d.old_target, d.new_target));
    }
    let written = describe_target_tracking_policy(
        &clients.autoscaling,
        &config.policy.resource_id(),
        &config.policy.policy_name,
    )
    .await?;
    Ok(written.map_or(d.new_target, |p| p.target_value))
}

/// Takes in what a worker's log said: the messages it holds, the wait before a start, the busy time.
fn absorb(e: WorkerEvent, fleet: &mut Fleet, scaler: &mut Scaler, record: &mut Record) {
    fleet.note(&e);
    match e {
        WorkerEvent::Started { waited_ms, .. } => {
            if let Some(ms) = waited_ms {
                let wait = ms as f64 / 1000.0;
                record.waits_secs.push(wait);
                record.period_max_wait_secs =
                    Some(record.period_max_wait_secs.map_or(wait, |w| w.max(wait)));
            }
        }
        WorkerEvent::Processed { duration_secs, .. } => {
            record.processed += 1;
            scaler.processed(duration_secs);
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn show_status(
    clients: &AwsClients,
    config: &UpdaterConfig,
    watched: &Watched,
    fleet: &Fleet,
    scaler: &Scaler,
    record: &Record,
    t: u64,
    duration: u64,
    tty: bool,
) {
    let running = fleet.running();
    let head = format!(
        "bpi local-run: {t} s of {duration} s (Ctrl-C stops); produced {}, processed {}, workers {running} running / {} desired\n",
        record.produced, record.processed, scaler.desired
    );
    let body = match crate::status::gather(clients, config, watched).await {
        Ok(mut st) => {
            // The service's tasks are the local workers.
            st.tasks = ServiceCounts {
                running,
                desired: scaler.desired,
                pending: 0,
            };
            st.backlog_per_task = backlog_per_task(st.depth, running, config.policy.counting);
            crate::status::render(&st)
        }
        Err(e) => format!("status unavailable: {e:#}\n"),
    };
    if tty {
        print!("\x1b[2J\x1b[H");
    }
    print!("{head}{body}");
    if !tty {
        println!();
    }
}
