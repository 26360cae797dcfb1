//! Property tests of every receiver's decoder (OTLP protobuf for the three
//! signals, OTLP/JSON, remote-write, and the gzip and snappy layers): on
//! random, truncated and adversarial bytes (empty-element and nesting
//! bombs) they never panic and never allocate more than the in-flight
//! budget they decode under (twice over: a growing buffer briefly holds
//! its old and new allocation), plus the input and a little slack.
//!
//! A capped global allocator (the `cap` crate: no `unsafe` of ours) makes
//! an allocation past the bound fail, which aborts the test binary: the
//! property holds exactly when the run completes. All cases run from one
//! test function, so no other test thread allocates against the cap.

use std::alloc::System;

use cap::Cap;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sextant_collector::Limits;
use sextant_collector::decode::{self, OtlpRequest};
use sextant_collector::inflight::Budget;

#[global_allocator]
static ALLOC: Cap<System> = Cap::new(System, usize::MAX);

/// The in-flight budget every case decodes under.
const BUDGET: usize = 4 << 20;
/// What a decoder may allocate beyond its permit: buffers of a few pages,
/// error strings.
const SLACK: usize = 256 << 10;

fn limits() -> Limits {
    Limits {
        max_decompressed_bytes: 2 << 20,
        max_inflight_bytes: BUDGET,
        ..Limits::default()
    }
}

/// Runs `f` with allocation capped at what is allocated now plus `bound`.
fn capped<T>(bound: usize, f: impl FnOnce() -> T) -> T {
    let _ = ALLOC.set_limit(ALLOC.allocated() + bound);
    let out = f();
    let _ = ALLOC.set_limit(usize::MAX);
    out
}

/// Decodes `bytes` as OTLP protobuf and as OTLP/JSON `M` under the budget.
fn otlp<M: OtlpRequest>(bytes: &[u8]) {
    let budget = Budget::new(BUDGET);
    let limits = limits();
    capped(2 * BUDGET + bytes.len() + SLACK, || {
        let mut permit = budget.reserve(bytes.len()).expect("input fits");
        let _ = decode::otlp_protobuf::<M>(bytes, &limits, &mut permit);
        let mut permit = budget.reserve(bytes.len()).expect("input fits");
        let _ = decode::otlp_json::<M>(bytes, &limits, &mut permit);
    });
}

fn remote_write(body: &[u8]) {
    let budget = Budget::new(BUDGET);
    let limits = limits();
    capped(2 * BUDGET + body.len() + SLACK, || {
        let mut permit = budget.reserve(body.len()).expect("input fits");
        let _ = decode::remote_write(body, &limits, &mut permit);
    });
}

fn gunzip(body: &[u8]) {
    let budget = Budget::new(BUDGET);
    capped(2 * BUDGET + body.len() + SLACK, || {
        let mut permit = budget.reserve(body.len()).expect("input fits");
        let _ = decode::gunzip(body, 8 << 20, &mut permit);
    });
}

fn all(bytes: &[u8]) {
    otlp::<ExportMetricsServiceRequest>(bytes);
    otlp::<ExportLogsServiceRequest>(bytes);
    otlp::<ExportTraceServiceRequest>(bytes);
    if let Ok(snappy) = snap::raw::Encoder::new().compress_vec(bytes) {
        remote_write(&snappy);
    }
    remote_write(bytes);
    gunzip(&gzip(bytes));
    gunzip(bytes);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// Field 1 wrapping `inner`, `depth` times: a nesting bomb.
fn nest(inner: &[u8], tag: u8, depth: usize) -> Vec<u8> {
    let mut out = inner.to_vec();
    for _ in 0..depth {
        let mut next = vec![tag];
        let mut n = out.len();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                next.push(b);
                break;
            }
            next.push(b | 0x80);
        }
        next.extend(&out);
        out = next;
    }
    out
}

