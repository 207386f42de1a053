//! ecsTargetBPI: how much backlog one task may hold while still meeting the latency promise.
//!
//! A task working `concurrency` messages at a time clears `concurrency / MPD` messages per second, so a backlog of
//! `concurrency × latency / MPD` per task is cleared within `latency`. The blueprint computed `int(60 / mpd)`: a
//! ZeroDivisionError at MPD 0 and a target of 0 above 60 s (bug 5). Here the result is rounded down (a smaller
//! target means more tasks, so rounding errs towards the promise), clamped to `1..=max_target`, and an MPD that is
//! missing or not a positive finite number is replaced by the configured fallback, never divided by.

use serde::Serialize;

/// Default upper bound on the target: far above any sensible backlog per task, low enough to stay meaningful.
pub const DEFAULT_MAX_TARGET_BPI: u32 = 10_000;

/// Validated inputs of the target computation that do not change between runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TargetSettings {
    latency_secs: f64,
    concurrency: u32,
    fallback_mpd_secs: f64,
    max_target: u32,
}

/// A [`TargetSettings`] value out of range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TargetSettingsError {
    /// Latency must be a positive, finite number of seconds.
    #[error("acceptable latency must be a positive number of seconds, got {0}")]
    Latency(f64),
    /// Concurrency must be at least 1.
    #[error("per-task concurrency must be at least 1")]
    Concurrency,
    /// The fallback MPD must be a positive, finite number of seconds.
    #[error("fallback MPD must be a positive number of seconds, got {0}")]
    FallbackMpd(f64),
    /// The maximum target must be at least 1.
    #[error("maximum target BPI must be at least 1")]
    MaxTarget,
}

impl TargetSettings {
    /// Checks and bundles the settings.
    pub fn new(
        latency_secs: f64,
        concurrency: u32,
        fallback_mpd_secs: f64,
        max_target: u32,
    ) -> Result<Self, TargetSettingsError> {
        if !(latency_secs.is_finite() && latency_secs > 0.0) {
            return Err(TargetSettingsError::Latency(latency_secs));
        }
        if concurrency == 0 {
            return Err(TargetSettingsError::Concurrency);
        }
        if !(fallback_mpd_secs.is_finite() && fallback_mpd_secs > 0.0) {
            return Err(TargetSettingsError::FallbackMpd(fallback_mpd_secs));
        }
        if max_target == 0 {
            return Err(TargetSettingsError::MaxTarget);
        }
        Ok(TargetSettings {
            latency_secs,
            concurrency,
            fallback_mpd_secs,
            max_target,
        })
    }

    /// Acceptable latency in seconds.
    pub fn latency_secs(&self) -> f64 {
        self.latency_secs
    }

    /// Messages one task processes at a time.
    pub fn concurrency(&self) -> u32 {
        self.concurrency
    }

    /// MPD used when none is measured.
    pub fn fallback_mpd_secs(&self) -> f64 {
        self.fallback_mpd_secs
    }

    /// Upper bound of the target.
    pub fn max_target(&self) -> u32 {
        self.max_target
    }
}

/// Where the MPD used for a target came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MpdSource {
    /// The measured MPD.
    Measured,
    /// The configured fallback, because none was measured.
    FallbackAbsent,
    /// The configured fallback, because the measured value was zero, negative or not finite.
    FallbackInvalid,
}

/// Something the operator should know about a computed target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TargetWarning {
    /// A message takes longer than the acceptable latency: no number of tasks meets the promise.
    LatencyBelowMpd {
        /// Acceptable latency, seconds.
        latency_secs: f64,
        /// MPD used, seconds.
        mpd_secs: f64,
    },
    /// The exact target was above the maximum and was clamped.
    ClampedToMax {
        /// The unclamped value.
        exact: f64,
        /// The maximum.
        max_target: u32,
    },
}

impl std::fmt::Display for TargetWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetWarning::LatencyBelowMpd {
                latency_secs,
                mpd_secs,
            } => write!(
                f,
                "acceptable latency {latency_secs} s is below the mean processing duration {mpd_secs} s: \
                 the promise cannot be met by scaling; target set to 1"
            ),
            TargetWarning::ClampedToMax { exact, max_target } => {
                write!(f, "target {exact:.2} clamped to the maximum {max_target}")
            }
        }
    }
}

