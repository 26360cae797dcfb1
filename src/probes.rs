//! Kubernetes-style probe endpoints over the health cache, in the form of
//! the Kubernetes API server: `/livez` and `/readyz` answer `200 ok` or `503`
//! with `[+]name ok` / `[-]name failed: why` lines under `?verbose`,
//! `/livez/<check>` and `/readyz/<check>` answer for one check, `?exclude=`
//! leaves checks out, and `?format=json` (or `Accept: application/json`)
//! answers for machines.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use sextant_health::probe::{Probe, ProbeCache};

/// The probe routes over `cache`.
pub fn router(cache: Arc<ProbeCache>) -> Router {
    Router::new()
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/livez/{check}", get(livez_one))
        .route("/readyz/{check}", get(readyz_one))
        .with_state(cache)
}

async fn livez(State(c): State<Arc<ProbeCache>>, q: RawQuery, h: HeaderMap) -> Response {
    answer(&c, Probe::Live, None, q, h)
}

async fn readyz(State(c): State<Arc<ProbeCache>>, q: RawQuery, h: HeaderMap) -> Response {
    answer(&c, Probe::Ready, None, q, h)
}

async fn livez_one(
    State(c): State<Arc<ProbeCache>>,
    Path(n): Path<String>,
    q: RawQuery,
    h: HeaderMap,
) -> Response {
    answer(&c, Probe::Live, Some(n), q, h)
}

async fn readyz_one(
    State(c): State<Arc<ProbeCache>>,
    Path(n): Path<String>,
    q: RawQuery,
    h: HeaderMap,
) -> Response {
    answer(&c, Probe::Ready, Some(n), q, h)
}

fn answer(
    c: &ProbeCache,
    probe: Probe,
    only: Option<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params: Vec<(String, String)> = q
        .as_deref()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let has = |k: &str| params.iter().any(|(key, _)| key == k);
    let exclude: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "exclude")
        .map(|(_, v)| v.clone())
        .collect();
    if let Some(name) = &only
        && !c.has(name)
    {
        return (
            StatusCode::NOT_FOUND,
            format!(
                "no check named {:?}\n",
                name.chars().take(64).collect::<String>()
            ),
        )
            .into_response();
    }
    let results = c.evaluate(probe, only.as_deref(), &exclude);
    let ok = results.iter().all(|(_, j, _)| j.ok);
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let wants_json = params.iter().any(|(k, v)| k == "format" && v == "json")
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/json"));
    if wants_json {
        let checks: Vec<_> = results
            .iter()
            .map(|(name, j, degraded)| json!({"name": name, "ok": j.ok, "reasons": j.reasons, "degraded": degraded}))
            .collect();
        return (
            status,
            axum::Json(json!({"status": if ok { "ok" } else { "failed" }, "checks": checks})),
        )
            .into_response();
    }
    // As the API server does: a single check answers "ok"; the aggregate is
    // terse unless asked for `verbose` or it failed.
    if ok && !has("verbose") {
        return (status, "ok").into_response();
    }
    let mut body = String::new();
    for (name, j, degraded) in &results {
        if j.ok {
            body.push_str(&format!("[+]{name} ok"));
        } else {
            body.push_str(&format!("[-]{name} failed: {}", j.summary()));
        }
        if !degraded.is_empty() {
            body.push_str(&format!(" (degraded: {})", degraded.join("; ")));
        }
        body.push('\n');
    }
    for name in &exclude {
        body.push_str(&format!("[+]{name} excluded: ok\n"));
    }
    body.push_str(&format!(
        "{} check {}\n",
        probe.name(),
        if ok { "passed" } else { "failed" }
    ));
    (status, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sextant_health::{Judgement, Reason, Report, Verdict};
    use std::time::Duration;
    use tower::ServiceExt;

    fn report(live: bool, ready: bool, degraded: bool) -> Report {
        Report {
            kind: "test",
            target: "db".to_string(),
            at_unix_nanos: 0,
            start_unix_nanos: 0,
            duration: Duration::from_millis(1),
            operations: 1,
            verdict: Verdict {
                live: if live {
                    Judgement::pass("answers")
                } else {
                    Judgement::fail("no answer within 2s")
                },
                ready: if ready {
                    Judgement::pass("writable")
                } else {
                    Judgement::fail("read_only=ON on a primary")
                },
                degraded: if degraded {
                    vec![Reason::new("connections", "85% of max_connections")]
                } else {
                    vec![]
                },
            },
            metrics: Vec::new(),
        }
    }

    async fn get(cache: &Arc<ProbeCache>, uri: &str) -> (u16, String) {
        let req = axum::http::Request::get(uri)
            .body(axum::body::Body::empty())
            .expect("request");
        let resp = router(Arc::clone(cache))
            .oneshot(req)
            .await
            .expect("response");
        let status = resp.status().as_u16();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn answers_like_the_kubernetes_api_server() {
        let cache = ProbeCache::new(Duration::from_secs(60));
        cache.update("primary", report(true, true, false));
        cache.update("replica", report(true, false, true));
        assert_eq!(get(&cache, "/livez").await, (200, "ok".to_string()));
        let (status, body) = get(&cache, "/readyz").await;
        assert_eq!(status, 503);
        assert_eq!(
            body,
            "[+]primary ok\n[-]replica failed: read_only=ON on a primary (degraded: connections: 85% of max_connections)\nreadyz check failed\n"
        );
        assert_eq!(get(&cache, "/readyz?exclude=replica").await.0, 200);
        let (status, body) = get(&cache, "/readyz?exclude=replica&verbose").await;
        assert_eq!(
            (status, body.as_str()),
            (
                200,
                "[+]primary ok\n[+]replica excluded: ok\nreadyz check passed\n"
            )
        );
        assert_eq!(
            get(&cache, "/readyz/primary").await,
            (200, "ok".to_string())
        );
        assert_eq!(get(&cache, "/readyz/replica").await.0, 503);
        assert_eq!(get(&cache, "/readyz/nope").await.0, 404);
        let (status, body) = get(&cache, "/readyz?format=json").await;
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(status, 503);
        assert_eq!(v["status"], "failed");
        assert_eq!(v["checks"][1]["reasons"][0], "read_only=ON on a primary");
    }

    #[tokio::test]
    async fn stale_and_missing_results() {
        let cache = ProbeCache::new(Duration::from_millis(50));
        cache.register("db");
        assert_eq!(get(&cache, "/livez").await.0, 200, "no result yet is alive");
        assert_eq!(
            get(&cache, "/readyz").await.0,
            503,
            "no result yet is not ready"
        );
        cache.update("db", report(true, true, false));
        assert_eq!(get(&cache, "/readyz").await.0, 200);
        tokio::time::sleep(Duration::from_millis(80)).await;
        let (status, body) = get(&cache, "/livez?verbose").await;
        assert_eq!(status, 503);
        assert!(body.contains("the check is not running"), "{body}");
    }
}
