//! What a handshake showed of the peer's certificates, whether it ended in
//! a session or not: a certificate we reject still says when it expires,
//! which is what a probe of it wants to export.

use rustls::pki_types::CertificateDer;

use crate::cert;

/// The peer's chain, as much as a check reports of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeerCerts {
    /// Earliest `notAfter` over the chain the peer sent, Unix seconds
    /// (blackbox_exporter's `probe_ssl_earliest_cert_expiry`); None when it
    /// sent none or none could be read.
    pub earliest_not_after: Option<i64>,
    /// A certificate the peer sent that could not be parsed (the last one,
    /// if several).
    pub parse_error: Option<String>,
}

impl PeerCerts {
    /// Reads the validity of every certificate in `chain` (the peer's end
    /// entity first, then what it sent with it).
    pub fn of(chain: &[CertificateDer<'_>]) -> PeerCerts {
        let mut out = PeerCerts::default();
        for c in chain {
            match cert::validity(c.as_ref()) {
                Ok(v) => {
                    out.earliest_not_after = Some(
                        out.earliest_not_after
                            .map_or(v.not_after, |e| e.min(v.not_after)),
                    )
                }
                Err(e) => out.parse_error = Some(e.to_string()),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_expiry_and_parse_errors() {
        assert_eq!(PeerCerts::of(&[]), PeerCerts::default());
        let dir = tempfile::tempdir().expect("tempdir");
        let expired = sextant_testing::tls::expired_tls_files(dir.path());
        let leaf = crate::tests::leaf_der(&expired.cert);
        let ca = crate::tests::leaf_der(&expired.ca);
        let junk = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01]);
        let peer = PeerCerts::of(&[ca.clone(), leaf.clone(), junk]);
        // The leaf expired on 2020-02-01; the CA lives two days from now.
        assert_eq!(peer.earliest_not_after, Some(1_580_515_200));
        assert_eq!(
            peer.parse_error.as_deref(),
            Some("certificate DER is truncated")
        );
        let ca_only = PeerCerts::of(&[ca]);
        assert!(ca_only.earliest_not_after > Some(1_700_000_000));
        assert_eq!(ca_only.parse_error, None);
    }
}
