//! Side by side with a real Prometheus: the same generated series (counters
//! with resets, gauges, classic histograms, series that start late and stop
//! early, stale markers) are remote-written into both, then every expression
//! of `tests/promql/corpus.txt` is evaluated on both as an instant query and
//! as a range query. Results must match: same label sets, values equal or
//! within 1e-9 relative, NaN where Prometheus has NaN, an error where it has one.
//!
//! Sample timestamps sit 137 ms off whole seconds so no window boundary falls
//! on a sample: Prometheus 2.42 predates Prometheus 3's left-open windows.

use crate::common;

use common::prometheus::Prometheus;
use common::{Collector, enc, post, series};
use serde_json::Value;
use sextant_model::Series;
use sextant_prometheus::encode_remote_write;

const STEP_MS: i64 = 15_000;
const POINTS: i64 = 200; // 50 minutes of 15-s samples
const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

/// A tiny deterministic PRNG so both servers and every run see the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % 1_000_000) as f64 / 1_000_000.0
    }
}

fn labels(name: &str, extra: &[(&str, String)]) -> Vec<(String, String)> {
    let mut l = vec![("__name__".to_string(), name.to_string())];
    l.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    l
}

/// The data set: every series with all its samples, in time order.
fn generate(t0: i64) -> Vec<Series> {
    let mut rng = Rng(0x5eed_cafe_f00d);
    let ts = |i: i64| t0 + i * STEP_MS + 137;
    let mut out = Vec::new();
    for (inst, job) in [("a:80", "api"), ("b:80", "api"), ("c:80", "db")] {
        for (method, status) in [("GET", "200"), ("GET", "500"), ("POST", "200")] {
            let mut v = 0.0;
            let samples = (0..POINTS)
                .map(|i| {
                    if i == 90 && inst == "b:80" {
                        v = 0.0; // counter reset
                    }
                    v += (rng.next() * 20.0).floor();
                    (ts(i), v)
                })
                .collect();
            let l = [
                ("job", job.to_string()),
                ("instance", inst.to_string()),
                ("method", method.to_string()),
                ("status", status.to_string()),
            ];
            out.push(series(labels("http_requests_total", &l), samples));
        }
        let samples = (0..POINTS)
            .map(|i| (ts(i), 20.0 + (rng.next() * 100.0).round() / 10.0))
            .collect();
        out.push(series(
            labels(
                "node_temperature_celsius",
                &[("job", job.to_string()), ("instance", inst.to_string())],
            ),
            samples,
        ));
        let mut depth: f64 = 50.0;
        let samples = (0..POINTS)
            .map(|i| {
                depth = (depth + (rng.next() - 0.5) * 10.0).max(0.0).round();
                (ts(i), depth)
            })
            .collect();
        out.push(series(
            labels(
                "queue_depth",
                &[("job", job.to_string()), ("instance", inst.to_string())],
            ),
            samples,
        ));
        // Classic histogram: cumulative buckets, sum and count.
        let bounds = ["0.05", "0.1", "0.5", "1", "+Inf"];
        let mut counts = [0.0; 5];
        let mut sum = 0.0;
        let mut rows: Vec<Vec<(i64, f64)>> = vec![Vec::new(); 7];
        for i in 0..POINTS {
            for _ in 0..5 {
                let x = rng.next() * 1.2;
                sum += x;
                for (b, bound) in bounds.iter().enumerate() {
                    if *bound == "+Inf" || x <= bound.parse::<f64>().unwrap_or(f64::INFINITY) {
                        counts[b] += 1.0;
                    }
                }
            }
            for b in 0..5 {
                rows[b].push((ts(i), counts[b]));
            }
            rows[5].push((ts(i), sum));
            rows[6].push((ts(i), counts[4]));
        }
        let base = [("job", job.to_string()), ("instance", inst.to_string())];
        for (b, bound) in bounds.iter().enumerate() {
            let mut l = base.to_vec();
            l.push(("le", bound.to_string()));
            out.push(series(
                labels("request_duration_seconds_bucket", &l),
                rows[b].clone(),
            ));
        }
        out.push(series(
            labels("request_duration_seconds_sum", &base),
            rows[5].clone(),
        ));
        out.push(series(
            labels("request_duration_seconds_count", &base),
            rows[6].clone(),
        ));
    }
    // Starts late, and stops early with a stale marker.
    let late = (120..POINTS).map(|i| (ts(i), (i * 2) as f64)).collect();
    out.push(series(
        labels("late_gauge", &[("job", "batch".to_string())]),
        late,
    ));
    let mut early: Vec<(i64, f64)> = (0..80).map(|i| (ts(i), (i % 7) as f64)).collect();
    early.push((ts(80), f64::from_bits(STALE_NAN)));
    out.push(series(
        labels("early_gauge", &[("job", "batch".to_string())]),
        early,
    ));
    // Stops without a stale marker: disappears after the 5-minute lookback.
    let gone = (0..100).map(|i| (ts(i), 1.0 + (i % 3) as f64)).collect();
    out.push(series(
        labels("vanishing_gauge", &[("job", "batch".to_string())]),
        gone,
    ));
    out
}

