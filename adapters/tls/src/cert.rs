//! The validity period of an X.509 certificate, read straight from its DER
//! encoding with the crate's bounds-checked walker ([`der`](crate::der)):
//! `Certificate → TBSCertificate → validity`, so a hostile peer's bytes can
//! only yield an error, never a panic. And the two ways the checks write
//! times: [`rfc3339`] for an instant, [`human`] for a span.

use std::time::Duration;

use sextant_model::civil::{civil_from_days, days_from_civil};

use crate::der::{SEQUENCE, element, expect};

/// Why a certificate (its validity, its signature algorithm) could not be
/// read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// The DER ended early or a length overran its container.
    #[error("certificate DER is truncated")]
    Truncated,
    /// An element had another tag than the X.509 structure wants there.
    #[error("certificate DER has tag 0x{found:02x} where {wanted} belongs")]
    UnexpectedTag {
        /// The tag found.
        found: u8,
        /// What the structure wants at that point.
        wanted: &'static str,
    },
    /// A UTCTime or GeneralizedTime that is not `…Z` with whole seconds.
    #[error("certificate time {0:?} is malformed")]
    BadTime(String),
}

/// A certificate's validity period, Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// `notBefore`.
    pub not_before: i64,
    /// `notAfter`.
    pub not_after: i64,
}

/// Reads `notBefore` and `notAfter` of a DER-encoded certificate.
pub fn validity(der: &[u8]) -> Result<Validity, CertError> {
    let (cert, _) = expect(der, SEQUENCE, "Certificate")?;
    let (tbs, _) = expect(cert, SEQUENCE, "TBSCertificate")?;
    let mut rest = tbs;
    // [0] EXPLICIT version, absent for v1 certificates.
    if rest.first() == Some(&0xa0) {
        rest = element(rest)?.2;
    }
    rest = expect(rest, 0x02, "serialNumber")?.1;
    rest = expect(rest, SEQUENCE, "signature")?.1;
    rest = expect(rest, SEQUENCE, "issuer")?.1;
    let (validity, _) = expect(rest, SEQUENCE, "validity")?;
    let (tag, before, rest) = element(validity)?;
    let not_before = time(tag, before)?;
    let (tag, after, _) = element(rest)?;
    let not_after = time(tag, after)?;
    Ok(Validity {
        not_before,
        not_after,
    })
}

/// UTCTime (0x17, `YYMMDDHHMMSSZ`) or GeneralizedTime (0x18,
/// `YYYYMMDDHHMMSSZ`) → Unix seconds.
fn time(tag: u8, content: &[u8]) -> Result<i64, CertError> {
    let bad = || CertError::BadTime(String::from_utf8_lossy(content).into_owned());
    let (year, digits) = match (tag, content.len()) {
        (0x17, 13) => {
            let yy = two(content, 0).ok_or_else(bad)?;
            // RFC 5280 4.1.2.5.1: YY >= 50 is 19YY, else 20YY.
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &content[2..])
        }
        (0x18, 15) => {
            let hi = two(content, 0).ok_or_else(bad)?;
            let lo = two(content, 2).ok_or_else(bad)?;
            (hi * 100 + lo, &content[4..])
        }
        (0x17 | 0x18, _) => return Err(bad()),
        (found, _) => {
            return Err(CertError::UnexpectedTag {
                found,
                wanted: "UTCTime or GeneralizedTime",
            });
        }
    };
    if digits.last() != Some(&b'Z') {
        return Err(bad());
    }
    let field = |i: usize| two(digits, i).ok_or_else(bad);
    let (month, day) = (field(0)?, field(2)?);
    let (hour, minute, second) = (field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return Err(bad());
    }
    // Leap seconds (60) are allowed by the encodings; fold them in.
    if second > 60 {
        return Err(bad());
    }
    let days = days_from_civil(year, month, day);
    Ok(days * 86_400 + hour * 3600 + minute * 60 + second)
}

fn two(s: &[u8], at: usize) -> Option<i64> {
    let hi = s.get(at).filter(|c| c.is_ascii_digit())?;
    let lo = s.get(at + 1).filter(|c| c.is_ascii_digit())?;
    Some(i64::from(hi - b'0') * 10 + i64::from(lo - b'0'))
}