/// A computed ecsTargetBPI with the facts behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetBpi {
    /// The target: an integer in `1..=max_target`.
    pub value: u32,
    /// concurrency × latency / MPD before rounding and clamping.
    pub exact: f64,
    /// The MPD the target rests on, seconds.
    pub mpd_secs: f64,
    /// Where that MPD came from.
    pub mpd_source: MpdSource,
    /// Anything the operator should be told.
    pub warnings: Vec<TargetWarning>,
}

/// The MPD a target in force stands for, seconds: concurrency × latency / target (the inverse of [`target_bpi`],
/// up to its rounding down). The sampler reads only the policy's target; the capacity model needs the MPD.
pub fn mpd_of_target(settings: &TargetSettings, target: f64) -> f64 {
    if target.is_finite() && target > 0.0 {
        f64::from(settings.concurrency) * settings.latency_secs / target
    } else {
        settings.fallback_mpd_secs
    }
}

/// Computes ecsTargetBPI = concurrency × latency / MPD, rounded down and clamped to `1..=max_target`.
///
/// `measured_mpd_secs` of `None`, zero, negative, NaN or infinite is replaced by the fallback MPD (documented
/// behaviour: such a measurement cannot describe real work, and dividing by it would give 0, infinity or NaN).
pub fn target_bpi(settings: &TargetSettings, measured_mpd_secs: Option<f64>) -> TargetBpi {
    let (mpd_secs, mpd_source) = match measured_mpd_secs {
        Some(m) if m.is_finite() && m > 0.0 => (m, MpdSource::Measured),
        Some(_) => (settings.fallback_mpd_secs, MpdSource::FallbackInvalid),
        None => (settings.fallback_mpd_secs, MpdSource::FallbackAbsent),
    };
    let exact = f64::from(settings.concurrency) * settings.latency_secs / mpd_secs;
    // Round down, but do not let float noise turn an exact quotient (e.g. 0.6 / 0.2) into the integer below it.
    let floored = (exact * (1.0 + 1e-12)).floor();
    let mut warnings = Vec::new();
    let value = if settings.latency_secs < mpd_secs {
        // A single message outlasts the promise: no number of tasks meets it. Run as many tasks as possible.
        warnings.push(TargetWarning::LatencyBelowMpd {
            latency_secs: settings.latency_secs,
            mpd_secs,
        });
        1
    } else if floored > f64::from(settings.max_target) {
        warnings.push(TargetWarning::ClampedToMax {
            exact,
            max_target: settings.max_target,
        });
        settings.max_target
    } else {
        // latency ≥ MPD and concurrency ≥ 1 make `exact` ≥ 1; the max() is belt and braces.
        (floored as u32).max(1)
    };
    TargetBpi {
        value,
        exact,
        mpd_secs,
        mpd_source,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(latency: f64, concurrency: u32) -> TargetSettings {
        TargetSettings::new(latency, concurrency, 5.0, DEFAULT_MAX_TARGET_BPI).expect("valid")
    }

    #[test]
    fn exact_numbers_from_the_issue() {
        assert_eq!(target_bpi(&settings(60.0, 1), Some(5.0)).value, 12);
        assert_eq!(target_bpi(&settings(60.0, 1), Some(7.0)).value, 8);
        assert_eq!(target_bpi(&settings(60.0, 1), Some(61.0)).value, 1);
        assert_eq!(target_bpi(&settings(60.0, 4), Some(5.0)).value, 48);
    }

    #[test]
    fn rounds_down_but_not_below_an_exact_quotient() {
        assert_eq!(target_bpi(&settings(60.0, 1), Some(5.5)).value, 10); // 10.9
        assert_eq!(target_bpi(&settings(0.6, 1), Some(0.2)).value, 3); // 2.9999999999999996 in f64
        assert_eq!(target_bpi(&settings(60.0, 1), Some(59.9)).value, 1);
    }

    #[test]
    fn latency_below_mpd_is_one_with_a_warning() {
        let t = target_bpi(&settings(60.0, 4), Some(61.0));
        assert_eq!(t.value, 1);
        assert!(matches!(
            t.warnings.as_slice(),
            [TargetWarning::LatencyBelowMpd { .. }]
        ));
        assert!(t.warnings[0].to_string().contains("cannot be met"));
    }

    #[test]
    fn unusable_mpd_falls_back_and_never_divides() {
        for bad in [Some(0.0), Some(-1.0), Some(f64::NAN), Some(f64::INFINITY)] {
            let t = target_bpi(&settings(60.0, 1), bad);
            assert_eq!(t.value, 12, "{bad:?}");
            assert_eq!(t.mpd_source, MpdSource::FallbackInvalid);
            assert_eq!(t.mpd_secs, 5.0);
        }
        let t = target_bpi(&settings(60.0, 1), None);
        assert_eq!((t.value, t.mpd_source), (12, MpdSource::FallbackAbsent));
    }

    #[test]
    fn clamps_to_the_maximum() {
        let s = TargetSettings::new(60.0, 1, 5.0, 100).expect("valid");
        let t = target_bpi(&s, Some(0.001));
        assert_eq!(t.value, 100);
        assert!(matches!(
            t.warnings.as_slice(),
            [TargetWarning::ClampedToMax {
                max_target: 100,
                ..
            }]
        ));
    }

    #[test]
    fn settings_reject_nonsense() {
        assert_eq!(
            TargetSettings::new(0.0, 1, 5.0, 10),
            Err(TargetSettingsError::Latency(0.0))
        );
        assert!(TargetSettings::new(f64::NAN, 1, 5.0, 10).is_err());
        assert_eq!(
            TargetSettings::new(60.0, 0, 5.0, 10),
            Err(TargetSettingsError::Concurrency)
        );
        assert!(TargetSettings::new(60.0, 1, 0.0, 10).is_err());
        assert_eq!(
            TargetSettings::new(60.0, 1, 5.0, 0),
            Err(TargetSettingsError::MaxTarget)
        );
    }

    proptest::proptest! {
        #[test]
        fn always_within_bounds(latency in 0.001f64..1e6, concurrency in 1u32..1000, mpd in proptest::option::of(proptest::num::f64::ANY), max in 1u32..100_000) {
            let s = TargetSettings::new(latency, concurrency, 5.0, max).expect("valid");
            let t = target_bpi(&s, mpd);
            proptest::prop_assert!(t.value >= 1 && t.value <= max);
            proptest::prop_assert!(t.mpd_secs.is_finite() && t.mpd_secs > 0.0);
        }

        #[test]
        fn monotone_in_latency_and_mpd(l1 in 0.01f64..1e4, l2 in 0.01f64..1e4, m1 in 0.001f64..1e3, m2 in 0.001f64..1e3, c in 1u32..64) {
            let (lo_l, hi_l) = if l1 <= l2 { (l1, l2) } else { (l2, l1) };
            let (lo_m, hi_m) = if m1 <= m2 { (m1, m2) } else { (m2, m1) };
            let t = |l: f64, m: f64| target_bpi(&TargetSettings::new(l, c, 5.0, DEFAULT_MAX_TARGET_BPI).expect("valid"), Some(m)).value;
            // More latency allows more backlog per task; longer messages allow less.
            proptest::prop_assert!(t(lo_l, lo_m) <= t(hi_l, lo_m));
            proptest::prop_assert!(t(lo_l, hi_m) <= t(lo_l, lo_m));
        }

        #[test]
        fn meets_the_promise_when_it_can(latency in 1.0f64..1e4, mpd in 0.01f64..1e3, c in 1u32..64) {
            proptest::prop_assume!(latency >= mpd);
            let s = TargetSettings::new(latency, c, 5.0, DEFAULT_MAX_TARGET_BPI).expect("valid");
            let t = target_bpi(&s, Some(mpd));
            // A task holding `value` messages clears them within the latency (up to float noise).
            if t.warnings.is_empty() {
                proptest::prop_assert!(f64::from(t.value) * mpd / f64::from(c) <= latency * (1.0 + 1e-9));
            }
        }
    }
}
