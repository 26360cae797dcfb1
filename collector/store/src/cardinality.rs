//! How many series the head holds (and log streams the log store holds),
//! in all and per source, so appends can refuse a new one past a limit
//! without a lock or a scan of their own.
//!
//! A series' source is the value of its `job` label (Prometheus's name for
//! the thing that produced it; the OTLP mapping derives it from
//! `service.namespace`/`service.name`), a log stream's its `service_name`
//! (Loki's OTLP mapping of `service.name`); those without one share the
//! source `""`. The counts live beside the series (stream) map and change
//! only where series are created and removed, so they stay true across WAL
//! replay, snapshot loads and retention.
//!
//! **Invariant:** `SourceCounts::total()` equals the number of series in the
//! head (streams in the log store), and each source's count the number of
//! its series.

use std::collections::HashMap;

use sextant_model::Labels;

/// The label that names a series' source for [`SeriesLimits::max_series_per_source`].
pub const SOURCE_LABEL: &str = "job";
/// The label that names a log stream's source for [`StreamLimits::max_streams_per_source`].
pub const STREAM_SOURCE_LABEL: &str = "service_name";

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

/// Caps on the log streams an append may create, as [`SeriesLimits`] are
/// on series (Loki's `max_global_streams_per_user`, per source here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamLimits {
    /// Most streams the log store may hold.
    pub max_streams: u64,
    /// Most streams one source (one `service_name` value) may hold.
    pub max_streams_per_source: u64,
}

impl StreamLimits {
    /// No caps: for callers that trust their input (tests, tools).
    pub const UNLIMITED: StreamLimits = StreamLimits {
        max_streams: u64::MAX,
        max_streams_per_source: u64::MAX,
    };
}

/// Which cap refused a new series or log stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SeriesLimit {
    /// [`SeriesLimits::max_series`].
    Global,
    /// [`SeriesLimits::max_series_per_source`].
    PerSource,
    /// [`StreamLimits::max_streams`].
    Streams,
    /// [`StreamLimits::max_streams_per_source`].
    StreamsPerSource,
}

impl SeriesLimit {
    /// The limit's name as users configure it (and as self-metrics label it).
    pub fn as_str(self) -> &'static str {
        match self {
            SeriesLimit::Global => "max_series",
            SeriesLimit::PerSource => "max_series_per_source",
            SeriesLimit::Streams => "max_log_streams",
            SeriesLimit::StreamsPerSource => "max_log_streams_per_source",
        }
    }
}

/// The source of a series: its `job` value, or `""`.
pub fn source_of(labels: &Labels) -> &str {
    labels.get(SOURCE_LABEL).unwrap_or("")
}

/// Series (or stream) counts per source.
#[derive(Debug)]
pub struct SourceCounts {
    /// The label naming the source.
    label: &'static str,
    per_source: HashMap<String, u64>,
    total: u64,
}

/// Series counts: sources by [`SOURCE_LABEL`].
impl Default for SourceCounts {
    fn default() -> Self {
        SourceCounts::by(SOURCE_LABEL)
    }
}

impl SourceCounts {
    /// Counts whose sources are the values of `label`.
    pub fn by(label: &'static str) -> SourceCounts {
        SourceCounts {
            label,
            per_source: HashMap::new(),
            total: 0,
        }
    }

    /// The source of `labels`: the value of this count's label, or `""`.
    pub fn source<'l>(&self, labels: &'l Labels) -> &'l str {
        labels.get(self.label).unwrap_or("")
    }

    /// Counts a series that was just created.
    pub fn add(&mut self, labels: &Labels) {
        let src = self.source(labels);
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
        let src = self.source(labels);
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
    /// (cap, the limit it is) in all and per source.
    total: (u64, SeriesLimit),
    per_source: (u64, SeriesLimit),
    admitted: u64,
    admitted_per_source: HashMap<&'a str, u64>,
}

impl<'a> Admission<'a> {
    /// Starts admitting series against `counts`.
    pub fn new(counts: &'a SourceCounts, limits: SeriesLimits) -> Admission<'a> {
        Admission::caps(
            counts,
            (limits.max_series, SeriesLimit::Global),
            (limits.max_series_per_source, SeriesLimit::PerSource),
        )
    }

    /// Starts admitting log streams against `counts`.
    pub fn streams(counts: &'a SourceCounts, limits: StreamLimits) -> Admission<'a> {
        Admission::caps(
            counts,
            (limits.max_streams, SeriesLimit::Streams),
            (limits.max_streams_per_source, SeriesLimit::StreamsPerSource),
        )
    }

    fn caps(
        counts: &'a SourceCounts,
        total: (u64, SeriesLimit),
        per_source: (u64, SeriesLimit),
    ) -> Admission<'a> {
        Admission {
            counts,
            total,
            per_source,
            admitted: 0,
            admitted_per_source: HashMap::new(),
        }
    }

    /// The value of `limit`, one of this admission's two caps.
    pub fn max(&self, limit: SeriesLimit) -> u64 {
        if limit == self.total.1 {
            self.total.0
        } else {
            self.per_source.0
        }
    }

    /// Admits one more series of `labels`' source, or says which cap refuses it.
    pub fn admit(&mut self, labels: &'a Labels) -> Result<(), SeriesLimit> {
        if self.counts.total().saturating_add(self.admitted) >= self.total.0 {
            return Err(self.total.1);
        }
        let src = self.counts.source(labels);
        let mine = self.admitted_per_source.entry(src).or_default();
        if self.counts.of(src).saturating_add(*mine) >= self.per_source.0 {
            return Err(self.per_source.1);
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

    #[test]
    fn stream_admission_counts_sources_by_service_name() {
        let stream = |svc: &str, i: usize| {
            Labels::from_pairs(vec![
                ("service_name".to_string(), svc.to_string()),
                ("job".to_string(), "same".to_string()),
                ("i".to_string(), i.to_string()),
            ])
        };
        let mut c = SourceCounts::by(STREAM_SOURCE_LABEL);
        c.add(&stream("a", 0));
        assert_eq!((c.of("a"), c.of("same")), (1, 0));
        let limits = StreamLimits {
            max_streams: 3,
            max_streams_per_source: 2,
        };
        let (a1, a2, b0, b1) = (
            stream("a", 1),
            stream("a", 2),
            stream("b", 0),
            stream("b", 1),
        );
        let mut adm = Admission::streams(&c, limits);
        assert_eq!(adm.admit(&a1), Ok(()));
        assert_eq!(adm.admit(&a2), Err(SeriesLimit::StreamsPerSource));
        assert_eq!(adm.admit(&b0), Ok(()));
        assert_eq!(adm.admit(&b1), Err(SeriesLimit::Streams));
    }
}
