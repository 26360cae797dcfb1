//! Grafana's Prometheus data source, replayed: the requests it sends (as
//! `pkg/promlib` and `grafana-prometheus` build them, see
//! `shared/reference/prometheus-compat.md` §3) go to the collector and to a
//! real Prometheus 2.42 holding the same data, and the answers must agree in
//! status code and body. Only what legitimately differs is normalized away:
//! buildinfo values, `warnings`/`infos`, `stats`, row order, the wording of
//! parse errors after their `invalid parameter "query"` prefix, and float
//! noise beyond 1e-9 relative in sample values.

use crate::common;

use common::prometheus::{Answer, Prometheus, get, post_form, qs, remote_write};
use common::{Collector, series};
use serde_json::{Value, json};
use sextant_model::Series;

const STEP_MS: i64 = 15_000;
const POINTS: i64 = 120; // 30 minutes

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `up`, a counter and a gauge for two jobs, 15-s samples 137 ms off whole
/// seconds so no window edge falls on a sample.
fn data(t0: i64) -> Vec<Series> {
    let ts = |i: i64| t0 + i * STEP_MS + 137;
    let mut out = Vec::new();
    for (job, inst) in [("api", "a:80"), ("api", "b:80"), ("db", "c:80")] {
        out.push(series(
            labels(&[("__name__", "up"), ("job", job), ("instance", inst)]),
            (0..POINTS).map(|i| (ts(i), 1.0)).collect(),
        ));
        for (k, code) in ["200", "500"].iter().enumerate() {
            let rate = if *code == "200" { 7.0 } else { 1.0 } + k as f64;
            out.push(series(
                labels(&[
                    ("__name__", "http_requests_total"),
                    ("job", job),
                    ("instance", inst),
                    ("code", code),
                ]),
                (0..POINTS).map(|i| (ts(i), rate * i as f64)).collect(),
            ));
        }
        out.push(series(
            labels(&[
                ("__name__", "node_memory_free_bytes"),
                ("job", job),
                ("instance", inst),
            ]),
            (0..POINTS)
                .map(|i| (ts(i), 1e9 + ((i * 7919) % 101) as f64 * 1e6))
                .collect(),
        ));
    }
    out
}

/// Drops what may legitimately differ between two correct servers, and
/// orders vector and matrix rows by their labels.
fn normalize(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        // Parse errors carry promql-parser's wording, without Prometheus's
        // `line:col: parse error:` position: compare what the error is about
        // (`invalid parameter "query"`), not its wording.
        if let Some(Value::String(e)) = o.get_mut("error") {
            *e = e.split(": ").next().unwrap_or_default().to_string();
        }
        o.remove("warnings");
        o.remove("infos");
        if let Some(d) = o.get_mut("data").and_then(Value::as_object_mut) {
            d.remove("stats");
            // Vector and matrix order is unspecified without sort(): compare as sets.
            if let Some(rows) = d.get_mut("result").and_then(Value::as_array_mut)
                && rows.iter().all(Value::is_object)
            {
                rows.sort_by_key(|r| r["metric"].to_string());
            }
        }
    }
    v
}

/// Whether two JSON values agree; strings that both parse as floats (sample
/// values) may differ by 1e-9 relative.
fn agree(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => {
            x == y
                || match (x.parse::<f64>(), y.parse::<f64>()) {
                    (Ok(p), Ok(q)) => (p - q).abs() <= 1e-9 * p.abs().max(q.abs()),
                    _ => false,
                }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| agree(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, p)| y.get(k).is_some_and(|q| agree(p, q)))
        }
        _ => a == b,
    }
}

struct Pair {
    ours: Collector,
    prom: Prometheus,
    failures: Vec<String>,
}

impl Pair {
    /// Compares one request's answers; `what` names it in the report.
    fn check(&mut self, what: &str, ask: impl Fn(&str) -> Answer) {
        let (so, bo) = ask(&self.ours.http);
        let (sp, bp) = ask(&self.prom.addr);
        let (bo, bp) = (normalize(bo), normalize(bp));
        if so != sp || !agree(&bo, &bp) {
            self.failures.push(format!(
                "{what}:\n  ours       {so} {bo}\n  Prometheus {sp} {bp}"
            ));
        }
    }
}

