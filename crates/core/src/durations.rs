//! Processing durations for generated messages: constant (the blueprint's 5 s), uniform, log-normal or exponential
//! with a given mean, so that "each message processing duration varies" is actually true of the test load.
//!
//! Sampling takes uniform random numbers from the caller, so this module stays pure and a seeded generator gives
//! the same durations every time.

use serde::{Deserialize, Serialize};

use crate::message::DEFAULT_MAX_DURATION_SECS;

/// How message durations are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DurationDistribution {
    /// Every message takes `secs`.
    Constant {
        /// Seconds.
        secs: f64,
    },
    /// Uniform over `[min_secs, max_secs]`.
    Uniform {
        /// Lower bound, seconds.
        min_secs: f64,
        /// Upper bound, seconds.
        max_secs: f64,
    },
    /// Log-normal with mean `mean_secs` and shape `sigma` (the standard deviation of the log): a long right tail,
    /// as real processing times have.
    #[serde(rename = "lognormal")]
    LogNormal {
        /// Mean, seconds.
        mean_secs: f64,
        /// Shape (0 = constant; 0.5 a moderate tail; 1 a heavy one).
        sigma: f64,
    },
    /// Exponential with mean `mean_secs`: memoryless service times, as queueing theory's M/M/c assumes (the
    /// simulator checks itself against Erlang C with it).
    Exponential {
        /// Mean, seconds.
        mean_secs: f64,
    },
}

impl Default for DurationDistribution {
    fn default() -> Self {
        DurationDistribution::Constant { secs: 5.0 }
    }
}

/// A distribution whose parameters are out of range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid duration distribution: {0}")]
pub struct DistributionError(pub String);

fn secs_ok(v: f64) -> bool {
    v.is_finite() && (0.0..=DEFAULT_MAX_DURATION_SECS).contains(&v)
}

impl DurationDistribution {
    /// Checks the parameters: durations in 0-900 s, min ≤ max, sigma in 0-3.
    pub fn validate(&self) -> Result<(), DistributionError> {
        let bad = |what: String| Err(DistributionError(what));
        match *self {
            DurationDistribution::Constant { secs } if !secs_ok(secs) => {
                bad(format!("secs {secs} is not within 0-900"))
            }
            DurationDistribution::Uniform { min_secs, max_secs }
                if !(secs_ok(min_secs) && secs_ok(max_secs) && min_secs <= max_secs) =>
            {
                bad(format!(
                    "need 0 <= min_secs <= max_secs <= 900, got {min_secs} and {max_secs}"
                ))
            }
            DurationDistribution::LogNormal { mean_secs, sigma }
                if !(secs_ok(mean_secs) && sigma.is_finite() && (0.0..=3.0).contains(&sigma)) =>
            {
                bad(format!(
                    "need mean_secs within 0-900 and sigma within 0-3, got {mean_secs} and {sigma}"
                ))
            }
            DurationDistribution::Exponential { mean_secs } if !secs_ok(mean_secs) => {
                bad(format!("mean_secs {mean_secs} is not within 0-900"))
            }
            _ => Ok(()),
        }
    }

    /// The distribution's mean, seconds.
    pub fn mean_secs(&self) -> f64 {
        match *self {
            DurationDistribution::Constant { secs } => secs,
            DurationDistribution::Uniform { min_secs, max_secs } => (min_secs + max_secs) / 2.0,
            DurationDistribution::LogNormal { mean_secs, .. }
            | DurationDistribution::Exponential { mean_secs } => mean_secs,
        }
    }

