//! One error type for the whole HTTP side. An [`ApiError`] is an
//! [`ErrorType`] (Prometheus's `errorType` vocabulary, plus the two the
//! receivers need) and a message; the type decides the status code once,
//! here, and each API renders the error in its own envelope: Prometheus's
//! JSON, Loki's and Tempo's plain text, remote-write's plain text, OTLP/HTTP's
//! `google.rpc.Status`, and a `tonic::Status` for OTLP/gRPC.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use sextant_promql::QueryError;

use crate::body::BodyError;
use crate::decode::DecodeError;
use crate::inflight::Refusal;
use crate::otlp_http::Encoding;

/// What kind of failure an error is. The first eight are Prometheus's
/// `errorType`s (`web/api/v1/api.go`); the last three are the receivers'
/// (body over a limit, a content type or encoding we do not take, a limit
/// on what the collector holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    /// `bad_data`: the request is wrong; the client must fix it.
    BadData,
    /// `execution`: the query failed on this data.
    Execution,
    /// `timeout`: the query ran past its deadline.
    Timeout,
    /// `canceled`: the client went away first.
    Canceled,
    /// `unavailable`: not now (the store failed); retrying may succeed.
    Unavailable,
    /// `internal`: a bug or a task that died.
    Internal,
    /// `not_found`: nothing under that name (a trace id).
    NotFound,
    /// `not_acceptable`: no answer in a format the client accepts.
    NotAcceptable,
    /// The body, or what it inflates to, is over a limit.
    TooLarge,
    /// A `Content-Type` or `Content-Encoding` the receiver does not take.
    UnsupportedMediaType,
    /// A limit on what the collector holds (series) is reached: 429, and
    /// the sender should retry later, as `Retry-After` says.
    ResourceExhausted,
}

impl ErrorType {
    /// Every type, for lookups and tests.
    pub const ALL: [ErrorType; 11] = [
        ErrorType::BadData,
        ErrorType::Execution,
        ErrorType::Timeout,
        ErrorType::Canceled,
        ErrorType::Unavailable,
        ErrorType::Internal,
        ErrorType::NotFound,
        ErrorType::NotAcceptable,
        ErrorType::TooLarge,
        ErrorType::UnsupportedMediaType,
        ErrorType::ResourceExhausted,
    ];

    /// The `errorType` string Prometheus answers (and, for the receivers'
    /// two, the name our logs and self-metrics use).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::BadData => "bad_data",
            ErrorType::Execution => "execution",
            ErrorType::Timeout => "timeout",
            ErrorType::Canceled => "canceled",
            ErrorType::Unavailable => "unavailable",
            ErrorType::Internal => "internal",
            ErrorType::NotFound => "not_found",
            ErrorType::NotAcceptable => "not_acceptable",
            ErrorType::TooLarge => "too_large",
            ErrorType::UnsupportedMediaType => "unsupported_media_type",
            ErrorType::ResourceExhausted => "resource_exhausted",
        }
    }

    /// The type named `name`, if any.
    pub fn from_name(name: &str) -> Option<ErrorType> {
        ErrorType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The HTTP status, the same in every API: Prometheus's
    /// `getDefaultErrorCode` for its types (`canceled` is 499, nginx's
    /// "client closed request"), except `unavailable`, which Prometheus lets
    /// fall through to 500 and we answer 503, so clients retry a store
    /// failure instead of giving up.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorType::BadData => StatusCode::BAD_REQUEST,
            ErrorType::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorType::Timeout | ErrorType::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::Canceled => {
                StatusCode::from_u16(499).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
            }
            ErrorType::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::NotFound => StatusCode::NOT_FOUND,
            ErrorType::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            ErrorType::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorType::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorType::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// The gRPC code: what OTLP/gRPC answers and what OTLP/HTTP's
    /// `google.rpc.Status` carries, so either kind of client reads the same.
    pub fn grpc_code(self) -> tonic::Code {
        match self {
            ErrorType::BadData | ErrorType::UnsupportedMediaType | ErrorType::NotAcceptable => {
                tonic::Code::InvalidArgument
            }
            ErrorType::Execution => tonic::Code::FailedPrecondition,
            ErrorType::Timeout => tonic::Code::DeadlineExceeded,
            ErrorType::Canceled => tonic::Code::Cancelled,
            ErrorType::Unavailable => tonic::Code::Unavailable,
            ErrorType::Internal => tonic::Code::Internal,
            ErrorType::NotFound => tonic::Code::NotFound,
            ErrorType::TooLarge | ErrorType::ResourceExhausted => tonic::Code::ResourceExhausted,
        }
    }
}

