//! How long the idle policy should wait, against a producer that sends a batch every few minutes.
//!
//! Why it exists: the idle policy sets the minimum once the queue has been empty for `IDLE_SCALE_IN_MINUTES`. A
//! shorter wait saves the task-hours a large fleet idles after a burst (the shipped scenarios reward it), but when
//! batches come further apart than the wait, every batch finds the minimum and waits for its tasks to start (none of
//! the shipped scenarios has such a producer). This measures both sides on the blueprint's deployment (promise 60 s,
//! 1-10 tasks): 100 messages of 5 s every 2, 3 or 4 minutes for 6 hours, the worst case of `ours` over the robust
//! ensemble's behaviours beside the oracle (one arrival seed: the batches are the same in every seed).

use crate::policies::ours::SamplerDesign;
use crate::robust::{DesignWorstCase, Ensemble, behaviours, design_worst_case_on};
use crate::scenario::Arrival;

/// Minutes between batches, per column.
pub const BATCH_EVERY_MINUTES: [u64; 3] = [2, 3, 4];

/// One idle design and its worst case per column of [`BATCH_EVERY_MINUTES`].
#[derive(Debug, Clone, PartialEq)]
pub struct IdleGapRow {
    /// What the idle policy does.
    pub label: String,
    /// The worst case per column.
    pub worst: Vec<DesignWorstCase>,
}

/// The idle designs compared: fixed waits of 1, 2, 3 (the default) and 5 minutes, and the adaptive wait measured
/// but not shipped.
fn designs() -> Vec<(String, SamplerDesign)> {
    let base = SamplerDesign::default();
    let mut out: Vec<(String, SamplerDesign)> = [1, 2, 3, 5]
        .into_iter()
        .map(|minutes| {
            let default = if minutes == base.idle_minutes {
                " (default)"
            } else {
                ""
            };
            let plural = if minutes == 1 { "" } else { "s" };
            (
                format!("idle after {minutes} minute{plural}{default}"),
                SamplerDesign {
                    idle_minutes: minutes,
                    ..base
                },
            )
        })
        .collect();
    out.push((
        "not shipped: the longest gap of the last hour and a minute (1-15), 3 until the first updater run"
            .to_string(),
        SamplerDesign {
            idle_after_longest_gap: Some((1, 15)),
            ..base
        },
    ));
    out
}

/// 100 messages of 5 s at the start of every `every_minutes`-th minute of `duration_secs`.
fn batches(duration_secs: u64, every_minutes: u64) -> Vec<Arrival> {
    (0..duration_secs / 60)
        .filter(|m| m % every_minutes == 0)
        .flat_map(|m| {
            (0..100).map(move |_| Arrival {
                at_ms: m * 60_000,
                work_ms: 5_000,
            })
        })
        .collect()
}

/// Every design's row over the default ensemble's behaviours.
pub fn compare() -> Vec<IdleGapRow> {
    let scenario = crate::scenario("blueprint").unwrap_or_else(|| unreachable!("shipped"));
    let models = behaviours(&Ensemble::default());
    designs()
        .into_iter()
        .map(|(label, design)| {
            let worst = BATCH_EVERY_MINUTES
                .iter()
                .map(|&every| {
                    // One arrival seed: the batches are the same in every seed; seed 1 for the model's draws.
                    let runs = [(1, batches(scenario.duration_secs, every))];
                    design_worst_case_on(&scenario, design, &models, &runs)
                })
                .collect();
            IdleGapRow { label, worst }
        })
        .collect()
}

/// The rows as a Markdown table.
pub fn table(rows: &[IdleGapRow]) -> String {
    let mut out = String::from(
        "| idle policy | batch every 2 minutes | every 3 minutes | every 4 minutes |\n| --- | --- | --- | --- |\n",
    );
    for row in rows {
        let cells: Vec<String> = row.worst.iter().map(DesignWorstCase::cell).collect();
        out.push_str(&format!("| {} | {} |\n", row.label, cells.join(" | ")));
    }
    out
}
