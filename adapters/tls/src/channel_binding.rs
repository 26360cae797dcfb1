//! RFC 5929's `tls-server-end-point` channel binding: the hash of the
//! server's certificate that SCRAM-SHA-256-PLUS ties a PostgreSQL login to,
//! so a man in the middle with another certificate cannot relay it. The
//! certificate comes from the peer, so it is read with the crate's
//! bounds-checked DER walker.

use ring::digest::{SHA256, SHA384, SHA512, digest};

use crate::cert::CertError;
use crate::der::{SEQUENCE, expect};

/// The universal tag of an OBJECT IDENTIFIER.
const OID: u8 = 0x06;

/// RFC 5929 `tls-server-end-point`: the server certificate hashed with its
/// signature's hash (SHA-256 for MD5 and SHA-1). None for a signature whose
/// hash is not named by its algorithm (Ed25519, RSA-PSS) or a certificate
/// that cannot be read: SCRAM then runs without channel binding.
pub fn server_end_point(der: &[u8]) -> Option<Vec<u8>> {
    let algorithm = match signature_algorithm(der).ok()? {
        // sha1/md5/sha256WithRSAEncryption; ecdsa-with-SHA1/SHA256.
        [
            0x2a,
            0x86,
            0x48,
            0x86,
            0xf7,
            0x0d,
            0x01,
            0x01,
            0x04 | 0x05 | 0x0b,
        ]
        | [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01]
        | [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02] => &SHA256,
        // sha384WithRSAEncryption, ecdsa-with-SHA384.
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c]
        | [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03] => &SHA384,
        // sha512WithRSAEncryption, ecdsa-with-SHA512.
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d]
        | [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04] => &SHA512,
        _ => return None,
    };
    Some(digest(algorithm, der).as_ref().to_vec())
}

/// The OID (content bytes) of `Certificate.signatureAlgorithm.algorithm`.
fn signature_algorithm(der: &[u8]) -> Result<&[u8], CertError> {
    let (certificate, _) = expect(der, SEQUENCE, "Certificate")?;
    let (_tbs, rest) = expect(certificate, SEQUENCE, "TBSCertificate")?;
    let (algorithm, _) = expect(rest, SEQUENCE, "signatureAlgorithm")?;
    let (oid, _) = expect(algorithm, OID, "the signature algorithm's OID")?;
    Ok(oid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ECDSA_SHA256: [u8; 8] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];

    /// A certificate skeleton: an empty TBS and `oid` as its algorithm.
    fn skeleton(oid: &[u8]) -> Vec<u8> {
        let mut algorithm = vec![0x06, oid.len() as u8];
        algorithm.extend_from_slice(oid);
        let mut body = vec![0x30, 0x00, 0x30, algorithm.len() as u8];
        body.extend_from_slice(&algorithm);
        body.extend_from_slice(&[0x03, 0x01, 0x00]);
        let mut der = vec![0x30, body.len() as u8];
        der.extend_from_slice(&body);
        der
    }

    #[test]
    fn end_point_hash_follows_the_signature_algorithm() {
        let rsa_sha384 = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
        let rsa_sha1 = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
        let ecdsa_sha512 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
        let ed25519 = [0x2b, 0x65, 0x70];
        for (oid, len) in [
            (&ECDSA_SHA256[..], Some(32)),
            (&rsa_sha384[..], Some(48)),
            (&rsa_sha1[..], Some(32)),
            (&ecdsa_sha512[..], Some(64)),
            (&ed25519[..], None),
        ] {
            let der = skeleton(oid);
            assert_eq!(server_end_point(&der).map(|h| h.len()), len, "{oid:02x?}");
        }
        let der = skeleton(&ECDSA_SHA256);
        let want = ring::digest::digest(&ring::digest::SHA256, &der);
        assert_eq!(server_end_point(&der).as_deref(), Some(want.as_ref()));
    }

    #[test]
    fn unreadable_certificates_bind_nothing() {
        let good = skeleton(&ECDSA_SHA256);
        for cut in 0..good.len() {
            assert_eq!(server_end_point(&good[..cut]), None, "cut at {cut}");
        }
        for bad in [
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff][..],
            &[0x30, 0x80],
            &[0x02, 0x00],
        ] {
            assert_eq!(server_end_point(bad), None, "{bad:02x?}");
        }
    }

    /// A real certificate (openssl, ecdsa-with-SHA256) binds to its SHA-256.
    #[test]
    fn a_real_certificate_binds_to_its_sha256() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = sextant_testing::tls::tls_files(dir.path());
        let der = crate::tests::leaf_der(&files.cert);
        let want = ring::digest::digest(&ring::digest::SHA256, &der);
        assert_eq!(server_end_point(&der).as_deref(), Some(want.as_ref()));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = server_end_point(&bytes);
        }

        #[test]
        fn mutated_skeletons_never_panic(at in 0usize..64, byte in any::<u8>()) {
            let mut c = skeleton(&ECDSA_SHA256);
            let i = at % c.len();
            c[i] = byte;
            let _ = server_end_point(&c);
            c.truncate(i);
            prop_assert_eq!(server_end_point(&c), None);
        }
    }
}
