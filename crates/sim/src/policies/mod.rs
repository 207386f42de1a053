//! The scaling policies compared, one type each behind [`Controller`]: how each reads the metrics it has and what
//! it decides. The engine drives any [`Controller`], giving it a [`Ctx`] every 5 seconds; which policy has which
//! controller is [`PolicyKind::controller`]'s alone.
//!
//! Each models what its system documents (sources in each module); where the model is generous to a peer, the
//! module says so.

use std::fmt;

use serde::Serialize;

use crate::autoscaling::{self, Decision, ScalableTarget, Tracker};
use crate::metrics::{Live, MetricStore};
use crate::model::AwsModel;
use crate::scenario::Scenario;
use crate::schedule::ScheduledActions;

pub mod blueprint;
pub mod cdk;
pub mod copilot;
pub mod cpu;
pub mod keda;
pub mod ours;
pub mod ours_on_sqs_metrics;
pub mod updater;

/// What a controller sees and acts on at one tick.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// Virtual time, ms.
    pub now_ms: u64,
    /// The live state (what an API call would return now).
    pub live: Live,
    /// CloudWatch.
    pub metrics: &'a MetricStore,
    /// The scalable target.
    pub scaler: &'a mut ScalableTarget,
    /// The workload and deployment.
    pub scenario: &'a Scenario,
    /// The AWS behaviours assumed.
    pub model: &'a AwsModel,
    /// The updater's cadence, ms.
    pub updater_every_ms: u64,
    /// When the sampler stops publishing, ms (None: it never does).
    pub sampler_fails_at_ms: Option<u64>,
    /// The scalable target's scheduled actions.
    pub schedule: &'a mut ScheduledActions,
}

impl Ctx<'_> {
    /// Whether this tick starts a minute (alarms evaluate then).
    pub fn minute_boundary(&self) -> bool {
        self.now_ms > 0 && self.now_ms.is_multiple_of(crate::metrics::MINUTE_MS)
    }

    /// Target tracking now: the decision of `trackers` (from the capacity the cooldown rule says), applied with
    /// the policies' cooldowns.
    pub fn target_tracking(
        &mut self,
        trackers: &[Tracker<'_>],
        out_cooldown_secs: u64,
        in_cooldown_secs: u64,
    ) {
        let now = self.now_ms;
        let basis = self.scaler.basis(now, out_cooldown_secs);
        let step = self.model.scale_in_step_pct;
        let decision = match autoscaling::decide_with(trackers, basis, step) {
            // The capacity a scale-out added during its cooldown counts for the next scale-out only (API
            // reference): where a scale-in can happen meanwhile, it computes from the desired count.
            Decision::In(_) if !self.scaler.scale_out_holds_scale_in() => {
                autoscaling::decide_with(trackers, self.scaler.desired(), step)
            }
            d => d,
        };
        match decision {
            Decision::Out(n) => {
                self.scaler.scale_out(now, n, out_cooldown_secs);
            }
            Decision::In(n) => {
                self.scaler
                    .scale_in(now, n, in_cooldown_secs, out_cooldown_secs);
            }
            Decision::Hold => {}
        }
    }
}

