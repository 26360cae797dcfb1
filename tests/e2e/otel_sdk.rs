//! The official OpenTelemetry Python SDK sends logs, metrics and spans over
//! gRPC, HTTP/protobuf and HTTP/JSON; everything reads back through the
//! collector's Prometheus, Loki and Tempo APIs with its attributes intact.

use crate::common;

use std::process::Command;

use common::{Collector, enc};
use serde_json::Value;

fn send(c: &Collector, mode: &str, run: &str) -> Value {
    let out = Command::new(common::python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/python/send_otlp.py"
        ))
        .args([
            "--mode",
            mode,
            "--grpc",
            &c.otlp_grpc,
            "--http",
            &format!("http://{}", c.otlp_http),
            "--run",
            run,
        ])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python SDK ({mode}) failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("script prints JSON")
}

fn check_metrics(c: &Collector, run: &str) {
    let q = |expr: &str| c.get_json(&format!("/api/v1/query?query={}", enc(expr)));
    let r = q(&format!(r#"e2e_requests_total{{run_id="{run}"}}"#));
    assert_eq!(r["status"], "success", "{r}");
    let result = r["data"]["result"].as_array().expect("vector");
    assert_eq!(result.len(), 2, "{r}");
    for s in result {
        let m = &s["metric"];
        assert_eq!(m["job"], format!("e2e-{run}"));
        assert_eq!(m["instance"], "py-1");
        assert_eq!(m["otel_scope_name"], "e2e.meter");
        let want = if m["http_route"] == "/checkout" {
            "5"
        } else {
            "2"
        };
        assert_eq!(s["value"][1], want, "{s}");
    }
    let buckets = q(&format!(r#"e2e_latency_seconds_bucket{{run_id="{run}"}}"#));
    let inf = buckets["data"]["result"]
        .as_array()
        .expect("vector")
        .iter()
        .find(|s| s["metric"]["le"] == "+Inf")
        .unwrap_or_else(|| panic!("no +Inf bucket: {buckets}"));
    assert_eq!(inf["value"][1], "4");
    let count = q(&format!(r#"e2e_latency_seconds_count{{run_id="{run}"}}"#));
    assert_eq!(count["data"]["result"][0]["value"][1], "4", "{count}");
    let gauge = q(&format!(r#"e2e_queue_size_bytes{{run_id="{run}"}}"#));
    assert_eq!(gauge["data"]["result"][0]["value"][1], "1024", "{gauge}");
    let info = q(&format!(r#"target_info{{job="e2e-{run}"}}"#));
    let labels = &info["data"]["result"][0]["metric"];
    assert_eq!(labels["host_name"], "py-host", "{info}");
    assert_eq!(labels["deployment_environment_name"], "test", "{info}");
    // info() joins those resource attributes back onto the SDK's metrics.
    let joined = q(&format!(
        r#"info(e2e_queue_size_bytes{{run_id="{run}"}}, {{host_name=~".+"}})"#
    ));
    let m = &joined["data"]["result"][0]["metric"];
    assert_eq!(m["__name__"], "e2e_queue_size_bytes", "{joined}");
    assert_eq!(m["host_name"], "py-host", "{joined}");
    assert!(m.get("deployment_environment_name").is_none(), "{joined}");
    assert_eq!(joined["data"]["result"][0]["value"][1], "1024", "{joined}");
}

fn check_logs(c: &Collector, run: &str, log_trace_id: &str) {
    let url = format!(
        "http://{}/loki/api/v1/query_range?query={}&limit=100",
        c.http,
        enc(&format!(r#"{{service_name="e2e-{run}"}}"#))
    );
    let resp = ureq::get(&url)
        .header("X-Loki-Response-Encoding-Flags", "categorize-labels")
        .call()
        .expect("loki query");
    let v: Value =
        serde_json::from_str(&resp.into_body().read_to_string().expect("body")).expect("json");
    assert_eq!(v["data"]["resultType"], "streams", "{v}");
    let streams = v["data"]["result"].as_array().expect("streams");
    let values: Vec<&Value> = streams
        .iter()
        .flat_map(|s| s["values"].as_array().expect("values"))
        .collect();
    assert_eq!(values.len(), 2, "{v}");
    let warn = values
        .iter()
        .find(|x| x[1] == "payment declined for order A-17")
        .unwrap_or_else(|| panic!("warning line missing: {v}"));
    let meta = &warn[2]["structuredMetadata"];
    assert_eq!(meta["order_id"], "A-17", "{warn}");
    assert_eq!(meta["run_id"], run);
    assert_eq!(meta["severity_text"], "WARN");
    assert_eq!(meta["trace_id"], log_trace_id);
    assert_eq!(meta["host_name"], "py-host");
    assert_eq!(streams[0]["stream"]["service_instance_id"], "py-1");

    let names = c.get_json("/loki/api/v1/labels");
    assert!(
        names["data"]
            .as_array()
            .expect("names")
            .iter()
            .any(|n| n == "service_name"),
        "{names}"
    );
    let values = c.get_json("/loki/api/v1/label/service_name/values");
    assert!(
        values["data"]
            .as_array()
            .expect("values")
            .iter()
            .any(|v| *v == format!("e2e-{run}")),
        "{values}"
    );
    let series = c.get_json(&format!(
        "/loki/api/v1/series?match[]={}",
        enc(&format!(r#"{{service_name="e2e-{run}"}}"#))
    ));
    let sets = series["data"].as_array().expect("series");
    assert_eq!(sets.len(), 1, "{series}");
    assert_eq!(sets[0]["deployment_environment_name"], "test");

    // Every stored record is counted by service and severity, so error-log
    // rules need no setup.
    let metrics = c.metrics_text();
    for severity in ["warn", "info"] {
        let line = format!(
            "sextant_log_records_total{{service_name=\"e2e-{run}\",severity=\"{severity}\"}} 1"
        );
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} missing from /metrics"
        );
    }
}

fn check_trace(c: &Collector, run: &str, trace_id: &str) {
    let v = c.get_json(&format!("/api/traces/{trace_id}"));
    let batches = v["batches"]
        .as_array()
        .unwrap_or_else(|| panic!("no batches: {v}"));
    let spans: Vec<&Value> = batches
        .iter()
        .flat_map(|b| b["scopeSpans"].as_array().expect("scopeSpans"))
        .flat_map(|s| s["spans"].as_array().expect("spans"))
        .collect();
    assert_eq!(spans.len(), 2, "{v}");
    let parent = spans
        .iter()
        .find(|s| s["name"] == "checkout")
        .expect("parent span");
    let child = spans
        .iter()
        .find(|s| s["name"] == "charge-card")
        .expect("child span");
    assert_eq!(parent["traceId"], trace_id);
    assert_eq!(child["parentSpanId"], parent["spanId"]);
    assert_eq!(child["kind"], 3, "client kind as an integer: {child}");
    let attrs = parent["attributes"].as_array().expect("attributes");
    assert!(
        attrs
            .iter()
            .any(|a| a["key"] == "run.id" && a["value"]["stringValue"] == run),
        "{parent}"
    );
    assert!(
        attrs
            .iter()
            .any(|a| a["key"] == "order.items" && a["value"]["intValue"] == "3"),
        "{parent}"
    );
    let resource = &batches[0]["resource"]["attributes"];
    assert!(
        resource
            .as_array()
            .expect("resource")
            .iter()
            .any(|a| a["key"] == "service.name"),
        "{v}"
    );
    assert_eq!(batches[0]["scopeSpans"][0]["scope"]["name"], "e2e.tracer");

    let found = c.get_json(&format!(
        "/api/search?tags={}",
        enc(&format!("service.name=e2e-{run}"))
    ));
    let hits = found["traces"]
        .as_array()
        .unwrap_or_else(|| panic!("{found}"));
    let hit = hits
        .iter()
        .find(|t| t["traceID"] == trace_id)
        .unwrap_or_else(|| panic!("search misses {trace_id}: {found}"));
    assert_eq!(hit["rootServiceName"], format!("e2e-{run}"));
    assert_eq!(hit["rootTraceName"], "checkout");
}

#[test]
fn python_sdk_round_trips_over_every_transport() {
    let dir = tempfile::tempdir().expect("tempdir");
    let c = Collector::start(&dir.path().join("data"));
    for mode in ["grpc", "http-proto", "http-json"] {
        let run = mode.replace('-', "_");
        let sent = send(&c, mode, &run);
        check_metrics(&c, &run);
        check_logs(
            &c,
            &run,
            sent["log_trace_id"].as_str().expect("log trace id"),
        );
        check_trace(&c, &run, sent["trace_id"].as_str().expect("trace id"));
    }
}
