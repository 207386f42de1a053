//! Recorded real traffic as workloads: weeks of public recordings (`crates/sim/traces/`, the Numenta Anomaly
//! Benchmark's real tweet volumes, MIT; counts per 5 minutes) replayed on the suite's deployment.
//!
//! Why it exists: the suite's families are generated, and a design chosen on generated shapes met real traffic (long
//! light stretches, sudden spikes of 10-150 times the mean) badly: a fixed fleet of one or two tasks beat it on both
//! share and task-hours. Each recording is replayed in 7-day windows at its own load and five times busier. Like the
//! suite, the recordings have two parts: three are tuned on, two are never used to choose (and other recordings, of
//! other kinds, are held back by the project to judge it).

use bpi_core::DurationDistribution;

use crate::counts::{self, Counts, CountsError};
use crate::scenario::{Arrival, Arrivals, Durations, Scenario};
use crate::suite::Part;

/// One recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recording {
    /// Its short name in tables.
    pub name: &'static str,
    /// Its file under `crates/sim/traces/`.
    pub file: &'static str,
    /// Tuned on, or held out.
    pub part: Part,
}

/// The recordings shipped: three tuned on, two held out.
pub const RECORDINGS: [Recording; 5] = [
    Recording {
        name: "fb",
        file: "Twitter_volume_FB.csv",
        part: Part::Tuning,
    },
    Recording {
        name: "ko",
        file: "Twitter_volume_KO.csv",
        part: Part::Tuning,
    },
    Recording {
        name: "ups",
        file: "Twitter_volume_UPS.csv",
        part: Part::Tuning,
    },
    Recording {
        name: "aapl",
        file: "Twitter_volume_AAPL.csv",
        part: Part::HeldOut,
    },
    Recording {
        name: "ibm",
        file: "Twitter_volume_IBM.csv",
        part: Part::HeldOut,
    },
];

/// The loads each window is replayed at.
pub const LOADS: [f64; 2] = [1.0, 5.0];

/// Days in a window.
pub const WINDOW_DAYS: u64 = 7;

/// The durations the messages take: log-normal, mean 3 s, sigma 0.8 (the 2-4 s).
pub const DURATIONS: DurationDistribution = DurationDistribution::LogNormal {
    mean_secs: 3.0,
    sigma: 0.8,
};

/// The directory of the recordings.
pub fn traces_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("traces")
}

/// Reads a recording's counts.
pub fn read(recording: &Recording) -> Result<Counts, String> {
    let path = traces_dir().join(recording.file);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    counts::parse(&text).map_err(|e: CountsError| format!("{}: {e}", path.display()))
}

/// One replayed window: its scenario (the suite's deployment: 60 s promise, concurrency 1, 0-60 tasks, 60 s
/// visibility timeout) and its messages.
pub fn window(
    recording: &Recording,
    all: &Counts,
    week: u64,
    load: f64,
    seed: u64,
) -> (Scenario, Vec<Arrival>) {
    const DAY_SECS: u64 = 86_400;
    let counts = all.window(week * WINDOW_DAYS * DAY_SECS, WINDOW_DAYS * DAY_SECS);
    let arrivals = counts::spread(&counts, load, DURATIONS, seed);
    let held = match recording.part {
        Part::Tuning => "",
        Part::HeldOut => " (held out)",
    };
    let scenario = crate::suite::deployment(
        format!("{}/week-{week}/x{load}{held}", recording.name),
        &format!(
            "{} messages: week {week} of {} ×{load}, each 5 minutes' count spread within it, log-normal 3 s",
            arrivals.len(),
            recording.file
        ),
        WINDOW_DAYS * 24,
        Arrivals::Replayed {
            messages: arrivals.len(),
        },
        Durations::fixed(DURATIONS),
    );
    (scenario, arrivals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_recording_reads_at_five_minutes_and_holds_seven_weeks() {
        for r in RECORDINGS {
            let c = read(&r).expect("shipped");
            assert_eq!(c.bucket_secs, 300, "{}", r.name);
            assert!(c.span_secs() >= 7 * WINDOW_DAYS * 86_400, "{}", r.name);
        }
        assert_eq!(
            RECORDINGS
                .iter()
                .filter(|r| r.part == Part::HeldOut)
                .count(),
            2,
            "two recordings held out"
        );
    }
}
