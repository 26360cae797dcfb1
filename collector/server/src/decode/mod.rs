//! Bounded decoding of every receiver's body: before prost or serde
//! materializes a request, a pre-scan of its bytes ([`wire`] for protobuf,
//! [`json`] for OTLP/JSON) counts what it holds and estimates its decoded
//! size; a request over an item limit is refused (413) and the estimate is
//! taken from the in-flight budget ([`crate::inflight`]) before decoding,
//! so the memory a request can make the collector allocate is bounded by
//! `collector.limits`, not by what the bytes claim.
//!
//! This is the crate's public decode API: the receivers use it, and so do
//! the property tests (`tests/decode_props.rs`) that feed it hostile bytes
//! under a counting allocator.
//!
//! **Invariant:** nothing is decoded before its scan passed the item limits
//! and its permit grew by the estimate.

pub mod json;
pub mod schema;
pub mod specials;
pub mod wire;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use serde::de::DeserializeOwned;
use sextant_model::Series;

use crate::Limits;
pub use crate::body::gunzip;
use crate::inflight::{Permit, Refusal};
use schema::{Item, Message};
use wire::Tally;

/// Why a body was not decoded; each maps to one status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not what the content type says (400).
    #[error("{what}: {reason}")]
    Malformed {
        /// What was being decoded, e.g. `malformed protobuf ExportLogsServiceRequest`.
        what: String,
        /// Why, with where.
        reason: String,
    },
    /// More items than a limit allows (413).
    #[error(
        "{what} holds {count} {}, over the limit of {limit} (collector.limits.{key})",
        item.plural()
    )]
    OverLimit {
        /// The message.
        what: &'static str,
        /// Which item.
        item: Item,
        /// How many the request holds.
        count: u64,
        /// The limit.
        limit: u64,
        /// The config key of the limit.
        key: &'static str,
    },
    /// The decompressed body would be over `max_decompressed_bytes` (413).
    #[error(
        "{what} declares {declared} decompressed bytes, over the limit of {limit} (collector.limits.max_decompressed_bytes)"
    )]
    Inflates {
        /// The layer.
        what: &'static str,
        /// What the body declares.
        declared: usize,
        /// The limit.
        limit: usize,
    },
    /// The in-flight budget refused the request's bytes (429 or 413).
    #[error(transparent)]
    Budget(#[from] Refusal),
}

/// The OTLP export requests, with what their scan needs.
pub trait OtlpRequest: prost::Message + Default + DeserializeOwned + specials::Restore {
    /// The wire schema of the message.
    const SCHEMA: &'static Message;
}

impl OtlpRequest for ExportMetricsServiceRequest {
    const SCHEMA: &'static Message = &schema::METRICS_REQUEST;
}

impl OtlpRequest for ExportLogsServiceRequest {
    const SCHEMA: &'static Message = &schema::LOGS_REQUEST;
}

impl OtlpRequest for ExportTraceServiceRequest {
    const SCHEMA: &'static Message = &schema::TRACES_REQUEST;
}

/// The limit on `item` and its config key.
pub fn limit_of(limits: &Limits, item: Item) -> (u64, &'static str) {
    let (limit, key) = match item {
        Item::Resources => (
            limits.max_resources_per_request,
            "max_resources_per_request",
        ),
        Item::Points => (limits.max_points_per_request, "max_points_per_request"),
        Item::LogRecords => (
            limits.max_log_records_per_request,
            "max_log_records_per_request",
        ),
        Item::Spans => (limits.max_spans_per_request, "max_spans_per_request"),
        Item::Series => (limits.max_series_per_request, "max_series_per_request"),
    };
    (limit as u64, key)
}

/// Refuses a scanned request over an item limit, then grows `permit` by
/// its estimated decoded size.
pub fn admit(
    what: &'static str,
    tally: &Tally,
    limits: &Limits,
    permit: &mut Permit,
) -> Result<(), DecodeError> {
    for item in Item::ALL {
        let (limit, key) = limit_of(limits, item);
        let count = tally.count(item);
        if count > limit {
            return Err(DecodeError::OverLimit {
                what,
                item,
                count,
                limit,
                key,
            });
        }
    }
    permit.grow(usize::try_from(tally.estimate).unwrap_or(usize::MAX))?;
    Ok(())
}

/// Decodes an OTLP protobuf request under `limits`, charging `permit`.
pub fn otlp_protobuf<M: OtlpRequest>(
    bytes: &[u8],
    limits: &Limits,
    permit: &mut Permit,
) -> Result<M, DecodeError> {
    let what = M::SCHEMA.name;
    let malformed = |reason: String| DecodeError::Malformed {
        what: format!("malformed protobuf {what}"),
        reason,
    };
    let tally = wire::scan(bytes, M::SCHEMA).map_err(|e| malformed(e.to_string()))?;
    admit(what, &tally, limits, permit)?;
    M::decode(bytes).map_err(|e| malformed(e.to_string()))
}

/// Decodes an OTLP/JSON request under `limits`, charging `permit`.
pub fn otlp_json<M: OtlpRequest>(
    bytes: &[u8],
    limits: &Limits,
    permit: &mut Permit,
) -> Result<M, DecodeError> {
    let what = M::SCHEMA.name;
    let malformed = |reason: String| DecodeError::Malformed {
        what: format!("malformed JSON {what}"),
        reason,
    };
    std::str::from_utf8(bytes).map_err(|e| DecodeError::Malformed {
        what: format!("JSON {what} is not valid UTF-8"),
        reason: e.to_string(),
    })?;
    let scan = json::scan(bytes).map_err(|e| malformed(e.to_string()))?;
    admit(what, &scan.tally, limits, permit)?;
    if scan.rewrites == 0 {
        return serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()));
    }
    permit.grow(bytes.len() + scan.growth)?;
    let (normal, sentinels) =
        json::normalize(bytes, &scan).map_err(|e| malformed(e.to_string()))?;
    let mut request: M = serde_json::from_slice(&normal).map_err(|e| malformed(e.to_string()))?;
    if let Some(s) = sentinels {
        request.restore(&s);
    }
    Ok(request)
}

/// Decodes a remote-write 1.0 body (snappy block format around a
/// `WriteRequest`) under `limits`, charging `permit` with the
/// decompressed bytes and then the estimate.
pub fn remote_write(
    body: &[u8],
    limits: &Limits,
    permit: &mut Permit,
) -> Result<Vec<Series>, DecodeError> {
    const WHAT: &str = "remote-write WriteRequest";
    let malformed = |reason: String| DecodeError::Malformed {
        what: "remote-write".to_string(),
        reason,
    };
    let snappy = |e: snap::Error| malformed(format!("invalid snappy block data: {e}"));
    let declared = snap::raw::decompress_len(body).map_err(snappy)?;
    if declared > limits.max_decompressed_bytes {
        return Err(DecodeError::Inflates {
            what: "remote-write snappy block",
            declared,
            limit: limits.max_decompressed_bytes,
        });
    }
    permit.grow(declared)?;
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(snappy)?;
    let tally = wire::scan(&raw, &schema::WRITE_REQUEST)
        .map_err(|e| malformed(format!("invalid WriteRequest protobuf: {e}")))?;
    admit(WHAT, &tally, limits, permit)?;
    sextant_prometheus::decode_write_request(&raw).map_err(|e| malformed(e.to_string()))
}
