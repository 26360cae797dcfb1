//! The one verifier and the one connector against real certificates
//! (`sextant-testing`'s throwaway CA, made with openssl) and, for
//! handshakes, tokio-rustls servers on 127.0.0.1.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{CertificateError, ServerConfig};
use sextant_testing::tls::{TlsFiles, expired_tls_files, server_config, tls_files, tls_files_for};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::*;
use crate::verifier::{Policy, Verifier};

/// The first certificate of a PEM file, as DER.
pub(crate) fn leaf_der(path: &Path) -> CertificateDer<'static> {
    CertificateDer::pem_file_iter(path)
        .and_then(|mut it| it.next().transpose())
        .expect("read PEM")
        .expect("a certificate in the file")
}

fn trusting(ca: &Path) -> TlsSettings {
    TlsSettings {
        ca_file: Some(ca.to_path_buf()),
        ..TlsSettings::default()
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A TLS server on 127.0.0.1 that writes `hello` to every client it
/// accepts; the port.
async fn serve(config: ServerConfig) -> u16 {
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let _ = tls.write_all(b"hello").await;
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    port
}

/// A plain TCP server that answers every connection with `answer` (empty:
/// closes at once).
async fn plain(answer: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let mut buf = [0u8; 512];
            let _ = tcp.read(&mut buf).await;
            let _ = tcp.write_all(answer).await;
        }
    });
    port
}

async fn handshake(connector: &Connector, port: u16, name: &str) -> Handshake<TcpStream> {
    let tcp = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let name = server_name(name).expect("server name");
    tokio::time::timeout(Duration::from_secs(10), connector.handshake(name, tcp))
        .await
        .expect("handshake within 10 s")
}

#[test]
fn setup_errors_name_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.pem");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").expect("write");
    for (path, want) in [
        (&missing, "missing.pem: "),
        (&empty, "no certificates in it"),
    ] {
        let settings = TlsSettings {
            ca_file: Some(path.clone()),
            ..TlsSettings::default()
        };
        let err = Connector::new(&settings)
            .expect_err("bad CA file")
            .to_string();
        assert!(err.starts_with("ca_file "), "{err}");
        assert!(err.contains(want), "{err} lacks {want}");
    }
    // accept_invalid_certs reads no CA at all.
    let anything = TlsSettings {
        ca_file: Some(missing),
        accept_invalid_certs: true,
        ..TlsSettings::default()
    };
    assert!(Connector::new(&anything).is_ok());
    let err = server_name("db local").expect_err("space").to_string();
    assert_eq!(err, "host \"db local\" is not a valid TLS server name");
    assert!(server_name("::1").is_ok() && server_name("db.local").is_ok());
}

/// The verifier itself, asked directly: WebPKI decides, the two switches
/// forgive what they say and nothing more, and the chain is kept whatever
/// the answer.
#[test]
fn the_verifier_forgives_per_switch_and_keeps_the_chain() {
    let (dir, other_dir) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let files = tls_files_for(dir.path(), "DNS:localhost");
    let other = tls_files_for(other_dir.path(), "DNS:localhost");
    let leaf = leaf_der(&files.cert);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let unknown_issuer: fn(&CertificateError) -> bool = |e| *e == CertificateError::UnknownIssuer;
    let names_localhost: fn(&CertificateError) -> bool = |e| {
        matches!(e, CertificateError::NotValidForNameContext { presented, .. }
            if presented == &["DnsName(\"localhost\")".to_string()])
    };
    let skipping = |ca: &Path| TlsSettings {
        skip_domain_validation: true,
        ..trusting(ca)
    };
    let anything = TlsSettings {
        accept_invalid_certs: true,
        ..trusting(&other.ca)
    };
    // (settings, name, None for accepted or the rejection's test)
    let cases = [
        (trusting(&files.ca), "localhost", None),
        (trusting(&files.ca), "127.0.0.1", Some(names_localhost)),
        (skipping(&files.ca), "127.0.0.1", None),
        (trusting(&other.ca), "localhost", Some(unknown_issuer)),
        (skipping(&other.ca), "127.0.0.1", Some(unknown_issuer)),
        (anything, "127.0.0.1", None),
    ];
    for (i, (settings, name, rejected)) in cases.into_iter().enumerate() {
        let policy = Arc::new(Policy::new(&settings, &provider).expect("policy"));
        let (verifier, seen) = Verifier::capturing(policy);
        let name = ServerName::try_from(name).expect("name");
        let got = verifier.verify_server_cert(&leaf, &[], &name, &[], UnixTime::now());
        match (got, rejected) {
            (Ok(_), None) => {}
            (Err(rustls::Error::InvalidCertificate(e)), Some(test)) => {
                assert!(test(&e), "case {i}: {e:?}")
            }
            (got, rejected) => panic!("case {i}: {got:?}, wanted rejected: {}", rejected.is_some()),
        }
        let seen = seen.lock().expect("not poisoned");
        assert_eq!(seen.as_slice(), std::slice::from_ref(&leaf), "case {i}");
    }
    // A config shared by many connections keeps nothing.
    let policy = Arc::new(Policy::new(&trusting(&files.ca), &provider).expect("policy"));
    let shared = Verifier::shared(policy);
    let name = ServerName::try_from("localhost").expect("name");
    assert!(
        shared
            .verify_server_cert(&leaf, &[], &name, &[], UnixTime::now())
            .is_ok()
    );
}