fn secs(ms: i64) -> String {
    format!("{}", ms as f64 / 1000.0)
}

#[test]
fn grafana_requests_answer_as_prometheus_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let prom = Prometheus::start(&dir.path().join("prom"));
    let ours = Collector::start(&dir.path().join("data"));
    let now = common::now_ms();
    let t0 = (now - 35 * 60_000) / 60_000 * 60_000;
    let set = data(t0);
    remote_write(&format!("http://{}/api/v1/write", prom.addr), &set);
    remote_write(&format!("http://{}/api/v1/write", ours.http), &set);
    let mut p = Pair {
        ours,
        prom,
        failures: Vec::new(),
    };
    let end = t0 + (POINTS - 1) * STEP_MS + 500;
    let (start_s, end_s) = (secs(t0 + 10 * 60_000), secs(end));
    // Grafana aligns a range to the step: float seconds, multiples of step.
    let (astart, aend) = (
        secs((t0 + 10 * 60_000) / 60_000 * 60_000),
        secs(end / 60_000 * 60_000),
    );
    let now_s = secs(end);

    // Health check: an instant `1+1`, POSTed as a form; must be a scalar.
    let health = |a: &str| post_form(a, "/api/v1/query", &[("query", "1+1"), ("time", &now_s)]);
    let (status, body) = health(&p.ours.http);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["resultType"], "scalar", "{body}");
    assert_eq!(body["data"]["result"][1], "2", "{body}");
    p.check("POST query 1+1", health);
    // The data arrived (so agreeing is not agreeing on nothing).
    let (_, v) = post_form(
        &p.ours.http,
        "/api/v1/query",
        &[("query", "count({__name__!=\"\"})"), ("time", &now_s)],
    );
    assert_eq!(v["data"]["result"][0]["value"][1], "12", "{v}");

    // Dashboard panels: POST query_range with float seconds, and with a duration step.
    for expr in [
        "up",
        "sum by (job) (rate(http_requests_total[5m]))",
        "sum(rate(http_requests_total{code=\"500\"}[5m])) / sum(rate(http_requests_total[5m]))",
        "avg_over_time(node_memory_free_bytes[10m])",
        "topk(2, node_memory_free_bytes)",
        "histogram_quantile(0.9, rate(http_requests_total[5m]))",
        "absent(nonexistent_metric)",
    ] {
        for step in ["60", "30s", "15.5"] {
            let form = [
                ("query", expr),
                ("start", astart.as_str()),
                ("end", aend.as_str()),
                ("step", step),
            ];
            p.check(&format!("POST query_range {expr} step={step}"), |a| {
                post_form(a, "/api/v1/query_range", &form)
            });
        }
        let form = [("query", expr), ("time", now_s.as_str())];
        p.check(&format!("POST query {expr}"), |a| {
            post_form(a, "/api/v1/query", &form)
        });
        let q = qs(&form);
        p.check(&format!("GET query {expr}"), |a| {
            get(a, &format!("/api/v1/query?{q}"))
        });
    }
    // `timeout`, as Grafana adds it from the data source's query timeout.
    let form = [
        ("query", "sum(up)"),
        ("start", astart.as_str()),
        ("end", aend.as_str()),
        ("step", "60"),
        ("timeout", "30s"),
    ];
    p.check("POST query_range with timeout", |a| {
        post_form(a, "/api/v1/query_range", &form)
    });
    // RFC 3339 times, as the Prometheus UI and some plugins send them.
    let rfc = |ms: i64| -> String {
        let out = std::process::Command::new("date")
            .args([
                "-u",
                "-d",
                &format!("@{}", ms / 1000),
                "+%Y-%m-%dT%H:%M:%SZ",
            ])
            .output()
            .expect("date(1)");
        String::from_utf8(out.stdout)
            .expect("date output")
            .trim()
            .to_string()
    };
    let (rs, re) = (rfc(t0 + 10 * 60_000), rfc(end));
    let q = qs(&[("query", "sum by (job) (up)"), ("time", &re)]);
    p.check("GET query RFC 3339 time", |a| {
        get(a, &format!("/api/v1/query?{q}"))
    });
    let q = qs(&[
        ("query", "up"),
        ("start", &rs),
        ("end", &re),
        ("step", "2m"),
    ]);
    p.check("GET query_range RFC 3339", |a| {
        get(a, &format!("/api/v1/query_range?{q}"))
    });

    // Metric and label browsing.
    let q = qs(&[("start", &start_s), ("end", &end_s)]);
    p.check("label/__name__/values", |a| {
        get(a, &format!("/api/v1/label/__name__/values?{q}"))
    });
    let form = [
        ("match[]", "up"),
        ("start", start_s.as_str()),
        ("end", end_s.as_str()),
        ("limit", "40000"),
    ];
    p.check("POST labels match[]", |a| {
        post_form(a, "/api/v1/labels", &form)
    });
    p.check("GET labels", |a| get(a, &format!("/api/v1/labels?{q}")));
    let q2 = qs(&[
        ("match[]", "up{job=\"api\"}"),
        ("start", &start_s),
        ("end", &end_s),
    ]);
    p.check("label/instance/values match[]", |a| {
        get(a, &format!("/api/v1/label/instance/values?{q2}"))
    });
    let q2 = qs(&[("match[]", "up"), ("start", &start_s), ("end", &end_s)]);
    p.check("label/job/values match[]", |a| {
        get(a, &format!("/api/v1/label/job/values?{q2}"))
    });
    p.check("label values is GET only", |a| {
        let (s, _) = post_form(a, "/api/v1/label/job/values", &[]);
        (s, Value::Null)
    });
    let q2 = qs(&[
        ("match[]", "{__name__!=\"\"}"),
        ("start", &start_s),
        ("end", &end_s),
    ]);
    p.check("series {__name__!=\"\"}", |a| {
        get(a, &format!("/api/v1/series?{q2}"))
    });
    let form = [
        ("match[]", "http_requests_total{code=\"500\"}"),
        ("match[]", "up{instance=\"c:80\"}"),
        ("start", start_s.as_str()),
        ("end", end_s.as_str()),
    ];
    p.check("POST series two match[]", |a| {
        post_form(a, "/api/v1/series", &form)
    });
    // Long ago: nothing in range.
    let q2 = qs(&[("match[]", "up"), ("start", "1000"), ("end", "2000")]);
    p.check("series out of range", |a| {
        get(a, &format!("/api/v1/series?{q2}"))
    });
    p.check("metadata", |a| get(a, "/api/v1/metadata"));
    p.check("metadata metric=up", |a| {
        get(a, "/api/v1/metadata?metric=up&limit=10")
    });
    p.check("metadata bad limit", |a| get(a, "/api/v1/metadata?limit=x"));
    let q2 = qs(&[
        ("query", "http_requests_total"),
        ("start", &start_s),
        ("end", &end_s),
    ]);
    p.check("query_exemplars", |a| {
        get(a, &format!("/api/v1/query_exemplars?{q2}"))
    });

    // `limit` (Grafana sends 40000): 2.42 ignores it, Prometheus 3 and we
    // cut the sorted answer, so this part is checked on our side only.
    for (path, want) in [
        (
            "/api/v1/label/instance/values?limit=2",
            json!(["a:80", "b:80"]),
        ),
        (
            "/api/v1/labels?match[]=up&limit=2",
            json!(["__name__", "instance"]),
        ),
    ] {
        let (s, v) = get(&p.ours.http, &format!("{path}&{q}"));
        assert_eq!((s, &v["data"]), (200, &want), "{path}: {v}");
    }
    let (s, v) = get(
        &p.ours.http,
        &format!("/api/v1/series?match[]=up&limit=1&{q}"),
    );
    assert_eq!(
        (s, v["data"].as_array().map(Vec::len)),
        (200, Some(1)),
        "series limit: {v}"
    );

    // Prometheus 3's `or` inside a selector, in match[]: the series listed
    // are exactly those a query of the same selector returns. 2.42 refuses
    // `or` in selectors, so this is checked against our own query.
    for selector in [
        "{job=\"db\" or instance=\"a:80\"}",
        "{code=\"500\" or __name__=\"up\", job=\"api\"}",
        // Both alternatives match the same four series: listed once.
        "{job=\"db\" or instance=\"c:80\"}",
    ] {
        let sorted = |v: &Value| {
            let mut rows: Vec<String> = v
                .as_array()
                .map(|a| a.iter().map(Value::to_string).collect())
                .unwrap_or_default();
            rows.sort();
            rows
        };
        let (s, listed) = get(
            &p.ours.http,
            &format!(
                "/api/v1/series?{}",
                qs(&[("match[]", selector), ("start", &start_s), ("end", &end_s)])
            ),
        );
        assert_eq!(s, 200, "series {selector}: {listed}");
        let (s, queried) = get(
            &p.ours.http,
            &format!(
                "/api/v1/query?{}",
                qs(&[("query", selector), ("time", &now_s)])
            ),
        );
        assert_eq!(s, 200, "query {selector}: {queried}");
        let metrics: Vec<Value> = queried["data"]["result"]
            .as_array()
            .map(|rows| rows.iter().map(|r| r["metric"].clone()).collect())
            .unwrap_or_default();
        let listed_rows = sorted(&listed["data"]);
        assert!(listed_rows.len() >= 4, "series {selector}: {listed}");
        assert_eq!(
            listed_rows,
            sorted(&Value::Array(metrics)),
            "series vs query of {selector}"
        );
    }

    // Product detection: buildinfo with Prometheus's keys and no `features`.
    let keys = |a: &str| {
        let (s, v) = get(a, "/api/v1/status/buildinfo");
        let mut k: Vec<String> = v["data"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        (s, json!({"status": v["status"], "keys": k}))
    };
    p.check("buildinfo keys", keys);
    let (_, info) = get(&p.ours.http, "/api/v1/status/buildinfo");
    assert!(info["data"].get("features").is_none(), "{info}");
    assert!(
        info["data"]["version"]
            .as_str()
            .is_some_and(|v| !v.is_empty()),
        "{info}"
    );

    // format_query: 2.42's pretty-printer.
    for expr in [
        "up",
        "sum(rate(x[5m]))",
        "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m]))",
        "a + on (job) group_left (x) b",
        "a>bool 1",
        "-foo offset 5m",
        "rate(x[5m] @ 100)",
        "max_over_time(a[1h:5m])",
        "topk(3, sum without (instance) (a))",
        "histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))",
        "1 + 2 * 3",
        "label_replace(up, \"dst\", \"$1\", \"src\", \"(.*)\")",
        "sum(very_long_metric_name_number_one{label_one=\"value_one\"}) / sum(very_long_metric_name_number_two{label_two=\"value_two\"})",
        "(",
    ] {
        let q = qs(&[("query", expr)]);
        p.check(&format!("format_query {expr}"), |a| {
            get(a, &format!("/api/v1/format_query?{q}"))
        });
    }

    // parse_query: 2.42 lacks it (Prometheus 3 has it); ours answers
    // Prometheus 3's tree, and bad_data with the query error shape.
    let (s, v) = get(&p.ours.http, "/api/v1/parse_query?query=sum(up)");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["type"], "aggregation", "{v}");
    assert_eq!(v["data"]["expr"]["name"], "up", "{v}");
    let q = qs(&[("query", "sum(")]);
    let (s, v) = get(&p.ours.http, &format!("/api/v1/parse_query?{q}"));
    let (sp, vp) = get(&p.prom.addr, &format!("/api/v1/query?{q}"));
    assert_eq!((s, &v["errorType"]), (sp, &vp["errorType"]), "{v} vs {vp}");

    assert!(p.ours.alive(), "the collector exited");
    assert!(
        p.failures.is_empty(),
        "{} requests answered differently from Prometheus:\n{}",
        p.failures.len(),
        p.failures.join("\n")
    );
}
