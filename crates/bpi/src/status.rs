//! `bpi status`: the live state of a deployed system (real AWS or the emulator) in one view: queue, DLQ and tasks,
//! ecsBPI against the policy's target, the tasks core's capacity model needs against the desired count and which
//! policy acts on the difference, the MPD over the updater's window, whether the policy in force is core's
//! canonical spec (drift), the forecaster's schedule, and the keep-alive's floor against the minimum in force.

use std::time::{Duration, SystemTime};

use anyhow::Context;
use bpi_aws::AwsClients;
use bpi_aws::autoscaling::{describe_target_tracking_policy, policy_names, scalable_target_bounds};
use bpi_aws::cloudwatch::{
    SamplerMetrics, latest_values, read_duration_stats, read_messages_sent, read_queue_activity,
};
use bpi_aws::ecs::{ServiceCounts, service_counts};
use bpi_aws::sqs::Queue;
use bpi_core::capacity::{CapacityModel, NeedReason, NeededCapacity, ServiceLoad};
use bpi_core::config::{
    APP_NOT_READY_METRIC, QUEUE_DIMENSION, QueueRef, SamplerConfig, TYPE_DIMENSION, UpdaterConfig,
};
use bpi_core::deployed::keep_alive_for;
use bpi_core::forecast::{NextAction, ScheduledActionSpec, is_ours, written_schedule};
use bpi_core::keep_alive::{self, KeepAlive};
use bpi_core::policy::{NeedVerdict, PolicySettings, need_verdict, target_tracking_config};
use bpi_core::sampler::{
    BPI_METRIC, FAST_PATH_METRIC, NEEDED_METRIC, RECENT_MPD_MINUTES, fast_path_target,
};
use bpi_core::target::mpd_of_target;
use bpi_core::update::{MpdStatus, UpdateInputs, WhenUnmeasured, plan_update};
use bpi_core::{QueueDepth, backlog_per_task, target_bpi};
use serde::Serialize;

/// Arguments of `bpi status`.
#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// Print JSON (for scripts).
    #[arg(long)]
    json: bool,
    /// Refresh every this many seconds, in place, until Ctrl-C.
    #[arg(long, value_name = "SECS")]
    watch: Option<u64>,
}

/// The state shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// The queue.
    pub queue: String,
    /// Its depth.
    pub depth: QueueDepth,
    /// Its DLQ's name and visible messages, if it has one.
    pub dlq: Option<(String, u64)>,
    /// `service/CLUSTER/SERVICE`.
    pub service: String,
    /// Running, desired and pending tasks.
    pub tasks: ServiceCounts,
    /// ecsBPI now (core's rule, live counts).
    pub backlog_per_task: f64,
    /// What core's capacity model needs of the live counts, and what the policies do about it.
    pub need: NeedView,
    /// The policy's target, if there is a policy.
    pub target: Option<f64>,
    /// Whether the policy differs from core's canonical spec (None: no policy).
    pub drift: Option<bool>,
    /// Companion policies the settings call for that the service lacks (fast path, backstop, utilization, idle):
    /// `bpi scaling apply` creates them.
    pub missing_policies: Vec<String>,
    /// MPD over the window, if enough samples.
    pub mpd_secs: Option<f64>,
    /// Samples in the window.
    pub samples: u64,
    /// The window, seconds.
    pub window_secs: u32,
    /// The target the updater's next run would choose (core's `plan_update`, as the updater runs it).
    pub computed_target: u32,
    /// How it would choose it: measured, kept (too few samples: the target in force stays) or fallback.
    pub mpd_status: MpdStatus,
    /// Whether that run would write the policy.
    pub would_write: bool,
    /// The sampler's newest reading (None: nothing in the last 10 minutes: stopped, or not deployed).
    pub sampler: Option<SamplerHealth>,
    /// The newest report of the workers' application, in HTTP or exec mode (None: none in the last 10 minutes).
    pub app: Option<AppHealth>,
    /// The forecaster's scheduled actions as written on the service, and the next to fire.
    pub schedule: ScheduleView,
    /// The keep-alive's floor from the last day of arrivals, against the minimum in force.
    pub keep_alive: KeepAliveView,
}

/// The keep-alive as the updater's next run would find it (core's `keep_alive_for` on the same reading).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KeepAliveView {
    /// The idle wait, the floor and what they rest on.
    pub keep_alive: KeepAlive,
    /// The minimum it asks for: the configured one raised to the floor.
    pub wanted_minimum: u32,
    /// The scalable target's minimum in force (None: no scalable target registered).
    pub minimum_in_force: Option<u32>,
}

