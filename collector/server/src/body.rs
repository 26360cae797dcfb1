//! Reading request bodies under limits: a body over the limit, or one that
//! inflates past the limit, is refused before it can exhaust memory.

use std::io::Read;

use axum::body::{Body, Bytes};
use axum::http::HeaderMap;

use crate::Limits;

/// Why a body could not be read; each maps to a 4xx status.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The body (or its decompressed form) is over a limit: 413.
    #[error("{0}")]
    TooLarge(String),
    /// The body is not what its headers claim: 400.
    #[error("{0}")]
    Malformed(String),
    /// A content encoding we do not speak: 415.
    #[error("unsupported Content-Encoding {0:?}: send identity or gzip")]
    UnsupportedEncoding(String),
}

/// Reads the whole body, at most `limits.max_request_bytes`, and undoes a
/// `Content-Encoding: gzip` with at most `limits.max_decompressed_bytes` out.
pub async fn read(headers: &HeaderMap, body: Body, limits: &Limits) -> Result<Bytes, BodyError> {
    let raw = axum::body::to_bytes(body, limits.max_request_bytes)
        .await
        .map_err(|e| {
            BodyError::TooLarge(format!(
                "request body over the {} byte limit (or unreadable: {e})",
                limits.max_request_bytes
            ))
        })?;
    let encoding = headers
        .get(axum::http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    match encoding.as_str() {
        "" | "identity" => Ok(raw),
        "gzip" | "x-gzip" => gunzip(&raw, limits.max_decompressed_bytes).map(Bytes::from),
        other => Err(BodyError::UnsupportedEncoding(
            other.chars().take(64).collect(),
        )),
    }
}

/// Inflates gzip data, refusing output past `max` bytes.
pub fn gunzip(data: &[u8], max: usize) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::new();
    let mut reader = flate2::read::GzDecoder::new(data).take(max as u64 + 1);
    reader
        .read_to_end(&mut out)
        .map_err(|e| BodyError::Malformed(format!("gzip body does not decompress: {e}")))?;
    if out.len() > max {
        return Err(BodyError::TooLarge(format!(
            "gzip body inflates past the {max} byte limit"
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(data).expect("in-memory write");
        enc.finish().expect("in-memory finish")
    }

    #[test]
    fn inflates_within_limit_and_refuses_bombs() {
        assert_eq!(gunzip(&gz(b"hello"), 5).expect("fits"), b"hello");
        assert!(matches!(
            gunzip(&gz(&[0u8; 1000]), 999),
            Err(BodyError::TooLarge(_))
        ));
        assert!(matches!(
            gunzip(b"not gzip", 100),
            Err(BodyError::Malformed(_))
        ));
    }
}
