//! Application Auto Scaling's target tracking, as the simulator models it: one pure decision shared by the
//! simulator's engine and the local run's scaler (`bpi local-run`), so both apply the same rules.
//!
//! - Scale out when the last [`OUT_DATAPOINTS`] datapoints of a policy are above its target, to
//!   ⌈max(desired, 1) × latest / target⌉ (from zero as if from one: Copilot #3376).
//! - Scale in when the last [`IN_DATAPOINTS`] are below [`IN_RATIO`] × target, towards ⌈desired × latest / target⌉
//!   but by at most a step of the capacity (at least one task) per action (AWS: target tracking scales in
//!   gradually; the step is the model's `scale_in_step_pct`, 10% by default).
//! - Several policies (AWS, "Multiple scaling policies"): out when any asks, to the largest capacity asked; in only
//!   when every policy is ready to, to the largest capacity any of them still needs.
//! - Missing datapoints (TreatMissingData `missing`, target tracking's): an alarm evaluates the newest datapoints
//!   that exist; CloudWatch "attempts to retrieve a higher number of data points than the number specified as
//!   Evaluation Periods" (CloudWatch guide, "Configuring how CloudWatch alarms treat missing data"). How many more
//!   is not documented: here twice as many periods ([`LOOKBACK_FACTOR`], a guess). Fewer datapoints than the
//!   alarm's periods in that range: no action, and that policy does not agree to scale in.
//!
//! [`ScalableTarget`] keeps the scalable target's desired count and cooldown clocks, with the documented cooldown rules.

use crate::model::CooldownRule;

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

/// How far back, as a multiple of an alarm's evaluation periods, it looks for existing datapoints (a guess).
pub const LOOKBACK_FACTOR: usize = 2;

/// The periods a policy should pass to [`decide`]: enough for the scale-in alarm's look-back.
pub const DATAPOINTS_NEEDED: usize = IN_DATAPOINTS * LOOKBACK_FACTOR;

/// The newest `n` existing datapoints within the last `n × LOOKBACK_FACTOR` periods, oldest first; None when fewer
/// exist.
fn tail(values: &[Option<f64>], n: usize) -> Option<Vec<f64>> {
    let range = &values[values.len().saturating_sub(n * LOOKBACK_FACTOR)..];
    let mut existing: Vec<f64> = range.iter().rev().flatten().copied().take(n).collect();
    if existing.len() < n {
        return None;
    }
    existing.reverse();
    Some(existing)
}

