//! The request-body timeout: a body that has not fully arrived within
//! `request_body_timeout` of its head is cut, and the request answered 408
//! where an answer is still possible.
//!
//! The deadline is one budget for the whole body, as Go's `ReadTimeout`
//! is, not a per-read timer: a client trickling a byte every few seconds
//! would reset a per-read timer forever. The handler reading the body sees
//! an error; whatever it makes of that, the listener answers 408 Request
//! Timeout instead (gRPC keeps the handler's own status, since a gRPC client
//! reads its status from trailers, not from the HTTP code).
//!
//! **Invariant:** once its head is read, a request's handler has the whole
//! body or an error within `request_body_timeout`.

use std::error::Error as StdError;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::{HeaderValue, Request, StatusCode, Version, header};
use axum::response::{IntoResponse, Response};
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::Sleep;

/// What a handler reading a body past its deadline gets.
#[derive(Debug)]
pub struct BodyTimedOut(Duration);

impl fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "request body not received within {:?}", self.0)
    }
}

impl StdError for BodyTimedOut {}

/// A request body that fails with [`BodyTimedOut`] once its deadline passes
/// before its end.
pub struct Deadlined<B> {
    body: B,
    sleep: Pin<Box<Sleep>>,
    timeout: Duration,
    fired: Arc<AtomicBool>,
    done: bool,
}

impl<B> HttpBody for Deadlined<B>
where
    B: HttpBody + Unpin,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Data = B::Data;
    type Error = Box<dyn StdError + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Poll::Ready(frame) = Pin::new(&mut self.body).poll_frame(cx) {
            if frame.is_none() {
                self.done = true;
            }
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.done = true;
            self.fired.store(true, Ordering::Release);
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut(self.timeout)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// What [`limit`] hands back beside the request: how to tell, once the
/// handler has answered, whether its body ran out of time.
pub struct Watch {
    fired: Arc<AtomicBool>,
    version: Version,
    grpc: bool,
}

/// Puts `req`'s body under a deadline of `timeout` from now.
pub fn limit<B>(req: Request<B>, timeout: Duration) -> (Request<Deadlined<B>>, Watch) {
    let fired = Arc::new(AtomicBool::new(false));
    let watch = Watch {
        fired: Arc::clone(&fired),
        version: req.version(),
        grpc: req
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc")),
    };
    let req = req.map(|body| Deadlined {
        body,
        sleep: Box::pin(tokio::time::sleep(timeout)),
        timeout,
        fired,
        done: false,
    });
    (req, watch)
}

impl Watch {
    /// `resp`, or 408 when the body ran out of time (HTTP/1 then closes the
    /// connection: the rest of the body is still on the wire).
    pub fn answer(&self, resp: Response) -> Response {
        if self.grpc || !self.fired.load(Ordering::Acquire) {
            return resp;
        }
        let mut resp = (
            StatusCode::REQUEST_TIMEOUT,
            "request body timed out: it did not arrive within request_body_timeout\n",
        )
            .into_response();
        if self.version <= Version::HTTP_11 {
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};

    /// A body that never sends anything: the deadline is all that ends it.
    struct Silent;

    impl HttpBody for Silent {
        type Data = axum::body::Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
            Poll::Pending
        }
    }

    #[tokio::test]
    async fn a_stalled_body_fails_and_the_answer_becomes_408() {
        let req = Request::new(Silent);
        let (req, watch) = limit(req, Duration::from_millis(10));
        let err = to_bytes(Body::new(req.into_body()), usize::MAX)
            .await
            .expect_err("timed out");
        assert!(format!("{err:?}").contains("10ms"), "{err:?}");
        let resp = watch.answer(StatusCode::BAD_REQUEST.into_response());
        assert_eq!(resp.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(resp.headers()[header::CONNECTION], "close");
    }

    #[tokio::test]
    async fn a_complete_body_is_untouched_and_grpc_keeps_its_status() {
        let req = Request::new(Body::from("hello"));
        let (req, watch) = limit(req, Duration::from_secs(3600));
        let bytes = to_bytes(Body::new(req.into_body()), usize::MAX)
            .await
            .expect("body");
        assert_eq!(&bytes[..], b"hello");
        let ok = watch.answer(StatusCode::OK.into_response());
        assert_eq!(ok.status(), StatusCode::OK);

        let req = Request::builder()
            .header(header::CONTENT_TYPE, "application/grpc")
            .body(Silent)
            .expect("request");
        let (req, watch) = limit(req, Duration::from_millis(10));
        assert!(
            to_bytes(Body::new(req.into_body()), usize::MAX)
                .await
                .is_err()
        );
        assert_eq!(
            watch.answer(StatusCode::OK.into_response()).status(),
            StatusCode::OK
        );
    }
}
