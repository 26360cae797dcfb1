//! Bounded, crash-safe on-disk queue of encoded batches.
//!
//! Layout of `queue_dir`:
//! * `NNNNNNNNNNNNNNNNNNNN.seg` segment files (20-digit sequence number), each a
//!   run of records `[len: u32 LE][crc32(payload): u32 LE][payload]`, where
//!   `payload = [version = 1][signal code][items: u32 LE][gzip protobuf body]`.
//!   Every append is fsynced before the producer hears `Queued`.
//! * `cursor`: `[segment: u64 LE][offset: u64 LE][crc32 of those 16 bytes]`, the
//!   first undelivered record, replaced atomically (tmp + fsync + rename + dir
//!   fsync) after each delivered batch. Segments before it are deleted.
//! * `lock`: held with an exclusive file lock so two exporters never share a queue.
//!
//! On open every segment from the cursor on is scanned; records with a bad
//! length, checksum or header are skipped and reported, never fatal. Appends
//! always go to a fresh segment after open, so a torn tail is never extended.
//! This file is synchronous; the exporter calls it from `spawn_blocking`.

use std::collections::{BTreeSet, VecDeque};
use std::fs::{self, File, TryLockError};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::ExportError;
use crate::private;
use sextant_otlp::Signal;

const FRAME_HEADER: usize = 8;
const PAYLOAD_HEADER: usize = 6;
const FORMAT_VERSION: u8 = 1;
const CURSOR: &str = "cursor";
const CURSOR_TMP: &str = "cursor.tmp";
const LOCK: &str = "lock";
const SEGMENT_SUFFIX: &str = ".seg";

/// One encoded batch, as sent on the wire and stored on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) signal: Signal,
    /// Log records / data points / spans in the batch, for metrics.
    pub(crate) items: u32,
    /// gzip-compressed protobuf request.
    pub(crate) body: Vec<u8>,
}

/// Result of [`DiskQueue::push`]; full and oversized records are handed back.
#[derive(Debug)]
pub(crate) enum Push {
    Appended,
    Full(Record),
    /// Larger than the whole queue: can never fit.
    TooLarge,
}

/// The head of the queue.
#[derive(Debug)]
pub(crate) enum Peeked {
    Record(Record),
    /// The head went bad after open (bit rot, external tampering); ack it to skip.
    Corrupt {
        bytes: u64,
    },
}

/// Data lost to corruption, found while opening.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpenReport {
    pub(crate) corrupt_records: u64,
    pub(crate) corrupt_bytes: u64,
}

#[derive(Debug, Clone, Copy)]
struct Loc {
    segment: u64,
    offset: u64,
    len: u64,
}

struct Writer {
    segment: u64,
    file: File,
    size: u64,
}

/// The queue itself: an index of undelivered records plus the open writer.
pub(crate) struct DiskQueue {
    dir: PathBuf,
    max_bytes: u64,
    segment_bytes: u64,
    segments: BTreeSet<u64>,
    writer: Option<Writer>,
    next_segment: u64,
    pending: VecDeque<Loc>,
    used: u64,
    // Held for the queue's lifetime; the OS releases the lock when it closes.
    _lock: File,
}

fn segment_path(dir: &Path, segment: u64) -> PathBuf {
    dir.join(format!("{segment:020}{SEGMENT_SUFFIX}"))
}

fn sync_dir(dir: &Path) -> Result<(), ExportError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| ExportError::io(dir, e))
}

fn encode(record: &Record) -> Vec<u8> {
    let payload_len = PAYLOAD_HEADER + record.body.len();
    let mut out = Vec::with_capacity(FRAME_HEADER + payload_len);
    out.extend_from_slice(&u32::try_from(payload_len).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&[0; 4]); // crc, filled below
    out.push(FORMAT_VERSION);
    out.push(signal_code(record.signal));
    out.extend_from_slice(&record.items.to_le_bytes());
    out.extend_from_slice(&record.body);
    let crc = crc32fast::hash(&out[FRAME_HEADER..]);
    out[4..8].copy_from_slice(&crc.to_le_bytes());
    out
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let raw: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(raw))
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let raw: [u8; 8] = bytes.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(raw))
}

/// Decodes one framed record (header included); `None` if anything is off.
fn decode(frame: &[u8]) -> Option<Record> {
    let len = usize::try_from(read_u32(frame, 0)?).ok()?;
    let crc = read_u32(frame, 4)?;
    let payload = frame.get(FRAME_HEADER..)?;
    if payload.len() != len || len < PAYLOAD_HEADER || crc32fast::hash(payload) != crc {
        return None;
    }
    if payload[0] != FORMAT_VERSION {
        return None;
    }
    Some(Record {
        signal: signal_from_code(payload[1])?,
        items: read_u32(payload, 2)?,
        body: payload[PAYLOAD_HEADER..].to_vec(),
    })
}

