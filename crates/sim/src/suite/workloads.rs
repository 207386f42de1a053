//! The suite's workloads: each family's traffic and deployment, at its tuning and held-out parameters.

use bpi_core::DurationDistribution;

use super::{Family, Part, Workload};
use crate::scenario::{Arrivals, Durations, Scenario};

fn lognormal(mean_secs: f64, sigma: f64) -> DurationDistribution {
    DurationDistribution::LogNormal { mean_secs, sigma }
}

fn constant(secs: f64) -> DurationDistribution {
    DurationDistribution::Constant { secs }
}

fn uniform(min_secs: f64, max_secs: f64) -> DurationDistribution {
    DurationDistribution::Uniform { min_secs, max_secs }
}

fn exponential(mean_secs: f64) -> DurationDistribution {
    DurationDistribution::Exponential { mean_secs }
}

/// The suite's deployment: 60 s promise, concurrency 1, 0-60 tasks, 60 s visibility timeout (the recorded traffic's
/// too, [`crate::recorded`]).
pub(crate) fn deployment(
    name: String,
    description: &str,
    hours: u64,
    arrivals: Arrivals,
    durations: Durations,
) -> Scenario {
    Scenario {
        name,
        description: description.to_string(),
        duration_secs: hours * 3600,
        arrivals,
        durations,
        latency_secs: 60.0,
        concurrency: 1,
        min_tasks: 0,
        max_tasks: 60,
        visibility_timeout_secs: 60,
        declared_mpd_secs: 5.0,
        scored_from_secs: 0,
    }
}

/// One workload: `variant` names it within its family and part.
fn workload(
    family: Family,
    part: Part,
    variant: &str,
    description: &str,
    hours: u64,
    arrivals: Arrivals,
    durations: Durations,
) -> Workload {
    let name = match part {
        Part::Tuning => format!("{}/{variant}", family.name()),
        Part::HeldOut => format!("{}/{variant} (held out)", family.name()),
    };
    Workload {
        family,
        part,
        scenario: deployment(name, description, hours, arrivals, durations),
    }
}

/// `w` with another latency promise.
fn with_promise(latency_secs: f64, mut w: Workload) -> Workload {
    w.scenario.latency_secs = latency_secs;
    w
}

fn poisson(per_min: f64) -> Arrivals {
    Arrivals::Poisson { per_min }
}

fn on_off(on_min: u64, off_min: u64, on_per_min: f64, off_per_min: f64) -> Arrivals {
    Arrivals::OnOff {
        on_secs: on_min * 60,
        off_secs: off_min * 60,
        on_per_min,
        off_per_min,
    }
}

fn dumps(background_per_min: f64, at_min: &[u64], count: u32) -> Arrivals {
    let mut parts = vec![poisson(background_per_min)];
    parts.extend(at_min.iter().map(|m| Arrivals::Burst {
        at_secs: m * 60,
        count,
    }));
    Arrivals::Sum { parts }
}

fn ramp(points_min: &[(u64, f64)]) -> Arrivals {
    Arrivals::Ramp {
        points: points_min.iter().map(|(m, r)| (m * 60, *r)).collect(),
    }
}

/// `w` scored from `secs` on: its learning period (two occurrences) is not scored, for any policy.
fn scored_from(secs: u64, mut w: Workload) -> Workload {
    w.scenario.scored_from_secs = secs;
    w
}

const HOUR_SECS: u64 = 3600;
const DAY_SECS: u64 = 24 * HOUR_SECS;

/// `count` messages every `every_secs` from `first_at_secs`, up to `jitter_secs` early or late, over a Poisson
/// background of `background_per_min`; none from `until_secs` on.
fn recurring(
    background_per_min: f64,
    first_at_secs: u64,
    every_secs: u64,
    count: u32,
    jitter_secs: u64,
    until_secs: Option<u64>,
) -> Arrivals {
    Arrivals::Sum {
        parts: vec![
            poisson(background_per_min),
            Arrivals::Recurring {
                first_at_secs,
                every_secs,
                count,
                jitter_secs,
                until_secs,
            },
        ],
    }
}

