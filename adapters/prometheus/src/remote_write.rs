//! Prometheus remote-write 1.0 bodies: snappy (block format) around a
//! protobuf `prometheus.WriteRequest`.
//!
//! Decoding is what the collector's remote-write receiver runs on untrusted
//! input, so it bounds memory before allocating and validates every series,
//! with errors that point at the offending `timeseries[i]`. The messages are
//! hand-written prost structs carrying only the fields we read, so there is
//! no build script and no protoc.

use std::collections::HashSet;

use thiserror::Error;

use sextant_model::{Labels, Series};

/// Largest decompressed body we accept (32 MiB). Snappy declares the
/// decompressed length up front; checking it first means a tiny malicious
/// body cannot make us allocate gigabytes.
pub const MAX_DECOMPRESSED_BYTES: usize = 32 * 1024 * 1024;

/// Why a remote-write body was refused as a whole. The receiver answers 400
/// with this text, so it says where and why.
#[derive(Debug, Error)]
pub enum RemoteWriteError {
    /// The body is not valid snappy block-format data.
    #[error("invalid snappy block data: {0}")]
    Snappy(#[from] snap::Error),
    /// Snappy's declared decompressed length is over the limit.
    #[error("decompressed size {declared} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// Length declared by the snappy header.
        declared: usize,
        /// [`MAX_DECOMPRESSED_BYTES`].
        limit: usize,
    },
    /// The decompressed bytes are not a valid `WriteRequest` (this includes
    /// strings that are not UTF-8).
    #[error("invalid WriteRequest protobuf: {0}")]
    Protobuf(#[from] prost::DecodeError),
    /// One series is invalid, e.g. `timeseries[3]: duplicate label name "job"`.
    #[error("timeseries[{index}]: {reason}")]
    InvalidSeries {
        /// Position of the series in the request.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// A decoded remote-write request, with counts of what was read but not kept.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RemoteWriteBatch {
    /// Float series that carried at least one sample, labels sorted by name.
    pub series: Vec<Series>,
    /// Native histogram samples skipped: the store has no native histograms
    /// yet. Report them rather than pretend they were stored.
    pub skipped_histograms: u64,
    /// Exemplars skipped (not stored yet).
    pub skipped_exemplars: u64,
}

/// `prometheus.WriteRequest` (remote-write 1.0).
#[derive(Clone, PartialEq, prost::Message)]
struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    timeseries: Vec<TimeSeries>,
    #[prost(message, repeated, tag = "3")]
    metadata: Vec<MetricMetadata>,
}

/// `prometheus.TimeSeries`.
#[derive(Clone, PartialEq, prost::Message)]
struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    samples: Vec<Sample>,
    #[prost(message, repeated, tag = "3")]
    exemplars: Vec<Exemplar>,
    #[prost(message, repeated, tag = "4")]
    histograms: Vec<NativeHistogram>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, prost::Message)]
struct Label {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, PartialEq, prost::Message)]
struct Sample {
    #[prost(double, tag = "1")]
    value: f64,
    #[prost(int64, tag = "2")]
    timestamp: i64,
}

/// `prometheus.Exemplar`.
#[derive(Clone, PartialEq, prost::Message)]
struct Exemplar {
    #[prost(message, repeated, tag = "1")]
    labels: Vec<Label>,
    #[prost(double, tag = "2")]
    value: f64,
    #[prost(int64, tag = "3")]
    timestamp: i64,
}

/// `prometheus.Histogram`, fields unread: we only count these, and prost
/// skips the unknown fields.
#[derive(Clone, PartialEq, prost::Message)]
struct NativeHistogram {}

/// `prometheus.MetricMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
struct MetricMetadata {
    #[prost(int32, tag = "1")]
    r#type: i32,
    #[prost(string, tag = "2")]
    metric_family_name: String,
    #[prost(string, tag = "4")]
    help: String,
    #[prost(string, tag = "5")]
    unit: String,
}

/// Decodes a remote-write 1.0 body into series. Shorthand for
/// [`decode_remote_write_batch`] when the skipped counts are not needed.
pub fn decode_remote_write(body: &[u8]) -> Result<Vec<Series>, RemoteWriteError> {
    decode_remote_write_batch(body).map(|b| b.series)
}

/// Decodes a remote-write 1.0 body (snappy block format around a
/// `WriteRequest`), validating each series: a non-empty `__name__`, no
/// empty or duplicate label names. Label names may be any UTF-8, as
/// Prometheus 3 accepts. Empty label values are dropped (Prometheus treats
/// them as absent); series left without float samples are omitted; samples
/// are put in time order. Metadata is ignored.
pub fn decode_remote_write_batch(body: &[u8]) -> Result<RemoteWriteBatch, RemoteWriteError> {
    let declared = snap::raw::decompress_len(body)?;
    if declared > MAX_DECOMPRESSED_BYTES {
        return Err(RemoteWriteError::TooLarge {
            declared,
            limit: MAX_DECOMPRESSED_BYTES,
        });
    }
    let raw = snap::raw::Decoder::new().decompress_vec(body)?;
    decode_write_request_batch(&raw)
}

