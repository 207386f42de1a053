//! AWS Copilot Worker Service: a Lambda on an EventBridge `rate(1 minute)` schedule reads the live visible count
//! (ApproximateNumberOfMessages) and the service's runningCount once a minute and publishes
//! BacklogPerTask = ceil(visible / max(running, 1)) as an EMF custom metric; target tracking on it with the static
//! target ceil(latency / declared processing time) set at deploy, cooldowns 60 out / 120 in (copilot-cli source).
//!
//! Generous to it: the reading is taken at the minute's start, after that instant's arrivals (EventBridge fires
//! within the minute; the moment is not documented), which in the minute-aligned scenarios sees each minute's
//! batch at its peak.

use super::{Controller, Ctx, last_minutes};
use crate::autoscaling::{DATAPOINTS_NEEDED, Tracker};
use crate::metrics::MINUTE_MS;
use crate::scenario::Scenario;

const OUT_COOLDOWN_SECS: u64 = 60;
const IN_COOLDOWN_SECS: u64 = 120;

/// Copilot.
#[derive(Debug)]
pub struct Copilot {
    target: f64,
    /// The published datapoint of each minute.
    readings: Vec<f64>,
}

impl Copilot {
    /// Copilot on `scenario`: target ceil(latency / declared MPD).
    pub fn new(scenario: &Scenario) -> Self {
        Copilot {
            target: (scenario.latency_secs / scenario.declared_mpd_secs).ceil(),
            readings: Vec::new(),
        }
    }
}

impl Controller for Copilot {
    fn tick(&mut self, ctx: &mut Ctx<'_>) {
        if !ctx.now_ms.is_multiple_of(MINUTE_MS) {
            return;
        }
        // The Lambda's reading for the minute that starts now.
        let running = ctx.live.running.max(1);
        self.readings
            .push((ctx.live.visible as f64 / f64::from(running)).ceil());
        if !ctx.minute_boundary() {
            return;
        }
        // Minute m's reading is delivered custom_delay_secs after the minute ends.
        let now = ctx.now_ms;
        let delivered =
            ((now.saturating_sub(ctx.model.custom_delay_secs * 1000)) / MINUTE_MS) as usize;
        let delivered = delivered.min(self.readings.len());
        let datapoints: Vec<Option<f64>> = last_minutes(delivered, DATAPOINTS_NEEDED)
            .map(|i| Some(self.readings[i]))
            .collect();
        let tracker = Tracker {
            datapoints: &datapoints,
            target: self.target,
        };
        ctx.target_tracking(&[tracker], OUT_COOLDOWN_SECS, IN_COOLDOWN_SECS);
    }

    fn target(&self) -> f64 {
        self.target
    }
}