/// One policy's reading of the metrics and its decisions.
pub trait Controller: std::fmt::Debug {
    /// Called every 5 s of virtual time.
    fn tick(&mut self, ctx: &mut Ctx<'_>);
    /// The target in force (0 where the policy has none), for the timeline.
    fn target(&self) -> f64 {
        0.0
    }
    /// How often the policy changed its target.
    fn target_changes(&self) -> u32 {
        0
    }
}

/// A controller that never scales: a fixed fleet.
#[derive(Debug)]
struct Fixed;

impl Controller for Fixed {
    fn tick(&mut self, _ctx: &mut Ctx<'_>) {}
}

/// KEDA's default queueLength.
pub const KEDA_DEFAULT_QUEUE_LENGTH: u32 = 5;

/// A policy to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyKind {
    /// This project: the sampler's 10-second readings, the fast path ([`ours`]).
    Ours,
    /// This project at its "latency first" settings ([`ours::SamplerDesign::latency_first`]): a longer assumed
    /// task start, a longer scale-in window and idle wait, for more task-hours.
    OursLatencyFirst,
    /// This project without its forecaster ([`ours::SamplerDesign::reactive_only`]): the reactive path alone,
    /// what the forecaster is judged against.
    OursWithoutForecast,
    /// This project's pre-sampler policy on CloudWatch's SQS metrics ([`ours_on_sqs_metrics`]), for comparison.
    OursOnSqsMetrics,
    /// The AWS blueprint ([`blueprint`]).
    Blueprint,
    /// AWS Copilot Worker Service ([`copilot`]).
    Copilot,
    /// CDK QueueProcessingFargateService ([`cdk`]).
    Cdk,
    /// KEDA aws-sqs-queue with the HPA ([`keda`]), at a given queueLength (5 by default).
    Keda {
        /// Messages per replica.
        queue_length: u32,
    },
    /// KEDA at the queueLength that serves the scenario best ([`crate::run::tune_keda`]).
    KedaTuned,
    /// Target tracking on the service's average CPU at `target_pct` ([`cpu`]): a service's own policy before it
    /// attaches, on the assumption of a CPU-bound worker.
    Cpu {
        /// Target, percent.
        target_pct: u32,
    },
    /// A fixed fleet: min = max = `tasks`, no scaling.
    Fixed {
        /// Tasks.
        tasks: u32,
    },
    /// The physical limit: knows every arrival in advance ([`crate::oracle`]).
    Oracle,
    /// The oracle without foresight: tasks launched as the work arrives ([`crate::oracle::Foresight::LearnsOnArrival`]).
    ReactiveLimit,
}

impl PolicyKind {
    /// The policies the comparison shows, the oracle and the reactive limit last.
    pub const ALL: [PolicyKind; 9] = [
        PolicyKind::Ours,
        PolicyKind::OursOnSqsMetrics,
        PolicyKind::Blueprint,
        PolicyKind::Copilot,
        PolicyKind::Cdk,
        PolicyKind::Keda {
            queue_length: KEDA_DEFAULT_QUEUE_LENGTH,
        },
        PolicyKind::KedaTuned,
        PolicyKind::Oracle,
        PolicyKind::ReactiveLimit,
    ];

    /// The policy's name on the command line.
    pub fn name(self) -> String {
        match self {
            PolicyKind::Ours => "ours".into(),
            PolicyKind::OursLatencyFirst => "ours-latency-first".into(),
            PolicyKind::OursWithoutForecast => "ours-no-forecast".into(),
            PolicyKind::OursOnSqsMetrics => "ours-sqs-metrics".into(),
            PolicyKind::Blueprint => "blueprint".into(),
            PolicyKind::Copilot => "copilot".into(),
            PolicyKind::Cdk => "cdk".into(),
            PolicyKind::Keda {
                queue_length: KEDA_DEFAULT_QUEUE_LENGTH,
            } => "keda".into(),
            PolicyKind::Keda { queue_length } => format!("keda:{queue_length}"),
            PolicyKind::KedaTuned => "keda-tuned".into(),
            PolicyKind::Fixed { tasks } => format!("fixed:{tasks}"),
            PolicyKind::Cpu { target_pct } => format!("cpu:{target_pct}"),
            PolicyKind::Oracle => "oracle".into(),
            PolicyKind::ReactiveLimit => "reactive-limit".into(),
        }
    }

