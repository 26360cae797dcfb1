//! What ingest refused in one request, and the one answer a receiver gives
//! for it: 400 / `INVALID_ARGUMENT` for items the client must fix, 429 /
//! `RESOURCE_EXHAUSTED` with `Retry-After` for new series past a series
//! limit (retrying may succeed once retention frees slots), each naming the
//! refused items and how many were stored.
//!
//! When a request has both, it answers 429: a sender that drops the request
//! on 400 would lose the limited series for good, while one that retries
//! gets the 400 once the limit frees (the stored items are duplicates then,
//! which the store accepts).
//!
//! **Invariant:** acknowledged means stored; every refused item is counted
//! here and named (up to [`MAX_NAMED`] reasons, the rest counted), never
//! silently dropped.

use std::fmt::Display;

use sextant_store::SeriesLimit;

use crate::api::error::{ApiError, ErrorType};

/// Reasons quoted in one answer; the rest are counted.
pub const MAX_NAMED: usize = 5;
/// What a 429 tells the sender to wait: retention, which frees series
/// slots, runs once a minute.
pub const RETRY_AFTER_SECS: u64 = 60;

/// Items of one request refused by validation or a series limit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Refusals {
    /// Items refused as invalid (the client must fix them).
    pub invalid: u64,
    /// Items refused because their new series would pass a series limit.
    pub limited: u64,
    /// Series refused per (source, limit), for the per-source counter.
    pub by_source: Vec<(String, SeriesLimit, u64)>,
    reasons: Vec<String>,
    unnamed: usize,
}

impl Refusals {
    /// Whether nothing was refused.
    pub fn is_empty(&self) -> bool {
        self.invalid == 0 && self.limited == 0
    }

    /// Records `items` refused as invalid: `what` (a bounded description) and why.
    pub fn invalid(&mut self, items: u64, what: &str, why: impl Display) {
        self.invalid += items;
        self.name(|| format!("{what}: {why}"));
    }

    /// Records `items` of a new series refused by `limit`.
    pub fn limited(
        &mut self,
        items: u64,
        what: &str,
        source: &str,
        limit: SeriesLimit,
        why: impl Display,
    ) {
        self.limited += items;
        match self
            .by_source
            .iter_mut()
            .find(|(s, l, _)| s == source && *l == limit)
        {
            Some((_, _, n)) => *n += 1,
            None => self.by_source.push((source.to_string(), limit, 1)),
        }
        self.name(|| format!("{what}: {why}"));
    }

    fn name(&mut self, reason: impl FnOnce() -> String) {
        if self.reasons.len() < MAX_NAMED {
            self.reasons.push(reason());
        } else {
            self.unnamed += 1;
        }
    }

    /// The answer for this request, if anything was refused: `stored`
    /// items of `unit` went in; `also` is any other note (out of order).
    pub(crate) fn answer(&self, unit: &str, stored: u64, also: &str) -> Option<ApiError> {
        if self.is_empty() {
            return None;
        }
        let mut msg = format!(
            "refused {} {unit}: {}",
            self.invalid + self.limited,
            self.reasons.join("; ")
        );
        if self.unnamed > 0 {
            msg.push_str(&format!("; and {} more", self.unnamed));
        }
        if !also.is_empty() {
            msg.push_str("; ");
            msg.push_str(also);
        }
        msg.push_str(&format!("; stored {stored} {unit}"));
        Some(if self.limited > 0 {
            ApiError::new(ErrorType::ResourceExhausted, msg).retry_after(RETRY_AFTER_SECS)
        } else {
            ApiError::bad_data(msg)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_refused_is_no_answer() {
        assert_eq!(Refusals::default().answer("samples", 3, ""), None);
    }

    #[test]
    fn invalid_is_400_and_names_a_bounded_few() {
        let mut r = Refusals::default();
        for i in 0..8 {
            r.invalid(2, &format!("s{i}{{}}"), "too many labels");
        }
        let e = r.answer("samples", 5, "1 out of order").expect("an answer");
        assert_eq!(e.kind(), ErrorType::BadData);
        assert_eq!(
            e.message(),
            "refused 16 samples: s0{}: too many labels; s1{}: too many labels; \
             s2{}: too many labels; s3{}: too many labels; s4{}: too many labels; \
             and 3 more; 1 out of order; stored 5 samples"
        );
    }

    #[test]
    fn a_series_limit_is_429_and_counted_per_source() {
        let mut r = Refusals::default();
        r.invalid(1, "a{}", "bad");
        r.limited(3, "b{}", "j", SeriesLimit::PerSource, "full");
        r.limited(1, "c{}", "j", SeriesLimit::PerSource, "full");
        r.limited(1, "d{}", "k", SeriesLimit::Global, "full");
        let e = r.answer("samples", 0, "").expect("an answer");
        assert_eq!(e.kind(), ErrorType::ResourceExhausted);
        assert!(
            e.message()
                .starts_with("refused 6 samples: a{}: bad; b{}: full"),
            "{}",
            e.message()
        );
        assert_eq!(
            r.by_source,
            [
                ("j".to_string(), SeriesLimit::PerSource, 2),
                ("k".to_string(), SeriesLimit::Global, 1)
            ]
        );
    }
}
