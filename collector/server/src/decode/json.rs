//! The OTLP/JSON pre-scan: one pass over the bytes, outside strings, that
//! counts the limited items (elements of `resourceMetrics`, `dataPoints`,
//! `logRecords`, `spans` …) and estimates what serde would allocate, before
//! serde materializes anything. No `serde_json::Value` is built.
//!
//! The scan is lenient: it does not validate JSON (serde does, after), it
//! only has to never undercount what serde would build from the same bytes.
//!
//! **Invariant:** the scan allocates only its nesting stack, at most
//! [`MAX_DEPTH`] frames (serde_json's own recursion limit), and reads each
//! byte once.

use std::mem::size_of;

use opentelemetry_proto::tonic::common::v1 as common;
use opentelemetry_proto::tonic::logs::v1 as logs;
use opentelemetry_proto::tonic::metrics::v1 as metrics;
use opentelemetry_proto::tonic::trace::v1 as trace;

use super::schema::Item;
use super::wire::Tally;

/// The deepest nesting accepted: serde_json's recursion limit.
pub const MAX_DEPTH: usize = 128;

/// How far `Vec` growth can overshoot (serde grows `Vec`s by doubling:
/// JSON gives no length up front).
const VEC_GROWTH: u64 = 2;

/// Why the bytes cannot be OTLP/JSON, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// Arrays and objects nested deeper than [`MAX_DEPTH`].
    #[error("JSON nested deeper than {MAX_DEPTH} at byte {at}")]
    TooDeep {
        /// Where the too-deep container opens.
        at: usize,
    },
    /// A string without its closing quote.
    #[error("unterminated JSON string starting at byte {at}")]
    Unterminated {
        /// Where the string opens.
        at: usize,
    },
}

/// What one element of an array under a given key costs and counts.
#[derive(Clone, Copy)]
struct Element {
    size: usize,
    counts: Option<Item>,
}

/// The array keys of the OTLP/JSON mapping whose elements serde allocates.
/// Keys of other arrays are unknown fields, which serde skips without
/// allocating.
fn element(key: &[u8]) -> Element {
    let plain = |size| Element { size, counts: None };
    let counted = |size, item| Element {
        size,
        counts: Some(item),
    };
    match key {
        b"resourceMetrics" => counted(size_of::<metrics::ResourceMetrics>(), Item::Resources),
        b"resourceLogs" => counted(size_of::<logs::ResourceLogs>(), Item::Resources),
        b"resourceSpans" => counted(size_of::<trace::ResourceSpans>(), Item::Resources),
        b"dataPoints" => counted(
            size_of::<metrics::NumberDataPoint>()
                .max(size_of::<metrics::HistogramDataPoint>())
                .max(size_of::<metrics::ExponentialHistogramDataPoint>())
                .max(size_of::<metrics::SummaryDataPoint>()),
            Item::Points,
        ),
        b"logRecords" => counted(size_of::<logs::LogRecord>(), Item::LogRecords),
        b"spans" => counted(size_of::<trace::Span>(), Item::Spans),
        b"scopeMetrics" => plain(size_of::<metrics::ScopeMetrics>()),
        b"scopeLogs" => plain(size_of::<logs::ScopeLogs>()),
        b"scopeSpans" => plain(size_of::<trace::ScopeSpans>()),
        b"metrics" => plain(size_of::<metrics::Metric>()),
        b"attributes" | b"filteredAttributes" | b"metadata" => {
            plain(size_of::<common::KeyValue>())
        }
        b"values" => plain(size_of::<common::KeyValue>().max(size_of::<common::AnyValue>())),
        b"exemplars" => plain(size_of::<metrics::Exemplar>()),
        b"quantileValues" => plain(size_of::<
            metrics::summary_data_point::ValueAtQuantile,
        >()),
        b"events" => plain(size_of::<trace::span::Event>()),
        b"links" => plain(size_of::<trace::span::Link>()),
        b"entityRefs" => plain(size_of::<common::EntityRef>()),
        b"bucketCounts" | b"explicitBounds" => plain(8),
        b"idKeys" | b"descriptionKeys" => plain(size_of::<String>()),
        _ => plain(0),
    }
}

/// One open container.
#[derive(Clone, Copy)]
enum Frame {
    /// An object; `key` is the last key read (its bytes' range) and
    /// `expect_key` whether the next string is a key.
    Object {
        key: (usize, usize),
        expect_key: bool,
    },
    /// An array whose elements cost `element`.
    Array { element: Element },
}

/// Scans OTLP/JSON `bytes`.
pub fn scan(bytes: &[u8]) -> Result<Tally, JsonError> {
    let mut tally = Tally::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let at = pos;
        let b = bytes[pos];
        pos += 1;
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b':' => {}
            b',' => {
                if let Some(Frame::Object { expect_key, .. }) = stack.last_mut() {
                    *expect_key = true;
                }
            }
            b'{' | b'[' => {
                let parent_key = value_starts(&mut stack, bytes, &mut tally);
                if stack.len() >= MAX_DEPTH {
                    return Err(JsonError::TooDeep { at });
                }
                stack.push(if b == b'{' {
                    Frame::Object {
                        key: (0, 0),
                        expect_key: true,
                    }
                } else {
                    Frame::Array {
                        element: element(parent_key),
                    }
                });
            }
            b'}' | b']' => {
                stack.pop();
            }
            b'"' => {
                let end = string_end(bytes, pos).ok_or(JsonError::Unterminated { at })?;
                let is_key = matches!(
                    stack.last(),
                    Some(Frame::Object {
                        expect_key: true,
                        ..
                    })
                );
                if is_key {
                    if let Some(Frame::Object { key, expect_key }) = stack.last_mut() {
                        *key = (pos, end);
                        *expect_key = false;
                    }
                } else {
                    value_starts(&mut stack, bytes, &mut tally);
                    tally.estimate += (end - pos) as u64;
                }
                pos = end + 1;
            }
            _ => {
                // a number, true, false or null (or garbage serde refuses)
                value_starts(&mut stack, bytes, &mut tally);
                while pos < bytes.len()
                    && !matches!(bytes[pos], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                {
                    pos += 1;
                }
            }
        }
    }
    Ok(tally)
}

/// Charges a value starting in the innermost container; answers the key
/// it is the value of (empty in an array or at the top).
fn value_starts<'b>(stack: &mut [Frame], bytes: &'b [u8], tally: &mut Tally) -> &'b [u8] {
    match stack.last_mut() {
        Some(Frame::Array { element }) => {
            tally.estimate += element.size as u64 * VEC_GROWTH;
            if let Some(item) = element.counts {
                tally.items[item.index()] += 1;
            }
            b""
        }
        Some(Frame::Object { key, .. }) => &bytes[key.0..key.1],
        None => b"",
    }
}

/// The index of the quote closing the string whose body starts at `from`.
fn string_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return Some(i),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