#[tokio::test]
async fn a_trusted_server_gives_a_stream_its_chain_and_alpn() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = tls_files(dir.path());
    let mut config = server_config(&files);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let port = serve(config).await;
    let connector = Connector::new(&trusting(&files.ca)).expect("connector");
    for (connector, alpn) in [
        (connector.clone(), None),
        (connector.with_alpn(&[b"http/1.1"]), Some(&b"http/1.1"[..])),
    ] {
        let h = handshake(&connector, port, "127.0.0.1").await;
        let left = h.peer.earliest_not_after.expect("expiry") - now();
        assert!((86_000..=2 * 86_400).contains(&left), "{left}");
        assert_eq!(h.peer.parse_error, None);
        let mut stream = h.result.expect("verified");
        assert_eq!(stream.get_ref().1.alpn_protocol(), alpn);
        let mut hello = Vec::new();
        stream.read_to_end(&mut hello).await.expect("read");
        assert_eq!(hello, b"hello");
    }
}

#[tokio::test]
async fn rejected_certificates_still_show_their_chain() {
    let dirs: Vec<_> = (0..3)
        .map(|_| tempfile::tempdir().expect("tempdir"))
        .collect();
    let files = tls_files_for(dirs[0].path(), "IP:127.0.0.1,DNS:localhost");
    let unknown = tls_files_for(dirs[1].path(), "DNS:localhost");
    let expired = expired_tls_files(dirs[2].path());
    let port = serve(server_config(&files)).await;
    let expired_port = serve(server_config(&expired)).await;

    let untrusting = Connector::new(&trusting(&unknown.ca)).expect("connector");
    let h = handshake(&untrusting, port, "127.0.0.1").await;
    assert_eq!(
        h.result.expect_err("unknown CA"),
        HandshakeError::Rejected(format!(
            "certificate signed by an unknown authority (trusting the CAs in {})",
            unknown.ca.display()
        ))
    );
    assert!(h.peer.earliest_not_after.is_some_and(|at| at > now()));

    let trusted = Connector::new(&trusting(&files.ca)).expect("connector");
    let h = handshake(&trusted, port, "other.example").await;
    assert_eq!(
        h.result.expect_err("name mismatch"),
        HandshakeError::Rejected(
            "certificate is not valid for other.example (it names 127.0.0.1, localhost)".into()
        )
    );
    assert!(h.peer.earliest_not_after.is_some());

    let connector = Connector::new(&trusting(&expired.ca)).expect("connector");
    let h = handshake(&connector, expired_port, "127.0.0.1").await;
    assert_eq!(h.peer.earliest_not_after, Some(1_580_515_200));
    let why = h.result.expect_err("expired").to_string();
    assert!(
        why.starts_with("certificate expired ")
            && why.ends_with("d ago (notAfter 2020-02-01T00:00:00Z)"),
        "{why}"
    );
    // accept_invalid_certs forgives even that, and still reports the chain.
    let anything = Connector::new(&TlsSettings {
        accept_invalid_certs: true,
        ..TlsSettings::default()
    })
    .expect("connector");
    let h = handshake(&anything, expired_port, "127.0.0.1").await;
    assert!(h.result.is_ok());
    assert_eq!(h.peer.earliest_not_after, Some(1_580_515_200));
}

#[tokio::test]
async fn a_peer_that_speaks_no_tls_fails_the_handshake() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = tls_files(dir.path());
    let connector = Connector::new(&trusting(&files.ca)).expect("connector");
    let http = plain(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
    let h = handshake(&connector, http, "127.0.0.1").await;
    let err = h.result.expect_err("not TLS");
    assert!(
        matches!(&err, HandshakeError::Failed(why) if why.starts_with("the server does not answer in TLS (")),
        "{err:?}"
    );
    assert_eq!(h.peer, PeerCerts::default());
    let closing = plain(b"").await;
    let h = handshake(&connector, closing, "127.0.0.1").await;
    assert_eq!(
        h.result.expect_err("closed"),
        HandshakeError::Failed(
            "the server closed the connection during the handshake \
             (does it speak TLS on this port?)"
                .into()
        )
    );
}

