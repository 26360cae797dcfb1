//! The store's error type: every failure names the file and the reason, so an
//! operator reading a log line knows which file to look at.

use std::path::PathBuf;

/// Why a store operation failed.
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// A filesystem operation failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file's contents could not be decoded (bad checksum, bad length, bad encoding).
    #[error("corrupt data in {path} at offset {offset}: {reason}")]
    Corrupt {
        /// The file involved.
        path: PathBuf,
        /// Byte offset of the bad record.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// Another process (or another `Store` in this one) has the directory open.
    #[error("store directory is in use: {path} is locked by another process")]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// An earlier fsync failed; the WAL can no longer promise durability, so
    /// appends are refused until the store is reopened.
    #[error("WAL at {path} is unusable after an earlier write/fsync failure; reopen the store")]
    WalPoisoned {
        /// The WAL directory.
        path: PathBuf,
    },
}

impl StoreError {
    /// Shorthand for an [`StoreError::Io`] naming `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }
}