/// The decision of the policies `trackers` for a service at `desired` tasks, scaling in by at most 10% per action.
pub fn decide(trackers: &[Tracker<'_>], desired: u32) -> Decision {
    decide_with(trackers, desired, 10)
}

/// [`decide`] with a scale-in step of `scale_in_step_pct` percent of the capacity (at least one task).
pub fn decide_with(trackers: &[Tracker<'_>], desired: u32, scale_in_step_pct: u32) -> Decision {
    let mut out_to: Option<u32> = None;
    let mut all_in = !trackers.is_empty();
    let mut in_to = 0u32;
    for t in trackers {
        let lookback = &t.datapoints[t
            .datapoints
            .len()
            .saturating_sub(OUT_DATAPOINTS * LOOKBACK_FACTOR)..];
        let Some(latest) = lookback.iter().rev().flatten().next().copied() else {
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
            let step = (desired * scale_in_step_pct / 100).max(1);
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

/// The scalable target as Application Auto Scaling keeps it: the desired count within its bounds, and the
/// cooldown clocks.
///
/// - A scale-out ends a scale-in cooldown; a scale-in waits for both cooldowns.
/// - During a scale-out cooldown, with [`CooldownRule::LargerScaleOutPasses`] (documented), a scale-out asking for
///   more than the current desired count goes through. Target tracking then computes from the capacity before the
///   scale-out that started the cooldown ([`ScalableTarget::basis`]): "the capacity added by the initiating scale-out is
///   calculated as part of the desired capacity for the next" (ECS guide, cooldowns), so a metric that still
///   reflects the old fleet does not compound.
#[derive(Debug, Clone)]
pub struct ScalableTarget {
    desired: u32,
    min: u32,
    max: u32,
    rule: CooldownRule,
    /// A scale-out holds target tracking's scale-in for its cooldown ([`crate::AwsModel::scale_out_holds_scale_in`]).
    out_holds_in: bool,
    /// When the last scale-out happened and the capacity before the one that started its cooldown.
    last_out: Option<(u64, u32)>,
    last_in: Option<u64>,
    actions: u32,
    /// (time ms, new desired count) of every change.
    changes: Vec<(u64, u32)>,
}

impl ScalableTarget {
    /// A scalable target at `desired`, bounded by `min..=max`.
    pub fn new(desired: u32, min: u32, max: u32, rule: CooldownRule) -> Self {
        ScalableTarget {
            desired,
            min,
            max,
            rule,
            out_holds_in: true,
            last_out: None,
            last_in: None,
            actions: 0,
            changes: Vec::new(),
        }
    }

    /// The same target with `holds` for whether a scale-out holds target tracking's scale-in for its cooldown.
    pub fn scale_out_holding_scale_in(mut self, holds: bool) -> Self {
        self.out_holds_in = holds;
        self
    }

    /// Whether a scale-out holds target tracking's scale-in for its cooldown.
    pub fn scale_out_holds_scale_in(&self) -> bool {
        self.out_holds_in
    }

    /// Every change of the desired count: (time ms, the new count).
    pub fn changes(&self) -> &[(u64, u32)] {
        &self.changes
    }

    /// The desired count.
    pub fn desired(&self) -> u32 {
        self.desired
    }

    /// The bounds.
    pub fn bounds(&self) -> (u32, u32) {
        (self.min, self.max)
    }

    /// Changes of the desired count so far.
    pub fn actions(&self) -> u32 {
        self.actions
    }

    fn in_out_cooldown(&self, now_ms: u64, cooldown_secs: u64) -> bool {
        self.last_out
            .is_some_and(|(t, _)| now_ms < t + cooldown_secs * 1000)
    }

    /// Whether a scale-out cooldown of `cooldown_secs` has ended.
    pub fn out_cooled(&self, now_ms: u64, cooldown_secs: u64) -> bool {
        !self.in_out_cooldown(now_ms, cooldown_secs)
    }

    /// Whether a scale-in cooldown of `cooldown_secs` has ended.
    pub fn in_cooled(&self, now_ms: u64, cooldown_secs: u64) -> bool {
        self.last_in
            .is_none_or(|t| now_ms >= t + cooldown_secs * 1000)
    }

    /// The capacity target tracking computes from: the desired count, or during a scale-out cooldown the capacity
    /// before the scale-out that started it.
    pub fn basis(&self, now_ms: u64, out_cooldown_secs: u64) -> u32 {
        match self.last_out {
            Some((_, before)) if self.in_out_cooldown(now_ms, out_cooldown_secs) => before,
            _ => self.desired,
        }
    }

    /// A scale-out to `n` by a policy with a scale-out cooldown of `cooldown_secs`; true if it changed anything.
    pub fn scale_out(&mut self, now_ms: u64, n: u32, cooldown_secs: u64) -> bool {
        let n = n.clamp(self.min, self.max);
        if n <= self.desired {
            return false;
        }
        let cooling = self.in_out_cooldown(now_ms, cooldown_secs);
        if cooling && self.rule == CooldownRule::BlocksAll {
            return false;
        }
        let before = match self.last_out {
            Some((_, before)) if cooling => before,
            _ => self.desired,
        };
        self.last_out = Some((now_ms, before));
        self.last_in = None;
        self.apply(now_ms, n)
    }

    /// A scale-in to `n` by a policy with these cooldowns; true if it changed anything.
    pub fn scale_in(
        &mut self,
        now_ms: u64,
        n: u32,
        in_cooldown_secs: u64,
        out_cooldown_secs: u64,
    ) -> bool {
        let n = n.clamp(self.min, self.max);
        if n >= self.desired
            || !self.in_cooled(now_ms, in_cooldown_secs)
            || (self.out_holds_in && self.in_out_cooldown(now_ms, out_cooldown_secs))
        {
            return false;
        }
        self.last_in = Some(now_ms);
        self.apply(now_ms, n)
    }

    /// Sets the desired count directly (a step policy's ExactCapacity, an HPA), recording the direction for the
    /// cooldown clocks; true if it changed anything.
    pub fn set(&mut self, now_ms: u64, n: u32) -> bool {
        let n = n.clamp(self.min, self.max);
        if n > self.desired {
            self.last_out = Some((now_ms, self.desired));
            self.last_in = None;
        } else if n < self.desired {
            self.last_in = Some(now_ms);
        }
        self.apply(now_ms, n)
    }

    /// A scheduled action's new minimum capacity (clamped to the maximum): a minimum above the desired count pulls
    /// it up, one below changes nothing until a policy scales in (AAS user guide, scheduled scaling). The cooldown
    /// clocks are the policies' and stay as they are.
    pub fn set_min(&mut self, now_ms: u64, min: u32) {
        self.min = min.min(self.max);
        if self.desired < self.min {
            self.apply(now_ms, self.min);
        }
    }

    fn apply(&mut self, now_ms: u64, n: u32) -> bool {
        if n == self.desired {
            return false;
        }
        self.desired = n;
        self.actions += 1;
        self.changes.push((now_ms, n));
        true
    }
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
        let gappy: Vec<Option<f64>> = (0..30).map(|i| (i % 2 == 1).then_some(1.0)).collect();
        assert_eq!(
            decide(
                &[Tracker {
                    datapoints: &gappy[..29],
                    target: 12.0
                }],
                5
            ),
            Decision::Hold,
            "14 datapoints in 29 periods: too few to scale in"
        );
        let one_gap = [vec![Some(1.0); 14], vec![None], vec![Some(1.0)]].concat();
        assert_eq!(
            decide(
                &[Tracker {
                    datapoints: &one_gap,
                    target: 12.0
                }],
                5
            ),
            Decision::In(4),
            "a missing period is looked past, as CloudWatch retrieves more periods than it evaluates"
        );
        assert_eq!(
            decide(
                &[Tracker {
                    datapoints: &[Some(1.0), None, None, None, None, None, None],
                    target: 12.0
                }],
                5
            ),
            Decision::Hold,
            "nothing in the look-back: no data, no action"
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
    fn the_scale_in_step_is_a_parameter() {
        let low = vec![Some(1.0); 15];
        let bpi = Tracker {
            datapoints: &low,
            target: 12.0,
        };
        assert_eq!(decide_with(&[bpi], 20, 10), Decision::In(18));
        assert_eq!(decide_with(&[bpi], 20, 50), Decision::In(10));
        assert_eq!(
            decide_with(&[bpi], 20, 100),
            Decision::In(2),
            "to the formula"
        );
    }

    #[test]
    fn a_larger_scale_out_passes_the_cooldown_and_computes_from_the_capacity_before_it() {
        let mut s = ScalableTarget::new(2, 1, 50, CooldownRule::LargerScaleOutPasses);
        assert!(s.scale_out(0, 6, 60));
        assert_eq!(
            s.basis(30_000, 60),
            2,
            "in cooldown: from the capacity before"
        );
        assert!(!s.scale_out(30_000, 6, 60), "not larger");
        assert!(s.scale_out(30_000, 9, 60), "larger: passes");
        assert_eq!(
            s.basis(60_000, 60),
            2,
            "still the initiating scale-out's base"
        );
        assert_eq!(s.basis(90_000, 60), 9, "cooled");
        assert!(
            !s.scale_in(60_000, 5, 120, 60),
            "scale-in waits for the scale-out cooldown"
        );
        assert!(s.scale_in(90_000, 5, 120, 60));
        assert!(!s.scale_in(100_000, 4, 120, 60), "scale-in cooldown");
        assert!(
            s.scale_out(100_000, 7, 60),
            "a scale-out ends a scale-in cooldown"
        );
        let mut strict = ScalableTarget::new(2, 1, 50, CooldownRule::BlocksAll);
        assert!(strict.scale_out(0, 6, 60));
        assert!(
            !strict.scale_out(30_000, 9, 60),
            "the old model blocks every scale-out"
        );
        assert_eq!(s.actions(), 4);
    }

    #[test]
    fn where_a_scale_out_does_not_hold_scale_in_it_can_follow_at_once() {
        let mut held = ScalableTarget::new(2, 1, 50, CooldownRule::LargerScaleOutPasses);
        let mut free = ScalableTarget::new(2, 1, 50, CooldownRule::LargerScaleOutPasses)
            .scale_out_holding_scale_in(false);
        assert!(held.scale_out_holds_scale_in() && !free.scale_out_holds_scale_in());
        assert!(held.scale_out(0, 10, 60) && free.scale_out(0, 10, 60));
        assert!(!held.scale_in(30_000, 9, 120, 60), "held for 60 s");
        assert!(free.scale_in(30_000, 9, 120, 60), "not held");
        assert!(
            !free.scale_in(60_000, 8, 120, 60),
            "its own scale-in cooldown still counts"
        );
        assert_eq!(free.desired(), 9);
    }

    #[test]
    fn the_idle_alarm_needs_every_one_of_its_minutes_empty() {
        assert!(idle_alarm([0.0, 0.0, 0.0, 5.0].into_iter(), 3));
        assert!(!idle_alarm([0.0, 1.0, 0.0].into_iter(), 3));
        assert!(!idle_alarm([0.0, 0.0].into_iter(), 3), "too few datapoints");
        assert!(!idle_alarm([0.0; 5].into_iter(), 0), "no idle policy");
    }
}
