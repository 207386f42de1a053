//! Application Auto Scaling's scheduled actions on the simulated scalable target.
//!
//! Why it exists: the forecaster (core's `forecast`) writes scheduled actions that raise and lower the minimum
//! capacity; the simulator runs them as AAS does. An action fires at each minute its cron expression (UTC) names
//! and takes effect [`crate::AwsModel::scheduled_action_delay_secs`] later ("a delay of a few seconds", AAS user
//! guide, scheduled scaling); its MinCapacity bounds the scalable target from then on ([`ScalableTarget::set_min`]).
//! Names are unique per target: a put of an existing name replaces it (PutScheduledAction).

use bpi_core::forecast::{ExistingAction, ScheduledActionSpec};

use crate::autoscaling::ScalableTarget;
use crate::metrics::MINUTE_MS;

/// The wall-clock minute virtual time 0 is: 2026-11-02 00:00 UTC, a Monday (so weekday patterns start on one).
pub const SIM_EPOCH_MINUTE: u64 = 29_892_960;

/// The scheduled actions of the scalable target and the firings on their way.
#[derive(Debug, Clone, Default)]
pub struct ScheduledActions {
    actions: Vec<ScheduledActionSpec>,
    /// (effective at ms, MinCapacity) of actions that fired.
    pending: Vec<(u64, u32)>,
    puts: u32,
    deletes: u32,
    fired: u32,
}

impl ScheduledActions {
    /// The epoch minute of virtual time `now_ms`.
    pub fn epoch_minute(now_ms: u64) -> u64 {
        SIM_EPOCH_MINUTE + now_ms / MINUTE_MS
    }

    /// PutScheduledAction: creates or replaces the action of that name.
    pub fn put(&mut self, spec: ScheduledActionSpec) {
        self.puts += 1;
        match self.actions.iter_mut().find(|a| a.name == spec.name) {
            Some(a) => *a = spec,
            None => self.actions.push(spec),
        }
    }

    /// DeleteScheduledAction.
    pub fn delete(&mut self, name: &str) {
        self.deletes += 1;
        self.actions.retain(|a| a.name != name);
    }

    /// DescribeScheduledActions, as the reconcile reads it.
    pub fn describe(&self) -> Vec<ExistingAction> {
        self.actions
            .iter()
            .map(ScheduledActionSpec::as_written)
            .collect()
    }

    /// The actions held.
    pub fn actions(&self) -> &[ScheduledActionSpec] {
        &self.actions
    }

    /// (puts, deletes, firings) so far.
    pub fn counts(&self) -> (u32, u32, u32) {
        (self.puts, self.deletes, self.fired)
    }

    /// At `now_ms`: at a minute's start, every action whose cron names it fires; firings whose delay has passed
    /// set the minimum on `scaler`, in the order they fired.
    pub fn run(&mut self, now_ms: u64, delay_secs: u64, scaler: &mut ScalableTarget) {
        if now_ms.is_multiple_of(MINUTE_MS) {
            let minute = Self::epoch_minute(now_ms);
            for a in &self.actions {
                if a.recurrence.fires_at(minute) {
                    self.pending
                        .push((now_ms + delay_secs * 1000, a.min_capacity));
                    self.fired += 1;
                }
            }
        }
        if self.pending.iter().any(|(at, _)| *at <= now_ms) {
            let mut due: Vec<(u64, u32)> = Vec::new();
            self.pending.retain(|p| {
                if p.0 <= now_ms {
                    due.push(*p);
                    false
                } else {
                    true
                }
            });
            due.sort_by_key(|p| p.0);
            for (_, min) in due {
                scaler.set_min(now_ms, min);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CooldownRule;
    use bpi_core::forecast::{Recurrence, Slots};

    fn daily(name: &str, minute_of_day: u16, min_capacity: u32) -> ScheduledActionSpec {
        ScheduledActionSpec {
            name: name.into(),
            recurrence: Recurrence::Daily {
                minute_of_day,
                weekdays: Slots::ALL_WEEKDAYS,
            },
            min_capacity,
        }
    }

    #[test]
    fn a_raise_pulls_the_desired_count_up_a_few_seconds_later_and_a_lower_leaves_it() {
        let mut s = ScheduledActions::default();
        let mut scaler = ScalableTarget::new(0, 0, 60, CooldownRule::LargerScaleOutPasses);
        s.put(daily("bpi-forecast-daily-1-raise", 133, 40));
        s.put(daily("bpi-forecast-daily-1-lower", 144, 0));
        let at = |minute: u64| minute * MINUTE_MS;
        s.run(at(133), 10, &mut scaler);
        assert_eq!(scaler.desired(), 0, "not yet: the delay");
        s.run(at(133) + 10_000, 10, &mut scaler);
        assert_eq!((scaler.desired(), scaler.bounds().0), (40, 40));
        assert!(!scaler.set(at(140), 10), "the minimum holds the fleet");
        s.run(at(144), 10, &mut scaler);
        s.run(at(144) + 10_000, 10, &mut scaler);
        assert_eq!(
            (scaler.desired(), scaler.bounds().0),
            (40, 0),
            "a lower scales nothing in"
        );
        assert!(scaler.set(at(146), 10));
        // The next day it fires again; a put of the same name replaces, a delete removes.
        s.put(daily("bpi-forecast-daily-1-raise", 133, 20));
        s.delete("bpi-forecast-daily-1-lower");
        assert_eq!(s.actions().len(), 1);
        s.run(at(1440 + 133), 0, &mut scaler);
        assert_eq!(scaler.desired(), 20);
        assert_eq!(s.counts(), (3, 1, 3));
    }
}