    /// A policy by its name: `ours`, `blueprint`, `copilot`, `cdk`, `keda`, `keda:N` (queueLength N),
    /// `keda-tuned`, `fixed:N` (N tasks), `oracle`.
    pub fn from_name(name: &str) -> Option<Self> {
        let number = |rest: &str| rest.parse::<u32>().ok().filter(|n| *n > 0);
        if let Some(rest) = name.strip_prefix("fixed:") {
            return number(rest).map(|tasks| PolicyKind::Fixed { tasks });
        }
        if let Some(rest) = name.strip_prefix("cpu:") {
            return number(rest)
                .filter(|n| *n <= 100)
                .map(|target_pct| PolicyKind::Cpu { target_pct });
        }
        if let Some(rest) = name.strip_prefix("keda:") {
            return number(rest).map(|queue_length| PolicyKind::Keda { queue_length });
        }
        // The name it had before it said what it is.
        if name == "ours-v1" {
            return Some(PolicyKind::OursOnSqsMetrics);
        }
        for p in [
            PolicyKind::OursLatencyFirst,
            PolicyKind::OursWithoutForecast,
        ] {
            if name == p.name() {
                return Some(p);
            }
        }
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Workers drain on SIGTERM and are protected from scale-in while busy (only ours).
    pub fn graceful_workers(self) -> bool {
        self.is_ours()
    }

    /// This project's policies.
    fn is_ours(self) -> bool {
        matches!(
            self,
            PolicyKind::Ours
                | PolicyKind::OursLatencyFirst
                | PolicyKind::OursWithoutForecast
                | PolicyKind::OursOnSqsMetrics
        )
    }

    /// Workers extend a message's visibility while processing it (only ours).
    pub fn heartbeat(self) -> bool {
        self.is_ours()
    }

    /// The fewest and most tasks the policy runs on `scenario`: the scenario's, except the blueprint's minimum of
    /// 1 (its target tracking has no datapoint at zero tasks) and a fixed fleet's.
    pub fn bounds(self, scenario: &Scenario) -> (u32, u32) {
        match self {
            PolicyKind::Blueprint => (scenario.min_tasks.max(1), scenario.max_tasks.max(1)),
            PolicyKind::Fixed { tasks } => (tasks, tasks),
            _ => (scenario.min_tasks, scenario.max_tasks),
        }
    }

    /// The policy's controller for `scenario` (None for the oracle and an unresolved `keda-tuned`, which the
    /// engine does not drive).
    pub fn controller(self, scenario: &Scenario) -> Option<Box<dyn Controller>> {
        Some(match self {
            PolicyKind::Ours => Box::new(ours::OursController::new(
                scenario,
                ours::SamplerDesign::default(),
            )),
            PolicyKind::OursLatencyFirst => Box::new(ours::OursController::new(
                scenario,
                ours::SamplerDesign::latency_first(),
            )),
            PolicyKind::OursWithoutForecast => Box::new(ours::OursController::new(
                scenario,
                ours::SamplerDesign::default().reactive_only(),
            )),
            PolicyKind::OursOnSqsMetrics => {
                Box::new(ours_on_sqs_metrics::OursOnSqsMetrics::new(scenario))
            }
            PolicyKind::Blueprint => Box::new(blueprint::Blueprint::new()),
            PolicyKind::Copilot => Box::new(copilot::Copilot::new(scenario)),
            PolicyKind::Cdk => Box::new(cdk::Cdk),
            PolicyKind::Keda { queue_length } => Box::new(keda::Keda::new(queue_length)),
            PolicyKind::Fixed { .. } => Box::new(Fixed),
            PolicyKind::Cpu { target_pct } => Box::new(cpu::CpuTracking::new(target_pct)),
            PolicyKind::KedaTuned | PolicyKind::Oracle | PolicyKind::ReactiveLimit => return None,
        })
    }
}

impl fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl Serialize for PolicyKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

/// The last `n` of the first `delivered` minutes, as a range of minute numbers.
pub fn last_minutes(delivered: usize, n: usize) -> std::ops::Range<usize> {
    delivered.saturating_sub(n)..delivered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in PolicyKind::ALL.into_iter().chain([
            PolicyKind::Fixed { tasks: 5 },
            PolicyKind::Keda { queue_length: 12 },
        ]) {
            assert_eq!(PolicyKind::from_name(&p.name()), Some(p), "{p}");
        }
        assert_eq!(PolicyKind::from_name("fixed:0"), None);
        assert_eq!(PolicyKind::from_name("keda-like"), None);
    }
}
