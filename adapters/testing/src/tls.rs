//! A throwaway certificate authority and a server certificate for
//! 127.0.0.1 (or for names of the test's choosing), made with the `openssl`
//! command, and a rustls server config that presents them, for TLS tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A test CA and a server certificate for 127.0.0.1 signed by it.
pub struct TlsFiles {
    /// The CA certificate (PEM), what a client trusts.
    pub ca: PathBuf,
    /// The server certificate (PEM; SAN IP:127.0.0.1 and localhost unless
    /// made by [`tls_files_for`]).
    pub cert: PathBuf,
    /// The server's private key (PEM).
    pub key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("openssl is required by the TLS test ({e}): run scripts/test.sh or apt-get install -y openssl")
        });
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA name of its own for every directory, for [`tls_files_for`]: two
/// test CAs with one name make a certificate of the other look forged (a
/// bad signature) rather than signed by an unknown authority. (The other
/// makers keep one name, which tests of the bad-signature case rely on.)
fn unique_ca_subject(dir: &Path) -> String {
    let unique = dir
        .file_name()
        .map(|n| n.to_string_lossy().replace(['/', '=', '+', ','], "_"))
        .unwrap_or_default();
    format!("/CN=sextant-test-ca{unique}")
}

/// Makes a CA and a server certificate (SAN IP:127.0.0.1) in `dir`.
pub fn tls_files(dir: &Path) -> TlsFiles {
    make_tls_files(dir, "/CN=sextant-test-ca", "IP:127.0.0.1,DNS:localhost")
}

/// Makes a CA and a server certificate whose subjectAltName is `san`
/// (openssl's syntax, e.g. `"DNS:localhost"`), so a test can connect by a
/// name the certificate does not carry. The CA's name is unique, so a
/// client trusting any other test CA sees an unknown authority.
pub fn tls_files_for(dir: &Path, san: &str) -> TlsFiles {
    make_tls_files(dir, &unique_ca_subject(dir), san)
}

fn make_tls_files(dir: &Path, ca_subject: &str, san: &str) -> TlsFiles {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca_args = vec!["req", "-x509", "-days", "2", "-subj", ca_subject];
    ca_args.extend(ec);
    ca_args.extend(["-keyout", "ca.key", "-out", "ca.pem"]);
    openssl(dir, &ca_args);
    let mut csr_args = vec!["req", "-subj", "/CN=127.0.0.1"];
    csr_args.extend(ec);
    csr_args.extend(["-keyout", "server.key", "-out", "server.csr"]);
    openssl(dir, &csr_args);
    std::fs::write(dir.join("san.ext"), format!("subjectAltName={san}\n")).expect("write san.ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            "server.pem",
        ],
    );
    TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    }
}

/// Like [`tls_files`], but the server certificate is valid from
/// `not_before` to `not_after` (`YYYYMMDDHHMMSSZ`), e.g. in the past for an
/// expired certificate. `openssl x509 -req` cannot backdate (and OpenSSL 3.0
/// has no `-not_before`), so this signs with a minimal `openssl ca` setup.
pub fn tls_files_valid(dir: &Path, not_before: &str, not_after: &str) -> TlsFiles {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca_args = vec!["req", "-x509", "-days", "2", "-subj", "/CN=sextant-test-ca"];
    ca_args.extend(ec);
    ca_args.extend(["-keyout", "ca.key", "-out", "ca.pem"]);
    openssl(dir, &ca_args);
    let mut csr_args = vec!["req", "-subj", "/CN=127.0.0.1"];
    csr_args.extend(ec);
    csr_args.extend(["-keyout", "server.key", "-out", "server.csr"]);
    openssl(dir, &csr_args);
    let config = "[ca]\ndefault_ca = test\n\
        [test]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n\
        default_md = sha256\npolicy = any\nx509_extensions = ext\n\
        [any]\ncommonName = supplied\n\
        [ext]\nsubjectAltName = IP:127.0.0.1,DNS:localhost\n";
    std::fs::write(dir.join("ca.cnf"), config).expect("write ca.cnf");
    std::fs::write(dir.join("index.txt"), "").expect("write index.txt");
    std::fs::write(dir.join("serial"), "01\n").expect("write serial");
    openssl(
        dir,
        &[
            "ca",
            "-batch",
            "-notext",
            "-config",
            "ca.cnf",
            "-cert",
            "ca.pem",
            "-keyfile",
            "ca.key",
            "-in",
            "server.csr",
            "-startdate",
            not_before,
            "-enddate",
            not_after,
            "-out",
            "server.pem",
        ],
    );
    TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    }
}

/// A rustls server config (ring, TLS 1.2 and 1.3, no client certificates)
/// presenting the certificate and key in `files`, for the tests' own TLS
/// servers. Returned by value, so a test can set ALPN before sharing it.
pub fn server_config(files: &TlsFiles) -> rustls::ServerConfig {
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .expect("read server cert");
    let key = PrivateKeyDer::from_pem_file(&files.key).expect("read server key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server cert")
}

/// A CA and a server certificate for 127.0.0.1 that expired on
/// 2020-02-01T00:00:00Z (valid from 2020-01-01).
pub fn expired_tls_files(dir: &Path) -> TlsFiles {
    tls_files_valid(dir, "20200101000000Z", "20200201000000Z")
}
