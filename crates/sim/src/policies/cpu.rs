//! Target tracking on the service's average CPU (`ECSServiceAverageCPUUtilization`), the scaling most ECS queue
//! workers start with, for `bpi simulate --from-cloudwatch` to put a service's own policy beside ours.
//!
//! The trace holds no CPU, so the model assumes a CPU-bound worker: a task's CPU is the busy share of its message
//! slots (a slot processing a message uses its share of the CPU fully, an idle task none): CPU % = busy slots /
//! (running tasks × concurrency) × 100, averaged over the minute. *An assumption*: an I/O-bound worker shows less CPU
//! than that, so this model scales it out sooner than the real policy would. ECS publishes the metric each minute;
//! its delivery delay is taken as Container Insights' (`insights_delay_secs`, *unsourced*, a parameter). Cooldowns
//! default to 300 s each, Application Auto Scaling's default for ECS services (Application Auto Scaling user guide,
//! "Target tracking scaling policies", cooldown periods).

use super::{Controller, Ctx, last_minutes};
use crate::autoscaling::{DATAPOINTS_NEEDED, Tracker};
use crate::metrics::MINUTE_MS;

/// Cooldowns when the policy sets none, seconds.
pub const DEFAULT_COOLDOWN_SECS: u64 = 300;

/// Target tracking on CPU.
#[derive(Debug)]
pub struct CpuTracking {
    target_pct: f64,
    /// Each finished minute's average CPU, percent.
    minutes: Vec<f64>,
    /// The current minute's sum and count of per-tick CPU.
    sum: f64,
    count: u32,
}

impl CpuTracking {
    /// Target tracking at `target_pct` percent CPU.
    pub fn new(target_pct: u32) -> Self {
        CpuTracking {
            target_pct: f64::from(target_pct.clamp(1, 100)),
            minutes: Vec::new(),
            sum: 0.0,
            count: 0,
        }
    }
}

impl Controller for CpuTracking {
    fn tick(&mut self, ctx: &mut Ctx<'_>) {
        if ctx.now_ms > 0 && ctx.now_ms.is_multiple_of(MINUTE_MS) {
            // A minute without a running task has no CPU datapoint (ECS publishes none).
            self.minutes.push(if self.count > 0 {
                self.sum / f64::from(self.count)
            } else {
                f64::NAN
            });
            self.sum = 0.0;
            self.count = 0;
        }
        let slots = ctx.live.running * ctx.scenario.concurrency;
        if slots > 0 {
            self.sum += f64::from(ctx.live.busy_slots) / f64::from(slots) * 100.0;
            self.count += 1;
        }
        if !ctx.minute_boundary() {
            return;
        }
        let delivered = (ctx
            .now_ms
            .saturating_sub(ctx.model.insights_delay_secs * 1000)
            / MINUTE_MS) as usize;
        let delivered = delivered.min(self.minutes.len());
        let datapoints: Vec<Option<f64>> = last_minutes(delivered, DATAPOINTS_NEEDED)
            .map(|i| Some(self.minutes[i]).filter(|v| v.is_finite()))
            .collect();
        let tracker = Tracker {
            datapoints: &datapoints,
            target: self.target_pct,
        };
        ctx.target_tracking(&[tracker], DEFAULT_COOLDOWN_SECS, DEFAULT_COOLDOWN_SECS);
    }

    fn target(&self) -> f64 {
        self.target_pct
    }
}
