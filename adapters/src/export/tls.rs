//! TLS for `https://` endpoints: rustls with the ring provider, trusting
//! either the given CA file or the system's roots.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::ExportError;

/// Builds the client TLS config; errors name the CA file and why.
pub(crate) fn client_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, ExportError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| ExportError::Config(format!("ca_file {}: {e}", path.display())))?;
            if certs.is_empty() {
                return Err(ExportError::Config(format!(
                    "ca_file {}: no certificates in it",
                    path.display()
                )));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| ExportError::Config(format!("ca_file {}: {e}", path.display())))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                // One unparsable system certificate must not make TLS unusable.
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(ExportError::Config(
                    "https endpoint: no system CA certificates found; set ca_file".to_string(),
                ));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ExportError::Config(format!("TLS protocol versions: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}
