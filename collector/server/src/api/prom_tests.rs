//! The Prometheus metadata endpoints through the collector's app: series,
//! labels and label values (with `or` selectors answering the union a
//! query of the same selector finds), buildinfo, format_query, and the
//! error envelope.

use serde_json::{Value, json};

use crate::test_support::{T0_MS, collector, get, post_form, qs, write_series};

fn window() -> String {
    qs(&[
        ("start", &(T0_MS / 1000 - 60).to_string()),
        ("end", &(T0_MS / 1000 + 600).to_string()),
    ])
}

/// `m` and `n` series where `{a="1" or b="2"}` matches three of four, and
/// `m{a="1"}` matches both alternatives of `{a="1" or __name__="m"}`.
fn data(c: &crate::Collector) {
    write_series(
        c,
        &[
            &[("__name__", "m"), ("a", "1"), ("b", "x")],
            &[("__name__", "m"), ("a", "2"), ("b", "2")],
            &[("__name__", "m"), ("a", "3"), ("b", "3")],
            &[("__name__", "n"), ("a", "1")],
        ],
    );
}

#[tokio::test]
async fn series_with_or_is_the_union_a_query_finds() {
    let (c, _dir) = collector();
    data(&c);
    let app = c.app();
    for selector in [
        r#"{a="1" or b="2"}"#,
        r#"m{a="1" or b="2"}"#,
        r#"{a="1" or __name__="m"}"#,
    ] {
        let a = get(
            &app,
            &format!(
                "/api/v1/series?{}&{}",
                qs(&[("match[]", selector)]),
                window()
            ),
        )
        .await;
        assert_eq!(a.status, 200, "{selector}: {}", a.text());
        let series = a.json()["data"].clone();
        let q = get(
            &app,
            &format!(
                "/api/v1/query?{}",
                qs(&[
                    ("query", selector),
                    ("time", &(T0_MS / 1000 + 120).to_string())
                ])
            ),
        )
        .await;
        assert_eq!(q.status, 200, "{selector}: {}", q.text());
        let mut from_query: Vec<Value> = q.json()["data"]["result"]
            .as_array()
            .expect("vector")
            .iter()
            .map(|r| r["metric"].clone())
            .collect();
        from_query.sort_by_key(Value::to_string);
        let mut listed: Vec<Value> = series.as_array().expect("list").clone();
        listed.sort_by_key(Value::to_string);
        assert_eq!(listed, from_query, "{selector}");
    }
    // And the union itself, deduplicated: m{a="1"} matches both sides once.
    let a = get(
        &app,
        &format!(
            "/api/v1/series?{}&{}",
            qs(&[("match[]", r#"{a="1" or __name__="m"}"#)]),
            window()
        ),
    )
    .await;
    assert_eq!(
        a.json()["data"].as_array().map(Vec::len),
        Some(4),
        "{}",
        a.text()
    );
}

#[tokio::test]
async fn labels_and_label_values_take_or_selectors() {
    let (c, _dir) = collector();
    data(&c);
    let app = c.app();
    let m = qs(&[("match[]", r#"{b="2" or __name__="n"}"#)]);
    let a = get(&app, &format!("/api/v1/labels?{m}&{}", window())).await;
    assert_eq!(
        (a.status.as_u16(), a.json()),
        (
            200,
            json!({"status": "success", "data": ["__name__", "a", "b"]})
        )
    );
    let a = get(&app, &format!("/api/v1/label/a/values?{m}&{}", window())).await;
    assert_eq!(a.json()["data"], json!(["1", "2"]), "{}", a.text());
    let a = get(&app, &format!("/api/v1/label/b/values?{m}&{}", window())).await;
    assert_eq!(a.json()["data"], json!(["2"]), "{}", a.text());
    // POSTed as Grafana does, and two match[] are a union too.
    let a = post_form(
        &app,
        "/api/v1/labels",
        &[("match[]", "n"), ("match[]", r#"m{a="3"}"#)],
    )
    .await;
    assert_eq!(
        a.json()["data"],
        json!(["__name__", "a", "b"]),
        "{}",
        a.text()
    );
    // No match[]: everything.
    let a = get(&app, "/api/v1/label/__name__/values").await;
    assert_eq!(a.json()["data"], json!(["m", "n"]), "{}", a.text());
}

#[tokio::test]
async fn bad_match_gets_bad_data_in_prometheus_words() {
    let (c, _dir) = collector();
    let app = c.app();
    for (path, selector, want) in [
        (
            "/api/v1/series",
            "up{",
            "invalid parameter \"match[]\": 1:4: parse error: unexpected end of input inside braces",
        ),
        (
            "/api/v1/labels",
            "sum(up)",
            "invalid parameter \"match[]\": \"sum(up)\" is not a series selector",
        ),
        (
            "/api/v1/label/a/values",
            r#"{a=~"("}"#,
            "invalid parameter \"match[]\": 1:2: parse error: error parsing regexp: missing closing ): `^(?:()$`",
        ),
    ] {
        let a = get(&app, &format!("{path}?{}", qs(&[("match[]", selector)]))).await;
        assert_eq!(a.status, 400, "{path} {selector}");
        assert_eq!(a.content_type(), "application/json");
        assert_eq!(
            a.json(),
            json!({"status": "error", "errorType": "bad_data", "error": want}),
            "{path} {selector}"
        );
    }
    let a = get(&app, "/api/v1/series").await;
    assert_eq!(
        (a.status.as_u16(), a.json()["error"].clone()),
        (400, json!("no match[] parameter provided"))
    );
    let a = get(&app, "/api/v1/series?match[]=up&limit=many").await;
    assert_eq!(a.json()["errorType"], "bad_data", "{}", a.text());
    let a = get(&app, "/api/v1/labels?start=yesterday").await;
    assert_eq!(a.status, 400, "{}", a.text());
    assert!(
        a.json()["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("invalid parameter \"start\": ")),
        "{}",
        a.text()
    );
}

#[tokio::test]
async fn buildinfo_has_prometheus_keys_and_no_features() {
    let (c, _dir) = collector();
    let a = get(&c.app(), "/api/v1/status/buildinfo").await;
    assert_eq!(a.status, 200);
    let v = a.json();
    assert_eq!(v["status"], "success");
    let mut keys: Vec<&String> = v["data"].as_object().expect("object").keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "branch",
            "buildDate",
            "buildUser",
            "goVersion",
            "revision",
            "version"
        ]
    );
    assert_eq!(v["data"]["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn format_query_pretty_prints_or_refuses() {
    let (c, _dir) = collector();
    let app = c.app();
    let a = get(
        &app,
        &format!(
            "/api/v1/format_query?{}",
            qs(&[("query", "sum by(job)(up)")])
        ),
    )
    .await;
    assert_eq!(
        (a.status.as_u16(), a.json()),
        (
            200,
            json!({"status": "success", "data": "sum by (job) (up)"})
        )
    );
    let a = get(
        &app,
        &format!("/api/v1/format_query?{}", qs(&[("query", "(")])),
    )
    .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["errorType"], "bad_data");
    assert!(
        a.json()["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("invalid parameter \"query\": 1:2: parse error: ")),
        "{}",
        a.text()
    );
    let a = get(&app, "/api/v1/format_query").await;
    assert_eq!(
        a.json()["error"],
        "invalid parameter \"query\": missing",
        "{}",
        a.text()
    );
}

#[tokio::test]
async fn query_exemplars_and_metadata_answer_empty() {
    let (c, _dir) = collector();
    let app = c.app();
    let a = get(&app, "/api/v1/query_exemplars?query=up").await;
    assert_eq!(
        (a.status.as_u16(), a.json()),
        (200, json!({"status": "success", "data": []}))
    );
    let a = get(&app, "/api/v1/metadata?limit=x").await;
    assert_eq!(
        (a.status.as_u16(), a.json()),
        (
            400,
            json!({"status": "error", "errorType": "bad_data", "error": "limit must be a number"})
        )
    );
}