/// The forecaster's schedule as the service holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScheduleView {
    /// Its actions (name, schedule, the minimum each sets).
    pub actions: Vec<ScheduledActionSpec>,
    /// The next one to fire.
    pub next: Option<NextAction>,
    /// Scheduled actions of the user's own on the service (kept, never touched).
    pub others: usize,
}

/// The tasks the live counts need, as the sampler computes them (core's capacity model, the sampler's MPD), against
/// the desired count, and why.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NeedView {
    /// The need and its parts.
    pub needed: NeededCapacity,
    /// The MPD the model sized with, seconds: the target in force's, lowered by the workers' recent MPD when messages
    /// got longer (as the sampler does).
    pub mpd_secs: f64,
    /// Seconds of the promise a task launched now has left to serve the backlog.
    pub new_task_budget_secs: f64,
    /// What the fast policies do about the need against the desired count.
    pub verdict: NeedVerdict,
}

impl NeedView {
    /// The view of `load` under `model`, with `target_in_force` (the policy's, or the default MPD's) and the workers'
    /// `recent` durations.
    pub fn of(
        config: &UpdaterConfig,
        model: &CapacityModel,
        load: ServiceLoad,
        target_in_force: f64,
        recent: &[bpi_core::StatisticSet],
    ) -> Self {
        let target = fast_path_target(target_in_force, recent, &config.target);
        Self::with_mpd(
            &config.policy,
            model,
            load,
            mpd_of_target(&config.target, target),
        )
    }

    /// The view of `load` under `model` when a message takes `mpd_secs`.
    pub fn with_mpd(
        settings: &PolicySettings,
        model: &CapacityModel,
        load: ServiceLoad,
        mpd_secs: f64,
    ) -> Self {
        let needed = model.needed(load, mpd_secs, settings.max_capacity);
        NeedView {
            needed,
            mpd_secs,
            new_task_budget_secs: model.new_task_budget_secs(),
            verdict: need_verdict(settings, needed.tasks, load.desired),
        }
    }
}

/// The newest report of the workers that carry an application (HTTP or exec mode).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AppHealth {
    /// Seconds since the report.
    pub age_secs: u64,
    /// Whether some task's application was not ready then (its worker received nothing meanwhile).
    pub not_ready: bool,
}

/// The sampler's newest published reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SamplerHealth {
    /// Seconds since it was taken.
    pub age_secs: u64,
    /// Its ecsBPI.
    pub bpi: f64,
    /// The capacity its fast path asked for (0: none), if published.
    pub fast_path_capacity: Option<f64>,
    /// The tasks its reading needed (`ecsNeededTasks`, what the fast scale-in reads), if published.
    pub needed: Option<f64>,
}

/// How far back `bpi status` looks for a sampler reading.
const SAMPLER_LOOKBACK: Duration = Duration::from_secs(600);

/// The sampler's newest reading of `config`'s queue.
async fn published_health(
    clients: &AwsClients,
    config: &UpdaterConfig,
    now: SystemTime,
) -> anyhow::Result<(Option<SamplerHealth>, Option<AppHealth>)> {
    let m = &config.metrics;
    let dims = [
        (TYPE_DIMENSION, m.metric_type.as_str()),
        (QUEUE_DIMENSION, config.policy.queue_name.as_str()),
    ];
    let newest = latest_values(
        &clients.cloudwatch,
        &m.namespace,
        &[
            BPI_METRIC,
            FAST_PATH_METRIC,
            APP_NOT_READY_METRIC,
            NEEDED_METRIC,
        ],
        &dims,
        SAMPLER_LOOKBACK,
        now,
    )
    .await?;
    let age = |at: SystemTime| now.duration_since(at).map_or(0, |d| d.as_secs());
    let app = newest.get(2).copied().flatten().map(|(at, v)| AppHealth {
        age_secs: age(at),
        not_ready: v > 0.0,
    });
    let Some((at, bpi)) = newest.first().copied().flatten() else {
        return Ok((None, app));
    };
    let fast_path = newest.get(1).copied().flatten();
    let needed = newest.get(3).copied().flatten();
    Ok((
        Some(SamplerHealth {
            age_secs: age(at),
            bpi,
            fast_path_capacity: fast_path.map(|(_, v)| v),
            needed: needed.map(|(_, v)| v),
        }),
        app,
    ))
}

