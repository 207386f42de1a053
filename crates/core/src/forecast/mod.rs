//! Anticipation: bursts that recur at the same minute of the hour or of the day become scheduled capacity.
//!
//! Why it exists: a policy that learns of work only when it arrives cannot beat the reactive limit, and with task
//! starts of up to three minutes a burst on an idle service waits for every task it needs. Most large bursts are
//! scheduled by someone (a nightly export, an hourly job, office hours), so they recur; the queue's own history
//! (NumberOfMessagesSent, one-minute sums, which CloudWatch keeps 15 days) says when. The updater (and the
//! simulator, and `bpi schedule`) run the same three steps, all here:
//!
//! 1. [`learn`]: find the minutes where arrivals jump ([`onsets`]), group them by their minute of the hour and of
//!    the day, and keep the groups that recurred in **both** of the last two cycles they were expected in (the
//!    learning period: two occurrences; the third is the first one anticipated). Expected cycles are the hours of
//!    the day (or the weekdays) the group hit within the last day (week), once that long has passed since the
//!    cycle of its first onset, else every hour (day). A group that missed its latest expected cycle stopped recurring and is
//!    dropped: a pattern that stops costs one false window at most.
//! 2. [`plan`]: each pattern becomes a window, from one task start (and a minute) before its earliest onset to
//!    [`HOLD_MINUTES`] after its latest, at the tasks the capacity model needs for its peak minute served by running
//!    tasks, capped by the maximum capacity and by [`ForecastSettings::max_task_hours`] for the whole window (what
//!    a wrong forecast can cost).
//! 3. [`actions`] and [`reconcile`]: each window is two Application Auto Scaling scheduled actions, one raising the
//!    minimum capacity, one setting it back to the configured minimum; the reconcile writes, updates and deletes
//!    only the actions whose names carry [`ACTION_PREFIX`], so a user's own scheduled actions are never touched.
//!
//! Safety by construction: an action only ever sets `MinCapacity`, to at least the configured minimum; raising it
//! pulls the desired count up (AAS user guide, scheduled scaling), lowering it changes nothing until the reactive
//! policies scale in, so a forecast never lowers capacity below what the reactive path asks.
//!
//! Times are UTC (the actions are written with `Timezone` `UTC`): a pattern kept in local time moves by an hour in
//! UTC at a daylight-saving change and is learned again in two cycles.

use serde::Serialize;

mod actions;
mod history;
mod pattern;
mod record;
mod recurrence;
mod window;

pub use actions::*;
pub use history::*;
pub use pattern::*;
pub use record::*;
pub use recurrence::*;
pub use window::*;

/// Minutes in an hour, a day, a week.
pub const HOUR_MINUTES: u64 = 60;
/// Minutes in a day.
pub const DAY_MINUTES: u64 = 1440;
/// Minutes in a week.
pub const WEEK_MINUTES: u64 = 7 * DAY_MINUTES;

/// The history the forecaster reads: 14 days (CloudWatch keeps one-minute data 15 days).
pub const HISTORY_MINUTES: u64 = 14 * DAY_MINUTES;

/// Minutes before a minute whose mean is the level a jump is measured against.
pub const LEVEL_MINUTES: usize = 15;
/// An onset's minute holds at least twice the level plus this many messages.
pub const ONSET_MIN_MESSAGES: f64 = 10.0;
/// Minutes after an onset in which no other onset is counted (one burst, one onset).
pub const ONSET_REFRACTORY_MINUTES: usize = 10;
/// Minutes from an onset over which its peak minute is taken.
pub const PEAK_MINUTES: usize = 5;
/// Onsets of one pattern lie within this many minutes of each other (the jitter a pattern may have).
pub const MAX_SPREAD_MINUTES: u64 = 10;
/// Minutes the raised minimum holds after a pattern's latest onset: the sampler sees the burst within seconds,
/// and its fast path and fast scale-in hold the fleet from there. Measured on the workload suite's tuning part
/// (`examples/recurring.rs`; docs/concepts.md, "Bursts that recur"): 5 minutes instead of 2 bought no share and cost
/// task-hours wherever a window was written.
pub const HOLD_MINUTES: u64 = 2;
/// Minutes added to the task start for the raise: AAS acts "a few seconds" after the trigger (AAS user guide,
/// scheduled scaling) and cron has whole minutes. Measured on the suite's tuning part (`examples/recurring.rs`,
/// 6 behaviours; docs/concepts.md): 2 or 3 minutes bought no share and cost task-hours, and so did sizing the window
/// above the capacity model's need.
pub const LEAD_MARGIN_MINUTES: u64 = 1;
/// Scheduled actions Application Auto Scaling holds per scalable target (AAS quotas, not adjustable).
pub const MAX_ACTIONS_PER_TARGET: usize = 200;
/// Names of the actions this project owns start with this.
pub const ACTION_PREFIX: &str = "bpi-forecast-";
/// The time zone the actions are written in.
pub const TIMEZONE: &str = "UTC";

