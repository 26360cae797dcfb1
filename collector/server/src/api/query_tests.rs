//! PromQL over HTTP through the collector's app: instant and range queries
//! (GET and POSTed forms), parse_query, and the error envelope with the
//! engine's `errorType`s and Prometheus's status codes.

use serde_json::json;

use crate::QueryConfig;
use crate::test_support::{
    T0_MS, collector, collector_with_query, get, post_form, qs, write_series,
};

fn data(c: &crate::Collector) {
    write_series(
        c,
        &[
            &[("__name__", "up"), ("job", "api"), ("instance", "a")],
            &[("__name__", "up"), ("job", "api"), ("instance", "b")],
            &[("__name__", "up"), ("job", "db"), ("instance", "c")],
        ],
    );
}

fn secs(ms: i64) -> String {
    (ms / 1000).to_string()
}

#[tokio::test]
async fn instant_query_answers_a_vector() {
    let (c, _dir) = collector();
    data(&c);
    let app = c.app();
    let q = qs(&[
        ("query", "sum by (job) (up)"),
        ("time", &secs(T0_MS + 120_000)),
    ]);
    let a = get(&app, &format!("/api/v1/query?{q}")).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.content_type(), "application/json");
    let mut result = a.json()["data"]["result"]
        .as_array()
        .expect("vector")
        .clone();
    result.sort_by_key(|r| r["metric"]["job"].to_string());
    let t = (T0_MS + 120_000) / 1000;
    assert_eq!(
        json!({"resultType": a.json()["data"]["resultType"], "result": result}),
        json!({"resultType": "vector", "result": [
            {"metric": {"job": "api"}, "value": [t, "6"]},
            {"metric": {"job": "db"}, "value": [t, "3"]},
        ]})
    );
    // Grafana's health check: a POSTed `1+1` is a scalar.
    let a = post_form(&app, "/api/v1/query", &[("query", "1+1"), ("time", "100")]).await;
    assert_eq!(
        a.json(),
        json!({"status": "success", "data": {"resultType": "scalar", "result": [100, "2"]}})
    );
}

#[tokio::test]
async fn range_query_answers_a_matrix() {
    let (c, _dir) = collector();
    data(&c);
    let a = post_form(
        &c.app(),
        "/api/v1/query_range",
        &[
            ("query", r#"up{instance="c"}"#),
            ("start", &secs(T0_MS)),
            ("end", &secs(T0_MS + 120_000)),
            ("step", "60"),
        ],
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let s = T0_MS / 1000;
    assert_eq!(
        a.json()["data"],
        json!({"resultType": "matrix", "result": [{
            "metric": {"__name__": "up", "job": "db", "instance": "c"},
            "values": [[s, "1"], [s + 60, "2"], [s + 120, "3"]],
        }]})
    );
}

#[tokio::test]
async fn query_errors_carry_the_engines_error_type() {
    let (c, _dir) = collector();
    data(&c);
    let app = c.app();
    let t = secs(T0_MS + 60_000);
    let cases = [
        (qs(&[("query", "sum("), ("time", &t)]), 400, "bad_data"),
        (
            qs(&[("query", "up"), ("time", "yesterday")]),
            400,
            "bad_data",
        ),
        (qs(&[("query", "up"), ("timeout", "soon")]), 400, "bad_data"),
        (
            qs(&[("query", "up + on (job) up"), ("time", &t)]),
            422,
            "execution",
        ),
    ];
    for (q, status, error_type) in cases {
        let a = get(&app, &format!("/api/v1/query?{q}")).await;
        assert_eq!(a.status, status, "{q}: {}", a.text());
        let v = a.json();
        assert_eq!(
            (&v["status"], &v["errorType"]),
            (&json!("error"), &json!(error_type)),
            "{q}"
        );
        assert!(
            v["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{q}: {v}"
        );
    }
    let a = get(&app, &format!("/api/v1/query?{}", qs(&[("query", "sum(")]))).await;
    assert_eq!(
        a.json()["error"],
        "invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"
    );
    for (q, want) in [
        (
            "query=up&start=10&end=20",
            "invalid parameter \"step\": missing",
        ),
        (
            "query=up&start=20&end=10&step=1",
            "end timestamp must not be before start time",
        ),
        (
            "query=up&start=0&end=100&step=0",
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ),
    ] {
        let a = get(&app, &format!("/api/v1/query_range?{q}")).await;
        assert_eq!(
            (a.status.as_u16(), a.json()),
            (
                400,
                json!({"status": "error", "errorType": "bad_data", "error": want})
            ),
            "{q}"
        );
    }
}

#[tokio::test]
async fn parse_query_answers_the_tree_or_bad_data() {
    let (c, _dir) = collector();
    let app = c.app();
    let a = get(&app, "/api/v1/parse_query?query=sum(up)").await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["data"]["type"], "aggregation");
    assert_eq!(a.json()["data"]["expr"]["name"], "up");
    let a = post_form(&app, "/api/v1/parse_query", &[("query", "sum(")]).await;
    assert_eq!(
        (a.status.as_u16(), a.json()),
        (
            400,
            json!({"status": "error", "errorType": "bad_data",
                   "error": "invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"})
        )
    );
}

#[tokio::test]
async fn unknown_paths_are_404_and_label_values_is_get_only() {
    let (c, _dir) = collector();
    let app = c.app();
    assert_eq!(get(&app, "/api/v1/nosuch").await.status, 404);
    let a = post_form(&app, "/api/v1/label/job/values", &[]).await;
    assert_eq!(a.status, 405);
}

#[tokio::test]
async fn an_answer_over_the_response_limit_is_refused_with_422() {
    let (c, _dir) = collector_with_query(QueryConfig {
        max_response_bytes: 200,
        ..QueryConfig::default()
    });
    data(&c);
    let app = c.app();
    let at = secs(T0_MS + 120_000);
    let small = get(
        &app,
        &format!(
            "/api/v1/query?{}",
            qs(&[("query", "sum(up)"), ("time", &at)])
        ),
    )
    .await;
    assert_eq!(small.status, 200, "{}", small.text());
    let big = get(
        &app,
        &format!(
            "/api/v1/query?{}",
            qs(&[("query", "up[5m]"), ("time", &at)])
        ),
    )
    .await;
    assert_eq!(big.status, 422, "{}", big.text());
    assert_eq!(big.json()["errorType"], "execution");
    let error = big.json()["error"].as_str().unwrap_or_default().to_string();
    assert!(error.contains("query.max_response_bytes"), "{error}");
}
