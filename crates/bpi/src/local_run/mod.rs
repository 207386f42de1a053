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
use bpi_core::capacity::ServiceLoad;
use bpi_core::config::{EnvSource, ProcessEnv, ProducerConfig, QueueRef, UpdaterConfig};
use bpi_core::{QueueDepth, backlog_per_task, target_bpi};
use bpi_sim::chart::{Panel, svg_panels};
use bpi_sim::report::TimelinePoint;
use message_producer::{ProduceRequest, Producer};
use target_bpi_updater::Updater;

use crate::status::{NeedView, Watched};
use fleet::{Fleet, LocalApp, WorkerEvent};
use record::Record;
use scaler::{Action, LocalScaler};

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
    /// HTTP mode: your application's command (a JSON array or words), started beside each worker with `APP_PORT`
    /// set to a port of its own; the worker POSTs each message to it (docs/worker.md, "Your own worker").
    #[arg(long, conflicts_with = "exec_command")]
    app: Option<String>,
    /// HTTP mode: the path answering 2xx when the application is ready (default: its port accepting).
    #[arg(long, requires = "app")]
    app_health_path: Option<String>,
    /// Exec mode: the command each worker runs per message, the body on standard input.
    #[arg(long)]
    exec_command: Option<String>,
}

impl LocalRunArgs {
    /// The work the workers do: the demo's, or the user's application.
    fn local_app(&self) -> anyhow::Result<LocalApp> {
        Ok(match (&self.app, &self.exec_command) {
            (Some(app), _) => LocalApp::Http {
                command: bpi_core::config::parse_command("--app", app)?,
                health_path: self.app_health_path.clone(),
            },
            (None, Some(command)) => {
                bpi_core::config::parse_command("--exec-command", command)?;
                LocalApp::Exec {
                    command: command.clone(),
                }
            }
            (None, None) => LocalApp::BuiltIn,
        })
    }
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

/// Why a local run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopReason {
    /// The duration passed and the fleet finished the backlog.
    BacklogFinished,
    /// The duration passed and the drain time ran out with messages left.
    DrainTimeOver,
    /// Ctrl-C in the terminal.
    Interrupted,
    /// SIGTERM.
    Terminated,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopReason::BacklogFinished => "duration reached, backlog finished",
            StopReason::DrainTimeOver => "duration reached, drain time over",
            StopReason::Interrupted => "Ctrl-C",
            StopReason::Terminated => "SIGTERM",
        })
    }
}

/// Runs the local system until the duration ends, Ctrl-C or SIGTERM. Returns the figures.
pub async fn run(
    args: &LocalRunArgs,
    clients: &AwsClients,
    config: &UpdaterConfig,
) -> anyhow::Result<Record> {
    let mut local = LocalRun::start(args, clients, config).await?;
    // Both streams are registered once, before the loop: a signal that arrives while a tick is running (a slow
    // emulator call) waits in its stream for the next select. A `ctrl_c()` future made anew each turn missed it, and
    // Ctrl-C under load then took the whole run to act (295 s on a cold machine).
    use tokio::signal::unix::{SignalKind, signal};
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut second = tokio::time::interval(Duration::from_secs(1));
    let stop_reason = loop {
        tokio::select! {
            _ = second.tick() => {}
            _ = sigint.recv() => break StopReason::Interrupted,
            _ = sigterm.recv() => break StopReason::Terminated,
        }
        if let Some(reason) = local.tick().await? {
            break reason;
        }
    };
    local.finish(stop_reason).await
}

/// Something done every `every` seconds of the run.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    every: u64,
    next: u64,
}

impl Schedule {
    /// First due at `first`, then every `every` seconds.
    fn new(first: u64, every: u64) -> Self {
        Schedule { every, next: first }
    }

    /// Whether it is due at `t` (then the next one is scheduled).
    fn due(&mut self, t: u64) -> bool {
        if t < self.next {
            return false;
        }
        self.next += self.every;
        true
    }
}

/// A local run: what it drives and what it has recorded.
struct LocalRun<'a> {
    args: &'a LocalRunArgs,
    clients: &'a AwsClients,
    config: &'a UpdaterConfig,
    queue: Queue,
    producer: Producer,
    updater: Updater,
    watched: Watched,
    fleet: Fleet,
    events: tokio::sync::mpsc::UnboundedReceiver<WorkerEvent>,
    worker_logs: tokio::sync::mpsc::UnboundedReceiver<String>,
    scaler: LocalScaler,
    record: Record,
    started: Instant,
    period_secs: u64,
    produce: Schedule,
    update: Schedule,
    period: Schedule,
    status: Schedule,
    tty: bool,
    /// The BPI policy's target in force.
    target: f64,
    last_depth: QueueDepth,
    /// None while producing; then the end of the drain.
    drain_until: Option<Instant>,
    /// When the first reading that asked for more tasks than desired was taken.
    unmet_ask_since: Option<f64>,
}

