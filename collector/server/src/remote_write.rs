//! Prometheus remote-write 1.0 receiver: `POST /api/v1/write`, snappy
//! protobuf. 204 when stored; 400 with the reason for malformed bodies (the
//! sender must not retry them); 5xx only when a retry could succeed.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::Collector;
use crate::body::{self, BodyError};
use crate::ingest::{self, Signal};

const TRANSPORT: &str = "remote_write";

/// Handles one remote-write request.
pub async fn write(State(c): State<Collector>, headers: HeaderMap, body: Body) -> Response {
    let refuse = |status: StatusCode, reason: String, why: &str| {
        c.count_refused(Signal::Samples, TRANSPORT, why);
        (status, reason).into_response()
    };
    // Remote-write bodies are snappy-compressed by definition; Content-Encoding
    // says "snappy", which `body::read` must not try to undo.
    let mut plain = headers.clone();
    plain.remove(axum::http::header::CONTENT_ENCODING);
    let bytes = match body::read(&plain, body, &c.limits).await {
        Ok(b) => b,
        Err(BodyError::TooLarge(r)) => {
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, r, "too_large");
        }
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e.to_string(), "malformed"),
    };
    let series = match sextant_prometheus::decode_remote_write(&bytes) {
        Ok(s) => s,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("remote-write: {e}"),
                "malformed",
            );
        }
    };
    let items: u64 = series.iter().map(|s| s.samples.len() as u64).sum();
    let result = ingest::samples(&c.store, series).await;
    c.count(Signal::Samples, TRANSPORT, items, &result);
    match result {
        // Prometheus answers out-of-order samples with 400 but stores the rest;
        // we store the rest too and say so, so the sender does not retry forever.
        Ok(acc) if acc.rejected > 0 => (StatusCode::BAD_REQUEST, acc.message).into_response(),
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}
