//! Trust roots: the CA file of the settings, else the system's store.

use std::path::Path;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::TlsSetupError;

/// The trust roots of a TLS client: the certificates in `ca_file`, else the
/// system's. Errors name the file and why.
pub(crate) fn load_roots(ca_file: Option<&Path>) -> Result<rustls::RootCertStore, TlsSetupError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|error| TlsSetupError::CaFile {
                    path: path.to_path_buf(),
                    error,
                })?;
            if certs.is_empty() {
                return Err(TlsSetupError::NoCertificates {
                    path: path.to_path_buf(),
                });
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|error| TlsSetupError::BadCertificate {
                        path: path.to_path_buf(),
                        error,
                    })?;
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                // One unparsable system certificate must not make TLS unusable.
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(TlsSetupError::NoSystemRoots);
            }
        }
    }
    Ok(roots)
}
