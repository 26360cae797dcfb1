//! Issue 17's overload finding against the release binary: a collector that
//! cannot keep up must say so with 429 and `Retry-After` instead of showing
//! it only as latency. With one append slot and a 1 ms wait, a burst of
//! concurrent remote-writes gets some 429s, every request is either stored
//! whole (204) or refused whole (429), and everything acknowledged is
//! there; with one query slot and one queued, a burst of queries gets 429
//! (Prometheus's error envelope) for those past the queue.

use std::sync::{Arc, Barrier};

use crate::common::{Collector, enc, now_ms, series};
use sextant_prometheus::encode_remote_write;

const WRITERS: usize = 32;
const SERIES_PER_WRITE: usize = 4000;
const QUERIES: usize = 12;

/// Status, `Retry-After` and body of a request.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: String,
}

fn answer(resp: ureq::http::Response<ureq::Body>) -> Answer {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp
        .into_body()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .expect("body");
    Answer {
        status,
        retry_after,
        body,
    }
}

fn write(url: &str, writer: usize, t: i64) -> Answer {
    let batch: Vec<_> = (0..SERIES_PER_WRITE)
        .map(|i| {
            series(
                vec![
                    ("__name__".into(), "overload_test".into()),
                    ("writer".into(), writer.to_string()),
                    ("i".into(), i.to_string()),
                ],
                vec![(t, 1.0)],
            )
        })
        .collect();
    let resp = ureq::post(url)
        .config()
        .http_status_as_error(false)
        .build()
        .header("Content-Type", "application/x-protobuf")
        .header("Content-Encoding", "snappy")
        .send(&encode_remote_write(&batch)[..])
        .expect("POST /api/v1/write");
    answer(resp)
}

fn query(url: &str) -> Answer {
    let resp = ureq::get(url)
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .expect("GET /api/v1/query");
    answer(resp)
}

#[test]
fn an_overloaded_collector_answers_429_with_retry_after_and_keeps_what_it_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let yaml = "collector:\n  limits:\n    max_concurrent_appends: 1\n    max_append_wait: 1ms\n  query:\n    max_concurrency: 1\n    max_queued: 1\n";
    let c = Collector::start_release(&dir.path().join("data"), yaml, &[]);
    let t = now_ms();

    let url = format!("http://{}/api/v1/write", c.http);
    let start = Arc::new(Barrier::new(WRITERS));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (url, start) = (url.clone(), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                write(&url, w, t)
            })
        })
        .collect();
    let answers: Vec<Answer> = writers
        .into_iter()
        .map(|h| h.join().expect("writer"))
        .collect();
    let stored = answers.iter().filter(|a| a.status == 204).count();
    let refused: Vec<&Answer> = answers.iter().filter(|a| a.status == 429).collect();
    for a in &answers {
        assert!(
            a.status == 204 || a.status == 429,
            "{}: {}",
            a.status,
            a.body
        );
    }
    assert!(
        !refused.is_empty(),
        "no write was refused: the burst did not overload one slot"
    );
    assert!(stored > 0, "every write was refused: {}", refused[0].body);
    for a in &refused {
        assert_eq!(a.retry_after.as_deref(), Some("1"), "{}", a.body);
        assert!(
            a.body.contains("collector.limits.max_append_wait"),
            "{}",
            a.body
        );
    }
    // Acknowledged writes are whole; refused ones left nothing behind.
    let v = c.get_json(&format!(
        "/api/v1/query?query={}&time={}",
        enc("count(overload_test)"),
        t / 1000 + 1
    ));
    assert_eq!(
        v["data"]["result"][0]["value"][1],
        (stored * SERIES_PER_WRITE).to_string(),
        "{stored} writes acknowledged: {v}"
    );

    // Queries: one runs, one waits, the rest are told to come back.
    let url = format!(
        "http://{}/api/v1/query?query={}&time={}",
        c.http,
        enc("count_over_time(overload_test[1h])"),
        t / 1000 + 1
    );
    let start = Arc::new(Barrier::new(QUERIES));
    let queries: Vec<_> = (0..QUERIES)
        .map(|_| {
            let (url, start) = (url.clone(), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                query(&url)
            })
        })
        .collect();
    let answers: Vec<Answer> = queries
        .into_iter()
        .map(|h| h.join().expect("query"))
        .collect();
    let refused: Vec<&Answer> = answers.iter().filter(|a| a.status == 429).collect();
    assert!(
        answers.iter().any(|a| a.status == 200),
        "{:?}",
        answers
            .iter()
            .map(|a| (a.status, a.body.chars().take(200).collect::<String>()))
            .collect::<Vec<_>>()
    );
    assert!(!refused.is_empty(), "no query was refused past max_queued");
    for a in &answers {
        assert!(
            a.status == 200 || a.status == 429,
            "{}: {}",
            a.status,
            a.body
        );
    }
    for a in refused {
        assert_eq!(a.retry_after.as_deref(), Some("1"), "{}", a.body);
        let v: serde_json::Value = serde_json::from_str(&a.body).expect("Prometheus's envelope");
        assert_eq!(v["status"], "error");
        assert_eq!(v["errorType"], "resource_exhausted");
        assert!(
            v["error"]
                .as_str()
                .is_some_and(|e| e.contains("query.max_queued")),
            "{v}"
        );
    }
}
