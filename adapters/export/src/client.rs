//! One OTLP/HTTP request and the classification of its result.
//!
//! The OTLP/HTTP spec decides what is worth retrying: transport failures, 429,
//! 502, 503 and 504. Anything else that is not 2xx is permanent: sending the
//! same bytes again cannot succeed, so the batch is dropped (and counted).

use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderValue, RETRY_AFTER};

use super::ExportError;
use super::metrics::ExportMetrics;
use sextant_otlp::Signal;

/// How much of an error response body is kept for the log line.
const ERROR_BODY_LIMIT: usize = 1024;

/// What became of one request.
#[derive(Debug)]
pub(crate) enum SendResult {
    /// 2xx; `rejected` items of a partial success are final, not retried.
    Accepted { rejected: Option<(i64, String)> },
    /// Worth retrying later; `retry_after` is the server's hint, if any.
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Will never succeed: the batch must be dropped.
    Permanent { status: u16, body: String },
}

/// The HTTP side of the exporter: a pooled client and the collector's URLs.
#[derive(Clone)]
pub(crate) struct OtlpClient {
    http: reqwest::Client,
    base: String,
    auth: Option<HeaderValue>,
    metrics: ExportMetrics,
}

impl OtlpClient {
    pub(crate) fn new(
        endpoint: &str,
        timeout: Duration,
        bearer_token: Option<&str>,
        tls: Option<rustls::ClientConfig>,
        metrics: ExportMetrics,
    ) -> Result<Self, ExportError> {
        // reqwest needs a process-wide rustls provider even for plain http://;
        // ring is ours. An error means one is installed already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout);
        if let Some(tls) = tls {
            builder = builder.tls_backend_preconfigured(tls);
        }
        let http = builder.build().map_err(|source| ExportError::Client {
            endpoint: endpoint.to_string(),
            source,
        })?;
        let auth = match bearer_token {
            None => None,
            Some(token) => {
                let mut value =
                    HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                        // The token itself is deliberately not part of the message.
                        ExportError::Config(
                            "bearer_token contains characters not allowed in a header".to_string(),
                        )
                    })?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        Ok(OtlpClient {
            http,
            base: endpoint.trim_end_matches('/').to_string(),
            auth,
            metrics,
        })
    }

    /// POSTs one gzip-compressed protobuf batch and classifies the answer.
    /// Records the request duration and failed-request metrics.
    pub(crate) async fn send(&self, signal: Signal, gzip_body: Vec<u8>) -> SendResult {
        let url = format!("{}{}", self.base, signal.path());
        let mut request = self
            .http
            .post(&url)
            .header(CONTENT_TYPE, "application/x-protobuf")
            .header(CONTENT_ENCODING, "gzip")
            .body(gzip_body);
        if let Some(auth) = &self.auth {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        let started = Instant::now();
        let result = match request.send().await {
            Err(err) => {
                let reason = if err.is_timeout() {
                    "timeout"
                } else {
                    "transport"
                };
                // reqwest errors carry the URL, never headers, so this leaks no token.
                // The source chain holds the useful part ("connection refused",
                // "invalid peer certificate: UnknownIssuer").
                let mut detail = err.to_string();
                let mut source = std::error::Error::source(&err);
                while let Some(s) = source {
                    detail.push_str(": ");
                    detail.push_str(&s.to_string());
                    source = s.source();
                }
                tracing::warn!(%url, error = %detail, "OTLP export request failed");
                SendResult::Retryable {
                    reason: reason.to_string(),
                    retry_after: None,
                }
            }
            Ok(response) => classify(signal, response).await,
        };
        self.metrics
            .observe_request(signal, started.elapsed().as_secs_f64());
        match &result {
            SendResult::Accepted { .. } => {}
            SendResult::Retryable { reason, .. } => self.metrics.failed(signal, reason),
            SendResult::Permanent { status, .. } => {
                self.metrics.failed(signal, &format!("status_{status}"))
            }
        }
        result
    }
}

async fn classify(signal: Signal, mut response: reqwest::Response) -> SendResult {
    let status = response.status();
    if status.is_success() {
        let rejected = match response.bytes().await {
            Ok(body) => partial_success(signal, &body),
            // The collector said yes; a body we cannot read does not change that.
            Err(_) => None,
        };
        return SendResult::Accepted { rejected };
    }
    let retryable = matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    );
    if retryable {
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        return SendResult::Retryable {
            reason: format!("status_{}", status.as_u16()),
            retry_after,
        };
    }
    // Read at most ERROR_BODY_LIMIT bytes: a misbehaving server must not make us buffer megabytes.
    let mut body = Vec::new();
    while body.len() < ERROR_BODY_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(ERROR_BODY_LIMIT);
    SendResult::Permanent {
        status: status.as_u16(),
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// Reads the partial success of a 2xx protobuf response body:
/// `(rejected items, error message)`. An empty or undecodable body means
/// full success, as the OTLP spec allows servers to send nothing.
fn partial_success(signal: Signal, body: &[u8]) -> Option<(i64, String)> {
    let found = match signal {
        Signal::Logs => ExportLogsServiceResponse::decode(body)
            .ok()?
            .partial_success
            .map(|p| (p.rejected_log_records, p.error_message)),
        Signal::Metrics => ExportMetricsServiceResponse::decode(body)
            .ok()?
            .partial_success
            .map(|p| (p.rejected_data_points, p.error_message)),
        Signal::Traces => ExportTraceServiceResponse::decode(body)
            .ok()?
            .partial_success
            .map(|p| (p.rejected_spans, p.error_message)),
    };
    found.filter(|(rejected, message)| *rejected > 0 || !message.is_empty())
}