/// Presents one certificate and signs with a key that is not its own.
#[derive(Debug)]
struct Impostor(Arc<CertifiedKey>);

impl ResolvesServerCert for Impostor {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }
}

fn impostor(shown: &TlsFiles, signing: &TlsFiles) -> ServerConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::from_pem_file(&signing.key).expect("key");
    let key = provider
        .key_provider
        .load_private_key(key)
        .expect("signing key");
    let certified = CertifiedKey::new(vec![leaf_der(&shown.cert)], key);
    ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Impostor(Arc::new(certified))))
}

/// The dangerous switches forgive the certificate, never the handshake's
/// signature: a server must hold the key of the certificate it shows.
#[tokio::test]
async fn handshake_signatures_are_verified_whatever_the_switches() {
    let (a, b) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let (real, thief) = (tls_files(a.path()), tls_files(b.path()));
    let port = serve(impostor(&real, &thief)).await;
    for settings in [
        trusting(&real.ca),
        TlsSettings {
            accept_invalid_certs: true,
            ..TlsSettings::default()
        },
    ] {
        let connector = Connector::new(&settings).expect("connector");
        let h = handshake(&connector, port, "127.0.0.1").await;
        assert_eq!(
            h.result.expect_err("signature by another key"),
            HandshakeError::Rejected(
                "the server's handshake signature does not verify with its certificate's key"
                    .into()
            ),
            "{settings:?}"
        );
        assert!(h.peer.earliest_not_after.is_some());
    }
}

/// Connects with `config` to the server on `port` and reads its greeting.
async fn greeting(config: &Arc<rustls::ClientConfig>, port: u16) -> Result<Vec<u8>, String> {
    let tcp = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let name = server_name("127.0.0.1").expect("server name");
    let connect = tokio_rustls::TlsConnector::from(Arc::clone(config)).connect(name, tcp);
    let mut tls = tokio::time::timeout(Duration::from_secs(10), connect)
        .await
        .expect("handshake within 10 s")
        .map_err(|e| e.to_string())?;
    let mut got = Vec::new();
    tls.read_to_end(&mut got).await.map_err(|e| e.to_string())?;
    Ok(got)
}

/// `sextant up`'s agent pins its collector's certificate file: a
/// self-signed CA certificate without the name dialled (which WebPKI refuses
/// as a server's) is accepted, another certificate is not, and a file
/// rewritten with a new certificate is followed by the same client.
#[tokio::test]
async fn a_pinned_client_trusts_exactly_the_certificates_in_its_file() {
    let (a, b) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let (own, other) = (tls_files(a.path()), tls_files_for(b.path(), "IP:127.0.0.1"));
    // The CA's certificate and key as a server's: self-signed, CA:TRUE,
    // and no 127.0.0.1 among its names.
    let self_signed = TlsFiles {
        ca: own.ca.clone(),
        cert: own.ca.clone(),
        key: a.path().join("ca.key"),
    };
    let pin = a.path().join("pinned.pem");
    std::fs::copy(&own.ca, &pin).expect("copy");
    let config = Arc::new(pinned_client_config(&pin).expect("pinned config"));
    let mine = serve(server_config(&self_signed)).await;
    let theirs = serve(server_config(&other)).await;

    assert_eq!(greeting(&config, mine).await.as_deref(), Ok(&b"hello"[..]));
    let refused = greeting(&config, theirs).await.expect_err("not pinned");
    assert!(
        refused.contains("ApplicationVerificationFailure"),
        "{refused}"
    );
    // Rotated: the file now holds the other server's certificate.
    std::fs::copy(&other.cert, &pin).expect("rotate");
    assert_eq!(
        greeting(&config, theirs).await.as_deref(),
        Ok(&b"hello"[..])
    );

    let missing = a.path().join("missing.pem");
    let err = pinned_client_config(&missing)
        .expect_err("no file")
        .to_string();
    assert!(
        err.starts_with(&format!("certificate file {}: ", missing.display())),
        "{err}"
    );
    let empty = a.path().join("empty.pem");
    std::fs::write(&empty, "").expect("write");
    let err = pinned_client_config(&empty).expect_err("empty").to_string();
    assert!(err.ends_with("no certificates in it"), "{err}");
}
