//! Request parameters from the URL and, for POST, from a form body, as
//! Prometheus and Grafana send them (repeated keys such as `match[]` kept).

use axum::extract::{FromRequest, Request};
use axum::http::{Method, header};

/// All parameters of a request in the order given.
pub struct Params(pub Vec<(String, String)>);

/// Largest form body accepted for a query request.
const MAX_FORM_BYTES: usize = 1 << 20;

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = (axum::http::StatusCode, String);

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bad = |e: String| (axum::http::StatusCode::BAD_REQUEST, e);
        let mut pairs: Vec<(String, String)> = match req.uri().query() {
            Some(q) => serde_urlencoded::from_str(q)
                .map_err(|e| bad(format!("invalid query string: {e}")))?,
            None => Vec::new(),
        };
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if req.method() == Method::POST && is_form {
            let body = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES)
                .await
                .map_err(|e| {
                    bad(format!(
                        "form body over {MAX_FORM_BYTES} bytes or unreadable: {e}"
                    ))
                })?;
            let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
                .map_err(|e| bad(format!("invalid form body: {e}")))?;
            pairs.extend(form);
        }
        Ok(Params(pairs))
    }
}

impl Params {
    /// The last value given for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given for `key`, in order.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}
