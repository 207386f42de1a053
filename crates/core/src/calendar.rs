//! Days since the Unix epoch to and from civil dates (proleptic Gregorian, UTC), for the timestamps the project
//! writes itself: the forecaster's cron and `at(...)` schedules and the worker's sqsd-style headers.
//!
//! Why not a date crate: the two conversions below are all that is needed, and core stays free of dependencies that
//! would follow it into the worker's static build. The algorithms are H. Hinnant's `civil_from_days` and
//! `days_from_civil` ("chrono-Compatible Low-Level Date Algorithms").

/// A calendar date in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CivilDate {
    pub year: i64,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
}

/// Seconds in a day.
pub const DAY_SECS: u64 = 86_400;

/// The date `days` days after 1970-01-01 (before it, for a negative count).
pub fn civil_from_days(days: i64) -> CivilDate {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    CivilDate {
        year: yoe + era * 400 + i64::from(month <= 2),
        // Both are small by construction: 1-12 and 1-31.
        month: month as u32,
        day: day as u32,
    }
}

/// Days from 1970-01-01 to `date` (negative before it). The month and day are taken as given: check their ranges
/// first where they come from outside.
pub fn days_from_civil(date: CivilDate) -> i64 {
    let (month, day) = (i64::from(date.month), i64::from(date.day));
    let year = if month <= 2 { date.year - 1 } else { date.year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: i64, month: u32, day: u32) -> CivilDate {
        CivilDate { year, month, day }
    }

    #[test]
    fn known_days_convert_both_ways() {
        for (days, d) in [
            (0, date(1970, 1, 1)),
            (-1, date(1969, 12, 31)),
            (11_016, date(2000, 2, 29)),
            (20_759, date(2026, 11, 2)),
            (47_540, date(2100, 2, 28)),
            (47_541, date(2100, 3, 1)),
        ] {
            assert_eq!(civil_from_days(days), d, "{days}");
            assert_eq!(days_from_civil(d), days, "{d:?}");
        }
    }

    #[test]
    fn every_day_of_four_centuries_round_trips_and_follows_the_last() {
        let mut previous = civil_from_days(-1);
        for days in 0..146_097 {
            let d = civil_from_days(days);
            assert_eq!(days_from_civil(d), days);
            assert!((1..=12).contains(&d.month) && (1..=31).contains(&d.day));
            let next_day = d.day == previous.day + 1 && d.month == previous.month;
            let next_month = d.day == 1 && (d.month == previous.month + 1 || d.month == 1);
            assert!(next_day || next_month, "{previous:?} -> {d:?}");
            previous = d;
        }
    }
}
