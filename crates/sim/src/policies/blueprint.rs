//! The AWS blueprint (ecs-blueprints sqs-dynamic-target-tracking): target tracking on m1 / m3 with m1 the Average
//! of ApproximateNumberOfMessagesVisible and m3 RunningTaskCount (no datapoint at zero tasks, so its minimum is 1),
//! cooldowns 240/240, target int(60 / newest per-minute mean duration) hourly (a target below 1 is refused by the
//! API and kept), latency hard-coded to 60 s; workers die mid-message on scale-in and have no visibility heartbeat.
//! Its wrong-service-name bug, which stops scaling after the first update, is NOT modelled: this is the blueprint
//! at its best.

use super::{Controller, Ctx, last_minutes};
use crate::autoscaling::{DATAPOINTS_NEEDED, Tracker};

const COOLDOWN_SECS: u64 = 240;

/// The blueprint.
#[derive(Debug)]
pub struct Blueprint {
    target: f64,
    changes: u32,
}

impl Blueprint {
    /// The blueprint as deployed: target 60 s / 5 s = 12.
    pub fn new() -> Self {
        Blueprint {
            target: (60.0_f64 / 5.0).floor(),
            changes: 0,
        }
    }

    fn update_target(&mut self, ctx: &Ctx<'_>) {
        let delivered = ctx
            .metrics
            .delivered(ctx.now_ms, ctx.model.custom_delay_secs);
        let window = (ctx.updater_every_ms / 60_000).max(1) as usize;
        // The newest per-minute mean only.
        let Some(newest) = last_minutes(delivered, window)
            .rev()
            .filter_map(|m| ctx.metrics.durations_at(m, ctx.now_ms))
            .find(|s| s.sample_count > 0.0)
        else {
            return;
        };
        let t = (60.0 / (newest.sum_secs / newest.sample_count)).floor();
        if t >= 1.0 && (t - self.target).abs() >= 0.5 {
            self.target = t;
            self.changes += 1;
        }
    }
}

impl Default for Blueprint {
    fn default() -> Self {
        Self::new()
    }
}

impl Controller for Blueprint {
    fn tick(&mut self, ctx: &mut Ctx<'_>) {
        if !ctx.minute_boundary() {
            return;
        }
        if ctx.now_ms.is_multiple_of(ctx.updater_every_ms) {
            self.update_target(ctx);
        }
        let now = ctx.now_ms;
        let m = ctx.metrics;
        let datapoints: Vec<Option<f64>> = last_minutes(
            m.delivered(now, ctx.model.sqs_delay_secs),
            DATAPOINTS_NEEDED,
        )
        .map(|i| {
            let visible = m.sqs_at(i, now)?.visible.mean;
            let running = m.running_at(i, now).filter(|r| *r > 0.0)?;
            Some(visible / running)
        })
        .collect();
        let tracker = Tracker {
            datapoints: &datapoints,
            target: self.target,
        };
        ctx.target_tracking(&[tracker], COOLDOWN_SECS, COOLDOWN_SECS);
    }

    fn target(&self) -> f64 {
        self.target
    }

    fn target_changes(&self) -> u32 {
        self.changes
    }
}