/// Remote-writes the data in time slices, as a scraper would, so Prometheus
/// never sees a sample older than its head allows.
fn write_all(url: &str, data: &[Series], t0: i64) {
    for slice in 0..10 {
        let (lo, hi) = (slice * POINTS / 10, (slice + 1) * POINTS / 10);
        let in_slice = |t: i64| (lo..hi).contains(&((t - t0) / STEP_MS));
        let part: Vec<Series> = data
            .iter()
            .map(|s| Series {
                labels: s.labels.clone(),
                samples: s
                    .samples
                    .iter()
                    .copied()
                    .filter(|p| in_slice(p.t))
                    .collect(),
            })
            .filter(|s| !s.samples.is_empty())
            .collect();
        let (status, body) = post(
            url,
            &[
                ("Content-Type", "application/x-protobuf"),
                ("Content-Encoding", "snappy"),
                ("X-Prometheus-Remote-Write-Version", "0.1.0"),
            ],
            &encode_remote_write(&part),
        );
        assert!(status == 204 || status == 200, "{url}: {status} {body}");
    }
}

fn query(addr: &str, path_and_query: &str) -> Value {
    let resp = ureq::get(&format!("http://{addr}{path_and_query}"))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .expect("GET");
    let status = resp.status().as_u16();
    let body = resp.into_body().read_to_string().expect("body");
    serde_json::from_str(&body).unwrap_or_else(
        |_| serde_json::json!({"status": "error", "errorType": format!("http {status}"), "error": body}),
    )
}

/// A comparable form of a result: sorted (labels, values) with parsed floats.
/// A result reduced to its type and sorted (labels, points) rows.
type Normal = (String, Vec<(String, Vec<(f64, f64)>)>);

fn normalize(v: &Value) -> Result<Normal, String> {
    if v["status"] != "success" {
        return Err(v["errorType"].as_str().unwrap_or("?").to_string());
    }
    let kind = v["data"]["resultType"].as_str().unwrap_or("?").to_string();
    let num = |x: &Value| -> f64 {
        match x.as_str() {
            Some("NaN") => f64::NAN,
            Some("+Inf") => f64::INFINITY,
            Some("-Inf") => f64::NEG_INFINITY,
            Some(s) => s.parse().unwrap_or(f64::NAN),
            None => x.as_f64().unwrap_or(f64::NAN),
        }
    };
    let point = |p: &Value| (p[0].as_f64().unwrap_or(f64::NAN), num(&p[1]));
    let mut rows: Vec<(String, Vec<(f64, f64)>)> = match kind.as_str() {
        "scalar" | "string" => vec![(String::new(), vec![point(&v["data"]["result"])])],
        _ => v["data"]["result"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                let points = match s.get("values") {
                    Some(vals) => vals.as_array().into_iter().flatten().map(point).collect(),
                    None => vec![point(&s["value"])],
                };
                (s["metric"].to_string(), points)
            })
            .collect(),
    };
    // Prometheus orders vectors by labels unless sort() asked otherwise; compare as sets.
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((kind, rows))
}

fn close(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    a == b || ((a - b).abs() <= 1e-9 * a.abs().max(b.abs()))
}

fn same(ours: &Value, theirs: &Value) -> Result<(), String> {
    match (normalize(ours), normalize(theirs)) {
        (Err(a), Err(b)) if a == b => Ok(()),
        (Err(a), Err(b)) => Err(format!("both failed, but as {a} vs {b}")),
        (Ok(_), Err(b)) => Err(format!(
            "Prometheus failed ({b}: {}), we did not",
            theirs["error"]
        )),
        (Err(a), Ok(_)) => Err(format!(
            "we failed ({a}: {}), Prometheus did not",
            ours["error"]
        )),
        (Ok((ka, ra)), Ok((kb, rb))) => {
            if ka != kb {
                return Err(format!("resultType {ka} vs {kb}"));
            }
            if ra.len() != rb.len() || ra.iter().zip(&rb).any(|(a, b)| a.0 != b.0) {
                let la: Vec<&String> = ra.iter().map(|r| &r.0).collect();
                let lb: Vec<&String> = rb.iter().map(|r| &r.0).collect();
                return Err(format!("series differ:\n  ours   {la:?}\n  theirs {lb:?}"));
            }
            for (a, b) in ra.iter().zip(&rb) {
                if a.1.len() != b.1.len() {
                    return Err(format!("{}: {} points vs {}", a.0, a.1.len(), b.1.len()));
                }
                for (pa, pb) in a.1.iter().zip(&b.1) {
                    if pa.0 != pb.0 || !close(pa.1, pb.1) {
                        return Err(format!("{}: {pa:?} vs {pb:?}", a.0));
                    }
                }
            }
            Ok(())
        }
    }
}