impl<'a> LocalRun<'a> {
    /// Start: resolve the queue and the settings, the updater's first run, workers at the minimum.
    async fn start(
        args: &'a LocalRunArgs,
        clients: &'a AwsClients,
        config: &'a UpdaterConfig,
    ) -> anyhow::Result<Self> {
        let period_secs = positive("period-secs", args.period_secs)?;
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
        let (mut fleet, events, worker_logs) = Fleet::new(
            worker_bin,
            vec![
                ("QUEUE_URL".into(), args.queue_url.clone()),
                (
                    "TASK_CONCURRENCY".into(),
                    config.target.concurrency().to_string(),
                ),
                ("METRICS_INTERVAL_SECS".into(), period_secs.to_string()),
                ("LOG_FORMAT".into(), "json".into()),
                ("RUST_LOG".into(), "info,message=debug".into()),
            ],
            args.local_app()?,
        );
        let scaler = LocalScaler::new(
            config.policy.clone(),
            config.target,
            config.policy.min_capacity,
            period_secs,
        );
        let mut record = Record::default();
        let started = Instant::now();
        let target = first_target(clients, &updater, config, &mut record, started).await?;
        fleet.scale_to(scaler.desired)?;
        Ok(LocalRun {
            args,
            clients,
            config,
            queue,
            producer,
            updater,
            watched,
            fleet,
            events,
            worker_logs,
            scaler,
            record,
            started,
            period_secs,
            produce: Schedule::new(0, produce_every),
            update: Schedule::new(updater_every, updater_every),
            period: Schedule::new(period_secs, period_secs),
            status: Schedule::new(0, args.status_every_secs.max(1)),
            tty: std::io::stdout().is_terminal(),
            target,
            last_depth: QueueDepth::default(),
            drain_until: None,
            unmet_ask_since: None,
        })
    }