fn office_hours(background_per_min: f64, open_h: u64, close_h: u64, per_min: f64) -> Arrivals {
    Arrivals::Sum {
        parts: vec![
            poisson(background_per_min),
            Arrivals::BusinessHours {
                open_secs: open_h * HOUR_SECS,
                close_secs: close_h * HOUR_SECS,
                per_min,
                weekdays_only: true,
            },
        ],
    }
}

/// The recurring workloads: each scored from halfway between its second and third occurrence (for office hours,
/// from the second week's Monday), so every policy is judged on what it could have learned.
fn recurring_workloads() -> Vec<Workload> {
    use Family::*;
    use Part::*;
    let fixed = Durations::fixed;
    vec![
        scored_from(
            DAY_SECS + 14 * HOUR_SECS,
            workload(
                DailyDump,
                Tuning,
                "3000-at-0217",
                "4 days: 3,000 messages of about 2 s at 02:17 ± 2 min every day, over 2 a minute; scored from day 2",
                96,
                recurring(2.0, 2 * HOUR_SECS + 17 * 60, DAY_SECS, 3_000, 120, None),
                fixed(lognormal(2.0, 0.5)),
            ),
        ),
        scored_from(
            2 * DAY_SECS,
            workload(
                DailyDump,
                HeldOut,
                "1500-at-1840",
                "4 days: 1,500 messages of about 4 s at 18:40 ± 3 min every day, over 5 a minute; scored from day 3",
                96,
                recurring(5.0, 18 * HOUR_SECS + 40 * 60, DAY_SECS, 1_500, 180, None),
                fixed(lognormal(4.0, 0.5)),
            ),
        ),
        scored_from(
            HOUR_SECS + 35 * 60,
            workload(
                HourlyJob,
                Tuning,
                "400-at-05",
                "24 h: 400 messages of about 2 s at :05 ± 1 min every hour, over 1 a minute; scored from 01:35",
                24,
                recurring(1.0, 5 * 60, HOUR_SECS, 400, 60, None),
                fixed(lognormal(2.0, 0.5)),
            ),
        ),
        scored_from(
            2 * HOUR_SECS + 10 * 60,
            workload(
                HourlyJob,
                HeldOut,
                "250-at-40",
                "24 h: 250 messages of about 6 s at :40 ± 2 min every hour, over 10 a minute; scored from 02:10",
                24,
                recurring(10.0, 40 * 60, HOUR_SECS, 250, 120, None),
                fixed(lognormal(6.0, 0.5)),
            ),
        ),
        scored_from(
            7 * DAY_SECS,
            workload(
                OfficeHours,
                Tuning,
                "09-to-17",
                "14 days: 150 a minute of about 2 s from 09:00 to 17:00 on weekdays, 2 a minute otherwise; scored from the second Monday",
                14 * 24,
                office_hours(2.0, 9, 17, 150.0),
                fixed(lognormal(2.0, 0.5)),
            ),
        ),
        scored_from(
            7 * DAY_SECS,
            workload(
                OfficeHours,
                HeldOut,
                "08-to-18",
                "14 days: 60 a minute of about 5 s from 08:00 to 18:00 on weekdays, 1 a minute otherwise; scored from the second Monday",
                14 * 24,
                office_hours(1.0, 8, 18, 60.0),
                fixed(lognormal(5.0, 0.5)),
            ),
        ),
        scored_from(
            DAY_SECS + 14 * HOUR_SECS,
            workload(
                StoppedJob,
                Tuning,
                "3000-at-0217-for-3-days",
                "6 days: the daily dump of 3,000 at 02:17 for 3 days, then none; scored from day 2",
                6 * 24,
                recurring(
                    2.0,
                    2 * HOUR_SECS + 17 * 60,
                    DAY_SECS,
                    3_000,
                    120,
                    Some(3 * DAY_SECS),
                ),
                fixed(lognormal(2.0, 0.5)),
            ),
        ),
        scored_from(
            6 * HOUR_SECS,
            workload(
                StoppedJob,
                HeldOut,
                "250-at-40-for-12-hours",
                "24 h: the hourly job of 250 at :40 for 12 hours, then none; scored from 06:00",
                24,
                recurring(10.0, 40 * 60, HOUR_SECS, 250, 120, Some(12 * HOUR_SECS)),
                fixed(lognormal(6.0, 0.5)),
            ),
        ),
    ]
}

