//! The scaling policies compared, all driven by the same engine. Each models what its system documents; the model's
//! sources are in the doc comments.

use serde::Serialize;

/// A policy to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyKind {
    /// This project: target tracking on (visible + in flight) / running tasks with the zero-task case, target from
    /// the measured MPD (core's updater logic, hourly, 10% hysteresis), cooldowns 60/120; a second target tracking
    /// policy on utilization (target 90%), the idle policy (empty 3 minutes: minimum at once), scale-from-zero
    /// activation at min 0; workers drain on SIGTERM, extend visibility, and are protected from scale-in while busy.
    Ours,
    /// The AWS blueprint: target tracking on visible / running tasks (no data at 0 tasks), cooldowns 240/240,
    /// target int(60 / newest per-minute mean duration) hourly (fallback 5), latency hard-coded to 60 s; workers
    /// die mid-message on scale-in and have no visibility heartbeat. (Its wrong-service-name bug, which stops
    /// scaling after the first update, is NOT modelled: this is the blueprint at its best.)
    Blueprint,
    /// AWS Copilot Worker Service: a Lambda publishes ceil(visible / max(running, 1)) every minute from live
    /// counts; static target ceil(latency / declared processing time) set at deploy; cooldowns in 120 / out 60.
    Copilot,
    /// CDK QueueProcessingFargateService: step scaling on the Maximum of visible messages over 5 minutes:
    /// >= 500 → +5, >= 100 → +1, 0 → -1; cooldown 300 s.
    Cdk,
    /// KEDA aws-sqs-queue: every 30 s, live (visible + in flight), desired = ceil(total / target) with a static
    /// target = concurrency × latency / declared MPD; scale-down stabilised over 300 s; activation from 0 at once.
    KedaLike,
}

impl PolicyKind {
    /// Every policy.
    pub const ALL: [PolicyKind; 5] = [
        PolicyKind::Ours,
        PolicyKind::Blueprint,
        PolicyKind::Copilot,
        PolicyKind::Cdk,
        PolicyKind::KedaLike,
    ];

    /// The policy's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::Ours => "ours",
            PolicyKind::Blueprint => "blueprint",
            PolicyKind::Copilot => "copilot",
            PolicyKind::Cdk => "cdk",
            PolicyKind::KedaLike => "keda-like",
        }
    }

    /// A policy by its name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Workers drain on SIGTERM and are protected from scale-in while busy (only ours).
    pub fn graceful_workers(self) -> bool {
        self == PolicyKind::Ours
    }

    /// Workers extend a message's visibility while processing it (only ours).
    pub fn heartbeat(self) -> bool {
        self == PolicyKind::Ours
    }
}
