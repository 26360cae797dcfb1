//! Exponential backoff with full jitter for retrying deliveries.
//!
//! Full jitter (AWS architecture blog, "Exponential Backoff And Jitter") spreads
//! the retries of many agents hitting a recovering collector, instead of having
//! them all come back in lock-step.

use std::time::Duration;

use rand::Rng;

/// Upper bound on a server's `Retry-After`, so a bogus header cannot park the queue for days.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Backoff policy: `sleep = random(0, min(max, initial * 2^attempt))`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    pub(crate) initial: Duration,
    pub(crate) max: Duration,
}

impl Backoff {
    /// The ceiling of the jitter window for `attempt` (0-based): `min(max, initial * 2^attempt)`.
    pub(crate) fn ceiling(&self, attempt: u32) -> Duration {
        // Saturating arithmetic: 2^attempt overflows quickly, the cap does not.
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// A random delay in `[0, ceiling(attempt)]`.
    pub(crate) fn delay(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = u64::try_from(self.ceiling(attempt).as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.random_range(0..=ceiling))
    }

    /// The wait before the next attempt: the server's `Retry-After` when it gave
    /// one (bounded by [`MAX_RETRY_AFTER`]), otherwise the jittered backoff.
    pub(crate) fn next_wait(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(wait) => wait.min(MAX_RETRY_AFTER),
            None => self.delay(attempt, &mut rand::rng()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn policy() -> Backoff {
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }

    #[test]
    fn ceiling_doubles_then_caps() {
        let b = policy();
        assert_eq!(b.ceiling(0), Duration::from_millis(500));
        assert_eq!(b.ceiling(1), Duration::from_secs(1));
        assert_eq!(b.ceiling(5), Duration::from_secs(16));
        assert_eq!(b.ceiling(6), Duration::from_secs(30));
        assert_eq!(b.ceiling(1000), Duration::from_secs(30));
    }

    #[test]
    fn full_jitter_stays_in_bounds_and_spreads() {
        let b = policy();
        let mut rng = StdRng::seed_from_u64(42);
        for attempt in 0..12 {
            let ceiling = b.ceiling(attempt);
            let samples: Vec<Duration> = (0..500).map(|_| b.delay(attempt, &mut rng)).collect();
            assert!(samples.iter().all(|d| *d <= ceiling), "attempt {attempt}");
            // Full jitter: the whole window [0, ceiling] is used, not just its top.
            assert!(
                samples.iter().any(|d| *d < ceiling / 4),
                "attempt {attempt}"
            );
            assert!(
                samples.iter().any(|d| *d > ceiling * 3 / 4),
                "attempt {attempt}"
            );
        }
    }

    #[test]
    fn retry_after_wins_but_is_bounded() {
        let b = policy();
        assert_eq!(
            b.next_wait(3, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
        assert_eq!(
            b.next_wait(0, Some(Duration::from_secs(100_000))),
            MAX_RETRY_AFTER
        );
        assert!(b.next_wait(0, None) <= Duration::from_millis(500));
    }
}
