//! Re-reading files that change under a running process (TLS certificates,
//! token files): on SIGHUP, and when a file's modification time or size
//! changes, polled every few seconds (no file-watching dependency; a
//! Kubernetes secret update takes longer than that to arrive anyway).
//!
//! **Invariant:** once [`catch_sighup`] has run, SIGHUP never terminates the
//! process; it reloads every watched file set, and a reload that fails
//! keeps what was loaded before (the [`Reload`] implementor logs why).

use std::path::PathBuf;
use std::sync::{OnceLock, Weak};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use tokio::sync::watch;

/// How often watched files are checked for a change.
pub const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// Something loaded from files that can be loaded again while serving.
pub trait Reload: Send + Sync + 'static {
    /// The files it reads; a change to any of them triggers [`Reload::reload`].
    fn files(&self) -> Vec<PathBuf>;
    /// Reads the files again; on failure keeps the old contents and logs an
    /// ERROR naming the file and why.
    fn reload(&self);
}

/// Counts SIGHUPs; every watcher reloads when it moves.
fn hangups() -> &'static watch::Sender<u64> {
    static HANGUPS: OnceLock<watch::Sender<u64>> = OnceLock::new();
    HANGUPS.get_or_init(|| watch::channel(0).0)
}

/// Turns SIGHUP into "reload certificates and tokens" for the rest of the
/// process's life (its default action would end the process). Call once,
/// inside the runtime, before serving.
pub fn catch_sighup() -> Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hup = signal(SignalKind::hangup()).context("cannot catch SIGHUP")?;
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading TLS certificates and token files");
                hangups().send_modify(|n| *n += 1);
            }
        });
    }
    Ok(())
}

/// What a file looked like when last read: a change in either means it
/// was rewritten or replaced.
fn stamp(path: &PathBuf) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Reloads `target` on SIGHUP and on a change to its files, for as long as
/// it lives. Does nothing outside a tokio runtime (unit tests).
pub fn watch(target: Weak<dyn Reload>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let stamps = |t: &dyn Reload| t.files().iter().map(stamp).collect::<Vec<_>>();
    let Some(first) = target.upgrade() else {
        return;
    };
    let mut seen = stamps(&*first);
    drop(first);
    let mut hup = hangups().subscribe();
    runtime.spawn(async move {
        let start = tokio::time::Instant::now() + POLL_INTERVAL;
        let mut tick = tokio::time::interval_at(start, POLL_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let hangup = tokio::select! {
                changed = hup.changed() => changed.is_ok(),
                _ = tick.tick() => false,
            };
            let Some(target) = target.upgrade() else {
                return;
            };
            let now = stamps(&*target);
            if hangup || now != seen {
                // Noted before reading, so a broken file is reported once,
                // not every poll, and a fix is noticed as the next change.
                seen = now;
                target.reload();
            }
        }
    });
}