/// Adversarial shapes: an element repeated (empty, or a tiny valid one at
/// several depths of the OTLP trees), nesting, JSON element bombs.
fn bomb() -> impl Strategy<Value = Vec<u8>> {
    let unit = prop_oneof![
        Just(vec![0x0a, 0x00]),             // empty resource_* / timeseries
        Just(vec![0x0a, 0x02, 0x12, 0x00]), // resource → one empty scope
        Just(vec![0x0a, 0x04, 0x12, 0x02, 0x12, 0x00]), // … → one empty metric / record / span
        Just(vec![0x0a, 0x02, 0x0a, 0x00]), // resource → empty Resource
        Just(b"{},".to_vec()),
        Just(b"[],".to_vec()),
        Just(b"\"\",".to_vec()),
    ];
    prop_oneof![
        (unit, 1usize..(512 << 10)).prop_map(|(u, n)| {
            let n = n / u.len();
            let mut body = if u[0] == b'{' || u[0] == b'[' || u[0] == b'"' {
                b"{\"resourceMetrics\":[".to_vec()
            } else {
                Vec::new()
            };
            body.extend(u.repeat(n));
            body
        }),
        (1usize..400).prop_map(|d| nest(&[], 0x0a, d)),
        (1usize..400).prop_map(|d| "[".repeat(d).into_bytes()),
        (1usize..400).prop_map(|d| "{\"a\":".repeat(d).into_bytes()),
    ]
}

/// A valid metrics request, its protobuf and its JSON, cut anywhere.
fn truncated() -> impl Strategy<Value = Vec<u8>> {
    use opentelemetry_proto::tonic::metrics::v1 as m;
    use prost::Message;
    (1usize..200, any::<prop::sample::Index>(), any::<bool>()).prop_map(|(n, cut, json)| {
        let req = ExportMetricsServiceRequest {
            resource_metrics: vec![m::ResourceMetrics {
                scope_metrics: vec![m::ScopeMetrics {
                    metrics: vec![m::Metric {
                        name: "x".into(),
                        data: Some(m::metric::Data::Gauge(m::Gauge {
                            data_points: (0..n)
                                .map(|i| m::NumberDataPoint {
                                    time_unix_nano: i as u64,
                                    value: Some(m::number_data_point::Value::AsInt(i as i64)),
                                    ..Default::default()
                                })
                                .collect(),
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let bytes = if json {
            serde_json::to_vec(&req).unwrap_or_default()
        } else {
            req.encode_to_vec()
        };
        let at = cut.index(bytes.len() + 1);
        bytes[..at].to_vec()
    })
}

#[test]
fn decoders_never_panic_and_stay_within_their_budget() {
    let mut runner = TestRunner::new(Config {
        cases: 200,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&prop::collection::vec(any::<u8>(), 0..4096), |b| {
            all(&b);
            Ok(())
        })
        .expect("random bytes");
    runner
        .run(&truncated(), |b| {
            all(&b);
            Ok(())
        })
        .expect("truncated requests");
    runner
        .run(&bomb(), |b| {
            all(&b);
            Ok(())
        })
        .expect("bombs");
    a_decoded_request_is_charged_at_least_what_it_allocates();
}

fn a_decoded_request_is_charged_at_least_what_it_allocates() {
    // The same property from the other side, on one request that fits:
    // what decoding allocates stays under what the permit was grown by.
    let mut body = Vec::new();
    for _ in 0..2000 {
        body.extend([0x0a, 0x04, 0x12, 0x02, 0x12, 0x00]);
    }
    let budget = Budget::new(usize::MAX);
    let mut permit = budget.reserve(0).expect("fits");
    let before = ALLOC.allocated();
    let req: ExportMetricsServiceRequest =
        decode::otlp_protobuf(&body, &limits(), &mut permit).expect("decodes");
    let held_by_request = ALLOC.allocated() - before;
    assert!(
        held_by_request <= permit.held(),
        "decoded request holds {held_by_request} bytes, permit only {}",
        permit.held()
    );
    assert_eq!(req.resource_metrics.len(), 2000);
}