/// Scans a segment from `start`, returning valid record locations and counting junk.
fn scan(segment: u64, data: &[u8], start: usize, report: &mut OpenReport) -> Vec<Loc> {
    let mut locs = Vec::new();
    let mut pos = start;
    while pos < data.len() {
        let rest = (data.len() - pos) as u64;
        let Some(len) = read_u32(data, pos).and_then(|l| usize::try_from(l).ok()) else {
            // Torn header at the tail: a crash mid-append (never acknowledged).
            report.corrupt_records += 1;
            report.corrupt_bytes += rest;
            break;
        };
        let end = pos.saturating_add(FRAME_HEADER).saturating_add(len);
        if len < PAYLOAD_HEADER || end > data.len() {
            // The length is garbage, so record boundaries are lost for the rest of the file.
            report.corrupt_records += 1;
            report.corrupt_bytes += rest;
            break;
        }
        if decode(&data[pos..end]).is_some() {
            locs.push(Loc {
                segment,
                offset: pos as u64,
                len: (end - pos) as u64,
            });
        } else {
            // Length plausible, content bad: skip just this record.
            report.corrupt_records += 1;
            report.corrupt_bytes += (end - pos) as u64;
        }
        pos = end;
    }
    locs
}

impl DiskQueue {
    /// Opens (creating if needed) the queue in `dir`, indexing undelivered records.
    pub(crate) fn open(dir: &Path, max_bytes: u64) -> Result<(DiskQueue, OpenReport), ExportError> {
        private::create_dir(dir)?;
        let lock_path = dir.join(LOCK);
        let lock = private::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| ExportError::io(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(ExportError::QueueLocked {
                    path: dir.to_path_buf(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(ExportError::io(&lock_path, e)),
        }
        match fs::remove_file(dir.join(CURSOR_TMP)) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(ExportError::io(dir.join(CURSOR_TMP), e)),
        }
        let cursor = read_cursor(dir)?;

        let mut found = Vec::new();
        for entry in fs::read_dir(dir).map_err(|e| ExportError::io(dir, e))? {
            let entry = entry.map_err(|e| ExportError::io(dir, e))?;
            let name = entry.file_name();
            let Some(seq) = name
                .to_str()
                .and_then(|n| n.strip_suffix(SEGMENT_SUFFIX))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            found.push(seq);
        }
        found.sort_unstable();

        let mut report = OpenReport::default();
        let mut segments = BTreeSet::new();
        let mut pending = VecDeque::new();
        let mut highest = cursor.map_or(0, |(segment, _)| segment);
        for seq in found {
            highest = highest.max(seq);
            let path = segment_path(dir, seq);
            let start = match cursor {
                Some((segment, _)) if seq < segment => {
                    remove_if_exists(&path)?;
                    continue;
                }
                Some((segment, offset)) if seq == segment => offset,
                _ => 0,
            };
            let data = fs::read(&path).map_err(|e| ExportError::io(&path, e))?;
            let start = usize::try_from(start).unwrap_or(usize::MAX);
            let start = if start > data.len() {
                tracing::warn!(path = %path.display(), "queue cursor points past the end of its segment; nothing left there");
                data.len()
            } else {
                start
            };
            let locs = scan(seq, &data, start, &mut report);
            if locs.is_empty() {
                remove_if_exists(&path)?;
            } else {
                segments.insert(seq);
                pending.extend(locs);
            }
        }
        let used = pending.iter().map(|l| l.len).sum();
        let queue = DiskQueue {
            dir: dir.to_path_buf(),
            max_bytes,
            segment_bytes: (max_bytes / 16).clamp(64 * 1024, 64 * 1024 * 1024),
            segments,
            writer: None,
            next_segment: highest.saturating_add(1),
            pending,
            used,
            _lock: lock,
        };
        Ok((queue, report))
    }

    /// Undelivered batches (including the one being sent).
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing awaits delivery.
    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Bytes of undelivered records on disk (framing included).
    pub(crate) fn used_bytes(&self) -> u64 {
        self.used
    }

    /// Appends and fsyncs `record`, unless the queue bound would be exceeded.
    pub(crate) fn push(&mut self, record: Record) -> Result<Push, ExportError> {
        let frame = encode(&record);
        let len = frame.len() as u64;
        if len > self.max_bytes {
            return Ok(Push::TooLarge);
        }
        if self.used + len > self.max_bytes {
            return Ok(Push::Full(record));
        }
        let rotate = self
            .writer
            .as_ref()
            .is_none_or(|w| w.size >= self.segment_bytes);
        if rotate {
            let segment = self.next_segment;
            let path = segment_path(&self.dir, segment);
            let file = private::options()
                .create_new(true)
                .append(true)
                .open(&path)
                .map_err(|e| ExportError::io(&path, e))?;
            sync_dir(&self.dir)?;
            self.next_segment += 1;
            self.segments.insert(segment);
            self.writer = Some(Writer {
                segment,
                file,
                size: 0,
            });
        }
        let Some(writer) = self.writer.as_mut() else {
            return Err(ExportError::Task(
                "disk queue writer missing after rotation".to_string(),
            ));
        };
        let written = writer
            .file
            .write_all(&frame)
            .and_then(|()| writer.file.sync_data());
        if let Err(e) = written {
            let path = segment_path(&self.dir, writer.segment);
            // The segment may now end in a partial record: never append after it.
            self.writer = None;
            return Err(ExportError::io(path, e));
        }
        self.pending.push_back(Loc {
            segment: writer.segment,
            offset: writer.size,
            len,
        });
        writer.size += len;
        self.used += len;
        Ok(Push::Appended)
    }

    /// Reads the oldest undelivered record without removing it.
    pub(crate) fn peek(&self) -> Result<Option<Peeked>, ExportError> {
        let Some(loc) = self.pending.front().copied() else {
            return Ok(None);
        };
        let path = segment_path(&self.dir, loc.segment);
        let mut frame = vec![0; usize::try_from(loc.len).unwrap_or(usize::MAX)];
        let read = File::open(&path).and_then(|mut f| {
            f.seek(SeekFrom::Start(loc.offset))?;
            f.read_exact(&mut frame)
        });
        match read {
            Ok(()) => {}
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::UnexpectedEof) => {
                return Ok(Some(Peeked::Corrupt { bytes: loc.len }));
            }
            Err(e) => return Err(ExportError::io(path, e)),
        }
        Ok(Some(match decode(&frame) {
            Some(record) => Peeked::Record(record),
            None => Peeked::Corrupt { bytes: loc.len },
        }))
    }

    /// Marks the oldest record delivered: persists the cursor past it and deletes
    /// segments that hold nothing undelivered any more.
    pub(crate) fn ack(&mut self) -> Result<(), ExportError> {
        let Some(done) = self.pending.front().copied() else {
            return Ok(());
        };
        let (segment, offset) = match self.pending.get(1) {
            Some(next) => (next.segment, next.offset),
            None => (done.segment, done.offset + done.len),
        };
        write_cursor(&self.dir, segment, offset)?;
        self.pending.pop_front();
        self.used -= done.len;
        let writing = self.writer.as_ref().map(|w| w.segment);
        let finished: Vec<u64> = self
            .segments
            .range(..segment)
            .copied()
            .filter(|s| Some(*s) != writing)
            .collect();
        for old in finished {
            self.segments.remove(&old);
            remove_if_exists(&segment_path(&self.dir, old))?;
        }
        Ok(())
    }
}

fn remove_if_exists(path: &Path) -> Result<(), ExportError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(ExportError::io(path, e)),
    }
}

