//! The disk queue's files are private to the agent: its directory is 0700
//! and its files 0600 whatever the umask (they hold every batch the agent
//! could not deliver yet), and a directory left with looser modes is
//! tightened when the queue opens it. (The store has the same rule in its
//! own module: the two crates share no dependency that opens files.)
//!
//! **Invariant:** every directory and file the queue creates goes through
//! [`create_dir`] or [`options`].

use std::fs::{self, DirBuilder, OpenOptions, Permissions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::error::ExportError;

/// Mode of the queue's directory: the owner only.
pub(crate) const DIR_MODE: u32 = 0o700;
/// Mode of the queue's files: the owner only, no execute bit.
pub(crate) const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) as 0700, and sets `dir` to 0700
/// should it have existed with looser bits; then its files to 0600.
pub(crate) fn create_dir(dir: &Path) -> Result<(), ExportError> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|e| ExportError::io(dir, e))?;
    fs::set_permissions(dir, Permissions::from_mode(DIR_MODE))
        .map_err(|e| ExportError::io(dir, e))?;
    for entry in fs::read_dir(dir).map_err(|e| ExportError::io(dir, e))? {
        let entry = entry.map_err(|e| ExportError::io(dir, e))?;
        let path = entry.path();
        let meta = entry.metadata().map_err(|e| ExportError::io(&path, e))?;
        if meta.is_file() && meta.permissions().mode() & 0o777 != FILE_MODE {
            fs::set_permissions(&path, Permissions::from_mode(FILE_MODE))
                .map_err(|e| ExportError::io(&path, e))?;
        }
    }
    Ok(())
}

/// `OpenOptions` whose created files are 0600.
pub(crate) fn options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.mode(FILE_MODE);
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::{DiskQueue, Record};
    use sextant_otlp::Signal;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn the_queue_directory_and_its_files_are_private() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("queue");
        fs::create_dir(&dir).expect("mkdir");
        fs::set_permissions(&dir, Permissions::from_mode(0o755)).expect("chmod");
        let old = dir.join("stray");
        fs::write(&old, "x").expect("write");
        fs::set_permissions(&old, Permissions::from_mode(0o644)).expect("chmod");

        let (mut q, _) = DiskQueue::open(&dir, 1 << 20).expect("open");
        q.push(Record {
            signal: Signal::Logs,
            items: 1,
            body: vec![7; 100],
        })
        .expect("push");
        q.ack().expect("ack writes the cursor");

        assert_eq!(mode(&dir), DIR_MODE);
        let mut files = 0;
        for entry in fs::read_dir(&dir).expect("list") {
            let path = entry.expect("entry").path();
            assert_eq!(mode(&path), FILE_MODE, "{}", path.display());
            files += 1;
        }
        // The lock, the stray file, a segment and the cursor.
        assert!(files >= 4, "{files} files");
    }
}
