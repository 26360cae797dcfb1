//! Reading request bodies under limits: a body over the limit, or one that
//! inflates past the limit, is refused before it can exhaust memory, and
//! every byte read is held in the in-flight budget
//! ([`crate::inflight`]) as it is read.

use std::io::Read;

use axum::body::{Body, Bytes};
use axum::http::HeaderMap;

use crate::Limits;
use crate::inflight::{Budget, Permit, Refusal};

/// How much inflated output is taken from the budget at a time.
const GUNZIP_STEP: usize = 1 << 20;

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
    /// The in-flight budget cannot hold the body (429, or 413 if it never can).
    #[error(transparent)]
    Budget(#[from] Refusal),
}

/// Reads the whole body, at most `limits.max_request_bytes`, and undoes a
/// `Content-Encoding: gzip` with at most `limits.max_decompressed_bytes`
/// out; the answer's permit holds the bytes read and inflated.
pub async fn read(
    headers: &HeaderMap,
    body: Body,
    limits: &Limits,
    budget: &std::sync::Arc<Budget>,
) -> Result<(Bytes, Permit), BodyError> {
    let raw = axum::body::to_bytes(body, limits.max_request_bytes)
        .await
        .map_err(|e| {
            BodyError::TooLarge(format!(
                "request body over the {} byte limit (or unreadable: {e})",
                limits.max_request_bytes
            ))
        })?;
    let mut permit = budget.reserve(raw.len())?;
    let encoding = headers
        .get(axum::http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    match encoding.as_str() {
        "" | "identity" => Ok((raw, permit)),
        "gzip" | "x-gzip" => {
            let plain = gunzip(&raw, limits.max_decompressed_bytes, &mut permit)?;
            Ok((Bytes::from(plain), permit))
        }
        other => Err(BodyError::UnsupportedEncoding(
            other.chars().take(64).collect(),
        )),
    }
}

/// Inflates gzip data, refusing output past `max` bytes. The output's
/// capacity is taken from `permit` before it is allocated (doubling, so
/// inflating stays linear), so the budget refuses a body before it holds
/// more than the budget allows.
pub fn gunzip(data: &[u8], max: usize, permit: &mut Permit) -> Result<Vec<u8>, BodyError> {
    let mut out: Vec<u8> = Vec::new();
    let mut reader = flate2::read::GzDecoder::new(data).take(max as u64 + 1);
    loop {
        if out.capacity() - out.len() < GUNZIP_STEP {
            let want = (out.capacity() * 2)
                .max(out.len() + GUNZIP_STEP)
                .min(max + GUNZIP_STEP);
            permit.grow(want - out.capacity())?;
            out.reserve_exact(want - out.len());
        }
        let read = (&mut reader)
            .take(GUNZIP_STEP as u64)
            .read_to_end(&mut out)
            .map_err(|e| BodyError::Malformed(format!("gzip body does not decompress: {e}")))?;
        if out.len() > max {
            return Err(BodyError::TooLarge(format!(
                "gzip body inflates past the {max} byte limit (collector.limits.max_decompressed_bytes)"
            )));
        }
        if read == 0 {
            return Ok(out);
        }
    }
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
        let budget = Budget::new(usize::MAX);
        let mut permit = budget.reserve(0).expect("fits");
        assert_eq!(
            gunzip(&gz(b"hello"), 5, &mut permit).expect("fits"),
            b"hello"
        );
        assert!(matches!(
            gunzip(&gz(&[0u8; 1000]), 999, &mut permit),
            Err(BodyError::TooLarge(_))
        ));
        assert!(matches!(
            gunzip(b"not gzip", 100, &mut permit),
            Err(BodyError::Malformed(_))
        ));
    }

    #[test]
    fn inflating_is_charged_to_the_budget_as_it_goes() {
        let budget = Budget::new(5 << 20);
        let mut permit = budget.reserve(0).expect("fits");
        let out = gunzip(&gz(&vec![7u8; 2 << 20]), 64 << 20, &mut permit).expect("fits");
        assert_eq!(out.len(), 2 << 20);
        assert!(permit.held() >= out.len(), "{}", permit.held());
        drop(permit);
        let mut small = budget.reserve(0).expect("fits");
        let refused = gunzip(&gz(&vec![7u8; 8 << 20]), 64 << 20, &mut small);
        assert!(
            matches!(refused, Err(BodyError::Budget(Refusal::NeverFits { .. }))),
            "{refused:?}"
        );
    }
}
