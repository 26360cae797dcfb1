//! Issue 17's findings 3, 4 and 6 against the release binary: a series with
//! 10,000 labels or a 1 MiB value gets 400 while its good neighbour in the
//! same request is stored; samples from the future (now + 1 year, i64::MAX
//! ms) get 400 and current data keeps flowing to that series; past
//! `max_series` new series get 429 with `Retry-After` while existing ones
//! keep ingesting, the refusals are counted per source on `/metrics`, and
//! the count survives a restart.

use crate::common;

use common::{Collector, enc, now_ms, series};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use sextant_model::Series;
use sextant_prometheus::encode_remote_write;

const RW: [(&str, &str); 2] = [
    ("Content-Type", "application/x-protobuf"),
    ("Content-Encoding", "snappy"),
];
const PB: [(&str, &str); 1] = [("Content-Type", "application/x-protobuf")];

fn kv(k: &str, v: &str) -> KeyValue {
    sextant_otlp::string_kv(k, v)
}

/// One gauge `name` of service `svc`, one point per attribute set, at `t_ms`.
fn gauge(name: &str, points: Vec<(Vec<KeyValue>, i64)>) -> Vec<u8> {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "svc")],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: name.to_string(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: points
                            .into_iter()
                            .map(|(attributes, t_ms)| NumberDataPoint {
                                attributes,
                                time_unix_nano: (t_ms as u64).saturating_mul(1_000_000),
                                value: Some(number_data_point::Value::AsDouble(1.0)),
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
    }
    .encode_to_vec()
}

/// A `google.rpc.Status` body: (code, message).
fn rpc_status(body: &[u8]) -> (i32, String) {
    #[derive(Clone, PartialEq, prost::Message)]
    struct Status {
        #[prost(int32, tag = "1")]
        code: i32,
        #[prost(string, tag = "2")]
        message: String,
    }
    let s = Status::decode(body).expect("a google.rpc.Status body");
    (s.code, s.message)
}

fn labels(name: &str, extra: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut l = vec![
        ("__name__".to_string(), name.to_string()),
        ("job".to_string(), "limits".to_string()),
    ];
    l.extend(extra);
    l
}

/// Samples of `expr` over the last hour, summed over series (0 when none).
fn samples(c: &Collector, expr: &str) -> u64 {
    let q = format!("sum(count_over_time({expr}[1h]))");
    let v = c.get_json(&format!(
        "/api/v1/query?query={}&time={}",
        enc(&q),
        now_ms() / 1000 + 5
    ));
    v["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// POST to the collector's remote-write endpoint.
fn remote_write(c: &Collector, batch: &[Series]) -> (u16, String) {
    common::post(
        &format!("http://{}/api/v1/write", c.http),
        &RW,
        &encode_remote_write(batch),
    )
}

/// POST (protobuf) to the OTLP/HTTP metrics endpoint; status and raw body.
fn otlp(c: &Collector, body: &[u8]) -> (u16, Vec<u8>) {
    let resp = ureq::post(&format!("http://{}/v1/metrics", c.otlp_http))
        .config()
        .http_status_as_error(false)
        .build()
        .header(PB[0].0, PB[0].1)
        .send(body)
        .expect("POST /v1/metrics");
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .with_config()
        .limit(10 << 20)
        .read_to_vec()
        .expect("body");
    (status, body)
}

#[test]
fn bad_series_get_400_and_their_good_neighbours_are_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let c = Collector::start_release(&dir.path().join("data"), "", &[]);
    let now = now_ms();
    let wide: Vec<(String, String)> = (0..10_000)
        .map(|i| (format!("l{i}"), "v".to_string()))
        .collect();
    let mib = "x".repeat(1 << 20);

    for (what, bad, reason) in [
        (
            "10,000 labels",
            labels("rw_wide", wide.clone()),
            "limit max_label_names_per_series=64",
        ),
        (
            "a 1 MiB value",
            labels("rw_fat", vec![("big".into(), mib.clone())]),
            "limit max_label_value_length=4096",
        ),
    ] {
        let good = labels("rw_good", vec![("case".into(), what.into())]);
        let (status, body) = remote_write(
            &c,
            &[
                series(bad, vec![(now, 1.0)]),
                series(good, vec![(now, 2.0)]),
            ],
        );
        assert_eq!(status, 400, "remote-write, {what}: {body}");
        assert!(body.contains(reason), "remote-write, {what}: {body}");
        assert!(body.ends_with("stored 1 samples"), "{what}: {body}");
        assert!(body.len() < 2000, "{what}: the reason is bounded");
    }
    assert_eq!(samples(&c, "rw_good"), 2);
    assert_eq!(samples(&c, r#"{__name__=~"rw_wide|rw_fat"}"#), 0);

    let wide_attrs: Vec<KeyValue> = (0..10_000).map(|i| kv(&format!("a{i}"), "v")).collect();
    for (what, bad, reason) in [
        (
            "10,000 labels",
            wide_attrs,
            "limit max_label_names_per_series=64",
        ),
        (
            "a 1 MiB value",
            vec![kv("big", &mib)],
            "limit max_label_value_length=4096",
        ),
    ] {
        let body = gauge(
            "otlp_mixed",
            vec![(bad, now), (vec![kv("case", what)], now)],
        );
        let (status, answer) = otlp(&c, &body);
        assert_eq!(status, 400, "OTLP/HTTP, {what}");
        let (code, message) = rpc_status(&answer);
        assert_eq!(code, 3, "INVALID_ARGUMENT: {message}");
        assert!(message.contains(reason), "OTLP/HTTP, {what}: {message}");
        assert!(message.ends_with("stored 1 samples"), "{what}: {message}");
    }
    assert_eq!(samples(&c, r#"otlp_mixed{case=~".+"}"#), 2);
    assert_eq!(samples(&c, "otlp_mixed"), 2, "nothing but the good points");
}

#[test]
fn future_samples_are_refused_and_current_data_keeps_flowing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let c = Collector::start_release(&dir.path().join("data"), "", &[]);
    let now = now_ms();
    let year = 365 * 24 * 3600 * 1000;
    let clock = || labels("clock", vec![]);

    for t in [now + year, i64::MAX] {
        let (status, body) = remote_write(&c, &[series(clock(), vec![(t, 1.0)])]);
        assert_eq!(status, 400, "t={t}: {body}");
        assert!(body.contains("too far in the future"), "{body}");
    }
    let (status, body) = remote_write(&c, &[series(clock(), vec![(now, 1.0)])]);
    assert_eq!(status, 204, "current data after a future sample: {body}");

    let (status, answer) = otlp(&c, &gauge("otlp_clock", vec![(vec![], now + year)]));
    assert_eq!(status, 400);
    assert!(rpc_status(&answer).1.contains("too far in the future"));
    let (status, _) = otlp(&c, &gauge("otlp_clock", vec![(vec![], now)]));
    assert_eq!(status, 200);

    // And the series keeps taking data afterwards.
    let (status, body) = remote_write(&c, &[series(clock(), vec![(now + 1000, 2.0)])]);
    assert_eq!(status, 204, "{body}");
    assert_eq!(samples(&c, "clock"), 2);
    assert_eq!(samples(&c, "otlp_clock"), 1);
}

/// `n` new series of job `flood` from `from` on, one sample each at `t`.
fn flood(from: usize, n: usize, t: i64) -> Vec<Series> {
    (from..from + n)
        .map(|i| {
            series(
                vec![
                    ("__name__".into(), "flood".into()),
                    ("job".into(), "flood".into()),
                    ("i".into(), i.to_string()),
                ],
                vec![(t, i as f64)],
            )
        })
        .collect()
}

fn refused_on_metrics(c: &Collector) -> u64 {
    let text = c.metrics_text();
    text.lines()
        .find(|l| {
            l.starts_with("sextant_collector_series_refused_total{")
                && l.contains(r#"limit="max_series""#)
                && l.contains(r#"source="flood""#)
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
fn past_max_series_new_series_get_429_and_existing_ones_keep_ingesting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let yaml = "collector:\n  limits:\n    max_series: 1000\n";
    let c = Collector::start_release(&data, yaml, &[]);
    let now = now_ms();

    let (status, body) = remote_write(&c, &flood(0, 500, now));
    assert_eq!(status, 204, "{body}");
    // The collector's own series count too, so fewer than 700 more fit.
    let (status, body) = remote_write(&c, &flood(500, 700, now));
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("max_series=1000"), "{body}");
    assert!(
        body.contains("flood{"),
        "the refused series are named: {body}"
    );
    let resp = ureq::post(&format!("http://{}/api/v1/write", c.http))
        .config()
        .http_status_as_error(false)
        .build()
        .header(RW[0].0, RW[0].1)
        .header(RW[1].0, RW[1].1)
        .send(&encode_remote_write(&flood(5000, 1, now))[..])
        .expect("POST");
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("60")
    );

    // Every existing series still takes samples.
    let (status, body) = remote_write(&c, &flood(0, 500, now + 1000));
    assert_eq!(status, 204, "existing series refused: {body}");
    assert_eq!(samples(&c, "flood"), 500 + 500 + stored_beyond_500(&c));
    let all_series = c.get_json(&format!(
        "/api/v1/query?query={}&time={}",
        enc(r#"count({__name__=~".+"})"#),
        now_ms() / 1000 + 5
    ));
    assert_eq!(
        all_series["data"]["result"][0]["value"][1], "1000",
        "the store holds max_series series: {all_series}"
    );
    let refused = refused_on_metrics(&c);
    assert!(refused > 200, "per-source counter on /metrics: {refused}");

    // After a restart the recovered series still count.
    let (http, otlp_http, otlp_grpc) = (c.http.clone(), c.otlp_http.clone(), c.otlp_grpc.clone());
    c.kill9();
    let config = data.with_extension("yaml");
    let c = Collector::start_bin(
        &common::release_bin(),
        &data,
        http,
        otlp_http,
        otlp_grpc,
        &["--config", config.to_str().expect("UTF-8 path")],
    );
    let (status, body) = remote_write(&c, &flood(6000, 1, now + 2000));
    assert_eq!(status, 429, "a new series after restart: {body}");
    let (status, body) = remote_write(&c, &flood(0, 1, now + 2000));
    assert_eq!(status, 204, "an existing series after restart: {body}");
}

/// Flood series past the first 500 that the limit let in.
fn stored_beyond_500(c: &Collector) -> u64 {
    samples(c, r#"flood{i=~"5..|6..|7..|8..|9..|1...."}"#)
}