/// The expression as Prometheus 2.42 spells it: Prometheus 3 renamed
/// `holt_winters` to `double_exponential_smoothing`, same function.
fn for_prometheus_2(expr: &str) -> String {
    expr.replace("double_exponential_smoothing(", "holt_winters(")
}

/// [`same`], and for a renamed function also the same error text: its
/// factor checks are ours to write, so their wording is checked too.
fn same_answer(expr: &str, ours: &Value, theirs: &Value) -> Result<(), String> {
    same(ours, theirs)?;
    if expr != for_prometheus_2(expr) && ours["error"] != theirs["error"] {
        return Err(format!("error {} vs {}", ours["error"], theirs["error"]));
    }
    Ok(())
}

#[test]
fn promql_answers_match_prometheus() {
    let dir = tempfile::tempdir().expect("tempdir");
    let prom = Prometheus::start(dir.path());
    let ours = Collector::start(&dir.path().join("data"));
    let now = common::now_ms();
    let t0 = (now - 55 * 60_000) / 60_000 * 60_000;
    let data = generate(t0);
    write_all(&format!("http://{}/api/v1/write", prom.addr), &data, t0);
    write_all(&format!("http://{}/api/v1/write", ours.http), &data, t0);

    let corpus = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/promql/corpus.txt"
    ))
    .expect("corpus");
    let exprs: Vec<&str> = corpus
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let end = t0 + POINTS * STEP_MS;
    // Evaluation times sit half a second off whole minutes so no subquery
    // step lands on a window edge either (Prometheus 3 excludes such a step,
    // 2.42 includes it), and start 25 minutes in so no window reaches back
    // past the first sample (3 and 2.42 order rate's zero floor differently).
    let instants = [
        t0 + 25 * 60_000 + 500,
        t0 + 37 * 60_000 + 500,
        end + 2 * 60_000 + 500,
        end + 7 * 60_000 + 500,
    ];
    let range = format!(
        "&start={}&end={}&step=60",
        (t0 + 25 * 60_000 + 500) as f64 / 1000.0,
        end / 1000 + 360
    );
    let mut failures = Vec::new();
    for expr in &exprs {
        let theirs = for_prometheus_2(expr);
        for t in instants {
            let q = |e: &str| format!("/api/v1/query?query={}&time={}", enc(e), t as f64 / 1000.0);
            let (a, b) = (query(&ours.http, &q(expr)), query(&prom.addr, &q(&theirs)));
            if let Err(e) = same_answer(expr, &a, &b) {
                failures.push(format!("instant {expr} @ {t}: {e}"));
            }
        }
        let q = |e: &str| format!("/api/v1/query_range?query={}{range}", enc(e));
        let (a, b) = (query(&ours.http, &q(expr)), query(&prom.addr, &q(&theirs)));
        if let Err(e) = same_answer(expr, &a, &b) {
            failures.push(format!("range {expr}: {e}"));
        }
    }
    let v3 = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/promql/v3_only.txt"
    ))
    .expect("v3 list");
    let t = instants[1];
    for line in v3.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (expr, why) = line.split_once('\t').expect("expression<TAB>reason");
        let v = query(
            &ours.http,
            &format!(
                "/api/v1/query?query={}&time={}",
                enc(expr),
                t as f64 / 1000.0
            ),
        );
        let first = &v["data"]["result"][0]["metric"];
        let at = |e: &str| format!("/api/v1/query?query={}&time={}", enc(e), t as f64 / 1000.0);
        let ok = v["status"] == "success"
            && match expr {
                e if e.contains("atan2") => first.get("__name__").is_none(),
                e if e.contains("1bad") => first["1bad"] == "x",
                // Prometheus 3 limits the start extrapolation to the zero
                // point after choosing half a spacing, so for a counter
                // without resets its increase is the lesser of 2.42's
                // increase and delta; 2.42's own increase must differ, or
                // the window does not exercise the case.
                e if e.starts_with("increase(") => {
                    let sel = &e["increase(".len()..e.len() - 1];
                    let v3 = format!("(increase({sel}) <= delta({sel})) or delta({sel})");
                    same(&v, &query(&prom.addr, &at(&v3))).is_ok()
                        && same(&v, &query(&prom.addr, &at(e))).is_err()
                }
                _ => false,
            };
        if !ok {
            failures.push(format!("Prometheus 3 behaviour of {expr} ({why}): {v}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} expressions differ from Prometheus:\n{}",
        failures.len(),
        exprs.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
