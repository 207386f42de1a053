//! Workloads: when messages arrive and how long each takes, plus the deployment they run on. Arrivals are drawn
//! once, up front, from a seeded generator, so every policy sees exactly the same messages.

use bpi_core::DurationDistribution;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// How messages arrive.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Arrivals {
    /// `count` messages at the start of every minute (the blueprint's producer on its schedule).
    EveryMinute {
        /// Messages per minute.
        count: u32,
    },
    /// A Poisson process whose rate follows a day: `mean_per_min × (1 + amplitude × sin(2π t / 24 h))`.
    Diurnal {
        /// Mean messages per minute.
        mean_per_min: f64,
        /// Relative swing, 0-1.
        amplitude: f64,
    },
    /// A Poisson process of `per_min` messages a minute on average (exponential gaps).
    Poisson {
        /// Mean messages per minute.
        per_min: f64,
    },
    /// A replayed trace (`bpi simulate --trace`): the arrivals come from the file, not from this description.
    Replayed {
        /// Messages in the trace.
        messages: usize,
    },
    /// Nothing, then `count` messages at once at `at_secs`.
    Burst {
        /// When, seconds.
        at_secs: u64,
        /// How many.
        count: u32,
    },
}

/// A duration distribution that may change at a point in time (`mpd-shift`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Durations {
    /// Before `shift_at_secs` (or always).
    pub before: DurationDistribution,
    /// From `shift_at_secs` on.
    pub after: Option<(u64, DurationDistribution)>,
}

impl Durations {
    /// One distribution throughout.
    pub fn fixed(d: DurationDistribution) -> Self {
        Durations {
            before: d,
            after: None,
        }
    }

    fn at(&self, t_secs: u64) -> &DurationDistribution {
        match &self.after {
            Some((from, d)) if t_secs >= *from => d,
            _ => &self.before,
        }
    }
}

/// A workload and the deployment it runs on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// Simulated time, seconds.
    pub duration_secs: u64,
    /// Arrivals.
    pub arrivals: Arrivals,
    /// Processing durations.
    pub durations: Durations,
    /// The latency promise: the longest a message should wait before its processing starts, seconds.
    pub latency_secs: f64,
    /// Messages a task works at once.
    pub concurrency: u32,
    /// Fewest and most tasks.
    pub min_tasks: u32,
    /// Most tasks.
    pub max_tasks: u32,
    /// The queue's visibility timeout, seconds.
    pub visibility_timeout_secs: u64,
    /// The processing duration a user would declare up front (Copilot's `msg_processing_time`, the blueprint's 5 s).
    pub declared_mpd_secs: f64,
}

/// One message: when it arrives and how long it takes, milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    /// Arrival time, ms.
    pub at_ms: u64,
    /// Processing time, ms.
    pub work_ms: u64,
}

impl Scenario {
    /// The same scenario running for `duration_secs` instead.
    pub fn lasting(mut self, duration_secs: u64) -> Self {
        self.duration_secs = duration_secs;
        self
    }

    /// Draws the arrivals, sorted by time.
    pub fn arrivals(&self, seed: u64) -> Vec<Arrival> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut out = Vec::new();
        let mut push = |rng: &mut StdRng, at_ms: u64| {
            let secs = self
                .durations
                .at(at_ms / 1000)
                .sample(rng.random(), rng.random());
            out.push(Arrival {
                at_ms,
                work_ms: (secs * 1000.0).round() as u64,
            });
        };
        match &self.arrivals {
            Arrivals::EveryMinute { count } => {
                for minute in 0..self.duration_secs / 60 {
                    for _ in 0..*count {
                        push(&mut rng, minute * 60_000);
                    }
                }
            }
            Arrivals::Burst { at_secs, count } => {
                for _ in 0..*count {
                    push(&mut rng, at_secs * 1000);
                }
            }
            Arrivals::Poisson { per_min } => {
                let per_ms = per_min / 60_000.0;
                let end = (self.duration_secs * 1000) as f64;
                let mut t = 0.0_f64;
                loop {
                    let u: f64 = rng.random();
                    t += -(1.0 - u).ln() / per_ms;
                    if t >= end {
                        break;
                    }
                    push(&mut rng, t as u64);
                }
            }
            Arrivals::Replayed { .. } => {}
            Arrivals::Diurnal {
                mean_per_min,
                amplitude,
            } => {
                // Thinning: draw at the peak rate, keep each with rate(t) / peak.
                let peak_per_ms = mean_per_min * (1.0 + amplitude) / 60_000.0;
                let mut t = 0.0_f64;
                let end = (self.duration_secs * 1000) as f64;
                loop {
                    let u: f64 = rng.random();
                    t += -(1.0 - u).ln() / peak_per_ms;
                    if t >= end {
                        break;
                    }
                    let phase = 2.0 * std::f64::consts::PI * t / 86_400_000.0;
                    let rate = mean_per_min * (1.0 + amplitude * phase.sin()) / 60_000.0;
                    if rng.random::<f64>() < rate / peak_per_ms {
                        push(&mut rng, t as u64);
                    }
                }
            }
        }
        out.sort_by_key(|a| a.at_ms);
        out
    }
}

