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
    /// Poisson arrivals alternating between `on_per_min` for `on_secs` and `off_per_min` for `off_secs`, starting
    /// on.
    OnOff {
        /// Length of an on period, seconds.
        on_secs: u64,
        /// Length of an off period, seconds.
        off_secs: u64,
        /// Mean messages a minute while on.
        on_per_min: f64,
        /// Mean messages a minute while off.
        off_per_min: f64,
    },
    /// Poisson arrivals whose rate moves linearly between `(at_secs, per_min)` points, flat before the first and
    /// after the last (ramps up and down).
    Ramp {
        /// The rate's corners, by time.
        points: Vec<(u64, f64)>,
    },
    /// `count` messages at once every `every_secs` from `first_at_secs` (a scheduled job: a nightly export, an
    /// hourly batch), each occurrence moved by a seeded draw of up to `jitter_secs` either way; none from
    /// `until_secs` on (a job that stops recurring).
    Recurring {
        /// The first occurrence, seconds.
        first_at_secs: u64,
        /// Seconds between occurrences.
        every_secs: u64,
        /// Messages each time.
        count: u32,
        /// The most an occurrence is early or late, seconds.
        jitter_secs: u64,
        /// No occurrence from here on, seconds (None: to the end).
        until_secs: Option<u64>,
    },
    /// Poisson arrivals at `per_min` from `open_secs` to `close_secs` of every day, Monday to Friday only when
    /// `weekdays_only` (virtual time 0 is a Monday, 00:00 UTC).
    BusinessHours {
        /// When the busy period starts, seconds into the day.
        open_secs: u64,
        /// When it ends, seconds into the day.
        close_secs: u64,
        /// Mean messages a minute while open.
        per_min: f64,
        /// Closed on Saturdays and Sundays.
        weekdays_only: bool,
    },
    /// Several arrival processes at once (a background and dumps; a mixed day).
    Sum {
        /// The processes.
        parts: Vec<Arrivals>,
    },
}

impl Arrivals {
    /// The rate of a [`Arrivals::Ramp`] at `t_secs`, messages a minute.
    fn ramp_rate(points: &[(u64, f64)], t_secs: f64) -> f64 {
        let Some(first) = points.first() else {
            return 0.0;
        };
        if t_secs <= first.0 as f64 {
            return first.1;
        }
        for w in points.windows(2) {
            let ((t0, r0), (t1, r1)) = (w[0], w[1]);
            if t_secs <= t1 as f64 {
                let share = (t_secs - t0 as f64) / (t1 - t0).max(1) as f64;
                return r0 + (r1 - r0) * share;
            }
        }
        points.last().map_or(0.0, |p| p.1)
    }
}

/// A duration distribution that may change at a point in time (`mpd-shift`), and may mix in a share of messages
/// of another kind (bimodal work: mostly short, a few long).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Durations {
    /// Before `shift_at_secs` (or always).
    pub before: DurationDistribution,
    /// From `shift_at_secs` on.
    pub after: Option<(u64, DurationDistribution)>,
    /// This share of the messages (0-1) takes its duration from this distribution instead.
    pub mixed_in: Option<(f64, DurationDistribution)>,
}

impl Durations {
    /// One distribution throughout.
    pub fn fixed(d: DurationDistribution) -> Self {
        Durations {
            before: d,
            after: None,
            mixed_in: None,
        }
    }

    /// `before`, then `after` from `at_secs` on.
    pub fn shifting(
        before: DurationDistribution,
        at_secs: u64,
        after: DurationDistribution,
    ) -> Self {
        Durations {
            after: Some((at_secs, after)),
            ..Durations::fixed(before)
        }
    }

    /// `main`, with a share `share` of the messages drawn from `other`.
    pub fn mixed(main: DurationDistribution, share: f64, other: DurationDistribution) -> Self {
        Durations {
            mixed_in: Some((share, other)),
            ..Durations::fixed(main)
        }
    }

    /// One message's duration at `t_secs`, seconds.
    fn sample(&self, t_secs: u64, rng: &mut StdRng) -> f64 {
        let main = match &self.after {
            Some((from, d)) if t_secs >= *from => d,
            _ => &self.before,
        };
        // Only a mixed distribution draws the extra uniform, so every other workload's draws stay as they were.
        let d = match &self.mixed_in {
            Some((share, other)) if rng.random::<f64>() < *share => other,
            _ => main,
        };
        d.sample(rng.random(), rng.random())
    }

