//! `kill -9` of the collector after acknowledgement, then restart: nothing
//! acknowledged is missing — samples, log records or spans.

use crate::common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Collector, enc, now_ms, series, try_post};
use serde_json::json;
use sextant_model::Series;
use sextant_prometheus::encode_remote_write;

/// One acknowledged write: batch number, and its base timestamp.
type Acked = Arc<Mutex<Vec<(u64, i64)>>>;

/// Batch `n`: 10 series × 5 samples, plus one log record and one span, all tagged `n`.
fn write_batch(http: &str, otlp_http: &str, n: u64, base: i64) -> bool {
    let series: Vec<Series> = (0..10)
        .map(|s| {
            series(
                vec![
                    ("__name__".into(), "crash_test_value".into()),
                    ("series".into(), s.to_string()),
                    ("batch".into(), n.to_string()),
                ],
                (0..5)
                    .map(|i| (base + i * 1000, (n * 100 + i as u64) as f64))
                    .collect(),
            )
        })
        .collect();
    let Ok((status, body)) = try_post(
        &format!("http://{http}/api/v1/write"),
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Content-Encoding", "snappy"),
        ],
        &encode_remote_write(&series),
    ) else {
        return false;
    };
    if status != 204 {
        assert!(
            status >= 500,
            "remote-write refused batch {n}: {status} {body}"
        );
        return false;
    }
    let ts = (base as u128 * 1_000_000).to_string();
    let logs = json!({"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "crash-test"}}]},
        "scopeLogs": [{"logRecords": [{"timeUnixNano": ts, "body": {"stringValue": format!("batch {n}")}}]}]
    }]});
    let Ok((status, _)) = try_post(
        &format!("http://{otlp_http}/v1/logs"),
        &[("Content-Type", "application/json")],
        logs.to_string().as_bytes(),
    ) else {
        return false;
    };
    if status != 200 {
        return false;
    }
    let spans = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "crash-test"}}]},
        "scopeSpans": [{"spans": [{
            "traceId": format!("{:032x}", n + 1), "spanId": format!("{:016x}", n + 1),
            "name": format!("batch {n}"), "kind": 1, "startTimeUnixNano": ts, "endTimeUnixNano": ts
        }]}]
    }]});
    let Ok((status, _)) = try_post(
        &format!("http://{otlp_http}/v1/traces"),
        &[("Content-Type", "application/json")],
        spans.to_string().as_bytes(),
    ) else {
        return false;
    };
    status == 200
}

#[test]
fn kill_9_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let c = Collector::start(&data);
    let (http, otlp_http, otlp_grpc) = (c.http.clone(), c.otlp_http.clone(), c.otlp_grpc.clone());
    let acked: Acked = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    // An hour back, so however many batches land, none is past now + creation_grace_period.
    let base0 = now_ms() / 1000 * 1000 - 3_600_000;

    // Write continuously from a second thread; kill -9 while it is mid-stream.
    let writer = {
        let (acked, stop) = (Arc::clone(&acked), Arc::clone(&stop));
        let (http, otlp_http) = (http.clone(), otlp_http.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let base = base0 + n as i64 * 5_000;
                if !write_batch(&http, &otlp_http, n, base) {
                    break;
                }
                acked.lock().expect("lock").push((n, base));
                n += 1;
            }
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    c.kill9();
    stop.store(true, Ordering::Relaxed);
    let _ = writer.join();
    let acked = acked.lock().expect("lock").clone();
    assert!(
        acked.len() > 5,
        "too few writes acknowledged before the kill: {}",
        acked.len()
    );

    let c = Collector::start_on(&data, http, otlp_http, otlp_grpc);
    for (n, base) in &acked {
        let expr = format!(r#"crash_test_value{{batch="{n}"}}[1h]"#);
        let t = base / 1000 + 10;
        let v = c.get_json(&format!("/api/v1/query?query={}&time={t}", enc(&expr)));
        let result = v["data"]["result"]
            .as_array()
            .unwrap_or_else(|| panic!("{v}"));
        assert_eq!(
            result.len(),
            10,
            "batch {n}: series missing after kill -9: {v}"
        );
        for s in result {
            let values = s["values"].as_array().expect("values");
            assert_eq!(values.len(), 5, "batch {n}: samples missing: {s}");
            assert_eq!(values[0][0], json!(base / 1000), "batch {n}");
        }
        let trace = c.get_json(&format!("/api/traces/{:032x}", n + 1));
        assert!(
            trace["batches"].is_array(),
            "batch {n}: span missing after kill -9: {trace}"
        );
    }
    let url = format!(
        "/loki/api/v1/query_range?query={}&limit=5000&start={}&end={}",
        enc(r#"{service_name="crash-test"}"#),
        base0 / 1000 - 10,
        acked.last().map_or(0, |(_, base)| base / 1000) + 10
    );
    let logs = c.get_json(&url);
    let lines: Vec<String> = logs["data"]["result"]
        .as_array()
        .expect("streams")
        .iter()
        .flat_map(|s| {
            s["values"]
                .as_array()
                .expect("values")
                .iter()
                .map(|v| v[1].as_str().unwrap_or("").to_string())
        })
        .collect();
    for (n, _) in &acked {
        assert!(
            lines.contains(&format!("batch {n}")),
            "log of batch {n} missing after kill -9"
        );
    }
}
