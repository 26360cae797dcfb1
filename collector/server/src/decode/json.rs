//! The OTLP/JSON pre-scan: one pass over the bytes, outside strings, that
//! counts the limited items (elements of `resourceMetrics`, `dataPoints`,
//! `logRecords`, `spans` …) and estimates what serde would allocate, before
//! serde materializes anything. No `serde_json::Value` is built.
//!
//! The scan is lenient about JSON syntax (serde checks it, after): it only
//! has to never undercount what serde would build from the same bytes. It
//! is strict about the 64-bit number fields, which the proto3 JSON mapping
//! lets a sender write as numbers or strings (`"123"`, `1e3`, `"NaN"` in
//! doubles): every allowed form is accepted, written into the form
//! opentelemetry-proto's serde reads when it is not already (a second pass,
//! [`normalize`], run only when needed; special doubles become sentinels,
//! see [`super::specials`]), and everything else refused with the field's
//! name.
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
use super::specials::{self, Sentinels, Special};
use super::wire::Tally;

/// The deepest nesting accepted: serde_json's recursion limit.
pub const MAX_DEPTH: usize = 128;

/// How far `Vec` growth can overshoot (serde grows `Vec`s by doubling:
/// JSON gives no length up front)…
const VEC_GROWTH: u64 = 2;
/// …and the first element of each `Vec` allocates room for four.
const VEC_FIRST: u64 = 4;

/// Why the bytes cannot be OTLP/JSON, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// Arrays and objects nested deeper than [`MAX_DEPTH`].
    #[error("JSON nested deeper than {MAX_DEPTH} at byte {at}")]
    TooDeep {
        /// Where the too-deep container opens.
        at: usize,
    },
    /// A number field in a form the proto3 JSON mapping does not allow,
    /// or out of its type's range.
    #[error("invalid {field} at byte {at}: {value} is {why}")]
    Number {
        /// The field's JSON name.
        field: String,
        /// Where the value starts.
        at: usize,
        /// The value as sent (shortened).
        value: String,
        /// What it should be.
        why: &'static str,
    },
    /// A request holding so many of the sentinel candidates that its
    /// special doubles could not be told apart from its numbers.
    #[error(
        "{field} at byte {at}: {value} cannot be decoded in this request: it holds too many of the numbers special doubles are carried as (send NaN and infinities over protobuf)"
    )]
    Special {
        /// The field's JSON name.
        field: String,
        /// Where the value starts.
        at: usize,
        /// The value as sent.
        value: String,
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
        b"attributes" | b"filteredAttributes" | b"metadata" => plain(size_of::<common::KeyValue>()),
        b"values" => plain(size_of::<common::KeyValue>().max(size_of::<common::AnyValue>())),
        b"exemplars" => plain(size_of::<metrics::Exemplar>()),
        b"quantileValues" => plain(size_of::<metrics::summary_data_point::ValueAtQuantile>()),
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
    /// An array under `key` whose elements cost `element`.
    Array {
        key: (usize, usize),
        element: Element,
        started: bool,
    },
}

/// The 64-bit number fields of the OTLP/JSON mapping, whose forms the
/// scan checks (opentelemetry-proto's serde swallows errors inside the
/// flattened oneofs, so a bad number there would silently drop its metric).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Number {
    /// fixed64 / uint64: times, counts.
    U64,
    /// sfixed64 / int64: `asInt`, `intValue`.
    I64,
    /// double, read by serde as a JSON number only.
    F64,
    /// double whose serde mapping also reads strings (`ValueAtQuantile`).
    F64Special,
}

fn number_field(key: &[u8]) -> Option<Number> {
    Some(match key {
        b"timeUnixNano"
        | b"startTimeUnixNano"
        | b"observedTimeUnixNano"
        | b"count"
        | b"zeroCount"
        | b"bucketCounts" => Number::U64,
        b"asInt" | b"intValue" => Number::I64,
        b"asDouble" | b"sum" | b"min" | b"max" | b"zeroThreshold" | b"explicitBounds"
        | b"doubleValue" => Number::F64,
        b"quantile" | b"value" => Number::F64Special,
        _ => return None,
    })
}

/// A proto3 JSON number: `-?digits(.digits)?([eE][+-]?digits)?`, split.
struct Decimal<'a> {
    negative: bool,
    int: &'a [u8],
    frac: &'a [u8],
    exp: i64,
}

