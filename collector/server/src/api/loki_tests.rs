//! Loki's read API through the collector's app: query_range (both
//! directions, `or` selectors unioned without duplicates), labels, label
//! values, series, and errors as Loki answers them: plain text.

use serde_json::{Value, json};

use crate::test_support::{T0_MS, collector, get, qs, write_logs};

const SHOP: &[(&str, &str)] = &[("service_name", "shop"), ("level", "info")];
const CART: &[(&str, &str)] = &[("service_name", "cart"), ("level", "error")];
const DB: &[(&str, &str)] = &[("service_name", "db"), ("level", "info")];

fn data(c: &crate::Collector) {
    write_logs(
        c,
        &[
            (SHOP, "shop 0"),
            (CART, "cart 1"),
            (DB, "db 2"),
            (SHOP, "shop 3"),
            (CART, "cart 4"),
        ],
    );
}

/// `start`/`end` around the data, in nanoseconds as Grafana sends them.
fn window() -> String {
    let ns = |ms: i64| (ms * 1_000_000).to_string();
    qs(&[("start", &ns(T0_MS - 1000)), ("end", &ns(T0_MS + 10_000))])
}

/// The lines of a streams answer, in answer order per stream, streams by name.
fn lines(v: &Value) -> Vec<(String, Vec<String>)> {
    v["data"]["result"]
        .as_array()
        .expect("streams")
        .iter()
        .map(|s| {
            (
                s["stream"]["service_name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                s["values"]
                    .as_array()
                    .expect("values")
                    .iter()
                    .map(|p| p[1].as_str().unwrap_or("").to_string())
                    .collect(),
            )
        })
        .collect()
}

fn owned(want: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    want.iter()
        .map(|(s, l)| (s.to_string(), l.iter().map(|x| x.to_string()).collect()))
        .collect()
}

#[tokio::test]
async fn query_range_answers_streams_in_both_directions() {
    let (c, _dir) = collector();
    data(&c);
    let app = c.app();
    let q = qs(&[("query", r#"{level="info"}"#)]);
    let a = get(&app, &format!("/loki/api/v1/query_range?{q}&{}", window())).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let v = a.json();
    assert_eq!(
        (&v["status"], &v["data"]["resultType"]),
        (&json!("success"), &json!("streams"))
    );
    assert_eq!(
        lines(&v),
        owned(&[("db", &["db 2"]), ("shop", &["shop 3", "shop 0"])])
    );
    let a = get(
        &app,
        &format!(
            "/loki/api/v1/query_range?{q}&{}&direction=forward&limit=2",
            window()
        ),
    )
    .await;
    assert_eq!(
        lines(&a.json()),
        owned(&[("db", &["db 2"]), ("shop", &["shop 0"])])
    );
    // The timestamp is a nanosecond string.
    assert_eq!(
        a.json()["data"]["result"][1]["values"][0][0],
        json!((T0_MS * 1_000_000).to_string())
    );
}

#[tokio::test]
async fn or_selectors_union_streams_once() {
    let (c, _dir) = collector();
    data(&c);
    let app = c.app();
    // `shop` matches both alternatives; its lines must appear once.
    let q = qs(&[("query", r#"{service_name="shop" or level="info"}"#)]);
    let a = get(&app, &format!("/loki/api/v1/query_range?{q}&{}", window())).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(
        lines(&a.json()),
        owned(&[("db", &["db 2"]), ("shop", &["shop 3", "shop 0"])])
    );
    // The limit applies to the union, newest first.
    let a = get(
        &app,
        &format!("/loki/api/v1/query_range?{q}&{}&limit=2", window()),
    )
    .await;
    assert_eq!(
        lines(&a.json()),
        owned(&[("db", &["db 2"]), ("shop", &["shop 3"])])
    );
    let m = qs(&[("match[]", r#"{service_name="cart" or service_name="db"}"#)]);
    let a = get(&app, &format!("/loki/api/v1/series?{m}&{}", window())).await;
    assert_eq!(
        a.json()["data"],
        json!([
            {"level": "error", "service_name": "cart"},
            {"level": "info", "service_name": "db"},
        ]),
        "{}",
        a.text()
    );
}

#[tokio::test]
async fn labels_and_values_of_streams_in_the_window() {
    let (c, _dir) = collector();
    data(&c);
    let app = c.app();
    let a = get(&app, &format!("/loki/api/v1/labels?{}", window())).await;
    assert_eq!(
        a.json(),
        json!({"status": "success", "data": ["level", "service_name"]})
    );
    let a = get(
        &app,
        &format!("/loki/api/v1/label/service_name/values?{}", window()),
    )
    .await;
    assert_eq!(a.json()["data"], json!(["cart", "db", "shop"]));
    let q = qs(&[("query", r#"{level="info"}"#)]);
    let a = get(
        &app,
        &format!("/loki/api/v1/label/service_name/values?{q}&{}", window()),
    )
    .await;
    assert_eq!(a.json()["data"], json!(["db", "shop"]));
    // Outside the window: nothing.
    let a = get(&app, "/loki/api/v1/labels?start=1&end=2").await;
    assert_eq!(a.json()["data"], json!([]));
}

#[tokio::test]
async fn errors_are_plain_text_as_loki_answers_them() {
    let (c, _dir) = collector();
    let app = c.app();
    let cases = [
        ("/loki/api/v1/query_range".to_string(), "query parameter is required".to_string()),
        (
            format!("/loki/api/v1/query_range?{}", qs(&[("query", "{a=")])),
            "1:4: parse error: unexpected end of input inside braces (only stream selectors are supported so far; line filters come later)".to_string(),
        ),
        (
            format!(
                "/loki/api/v1/query_range?{}",
                qs(&[("query", r#"{a="1"}"#), ("limit", "lots")])
            ),
            "invalid limit \"lots\"".to_string(),
        ),
        (
            "/loki/api/v1/series".to_string(),
            "at least one match[] parameter is required".to_string(),
        ),
        (
            format!("/loki/api/v1/series?{}", qs(&[("match[]", "rate(x[5m])")])),
            "\"rate(x[5m])\" is not a series selector".to_string(),
        ),
    ];
    for (uri, want) in cases {
        let a = get(&app, &uri).await;
        assert_eq!(a.status, 400, "{uri}: {}", a.text());
        assert_eq!(a.content_type(), "text/plain; charset=utf-8", "{uri}");
        assert_eq!(a.text(), want, "{uri}");
    }
}
