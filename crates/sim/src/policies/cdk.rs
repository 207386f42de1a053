//! CDK QueueProcessingFargateService: step scaling on the Maximum of ApproximateNumberOfMessagesVisible over 5
//! minutes (>= 500: +5, >= 100: +1, 0: -1; cooldown 300 s) and, beside it, target tracking on the service's CPU at
//! 50% (its default `scaleOnCpuUtilization`; cooldowns 300 s, Application Auto Scaling's default for ECS).
//!
//! Generous to it: the CPU is modelled as the busy share of the task's slots, as if the work were CPU-bound; with
//! I/O-bound work (the blueprint's sleep) its CPU policy would see nearly nothing.

use super::{Controller, Ctx, last_minutes};
use crate::autoscaling::{DATAPOINTS_NEEDED, Tracker};

const STEP_COOLDOWN_SECS: u64 = 300;
const CPU_COOLDOWN_SECS: u64 = 300;
const CPU_TARGET_PCT: f64 = 50.0;

/// CDK.
#[derive(Debug, Default)]
pub struct Cdk;

impl Controller for Cdk {
    fn tick(&mut self, ctx: &mut Ctx<'_>) {
        if !ctx.minute_boundary() {
            return;
        }
        let now = ctx.now_ms;
        let m = ctx.metrics;
        let desired = ctx.scaler.desired();
        // Steps: the Maximum of the last 5 minutes' readings (missing ones skipped).
        let max_visible = last_minutes(m.delivered(now, ctx.model.sqs_delay_secs), 5)
            .filter_map(|i| m.sqs_at(i, now).map(|d| d.visible.max))
            .fold(None, |acc: Option<f64>, v| {
                Some(acc.map_or(v, |a| a.max(v)))
            });
        let stepped = match max_visible {
            Some(v) if v >= 500.0 => ctx.scaler.scale_out(now, desired + 5, STEP_COOLDOWN_SECS),
            Some(v) if v >= 100.0 => ctx.scaler.scale_out(now, desired + 1, STEP_COOLDOWN_SECS),
            Some(v) if v == 0.0 && desired > 0 => {
                ctx.scaler
                    .scale_in(now, desired - 1, STEP_COOLDOWN_SECS, STEP_COOLDOWN_SECS)
            }
            _ => false,
        };
        if stepped {
            return;
        }
        let cpu: Vec<Option<f64>> = last_minutes(
            m.delivered(now, ctx.model.insights_delay_secs),
            DATAPOINTS_NEEDED,
        )
        .map(|i| m.busy_share_at(i, now).map(|b| b * 100.0))
        .collect();
        let tracker = Tracker {
            datapoints: &cpu,
            target: CPU_TARGET_PCT,
        };
        ctx.target_tracking(&[tracker], CPU_COOLDOWN_SECS, CPU_COOLDOWN_SECS);
    }
}