fn decimal(text: &[u8]) -> Option<Decimal<'_>> {
    let (negative, rest) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let digits = |s: &[u8]| s.iter().take_while(|b| b.is_ascii_digit()).count();
    let n = digits(rest);
    let (int, mut rest) = rest.split_at(n);
    let mut frac: &[u8] = b"";
    if let Some((b'.', after)) = rest.split_first() {
        let n = digits(after);
        (frac, rest) = after.split_at(n);
    }
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut exp = 0i64;
    if let Some((b'e' | b'E', after)) = rest.split_first() {
        let (sign, after) = match after.split_first() {
            Some((b'-', a)) => (-1, a),
            Some((b'+', a)) => (1, a),
            _ => (1, after),
        };
        let n = digits(after);
        if n == 0 || n > 6 {
            return None;
        }
        exp = sign * std::str::from_utf8(&after[..n]).ok()?.parse::<i64>().ok()?;
        rest = &after[n..];
    }
    rest.is_empty().then_some(Decimal {
        negative,
        int,
        frac,
        exp,
    })
}

/// The integer `text` denotes, if it is integral and fits in an `i128`.
fn integer(d: &Decimal<'_>) -> Option<i128> {
    let digits: Vec<u8> = d.int.iter().chain(d.frac).copied().collect();
    let exp = d.exp - d.frac.len() as i64;
    let (kept, dropped) = if exp < 0 {
        let cut = digits.len().saturating_sub(exp.unsigned_abs() as usize);
        digits.split_at(cut)
    } else {
        (digits.as_slice(), &[][..])
    };
    if dropped.iter().any(|&b| b != b'0') {
        return None;
    }
    let mut v: i128 = 0;
    for &b in kept {
        v = v.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    if exp > 0 && v != 0 {
        for _ in 0..exp.min(40) {
            v = v.checked_mul(10)?;
        }
    }
    Some(if d.negative { -v } else { v })
}

/// What a number field becomes in the normalized bytes.
enum Canonical {
    /// This text.
    Text(String),
    /// The sentinel standing for a special double (see [`specials`]).
    Special(Special),
}

/// Checks one scalar under a number field; answers its canonical JSON
/// form when serde would not read the one sent, and marks in `taken` the
/// sentinel candidates a double field holds.
fn check_number(
    kind: Number,
    field: &[u8],
    raw: &[u8],
    quoted: bool,
    at: usize,
    taken: &mut u64,
) -> Result<Option<Canonical>, JsonError> {
    let bad = |why| JsonError::Number {
        field: String::from_utf8_lossy(field).into_owned(),
        at,
        value: shorten(raw, quoted),
        why,
    };
    if !quoted && matches!(raw, b"null") {
        return Ok(None);
    }
    match kind {
        Number::U64 | Number::I64 => {
            let why = if kind == Number::U64 {
                "not an unsigned 64-bit integer"
            } else {
                "not a signed 64-bit integer"
            };
            let d = decimal(raw).ok_or_else(|| bad(why))?;
            let v = integer(&d).ok_or_else(|| bad(why))?;
            let fits = if kind == Number::U64 {
                (0..=i128::from(u64::MAX)).contains(&v)
            } else {
                (i128::from(i64::MIN)..=i128::from(i64::MAX)).contains(&v)
            };
            if !fits {
                return Err(bad(why));
            }
            // serde reads digits only: `1.0`, `1e3` and `-0` arrive as floats
            let float = raw.iter().any(|b| matches!(b, b'.' | b'e' | b'E'));
            let plain = !(float || d.negative && v == 0);
            Ok((!plain || quoted && d.negative).then(|| Canonical::Text(v.to_string())))
        }
        Number::F64 | Number::F64Special => {
            let why = "not a number, \"NaN\", \"Infinity\" or \"-Infinity\"";
            if let Some(special) = Special::parse(raw).filter(|_| quoted) {
                // serde reads these strings in quantile values, nowhere else
                return Ok((kind == Number::F64).then_some(Canonical::Special(special)));
            }
            decimal(raw).ok_or_else(|| bad(why))?;
            let v: f64 = std::str::from_utf8(raw)
                .ok()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| bad(why))?;
            if !v.is_finite() {
                return Err(bad("out of the range of a double"));
            }
            if let Some(k) = specials::candidate(v) {
                *taken |= 1 << k;
            }
            // serde reads a plain double field from a JSON number only
            Ok((quoted && kind == Number::F64).then(|| Canonical::Text(format!("{v:?}"))))
        }
    }
}

fn shorten(raw: &[u8], quoted: bool) -> String {
    let text: String = String::from_utf8_lossy(raw).chars().take(40).collect();
    if quoted { format!("{text:?}") } else { text }
}