    /// The mean duration at `t_secs`, seconds.
    pub fn mean_secs(&self, t_secs: u64) -> f64 {
        let main = match &self.after {
            Some((from, d)) if t_secs >= *from => d,
            _ => &self.before,
        };
        match &self.mixed_in {
            Some((share, other)) => (1.0 - share) * main.mean_secs() + share * other.mean_secs(),
            None => main.mean_secs(),
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
    /// Only messages arriving from here on are scored, and only task time from here on billed, seconds (0: the
    /// whole run): a recurring workload's learning period, the same for every policy.
    pub scored_from_secs: u64,
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
        self.draw(&self.arrivals, &mut rng, &mut out);
        out.sort_by_key(|a| a.at_ms);
        out
    }

    /// One message at `at_ms`, its duration drawn now.
    fn push(&self, rng: &mut StdRng, out: &mut Vec<Arrival>, at_ms: u64) {
        let secs = self.durations.sample(at_ms / 1000, rng);
        out.push(Arrival {
            at_ms,
            work_ms: (secs * 1000.0).round() as u64,
        });
    }

    /// A Poisson process of `rate_per_min(t_ms)`, at most `peak_per_min`, by thinning: draws at the peak rate and
    /// keeps each with rate / peak.
    fn thinned(
        &self,
        rng: &mut StdRng,
        out: &mut Vec<Arrival>,
        peak_per_min: f64,
        rate_per_min: impl Fn(f64) -> f64,
    ) {
        if peak_per_min <= 0.0 {
            return;
        }
        let peak_per_ms = peak_per_min / 60_000.0;
        let end = (self.duration_secs * 1000) as f64;
        let mut t = 0.0_f64;
        loop {
            let u: f64 = rng.random();
            t += -(1.0 - u).ln() / peak_per_ms;
            if t >= end {
                break;
            }
            if rng.random::<f64>() < rate_per_min(t) / peak_per_min {
                self.push(rng, out, t as u64);
            }
        }
    }

    fn draw(&self, arrivals: &Arrivals, rng: &mut StdRng, out: &mut Vec<Arrival>) {
        match arrivals {
            Arrivals::EveryMinute { count } => {
                for minute in 0..self.duration_secs / 60 {
                    for _ in 0..*count {
                        self.push(rng, out, minute * 60_000);
                    }
                }
            }
            Arrivals::Burst { at_secs, count } => {
                for _ in 0..*count {
                    self.push(rng, out, at_secs * 1000);
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
                    self.push(rng, out, t as u64);
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
                        self.push(rng, out, t as u64);
                    }
                }
            }
            Arrivals::OnOff {
                on_secs,
                off_secs,
                on_per_min,
                off_per_min,
            } => {
                let cycle_ms = ((on_secs + off_secs) * 1000).max(1) as f64;
                let on_ms = (on_secs * 1000) as f64;
                let rate = |t: f64| {
                    if t % cycle_ms < on_ms {
                        *on_per_min
                    } else {
                        *off_per_min
                    }
                };
                self.thinned(rng, out, on_per_min.max(*off_per_min), rate);
            }
            Arrivals::Ramp { points } => {
                let peak = points.iter().map(|p| p.1).fold(0.0, f64::max);
                self.thinned(rng, out, peak, |t| Arrivals::ramp_rate(points, t / 1000.0));
            }
            Arrivals::Recurring {
                first_at_secs,
                every_secs,
                count,
                jitter_secs,
                until_secs,
            } => {
                let end = until_secs
                    .unwrap_or(self.duration_secs)
                    .min(self.duration_secs);
                let mut at = *first_at_secs;
                while at < end {
                    let jitter = if *jitter_secs > 0 {
                        rng.random_range(0..=2 * jitter_secs) as i64 - *jitter_secs as i64
                    } else {
                        0
                    };
                    let t = (at as i64 + jitter).max(0) as u64;
                    for _ in 0..*count {
                        self.push(rng, out, t * 1000);
                    }
                    at += (*every_secs).max(1);
                }
            }
            Arrivals::BusinessHours {
                open_secs,
                close_secs,
                per_min,
                weekdays_only,
            } => {
                let (open, close) = (*open_secs as f64 * 1000.0, *close_secs as f64 * 1000.0);
                let rate = |t: f64| {
                    let day = (t / 86_400_000.0) as u64;
                    let in_day = t % 86_400_000.0;
                    let working = !weekdays_only || day % 7 < 5;
                    if working && in_day >= open && in_day < close {
                        *per_min
                    } else {
                        0.0
                    }
                };
                self.thinned(rng, out, *per_min, rate);
            }
            Arrivals::Sum { parts } => {
                for part in parts {
                    self.draw(part, rng, out);
                }
            }
        }
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
        scored_from_secs: 0,
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
                Durations::shifting(constant(5.0), 3 * 3600, constant(20.0)),
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
