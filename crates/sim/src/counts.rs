//! Recorded counts, replayed: `timestamp,count` rows at any bucket width (what a user exports from CloudWatch or any
//! metrics tool: messages sent per minute, per 5 minutes, per hour), turned into messages.
//!
//! Why it exists: a user rarely has each message's arrival time, but nearly always has counts per bucket. Each
//! bucket's messages are spread uniformly at random within it (a bucket says how many, never when), each takes a
//! duration drawn from a stated distribution, and the counts can be scaled by a load factor (×5: a busier queue of
//! the same shape). `bpi simulate --counts` and `--from-cloudwatch` both go through [`spread`].

use bpi_core::DurationDistribution;
use bpi_core::calendar::{CivilDate, days_from_civil};

use crate::scenario::Arrival;

/// Counts that cannot be read, with the line that says why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CountsError {
    /// A line is not a timestamp and a non-negative count.
    #[error(
        "line {line}: {reason} (expected `timestamp,count`: epoch seconds or `YYYY-MM-DD HH:MM:SS`)"
    )]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// Fewer than two rows: the bucket width cannot be known.
    #[error("the counts hold fewer than two rows: the bucket width cannot be read from them")]
    TooFew,
    /// Two rows share a timestamp, or the rows are not in time order.
    #[error("line {line}: timestamps must rise from row to row")]
    NotRising {
        /// 1-based line number.
        line: usize,
    },
}

/// Recorded counts: buckets of one width, each with the messages sent in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Counts {
    /// Seconds from the first row's timestamp to each row's, with its count.
    pub buckets: Vec<(u64, u64)>,
    /// The bucket width, seconds: the most common step between consecutive rows.
    pub bucket_secs: u64,
}

impl Counts {
    /// Seconds from the first bucket's start to the last one's end.
    pub fn span_secs(&self) -> u64 {
        self.buckets
            .last()
            .map_or(0, |&(at, _)| at + self.bucket_secs)
    }

    /// Messages in all buckets.
    pub fn total(&self) -> u64 {
        self.buckets.iter().map(|&(_, n)| n).sum()
    }

    /// The buckets from `from_secs` for `span_secs`, their times made relative to `from_secs`.
    pub fn window(&self, from_secs: u64, span_secs: u64) -> Counts {
        Counts {
            buckets: self
                .buckets
                .iter()
                .filter(|&&(at, _)| at >= from_secs && at < from_secs + span_secs)
                .map(|&(at, n)| (at - from_secs, n))
                .collect(),
            bucket_secs: self.bucket_secs,
        }
    }
}

/// Reads `timestamp,count` rows (a header line is allowed; `#` and blank lines are skipped). A timestamp is epoch
/// seconds or a UTC date and time, `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DDTHH:MM:SS[Z]`. A count may be fractional
/// (an average a tool exported): it is rounded.
pub fn parse(text: &str) -> Result<Counts, CountsError> {
    let mut rows: Vec<(usize, i64, u64)> = Vec::new();
    let mut content_lines = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        content_lines += 1;
        let bad = |reason: String| CountsError::BadLine {
            line: i + 1,
            reason,
        };
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != 2 {
            return Err(bad(format!("{} fields", fields.len())));
        }
        let count = fields[1]
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0);
        match (timestamp_secs(fields[0]), count) {
            (Some(at), Some(n)) => rows.push((i + 1, at, n.round() as u64)),
            // The first line may be a header.
            _ if content_lines == 1 => {}
            (None, _) => return Err(bad(format!("'{}' is not a timestamp", fields[0]))),
            (_, None) => return Err(bad(format!("'{}' is not a non-negative count", fields[1]))),
        }
    }
    if rows.len() < 2 {
        return Err(CountsError::TooFew);
    }
    if let Some(w) = rows.windows(2).find(|w| w[1].1 <= w[0].1) {
        return Err(CountsError::NotRising { line: w[1].0 });
    }
    let bucket_secs = most_common_step(&rows);
    let first = rows[0].1;
    Ok(Counts {
        buckets: rows
            .iter()
            .map(|&(_, at, n)| ((at - first) as u64, n))
            .collect(),
        bucket_secs,
    })
}

/// The most common step between consecutive timestamps (the smallest on a tie): a recording with gaps still has
/// one bucket width.
fn most_common_step(rows: &[(usize, i64, u64)]) -> u64 {
    let mut steps: Vec<u64> = rows.windows(2).map(|w| (w[1].1 - w[0].1) as u64).collect();
    steps.sort_unstable();
    let mut best = (0usize, steps[0]);
    let mut i = 0;
    while i < steps.len() {
        let j = steps[i..].iter().take_while(|&&s| s == steps[i]).count();
        if j > best.0 {
            best = (j, steps[i]);
        }
        i += j;
    }
    best.1
}