/// Unix seconds → `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// A span for humans, in its largest whole unit: `3d`, `5h`, `12m`, `40s`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        86_400.. => format!("{}d", s / 86_400),
        3600.. => format!("{}h", s / 3600),
        60.. => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A DER element with a short or long length, as an encoder writes it.
    fn der(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match content.len() {
            n if n < 0x80 => out.push(n as u8),
            n if n < 0x100 => out.extend([0x81, n as u8]),
            n => out.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        out.extend_from_slice(content);
        out
    }

    fn cert(before: (u8, &str), after: (u8, &str), version: bool) -> Vec<u8> {
        let mut tbs = Vec::new();
        if version {
            tbs.extend(der(0xa0, &der(0x02, &[2])));
        }
        tbs.extend(der(0x02, &[1, 2, 3]));
        tbs.extend(der(0x30, &der(0x06, &[42])));
        tbs.extend(der(0x30, &[0u8; 200]));
        let mut validity = der(before.0, before.1.as_bytes());
        validity.extend(der(after.0, after.1.as_bytes()));
        tbs.extend(der(0x30, &validity));
        tbs.extend(der(0x30, b"subject"));
        let mut cert = der(0x30, &tbs);
        cert.extend(der(0x30, b"sigalg"));
        cert.extend(der(0x03, b"sig"));
        der(0x30, &cert)
    }

    #[test]
    fn validity_cases() {
        type Case = (
            (u8, &'static str),
            (u8, &'static str),
            bool,
            Result<(i64, i64), &'static str>,
        );
        let cases: [Case; 7] = [
            (
                (0x17, "200101000000Z"),
                (0x17, "200201000000Z"),
                true,
                Ok((1_577_836_800, 1_580_515_200)),
            ),
            (
                (0x17, "491231235959Z"),
                (0x18, "20500101000000Z"),
                false,
                Ok((2_524_607_999, 2_524_608_000)),
            ),
            (
                (0x17, "700101000000Z"),
                (0x17, "991231235960Z"),
                true,
                Ok((0, 946_684_800)),
            ),
            (
                (0x17, "2001010000Z"),
                (0x17, "200201000000Z"),
                true,
                Err("malformed"),
            ),
            (
                (0x17, "200101000000+"),
                (0x17, "200201000000Z"),
                true,
                Err("malformed"),
            ),
            (
                (0x17, "201301000000Z"),
                (0x17, "200201000000Z"),
                true,
                Err("malformed"),
            ),
            (
                (0x0c, "200101000000Z"),
                (0x17, "200201000000Z"),
                true,
                Err("tag 0x0c"),
            ),
        ];
        for (before, after, version, want) in cases {
            let got = validity(&cert(before, after, version))
                .map(|v| (v.not_before, v.not_after))
                .map_err(|e| e.to_string());
            match (got, want) {
                (Ok(g), Ok(w)) => assert_eq!(g, w, "{before:?} {after:?}"),
                (Err(e), Err(w)) => assert!(e.contains(w), "{e} lacks {w}"),
                (got, want) => panic!("{got:?}, wanted {want:?}"),
            }
        }
        assert_eq!(validity(&[]), Err(CertError::Truncated));
        assert_eq!(validity(&[0x30, 0x84, 0xff]), Err(CertError::Truncated));
    }

    #[test]
    fn dates_round_trip() {
        for (unix, text) in [
            (0, "1970-01-01T00:00:00Z"),
            (1_580_515_200, "2020-02-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (4_102_444_799, "2099-12-31T23:59:59Z"),
        ] {
            assert_eq!(rfc3339(unix), text);
        }
        assert_eq!(human(Duration::from_secs(3 * 86_400 + 7)), "3d");
        assert_eq!(human(Duration::from_secs(7200)), "2h");
        assert_eq!(human(Duration::from_secs(90)), "1m");
        assert_eq!(human(Duration::from_secs(5)), "5s");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = validity(&bytes);
        }

        #[test]
        fn mutated_certificates_never_panic(at in 0usize..400, byte in any::<u8>()) {
            let mut c = cert((0x17, "200101000000Z"), (0x17, "200201000000Z"), true);
            let i = at % c.len();
            c[i] = byte;
            let _ = validity(&c);
            c.truncate(i);
            let _ = validity(&c);
        }
    }
}