/// Scans OTLP/JSON `bytes`; `out`, when given, receives the bytes with
/// every number field in a form serde reads (see [`normalize`]).
fn walk(
    bytes: &[u8],
    mut out: Option<(&mut Vec<u8>, Option<&Sentinels>)>,
) -> Result<Scan, JsonError> {
    let mut scan = Scan::default();
    let tally = &mut scan.tally;
    let mut stack: Vec<Frame> = Vec::new();
    let mut copied = 0;
    let mut pos = 0;
    while pos < bytes.len() {
        let at = pos;
        let b = bytes[pos];
        pos += 1;
        let (field, raw, quoted) = match b {
            b' ' | b'\t' | b'\n' | b'\r' | b':' => continue,
            b',' => {
                if let Some(Frame::Object { expect_key, .. }) = stack.last_mut() {
                    *expect_key = true;
                }
                continue;
            }
            b'{' | b'[' => {
                let parent_key = value_starts(&mut stack, tally);
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
                        key: parent_key,
                        element: element(&bytes[parent_key.0..parent_key.1]),
                        started: false,
                    }
                });
                continue;
            }
            b'}' | b']' => {
                stack.pop();
                continue;
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
                let body = (pos, end);
                pos = end + 1;
                if is_key {
                    if let Some(Frame::Object { key, expect_key }) = stack.last_mut() {
                        *key = body;
                        *expect_key = false;
                    }
                    continue;
                }
                let field = value_starts(&mut stack, tally);
                tally.estimate += (end - body.0) as u64;
                (field, body, true)
            }
            _ => {
                // a number, true, false or null (or garbage serde refuses)
                let field = value_starts(&mut stack, tally);
                while pos < bytes.len()
                    && !matches!(
                        bytes[pos],
                        b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'
                    )
                {
                    pos += 1;
                }
                (field, (at, pos), false)
            }
        };
        let name = &bytes[field.0..field.1];
        let Some(kind) = number_field(name) else {
            continue;
        };
        let raw_bytes = &bytes[raw.0..raw.1];
        let Some(canonical) = check_number(kind, name, raw_bytes, quoted, at, &mut scan.taken)?
        else {
            continue;
        };
        scan.rewrites += 1;
        let text = match canonical {
            Canonical::Text(t) => {
                scan.growth += t.len();
                Some(t)
            }
            Canonical::Special(special) => {
                scan.specials += 1;
                scan.growth += specials::MAX_TEXT;
                match out.as_ref().map(|(_, s)| *s) {
                    Some(Some(s)) => Some(s.text(special)),
                    Some(None) => {
                        return Err(JsonError::Special {
                            field: String::from_utf8_lossy(name).into_owned(),
                            at,
                            value: shorten(raw_bytes, quoted),
                        });
                    }
                    None => None,
                }
            }
        };
        if let (Some((out, _)), Some(text)) = (out.as_mut(), text) {
            out.extend_from_slice(&bytes[copied..at]);
            out.extend_from_slice(text.as_bytes());
            copied = pos;
        }
    }
    if let Some((out, _)) = out {
        out.extend_from_slice(&bytes[copied..]);
    }
    Ok(scan)
}

/// What a scan found: the tally, and how many number fields need
/// rewriting (and how many bytes their canonical forms take).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// Items and estimated decoded size.
    pub tally: Tally,
    /// Number fields sent in a form serde does not read.
    pub rewrites: usize,
    /// Bytes of their canonical forms (an upper bound).
    pub growth: usize,
    /// Of the rewrites, special doubles (`"NaN"` …) in fields serde
    /// reads as numbers only.
    pub specials: usize,
    /// Bit `k` set: a double field holds sentinel candidate `k`.
    pub taken: u64,
}

/// Scans OTLP/JSON `bytes` for items, decoded size and number forms.
pub fn scan(bytes: &[u8]) -> Result<Scan, JsonError> {
    walk(bytes, None)
}

/// `bytes` with every number field a scan found to need it rewritten to a
/// form opentelemetry-proto's serde reads (`"1e3"` → `1000`, `"1.5"` →
/// `1.5` in a double field, `"NaN"` → its sentinel), with the sentinels
/// used (when the scan found special doubles) for [`specials::Restore`].
/// Allocates at most `bytes.len() + scan.growth`.
pub fn normalize(bytes: &[u8], scan: &Scan) -> Result<(Vec<u8>, Option<Sentinels>), JsonError> {
    let sentinels = (scan.specials > 0)
        .then(|| Sentinels::choose(scan.taken))
        .flatten();
    let mut out = Vec::with_capacity(bytes.len() + scan.growth);
    walk(bytes, Some((&mut out, sentinels.as_ref())))?;
    Ok((out, sentinels))
}

/// Charges a value starting in the innermost container; answers the
/// range of the key it is the value of (of its array's key in an array;
/// empty at the top).
fn value_starts(stack: &mut [Frame], tally: &mut Tally) -> (usize, usize) {
    match stack.last_mut() {
        Some(Frame::Array {
            key,
            element,
            started,
        }) => {
            let growth = if *started { VEC_GROWTH } else { VEC_FIRST };
            *started = true;
            tally.estimate += element.size as u64 * growth;
            if let Some(item) = element.counts {
                tally.items[item.index()] += 1;
            }
            *key
        }
        Some(Frame::Object { key, .. }) => *key,
        None => (0, 0),
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