    /// Draws one duration from two independent uniform numbers in `[0, 1)`. The result is finite, in 0-900 s and
    /// rounded to milliseconds (message bodies stay short).
    pub fn sample(&self, u1: f64, u2: f64) -> f64 {
        let raw = match *self {
            DurationDistribution::Constant { secs } => secs,
            DurationDistribution::Uniform { min_secs, max_secs } => {
                min_secs + (max_secs - min_secs) * u1
            }
            DurationDistribution::LogNormal { mean_secs, sigma } => {
                if mean_secs <= 0.0 {
                    0.0
                } else {
                    // E[exp(N(mu, sigma²))] = exp(mu + sigma²/2): choose mu so the mean is mean_secs.
                    let mu = mean_secs.ln() - sigma * sigma / 2.0;
                    // Box-Muller: a standard normal from two uniforms (1 - u1 avoids ln(0)).
                    let z =
                        (-2.0 * (1.0 - u1).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                    (mu + sigma * z).exp()
                }
            }
            // Inverse transform (1 - u1 avoids ln(0)).
            DurationDistribution::Exponential { mean_secs } => -mean_secs * (1.0 - u1).ln(),
        };
        let clamped = if raw.is_finite() {
            raw.clamp(0.0, DEFAULT_MAX_DURATION_SECS)
        } else {
            DEFAULT_MAX_DURATION_SECS
        };
        (clamped * 1000.0).round() / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator for the tests (SplitMix64).
    fn uniforms(seed: u64) -> impl FnMut() -> f64 {
        let mut state = seed;
        move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn mean_of(d: &DurationDistribution, n: usize) -> f64 {
        let mut u = uniforms(42);
        (0..n).map(|_| d.sample(u(), u())).sum::<f64>() / n as f64
    }

    #[test]
    fn constant_is_the_blueprint() {
        let d = DurationDistribution::default();
        assert_eq!(d, DurationDistribution::Constant { secs: 5.0 });
        assert_eq!(d.sample(0.3, 0.9), 5.0);
    }

    #[test]
    fn uniform_and_lognormal_have_the_configured_mean() {
        let u = DurationDistribution::Uniform {
            min_secs: 1.0,
            max_secs: 9.0,
        };
        assert!((mean_of(&u, 20_000) - 5.0).abs() < 0.1);
        let l = DurationDistribution::LogNormal {
            mean_secs: 5.0,
            sigma: 0.5,
        };
        assert!(
            (mean_of(&l, 20_000) - 5.0).abs() < 0.15,
            "{}",
            mean_of(&l, 20_000)
        );
        assert_eq!(l.mean_secs(), 5.0);
        let e = DurationDistribution::Exponential { mean_secs: 5.0 };
        assert!(
            (mean_of(&e, 40_000) - 5.0).abs() < 0.1,
            "{}",
            mean_of(&e, 40_000)
        );
        assert_eq!(e.mean_secs(), 5.0);
        assert!(
            DurationDistribution::Exponential { mean_secs: -1.0 }
                .validate()
                .is_err()
        );
    }

    #[test]
    fn samples_stay_in_range() {
        let l = DurationDistribution::LogNormal {
            mean_secs: 800.0,
            sigma: 3.0,
        };
        let mut u = uniforms(7);
        for _ in 0..10_000 {
            let s = l.sample(u(), u());
            assert!((0.0..=900.0).contains(&s));
        }
        assert_eq!(l.sample(0.0, 0.0).clamp(0.0, 900.0), l.sample(0.0, 0.0));
    }

    #[test]
    fn validation_names_the_problem() {
        assert!(
            DurationDistribution::Constant { secs: -1.0 }
                .validate()
                .is_err()
        );
        assert!(
            DurationDistribution::Constant { secs: f64::NAN }
                .validate()
                .is_err()
        );
        assert!(
            DurationDistribution::Uniform {
                min_secs: 5.0,
                max_secs: 1.0
            }
            .validate()
            .is_err()
        );
        assert!(
            DurationDistribution::LogNormal {
                mean_secs: 5.0,
                sigma: 4.0
            }
            .validate()
            .is_err()
        );
        assert!(
            DurationDistribution::LogNormal {
                mean_secs: 5.0,
                sigma: 0.5
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn parses_from_json() {
        let d: DurationDistribution =
            serde_json::from_str(r#"{"kind":"lognormal","mean_secs":5,"sigma":0.5}"#)
                .expect("json");
        assert_eq!(
            d,
            DurationDistribution::LogNormal {
                mean_secs: 5.0,
                sigma: 0.5
            }
        );
        assert!(
            serde_json::from_str::<DurationDistribution>(r#"{"kind":"uniform","min_secs":1}"#)
                .is_err()
        );
        assert!(
            serde_json::from_str::<DurationDistribution>(r#"{"kind":"constant","secs":1,"x":1}"#)
                .is_err()
        );
    }
}
