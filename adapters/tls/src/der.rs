//! Just enough DER to walk a certificate: one element at a time, its tag,
//! its contents and what follows. Every length is checked against what is
//! left, so a hostile peer's bytes can only yield an error, never a panic
//! or a read past the end. [`cert`](crate::cert) reads validity with it,
//! [`server_end_point`](crate::server_end_point) the signature algorithm.
//! (A full X.509 parser would pull a dozen crates into the build for a few
//! fields.)

use crate::cert::CertError;

/// The universal tag of a constructed SEQUENCE.
pub(crate) const SEQUENCE: u8 = 0x30;

/// One DER element: its tag, its contents, and what follows it.
/// Indefinite (`0x80`) and over-long (more than four length bytes) lengths
/// are refused as truncated: DER has neither.
pub(crate) fn element(input: &[u8]) -> Result<(u8, &[u8], &[u8]), CertError> {
    let (&tag, rest) = input.split_first().ok_or(CertError::Truncated)?;
    let (&first, rest) = rest.split_first().ok_or(CertError::Truncated)?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(CertError::Truncated);
        }
        let (bytes, rest) = rest.split_at(n);
        let len = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest)
    };
    if rest.len() < len {
        return Err(CertError::Truncated);
    }
    let (content, after) = rest.split_at(len);
    Ok((tag, content, after))
}

/// The element at the head of `input`, which must have `tag`; `wanted`
/// names what the structure wants there, for the error.
pub(crate) fn expect<'a>(
    input: &'a [u8],
    tag: u8,
    wanted: &'static str,
) -> Result<(&'a [u8], &'a [u8]), CertError> {
    let (found, content, rest) = element(input)?;
    if found != tag {
        return Err(CertError::UnexpectedTag { found, wanted });
    }
    Ok((content, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lengths_short_long_and_refused() {
        assert_eq!(
            element(&[0x02, 0x01, 0x07, 0xff]),
            Ok((0x02, &[7u8][..], &[0xffu8][..]))
        );
        let mut long = vec![0x04, 0x82, 0x01, 0x00];
        long.extend([0xaa; 256]);
        let (tag, content, rest) = element(&long).expect("long form");
        assert_eq!((tag, content.len(), rest.len()), (0x04, 256, 0));
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x02, 0x00],
            &[0x30, 0x80],
            &[0x30, 0x85, 0, 0, 0, 0, 1],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x82, 0x01],
        ] {
            assert_eq!(element(bad), Err(CertError::Truncated), "{bad:02x?}");
        }
        assert_eq!(
            expect(&[0x02, 0x00], SEQUENCE, "Certificate"),
            Err(CertError::UnexpectedTag {
                found: 0x02,
                wanted: "Certificate"
            })
        );
    }

    proptest! {
        /// Whatever the bytes, an element's contents and what follows are
        /// the input's own bytes, after its tag and length.
        #[test]
        fn elements_stay_inside_their_input(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok((tag, content, rest)) = element(&bytes) {
                prop_assert_eq!(tag, bytes[0]);
                let header = bytes.len() - content.len() - rest.len();
                prop_assert!((2..=6).contains(&header));
                prop_assert_eq!(content, &bytes[header..header + content.len()]);
                prop_assert_eq!(rest, &bytes[header + content.len()..]);
            }
        }
    }
}
