//! The open-file limit: raised from the soft to the hard limit at start (a
//! server's sockets are files, and 1024, the usual soft default, is less
//! than three listeners' connection caps), and the share of it each
//! listener may spend on connections.
//!
//! **Invariant:** listeners × per-listener cap + reserve ≤ the soft limit,
//! so connections alone never make `accept` fail with EMFILE; the reserve
//! covers the store's files, outbound connections, and the accepts in the
//! moment before an evicted connection's descriptor is closed.

use std::sync::{Once, OnceLock};

/// Connection slots per listener, once [`raise`] has run.
static SLOTS: OnceLock<usize> = OnceLock::new();

/// Raises the soft open-file limit to the hard limit and notes how many
/// connections each of the process's `listeners` may hold within it.
pub fn raise(listeners: usize) {
    let limit = match raise_to_hard() {
        Ok((before, after)) => {
            tracing::debug!(before, after, "open-file limit");
            after
        }
        Err(e) => {
            tracing::debug!(error = %e, "cannot read or raise the open-file limit");
            return;
        }
    };
    let _ = SLOTS.set(slots(limit, listeners));
}

/// Descriptors kept out of the connection budget: a quarter of the limit,
/// between 64 and 1024.
fn reserve(limit: u64) -> u64 {
    (limit / 4).clamp(64, 1024)
}

fn slots(limit: u64, listeners: usize) -> usize {
    let spare = limit.saturating_sub(reserve(limit));
    let per = spare / (listeners.max(1) as u64);
    usize::try_from(per).unwrap_or(usize::MAX).max(1)
}

/// `configured`, or less when the open-file limit cannot hold it on every
/// listener (warned once per process).
pub fn connection_cap(configured: usize) -> usize {
    let Some(&slots) = SLOTS.get() else {
        return configured;
    };
    if configured <= slots {
        return configured;
    }
    static WARNED: Once = Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            max_connections = configured,
            clamped_to = slots,
            "max_connections does not fit the open-file limit on every listener; raise `ulimit -n` (the hard limit) to allow more"
        );
    });
    slots
}

#[cfg(unix)]
#[allow(unsafe_code)] // the two FFI calls below; see their SAFETY notes
fn raise_to_hard() -> std::io::Result<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only the `rlimit` it is given, which lives
    // on this stack frame for the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let before = as_u64(lim.rlim_cur);
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // macOS refuses an unlimited soft limit; keep the old one then.
        // SAFETY: setrlimit only reads the `rlimit` it is given, which lives
        // on this stack frame for the call.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return Ok((before, as_u64(raised.rlim_cur)));
        }
        tracing::debug!(error = %std::io::Error::last_os_error(), "setrlimit(RLIMIT_NOFILE)");
    }
    Ok((before, before))
}

#[cfg(unix)]
#[allow(clippy::useless_conversion)] // the identity on Linux, not everywhere
fn as_u64(v: libc::rlim_t) -> u64 {
    // rlim_t is unsigned on Linux and macOS, signed on some BSDs (where
    // RLIM_INFINITY is the maximum anyway).
    u64::try_from(v).unwrap_or(u64::MAX)
}

#[cfg(not(unix))]
fn raise_to_hard() -> std::io::Result<(u64, u64)> {
    Err(std::io::Error::other("no open-file limit on this platform"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_listeners_share_1024_with_a_reserve() {
        // 1024 - 256 reserved, over three listeners.
        assert_eq!(slots(1024, 3), 256);
        assert!(3 * slots(1024, 3) as u64 + reserve(1024) <= 1024);
        assert_eq!(slots(1 << 20, 3), ((1 << 20) - 1024) / 3);
        assert_eq!(slots(10, 3), 1);
    }
}
