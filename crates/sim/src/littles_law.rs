//! How far the updater's stand-in for a missing worker metric, MPD by Little's law over SQS's own metrics (core's
//! `estimate_mpd_littles_law`), is from the MPD the workers measure, in each scenario over the robust ensemble.
//!
//! Each run of `ours` leaves CloudWatch's minutes behind; every hourly window the updater would read (60 minutes, as
//! `MPD_WINDOW_SECS` defaults) is estimated both ways, with the updater's sample minimum, and compared.

use bpi_core::mpd::DEFAULT_MIN_SAMPLES;
use bpi_core::{ActivityMinute, StatisticSet, estimate_mpd, estimate_mpd_littles_law};
use serde::Serialize;

use crate::policies::PolicyKind;
use crate::robust::{Ensemble, behaviours};
use crate::run::simulate;
use crate::scenario::Scenario;
use crate::settings::SimSettings;

/// Minutes of one updater window.
const WINDOW_MINUTES: usize = 60;

/// Where the in-flight count comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InFlightSource {
    /// SQS's `ApproximateNumberOfMessagesNotVisible`, Average: one reading a minute at SQS's phase, sometimes none.
    SqsGauge,
    /// The sampler's `ecsInFlight`, Average: six readings a minute, 10 s apart.
    Sampler,
}

/// Errors of one source over the ensemble.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Errors {
    /// Windows where both estimates were known.
    pub windows: usize,
    /// Windows where the measured MPD was known but Little's law was not (too few datapoints).
    pub unknown: usize,
    /// Median of (Little's law − measured) / measured.
    pub median: f64,
    /// The error of largest magnitude.
    pub worst: f64,
}

/// One scenario's comparison over the ensemble.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LittlesLawRow {
    /// Scenario name.
    pub scenario: String,
    /// Mean measured MPD over the compared windows, seconds.
    pub mean_measured_secs: f64,
    /// With SQS's gauge.
    pub sqs_gauge: Errors,
    /// With the sampler's readings.
    pub sampler: Errors,
}

/// For every hourly window of `minutes` where the measurement is known: (Little's law − measured) / measured and
/// the measured MPD, or None where Little's law is unknown.
fn window_errors(
    minutes: &[crate::metrics::MinuteData],
    source: InFlightSource,
) -> Vec<(Option<f64>, f64)> {
    let ends = (WINDOW_MINUTES..=minutes.len())
        .step_by(WINDOW_MINUTES)
        .chain((minutes.len() < WINDOW_MINUTES).then_some(minutes.len()));
    ends.filter_map(|end| {
        let window = &minutes[end.saturating_sub(WINDOW_MINUTES)..end];
        let periods: Vec<StatisticSet> = window.iter().map(|m| m.durations).collect();
        let activity: Vec<ActivityMinute> = window
            .iter()
            .filter_map(|m| match source {
                InFlightSource::SqsGauge => m.sqs_activity(),
                InFlightSource::Sampler => Some(m.sampled_activity()),
            })
            .collect();
        let measured = estimate_mpd(&periods, DEFAULT_MIN_SAMPLES).mpd_secs()?;
        let little = estimate_mpd_littles_law(&activity, DEFAULT_MIN_SAMPLES).mpd_secs();
        Some((little.map(|l| (l - measured) / measured), measured))
    })
    .collect()
}

fn summarise(windows: &[(Option<f64>, f64)]) -> Errors {
    let mut errors: Vec<f64> = windows.iter().filter_map(|(e, _)| *e).collect();
    let worst = errors
        .iter()
        .copied()
        .max_by(|a, b| a.abs().total_cmp(&b.abs()))
        .unwrap_or(f64::NAN);
    errors.sort_by(f64::total_cmp);
    Errors {
        windows: errors.len(),
        unknown: windows.len() - errors.len(),
        median: errors.get(errors.len() / 2).copied().unwrap_or(f64::NAN),
        worst,
    }
}

/// Compares the estimates with the measurement in each of `scenarios`, `ours` running over the ensemble.
pub fn compare(
    scenarios: &[Scenario],
    ensemble: &Ensemble,
    base: &SimSettings,
) -> Vec<LittlesLawRow> {
    let models = behaviours(ensemble);
    scenarios
        .iter()
        .map(|scenario| {
            let (mut gauge, mut sampled) = (Vec::new(), Vec::new());
            for model in &models {
                for &seed in &ensemble.seeds {
                    let settings = SimSettings {
                        seed,
                        model: *model,
                        ..*base
                    };
                    let report = simulate(scenario, PolicyKind::Ours, &settings);
                    gauge.extend(window_errors(&report.minutes, InFlightSource::SqsGauge));
                    sampled.extend(window_errors(&report.minutes, InFlightSource::Sampler));
                }
            }
            LittlesLawRow {
                scenario: scenario.name.clone(),
                mean_measured_secs: sampled.iter().map(|(_, m)| m).sum::<f64>()
                    / sampled.len().max(1) as f64,
                sqs_gauge: summarise(&gauge),
                sampler: summarise(&sampled),
            }
        })
        .collect()
}

/// The comparison as the Markdown table of docs/worker.md.
pub fn table(rows: &[LittlesLawRow]) -> String {
    let mut t = String::from(
        "| scenario | measured MPD (mean) | SQS gauge: median / worst error | unknown windows | sampler: median / worst error | unknown windows |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for r in rows {
        t.push_str(&format!(
            "| {} | {:.2} s | {:+.1}% / {:+.1}% | {} of {} | {:+.1}% / {:+.1}% | {} of {} |\n",
            r.scenario,
            r.mean_measured_secs,
            r.sqs_gauge.median * 100.0,
            r.sqs_gauge.worst * 100.0,
            r.sqs_gauge.unknown,
            r.sqs_gauge.windows + r.sqs_gauge.unknown,
            r.sampler.median * 100.0,
            r.sampler.worst * 100.0,
            r.sampler.unknown,
            r.sampler.windows + r.sampler.unknown,
        ));
    }
    t
}
