//! The process's allocator: mimalloc, purging freed memory at once.
//!
//! Why not glibc's malloc: under 40 heavy queries a health probe or an
//! ingest request on an async worker waited 160-350 ms on an arena lock a
//! query thread held while it freed or grew its buffers (perf:
//! `__lll_lock_wait_private` under `_int_free` on the workers), and neither
//! fewer arenas nor lower query priority removed it. mimalloc's heaps are
//! per thread and a free from another thread is a lock-free push, so a
//! probe never waits on a query: every probe within 76 ms over five runs.
//!
//! Why purge at once: mimalloc 3 keeps freed pages committed for a second
//! by default, and back-to-back queries then stacked up: peak RSS 295 MiB
//! against glibc's 162 MiB on the Prometheus comparison bench. Purging
//! immediately measured 162 MiB with the queries still faster than
//! glibc's. Figures in BENCHMARKS.md.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (its 16th entry);
/// libmimalloc-sys names no constant for it, so Cargo.toml pins the
/// version and a test checks the index holds the option's documented
/// default.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Makes mimalloc return freed memory to the OS at once instead of after
/// its default second. The operator's `MIMALLOC_PURGE_DELAY` still wins.
#[allow(unsafe_code)] // one FFI call; see its SAFETY note
pub fn purge_promptly() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: mi_option_set writes one of mimalloc's option words; it takes
    // plain integers and touches no memory of ours. mimalloc reads options
    // when it schedules a purge, so setting one at any time is sound.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(unsafe_code)] // reads the option back
    fn the_purge_delay_index_names_the_purge_delay() {
        // SAFETY: mi_option_get only reads an option word.
        let default = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        // mimalloc 3's documented default purge delay is 1000 ms (unless a
        // test runner exported MIMALLOC_PURGE_DELAY).
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(default, 1000, "index {PURGE_DELAY} is not purge_delay");
        }
        purge_promptly();
        // SAFETY: as above.
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }, 0);
    }
}
