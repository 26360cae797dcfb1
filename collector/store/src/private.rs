//! The store's files are private to the collector: its directories are
//! created 0700 and its files 0600 whatever the process's umask (they hold
//! every log line and span sent to it), and a directory left by an older
//! version with looser modes is tightened when the store opens it.
//!
//! **Invariant:** every directory and file the store creates goes through
//! [`create_dir`] or [`options`].

use std::fs::{self, DirBuilder, OpenOptions, Permissions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::error::StoreError;

/// Mode of the store's directories: the owner only.
pub(crate) const DIR_MODE: u32 = 0o700;
/// Mode of the store's files: the owner only, no execute bit.
pub(crate) const FILE_MODE: u32 = 0o600;

/// Creates `dir` and its missing parents as 0700 (the parents too: they
/// are the store's as much as the leaf is when it made them), then sets
/// `dir` itself to 0700 should it have existed with looser bits.
pub(crate) fn create_dir(dir: &Path) -> Result<(), StoreError> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|e| StoreError::io(dir, e))?;
    fs::set_permissions(dir, Permissions::from_mode(DIR_MODE)).map_err(|e| StoreError::io(dir, e))
}

/// `OpenOptions` whose created files are 0600.
pub(crate) fn options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.mode(FILE_MODE);
    o
}

/// Sets every regular file directly in `dir` to 0600: files an older
/// version wrote under the umask become private at the next open.
pub(crate) fn tighten_files(dir: &Path) -> Result<(), StoreError> {
    for entry in fs::read_dir(dir).map_err(|e| StoreError::io(dir, e))? {
        let entry = entry.map_err(|e| StoreError::io(dir, e))?;
        let path = entry.path();
        let meta = entry.metadata().map_err(|e| StoreError::io(&path, e))?;
        if meta.is_file() && meta.permissions().mode() & 0o777 != FILE_MODE {
            fs::set_permissions(&path, Permissions::from_mode(FILE_MODE))
                .map_err(|e| StoreError::io(&path, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;
    use crate::{Store, StoreConfig};
    use sextant_model::{Labels, LogEntry, Sample, Series};

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn everything_the_store_writes_is_private() -> Result<(), Box<dyn Error>> {
        let root = tempfile::tempdir()?;
        // A directory and a file left with the usual umask's modes.
        let dir = root.path().join("data");
        fs::create_dir(&dir)?;
        fs::set_permissions(&dir, Permissions::from_mode(0o755))?;
        let old = dir.join("notes");
        fs::write(&old, "left by an older version")?;
        fs::set_permissions(&old, Permissions::from_mode(0o644))?;

        let s = Store::open(&dir, StoreConfig::default())?;
        s.append_samples(&[Series {
            labels: labels(&[("__name__", "up")]),
            samples: vec![Sample { t: 1_000, v: 1.0 }],
        }])?;
        s.append_logs(&[LogEntry {
            t_ns: 1,
            stream: labels(&[("app", "api")]),
            line: "hello".into(),
            metadata: labels(&[]),
        }])?;
        s.maintain(10_000)?;
        let nested = root.path().join("a/b/c");
        let _other = Store::open(&nested, StoreConfig::default())?;

        let mut seen = 0;
        for d in [&dir, &dir.join("wal"), &root.path().join("a"), &nested] {
            assert_eq!(mode(d), DIR_MODE, "{}", d.display());
            for entry in fs::read_dir(d)? {
                let path = entry?.path();
                if path.is_file() {
                    assert_eq!(mode(&path), FILE_MODE, "{}", path.display());
                    seen += 1;
                }
            }
        }
        // LOCK, notes, the snapshot, WAL segments, the other store's LOCK and segment.
        assert!(seen >= 5, "{seen} files checked");
        Ok(())
    }
}
