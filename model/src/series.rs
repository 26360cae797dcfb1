//! Float samples and the series that carries them: what every metric path
//! (OTLP mapping, remote-write, the store, PromQL) hands to the next.

use crate::labels::Labels;

/// The NaN bit pattern Prometheus writes as a stale marker: "this series
/// ended here". Stored and sent bit-exact, never produced by arithmetic.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Whether `v` is the stale marker (and not any other NaN).
pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// One float sample: milliseconds since the Unix epoch and a value. Stale
/// markers are [`STALE_NAN_BITS`] and are stored bit-exact.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// The value, any f64 bit pattern.
    pub v: f64,
}

/// A series and some of its samples, in time order: the unit of appends and
/// reads, and what the OTLP and remote-write mappings produce, so the store
/// has one input type.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// The series identity.
    pub labels: Labels,
    /// Samples in increasing time order.
    pub samples: Vec<Sample>,
}

impl Series {
    /// The metric name (`__name__` label), if present.
    pub fn name(&self) -> Option<&str> {
        self.labels.get("__name__")
    }
}
