//! What the local run saw, for its summary and chart: waits, tasks over time, target changes, worker exits.

use std::fmt::Write;

use bpi_sim::report::{Timeline, TimelinePoint, percentile};
use serde::Serialize;

use super::fleet::WorkerExit;

/// The run's figures.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Record {
    /// Messages the producer sent.
    pub produced: u64,
    /// Messages the producer could not send.
    pub produce_failed: u64,
    /// Messages processed (counted from the workers' logs; a redelivered one counts again).
    pub processed: u64,
    /// Waits from SQS accepting a message to its processing starting, seconds.
    #[serde(skip)]
    pub waits_secs: Vec<f64>,
    /// One point per period.
    #[serde(skip)]
    pub timeline: Vec<TimelinePoint>,
    /// The longest wait of the messages started in the period under way.
    #[serde(skip)]
    pub period_max_wait_secs: Option<f64>,
    /// One point per reading of the queue (every second), for the chart: what the queue held between the
    /// periods' ends, which a reading taken just after each production alone would hide.
    #[serde(skip)]
    pub readings: Vec<TimelinePoint>,
    /// The longest wait of the messages started since the last reading.
    #[serde(skip)]
    pub reading_max_wait_secs: Option<f64>,
    /// (seconds since start, old target, new target) of each policy write by the updater.
    pub target_changes: Vec<(u64, Option<f64>, f64)>,
    /// Scaling actions: (seconds since start, what, desired after).
    pub scaling_actions: Vec<(u64, &'static str, u32)>,
    /// Seconds from a reading whose backlog asked for more tasks than desired to the fast path's change of the
    /// desired count, one per fast-path action.
    pub reactions_secs: Vec<f64>,
    /// Workers started.
    pub workers_started: u32,
    /// Worker exits.
    pub exits: Vec<WorkerExit>,
    /// Messages left visible / in flight at the end, and in the DLQ.
    pub left_visible: u64,
    /// In flight at the end.
    pub left_in_flight: u64,
    /// In the DLQ at the end.
    pub dead_letters: u64,
}

impl Record {
    /// The readings as the simulator's timeline type (for its chart).
    pub fn reading_timeline(&self) -> Timeline {
        Timeline(self.readings.clone())
    }

    /// (p50, p99, max, share within `promise_secs`) of the waits.
    pub fn latency(&self, promise_secs: f64) -> (f64, f64, f64, f64) {
        let mut w = self.waits_secs.clone();
        w.sort_by(f64::total_cmp);
        let within = if w.is_empty() {
            1.0
        } else {
            w.iter().filter(|x| **x <= promise_secs).count() as f64 / w.len() as f64
        };
        (
            percentile(&w, 50.0),
            percentile(&w, 99.0),
            w.last().copied().unwrap_or(0.0),
            within,
        )
    }

    /// The summary printed at the end.
    pub fn summary(&self, promise_secs: f64, elapsed_secs: u64, period_secs: u64) -> String {
        let (p50, p99, max, within) = self.latency(promise_secs);
        let tasks: Vec<u32> = self.timeline.iter().map(|p| p.tasks).collect();
        let (tmin, tmax) = (
            tasks.iter().copied().min().unwrap_or(0),
            tasks.iter().copied().max().unwrap_or(0),
        );
        let tavg = if tasks.is_empty() {
            0.0
        } else {
            f64::from(tasks.iter().sum::<u32>()) / tasks.len() as f64
        };
        let clean = self
            .exits
            .iter()
            .filter(|e| e.code == Some(0) && e.stop_secs.is_some())
            .count();
        let mut out = String::new();
        let _ = writeln!(out, "local run: {elapsed_secs} s");
        let _ = writeln!(
            out,
            "messages   produced {} (failed {}), processed {}, left {} visible + {} in flight, DLQ {}",
            self.produced,
            self.produce_failed,
            self.processed,
            self.left_visible,
            self.left_in_flight,
            self.dead_letters
        );
        let _ = writeln!(
            out,
            "latency    p50 {p50:.1} s, p99 {p99:.1} s, max {max:.1} s; {:.1}% within the {promise_secs} s promise ({} measured)",
            within * 100.0,
            self.waits_secs.len()
        );
        let _ = writeln!(
            out,
            "tasks      min {tmin}, mean {tavg:.1}, max {tmax} over {} periods of {period_secs} s; {} scaling actions; {} workers stopped, {clean} exited 0 after SIGTERM",
            tasks.len(),
            self.scaling_actions.len(),
            self.exits.len()
        );
        if let Some(slowest) = self.reactions_secs.iter().copied().reduce(f64::max) {
            let _ = writeln!(
                out,
                "reaction   {} fast-path actions, slowest {slowest:.1} s from the reading that asked to the desired count (on AWS the sampler's 10 s reading and alarm delay add at most 30 s)",
                self.reactions_secs.len()
            );
        }
        if self.target_changes.is_empty() {
            let _ = writeln!(out, "target     no change written");
        }
        for (t, old, new) in &self.target_changes {
            let old = old.map_or_else(|| "none".to_string(), |o| format!("{o}"));
            let _ = writeln!(out, "target     at {t:>4} s: {old} -> {new}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_figures_come_from_the_waits() {
        let r = Record {
            waits_secs: vec![1.0, 3.0, 2.0, 30.0],
            ..Record::default()
        };
        let (p50, p99, max, within) = r.latency(20.0);
        assert_eq!((p50, p99, max), (2.0, 30.0, 30.0));
        assert!((within - 0.75).abs() < 1e-12);
        let s = r.summary(20.0, 60, 10);
        assert!(
            s.contains("75.0% within the 20 s promise (4 measured)"),
            "{s}"
        );
    }
}
