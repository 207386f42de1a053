//! Exponential backoff with jitter, for what the SDK's own retries cannot cover, shared by every component.
//!
//! The retry layers, each retrying something once:
//! - **the SDK** (standard mode, [`crate::sdk_config::MAX_ATTEMPTS`] attempts, exponential backoff with jitter and a
//!   retry quota) retries a failed *call*: throttling, 5xx, timeouts, refused connections. Nothing above it repeats
//!   a call the SDK has given up on;
//! - **this backoff** paces what the SDK cannot see: entries a batch call refused for a transient reason inside a
//!   successful answer (SendMessageBatch, DeleteMessageBatch), the worker's receive loop, which must keep going
//!   through an outage rather than stop (each failed receive has already had the SDK's attempts), and the ECS
//!   agent's task-protection endpoint, which is plain HTTP outside the SDK.

use std::time::Duration;

/// Backoff state: the delay doubles per failure from `base` up to `max`; each wait is a random point in
/// `[delay/2, delay]` so that a fleet of workers does not retry in lockstep.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    /// A backoff from `base` to `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max,
            failures: 0,
        }
    }

    /// The wait before the next attempt, after one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let exp = self.failures.min(20);
        self.failures = self.failures.saturating_add(1);
        let delay = self.base.saturating_mul(1u32 << exp).min(self.max);
        let half = delay / 2;
        half + delay.saturating_sub(half).mul_f64(rand::random::<f64>())
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Records a success: the next failure starts from `base` again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_with_jitter_up_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let delays: Vec<_> = (0..8).map(|_| b.next_delay()).collect();
        assert!(delays[0] >= Duration::from_millis(50) && delays[0] <= Duration::from_millis(100));
        assert!(delays[2] >= Duration::from_millis(200) && delays[2] <= Duration::from_millis(400));
        assert!(
            delays
                .iter()
                .all(|d| *d <= Duration::from_secs(2) && *d >= Duration::from_millis(50))
        );
        assert!(
            delays[7] >= Duration::from_secs(1),
            "capped at 2 s, jittered down to no less than half"
        );
        assert_eq!(b.failures(), 8);
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }
}
