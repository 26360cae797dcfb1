//! The threads queries run on: a fixed pool, apart from the async workers
//! and from the blocking threads ingest appends on, at a lower CPU priority.
//!
//! Forty parallel `{__name__=~".+"}[30d]` queries once made `/livez` take
//! 27 s and OTLP posts time out: on tokio's blocking pool the queries were
//! as many runnable threads as the machine had work, each with the same
//! claim to a core as the threads answering probes and storing data. Here
//! they run on `max_concurrency` threads of their own, niced (Linux keeps a
//! nice value per thread), so the kernel gives a core to a probe or an
//! append the moment one wants it and queries take what is left.
//!
//! **Invariant:** at most `threads` queries evaluate at once, and only on
//! these threads; a query never shares a thread with ingest.
//!
//! Threads are plain `std::thread`s fed through a channel, not a runtime:
//! a job is a closure, its answer goes back over a oneshot channel.

use std::sync::{Arc, Mutex, PoisonError, mpsc};

/// How much lower than the process's threads queries run (`nice` steps;
/// at 10 the kernel weighs a query thread about a tenth of a normal one).
const QUERY_NICE: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of low-priority threads running query jobs in arrival order.
#[derive(Clone)]
pub struct QueryPool {
    jobs: mpsc::Sender<Job>,
}

/// Why a job did not run to an answer.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// The pool's threads are gone (they never stop before the process).
    #[error("query threads are gone")]
    Gone,
    /// The job panicked; the thread survives it.
    #[error("query panicked")]
    Panicked,
}

impl QueryPool {
    /// Starts `threads` query threads (at least one).
    pub fn new(threads: usize) -> QueryPool {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = Arc::clone(&rx);
            let spawned = std::thread::Builder::new()
                .name(format!("sextant-query-{i}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        // Hold the lock only to take a job, never while running it.
                        let job = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a query thread");
            }
        }
        QueryPool { jobs: tx }
    }

    /// Runs `f` on a query thread and waits (asynchronously) for its answer.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = tx.send(answer);
        });
        self.jobs.send(job).map_err(|_| PoolError::Gone)?;
        match rx.await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Err(PoolError::Panicked),
            Err(_) => Err(PoolError::Gone),
        }
    }
}

/// Lowers the calling thread's CPU priority; a failure only costs isolation.
#[allow(unsafe_code)] // two FFI calls; see their SAFETY note
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // On Linux `PRIO_PROCESS` with 0 names the calling thread, not the
        // whole process. Raising a nice value needs no privilege.
        // SAFETY: getpriority and setpriority have no memory-safety preconditions.
        let rc = unsafe {
            let now = libc::getpriority(libc::PRIO_PROCESS, 0);
            libc::setpriority(libc::PRIO_PROCESS, 0, (now + QUERY_NICE).min(19))
        };
        if rc != 0 {
            tracing::debug!(error = %std::io::Error::last_os_error(), "cannot lower query thread priority");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_jobs_and_survives_a_panicking_one() {
        let pool = QueryPool::new(2);
        assert_eq!(pool.run(|| 40 + 2).await.expect("answer"), 42);
        let panicked = pool.run(|| -> u8 { panic!("boom") }).await;
        assert!(matches!(panicked, Err(PoolError::Panicked)));
        for i in 0..8 {
            assert_eq!(pool.run(move || i * 2).await.expect("answer"), i * 2);
        }
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    #[allow(unsafe_code)] // reads the priorities back
    async fn query_threads_run_niced() {
        let pool = QueryPool::new(1);
        let nice = pool
            .run(|| {
                // SAFETY: getpriority has no memory-safety preconditions.
                unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
            })
            .await
            .expect("answer");
        // SAFETY: as above, for this (test) thread.
        let ours = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        assert!(nice > ours, "query thread nice {nice}, test thread {ours}");
    }
}
