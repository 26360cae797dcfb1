//! Prometheus remote-write 1.0 receiver: `POST /api/v1/write`, snappy
//! protobuf. 204 when stored; 400 with the reason for malformed bodies (the
//! sender must not retry them), 413 over a limit (body size, decompressed
//! size, `max_series_per_request`, or an estimate over the whole in-flight
//! budget), 429 with `Retry-After` while the in-flight budget is full; 5xx
//! only when a retry could succeed. Errors are plain text, as Prometheus answers them
//! ([`ApiError::remote_write`]).

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::Collector;
use crate::api::error::{ApiError, ErrorType};
use crate::body;
use crate::decode;
use crate::ingest::{self, Signal};

const TRANSPORT: &str = "remote_write";

/// Handles one remote-write request.
pub async fn write(State(c): State<Collector>, headers: HeaderMap, body: Body) -> Response {
    let refuse = |error: ApiError| {
        let why = match error.kind() {
            ErrorType::TooLarge => "too_large",
            ErrorType::ResourceExhausted => "limited",
            _ => "malformed",
        };
        c.count_refused(Signal::Samples, TRANSPORT, why);
        error.remote_write()
    };
    // Remote-write bodies are snappy-compressed by definition; Content-Encoding
    // says "snappy", which `body::read` must not try to undo.
    let mut plain = headers.clone();
    plain.remove(axum::http::header::CONTENT_ENCODING);
    // The permit holds the body, then what it inflates and decodes to,
    // until the answer is ready.
    let (bytes, mut _permit) = match body::read(&plain, body, &c.limits, &c.inflight).await {
        Ok(b) => b,
        Err(e) => return refuse(ApiError::from(e)),
    };
    let series = match decode::remote_write(&bytes, &c.limits, &mut _permit) {
        Ok(s) => s,
        Err(e) => return refuse(ApiError::from(e)),
    };
    let items: u64 = series.iter().map(|s| s.samples.len() as u64).sum();
    let result = ingest::samples(&c.store, &c.policy, series).await;
    c.count(Signal::Samples, TRANSPORT, items, &result);
    match result {
        // Invalid series (400) or new ones past a series limit (429): the rest is stored.
        Ok(acc) if acc.refusal().is_some() => acc.refusal().map_or_else(
            || StatusCode::NO_CONTENT.into_response(),
            ApiError::remote_write,
        ),
        // Prometheus answers out-of-order samples with 400 but stores the rest;
        // we store the rest too and say so, so the sender does not retry forever.
        Ok(acc) if acc.rejected > 0 => ApiError::bad_data(acc.message).remote_write(),
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.api_error().remote_write(),
    }
}