/// Reads the cursor; a missing one means "from the start", a corrupt one is
/// logged and also means "from the start" (duplicates beat losses).
fn read_cursor(dir: &Path) -> Result<Option<(u64, u64)>, ExportError> {
    let path = dir.join(CURSOR);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ExportError::io(path, e)),
    };
    let parsed = (bytes.len() == 20)
        .then(|| {
            Some((
                read_u64(&bytes, 0)?,
                read_u64(&bytes, 8)?,
                read_u32(&bytes, 16)?,
            ))
        })
        .flatten()
        .filter(|(_, _, crc)| crc32fast::hash(&bytes[..16]) == *crc);
    match parsed {
        Some((segment, offset, _)) => Ok(Some((segment, offset))),
        None => {
            tracing::error!(path = %path.display(), "corrupt queue cursor; re-sending every batch still on disk");
            Ok(None)
        }
    }
}

fn write_cursor(dir: &Path, segment: u64, offset: u64) -> Result<(), ExportError> {
    let mut bytes = Vec::with_capacity(20);
    bytes.extend_from_slice(&segment.to_le_bytes());
    bytes.extend_from_slice(&offset.to_le_bytes());
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    let tmp = dir.join(CURSOR_TMP);
    let mut file = private::options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|e| ExportError::io(&tmp, e))?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| ExportError::io(&tmp, e))?;
    let path = dir.join(CURSOR);
    fs::rename(&tmp, &path).map_err(|e| ExportError::io(&path, e))?;
    sync_dir(dir)
}

/// The byte a record's signal is stored as.
fn signal_code(signal: Signal) -> u8 {
    match signal {
        Signal::Logs => 1,
        Signal::Metrics => 2,
        Signal::Traces => 3,
    }
}

/// Inverse of [`signal_code`]; `None` marks a corrupt record.
fn signal_from_code(code: u8) -> Option<Signal> {
    match code {
        1 => Some(Signal::Logs),
        2 => Some(Signal::Metrics),
        3 => Some(Signal::Traces),
        _ => None,
    }
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
