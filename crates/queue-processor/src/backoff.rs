//! Exponential backoff with full jitter, for the loops that must keep going through throttling and outages
//! without ever busy-spinning.

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
