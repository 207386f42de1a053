//! A user's own traffic, replayed: a CSV trace of `arrival_secs,duration_secs` per message (a header line is
//! allowed; `#` lines and blank lines are skipped), sorted by arrival on reading.

use crate::scenario::Arrival;

/// A trace that cannot be read, with the line that says why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TraceError {
    /// A line is not two non-negative finite numbers.
    #[error("line {line}: {reason} (expected `arrival_secs,duration_secs`)")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// No message in the trace.
    #[error("the trace holds no message")]
    Empty,
}

/// A trace built from per-minute counts (a queue's `NumberOfMessagesSent` history): each minute's messages spread
/// uniformly at random within the minute, each taking a duration drawn from `durations` (the measured mean), from
/// `seed` ([`crate::counts::spread`] at one-minute buckets). Both are estimates, and `bpi simulate --from-cloudwatch`
/// says so: CloudWatch keeps no arrival time finer than the minute and no message's own duration. `minutes` holds
/// (seconds from the start, messages).
pub fn from_minute_counts(
    minutes: &[(u64, u64)],
    durations: bpi_core::DurationDistribution,
    seed: u64,
) -> Vec<Arrival> {
    let counts = crate::counts::Counts {
        buckets: minutes.to_vec(),
        bucket_secs: 60,
    };
    crate::counts::spread(&counts, 1.0, durations, seed)
}

/// Parses a trace.
pub fn parse(text: &str) -> Result<Vec<Arrival>, TraceError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |reason: String| TraceError::BadLine {
            line: i + 1,
            reason,
        };
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != 2 {
            return Err(bad(format!("{} fields", fields.len())));
        }
        let number = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
        match (number(fields[0]), number(fields[1])) {
            (Some(at), Some(work)) => out.push(Arrival {
                at_ms: (at * 1000.0).round() as u64,
                work_ms: (work * 1000.0).round() as u64,
            }),
            // The first line may be a header.
            _ if out.is_empty() && i == first_content_line(text) => {}
            _ => return Err(bad(format!("'{line}' is not two non-negative numbers"))),
        }
    }
    if out.is_empty() {
        return Err(TraceError::Empty);
    }
    out.sort_by_key(|a| a.at_ms);
    Ok(out)
}

fn first_content_line(text: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with('#')
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_trace_with_a_header_and_sorts_it() {
        let a = parse("arrival_secs,duration_secs\n# comment\n2.5, 1\n0,0.25\n").expect("valid");
        assert_eq!(
            a,
            vec![
                Arrival {
                    at_ms: 0,
                    work_ms: 250
                },
                Arrival {
                    at_ms: 2500,
                    work_ms: 1000
                }
            ]
        );
    }

    #[test]
    fn a_bad_line_is_named() {
        assert_eq!(
            parse("0,1\n3,-1\n"),
            Err(TraceError::BadLine {
                line: 2,
                reason: "'3,-1' is not two non-negative numbers".into()
            })
        );
        assert!(matches!(
            parse("0,1,2\n"),
            Err(TraceError::BadLine { line: 1, .. })
        ));
        assert_eq!(parse("header,line\n"), Err(TraceError::Empty));
    }
}
