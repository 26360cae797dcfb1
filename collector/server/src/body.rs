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
    let raw = collect(body, limits.max_request_bytes).await?;
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

/// How much of an oversize body is read and thrown away before answering,
/// past the limit: a client still sending when the server closes gets a
/// broken pipe instead of the 413, and a sender such as Prometheus then
/// retries the same batch forever. Bounded, so a client cannot hold a
/// reader longer than this (the body timeout bounds the time), and never
/// held in memory.
pub const MAX_DRAIN_BYTES: usize = 256 << 20;

/// The body's bytes, at most `limit`; an oversize body is read to its end
/// (up to [`MAX_DRAIN_BYTES`] more, discarded) so the client reads the 413,
/// as nginx's lingering close does.
async fn collect(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    use http_body_util::BodyExt as _;
    let too_large =
        |why: &str| BodyError::TooLarge(format!("request body over the {limit} byte limit{why}"));
    let mut body = body;
    let mut buf = Vec::new();
    let mut over = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| too_large(&format!(" (or unreadable: {e})")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if over == 0 && buf.len() + data.len() <= limit {
            buf.extend_from_slice(&data);
            continue;
        }
        if over == 0 {
            buf = Vec::new();
        }
        over = over.saturating_add(data.len());
        if over > MAX_DRAIN_BYTES {
            break;
        }
    }
    if over > 0 {
        return Err(too_large(""));
    }
    Ok(Bytes::from(buf))
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

    #[tokio::test]
    async fn an_oversize_body_is_read_to_its_end_then_refused() {
        // Ten 1 KiB frames against a 4 KiB limit: refused, and every frame
        // taken off the connection so the client is not cut off mid-send.
        let frames = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(10));
        let body = Body::new(Frames(std::sync::Arc::clone(&frames)));
        let got = collect(body, 4096).await;
        assert!(matches!(got, Err(BodyError::TooLarge(_))), "{got:?}");
        assert_eq!(
            frames.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "all read"
        );
        let ok = collect(Body::from(vec![1u8; 4096]), 4096).await;
        assert_eq!(ok.map(|b| b.len()).ok(), Some(4096));
    }

    /// A body of as many 1 KiB frames as the counter says, counting down.
    struct Frames(std::sync::Arc<std::sync::atomic::AtomicUsize>);

    impl axum::body::HttpBody for Frames {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            use std::sync::atomic::Ordering;
            let left = self.0.load(Ordering::SeqCst);
            if left == 0 {
                return std::task::Poll::Ready(None);
            }
            self.0.store(left - 1, Ordering::SeqCst);
            std::task::Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from(vec![
                7u8;
                1024
            ])))))
        }
    }
}