/// Decodes an already decompressed `WriteRequest` into series, validated as
/// [`decode_remote_write`] does. For a receiver that bounds the snappy layer
/// and pre-scans the protobuf itself before decoding.
pub fn decode_write_request(raw: &[u8]) -> Result<Vec<Series>, RemoteWriteError> {
    decode_write_request_batch(raw).map(|b| b.series)
}

/// [`decode_write_request`] with the skipped counts.
pub fn decode_write_request_batch(raw: &[u8]) -> Result<RemoteWriteBatch, RemoteWriteError> {
    let req = <WriteRequest as prost::Message>::decode(raw)?;

    let mut batch = RemoteWriteBatch::default();
    for (index, ts) in req.timeseries.into_iter().enumerate() {
        let invalid = |reason: String| RemoteWriteError::InvalidSeries { index, reason };
        let mut seen = HashSet::with_capacity(ts.labels.len());
        let mut has_name = false;
        for l in &ts.labels {
            if l.name.is_empty() {
                return Err(invalid("empty label name".to_string()));
            }
            if !seen.insert(l.name.as_str()) {
                return Err(invalid(format!("duplicate label name {:?}", l.name)));
            }
            if l.name == "__name__" {
                if l.value.is_empty() {
                    return Err(invalid("empty metric name (__name__)".to_string()));
                }
                has_name = true;
            }
        }
        if !has_name {
            return Err(invalid("missing metric name (__name__ label)".to_string()));
        }
        batch.skipped_histograms += ts.histograms.len() as u64;
        batch.skipped_exemplars += ts.exemplars.len() as u64;
        if ts.samples.is_empty() {
            continue;
        }
        // `from_pairs` sorts by name and drops empty values (names are unique here).
        let labels = Labels::from_pairs(ts.labels.into_iter().map(|l| (l.name, l.value)).collect());
        let mut samples: Vec<sextant_model::Sample> = ts
            .samples
            .iter()
            .map(|s| sextant_model::Sample {
                t: s.timestamp,
                v: s.value,
            })
            .collect();
        samples.sort_by_key(|p| p.t); // stable
        batch.series.push(Series { labels, samples });
    }
    Ok(batch)
}