impl std::fmt::Display for ErrorType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&QueryError> for ErrorType {
    /// The engine classifies its errors with Prometheus's `errorType`
    /// strings; one the HTTP side does not know is an execution error, as
    /// Prometheus's `returnAPIError` defaults to.
    fn from(e: &QueryError) -> ErrorType {
        ErrorType::from_name(e.error_type()).unwrap_or(ErrorType::Execution)
    }
}

/// How long a [`ErrorType::ResourceExhausted`] answer asks the client to wait
/// (`Retry-After`, gRPC `RetryInfo`): long enough for requests in flight to
/// finish, short enough that a sender's queue does not back up.
pub const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// An error answer: its type and the message the client reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct ApiError {
    kind: ErrorType,
    message: String,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    /// An error of type `kind`.
    pub fn new(kind: ErrorType, message: impl Into<String>) -> ApiError {
        ApiError {
            kind,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    /// Tells the client when to retry (`Retry-After` on HTTP answers).
    pub fn retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after_secs = Some(secs);
        self
    }

    /// `bad_data` (400): the request is wrong.
    pub fn bad_data(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorType::BadData, message)
    }

    /// `internal` (500).
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorType::Internal, message)
    }

    /// The error's type.
    pub fn kind(&self) -> ErrorType {
        self.kind
    }

    /// The message, without the type.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prometheus's envelope: `{"status":"error","errorType":…,"error":…}`.
    pub fn prometheus(self) -> Response {
        let retry = self.retry_after_secs;
        let answer = (
            self.kind.status(),
            Json(
                json!({"status": "error", "errorType": self.kind.as_str(), "error": self.message}),
            ),
        )
            .into_response();
        with_retry_after(answer, retry)
    }

    /// Loki's: the message as plain text (Loki's `server.WriteError`;
    /// Grafana shows a body without JSON `message` as it is).
    pub fn loki(self) -> Response {
        let retry = self.retry_after_secs;
        with_retry_after(self.text(), retry)
    }

    /// Tempo's: the message as plain text.
    pub fn tempo(self) -> Response {
        let retry = self.retry_after_secs;
        with_retry_after(self.text(), retry)
    }

    /// Remote-write's: the reason as plain text, as Prometheus's receiver
    /// answers (senders log it; only the status decides a retry).
    pub fn remote_write(self) -> Response {
        let retry = self.retry_after_secs;
        with_retry_after(self.text(), retry)
    }

    /// OTLP/HTTP's: a `google.rpc.Status` with the gRPC code and the
    /// message, encoded like the request (protobuf or JSON).
    pub fn otlp(self, encoding: Encoding) -> Response {
        let status = RpcStatus {
            code: self.kind.grpc_code() as i32,
            message: self.message,
        };
        with_retry_after(
            crate::otlp_http::encode(self.kind.status(), encoding, &status),
            self.retry_after_secs,
        )
    }

    /// OTLP/gRPC's: a `tonic::Status` with the type's gRPC code; one that
    /// says when to retry carries a `google.rpc.RetryInfo`, which OTLP
    /// requires for a client to retry `RESOURCE_EXHAUSTED`.
    pub fn grpc(self) -> tonic::Status {
        if let Some(secs) = self.retry_after_secs {
            use tonic_types::{ErrorDetails, StatusExt};
            return tonic::Status::with_error_details(
                self.kind.grpc_code(),
                self.message,
                ErrorDetails::with_retry_info(Some(std::time::Duration::from_secs(secs))),
            );
        }
        tonic::Status::new(self.kind.grpc_code(), self.message)
    }

    fn text(self) -> Response {
        (self.kind.status(), self.message).into_response()
    }
}

fn with_retry_after(mut resp: Response, secs: Option<u64>) -> Response {
    if let Some(secs) = secs {
        resp.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, secs.into());
    }
    resp
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> ApiError {
        ApiError::new(ErrorType::from(&e), e.to_string())
    }
}

impl From<BodyError> for ApiError {
    /// A body over a limit is too large, one we cannot decode is bad data,
    /// an encoding we do not speak is an unsupported media type.
    fn from(e: BodyError) -> ApiError {
        let kind = match e {
            BodyError::TooLarge(_) => ErrorType::TooLarge,
            BodyError::Malformed(_) => ErrorType::BadData,
            BodyError::UnsupportedEncoding(_) => ErrorType::UnsupportedMediaType,
            BodyError::Budget(ref r) => return ApiError::from(r.clone()),
        };
        ApiError::new(kind, e.to_string())
    }
}

