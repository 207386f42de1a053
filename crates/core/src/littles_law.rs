//! MPD without the worker's metric, for a team that keeps its own poller and publishes no `MsgProcessingDuration`.
//!
//! Little's law (L = λ·W) holds for any stable system whatever the arrival pattern: the mean number of messages in
//! flight (L) is the completion rate (λ) times the mean time a message spends in flight (W). SQS publishes both
//! sides per minute: `ApproximateNumberOfMessagesNotVisible` (Average: L) and `NumberOfMessagesDeleted` (Sum:
//! completions). So W = Σ(L × 60 s) / Σ deleted over the minutes where both are known.
//!
//! W is the time from receive to delete, which is the processing time plus what a worker adds around it:
//! - messages received ahead and waiting in a worker's buffer (a prefetch) count as in flight: W grows by their wait;
//! - a message that fails stays in flight until its visibility timeout without being deleted: W grows;
//! - the in-flight gauge is SQS's approximation, sampled on SQS's own clock (see the simulator's AWS model).
//!
//! Its bias is therefore long, towards a lower target and more tasks, the safe side for the latency promise; a
//! window can still read a little short. The simulator reports how far it is from the measured MPD in each
//! scenario (docs/worker.md, "Without this worker"), with SQS's gauge and with the sampler's own readings.

use serde::{Deserialize, Serialize};

use crate::mpd::MpdEstimate;

/// What SQS says of one minute of a queue's activity.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ActivityMinute {
    /// `ApproximateNumberOfMessagesNotVisible`, Average over the minute.
    pub in_flight_mean: f64,
    /// `NumberOfMessagesDeleted`, Sum over the minute.
    pub deleted: f64,
}

impl ActivityMinute {
    fn is_valid(&self) -> bool {
        self.in_flight_mean.is_finite()
            && self.deleted.is_finite()
            && self.in_flight_mean >= 0.0
            && self.deleted >= 0.0
    }
}

/// The mean time in flight by Little's law over `minutes` (each 60 s): Σ(in-flight × 60) / Σ deleted. Unknown
/// below `min_samples` deletions (the deletions are the estimate's samples).
pub fn estimate_mpd_littles_law(minutes: &[ActivityMinute], min_samples: u64) -> MpdEstimate {
    let (message_secs, deleted) = minutes
        .iter()
        .filter(|m| m.is_valid())
        .fold((0.0_f64, 0.0_f64), |(l, d), m| {
            (l + m.in_flight_mean * 60.0, d + m.deleted)
        });
    let samples = deleted.round() as u64;
    let min_samples = min_samples.max(1);
    if samples < min_samples || deleted <= 0.0 || message_secs <= 0.0 {
        return MpdEstimate::Unknown {
            samples,
            min_samples,
        };
    }
    MpdEstimate::Known {
        mpd_secs: message_secs / deleted,
        samples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minute(in_flight_mean: f64, deleted: f64) -> ActivityMinute {
        ActivityMinute {
            in_flight_mean,
            deleted,
        }
    }

    #[test]
    fn steady_state_gives_the_time_in_flight() {
        // 8 tasks × 1 slot always busy with 5 s messages: 8 in flight, 96 deleted a minute → 5 s.
        let est = estimate_mpd_littles_law(&[minute(8.0, 96.0); 10], 20);
        assert_eq!(
            est,
            MpdEstimate::Known {
                mpd_secs: 5.0,
                samples: 960
            }
        );
    }

    #[test]
    fn weighted_over_the_window_and_unknown_when_idle() {
        // Busy minutes weigh by their deletions; idle minutes add nothing to either side.
        let est = estimate_mpd_littles_law(
            &[minute(2.0, 12.0), minute(0.0, 0.0), minute(10.0, 60.0)],
            20,
        );
        assert_eq!(est.mpd_secs(), Some(10.0));
        assert_eq!(
            estimate_mpd_littles_law(&[minute(1.0, 5.0)], 20),
            MpdEstimate::Unknown {
                samples: 5,
                min_samples: 20
            }
        );
        assert!(
            estimate_mpd_littles_law(&[minute(f64::NAN, 100.0)], 20)
                .mpd_secs()
                .is_none()
        );
    }
}
