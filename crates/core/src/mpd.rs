//! MPD (mean message processing duration) estimated from CloudWatch statistic sets.
//!
//! The blueprint read Average at a 1-second period over 24 hours and kept only the newest datapoint (bugs 3 and 4):
//! one noisy minute decided the target, and older data was not even returned. Here the estimate is the
//! sample-weighted mean over the whole window, ΣSum / ΣSampleCount, which is the true mean of every message measured
//! in the window whatever the per-period counts were: never a mean of per-period means, never the newest point only.

use serde::{Deserialize, Serialize};

/// Default number of samples below which the measured MPD is not trusted.
pub const DEFAULT_MIN_SAMPLES: u64 = 20;

/// One period's aggregate of `MsgProcessingDuration`: the statistics CloudWatch keeps for a statistic set.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct StatisticSet {
    /// Sum of the durations measured in the period, in seconds.
    pub sum_secs: f64,
    /// Number of messages measured in the period.
    pub sample_count: f64,
}

impl StatisticSet {
    /// Whether the period is usable: finite, non-negative sum and count. CloudWatch never returns anything else,
    /// but an estimate must not be poisoned by a bad point if it ever did.
    fn is_valid(&self) -> bool {
        self.sum_secs.is_finite()
            && self.sample_count.is_finite()
            && self.sum_secs >= 0.0
            && self.sample_count >= 0.0
    }
}

/// The result of estimating MPD over a window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum MpdEstimate {
    /// Enough samples: the mean duration in seconds.
    Known {
        /// ΣSum / ΣSampleCount over the window, in seconds.
        mpd_secs: f64,
        /// ΣSampleCount over the window.
        samples: u64,
    },
    /// Too few samples to trust: callers keep the current target.
    Unknown {
        /// ΣSampleCount over the window (possibly 0).
        samples: u64,
        /// The minimum that was required.
        min_samples: u64,
    },
}

impl MpdEstimate {
    /// The estimated MPD, if known.
    pub fn mpd_secs(&self) -> Option<f64> {
        match self {
            MpdEstimate::Known { mpd_secs, .. } => Some(*mpd_secs),
            MpdEstimate::Unknown { .. } => None,
        }
    }

    /// The number of samples the estimate rests on.
    pub fn samples(&self) -> u64 {
        match self {
            MpdEstimate::Known { samples, .. } | MpdEstimate::Unknown { samples, .. } => *samples,
        }
    }
}

/// Estimates MPD as ΣSum / ΣSampleCount over `periods`; below `min_samples` (at least 1) it is unknown.
/// Invalid periods (NaN, infinite, negative) are skipped.
pub fn estimate_mpd(periods: &[StatisticSet], min_samples: u64) -> MpdEstimate {
    let (sum_secs, count) = periods
        .iter()
        .filter(|p| p.is_valid())
        .fold((0.0_f64, 0.0_f64), |(s, c), p| {
            (s + p.sum_secs, c + p.sample_count)
        });
    // Counts are whole numbers in CloudWatch; round to absorb float noise from summing.
    let samples = count.round() as u64;
    let min_samples = min_samples.max(1);
    if samples < min_samples || count <= 0.0 {
        return MpdEstimate::Unknown {
            samples,
            min_samples,
        };
    }
    MpdEstimate::Known {
        mpd_secs: sum_secs / count,
        samples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(sum_secs: f64, sample_count: f64) -> StatisticSet {
        StatisticSet {
            sum_secs,
            sample_count,
        }
    }

    #[test]
    fn weighted_mean_not_mean_of_means() {
        // One period with 1 message of 100 s, one with 99 messages of 1 s: the true mean is 199/100 = 1.99 s,
        // the mean of per-period means would be 50.5 s.
        let est = estimate_mpd(&[set(100.0, 1.0), set(99.0, 99.0)], 1);
        assert_eq!(
            est,
            MpdEstimate::Known {
                mpd_secs: 1.99,
                samples: 100
            }
        );
    }

    #[test]
    fn uses_every_period_not_only_the_newest() {
        let periods: Vec<_> = (0..60)
            .map(|_| set(250.0, 50.0))
            .chain([set(70.0, 10.0)])
            .collect();
        let est = estimate_mpd(&periods, 20);
        assert_eq!(est.samples(), 3010);
        let mpd = est.mpd_secs().expect("known");
        assert!((mpd - (15_070.0 / 3010.0)).abs() < 1e-12, "{mpd}");
    }

    #[test]
    fn too_few_samples_is_unknown() {
        assert_eq!(
            estimate_mpd(&[set(50.0, 10.0)], 20),
            MpdEstimate::Unknown {
                samples: 10,
                min_samples: 20
            }
        );
        assert_eq!(
            estimate_mpd(&[], 20),
            MpdEstimate::Unknown {
                samples: 0,
                min_samples: 20
            }
        );
        assert_eq!(estimate_mpd(&[], 0).mpd_secs(), None);
    }

    #[test]
    fn skips_invalid_points() {
        let est = estimate_mpd(
            &[
                set(f64::NAN, 3.0),
                set(-1.0, 1.0),
                set(10.0, f64::INFINITY),
                set(70.0, 10.0),
            ],
            1,
        );
        assert_eq!(
            est,
            MpdEstimate::Known {
                mpd_secs: 7.0,
                samples: 10
            }
        );
    }

    #[test]
    fn zero_duration_work_is_a_known_zero() {
        assert_eq!(estimate_mpd(&[set(0.0, 30.0)], 20).mpd_secs(), Some(0.0));
    }

    proptest::proptest! {
        #[test]
        fn known_mpd_lies_between_the_smallest_and_largest_period_mean(
            periods in proptest::collection::vec((0.0f64..1000.0, 1u32..100), 1..50)
        ) {
            let sets: Vec<_> = periods.iter().map(|&(mean, n)| set(mean * f64::from(n), f64::from(n))).collect();
            let est = estimate_mpd(&sets, 1);
            let mpd = est.mpd_secs().expect("known");
            let lo = periods.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
            let hi = periods.iter().map(|p| p.0).fold(0.0, f64::max);
            proptest::prop_assert!(mpd >= lo - 1e-9 && mpd <= hi + 1e-9);
        }
    }
}
