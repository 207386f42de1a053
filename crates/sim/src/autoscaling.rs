//! Application Auto Scaling's target tracking, as the simulator models it: one pure decision shared by the
//! simulator's engine and the local run's scaler (`bpi local-run`), so both apply the same rules.
//!
//! - Scale out when the last [`OUT_DATAPOINTS`] datapoints of a policy are above its target, to
//!   ⌈max(desired, 1) × latest / target⌉ (from zero as if from one: Copilot #3376).
//! - Scale in when the last [`IN_DATAPOINTS`] are below [`IN_RATIO`] × target, towards ⌈desired × latest / target⌉
//!   but by at most 10% of the capacity (at least one task) per action (AWS: target tracking scales in gradually).
//! - Several policies (AWS, "Multiple scaling policies"): out when any asks, to the largest capacity asked; in only
//!   when every policy is ready to, to the largest capacity any of them still needs.
//! - A missing datapoint (no data) means that policy takes no action and does not agree to scale in.
//!
//! Cooldowns are the caller's: it knows the clock.

/// Datapoints above the target before a scale-out (the high alarm's evaluation periods).
pub const OUT_DATAPOINTS: usize = 3;
/// Datapoints below [`IN_RATIO`] × target before a scale-in (the low alarm's evaluation periods).
pub const IN_DATAPOINTS: usize = 15;
/// The low alarm's threshold, as a share of the target.
pub const IN_RATIO: f64 = 0.9;

/// One target tracking policy's view: its datapoints, oldest first, and its target.
#[derive(Debug, Clone, Copy)]
pub struct Tracker<'a> {
    /// Datapoints, oldest first (`None`: no data for that period).
    pub datapoints: &'a [Option<f64>],
    /// The policy's target value.
    pub target: f64,
}

/// What target tracking asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Raise the desired count to this.
    Out(u32),
    /// Lower the desired count to this.
    In(u32),
    /// Nothing to do.
    Hold,
}

fn tail(values: &[Option<f64>], n: usize) -> Option<Vec<f64>> {
    if values.len() < n {
        return None;
    }
    values[values.len() - n..].iter().copied().collect()
}

/// The decision of the policies `trackers` for a service at `desired` tasks.
pub fn decide(trackers: &[Tracker<'_>], desired: u32) -> Decision {
    let mut out_to: Option<u32> = None;
    let mut all_in = !trackers.is_empty();
    let mut in_to = 0u32;
    for t in trackers {
        let Some(latest) = t.datapoints.last().copied().flatten() else {
            all_in = false;
            continue;
        };
        if tail(t.datapoints, OUT_DATAPOINTS).is_some_and(|v| v.iter().all(|x| *x > t.target)) {
            let out = (f64::from(desired.max(1)) * latest / t.target).ceil() as u32;
            out_to = Some(out_to.unwrap_or(0).max(out));
        }
        if tail(t.datapoints, IN_DATAPOINTS)
            .is_some_and(|v| v.iter().all(|x| *x < IN_RATIO * t.target))
        {
            in_to = in_to.max((f64::from(desired) * latest / t.target).ceil() as u32);
        } else {
            all_in = false;
        }
    }
    match out_to {
        Some(out) if out > desired => Decision::Out(out),
        Some(_) => Decision::Hold,
        None if all_in && in_to < desired => {
            let step = (desired / 10).max(1);
            Decision::In(in_to.max(desired.saturating_sub(step)))
        }
        None => Decision::Hold,
    }
}

/// The idle step policy's alarm: the newest `idle_minutes` backlog datapoints (visible + in flight, each the
/// period's Maximum), given newest first, are all zero. Fewer datapoints, or 0 minutes (no such policy): false.
pub fn idle_alarm(backlogs_newest_first: impl Iterator<Item = f64>, idle_minutes: u32) -> bool {
    let n = idle_minutes as usize;
    let mut empty = 0;
    for backlog in backlogs_newest_first.take(n) {
        if backlog != 0.0 {
            return false;
        }
        empty += 1;
    }
    n > 0 && empty == n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_high_datapoints_scale_out_proportionally() {
        let d = [Some(10.0), Some(24.0), Some(24.0), Some(36.0)];
        assert_eq!(
            decide(
                &[Tracker {
                    datapoints: &d,
                    target: 12.0
                }],
                2
            ),
            Decision::Out(6)
        );
        let two = [Some(1.0), Some(24.0), Some(36.0)];
        assert_eq!(
            decide(
                &[Tracker {
                    datapoints: &two,
                    target: 12.0
                }],
                2
            ),
            Decision::Hold
        );
        // From zero as if from one.
        assert_eq!(
            decide(
                &[Tracker {
                    datapoints: &d,
                    target: 12.0
                }],
                0
            ),
            Decision::Out(3)
        );
    }

    #[test]
    fn scale_in_needs_every_policy_and_goes_ten_percent_at_a_time() {
        let low = vec![Some(1.0); 15];
        let busy = vec![Some(0.85); 15];
        let idle = vec![Some(0.1); 15];
        let bpi = Tracker {
            datapoints: &low,
            target: 12.0,
        };
        assert_eq!(
            decide(
                &[
                    bpi,
                    Tracker {
                        datapoints: &busy,
                        target: 0.9
                    }
                ],
                20
            ),
            Decision::Hold,
            "utilization above its low threshold blocks scale-in"
        );
        assert_eq!(
            decide(
                &[
                    bpi,
                    Tracker {
                        datapoints: &idle,
                        target: 0.9
                    }
                ],
                20
            ),
            Decision::In(18)
        );
        assert_eq!(decide(&[bpi], 3), Decision::In(2));
        let gap = [vec![None], vec![Some(1.0); 15]].concat();
        assert_eq!(
            decide(
                &[Tracker {
                    datapoints: &gap[..15],
                    target: 12.0
                }],
                5
            ),
            Decision::Hold,
            "missing data never scales in"
        );
    }

    #[test]
    fn any_policy_can_scale_out_to_the_largest_ask() {
        let low = vec![Some(1.0); 15];
        let hot = vec![Some(1.8); 15];
        assert_eq!(
            decide(
                &[
                    Tracker {
                        datapoints: &low,
                        target: 12.0
                    },
                    Tracker {
                        datapoints: &hot,
                        target: 0.9
                    }
                ],
                5
            ),
            Decision::Out(10)
        );
    }

    #[test]
    fn the_idle_alarm_needs_every_one_of_its_minutes_empty() {
        assert!(idle_alarm([0.0, 0.0, 0.0, 5.0].into_iter(), 3));
        assert!(!idle_alarm([0.0, 1.0, 0.0].into_iter(), 3));
        assert!(!idle_alarm([0.0, 0.0].into_iter(), 3), "too few datapoints");
        assert!(!idle_alarm([0.0; 5].into_iter(), 0), "no idle policy");
    }
}
