//! The remote-write receiver through the app: a good write is stored and
//! answered 204; bad snappy, bad protobuf and oversize bodies are refused
//! in plain text, as Prometheus refuses them, and nothing is stored.

use sextant_model::{Sample, Series};

use crate::Limits;
use crate::test_support::{T0_MS, collector, collector_with, get, labels, post, qs};

const PB: (&str, &str) = ("content-type", "application/x-protobuf");

fn body(name: &str) -> Vec<u8> {
    sextant_prometheus::encode_remote_write(&[Series {
        labels: labels(&[("__name__", name), ("job", "rw")]),
        samples: vec![Sample { t: T0_MS, v: 42.0 }],
    }])
}

#[tokio::test]
async fn a_good_write_is_stored() {
    let (c, _dir) = collector();
    let app = c.app();
    let a = post(
        &app,
        "/api/v1/write",
        &[PB, ("content-encoding", "snappy")],
        body("written"),
    )
    .await;
    assert_eq!((a.status.as_u16(), a.text()), (204, String::new()));
    let q = qs(&[("query", "written"), ("time", &(T0_MS / 1000).to_string())]);
    let v = get(&app, &format!("/api/v1/query?{q}")).await.json();
    assert_eq!(v["data"]["result"][0]["value"][1], "42", "{v}");
}

#[tokio::test]
async fn bad_bodies_are_refused_in_plain_text() {
    let (c, _dir) = collector_with(Limits {
        max_request_bytes: 1024,
        ..Limits::default()
    });
    let app = c.app();
    let garbage_protobuf = snap::raw::Encoder::new()
        .compress_vec(&[0xff, 0xff, 0xff, 0x0f])
        .expect("snappy");
    for (what, bytes, status, reason) in [
        ("bad snappy", b"not snappy".to_vec(), 400, "remote-write: "),
        ("bad protobuf", garbage_protobuf, 400, "remote-write: "),
        (
            "oversize",
            vec![0u8; 2048],
            413,
            "request body over the 1024 byte limit",
        ),
    ] {
        let a = post(&app, "/api/v1/write", &[PB], bytes).await;
        assert_eq!(a.status, status, "{what}: {}", a.text());
        assert_eq!(a.content_type(), "text/plain; charset=utf-8", "{what}");
        assert!(a.text().starts_with(reason), "{what}: {:?}", a.text());
    }
    let v = get(&app, "/api/v1/label/__name__/values").await.json();
    assert_eq!(v["data"], serde_json::json!([]), "{v}");
}