impl From<Refusal> for ApiError {
    /// A budget that frees up is exhausted (retry after [`RETRY_AFTER`]);
    /// one the request alone is over is too large (do not).
    fn from(r: Refusal) -> ApiError {
        match r {
            Refusal::Busy { .. } => ApiError::new(ErrorType::ResourceExhausted, r.to_string())
                .retry_after(RETRY_AFTER.as_secs()),
            Refusal::NeverFits { .. } => ApiError::new(ErrorType::TooLarge, r.to_string()),
        }
    }
}

impl From<DecodeError> for ApiError {
    /// Over an item or size limit is too large; malformed bytes are bad
    /// data; the budget decides for itself.
    fn from(e: DecodeError) -> ApiError {
        let kind = match e {
            DecodeError::Malformed { .. } => ErrorType::BadData,
            DecodeError::OverLimit { .. } | DecodeError::Inflates { .. } => ErrorType::TooLarge,
            DecodeError::Budget(r) => return ApiError::from(r),
        };
        ApiError::new(kind, e.to_string())
    }
}

/// `google.rpc.Status`, the body of every OTLP/HTTP error response.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
pub struct RpcStatus {
    /// The gRPC code ([`ErrorType::grpc_code`]).
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// The reason, for people.
    #[prost(string, tag = "2")]
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_table_of_types() {
        let table: Vec<(&str, u16, tonic::Code)> = ErrorType::ALL
            .iter()
            .map(|t| (t.as_str(), t.status().as_u16(), t.grpc_code()))
            .collect();
        use tonic::Code::*;
        assert_eq!(
            table,
            [
                ("bad_data", 400, InvalidArgument),
                ("execution", 422, FailedPrecondition),
                ("timeout", 503, DeadlineExceeded),
                ("canceled", 499, Cancelled),
                ("unavailable", 503, Unavailable),
                ("internal", 500, Internal),
                ("not_found", 404, NotFound),
                ("not_acceptable", 406, InvalidArgument),
                ("too_large", 413, ResourceExhausted),
                ("unsupported_media_type", 415, InvalidArgument),
                ("resource_exhausted", 429, ResourceExhausted),
            ]
        );
        for t in ErrorType::ALL {
            assert_eq!(ErrorType::from_name(t.as_str()), Some(t));
        }
        assert_eq!(ErrorType::from_name("nonsense"), None);
    }

    #[test]
    fn query_errors_keep_the_engines_error_type() {
        for e in [
            QueryError::Parse("1:1: parse error: x".into()),
            QueryError::Execution("many-to-many".into()),
            QueryError::Timeout,
            QueryError::TooManySamples(10),
        ] {
            let api = ApiError::from(e.clone());
            assert_eq!(api.kind().as_str(), e.error_type(), "{e:?}");
            assert_eq!(api.message(), e.to_string());
        }
    }

    #[test]
    fn body_errors_map_to_the_receivers_types() {
        let kind = |e: BodyError| ApiError::from(e).kind();
        assert_eq!(kind(BodyError::TooLarge("x".into())), ErrorType::TooLarge);
        assert_eq!(kind(BodyError::Malformed("x".into())), ErrorType::BadData);
        assert_eq!(
            kind(BodyError::UnsupportedEncoding("br".into())),
            ErrorType::UnsupportedMediaType
        );
    }

    #[test]
    fn retry_after_is_a_header_on_http_answers() {
        let e = ApiError::new(ErrorType::ResourceExhausted, "full").retry_after(60);
        for resp in [e.clone().remote_write(), e.otlp(Encoding::Json)] {
            assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(
                resp.headers().get(axum::http::header::RETRY_AFTER),
                Some(&axum::http::HeaderValue::from_static("60"))
            );
        }
        let plain = ApiError::bad_data("x").remote_write();
        assert!(
            plain
                .headers()
                .get(axum::http::header::RETRY_AFTER)
                .is_none()
        );
    }

    #[test]
    fn grpc_status_carries_the_code_and_message() {
        let s = ApiError::new(ErrorType::Unavailable, "store down").grpc();
        assert_eq!(
            (s.code(), s.message()),
            (tonic::Code::Unavailable, "store down")
        );
    }
}
