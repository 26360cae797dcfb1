//! How many series the head holds, in all and per source, so appends can
//! refuse a new series past a limit without a lock or a scan of their own.
//!
//! A series' source is the value of its `job` label (Prometheus's name for
//! the thing that produced it; the OTLP mapping derives it from
//! `service.namespace`/`service.name`); series without one share the
//! source `""`. The counts live in the head beside the series map and change
//! only where series are created and removed, so they stay true across WAL
//! replay, snapshot loads and retention.
//!
//! **Invariant:** `SourceCounts::total()` equals the number of series in the
//! head, and each source's count the number of its series.

use std::collections::HashMap;

use sextant_model::Labels;

/// The label that names a series' source for [`SeriesLimits::max_series_per_source`].
pub const SOURCE_LABEL: &str = "job";

/// Caps on the series an append may create. Existing series always take
/// samples; only new ones are refused, so a full store keeps its data flowing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeriesLimits {
    /// Most series the head may hold.
    pub max_series: u64,
    /// Most series one source (one `job` value) may hold.
    pub max_series_per_source: u64,
}

impl SeriesLimits {
    /// No caps: for callers that trust their input (tests, tools).
    pub const UNLIMITED: SeriesLimits = SeriesLimits {
        max_series: u64::MAX,
        max_series_per_source: u64::MAX,
    };
}

/// Which cap refused a new series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SeriesLimit {
    /// [`SeriesLimits::max_series`].
    Global,
    /// [`SeriesLimits::max_series_per_source`].
    PerSource,
}

impl SeriesLimit {
    /// The limit's name as users configure it (and as self-metrics label it).
    pub fn as_str(self) -> &'static str {
        match self {
            SeriesLimit::Global => "max_series",
            SeriesLimit::PerSource => "max_series_per_source",
        }
    }
}

/// The source of a series: its `job` value, or `""`.
pub fn source_of(labels: &Labels) -> &str {
    labels.get(SOURCE_LABEL).unwrap_or("")
}

/// Series counts per source.
#[derive(Debug, Default)]
pub struct SourceCounts {
    per_source: HashMap<String, u64>,
    total: u64,
}

impl SourceCounts {
    /// Counts a series that was just created.
    pub fn add(&mut self, labels: &Labels) {
        let src = source_of(labels);
        match self.per_source.get_mut(src) {
            Some(n) => *n += 1,
            None => {
                self.per_source.insert(src.to_string(), 1);
            }
        }
        self.total += 1;
    }

    /// Uncounts a series that was just removed.
    pub fn remove(&mut self, labels: &Labels) {
        let src = source_of(labels);
        if let Some(n) = self.per_source.get_mut(src) {
            *n -= 1;
            if *n == 0 {
                self.per_source.remove(src);
            }
            self.total -= 1;
        }
    }

    /// Series of `source`.
    pub fn of(&self, source: &str) -> u64 {
        self.per_source.get(source).copied().unwrap_or(0)
    }

    /// All series.
    pub fn total(&self) -> u64 {
        self.total
    }
}

/// Admission of new series within one append: the head's counts plus the
/// series this append has already admitted.
pub struct Admission<'a> {
    counts: &'a SourceCounts,
    limits: SeriesLimits,
    admitted: u64,
    admitted_per_source: HashMap<&'a str, u64>,
}

impl<'a> Admission<'a> {
    /// Starts admitting against `counts`.
    pub fn new(counts: &'a SourceCounts, limits: SeriesLimits) -> Admission<'a> {
        Admission {
            counts,
            limits,
            admitted: 0,
            admitted_per_source: HashMap::new(),
        }
    }

    /// Admits one more series of `labels`' source, or says which cap refuses it.
    pub fn admit(&mut self, labels: &'a Labels) -> Result<(), SeriesLimit> {
        if self.counts.total().saturating_add(self.admitted) >= self.limits.max_series {
            return Err(SeriesLimit::Global);
        }
        let src = source_of(labels);
        let mine = self.admitted_per_source.entry(src).or_default();
        if self.counts.of(src).saturating_add(*mine) >= self.limits.max_series_per_source {
            return Err(SeriesLimit::PerSource);
        }
        *mine += 1;
        self.admitted += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(j: &str, i: usize) -> Labels {
        Labels::from_pairs(vec![
            ("job".to_string(), j.to_string()),
            ("i".to_string(), i.to_string()),
        ])
    }

    #[test]
    fn counts_follow_adds_and_removes() {
        let mut c = SourceCounts::default();
        let (a, b, none) = (
            job("a", 0),
            job("b", 0),
            Labels::from_pairs(vec![("x".into(), "1".into())]),
        );
        c.add(&a);
        c.add(&b);
        c.add(&none);
        assert_eq!((c.total(), c.of("a"), c.of("b"), c.of("")), (3, 1, 1, 1));
        c.remove(&a);
        c.remove(&a); // not counted any more: no underflow
        assert_eq!((c.total(), c.of("a")), (2, 0));
    }

    #[test]
    fn admission_refuses_past_either_cap() {
        let mut c = SourceCounts::default();
        c.add(&job("a", 0));
        let limits = SeriesLimits {
            max_series: 4,
            max_series_per_source: 2,
        };
        let labels: Vec<Labels> = (1..5).map(|i| job("a", i)).collect();
        let other: Vec<Labels> = (0..3).map(|i| job("b", i)).collect();
        let mut adm = Admission::new(&c, limits);
        assert_eq!(adm.admit(&labels[0]), Ok(()));
        assert_eq!(adm.admit(&labels[1]), Err(SeriesLimit::PerSource));
        assert_eq!(adm.admit(&other[0]), Ok(()));
        assert_eq!(adm.admit(&other[1]), Ok(()));
        assert_eq!(adm.admit(&other[2]), Err(SeriesLimit::Global));
    }
}