/// The queue and its DLQ, resolved once: a `--watch` refresh (or the local run's view) then reads depths only.
#[derive(Debug, Clone)]
pub struct Watched {
    queue: Queue,
    dlq: Option<(String, Queue)>,
}

impl Watched {
    /// Resolves the configured queue and the DLQ its redrive policy names.
    pub async fn resolve(clients: &AwsClients, config: &UpdaterConfig) -> anyhow::Result<Self> {
        let name = &config.policy.queue_name;
        let queue = Queue::resolve(clients.sqs.clone(), &QueueRef::Name(name.clone()))
            .await
            .context("queue")?;
        let dlq_name = queue.redrive_policy().await?.and_then(|policy| {
            serde_json::from_str::<serde_json::Value>(&policy)
                .ok()
                .and_then(|v| v["deadLetterTargetArn"].as_str().map(str::to_string))
                .and_then(|arn| arn.rsplit(':').next().map(str::to_string))
        });
        let dlq = match dlq_name {
            Some(name) => {
                let dlq =
                    Queue::resolve(clients.sqs.clone(), &QueueRef::Name(name.clone())).await?;
                Some((name, dlq))
            }
            None => None,
        };
        Ok(Watched { queue, dlq })
    }

    /// Messages in the DLQ now (0 without one).
    pub async fn dead_letters(&self) -> anyhow::Result<u64> {
        Ok(match &self.dlq {
            Some((_, dlq)) => dlq.depth().await?.visible,
            None => 0,
        })
    }
}

/// Reads the state.
pub async fn gather(
    clients: &AwsClients,
    config: &UpdaterConfig,
    model: &CapacityModel,
    watched: &Watched,
) -> anyhow::Result<Status> {
    let s = &config.policy;
    let depth = watched.queue.depth().await?;
    let dlq = match &watched.dlq {
        Some((name, dlq)) => Some((name.clone(), dlq.depth().await?.visible)),
        None => None,
    };
    let tasks = service_counts(&clients.ecs, &s.cluster_name, &s.service_name)
        .await
        .context("service")?;
    let current =
        describe_target_tracking_policy(&clients.autoscaling, &s.resource_id(), &s.policy_name)
            .await?;
    let present = policy_names(&clients.autoscaling, &s.resource_id()).await?;
    let mut wanted = vec![s.fast_path_policy_name(), s.backstop_policy_name()];
    if s.utilization.is_some() {
        wanted.push(s.utilization_policy_name());
    }
    if s.idle_minutes > 0 {
        wanted.push(s.idle_policy_name());
    }
    if s.scale_in_window_minutes > 0 {
        wanted.push(s.scale_in_policy_name());
    }
    let missing_policies: Vec<String> = wanted
        .into_iter()
        .filter(|name| !present.contains(name))
        .collect();
    let window = Duration::from_secs(u64::from(config.mpd_window_secs));
    let periods = read_duration_stats(
        &clients.cloudwatch,
        &config.metrics,
        &s.queue_name,
        window,
        SystemTime::now(),
    )
    .await?;
    let sampler_dims = [
        (TYPE_DIMENSION, config.metrics.metric_type.as_str()),
        (QUEUE_DIMENSION, s.queue_name.as_str()),
    ];
    let sampler_metrics = SamplerMetrics {
        namespace: &config.metrics.namespace,
        dimensions: &sampler_dims,
    };
    let activity = read_queue_activity(
        &clients.cloudwatch,
        &s.queue_name,
        sampler_metrics,
        window,
        SystemTime::now(),
    )
    .await?;
    let plan = plan_update(
        &periods,
        &activity,
        current.as_ref(),
        &UpdateInputs {
            target: &config.target,
            policy: s,
            min_samples: config.mpd_min_samples,
            hysteresis: config.hysteresis,
            when_unmeasured: WhenUnmeasured::KeepTarget,
        },
    );
    let estimate = plan.estimate;
    let recent = read_duration_stats(
        &clients.cloudwatch,
        &config.metrics,
        &s.queue_name,
        Duration::from_secs(u64::from(RECENT_MPD_MINUTES) * 60),
        SystemTime::now(),
    )
    .await?;
    let target_in_force = current.as_ref().map_or_else(
        || f64::from(target_bpi(&config.target, None).value),
        |p| p.target_value,
    );
    let need = NeedView::of(
        config,
        model,
        ServiceLoad {
            visible: depth.visible,
            in_flight: depth.in_flight,
            running: tasks.running,
            desired: tasks.desired,
        },
        target_in_force,
        &recent,
    );
    let (sampler, app) = published_health(clients, config, SystemTime::now()).await?;
    let existing = bpi_aws::scheduled::scheduled_actions(&clients.autoscaling, &s.resource_id())
        .await
        .context("scheduled actions")?;
    let now_minute = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 60);
    let (actions, next) = written_schedule(&existing, now_minute);
    let schedule = ScheduleView {
        actions,
        next,
        others: existing.iter().filter(|a| !is_ours(&a.name)).count(),
    };
    let sent = read_messages_sent(
        &clients.cloudwatch,
        &s.queue_name,
        Duration::from_secs(keep_alive::HISTORY_MINUTES as u64 * 60),
        SystemTime::now(),
    )
    .await
    .context("reading NumberOfMessagesSent")?;
    let now_secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let keep = keep_alive_for(config, &sent, now_secs, target_in_force);
    let keep_alive = KeepAliveView {
        keep_alive: keep,
        wanted_minimum: keep.minimum(s.min_capacity),
        minimum_in_force: scalable_target_bounds(&clients.autoscaling, &s.resource_id())
            .await?
            .map(|(min, _)| u32::try_from(min).unwrap_or(0)),
    };
    Ok(Status {
        queue: s.queue_name.clone(),
        depth,
        dlq,
        service: s.resource_id(),
        tasks,
        backlog_per_task: backlog_per_task(depth, tasks.running, s.counting),
        need,
        target: current.as_ref().map(|p| p.target_value),
        drift: current
            .as_ref()
            .map(|p| !p.same_except_target(&target_tracking_config(s, p.target_value))),
        missing_policies,
        mpd_secs: estimate.mpd_secs(),
        samples: estimate.samples(),
        window_secs: config.mpd_window_secs,
        computed_target: plan.target as u32,
        mpd_status: plan.status,
        would_write: plan.decision.write,
        sampler,
        app,
        schedule,
        keep_alive,
    })
}