/// The whole suite: every family's tuning workloads, then its held-out ones.
pub fn workloads() -> Vec<Workload> {
    use Family::*;
    use Part::*;
    let fixed = Durations::fixed;
    let mut out = vec![
        workload(
            Steady,
            Tuning,
            "30-per-min",
            "Poisson 30 a minute, exponential 2 s",
            3,
            poisson(30.0),
            fixed(exponential(2.0)),
        ),
        workload(
            Steady,
            HeldOut,
            "90-per-min",
            "Poisson 90 a minute, log-normal 4 s",
            3,
            poisson(90.0),
            fixed(lognormal(4.0, 0.5)),
        ),
        workload(
            LightStream,
            Tuning,
            "4-per-min-of-2s",
            "24 h: Poisson 4 a minute, log-normal 2 s (sigma 0.8)",
            24,
            poisson(4.0),
            fixed(lognormal(2.0, 0.8)),
        ),
        workload(
            LightStream,
            Tuning,
            "15-per-min-of-4s",
            "24 h: Poisson 15 a minute, log-normal 4 s (sigma 0.8)",
            24,
            poisson(15.0),
            fixed(lognormal(4.0, 0.8)),
        ),
        workload(
            LightStream,
            HeldOut,
            "1-per-min-of-5s",
            "24 h: Poisson 1 a minute, log-normal 5 s (sigma 0.8)",
            24,
            poisson(1.0),
            fixed(lognormal(5.0, 0.8)),
        ),
        workload(
            LightStream,
            HeldOut,
            "20-per-min-of-half-a-second",
            "24 h: Poisson 20 a minute, log-normal 0.5 s (sigma 0.8)",
            24,
            poisson(20.0),
            fixed(lognormal(0.5, 0.8)),
        ),
        workload(
            MinuteBatches,
            Tuning,
            "50-of-5s",
            "50 messages of 5 s at the start of every minute",
            3,
            Arrivals::EveryMinute { count: 50 },
            fixed(constant(5.0)),
        ),
        workload(
            MinuteBatches,
            HeldOut,
            "120-of-1s",
            "120 messages of about 1 s at the start of every minute",
            3,
            Arrivals::EveryMinute { count: 120 },
            fixed(lognormal(1.0, 0.5)),
        ),
        workload(
            OnOff,
            Tuning,
            "10-on-20-off",
            "10 min at 150 a minute, 20 min at 5, durations 1-4 s",
            6,
            on_off(10, 20, 150.0, 5.0),
            fixed(uniform(1.0, 4.0)),
        ),
        workload(
            OnOff,
            Tuning,
            "5-on-25-off",
            "5 min at 300 a minute, 25 min at nothing, 2 s",
            6,
            on_off(5, 25, 300.0, 0.0),
            fixed(lognormal(2.0, 0.5)),
        ),
        workload(
            OnOff,
            HeldOut,
            "20-on-40-off",
            "20 min at 100 a minute, 40 min at 2, durations 2-6 s",
            6,
            on_off(20, 40, 100.0, 2.0),
            fixed(uniform(2.0, 6.0)),
        ),
        workload(
            CronDump,
            Tuning,
            "2x3000",
            "3,000 messages of about 2 s at once, twice, over 3 a minute",
            6,
            dumps(3.0, &[60, 240], 3_000),
            fixed(lognormal(2.0, 0.5)),
        ),
        workload(
            CronDump,
            HeldOut,
            "3x1500",
            "1,500 messages of about 4 s at once, three times, over 10 a minute",
            6,
            dumps(10.0, &[30, 150, 270], 1_500),
            fixed(lognormal(4.0, 0.5)),
        ),
        workload(
            Ramp,
            Tuning,
            "up-to-240",
            "0 to 240 a minute over 2 h, then flat; exponential 2 s",
            3,
            ramp(&[(0, 0.0), (120, 240.0)]),
            fixed(exponential(2.0)),
        ),
        workload(
            Ramp,
            HeldOut,
            "up-and-down",
            "0 to 120 a minute over 1 h, back to 0 over 1 h, then 1 h quiet; log-normal 3 s",
            3,
            ramp(&[(0, 0.0), (60, 120.0), (120, 0.0)]),
            fixed(lognormal(3.0, 0.5)),
        ),
        workload(
            Diurnal,
            Tuning,
            "30-per-min",
            "a day of Poisson arrivals averaging 30 a minute, swinging ±80%; log-normal 3 s",
            24,
            Arrivals::Diurnal {
                mean_per_min: 30.0,
                amplitude: 0.8,
            },
            fixed(lognormal(3.0, 0.5)),
        ),
        workload(
            Diurnal,
            HeldOut,
            "60-per-min",
            "a day averaging 60 a minute, swinging ±50%; constant 2 s",
            24,
            Arrivals::Diurnal {
                mean_per_min: 60.0,
                amplitude: 0.5,
            },
            fixed(constant(2.0)),
        ),
        workload(
            HeavyTailed,
            Tuning,
            "sigma-1.2",
            "Poisson 40 a minute, log-normal mean 3 s, sigma 1.2",
            4,
            poisson(40.0),
            fixed(lognormal(3.0, 1.2)),
        ),
        workload(
            HeavyTailed,
            HeldOut,
            "sigma-1.5",
            "Poisson 20 a minute, log-normal mean 6 s, sigma 1.5",
            4,
            poisson(20.0),
            fixed(lognormal(6.0, 1.5)),
        ),
        workload(
            Bimodal,
            Tuning,
            "5pct-30s",
            "Poisson 60 a minute: 95% of 1 s, 5% of 30 s",
            4,
            poisson(60.0),
            Durations::mixed(constant(1.0), 0.05, constant(30.0)),
        ),
        workload(
            Bimodal,
            HeldOut,
            "10pct-40s",
            "Poisson 30 a minute: 90% of about 2 s, 10% of about 40 s",
            4,
            poisson(30.0),
            Durations::mixed(lognormal(2.0, 0.5), 0.1, lognormal(40.0, 0.5)),
        ),
        workload(
            DurationShift,
            Tuning,
            "3s-to-12s",
            "Poisson 30 a minute; durations step from 3 s to 12 s after 2 h",
            4,
            poisson(30.0),
            Durations::shifting(constant(3.0), 2 * 3600, constant(12.0)),
        ),
        workload(
            DurationShift,
            HeldOut,
            "2s-to-6s",
            "Poisson 60 a minute; durations step from about 2 s to about 6 s after 90 min",
            3,
            poisson(60.0),
            Durations::shifting(lognormal(2.0, 0.5), 90 * 60, lognormal(6.0, 0.5)),
        ),
        with_promise(
            300.0,
            workload(
                IdleThenBurst,
                Tuning,
                "600-of-5s",
                "nothing for 2 h, then 600 messages of 5 s; promise 5 minutes",
                3,
                Arrivals::Burst {
                    at_secs: 7200,
                    count: 600,
                },
                fixed(constant(5.0)),
            ),
        ),
        with_promise(
            300.0,
            workload(
                IdleThenBurst,
                HeldOut,
                "300-of-10s",
                "nothing for 90 min, then 300 messages of about 10 s; promise 5 minutes",
                3,
                Arrivals::Burst {
                    at_secs: 5400,
                    count: 300,
                },
                fixed(lognormal(10.0, 0.5)),
            ),
        ),
        workload(
            Sparse,
            Tuning,
            "every-4-min",
            "one message of 5 s every 4 minutes on average",
            6,
            poisson(0.25),
            fixed(constant(5.0)),
        ),
        workload(
            Sparse,
            HeldOut,
            "every-10-min",
            "one message of about 20 s every 10 minutes on average",
            6,
            poisson(0.1),
            fixed(lognormal(20.0, 0.5)),
        ),
        workload(
            MixedDay,
            Tuning,
            "office-dump",
            "12 h: a background of 20 a minute swinging ±60%, 10 busy minutes at 120 every hour, a dump of 2,000 at 3 h",
            12,
            Arrivals::Sum {
                parts: vec![
                    Arrivals::Diurnal {
                        mean_per_min: 20.0,
                        amplitude: 0.6,
                    },
                    on_off(10, 50, 120.0, 0.0),
                    Arrivals::Burst {
                        at_secs: 3 * 3600,
                        count: 2_000,
                    },
                ],
            },
            fixed(lognormal(2.0, 0.5)),
        ),
        workload(
            MixedDay,
            HeldOut,
            "ramp-dumps",
            "12 h: a ramp to 60 a minute and back, a dump of 1,000 every 4 h, 5 busy minutes at 200 every 30 min",
            12,
            Arrivals::Sum {
                parts: vec![
                    ramp(&[(0, 5.0), (360, 60.0), (720, 5.0)]),
                    dumps(0.0, &[120, 360, 600], 1_000),
                    on_off(5, 25, 200.0, 0.0),
                ],
            },
            fixed(lognormal(3.0, 0.5)),
        ),
    ];
    out.extend(recurring_workloads());
    out.sort_by_key(|w| (w.family, w.part));
    out
}

