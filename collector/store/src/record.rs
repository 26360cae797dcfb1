//! WAL record payloads. Like Prometheus's WAL, a series record maps a numeric
//! ref to labels once, and sample records carry only refs. Log and span
//! records share the WAL so one fsync covers a mixed workload and one
//! position orders everything.
//!
//! Encoders split large batches into several records of about
//! [`TARGET_RECORD`] bytes so no record approaches the reader's size limit.

use crate::codec::{Dec, DecResult, Enc};
use crate::segment::frame;
use sextant_model::{Labels, LogEntry, Sample, SpanEntry};

/// Kind byte of a series record: `n × (ref uvarint, labels)`.
pub const SERIES: u8 = 1;
/// Kind byte of a samples record: `n × (ref, count, t deltas ×count, reversed value XORs ×count)`.
pub const SAMPLES: u8 = 2;
/// Kind byte of a logs record: `n streams × (labels, count × (t, line, metadata))`.
pub const LOGS: u8 = 3;
/// Kind byte of a spans record: `n × (trace id 16 bytes, t, payload)`.
pub const SPANS: u8 = 4;

/// Payload size at which an encoder starts a new record.
pub const TARGET_RECORD: usize = 1 << 20;

/// A decoded WAL record.
#[derive(Debug, PartialEq)]
pub enum WalRecord {
    /// New series.
    Series(Vec<(u64, Labels)>),
    /// Samples per series ref.
    Samples(Vec<(u64, Vec<Sample>)>),
    /// Log entries.
    Logs(Vec<LogEntry>),
    /// Spans.
    Spans(Vec<SpanEntry>),
}

/// Accumulates items into framed records of bounded size.
struct Framer {
    kind: u8,
    out: Vec<u8>,
    cur: Enc,
    items: u64,
}

impl Framer {
    fn new(kind: u8, out: Vec<u8>) -> Framer {
        Framer {
            kind,
            out,
            cur: Enc::default(),
            items: 0,
        }
    }