/// The keep-alive's line: the floor and why, against the minimum in force.
fn render_keep_alive(k: &KeepAliveView) -> String {
    let ka = &k.keep_alive;
    let why = if ka.active {
        let headroom = if ka.headroom_tasks > 1 {
            format!(
                ", {} for the {:.0} messages of a task start at the history's high quantile",
                ka.headroom_tasks, ka.start_window_messages
            )
        } else {
            String::new()
        };
        format!(
            "floor {} task(s): a message was sent within the idle wait of {} min{headroom}",
            ka.floor_tasks, ka.idle_minutes
        )
    } else {
        format!(
            "no floor: nothing sent in the idle wait of {} min",
            ka.idle_minutes
        )
    };
    let minimum = match k.minimum_in_force {
        Some(m) if m == k.wanted_minimum => format!("minimum {m} in force"),
        Some(m) => format!(
            "minimum {m} in force, {} wanted (the keep-alive's next run moves it unless a scheduled action holds it)",
            k.wanted_minimum
        ),
        None => "no scalable target registered".to_string(),
    };
    format!(
        "{why} (the wait from the last day's gaps: {:.1}% of messages would have waited for a start); {minimum}",
        ka.missed_share * 100.0
    )
}

/// The need against the desired count, its deciding part and the policy that acts.
fn render_need(st: &Status, settings: &PolicySettings) -> String {
    let n = &st.need;
    let why = match n.needed.reason {
        NeedReason::Empty => "nothing waits or runs".to_string(),
        NeedReason::Busy => format!(
            "busy: {} in flight at the target utilization need {:.1}",
            st.depth.in_flight, n.needed.busy_tasks
        ),
        NeedReason::Backlog => format!(
            "backlog: {} messages served within the promise (a new task has {:.0} s of it) need {}",
            st.depth.visible + st.depth.in_flight,
            n.new_task_budget_secs,
            n.needed.backlog_tasks
        ),
        NeedReason::Maximum => "capped at the maximum".to_string(),
    };
    format!(
        "needs {} of {} desired ({why}; MPD {:.2} s): {}",
        n.needed.tasks,
        st.tasks.desired,
        n.mpd_secs,
        n.verdict.describe(settings)
    )
}

