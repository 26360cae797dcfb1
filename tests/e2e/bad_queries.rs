//! Bad and heavy queries get Prometheus's error envelope
//! (`{status:"error", errorType, error}`) with its status code — 400
//! `bad_data`, 422 `execution`, 503 `timeout` — compared with a real
//! Prometheus 2.42 wherever it would answer the same request; a heavy query
//! neither stalls other queries nor brings the collector down.

use crate::common;

use std::time::{Duration, Instant};

use common::prometheus::{Answer, Prometheus, get, post_form, qs, remote_write};
use common::{Collector, series};
use sextant_model::Series;

const STEP_MS: i64 = 15_000;
const POINTS: i64 = 120;

/// Two jobs' counters, with two series per `job` so one-to-one matching on
/// `job` alone finds duplicates.
fn data(t0: i64) -> Vec<Series> {
    let mut out = Vec::new();
    for (job, inst) in [("api", "a:80"), ("api", "b:80"), ("db", "c:80")] {
        out.push(series(
            [
                ("__name__", "http_requests_total"),
                ("job", job),
                ("instance", inst),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            (0..POINTS)
                .map(|i| (t0 + i * STEP_MS + 137, (i * 3) as f64))
                .collect(),
        ));
    }
    out
}

/// Status and `errorType` (or `success`) of an answer, with the body for the report.
fn kind((status, body): &Answer) -> (u16, String) {
    let t = body["errorType"]
        .as_str()
        .or(body["status"].as_str())
        .unwrap_or("?");
    (*status, t.to_string())
}

fn expect_error(what: &str, a: &Answer, status: u16, error_type: &str) {
    assert_eq!(kind(a), (status, error_type.to_string()), "{what}: {}", a.1);
    assert_eq!(a.1["status"], "error", "{what}: {}", a.1);
    assert!(
        a.1["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{what}: no error text: {}",
        a.1
    );
}

/// A query heavy enough to run for seconds here and in Prometheus while
/// holding few samples: a day of 1-s points summed at every minute of 30 days
/// (3.7 billion additions).
const HEAVY: &str = "sum_over_time(sum_over_time(vector(1)[1d:1s])[30d:1m])";

/// Six terms of half a second each in Prometheus 2.42, which checks its
/// deadline only between expression nodes (so `HEAVY`, one long node, runs
/// to the end there whatever the timeout).
fn timing_out() -> String {
    ["count_over_time(sum(vector(1))[30d:1s])"; 6].join(" + ")
}

#[test]
fn bad_queries_get_prometheus_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let prom = Prometheus::start(&dir.path().join("prom"));
    let prom_tight =
        Prometheus::start_with(&dir.path().join("prom-tight"), &["--query.max-samples=100"]);
    let mut ours = Collector::start(&dir.path().join("data"));
    let mut tight = Collector::start_with_config(
        &dir.path().join("tight"),
        "collector:\n  query:\n    max_samples: 100\n",
    );
    let mut slow = Collector::start_with_config(
        &dir.path().join("slow"),
        "collector:\n  query:\n    timeout: 1s\n",
    );
    let now = common::now_ms();
    let t0 = (now - 35 * 60_000) / 60_000 * 60_000;
    let set = data(t0);
    for addr in [
        &prom.addr,
        &prom_tight.addr,
        &ours.http,
        &tight.http,
        &slow.http,
    ] {
        remote_write(&format!("http://{addr}/api/v1/write"), &set);
    }
    let end = t0 + (POINTS - 1) * STEP_MS;
    let (t, start_s, end_s) = (
        format!("{}", end / 1000),
        format!("{}", t0 / 1000 + 600),
        format!("{}", end / 1000),
    );
    let instant = |q: &str| qs(&[("query", q), ("time", &t)]);
    let range = |q: &str, start: &str, end: &str, step: &str| {
        qs(&[("query", q), ("start", start), ("end", end), ("step", step)])
    };

    // (what, path and query, expected status, expected errorType)
    let cases: Vec<(&str, String, u16, &str)> = vec![
        (
            "syntax error",
            format!("/api/v1/query?{}", instant("sum(")),
            400,
            "bad_data",
        ),
        (
            "stray token",
            format!("/api/v1/query?{}", instant("up )")),
            400,
            "bad_data",
        ),
        (
            "bad matcher",
            format!("/api/v1/query?{}", instant("up{job=}")),
            400,
            "bad_data",
        ),
        (
            "unknown function",
            format!("/api/v1/query?{}", instant("nosuchfn(up)")),
            400,
            "bad_data",
        ),
        (
            "instant vector to rate",
            format!("/api/v1/query?{}", instant("rate(http_requests_total)")),
            400,
            "bad_data",
        ),
        (
            "string to abs",
            format!("/api/v1/query?{}", instant("abs(\"x\")")),
            400,
            "bad_data",
        ),
        (
            "range vector to sum",
            format!("/api/v1/query?{}", instant("sum(http_requests_total[5m])")),
            400,
            "bad_data",
        ),
        (
            "scalar aggregated",
            format!("/api/v1/query?{}", instant("sum(1)")),
            400,
            "bad_data",
        ),
        (
            "missing query",
            format!("/api/v1/query?time={t}"),
            400,
            "bad_data",
        ),
        (
            "bad time",
            format!(
                "/api/v1/query?{}",
                qs(&[("query", "up"), ("time", "yesterday")])
            ),
            400,
            "bad_data",
        ),
        (
            "bad timeout",
            format!(
                "/api/v1/query?{}",
                qs(&[("query", "up"), ("timeout", "soon")])
            ),
            400,
            "bad_data",
        ),
        (
            "range of a string",
            format!(
                "/api/v1/query_range?{}",
                range("\"x\"", &start_s, &end_s, "60")
            ),
            400,
            "bad_data",
        ),
        (
            "range of a range vector",
            format!(
                "/api/v1/query_range?{}",
                range("http_requests_total[5m]", &start_s, &end_s, "60")
            ),
            400,
            "bad_data",
        ),
        (
            "step 0",
            format!("/api/v1/query_range?{}", range("up", &start_s, &end_s, "0")),
            400,
            "bad_data",
        ),
        (
            "negative step",
            format!(
                "/api/v1/query_range?{}",
                range("up", &start_s, &end_s, "-15")
            ),
            400,
            "bad_data",
        ),
        (
            "bad step",
            format!(
                "/api/v1/query_range?{}",
                range("up", &start_s, &end_s, "fast")
            ),
            400,
            "bad_data",
        ),
        (
            "missing step",
            format!(
                "/api/v1/query_range?{}",
                qs(&[("query", "up"), ("start", &start_s), ("end", &end_s)])
            ),
            400,
            "bad_data",
        ),
        (
            "end before start",
            format!(
                "/api/v1/query_range?{}",
                range("up", &end_s, &start_s, "60")
            ),
            400,
            "bad_data",
        ),
        (
            "over 11,000 points",
            format!("/api/v1/query_range?{}", range("up", "0", "11001", "1")),
            400,
            "bad_data",
        ),
        (
            "many-to-many",
            format!(
                "/api/v1/query?{}",
                instant("http_requests_total + on (job) http_requests_total")
            ),
            422,
            "execution",
        ),
        (
            "duplicate output series",
            format!(
                "/api/v1/query?{}",
                instant("label_replace(http_requests_total, \"instance\", \"x\", \"\", \"\")")
            ),
            422,
            "execution",
        ),
        (
            "timeout parameter",
            format!(
                "/api/v1/query?{}",
                qs(&[("query", &timing_out()), ("time", &t), ("timeout", "500ms")])
            ),
            503,
            "timeout",
        ),
    ];
    let mut failures = Vec::new();
    for (what, pq, status, error_type) in &cases {
        let a = get(&ours.http, pq);
        let b = get(&prom.addr, pq);
        if kind(&a) != (*status, error_type.to_string()) || a.1["status"] != "error" {
            failures.push(format!("{what}: ours {:?} {}", kind(&a), a.1));
        }
        if kind(&a) != kind(&b) {
            failures.push(format!(
                "{what}: ours {:?}, Prometheus {:?} {}",
                kind(&a),
                kind(&b),
                b.1
            ));
        }
    }
    // The same errors for Grafana's POSTed forms.
    let a = post_form(
        &ours.http,
        "/api/v1/query_range",
        &[
            ("query", "up"),
            ("start", &start_s),
            ("end", &end_s),
            ("step", "0"),
        ],
    );
    let b = post_form(
        &prom.addr,
        "/api/v1/query_range",
        &[
            ("query", "up"),
            ("start", &start_s),
            ("end", &end_s),
            ("step", "0"),
        ],
    );
    expect_error("POST step 0", &a, 400, "bad_data");
    assert_eq!(kind(&a), kind(&b), "POST step 0: {} vs {}", a.1, b.1);

    // The sample limit (`collector.query.max_samples` / `--query.max-samples`).
    let over = format!(
        "/api/v1/query_range?{}",
        range("http_requests_total", &start_s, &end_s, "15")
    );
    let a = get(&tight.http, &over);
    expect_error("over max_samples", &a, 422, "execution");
    let b = get(&prom_tight.addr, &over);
    assert_eq!(kind(&a), kind(&b), "over max_samples: {} vs {}", a.1, b.1);
    let under = format!("/api/v1/query?{}", instant("sum(http_requests_total)"));
    assert_eq!(
        kind(&get(&tight.http, &under)),
        (200, "success".to_string())
    );

    // The configured timeout (`collector.query.timeout`): Prometheus with
    // the same query and `timeout=1s` for comparison.
    let a = get(&slow.http, &format!("/api/v1/query?{}", instant(HEAVY)));
    expect_error("HEAVY over collector.query.timeout", &a, 503, "timeout");
    let slow_q = timing_out();
    let a = get(&slow.http, &format!("/api/v1/query?{}", instant(&slow_q)));
    expect_error("over collector.query.timeout", &a, 503, "timeout");
    let b = get(
        &prom.addr,
        &format!(
            "/api/v1/query?{}",
            qs(&[("query", &slow_q), ("time", &t), ("timeout", "1s")])
        ),
    );
    assert_eq!(kind(&a), kind(&b), "timeout: {} vs {}", a.1, b.1);

    for (name, c) in [
        ("default", &mut ours),
        ("tight", &mut tight),
        ("slow", &mut slow),
    ] {
        assert!(c.alive(), "the {name} collector exited");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// While a heavy query runs, cheap ones are still answered.
#[test]
fn heavy_query_does_not_block_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ours = Collector::start(&dir.path().join("data"));
    let now = common::now_ms();
    let t0 = (now - 35 * 60_000) / 60_000 * 60_000;
    remote_write(&format!("http://{}/api/v1/write", ours.http), &data(t0));
    let addr = ours.http.clone();
    let started = Instant::now();
    let heavy = std::thread::spawn(move || {
        let q = qs(&[("query", HEAVY), ("timeout", "10s")]);
        let a = get(&addr, &format!("/api/v1/query?{q}"));
        (a, started.elapsed())
    });
    // Give the heavy query time to be admitted and start evaluating.
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..5 {
        let q = qs(&[
            ("query", "sum by (job) (http_requests_total)"),
            ("time", &format!("{}", t0 / 1000 + 1200)),
        ]);
        let a = get(&ours.http, &format!("/api/v1/query?{q}"));
        assert_eq!(kind(&a), (200, "success".to_string()), "{}", a.1);
        assert_eq!(
            a.1["data"]["result"].as_array().map(Vec::len),
            Some(2),
            "{}",
            a.1
        );
        let a = post_form(
            &ours.http,
            "/api/v1/labels",
            &[("match[]", "http_requests_total")],
        );
        assert_eq!(kind(&a), (200, "success".to_string()), "{}", a.1);
    }
    assert!(
        !heavy.is_finished(),
        "the heavy query finished before the cheap ones: it proves nothing; make it heavier"
    );
    let cheap_done = started.elapsed();
    let (a, heavy_done) = heavy.join().expect("heavy query thread");
    assert!(
        heavy_done > cheap_done,
        "heavy {heavy_done:?} vs cheap {cheap_done:?}"
    );
    // It either finishes or times out, with a proper envelope either way.
    let k = kind(&a);
    assert!(
        k == (200, "success".to_string()) || k == (503, "timeout".to_string()),
        "{k:?} {}",
        a.1
    );
    assert!(ours.alive(), "the collector exited");
}

/// Syntax and type errors answer as Prometheus does, position and wording:
/// `400 bad_data` with `invalid parameter "query": line:col: parse error: …`.
/// Cases cover a missing and a stray parenthesis, an unknown function, a bad
/// matcher operator, type errors, an unterminated string, a bad duration,
/// an error on a later line, and a multi-byte character before the error
/// (Prometheus counts columns in bytes).
#[test]
fn parse_errors_match_prometheus_positions_and_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let prom = Prometheus::start(&dir.path().join("prom"));
    let mut ours = Collector::start(&dir.path().join("data"));
    let queries = [
        "sum(",
        "up )",
        "nosuchfn(up)",
        "up{job!\"a\"}",
        "up{job=}",
        "up{job=\"a\" instance=\"b\"}",
        "up{job=~\"(\"}",
        "rate(http_requests_total)",
        "topk(up, up)",
        "1 and 2",
        "1 > 2",
        "up + on(job) group_left(job) up",
        "\"unterminated",
        "up[5x]",
        "up[5m:1m:1m]",
        "up offset foo",
        "sum by (job) up",
        "sum(up) offset 5m",
        "histogram_quantile(0.9)",
        "sum(\n  rate(http_requests_total[5m]) +\n)",
        "\"é\" + nosuch(up)",
        "up == bool",
        "",
    ];
    let mut failures = Vec::new();
    for q in queries {
        let pq = format!("/api/v1/query?{}", qs(&[("query", q), ("time", "100")]));
        let a = get(&ours.http, &pq);
        let b = get(&prom.addr, &pq);
        if kind(&a) != kind(&b) || kind(&a) != (400, "bad_data".to_string()) {
            failures.push(format!(
                "{q:?}: ours {:?}, Prometheus {:?}",
                kind(&a),
                kind(&b)
            ));
            continue;
        }
        let text = |x: &Answer| x.1["error"].as_str().unwrap_or_default().to_string();
        let (ea, eb) = (text(&a), text(&b));
        // `invalid parameter "query": 1:5: parse error: …` → `1:5`.
        let position = |e: &str| {
            e.split(": parse error:")
                .next()
                .and_then(|head| head.rsplit(": ").next())
                .unwrap_or_default()
                .to_string()
        };
        if position(&ea) != position(&eb) || position(&ea).is_empty() {
            failures.push(format!("{q:?}: position: ours {ea:?}, Prometheus {eb:?}"));
        } else if ea != eb {
            failures.push(format!("{q:?}: text: ours {ea:?}, Prometheus {eb:?}"));
        }
    }
    // No `query` parameter at all reads as an empty expression. For range
    // queries 2.42 leaves out the `invalid parameter "query": ` prefix that
    // Prometheus 3 (and we) put on both kinds.
    for pq in [
        "/api/v1/query?time=100",
        "/api/v1/query_range?start=100&end=200&step=10",
    ] {
        let (a, b) = (get(&ours.http, pq), get(&prom.addr, pq));
        let text = |x: &Answer| x.1["error"].as_str().unwrap_or_default().to_string();
        let ours_text = text(&a);
        let theirs = text(&b);
        let ours_unprefixed = ours_text
            .strip_prefix("invalid parameter \"query\": ")
            .unwrap_or(&ours_text);
        let same_text =
            ours_text == theirs || (pq.contains("query_range") && ours_unprefixed == theirs);
        if kind(&a) != kind(&b) || !same_text {
            failures.push(format!("{pq}: ours {}, Prometheus {}", a.1, b.1));
        }
    }
    assert!(ours.alive(), "the collector exited");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
