//! KEDA's aws-sqs-queue scaler driving the Kubernetes HPA, at KEDA's and the HPA's defaults (keda.sh scaler docs;
//! Kubernetes HPA documentation):
//! - the metric: live GetQueueAttributes, visible + in flight (scaleOnInFlight true), per replica against
//!   `queueLength` (default 5), fetched fresh on every HPA query (useCachedMetrics false);
//! - activation: every pollingInterval (30 s) the operator checks the queue; a backlog above
//!   activationQueueLength (0) takes 0 → 1 replica; a queue inactive for cooldownPeriod (300 s) goes back to 0;
//! - the HPA every 15 s: desired = ceil(total / queueLength), nothing when the usage ratio is within the 10%
//!   tolerance, scale-up at most max(+100%, +4 pods) per sync, scale-down to the highest recommendation of the last
//!   300 s (the stabilisation window).
//!
//! Its workers are the user's (not ours): on scale-in a pod is stopped even mid-message and nothing extends
//! visibility. Generous to it: a pod starts in the model's task start time, like a Fargate task.

use std::collections::VecDeque;

use super::{Controller, Ctx};

const POLLING_MS: u64 = 30_000;
const HPA_SYNC_MS: u64 = 15_000;
const TOLERANCE: f64 = 0.1;
const STABILISATION_MS: u64 = 300_000;
const COOLDOWN_MS: u64 = 300_000;

/// KEDA with the HPA.
#[derive(Debug)]
pub struct Keda {
    queue_length: u32,
    /// (time, recommendation) over the stabilisation window.
    recommendations: VecDeque<(u64, u32)>,
    last_active_ms: u64,
}

impl Keda {
    /// KEDA at `queue_length` messages per replica.
    pub fn new(queue_length: u32) -> Self {
        Keda {
            queue_length: queue_length.max(1),
            recommendations: VecDeque::new(),
            last_active_ms: 0,
        }
    }

    fn hpa(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now_ms;
        let current = ctx.scaler.desired();
        let (min, max) = ctx.scaler.bounds();
        let total = ctx.live.backlog() as f64;
        let ql = f64::from(self.queue_length);
        let ratio = total / (ql * f64::from(current));
        let recommendation = if (ratio - 1.0).abs() <= TOLERANCE {
            current
        } else {
            (total / ql).ceil() as u32
        }
        .clamp(min.max(1), max);
        self.recommendations.push_back((now, recommendation));
        while self
            .recommendations
            .front()
            .is_some_and(|(t, _)| *t + STABILISATION_MS <= now)
        {
            self.recommendations.pop_front();
        }
        let desired = if recommendation > current {
            recommendation.min((current * 2).max(current + 4))
        } else {
            let highest = self
                .recommendations
                .iter()
                .map(|(_, r)| *r)
                .max()
                .unwrap_or(recommendation);
            highest.min(current)
        };
        ctx.scaler.set(now, desired);
    }
}

impl Controller for Keda {
    fn tick(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now_ms;
        if now.is_multiple_of(POLLING_MS) {
            let desired = ctx.scaler.desired();
            let (min, _) = ctx.scaler.bounds();
            if ctx.live.backlog() > 0 {
                self.last_active_ms = now;
                if desired == 0 {
                    ctx.scaler.set(now, 1);
                }
            } else if desired > 0 && min == 0 && now >= self.last_active_ms + COOLDOWN_MS {
                ctx.scaler.set(now, 0);
                self.recommendations.clear();
            }
        }
        if now.is_multiple_of(HPA_SYNC_MS) && ctx.scaler.desired() >= 1 {
            self.hpa(ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autoscaling::ScalableTarget;
    use crate::metrics::{Live, MetricStore};
    use crate::model::{AwsModel, CooldownRule};

    /// Desired counts after each 5 s tick while the queue holds `backlog(t)`.
    fn run(backlog: impl Fn(u64) -> u64, until_secs: u64, min: u32) -> Vec<(u64, u32)> {
        let scenario = crate::scenario("burst").expect("shipped");
        let model = AwsModel::default();
        let metrics = MetricStore::new(model, 1);
        let mut scaler = ScalableTarget::new(min, min, 100, CooldownRule::LargerScaleOutPasses);
        let mut keda = Keda::new(5);
        let mut schedule = crate::schedule::ScheduledActions::default();
        let mut out = Vec::new();
        for t in (0..=until_secs).step_by(5) {
            let mut ctx = Ctx {
                now_ms: t * 1000,
                live: Live {
                    visible: backlog(t),
                    ..Live::default()
                },
                metrics: &metrics,
                scaler: &mut scaler,
                scenario: &scenario,
                model: &model,
                updater_every_ms: 3_600_000,
                sampler_fails_at_ms: None,
                schedule: &mut schedule,
            };
            keda.tick(&mut ctx);
            out.push((t, scaler.desired()));
        }
        out
    }

    #[test]
    fn activation_then_the_hpa_doubles_or_adds_four_every_fifteen_seconds() {
        // 1,000 messages from 0 s: the 30 s poll activates 0 -> 1; the HPA asks ceil(1000 / 5) = 200 (100 at most)
        // but may only go to max(2x, +4): 1 -> 5 -> 10 -> 20 -> 40 -> 80 -> 100, one step per 15 s sync.
        let d = run(|_| 1000, 90, 0);
        let at = |secs: u64| d.iter().find(|(t, _)| *t == secs).map(|(_, n)| *n);
        assert_eq!(
            [0, 15, 30, 45, 60, 75, 90].map(|t| at(t).unwrap_or(0)),
            [5, 10, 20, 40, 80, 100, 100]
        );
    }

    #[test]
    fn scale_down_waits_out_the_stabilisation_window_and_zero_waits_the_cooldown() {
        // 100 messages until 60 s (20 replicas), then none: the highest recommendation of the last 300 s (20, from
        // 45 s) holds the HPA at 20; the last poll that saw messages was at 30 s, so the 300 s cooldown takes the
        // service to 0 at the poll of 330 s, not before.
        let d = run(|t| if t < 60 { 100 } else { 0 }, 400, 0);
        let at = |secs: u64| d.iter().find(|(t, _)| *t == secs).map(|(_, n)| *n);
        assert_eq!(at(300), Some(20));
        assert_eq!(at(325), Some(20));
        assert_eq!(at(330), Some(0), "{d:?}");
    }
}
