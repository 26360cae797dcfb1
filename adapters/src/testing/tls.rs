//! A throwaway certificate authority and a server certificate for
//! 127.0.0.1, made with the `openssl` command, for TLS tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A test CA and a server certificate for 127.0.0.1 signed by it.
pub struct TlsFiles {
    /// The CA certificate (PEM), what a client trusts.
    pub ca: PathBuf,
    /// The server certificate (PEM, SAN IP:127.0.0.1 and localhost).
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

/// Makes a CA and a server certificate (SAN IP:127.0.0.1) in `dir`.
pub fn tls_files(dir: &Path) -> TlsFiles {
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
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("write san.ext");
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
