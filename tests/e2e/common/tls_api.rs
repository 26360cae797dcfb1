//! A blocking HTTPS client for a collector under `security:`: it trusts
//! only the test CA and sends the bearer token on every request.

use std::time::Duration;

/// A client that trusts only the test CA and sends the token.
pub struct TlsApi {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
    base: String,
    token: String,
}

impl TlsApi {
    /// A client for `https://{http}` sending `token`.
    pub fn new(ca: &std::path::Path, http: &str, token: &str) -> TlsApi {
        let tls = sextant_tls::Connector::new(&sextant_tls::TlsSettings {
            ca_file: Some(ca.to_path_buf()),
            ..Default::default()
        })
        .expect("client TLS");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .use_preconfigured_tls(tokio_rustls::rustls::ClientConfig::clone(&tls.config()))
            .build()
            .expect("HTTP client");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        TlsApi {
            rt,
            client,
            base: format!("https://{http}"),
            token: token.to_string(),
        }
    }

    /// GET `path` with the token: the status and body, or why it failed.
    pub fn get(&self, path: &str) -> Result<(u16, String), String> {
        self.rt.block_on(async {
            let resp = self
                .client
                .get(format!("{}{path}", self.base))
                .bearer_auth(&self.token)
                .send()
                .await
                .map_err(|e| format!("{e:#}"))?;
            let status = resp.status().as_u16();
            let body = resp.text().await.map_err(|e| format!("{e:#}"))?;
            Ok((status, body))
        })
    }
}