    /// One second of the run. Returns why the run ends, when it does.
    async fn tick(&mut self) -> anyhow::Result<Option<StopReason>> {
        if let Some(reason) = self.check_end() {
            return Ok(Some(reason));
        }
        let t = self.started.elapsed().as_secs();
        self.absorb_events();
        if self.drain_until.is_none() && self.produce.due(t) {
            let report = self.producer.produce(&ProduceRequest::default()).await;
            self.record.produced += u64::from(report.sent);
            self.record.produce_failed += u64::from(report.failed);
        }
        if self.update.due(t) {
            match self.updater.run(SystemTime::now(), false).await {
                Ok(d) if d.updated => {
                    self.record
                        .target_changes
                        .push((t, d.old_target, d.new_target))
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(target: "local_run", error = %e, "updater run failed"),
            }
        }
        self.sample(t).await;
        if self.period.due(t) {
            self.close_period(t).await;
        }
        self.fleet.scale_to(self.scaler.desired)?;
        if self.args.status_every_secs > 0 && self.status.due(t) {
            show_status(
                self.clients,
                self.config,
                &self.watched,
                &self.fleet,
                &self.scaler,
                &self.record,
                t,
                self.args.duration_secs,
                self.tty,
            )
            .await;
        }
        Ok(None)
    }

    /// Past the duration: producing stops and the fleet finishes the backlog (up to `--drain-secs`).
    fn check_end(&mut self) -> Option<StopReason> {
        let deadline = self.started + Duration::from_secs(self.args.duration_secs);
        match self.drain_until {
            None if Instant::now() >= deadline => {
                self.drain_until = Some(Instant::now() + Duration::from_secs(self.args.drain_secs));
                eprintln!(
                    "bpi local-run: duration reached: producing stopped; the fleet finishes the backlog (at most {} s)",
                    self.args.drain_secs
                );
                None
            }
            Some(_) if self.last_depth.visible + self.last_depth.in_flight == 0 => {
                Some(StopReason::BacklogFinished)
            }
            Some(until) if Instant::now() >= until => Some(StopReason::DrainTimeOver),
            _ => None,
        }
    }

    /// Takes in the workers' events and passes on their warnings.
    fn absorb_events(&mut self) {
        while let Ok(e) = self.events.try_recv() {
            absorb(e, &mut self.fleet, &mut self.scaler, &mut self.record);
        }
        while let Ok(line) = self.worker_logs.try_recv() {
            if line.contains("\"WARN\"") || line.contains("\"ERROR\"") {
                tracing::info!(target: "local_run", "{line}");
            }
        }
        self.fleet.reap();
    }

    /// The sampler's reading: published as its metrics (so `bpi status` and the dashboard show its health here
    /// too; the emulator runs no Lambda), and the fast path applied to it.
    async fn sample(&mut self, t: u64) {
        let depth = match self.queue.depth().await {
            Ok(depth) => depth,
            Err(e) => {
                tracing::warn!(target: "local_run", error = %e, "reading the queue failed");
                return;
            }
        };
        self.last_depth = depth;
        let values = self.scaler.values(depth, self.fleet.running(), self.target);
        if let Err(e) =
            sampler::publish(self.clients, self.config, &values, SystemTime::now()).await
        {
            tracing::warn!(target: "local_run", error = %e, "publishing the sampler's reading failed");
        }
        // Reaction: from the first reading that asks for more tasks to the change of the desired count.
        let now = self.started.elapsed().as_secs_f64();
        if values.fast_path_capacity == 0 {
            self.unmet_ask_since = None;
        } else {
            self.unmet_ask_since.get_or_insert(now);
        }
        if let Some(action) = self.scaler.sample(now, depth, &values) {
            if action == Action::FastPath
                && let Some(since) = self.unmet_ask_since.take()
            {
                self.record.reactions_secs.push(now - since);
            }
            self.record
                .scaling_actions
                .push((t, action.name(), self.scaler.desired));
        }
        self.record.readings.push(TimelinePoint {
            minute: self.record.readings.len() as u64 + 1,
            visible: depth.visible,
            in_flight: depth.in_flight,
            tasks: self.fleet.alive(),
            desired: self.scaler.desired,
            target: self.target,
            max_wait_secs: self.record.reading_max_wait_secs.take(),
        });
    }

    /// The end of a period (a CloudWatch minute here): the policy's target, target tracking and idle, a timeline
    /// point.
    async fn close_period(&mut self, t: u64) {
        let c = self.config;
        if let Ok(Some(p)) = describe_target_tracking_policy(
            &self.clients.autoscaling,
            &c.policy.resource_id(),
            &c.policy.policy_name,
        )
        .await
        {
            self.target = p.target_value;
        }
        if let Some(action) = self.scaler.close_period(self.target) {
            self.record
                .scaling_actions
                .push((t, action.name(), self.scaler.desired));
        }
        self.record.timeline.push(TimelinePoint {
            minute: self.record.timeline.len() as u64 + 1,
            visible: self.last_depth.visible,
            in_flight: self.last_depth.in_flight,
            tasks: self.fleet.alive(),
            desired: self.scaler.desired,
            target: self.target,
            max_wait_secs: self.record.period_max_wait_secs.take(),
        });
    }

    /// Drain and stop: every worker gets the grace, then the summary, the chart and the record.
    async fn finish(mut self, stop_reason: StopReason) -> anyhow::Result<Record> {
        let args = self.args;
        eprintln!(
            "bpi local-run: stopping ({stop_reason}): workers get {} s to finish what they hold",
            args.stop_grace_secs
        );
        self.fleet
            .stop_all(Duration::from_secs(args.stop_grace_secs))
            .await;
        while let Ok(e) = self.events.try_recv() {
            absorb(e, &mut self.fleet, &mut self.scaler, &mut self.record);
        }
        let mut record = self.record;
        record.exits = self.fleet.exits.clone();
        record.workers_started = self.fleet.started;
        if let Ok(d) = self.queue.depth().await {
            record.left_visible = d.visible;
            record.left_in_flight = d.in_flight;
        }
        if let Ok(n) = self.watched.dead_letters().await {
            record.dead_letters = n;
        }
        let promise = self.config.target.latency_secs();
        print!(
            "{}",
            record.summary(promise, self.started.elapsed().as_secs(), self.period_secs)
        );
        let (_, _, _, within) = record.latency(promise);
        let title = format!(
            "local run: {:.1}% within the {promise} s promise, {} produced, {} processed, {} in the DLQ",
            within * 100.0,
            record.produced,
            record.processed,
            record.dead_letters
        );
        // One point per reading (every second): the backlog between the periods' ends, not only at them.
        let timeline = record.reading_timeline();
        std::fs::write(
            &args.chart,
            svg_panels(&[Panel {
                title: &title,
                timeline: &timeline,
                period_secs: 1.0,
                promise_secs: promise,
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
fn absorb(e: WorkerEvent, fleet: &mut Fleet, scaler: &mut LocalScaler, record: &mut Record) {
    fleet.note(&e);
    match e {
        WorkerEvent::Started { waited_ms, .. } => {
            if let Some(ms) = waited_ms {
                let wait = ms as f64 / 1000.0;
                record.waits_secs.push(wait);
                record.period_max_wait_secs =
                    Some(record.period_max_wait_secs.map_or(wait, |w| w.max(wait)));
                record.reading_max_wait_secs =
                    Some(record.reading_max_wait_secs.map_or(wait, |w| w.max(wait)));
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
    scaler: &LocalScaler,
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
    let body = match crate::status::gather(clients, config, &scaler.capacity, watched).await {
        Ok(mut st) => {
            // The service's tasks are the local workers.
            st.tasks = ServiceCounts {
                running,
                desired: scaler.desired,
                pending: 0,
            };
            st.backlog_per_task = backlog_per_task(st.depth, running, config.policy.counting);
            let target = st
                .target
                .unwrap_or_else(|| f64::from(target_bpi(&config.target, None).value));
            st.need = NeedView::with_mpd(
                &config.policy,
                &scaler.capacity,
                ServiceLoad {
                    visible: st.depth.visible,
                    in_flight: st.depth.in_flight,
                    running,
                    desired: scaler.desired,
                },
                scaler.mpd_secs(target),
            );
            crate::status::render(&st, &config.policy)
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