/// Encodes series as a remote-write 1.0 body (snappy block format), labels
/// sorted by name as the protocol asks. For tests, benchmarks and a future
/// remote-write exporter.
pub fn encode_remote_write(series: &[Series]) -> Vec<u8> {
    let req = WriteRequest {
        timeseries: series
            .iter()
            .map(|s| {
                // Labels are kept sorted by name, as the protocol asks.
                let labels: Vec<Label> = s
                    .labels
                    .pairs()
                    .iter()
                    .map(|(name, value)| Label {
                        name: name.clone(),
                        value: value.clone(),
                    })
                    .collect();
                TimeSeries {
                    labels,
                    samples: s
                        .samples
                        .iter()
                        .map(|p| Sample {
                            value: p.v,
                            timestamp: p.t,
                        })
                        .collect(),
                    exemplars: Vec::new(),
                    histograms: Vec::new(),
                }
            })
            .collect(),
        metadata: Vec::new(),
    };
    let raw = prost::Message::encode_to_vec(&req);
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .expect("snappy block compression only fails for inputs over 4 GiB")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> Series {
        Series {
            labels: Labels::from_pairs(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            samples: samples
                .iter()
                .map(|&(t, v)| sextant_model::Sample { t, v })
                .collect(),
        }
    }

    fn raw_body(req: &WriteRequest) -> Vec<u8> {
        snap::raw::Encoder::new()
            .compress_vec(&prost::Message::encode_to_vec(req))
            .expect("compress")
    }

    fn ts(labels: &[(&str, &str)]) -> TimeSeries {
        TimeSeries {
            labels: labels
                .iter()
                .map(|(n, v)| Label {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            samples: vec![Sample {
                value: 1.0,
                timestamp: 5,
            }],
            exemplars: vec![],
            histograms: vec![],
        }
    }

    #[test]
    fn round_trip() {
        let input = vec![
            series(
                &[("__name__", "up"), ("job", "node")],
                &[(1000, 1.0), (2000, 0.0)],
            ),
            series(
                &[
                    ("instance", "a:1"),
                    ("__name__", "http_requests_total"),
                    ("code", "200"),
                ],
                &[(1000, 42.5)],
            ),
            series(
                &[("__name__", "odd.utf8.名前"), ("ラベル", "値")],
                &[(-5, f64::INFINITY)],
            ),
        ];
        let decoded = decode_remote_write(&encode_remote_write(&input)).expect("decode");
        assert_eq!(decoded.len(), input.len());
        for (got, want) in decoded.iter().zip(&input) {
            assert_eq!(got.labels, want.labels);
            assert_eq!(got.samples, want.samples);
        }
    }

    #[test]
    fn stale_marker_bits_survive() {
        let stale = f64::from_bits(sextant_model::STALE_NAN_BITS);
        let input = vec![series(&[("__name__", "x")], &[(1, stale)])];
        let decoded = decode_remote_write(&encode_remote_write(&input)).expect("decode");
        assert_eq!(
            decoded[0].samples[0].v.to_bits(),
            sextant_model::STALE_NAN_BITS
        );
    }

    #[test]
    fn invalid_series_are_rejected_with_their_index() {
        let cases: &[(Vec<TimeSeries>, &str)] = &[
            (
                vec![
                    ts(&[("__name__", "a")]),
                    ts(&[("__name__", "b"), ("job", "x"), ("job", "y")]),
                ],
                "timeseries[1]: duplicate label name \"job\"",
            ),
            (
                vec![
                    ts(&[("__name__", "a")]),
                    ts(&[("__name__", "a")]),
                    ts(&[("job", "x")]),
                ],
                "timeseries[2]: missing metric name (__name__ label)",
            ),
            (
                vec![ts(&[("__name__", ""), ("job", "x")])],
                "timeseries[0]: empty metric name (__name__)",
            ),
            (
                vec![ts(&[("__name__", "a"), ("", "x")])],
                "timeseries[0]: empty label name",
            ),
            (
                vec![ts(&[("__name__", "a"), ("__name__", "b")])],
                "timeseries[0]: duplicate label name \"__name__\"",
            ),
        ];
        for (timeseries, want) in cases {
            let body = raw_body(&WriteRequest {
                timeseries: timeseries.clone(),
                metadata: vec![],
            });
            let err = decode_remote_write(&body).expect_err(want);
            assert_eq!(err.to_string(), *want);
        }
    }

    #[test]
    fn oversize_declared_length_is_rejected_before_allocating() {
        // A snappy block header is the decompressed length as a varint:
        // declare 1 GiB and supply nothing.
        let mut body = Vec::new();
        let mut n: u64 = 1 << 30;
        while n >= 0x80 {
            body.push((n as u8) | 0x80);
            n >>= 7;
        }
        body.push(n as u8);
        match decode_remote_write(&body) {
            Err(RemoteWriteError::TooLarge { declared, limit }) => {
                assert_eq!(declared, 1 << 30);
                assert_eq!(limit, MAX_DECOMPRESSED_BYTES);
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    #[test]
    fn not_snappy_and_not_protobuf_are_errors() {
        assert!(matches!(
            decode_remote_write(b"\xff\xff\xff\xff\xff\xff"),
            Err(RemoteWriteError::Snappy(_))
        ));
        let garbage = snap::raw::Encoder::new()
            .compress_vec(b"\x0a\xff\xff")
            .expect("compress");
        assert!(matches!(
            decode_remote_write(&garbage),
            Err(RemoteWriteError::Protobuf(_))
        ));
    }

    #[test]
    fn histograms_and_exemplars_are_counted_not_kept() {
        let mut only_histogram = ts(&[("__name__", "h")]);
        only_histogram.samples.clear();
        only_histogram.histograms = vec![NativeHistogram {}, NativeHistogram {}];
        let mut with_exemplar = ts(&[("__name__", "c"), ("job", ""), ("a", "b")]);
        with_exemplar.exemplars = vec![Exemplar {
            labels: vec![],
            value: 1.0,
            timestamp: 5,
        }];
        with_exemplar.samples = vec![
            Sample {
                value: 2.0,
                timestamp: 9,
            },
            Sample {
                value: 1.0,
                timestamp: 3,
            },
        ];
        let body = raw_body(&WriteRequest {
            timeseries: vec![only_histogram, with_exemplar],
            metadata: vec![MetricMetadata {
                r#type: 1,
                metric_family_name: "c".into(),
                help: "h".into(),
                unit: String::new(),
            }],
        });
        let batch = decode_remote_write_batch(&body).expect("decode");
        assert_eq!(batch.skipped_histograms, 2);
        assert_eq!(batch.skipped_exemplars, 1);
        assert_eq!(
            batch.series,
            vec![series(
                &[("__name__", "c"), ("a", "b")],
                &[(3, 1.0), (9, 2.0)]
            )]
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_remote_write(&body);
        }

        #[test]
        fn arbitrary_snappy_payloads_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..512)) {
            let body = snap::raw::Encoder::new().compress_vec(&raw).expect("compress");
            let _ = decode_remote_write(&body);
        }
    }
}
