//! glibc allocator tuning, applied once at start before any thread exists.
//!
//! glibc gives threads that contend for the heap arenas of their own, up to
//! eight per core, and each arena keeps the memory freed into it. A burst of
//! queries spread over tokio's workers and blocking threads therefore leaves
//! the collector holding memory no live data uses. Measured in BENCHMARKS.md
//! (10,000 series × 24 h, ten dashboard queries, 2 cores): peak RSS 188 MiB
//! with glibc's default against Prometheus's 176 MiB, 143 MiB with two
//! arenas, and the queries no slower. One arena per core bounds that retention
//! by the machine's size instead of by eight times it.

/// Caps glibc's malloc arenas at one per available core, unless the operator
/// chose a number through `MALLOC_ARENA_MAX` (glibc reads it itself, and a
/// setting here would override it).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)] // the one FFI call below; see its SAFETY note
pub fn cap_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cap = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt only writes glibc's malloc parameters; it takes plain
    // integers, touches no memory of ours, and is called before this process
    // starts any other thread.
    // A refusal (0) leaves glibc's default in place, which is still correct.
    unsafe { libc::mallopt(libc::M_ARENA_MAX, cap) };
}

/// Other allocators (musl, other systems) keep no per-thread arenas to cap.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn cap_arenas() {}