/// Everything one forecast run decides, for the decision record, `bpi schedule` and the simulator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    /// The patterns learned.
    pub patterns: Vec<Pattern>,
    /// Their windows.
    pub windows: Vec<Window>,
    /// The actions wanted.
    pub actions: Vec<ScheduledActionSpec>,
}

/// Learn, plan and name the actions: the whole forecast at `now_epoch_minute`.
pub fn forecast(
    history: &SentHistory,
    now_epoch_minute: u64,
    sizing: &WindowSizing,
    settings: &ForecastSettings,
) -> Forecast {
    if settings.max_task_hours <= 0.0 {
        return Forecast {
            patterns: Vec::new(),
            windows: Vec::new(),
            actions: Vec::new(),
        };
    }
    let patterns = learn(history, now_epoch_minute);
    let windows = plan(&patterns, sizing, settings);
    let actions = actions(&windows, sizing.min_capacity, now_epoch_minute);
    Forecast {
        patterns,
        windows,
        actions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::BusyRule;
    use crate::capacity::CapacityModel;

    /// 2026-11-02, a Monday, 00:00 UTC.
    const MONDAY: u64 = 29_892_960;

    fn history(days: u64, background: f64, bursts: &[(u64, f64)]) -> SentHistory {
        let mut per_minute = vec![background; (days * DAY_MINUTES) as usize];
        for (at, count) in bursts {
            if let Some(m) = per_minute.get_mut(*at as usize) {
                *m += count;
            }
        }
        SentHistory {
            start_epoch_minute: MONDAY,
            per_minute,
        }
    }

    fn sizing() -> WindowSizing {
        WindowSizing {
            model: CapacityModel {
                promise_secs: 60.0,
                concurrency: 1,
                task_start_secs: 180.0,
                target_utilization: 0.8,
                busy_rule: BusyRule::Utilization,
            },
            mpd_secs: 2.0,
            min_capacity: 0,
            max_capacity: 60,
        }
    }

    const SETTINGS: ForecastSettings = ForecastSettings {
        max_task_hours: DEFAULT_MAX_TASK_HOURS,
        task_start_secs: 180,
    };

    #[test]
    fn weekdays_and_dates_are_utc() {
        assert_eq!(weekday(MONDAY), 0);
        assert_eq!(weekday(MONDAY + 6 * DAY_MINUTES), 6);
        assert_eq!(epoch_minute_utc(MONDAY + 137), "2026-11-02T02:17Z");
        assert_eq!(epoch_minute_utc(0), "1970-01-01T00:00Z");
    }

    #[test]
    fn a_daily_dump_is_learned_from_its_second_occurrence_and_scheduled_one_task_start_ahead() {
        // 3,000 messages at 02:17 with jitter (02:17, 02:19), over 3 a minute.
        let dump = |day: u64, minute: u64| (day * DAY_MINUTES + 137 + minute, 3000.0);
        let h = history(2, 3.0, &[dump(0, 0), dump(1, 2)]);
        let now = MONDAY + DAY_MINUTES + 180;
        let patterns = learn(&h, now);
        assert_eq!(patterns.len(), 1, "{patterns:?}");
        let p = &patterns[0];
        assert_eq!(
            p.recurrence,
            Recurrence::Daily {
                minute_of_day: 137,
                weekdays: Slots::ALL_WEEKDAYS
            }
        );
        assert_eq!(p.spread_minutes, 2);
        let f = forecast(&h, now, &sizing(), &SETTINGS);
        assert_eq!(f.windows.len(), 1);
        let w = &f.windows[0];
        // 3,003 messages of 2 s within the promise, 24 a running task: 126 tasks; capped by 20 task-hours over 4 + 2 + 2 = 8
        // minutes (150) and by the maximum (60).
        assert_eq!((w.needed_tasks, w.tasks, w.window_minutes), (126, 60, 8));
        assert_eq!(w.raise.cron(), "cron(13 2 * * ? *)");
        assert_eq!(w.lower.cron(), "cron(21 2 * * ? *)");
        let names: Vec<&str> = f.actions.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            ["bpi-forecast-daily-1-raise", "bpi-forecast-daily-1-lower"]
        );
        assert_eq!(f.actions[1].min_capacity, 0, "set back to the minimum");
        assert!(
            w.why.contains("2026-11-02T02:17Z, 2026-11-03T02:19Z"),
            "{}",
            w.why
        );
        // One occurrence is not a pattern.
        let once = history(2, 3.0, &[dump(1, 0)]);
        assert!(learn(&once, now).is_empty());
        // Written, the raise holds from 02:13 to 02:21 each day, and only then.
        let written: Vec<ExistingAction> = f
            .actions
            .iter()
            .map(ScheduledActionSpec::as_written)
            .collect();
        let day2 = MONDAY + 2 * DAY_MINUTES;
        assert!(!raise_in_force(&written, day2 + 132));
        assert!(raise_in_force(&written, day2 + 133));
        assert!(raise_in_force(&written, day2 + 140));
        assert!(!raise_in_force(&written, day2 + 141));
        assert!(!raise_in_force(&[], day2 + 140));
    }

    #[test]
    fn a_pattern_that_misses_its_latest_cycle_is_dropped() {
        let dumps: Vec<(u64, f64)> = (0..3).map(|d| (d * DAY_MINUTES + 600, 2000.0)).collect();
        let h = history(5, 1.0, &dumps);
        assert_eq!(learn(&h, MONDAY + 2 * DAY_MINUTES + 700).len(), 1);
        assert!(
            learn(&h, MONDAY + 3 * DAY_MINUTES + 700).is_empty(),
            "day 3 had none"
        );
    }

    #[test]
    fn office_hours_become_weekdays_once_a_week_is_held() {
        // From 09:00 to 17:00 on weekdays, 100 a minute; 2 a minute otherwise; 10 days.
        let mut per_minute = vec![2.0; (10 * DAY_MINUTES) as usize];
        for d in 0..10u64 {
            if weekday(MONDAY + d * DAY_MINUTES) < 5 {
                for m in 540..1020 {
                    per_minute[(d * DAY_MINUTES + m) as usize] = 100.0;
                }
            }
        }
        let h = SentHistory {
            start_epoch_minute: MONDAY,
            per_minute,
        };
        // Wednesday of the second week, noon.
        let patterns = learn(&h, MONDAY + 9 * DAY_MINUTES + 720);
        assert_eq!(patterns.len(), 1, "{patterns:?}");
        let raise = plan(&patterns, &sizing(), &SETTINGS)[0].raise;
        assert_eq!(raise.cron(), "cron(56 8 ? * MON,TUE,WED,THU,FRI *)");
        // Saturday noon, before a week is held: Saturday broke the daily pattern.
        assert!(learn(&h, MONDAY + 5 * DAY_MINUTES + 720).is_empty());
        // Monday 08:00 of the second week: a week is held, the weekdays are known, Monday is expected.
        let monday = learn(&h, MONDAY + 7 * DAY_MINUTES + 480);
        assert_eq!(monday.len(), 1, "{monday:?}");
        let raise = plan(&monday, &sizing(), &SETTINGS)[0].raise;
        assert_eq!(
            raise.next_at_or_after(MONDAY + 7 * DAY_MINUTES + 480),
            Some(MONDAY + 7 * DAY_MINUTES + 536)
        );
    }

    #[test]
    fn an_hourly_job_is_hourly_and_a_daily_one_is_not() {
        let jobs: Vec<(u64, f64)> = (0..30).map(|h| (h * 60 + 5, 500.0)).collect();
        let h = history(2, 0.0, &jobs);
        let p = learn(&h, MONDAY + 30 * 60);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            matches!(p[0].recurrence, Recurrence::Hourly { minute: 5, hours } if hours.count() == 24)
        );
        let w = plan(&p, &sizing(), &SETTINGS);
        // Raised at minute 1, across the hour for none; lowered at minute 10.
        assert_eq!(w[0].raise.cron(), "cron(1 * * * ? *)");
        // An hourly one at minute 2 is raised at 58 of the hour before.
        let jobs: Vec<(u64, f64)> = (0..30).map(|h| (h * 60 + 2, 500.0)).collect();
        let p = learn(&history(2, 0.0, &jobs), MONDAY + 30 * 60);
        let w = plan(&p, &sizing(), &SETTINGS);
        assert_eq!(w[0].raise.cron(), "cron(58 * * * ? *)");
    }

    #[test]
    fn smooth_traffic_and_noise_have_no_onsets() {
        let per_minute: Vec<f64> = (0..3 * DAY_MINUTES)
            .map(|m| {
                let x = (m as f64 / DAY_MINUTES as f64) * std::f64::consts::TAU;
                (60.0 * (1.0 + 0.8 * x.sin())).round() + if m % 7 == 0 { 15.0 } else { 0.0 }
            })
            .collect();
        let h = SentHistory {
            start_epoch_minute: MONDAY,
            per_minute,
        };
        assert!(onsets(&h).is_empty());
    }

    #[test]
    fn the_cap_bounds_what_a_wrong_window_costs_and_zero_turns_it_off() {
        let dump = |day: u64| (day * DAY_MINUTES + 137, 3000.0);
        let h = history(2, 3.0, &[dump(0), dump(1)]);
        let now = MONDAY + DAY_MINUTES + 180;
        let capped = ForecastSettings {
            max_task_hours: 2.0,
            ..SETTINGS
        };
        let w = &plan(&learn(&h, now), &sizing(), &capped)[0];
        // 2 task-hours over 6 minutes: 20 tasks.
        assert_eq!((w.window_minutes, w.tasks), (6, 20));
        assert!(f64::from(w.tasks) * w.window_minutes as f64 / 60.0 <= 2.0);
        let off = ForecastSettings {
            max_task_hours: 0.0,
            ..SETTINGS
        };
        assert!(forecast(&h, now, &sizing(), &off).actions.is_empty());
    }

    #[test]
    fn the_reconcile_touches_only_ours_and_updates_in_place() {
        let spec = |name: &str, min: u32| ScheduledActionSpec {
            name: name.into(),
            recurrence: Recurrence::Daily {
                minute_of_day: 133,
                weekdays: Slots::ALL_WEEKDAYS,
            },
            min_capacity: min,
        };
        let existing = |name: &str, schedule: &str, min: u32| ExistingAction {
            name: name.into(),
            schedule: schedule.into(),
            timezone: Some("UTC".into()),
            min_capacity: Some(min),
        };
        let wanted = [
            spec("bpi-forecast-daily-1-raise", 60),
            spec("bpi-forecast-daily-2-raise", 5),
        ];
        let have = [
            existing("bpi-forecast-daily-1-raise", "cron(13 2 * * ? *)", 40),
            existing("bpi-forecast-daily-2-raise", "cron(13 2 * * ? *)", 5),
            existing("bpi-forecast-hourly-1-raise", "cron(1 * * * ? *)", 3),
            existing("nightly-batch", "cron(0 1 * * ? *)", 10),
        ];
        assert_eq!(
            reconcile(&wanted, &have),
            [
                ScheduleChange::Update(wanted[0].clone()),
                ScheduleChange::Delete {
                    name: "bpi-forecast-hourly-1-raise".into()
                },
            ],
            "the user's nightly-batch is left alone"
        );
        assert_eq!(
            reconcile(&[], &have[3..]),
            [],
            "nothing of ours, nothing to do"
        );
    }

    #[test]
    fn cron_expressions_round_trip_and_fire_where_they_say() {
        let office = Recurrence::Daily {
            minute_of_day: 536,
            weekdays: Slots::ALL_WEEKDAYS.rotated(0),
        };
        let mut weekdays = Slots::empty(7);
        for d in 0..5 {
            weekdays.insert(d);
        }
        let office_weekdays = Recurrence::Daily {
            minute_of_day: 536,
            weekdays,
        };
        let mut hours = Slots::empty(24);
        hours.insert(9);
        hours.insert(17);
        let hourly = Recurrence::Hourly { minute: 58, hours };
        for r in [office, office_weekdays, hourly] {
            assert_eq!(parse_cron(&r.cron()), Some(r), "{}", r.cron());
        }
        assert_eq!(parse_cron("rate(5 minutes)"), None);
        // Saturday 08:56 is not a weekday firing; Monday's is the next.
        let saturday = MONDAY + 5 * DAY_MINUTES;
        assert_eq!(
            office_weekdays.next_at_or_after(saturday),
            Some(MONDAY + 7 * DAY_MINUTES + 536)
        );
        assert_eq!(
            hourly.next_at_or_after(MONDAY + 600),
            Some(MONDAY + 17 * 60 + 58)
        );
        // Shifting a Monday 00:02 daily action 4 minutes earlier moves it to Sunday 23:58.
        let mut monday = Slots::empty(7);
        monday.insert(0);
        let early = Recurrence::Daily {
            minute_of_day: 2,
            weekdays: monday,
        }
        .shifted(-4);
        assert_eq!(early.cron(), "cron(58 23 ? * SUN *)");
    }

    #[test]
    fn next_action_is_the_earliest_firing() {
        let acts = actions(
            &plan(
                &learn(
                    &history(2, 3.0, &[(137, 3000.0), (DAY_MINUTES + 137, 3000.0)]),
                    MONDAY + DAY_MINUTES + 180,
                ),
                &sizing(),
                &SETTINGS,
            ),
            0,
            MONDAY + DAY_MINUTES + 180,
        );
        let (at, a) = next_action(&acts, MONDAY + 2 * DAY_MINUTES).expect("an action");
        assert_eq!(a.name, "bpi-forecast-daily-1-raise");
        assert_eq!(epoch_minute_utc(at), "2026-11-04T02:13Z");
    }

    #[test]
    fn a_window_written_after_its_raise_minute_gets_a_raise_now() {
        // An hourly job at :05, learned by a run at 02:02: the raise at :01 has passed, the onset at 02:05 has not.
        let jobs: Vec<(u64, f64)> = (0..2).map(|h| (h * 60 + 5, 500.0)).collect();
        let h = history(1, 0.0, &jobs);
        let now = MONDAY + 2 * 60 + 2;
        let f = forecast(&h, now, &sizing(), &SETTINGS);
        let names: Vec<&str> = f.actions.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "bpi-forecast-hourly-1-raise",
                "bpi-forecast-hourly-1-lower",
                "bpi-forecast-hourly-1-now"
            ]
        );
        let once = &f.actions[2];
        assert_eq!(once.schedule(), "at(2026-11-02T02:03:00)");
        assert_eq!(parse_cron(&once.schedule()), Some(once.recurrence));
        assert_eq!(once.min_capacity, f.windows[0].tasks);
        // Learned at 01:20, the next raise (02:01) is ahead: no raise-now.
        let later = forecast(&h, MONDAY + 60 + 20, &sizing(), &SETTINGS);
        assert_eq!(later.actions.len(), 2, "{:?}", later.actions);
    }
}