/// Epoch seconds of a timestamp: a non-negative integer, or `YYYY-MM-DD[ T]HH:MM:SS[Z]` in UTC.
fn timestamp_secs(s: &str) -> Option<i64> {
    if let Ok(secs) = s.parse::<i64>() {
        return (secs >= 0).then_some(secs);
    }
    let s = s.strip_suffix('Z').unwrap_or(s);
    let (date, time) = s.split_once([' ', 'T'])?;
    let mut d = date.splitn(3, '-').map(str::parse::<i64>);
    let (year, month, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut t = time.splitn(3, ':').map(str::parse::<i64>);
    let (hour, minute, second) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0..61).contains(&second);
    if !valid {
        return None;
    }
    let days = days_from_civil(CivilDate {
        year,
        month: month as u32,
        day: day as u32,
    });
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Messages from `counts`: each bucket's count × `load` (rounded) spread uniformly at random within its bucket, each
/// taking a duration drawn from `durations`, all from `seed`.
pub fn spread(
    counts: &Counts,
    load: f64,
    durations: DurationDistribution,
    seed: u64,
) -> Vec<Arrival> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let bucket_ms = counts.bucket_secs.max(1) * 1000;
    let mut out = Vec::new();
    for &(start_secs, count) in &counts.buckets {
        let n = (count as f64 * load.max(0.0)).round() as u64;
        for _ in 0..n {
            let offset_ms = rng.random_range(0..bucket_ms);
            let work_secs = durations.sample(rng.random::<f64>(), rng.random::<f64>());
            out.push(Arrival {
                at_ms: start_secs * 1000 + offset_ms,
                work_ms: (work_secs * 1000.0).round().max(0.0) as u64,
            });
        }
    }
    out.sort_by_key(|a| a.at_ms);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dated_rows_at_five_minutes_and_epoch_rows_at_an_hour() {
        let c = parse("timestamp,value\n2015-02-26 21:42:53,8\n2015-02-26 21:47:53,3\n2015-02-26 21:57:53,0\n")
            .expect("valid");
        assert_eq!(c.bucket_secs, 300);
        assert_eq!(c.buckets, vec![(0, 8), (300, 3), (900, 0)]);
        assert_eq!(c.span_secs(), 1200);
        assert_eq!(c.total(), 11);
        let c = parse("# exported\n1700000000,2.4\n1700003600,5\n1700007200,1\n").expect("valid");
        assert_eq!(c.bucket_secs, 3600);
        assert_eq!(c.buckets, vec![(0, 2), (3600, 5), (7200, 1)]);
        assert_eq!(
            timestamp_secs("1970-01-02T00:00:01Z"),
            Some(86_401),
            "ISO 8601 with a Z"
        );
    }

    #[test]
    fn a_bad_row_is_named_with_its_line() {
        assert_eq!(
            parse("t,v\n0,1\n60,-3\n"),
            Err(CountsError::BadLine {
                line: 3,
                reason: "'-3' is not a non-negative count".into()
            })
        );
        assert!(matches!(
            parse("0,1\n2015-13-01 00:00:00,4\n"),
            Err(CountsError::BadLine { line: 2, .. })
        ));
        assert_eq!(parse("0,1\n0,2\n"), Err(CountsError::NotRising { line: 2 }));
        assert_eq!(parse("t,v\n0,1\n"), Err(CountsError::TooFew));
    }

    #[test]
    fn each_bucket_is_spread_within_itself_scaled_by_the_load() {
        let c = Counts {
            buckets: vec![(0, 10), (300, 0), (600, 4)],
            bucket_secs: 300,
        };
        let one = spread(&c, 1.0, DurationDistribution::Constant { secs: 2.0 }, 7);
        assert_eq!(one.len(), 14);
        assert_eq!(one.iter().filter(|a| a.at_ms < 300_000).count(), 10);
        assert!(
            one.iter()
                .skip(10)
                .all(|a| (600_000..900_000).contains(&a.at_ms))
        );
        assert!(one.iter().all(|a| a.work_ms == 2000));
        assert!(one.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
        let five = spread(&c, 5.0, DurationDistribution::Constant { secs: 2.0 }, 7);
        assert_eq!(five.len(), 70);
        assert_eq!(
            c.window(300, 600).buckets,
            vec![(0, 0), (300, 4)],
            "a window starts at its own zero"
        );
    }
}