fn lognormal(mean_secs: f64) -> DurationDistribution {
    DurationDistribution::LogNormal {
        mean_secs,
        sigma: 0.5,
    }
}

fn constant(secs: f64) -> DurationDistribution {
    DurationDistribution::Constant { secs }
}

fn base(name: &str, description: &str, arrivals: Arrivals, durations: Durations) -> Scenario {
    Scenario {
        name: name.to_string(),
        description: description.to_string(),
        duration_secs: 6 * 3600,
        arrivals,
        durations,
        latency_secs: 60.0,
        concurrency: 1,
        min_tasks: 1,
        max_tasks: 10,
        visibility_timeout_secs: 30,
        declared_mpd_secs: 5.0,
    }
}

/// The shipped scenarios, by name.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        base(
            "blueprint",
            "the blueprint's load: 50 messages of 5 s at the start of every minute; promise 60 s",
            Arrivals::EveryMinute { count: 50 },
            Durations::fixed(constant(5.0)),
        ),
        base(
            "varying",
            "50 messages a minute, log-normal durations with mean 5 s (sigma 0.5); promise 60 s",
            Arrivals::EveryMinute { count: 50 },
            Durations::fixed(lognormal(5.0)),
        ),
        Scenario {
            max_tasks: 100,
            latency_secs: 600.0,
            duration_secs: 3 * 3600,
            ..base(
                "burst",
                "idle for 30 minutes, then 10,000 messages of 2 s at once; promise 10 minutes, up to 100 tasks",
                Arrivals::Burst {
                    at_secs: 1800,
                    count: 10_000,
                },
                Durations::fixed(constant(2.0)),
            )
        },
        Scenario {
            max_tasks: 30,
            ..base(
                "mpd-shift",
                "50 messages a minute; durations step from 5 s to 20 s after 3 hours; promise 60 s, up to 30 tasks",
                Arrivals::EveryMinute { count: 50 },
                Durations {
                    before: constant(5.0),
                    after: Some((3 * 3600, constant(20.0))),
                },
            )
        },
        Scenario {
            duration_secs: 24 * 3600,
            max_tasks: 20,
            ..base(
                "diurnal",
                "a day of Poisson arrivals averaging 50 a minute, swinging ±80%; log-normal 5 s; promise 60 s",
                Arrivals::Diurnal {
                    mean_per_min: 50.0,
                    amplitude: 0.8,
                },
                Durations::fixed(lognormal(5.0)),
            )
        },
        Scenario {
            min_tasks: 0,
            latency_secs: 300.0,
            duration_secs: 3 * 3600,
            ..base(
                "idle-then-burst",
                "no task for 2 hours (min 0), then 600 messages of 5 s; promise 5 minutes: scaling from zero",
                Arrivals::Burst {
                    at_secs: 7200,
                    count: 600,
                },
                Durations::fixed(constant(5.0)),
            )
        },
    ]
}

/// A shipped scenario by name.
pub fn scenario(name: &str) -> Option<Scenario> {
    scenarios().into_iter().find(|s| s.name == name)
}
