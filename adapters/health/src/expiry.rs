//! Certificate expiry as a verdict, one judge for the HTTP and TCP checks:
//! a chain past its earliest `notAfter` fails readiness, one expiring
//! within `min_cert_validity` is degraded. Pure: the handshake
//! ([`sextant_tls::Connector::handshake`]) reads the dates, this only
//! judges them.

use std::time::Duration;

use sextant_tls::cert::{human, rfc3339};
use sextant_tls::expired_text;

use crate::verdict::Reason;

/// The verdict parts of a chain's earliest `notAfter`: a readiness failure
/// if it has passed, a degraded reason if under `min_validity` from `now`.
pub(crate) fn judge_expiry(
    not_after: i64,
    now: i64,
    min_validity: Duration,
) -> (Option<String>, Option<Reason>) {
    if not_after <= now {
        return (Some(expired_text(now, not_after)), None);
    }
    let left = Duration::from_secs(not_after.saturating_sub(now).unsigned_abs());
    if left < min_validity {
        let text = format!(
            "certificate expires in {} (notAfter {}), under {}",
            human(left),
            rfc3339(not_after),
            human(min_validity)
        );
        return (None, Some(Reason::new("cert_expiry", text)));
    }
    (None, None)
}

/// Now, Unix seconds (what a check judges expiry against).
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_cases() {
        let day = 86_400;
        let min = Duration::from_secs(14 * day as u64);
        let now = 1_700_000_000;
        let cases = [
            (now + 30 * day, None, None),
            (now + 2 * day + 5, None, Some("certificate expires in 2d")),
            (now + 13 * day, None, Some("under 14d")),
            (now - 3 * day - 60, Some("certificate expired 3d ago"), None),
            (now, Some("certificate expired 0s ago"), None),
        ];
        for (not_after, fail, worry) in cases {
            let (f, w) = judge_expiry(not_after, now, min);
            match (f, fail) {
                (None, None) => {}
                (Some(f), Some(want)) => assert!(f.starts_with(want), "{f} vs {want}"),
                (f, want) => panic!("{f:?} but wanted {want:?}"),
            }
            match (w, worry) {
                (None, None) => {}
                (Some(w), Some(want)) => {
                    assert_eq!(w.signal, "cert_expiry");
                    assert!(w.text.contains(want), "{} lacks {want}", w.text);
                }
                (w, want) => panic!("{w:?} but wanted {want:?}"),
            }
        }
        assert_eq!(
            expired_text(1_580_515_200 + 3 * day, 1_580_515_200),
            "certificate expired 3d ago (notAfter 2020-02-01T00:00:00Z)"
        );
    }
}
