//! The OTLP/HTTP receiver (`POST /v1/logs`, `/v1/metrics`, `/v1/traces`),
//! protobuf and JSON exactly as the OTLP spec encodes them, gzip bodies,
//! partial-success responses, 400/413/415 (429 with `Retry-After` when the
//! in-flight budget is full, 503 when the store fails) with a
//! `google.rpc.Status` reason ([`ApiError::otlp`]). Bodies decode through
//! [`crate::decode`]: pre-scanned, item-limited and charged to the budget. It listens on a
//! port of its own; [`router`] is what the binary mounts there and what the
//! unit tests (`otlp_http_tests`) drive.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use serde::Serialize;

use sextant_otlp::Signal as OtlpSignal;

use crate::Collector;
use crate::api::error::{ApiError, ErrorType};
use crate::body;
use crate::decode::{self, OtlpRequest};
use crate::inflight::Permit;
use crate::ingest::{Accepted, Request, Signal};

const TRANSPORT: &str = "http";

/// The receiver's routes, observed like the API's.
pub fn router(collector: Collector) -> Router {
    Router::new()
        .route("/v1/logs", post(logs))
        .route("/v1/metrics", post(metrics))
        .route("/v1/traces", post(traces))
        .layer(axum::middleware::from_fn_with_state(
            collector.clone(),
            crate::api::observe,
        ))
        .with_state(collector)
}

/// The two encodings OTLP/HTTP allows; the response uses the request's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// `application/x-protobuf` (or `application/protobuf`).
    Protobuf,
    /// `application/json`, OTLP's JSON mapping.
    Json,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// An error answer: the error, encoded like the request.
struct Refusal {
    error: ApiError,
    encoding: Encoding,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        self.error.otlp(self.encoding)
    }
}

/// Writes `msg` as the body of a `status` answer in `encoding`.
pub(crate) fn encode<M: Message + Serialize>(
    status: StatusCode,
    encoding: Encoding,
    msg: &M,
) -> Response {
    let body = match encoding {
        Encoding::Protobuf => msg.encode_to_vec(),
        Encoding::Json => serde_json::to_vec(msg).unwrap_or_else(|_| b"{}".to_vec()),
    };
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(encoding.content_type()),
    );
    resp
}

fn encoding_of(headers: &HeaderMap) -> Result<Encoding, Refusal> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match ct.as_str() {
        "application/x-protobuf" | "application/protobuf" => Ok(Encoding::Protobuf),
        "application/json" => Ok(Encoding::Json),
        other => Err(Refusal {
            error: ApiError::new(
                ErrorType::UnsupportedMediaType,
                format!(
                    "unsupported Content-Type {:?}: OTLP/HTTP takes application/x-protobuf or application/json",
                    other.chars().take(64).collect::<String>()
                ),
            ),
            encoding: Encoding::Json,
        }),
    }
}

/// Reads and decodes one request body into message `M`, bounded by the
/// pre-scan and the in-flight budget; the permit holds the request's
/// bytes until the handler has answered.
async fn decode<M: OtlpRequest>(
    c: &Collector,
    headers: &HeaderMap,
    body: Body,
) -> Result<(M, Encoding, Permit), Refusal> {
    let encoding = encoding_of(headers)?;
    let refuse = |error| Refusal { error, encoding };
    let (bytes, mut permit) = body::read(headers, body, &c.limits, &c.inflight)
        .await
        .map_err(|e| refuse(ApiError::from(e)))?;
    let msg = match encoding {
        Encoding::Protobuf => decode::otlp_protobuf::<M>(&bytes, &c.limits, &mut permit),
        Encoding::Json => decode::otlp_json::<M>(&bytes, &c.limits, &mut permit),
    }
    .map_err(|e| refuse(ApiError::from(e)))?;
    Ok((msg, encoding, permit))
}

async fn store(c: &Collector, req: Request, encoding: Encoding) -> Result<Accepted, Refusal> {
    let acc = c.accept(TRANSPORT, req).await.map_err(|e| Refusal {
        error: e.api_error(),
        encoding,
    })?;
    match acc.refusal() {
        Some(error) => Err(Refusal { error, encoding }),
        None => Ok(acc),
    }
}

fn count_refusal(c: &Collector, signal: Signal, r: &Refusal) {
    let reason = match r.error.kind() {
        ErrorType::TooLarge => "too_large",
        ErrorType::ResourceExhausted => "limited",
        _ => "malformed",
    };
    c.count_refused(signal, TRANSPORT, reason);
    tracing::debug!(signal = signal.as_str(), reason = %r.error.message(), "refused OTLP/HTTP request");
}

async fn logs(State(c): State<Collector>, headers: HeaderMap, body: Body) -> Response {
    let signal = Signal::Otlp(OtlpSignal::Logs);
    let result = async {
        let (req, enc, _permit): (ExportLogsServiceRequest, _, _) = decode(&c, &headers, body)
            .await
            .inspect_err(|r| count_refusal(&c, signal, r))?;
        let acc = store(&c, Request::Logs(req), enc).await?;
        let resp = acc.logs_response();
        Ok::<_, Refusal>(encode(StatusCode::OK, enc, &resp))
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

async fn metrics(State(c): State<Collector>, headers: HeaderMap, body: Body) -> Response {
    let signal = Signal::Otlp(OtlpSignal::Metrics);
    let result = async {
        let (req, enc, _permit): (ExportMetricsServiceRequest, _, _) = decode(&c, &headers, body)
            .await
            .inspect_err(|r| count_refusal(&c, signal, r))?;
        let acc = store(&c, Request::Metrics(req), enc).await?;
        let resp = acc.metrics_response();
        Ok::<_, Refusal>(encode(StatusCode::OK, enc, &resp))
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

async fn traces(State(c): State<Collector>, headers: HeaderMap, body: Body) -> Response {
    let signal = Signal::Otlp(OtlpSignal::Traces);
    let result = async {
        let (req, enc, _permit): (ExportTraceServiceRequest, _, _) = decode(&c, &headers, body)
            .await
            .inspect_err(|r| count_refusal(&c, signal, r))?;
        let acc = store(&c, Request::Traces(req), enc).await?;
        let resp = acc.traces_response();
        Ok::<_, Refusal>(encode(StatusCode::OK, enc, &resp))
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}
