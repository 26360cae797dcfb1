//! The one in-flight budget: bytes held by requests being read, decoded and
//! stored, shared by every receiver (OTLP/HTTP, OTLP/gRPC, remote-write),
//! as the OpenTelemetry Collector's `memory_limiter` and Mimir's
//! `max_inflight_push_requests_bytes` bound theirs. A request takes a
//! [`Permit`] for its body bytes, grows it by the estimated decoded size
//! before decoding, and gives it back when its answer is ready (RAII).
//!
//! **Invariant:** the bytes held by all live permits never exceed the
//! budget's limit; a request that cannot get its bytes is refused at once
//! (never queued), [`Refusal::Busy`] when it would fit later (429, retry)
//! and [`Refusal::NeverFits`] when it alone is over the whole budget (413).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A limit on bytes in flight and what live permits hold of it.
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    used: AtomicUsize,
}

/// Why a permit could not get its bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Other requests hold the budget now: retry later (429).
    #[error(
        "{needed} bytes do not fit in the in-flight budget now ({in_use} of {limit} bytes held by other requests; collector.limits.max_inflight_bytes): retry later"
    )]
    Busy {
        /// Bytes this request needs in all.
        needed: usize,
        /// Bytes held when it asked.
        in_use: usize,
        /// The budget.
        limit: usize,
    },
    /// This request alone needs more than the whole budget (413).
    #[error(
        "request needs about {needed} bytes in memory, over the whole in-flight budget of {limit} bytes (collector.limits.max_inflight_bytes)"
    )]
    NeverFits {
        /// Bytes this request needs in all.
        needed: usize,
        /// The budget.
        limit: usize,
    },
}

impl Budget {
    /// A budget of `limit` bytes, none held.
    pub fn new(limit: usize) -> Arc<Budget> {
        Arc::new(Budget {
            limit,
            used: AtomicUsize::new(0),
        })
    }

    /// Bytes held by live permits now.
    pub fn in_use(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    /// The limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// A permit holding `bytes`, or why not.
    pub fn reserve(self: &Arc<Budget>, bytes: usize) -> Result<Permit, Refusal> {
        let mut permit = Permit {
            budget: Arc::clone(self),
            held: 0,
        };
        permit.grow(bytes)?;
        Ok(permit)
    }

    fn take(&self, held: usize, more: usize) -> Result<(), Refusal> {
        let needed = held.saturating_add(more);
        if needed > self.limit {
            return Err(Refusal::NeverFits {
                needed,
                limit: self.limit,
            });
        }
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(more).filter(|&total| total <= self.limit)
            })
            .map(|_| ())
            .map_err(|used| Refusal::Busy {
                needed,
                in_use: used.saturating_sub(held),
                limit: self.limit,
            })
    }
}

/// Bytes of the budget held by one request; given back on drop.
#[derive(Debug)]
pub struct Permit {
    budget: Arc<Budget>,
    held: usize,
}

impl Permit {
    /// Takes `more` bytes on top of what this permit holds. On refusal the
    /// permit keeps what it had.
    pub fn grow(&mut self, more: usize) -> Result<(), Refusal> {
        self.budget.take(self.held, more)?;
        self.held += more;
        Ok(())
    }

    /// Bytes this permit holds.
    pub fn held(&self) -> usize {
        self.held
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.held, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_share_the_budget_and_give_it_back() {
        let budget = Budget::new(100);
        let mut a = budget.reserve(40).expect("fits");
        a.grow(20).expect("fits");
        assert_eq!((a.held(), budget.in_use()), (60, 60));
        let b = budget.reserve(50);
        assert_eq!(
            b.map(|_| ()),
            Err(Refusal::Busy {
                needed: 50,
                in_use: 60,
                limit: 100
            })
        );
        let c = budget.reserve(40).expect("fits beside a");
        assert_eq!(budget.in_use(), 100);
        drop(a);
        assert_eq!(budget.in_use(), 40);
        drop(c);
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn a_request_over_the_whole_budget_never_fits() {
        let budget = Budget::new(100);
        let mut p = budget.reserve(60).expect("fits");
        assert_eq!(
            p.grow(41),
            Err(Refusal::NeverFits {
                needed: 101,
                limit: 100
            })
        );
        assert_eq!((p.held(), budget.in_use()), (60, 60));
        assert!(matches!(
            budget.reserve(usize::MAX),
            Err(Refusal::NeverFits { .. })
        ));
        drop(p);
        assert_eq!(budget.in_use(), 0);
    }
}
