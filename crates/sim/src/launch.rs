//! Fargate's launch quotas, as published: how fast the service's tasks can be launched.
//!
//! Why it exists: the simulator used to assume "about 20 launches a minute per service", a practitioners' figure.
//! The published quotas are far looser (ECS developer guide, "Amazon ECS API request throttling" / Fargate
//! throttling: a token bucket per account and Region of a burst of 100 task launches, refilled at 20 a second; AWS
//! General Reference, ECS endpoints and quotas: "Rate of tasks launched by a service on AWS Fargate: 500 per service
//! per minute"). The account's bucket is shared with every other service of the account and Region, so how much of
//! it one service gets is not documented: the robust ensemble explores a crowded account beside the published figures.
//!
//! Both limits constrain how many launches fall in any interval (at most `burst + per_sec × length`, and at most
//! `per_service_per_minute` in any 60 s), so they hold forwards and backwards in time alike: the fleet delays a
//! launch to the first moment allowed ([`LaunchLimiter::admit`]), the oracle moves its launches earlier by running
//! the same limiter over reversed time ([`extra_ms_moving_earlier`]).

use std::collections::VecDeque;

use serde::Serialize;

/// The launch limits a service meets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LaunchQuota {
    /// Launches the account's bucket holds (0: no bucket, no limit from it).
    pub burst: u32,
    /// Launches a second the bucket refills.
    pub per_sec: f64,
    /// Launches a service may make in any 60 s (0: no such limit).
    pub per_service_per_minute: u32,
}

impl LaunchQuota {
    /// The published quotas, the whole account bucket available to this service.
    pub const PUBLISHED: LaunchQuota = LaunchQuota {
        burst: 100,
        per_sec: 20.0,
        per_service_per_minute: 500,
    };

    /// A guess: an account whose other services hold most of the bucket (a tenth of it left to this service).
    pub const CROWDED_ACCOUNT: LaunchQuota = LaunchQuota {
        burst: 10,
        per_sec: 2.0,
        per_service_per_minute: 500,
    };

    /// No limit at all.
    pub const UNLIMITED: LaunchQuota = LaunchQuota {
        burst: 0,
        per_sec: 0.0,
        per_service_per_minute: 0,
    };

    /// A short label for tables.
    pub fn label(&self) -> String {
        if *self == LaunchQuota::UNLIMITED {
            "no launch limit".to_string()
        } else {
            format!(
                "launches: burst {}, {}/s, {}/min per service",
                self.burst, self.per_sec, self.per_service_per_minute
            )
        }
    }
}

/// Admits launches in time order under a [`LaunchQuota`].
#[derive(Debug, Clone)]
pub struct LaunchLimiter {
    quota: LaunchQuota,
    /// Tokens in the bucket at `at_ms`.
    tokens: f64,
    at_ms: u64,
    /// The last `per_service_per_minute` launches.
    recent: VecDeque<u64>,
}

impl LaunchLimiter {
    /// A limiter with a full bucket.
    pub fn new(quota: LaunchQuota) -> Self {
        LaunchLimiter {
            quota,
            tokens: f64::from(quota.burst),
            at_ms: 0,
            recent: VecDeque::new(),
        }
    }

    /// The first moment at or after `wanted_ms` (and after every launch admitted before) that a launch is allowed;
    /// records the launch there.
    pub fn admit(&mut self, wanted_ms: u64) -> u64 {
        let mut at = wanted_ms.max(self.at_ms);
        if self.quota.burst > 0 && self.quota.per_sec > 0.0 {
            let refilled = self.tokens + (at - self.at_ms) as f64 * self.quota.per_sec / 1000.0;
            let tokens = refilled.min(f64::from(self.quota.burst));
            if tokens >= 1.0 {
                self.tokens = tokens - 1.0;
            } else {
                // Less a hair, so that float rounding never adds a millisecond.
                at += ((1.0 - tokens) * 1000.0 / self.quota.per_sec - 1e-6).ceil() as u64;
                self.tokens = 0.0;
            }
        }
        let window = self.quota.per_service_per_minute as usize;
        if window > 0 {
            if self.recent.len() == window {
                let oldest = self.recent.pop_front().unwrap_or(0);
                at = at.max(oldest + 60_000);
            }
            self.recent.push_back(at);
        }
        self.at_ms = at;
        at
    }
}

/// Moves `launches` earlier so that they meet `quota` (each as late as allowed, none later than asked); returns
/// the extra billed time. The limits bound launches per interval, so the latest feasible schedule is the
/// limiter's over reversed time.
pub fn extra_ms_moving_earlier(launches: &mut [u64], quota: LaunchQuota) -> u64 {
    let Some(&last) = launches.iter().max() else {
        return 0;
    };
    launches.sort_unstable_by(|a, b| b.cmp(a));
    let mut limiter = LaunchLimiter::new(quota);
    let mut extra = 0;
    for t in launches.iter_mut() {
        let reversed = limiter.admit(last - *t);
        let moved = last.saturating_sub(reversed);
        extra += *t - moved.min(*t);
        *t = moved.min(*t);
    }
    extra
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_lets_a_burst_through_then_refills_at_its_rate() {
        let quota = LaunchQuota {
            burst: 3,
            per_sec: 2.0,
            per_service_per_minute: 0,
        };
        let mut l = LaunchLimiter::new(quota);
        let at: Vec<u64> = (0..6).map(|_| l.admit(1_000)).collect();
        // Three at once, then one every 500 ms.
        assert_eq!(at, vec![1_000, 1_000, 1_000, 1_500, 2_000, 2_500]);
        // Ten seconds later the bucket is full again.
        assert_eq!(l.admit(20_000), 20_000);
    }

    #[test]
    fn a_service_launches_at_most_its_quota_a_minute() {
        let quota = LaunchQuota {
            burst: 0,
            per_sec: 0.0,
            per_service_per_minute: 2,
        };
        let mut l = LaunchLimiter::new(quota);
        assert_eq!(
            [l.admit(0), l.admit(0), l.admit(0), l.admit(10_000)],
            [0, 0, 60_000, 60_000]
        );
        let mut free = LaunchLimiter::new(LaunchQuota::UNLIMITED);
        assert!((0..1_000).all(|_| free.admit(5) == 5));
    }

    #[test]
    fn the_published_quota_lets_a_hundred_tasks_start_together() {
        let mut l = LaunchLimiter::new(LaunchQuota::PUBLISHED);
        let at: Vec<u64> = (0..120).map(|_| l.admit(0)).collect();
        assert!(at[..100].iter().all(|t| *t == 0));
        // Then 20 a second: the 120th at 1 s.
        assert_eq!(at[119], 1_000);
    }

    #[test]
    fn moving_earlier_mirrors_the_limiter() {
        // Five launches wanted at 10 s with a bucket of 2 and 1 a second: two at 10 s, then 9, 8, 7 s.
        let quota = LaunchQuota {
            burst: 2,
            per_sec: 1.0,
            per_service_per_minute: 0,
        };
        let mut launches = vec![10_000; 5];
        assert_eq!(extra_ms_moving_earlier(&mut launches, quota), 6_000);
        launches.sort_unstable();
        assert_eq!(launches, vec![7_000, 8_000, 9_000, 10_000, 10_000]);
        assert_eq!(
            extra_ms_moving_earlier(&mut [5, 5, 5], LaunchQuota::UNLIMITED),
            0
        );
    }
}
