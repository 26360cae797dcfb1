//! TLS for `https://` endpoints: rustls with the ring provider, trusting
//! either the given CA file or the system's roots (read by
//! [`sextant_tls::load_roots`], which the
//! database checks share).

use std::path::Path;
use std::sync::Arc;

use super::ExportError;
use sextant_tls::{TlsSetupError, load_roots};

/// Builds the client TLS config; errors name the CA file and why.
pub(crate) fn client_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, ExportError> {
    let roots = load_roots(ca_file).map_err(|e| match e {
        TlsSetupError::NoSystemRoots => ExportError::Config(format!("https endpoint: {e}")),
        other => ExportError::Config(other.to_string()),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ExportError::Config(format!("TLS protocol versions: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}