    /// Called after each item: closes the record once it is big enough.
    fn item_done(&mut self) {
        self.items += 1;
        if self.cur.buf.len() >= TARGET_RECORD {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.items > 0 {
            // Item count goes first, so prepend it.
            let mut payload = Enc::default();
            payload.uvarint(self.items);
            payload.buf.extend_from_slice(&self.cur.buf);
            frame(self.kind, &payload.buf, &mut self.out);
        }
        self.cur.buf.clear();
        self.items = 0;
    }

    fn finish(mut self) -> Vec<u8> {
        self.flush();
        self.out
    }
}

/// Appends series records to `out`.
pub fn encode_series(series: &[(u64, Labels)], out: Vec<u8>) -> Vec<u8> {
    let mut f = Framer::new(SERIES, out);
    for (r, l) in series {
        f.cur.uvarint(*r);
        f.cur.labels(l);
        f.item_done();
    }
    f.finish()
}

/// Appends samples records to `out`.
pub fn encode_samples(samples: &[(u64, Vec<Sample>)], out: Vec<u8>) -> Vec<u8> {
    let mut f = Framer::new(SAMPLES, out);
    for (r, ss) in samples {
        // Split very long runs so one item cannot exceed a record by much.
        for part in ss.chunks(4096) {
            f.cur.uvarint(*r);
            f.cur.uvarint(part.len() as u64);
            let mut prev = 0i64;
            for s in part {
                f.cur.ivarint(s.t.wrapping_sub(prev));
                prev = s.t;
            }
            // Values XOR the previous one and bit-reversed, so the common
            // case (few differing high mantissa bits, or none) is a short varint.
            let mut prev = 0u64;
            for s in part {
                f.cur.uvarint((s.v.to_bits() ^ prev).reverse_bits());
                prev = s.v.to_bits();
            }
            f.item_done();
        }
    }
    f.finish()
}

/// Appends logs records to `out`; consecutive entries of one stream share its labels.
pub fn encode_logs(entries: &[LogEntry], out: Vec<u8>) -> Vec<u8> {
    let mut f = Framer::new(LOGS, out);
    let mut i = 0;
    while i < entries.len() {
        let stream = &entries[i].stream;
        let run = entries[i..]
            .iter()
            .take_while(|e| &e.stream == stream)
            .count()
            .min(1024);
        f.cur.labels(stream);
        f.cur.uvarint(run as u64);
        for e in &entries[i..i + run] {
            f.cur.ivarint(e.t_ns);
            f.cur.str(&e.line);
            f.cur.labels(&e.metadata);
        }
        f.item_done();
        i += run;
    }
    f.finish()
}

/// Appends spans records to `out`.
pub fn encode_spans(spans: &[SpanEntry], out: Vec<u8>) -> Vec<u8> {
    let mut f = Framer::new(SPANS, out);
    for s in spans {
        f.cur.buf.extend_from_slice(&s.trace_id);
        f.cur.ivarint(s.t_ns);
        f.cur.bytes(&s.payload);
        f.item_done();
    }
    f.finish()
}

/// Decodes a payload of the given kind.
pub fn decode(kind: u8, payload: &[u8]) -> DecResult<WalRecord> {
    let mut d = Dec::new(payload);
    let n = d.count()?;
    let rec = match kind {
        SERIES => WalRecord::Series(
            (0..n)
                .map(|_| Ok((d.uvarint()?, d.labels()?)))
                .collect::<DecResult<_>>()?,
        ),
        SAMPLES => {
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                let r = d.uvarint()?;
                let c = d.count()?;
                let mut ts = Vec::with_capacity(c);
                let mut t = 0i64;
                for _ in 0..c {
                    t = t.wrapping_add(d.ivarint()?);
                    ts.push(t);
                }
                let mut prev = 0u64;
                let mut samples = Vec::with_capacity(c);
                for t in ts {
                    prev ^= d.uvarint()?.reverse_bits();
                    samples.push(Sample {
                        t,
                        v: f64::from_bits(prev),
                    });
                }
                out.push((r, samples));
            }
            WalRecord::Samples(out)
        }
        LOGS => {
            let mut out = Vec::new();
            for _ in 0..n {
                let stream = d.labels()?;
                let c = d.count()?;
                for _ in 0..c {
                    let t_ns = d.ivarint()?;
                    let line = d.string()?;
                    let metadata = d.labels()?;
                    out.push(LogEntry {
                        t_ns,
                        stream: stream.clone(),
                        line,
                        metadata,
                    });
                }
            }
            WalRecord::Logs(out)
        }
        SPANS => {
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                let mut trace_id = [0u8; 16];
                for b in &mut trace_id {
                    *b = d.u8()?;
                }
                let t_ns = d.ivarint()?;
                let payload = d.bytes()?.to_vec();
                out.push(SpanEntry {
                    trace_id,
                    t_ns,
                    payload,
                });
            }
            WalRecord::Spans(out)
        }
        k => return Err(format!("unknown WAL record kind {k}")),
    };
    if !d.is_empty() {
        return Err("trailing bytes after record".into());
    }
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::scan;

    #[test]
    fn records_round_trip_and_split() -> Result<(), String> {
        let l = Labels::from_pairs(vec![("__name__".into(), "up".into())]);
        let samples: Vec<(u64, Vec<Sample>)> = (0..3)
            .map(|r| {
                (
                    r,
                    (0..5000)
                        .map(|i| Sample {
                            t: i * 15_000 - 7,
                            v: f64::from_bits(0x7ff0000000000002 + i as u64),
                        })
                        .collect(),
                )
            })
            .collect();
        let logs: Vec<LogEntry> = (0..3000)
            .map(|i| LogEntry {
                t_ns: i,
                stream: l.clone(),
                line: "x".repeat(1000),
                metadata: l.clone(),
            })
            .collect();
        let spans = vec![SpanEntry {
            trace_id: [7; 16],
            t_ns: -1,
            payload: vec![1, 2, 3],
        }];
        let mut buf = encode_series(&[(9, l.clone())], Vec::new());
        buf = encode_samples(&samples, buf);
        buf = encode_logs(&logs, buf);
        buf = encode_spans(&spans, buf);
        let s = scan(&buf);
        assert!(s.damage.is_none());
        assert!(
            s.records.len() > 4,
            "3 MB of logs must split into several records"
        );
        let (mut got_samples, mut got_logs) = (Vec::new(), Vec::new());
        for r in &s.records {
            match decode(r.kind, r.payload)? {
                WalRecord::Series(v) => assert_eq!(v, vec![(9, l.clone())]),
                WalRecord::Samples(v) => got_samples.extend(v),
                WalRecord::Logs(v) => got_logs.extend(v),
                WalRecord::Spans(v) => assert_eq!(v, spans),
            }
        }
        let flat: Vec<(u64, u64, i64)> = got_samples
            .iter()
            .flat_map(|(r, v)| v.iter().map(move |s| (*r, s.v.to_bits(), s.t)))
            .collect();
        let want: Vec<(u64, u64, i64)> = samples
            .iter()
            .flat_map(|(r, v)| v.iter().map(move |s| (*r, s.v.to_bits(), s.t)))
            .collect();
        assert_eq!(flat, want);
        assert_eq!(got_logs, logs);
        assert!(decode(SAMPLES, &[5, 1]).is_err());
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn decoding_garbage_never_panics(kind in 0u8..6, bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = decode(kind, &bytes);
            let _ = crate::chunk::Chunk::from_parts(bytes.clone(), bytes.len() as u64 * 8, u16::from(kind) * 20 + 1);
        }
    }
}
