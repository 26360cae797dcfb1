//! The write-ahead log: numbered segment files under `<dir>/wal/`, each a
//! sequence of framed records (see [`crate::segment`]).
//!
//! Writers append under a mutex (held by the caller together with the data
//! lock, so WAL order equals memory order) and fsync outside it with group
//! commit: one thread fsyncs on behalf of everyone who wrote before it
//! started, and later threads whose writes it covered return without
//! syncing. A failed fsync poisons the WAL (after an fsync error the kernel
//! may have dropped dirty pages, so no later fsync can vouch for them).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::StoreError;
use crate::segment::sync_dir;

/// Segment size at which the writer moves to a new file.
pub const SEGMENT_SIZE: u64 = 64 << 20;

/// A position in the WAL: records before it (in segment, then offset order)
/// are covered by a snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// Segment index.
    pub segment: u64,
    /// Byte offset inside the segment.
    pub offset: u64,
}

/// Path of segment `index` in `wal_dir` (zero-padded so names sort).
pub fn segment_path(wal_dir: &Path, index: u64) -> PathBuf {
    wal_dir.join(format!("{index:010}"))
}

/// Existing segments (index → path) in `wal_dir`, ignoring unrelated files.
pub fn list_segments(wal_dir: &Path) -> Result<BTreeMap<u64, PathBuf>, StoreError> {
    let mut out = BTreeMap::new();
    for e in fs::read_dir(wal_dir).map_err(|e| StoreError::io(wal_dir, e))? {
        let e = e.map_err(|e| StoreError::io(wal_dir, e))?;
        let name = e.file_name();
        if let Some(i) = name.to_str().and_then(|n| n.parse::<u64>().ok()) {
            out.insert(i, e.path());
        }
    }
    Ok(out)
}

#[derive(Debug)]
struct Writer {
    file: Arc<File>,
    index: u64,
    len: u64,
    /// Sequence number of the last write.
    written: u64,
    /// Sizes of older segments still on disk.
    closed: BTreeMap<u64, u64>,
}

/// The WAL writer.
#[derive(Debug)]
pub struct Wal {
    dir: PathBuf,
    inner: Mutex<Writer>,
    sync_lock: Mutex<()>,
    synced: AtomicU64,
    poisoned: AtomicBool,
    segment_size: u64,
}

fn create_segment(dir: &Path, index: u64) -> Result<File, StoreError> {
    let path = segment_path(dir, index);
    let f = crate::private::options()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| StoreError::io(&path, e))?;
    sync_dir(dir)?;
    Ok(f)
}

impl Wal {
    /// Starts writing a fresh segment `index` in `dir`; `existing` lists older
    /// segments (index → size) kept for replay until a checkpoint covers them.
    pub fn open(
        dir: &Path,
        index: u64,
        existing: BTreeMap<u64, u64>,
        segment_size: u64,
    ) -> Result<Wal, StoreError> {
        let file = create_segment(dir, index)?;
        Ok(Wal {
            dir: dir.to_path_buf(),
            inner: Mutex::new(Writer {
                file: Arc::new(file),
                index,
                len: 0,
                written: 0,
                closed: existing,
            }),
            sync_lock: Mutex::new(()),
            synced: AtomicU64::new(0),
            poisoned: AtomicBool::new(false),
            segment_size,
        })
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(StoreError::WalPoisoned {
                path: self.dir.clone(),
            });
        }
        Ok(())
    }

    fn poison(&self) {
        self.poisoned.store(true, Ordering::Release);
    }

    /// Appends framed records (not yet durable); returns a sequence number for [`Wal::sync`].
    pub fn write(&self, bytes: &[u8]) -> Result<u64, StoreError> {
        self.check()?;
        let mut w = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if bytes.is_empty() {
            return Ok(w.written);
        }
        if w.len > 0 && w.len + bytes.len() as u64 > self.segment_size {
            self.rotate(&mut w)?;
        }
        let path = segment_path(&self.dir, w.index);
        if let Err(e) = (&*w.file).write_all(bytes) {
            // Cut off the partial record so later records stay readable; if
            // even that fails, a replay would stop here, so refuse more writes.
            if w.file.set_len(w.len).is_err() {
                self.poison();
            }
            return Err(StoreError::io(path, e));
        }
        w.len += bytes.len() as u64;
        w.written += 1;
        Ok(w.written)
    }

    /// Makes everything up to write `seq` durable, sharing fsyncs between threads.
    pub fn sync(&self, seq: u64) -> Result<(), StoreError> {
        let _g = self
            .sync_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.check()?;
        if self.synced.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        let (file, target, index) = {
            let w = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            (Arc::clone(&w.file), w.written, w.index)
        };
        // Older segments were fsynced when rotated away from, so syncing the
        // current file covers every write up to `target`.
        if let Err(e) = file.sync_data() {
            self.poison();
            return Err(StoreError::io(segment_path(&self.dir, index), e));
        }
        self.synced.fetch_max(target, Ordering::AcqRel);
        Ok(())
    }

    fn rotate(&self, w: &mut Writer) -> Result<(), StoreError> {
        if let Err(e) = w.file.sync_data() {
            self.poison();
            return Err(StoreError::io(segment_path(&self.dir, w.index), e));
        }
        let next = w.index + 1;
        let file = create_segment(&self.dir, next)?;
        w.closed.insert(w.index, w.len);
        w.file = Arc::new(file);
        w.index = next;
        w.len = 0;
        Ok(())
    }

    /// Moves to a new segment (for a checkpoint) and returns its index; every
    /// record written so far is in an older segment.
    pub fn cut(&self) -> Result<u64, StoreError> {
        self.check()?;
        let mut w = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if w.len > 0 {
            self.rotate(&mut w)?;
        }
        Ok(w.index)
    }

    /// The current end of the WAL.
    pub fn position(&self) -> Pos {
        let w = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        Pos {
            segment: w.index,
            offset: w.len,
        }
    }

    /// Deletes segments before `index` (covered by a durable snapshot); returns bytes freed.
    pub fn remove_before(&self, index: u64) -> Result<u64, StoreError> {
        let doomed: Vec<(u64, u64)> = {
            let w = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            w.closed.range(..index).map(|(i, s)| (*i, *s)).collect()
        };
        let mut freed = 0;
        for (i, size) in doomed {
            let path = segment_path(&self.dir, i);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::io(path, e)),
            }
            self.inner
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .closed
                .remove(&i);
            freed += size;
        }
        sync_dir(&self.dir)?;
        Ok(freed)
    }

    /// Bytes of all segments on disk.
    pub fn disk_bytes(&self) -> u64 {
        let w = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        w.len + w.closed.values().sum::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_syncs_and_removes() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let wal = Wal::open(dir.path(), 3, BTreeMap::new(), 100)?;
        let mut last = 0;
        for _ in 0..5 {
            last = wal.write(&[7u8; 60])?;
        }
        wal.sync(last)?;
        assert_eq!(
            wal.position().segment,
            7,
            "each 60-byte write overflows a 100-byte segment"
        );
        assert_eq!(wal.disk_bytes(), 300);
        let cut = wal.cut()?;
        assert_eq!(cut, 8);
        assert_eq!(wal.remove_before(cut)?, 300);
        assert_eq!(
            list_segments(dir.path())?
                .keys()
                .copied()
                .collect::<Vec<_>>(),
            vec![8]
        );
        Ok(())
    }
}