/// The state as text, `settings` naming the policies' windows.
pub fn render(st: &Status, settings: &PolicySettings) -> String {
    let target = st
        .target
        .map_or_else(|| "no policy".to_string(), |t| format!("{t}"));
    let drift = match st.drift {
        Some(true) => "DRIFTED from the canonical spec (the updater repairs it on its next run)",
        Some(false) => "matches the canonical spec",
        None => "missing (the updater creates it on its next run)",
    };
    let companions = if st.missing_policies.is_empty() {
        String::new()
    } else {
        format!(
            "; MISSING {} (bpi scaling apply creates them)",
            st.missing_policies.join(", ")
        )
    };
    let mpd = match (st.mpd_secs, st.mpd_status) {
        (Some(m), MpdStatus::LittlesLaw) => format!(
            "{m:.2} s ESTIMATED by Little's law (no MsgProcessingDuration data; SQS's in-flight count over {} deletions)",
            st.samples
        ),
        (Some(m), _) => format!("{m:.2} s over {} samples", st.samples),
        (None, _) => format!("unknown ({} samples)", st.samples),
    };
    let sampler = match &st.sampler {
        Some(h) => format!(
            "last reading {} s ago: ecsBPI {:.2}, fast path asks {}, needed {}",
            h.age_secs,
            h.bpi,
            h.fast_path_capacity
                .map_or_else(|| "nothing published".to_string(), |c| format!("{c}")),
            h.needed
                .map_or_else(|| "not published".to_string(), |c| format!("{c}"))
        ),
        None => "NO READING in the last 10 minutes (stopped, or not deployed)".to_string(),
    };
    let app = match st.app {
        Some(AppHealth {
            age_secs,
            not_ready: true,
        }) => format!(
            "app        NOT READY on a task {age_secs} s ago: its worker receives nothing until the application passes its readiness check\n"
        ),
        Some(AppHealth { age_secs, .. }) => {
            format!("app        ready on every task reporting ({age_secs} s ago)\n")
        }
        // The demo's work, or workers whose application has been ready and idle: nothing to say.
        None => String::new(),
    };
    let need = render_need(st, settings);
    let schedule = match &st.schedule.next {
        Some(next) => format!(
            "{} actions of the forecaster; next: {} at {} sets the minimum to {}",
            st.schedule.actions.len(),
            next.name,
            next.at,
            next.min_capacity
        ),
        None => {
            "no recurring burst learned (the updater writes actions once one recurs)".to_string()
        }
    };
    let schedule = if st.schedule.others > 0 {
        format!(
            "{schedule}; {} of the service's own, kept",
            st.schedule.others
        )
    } else {
        schedule
    };
    let dlq = st.dlq.as_ref().map_or_else(
        || "none (no redrive policy!)".to_string(),
        |(n, v)| format!("{v} in {n}"),
    );
    format!(
        "queue      {}: {} visible, {} in flight; DLQ: {dlq}\n\
         service    {}: {} running, {} desired, {} pending\n\
         ecsBPI     {:.2} (target {target})\n\
         capacity   {need}\n\
         policy     {drift}{companions}\n\
         MPD        {mpd} in the last {} s -> {} target {}{}\n\
         sampler    {sampler}\n\
         schedule   {schedule}\n\
         keep-alive {}\n{app}",
        st.queue,
        st.depth.visible,
        st.depth.in_flight,
        st.service,
        st.tasks.running,
        st.tasks.desired,
        st.tasks.pending,
        st.backlog_per_task,
        st.window_secs,
        st.mpd_status.as_str(),
        st.computed_target,
        if st.would_write {
            " (the next update writes it)"
        } else {
            ""
        },
        render_keep_alive(&st.keep_alive),
    )
}

/// Runs the command once, or every `--watch` seconds.
pub async fn run(
    args: &StatusArgs,
    clients: &AwsClients,
    config: &SamplerConfig,
) -> anyhow::Result<()> {
    let model = config.capacity_model();
    let config = &config.scaling;
    let watched = Watched::resolve(clients, config).await?;
    loop {
        let st = gather(clients, config, &model, &watched).await?;
        if args.json {
            println!("{}", serde_json::to_string(&st)?);
        } else {
            if args.watch.is_some() {
                // Clear the screen and go home: refresh in place.
                print!("\x1b[2J\x1b[H");
            }
            print!("{}", render(&st, &config.policy));
        }
        match args.watch {
            Some(secs) => tokio::time::sleep(Duration::from_secs(secs.max(1))).await,
            None => return Ok(()),
        }
    }
}