/// The recurring families' workloads of one part.
pub fn recurring_part(part: Part) -> Vec<Workload> {
    workloads()
        .into_iter()
        .filter(|w| w.part == part && Family::RECURRING.contains(&w.family))
        .collect()
}

/// The workloads of one part.
pub fn part(part: Part) -> Vec<Workload> {
    workloads().into_iter().filter(|w| w.part == part).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_a_tuning_and_a_held_out_workload() {
        let all = workloads();
        for family in Family::ALL {
            for p in [Part::Tuning, Part::HeldOut] {
                assert!(
                    all.iter().any(|w| w.family == family && w.part == p),
                    "{} has no {} workload",
                    family.name(),
                    p.name()
                );
            }
        }
        let mut names: Vec<&str> = all.iter().map(|w| w.scenario.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len(), "names are unique");
        assert_ne!(
            Part::Tuning.ensemble(12),
            Part::HeldOut.ensemble(12),
            "the held-out part is judged on other seeds and behaviours"
        );
    }

    #[test]
    fn the_workloads_draw_what_they_describe() {
        let on_off = workloads()
            .into_iter()
            .find(|w| w.scenario.name == "on-off/10-on-20-off")
            .expect("on-off");
        let a = on_off.scenario.arrivals(1);
        // 12 cycles of 10 min at 150 and 20 min at 5: about 12 × 1,600 = 19,200.
        assert!((17_500..21_000).contains(&a.len()), "{}", a.len());
        let in_first_on = a.iter().filter(|x| x.at_ms < 600_000).count();
        let in_first_off = a
            .iter()
            .filter(|x| (600_000..1_800_000).contains(&x.at_ms))
            .count();
        assert!(
            in_first_on > 1_300 && in_first_off < 200,
            "{in_first_on} {in_first_off}"
        );
        let dump = workloads()
            .into_iter()
            .find(|w| w.scenario.name == "cron-dump/2x3000")
            .expect("cron");
        let a = dump.scenario.arrivals(1);
        assert_eq!(a.iter().filter(|x| x.at_ms == 3_600_000).count(), 3_000);
        let bimodal = workloads()
            .into_iter()
            .find(|w| w.scenario.name == "bimodal/5pct-30s")
            .expect("bimodal");
        let a = bimodal.scenario.arrivals(1);
        let long = a.iter().filter(|x| x.work_ms == 30_000).count() as f64 / a.len() as f64;
        assert!((0.04..0.06).contains(&long), "{long}");
        assert!(
            (bimodal.scenario.durations.mean_secs(0) - 2.45).abs() < 1e-9,
            "0.95 × 1 + 0.05 × 30"
        );
    }
}
