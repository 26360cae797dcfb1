//! The plain data types that flow in and out of the store.

use std::fmt;
use std::sync::Arc;

/// A series identity: label pairs sorted by name, unique names, `__name__`
/// included. Sorted order makes equality and hashing canonical.
///
/// The pairs are shared behind an `Arc` because a label set is copied far
/// more often than it is built: every read hands out the series' labels and
/// a range query carries them through every step, so a clone must be a
/// reference-count increment, not a copy of every string.
#[derive(Clone, Debug, Default)]
pub struct Labels(Arc<[(String, String)]>);

impl std::hash::Hash for Labels {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // By content, as equality is.
        self.0.hash(state);
    }
}

impl PartialEq for Labels {
    fn eq(&self, other: &Labels) -> bool {
        // Clones of one set share their pairs; only distinct sets need comparing.
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Eq for Labels {}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Labels) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Labels {
    fn cmp(&self, other: &Labels) -> std::cmp::Ordering {
        if Arc::ptr_eq(&self.0, &other.0) {
            std::cmp::Ordering::Equal
        } else {
            self.0.cmp(&other.0)
        }
    }
}

impl Labels {
    /// Builds a canonical label set: sorts by name, drops pairs with an empty
    /// value (Prometheus treats an empty value as an absent label) and keeps
    /// the last value of a repeated name.
    pub fn from_pairs(mut pairs: Vec<(String, String)>) -> Labels {
        pairs.retain(|(_, v)| !v.is_empty());
        // Stable sort keeps insertion order among equal names, so dedup keeps the last.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(String, String)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            match out.last_mut() {
                Some(last) if last.0 == k => last.1 = v,
                _ => out.push((k, v)),
            }
        }
        Labels(out.into())
    }

    /// The value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(name))
            .ok()
            .map(|i| self.0[i].1.as_str())
    }

    /// The pairs in canonical order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// Whether every matcher accepts this label set (a missing label matches as "").
    pub fn matches(&self, matchers: &[Matcher]) -> bool {
        matchers
            .iter()
            .all(|m| m.matches(self.get(&m.name).unwrap_or("")))
    }
}

impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k}={v:?}")?;
        }
        f.write_str("}")
    }
}

/// One float sample: milliseconds since the Unix epoch and a value. Stale
/// markers are the NaN bit pattern `0x7ff0000000000002` and are stored bit-exact.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// The value, any f64 bit pattern.
    pub v: f64,
}

/// A series and some of its samples, in time order: the unit of appends and reads.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesSamples {
    /// The series identity.
    pub labels: Labels,
    /// Samples in increasing time order.
    pub samples: Vec<Sample>,
}

/// How a matcher compares a label value, as in PromQL and LogQL selectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `=~` (fully anchored)
    Re,
    /// `!~` (fully anchored)
    Nre,
}

/// One label matcher. Regexes are compiled once, fully anchored, as Prometheus does.
#[derive(Clone, Debug)]
pub struct Matcher {
    /// Label name.
    pub name: String,
    /// Comparison.
    pub op: MatchOp,
    /// The right-hand side as written.
    pub value: String,
    re: Option<regex::Regex>,
}

impl Matcher {
    /// Builds a matcher; fails only for an invalid regex.
    pub fn new(name: &str, op: MatchOp, value: &str) -> Result<Matcher, regex::Error> {
        let re = match op {
            MatchOp::Re | MatchOp::Nre => Some(regex::Regex::new(&format!("^(?s:{value})$"))?),
            MatchOp::Eq | MatchOp::Ne => None,
        };
        Ok(Matcher {
            name: name.to_string(),
            op,
            value: value.to_string(),
            re,
        })
    }

    /// Whether `value` (the label's value, "" when absent) satisfies the matcher.
    pub fn matches(&self, value: &str) -> bool {
        match (self.op, &self.re) {
            (MatchOp::Eq, _) => value == self.value,
            (MatchOp::Ne, _) => value != self.value,
            (MatchOp::Re, Some(re)) => re.is_match(value),
            (MatchOp::Nre, Some(re)) => !re.is_match(value),
            (MatchOp::Re | MatchOp::Nre, None) => false,
        }
    }
}

/// One log record as the store keeps it: Loki's model of a line in a stream,
/// plus structured metadata (attributes that are not stream labels).
#[derive(Clone, Debug, PartialEq)]
pub struct LogEntry {
    /// Nanoseconds since the Unix epoch.
    pub t_ns: i64,
    /// Stream labels (low cardinality: service, resource attributes, severity).
    pub stream: Labels,
    /// The log body rendered as text.
    pub line: String,
    /// Per-record attributes, trace and span ids.
    pub metadata: Labels,
}

/// One span as the store keeps it: an opaque, self-describing payload (the
/// receiver encodes resource, scope and span together) indexed by trace id.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanEntry {
    /// The 16-byte trace id.
    pub trace_id: [u8; 16],
    /// Span start, nanoseconds since the Unix epoch (for retention by age).
    pub t_ns: i64,
    /// Encoded payload, returned as written.
    pub payload: Vec<u8>,
}
