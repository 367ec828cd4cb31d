//! The rate limit: a token bucket (GCRA, through `governor`) per user, or
//! per client address for anonymous requests. It counts operations, not
//! HTTP requests: each root field of a mutation takes one token (the
//! GraphQL guard tells how many), so one request with a thousand aliased
//! mutations is refused like a thousand requests.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use doorbraak_graphql::{Admission, RateKey};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Operations per second a caller may run, with a burst allowance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            per_second: 50.0,
            burst: 200.0,
        }
    }
}

/// Forget callers whose buckets are full again every this many checks, so
/// the map holds only recent callers.
const SWEEP_EVERY: u64 = 4096;

pub struct Limiter {
    inner: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("callers", &self.inner.len())
            .finish()
    }
}

impl Limiter {
    pub fn new(limit: RateLimit) -> Limiter {
        let burst = NonZeroU32::new(limit.burst.clamp(1.0, f64::from(u32::MAX)) as u32)
            .unwrap_or(NonZeroU32::MIN);
        let period = Duration::from_secs_f64(1.0 / limit.per_second.max(1e-6));
        let quota = Quota::with_period(period.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Limiter {
            inner: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// Takes `n` tokens for `key`; `Err(wait)` when there are not enough.
    pub fn check_n(&self, key: &str, n: u32) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.inner.retain_recent();
            self.inner.shrink_to_fit();
        }
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        match self.inner.check_key_n(&key.to_owned(), n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(not_until.wait_time_from(self.clock.now())),
            // More than the burst at once can never pass; wait a minute.
            Err(_) => Err(Duration::from_secs(60)),
        }
    }
}

impl Admission for Limiter {
    fn admit(&self, key: &RateKey, operations: u32) -> Result<(), Duration> {
        self.check_n(&key.0, operations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_refusal() {
        let l = Limiter::new(RateLimit {
            per_second: 0.001,
            burst: 3.0,
        });
        assert!(l.check_n("a", 1).is_ok());
        assert!(l.check_n("a", 1).is_ok());
        assert!(l.check_n("a", 1).is_ok());
        assert!(l.check_n("a", 1).is_err());
        assert!(l.check_n("b", 1).is_ok(), "buckets are per caller");
    }

    #[test]
    fn operations_count_not_requests() {
        let l = Limiter::new(RateLimit {
            per_second: 0.001,
            burst: 10.0,
        });
        assert!(l.check_n("a", 8).is_ok());
        let wait = l.check_n("a", 3).unwrap_err();
        assert!(wait > Duration::from_secs(100), "{wait:?}");
        assert!(l.check_n("a", 2).is_ok(), "what is left can still be used");
        assert!(
            l.check_n("b", 11).is_err(),
            "more than the burst never passes"
        );
    }
}
