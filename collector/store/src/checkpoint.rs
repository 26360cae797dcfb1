//! Snapshots (checkpoints): the retained state written to one file so the WAL
//! segments it covers can be deleted.
//!
//! File `<dir>/snapshot-<N>` (N = first WAL segment *not* covered), framed
//! like the WAL: a header record, series records (labels + compressed chunks
//! as they are in memory), log stream records, span records and a footer
//! holding, per kind, the WAL position up to which that kind is included.
//! Each kind is copied under its own read lock while the position is read,
//! so "everything of kind K before position P_K, nothing after" holds
//! exactly; replay skips WAL records of kind K before P_K, which prevents
//! double-applied logs and spans after a crash between rename and WAL cleanup.
//!
//! Written as `.tmp`, fsynced, renamed, directory fsynced: a crash leaves
//! either the old snapshot or the new one, never a half-written one.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock};

use crate::chunk::Chunk;
use crate::codec::{Dec, DecResult, Enc};
use crate::error::StoreError;
use crate::logs::{LogLine, LogStore};
use crate::record::TARGET_RECORD;
use crate::segment::{frame, scan, sync_dir};
use crate::series::Head;
use crate::spans::SpanStore;
use crate::wal::{Pos, Wal};
use sextant_model::SpanEntry;

const HEADER: u8 = 1;
const SERIES: u8 = 2;
const LOGS: u8 = 3;
const SPANS: u8 = 4;
const FOOTER: u8 = 5;
const MAGIC: &[u8] = b"SXSNAP";
const VERSION: u64 = 1;

/// Path of the snapshot covering WAL segments before `n`.
pub fn snapshot_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("snapshot-{n:010}"))
}

/// Snapshots as (N, path) sorted by N, and leftover `.tmp` files.
pub type SnapshotList = (Vec<(u64, PathBuf)>, Vec<PathBuf>);

/// Snapshots present in `dir` as (N, path), plus leftover `.tmp` files.
pub fn list_snapshots(dir: &Path) -> Result<SnapshotList, StoreError> {
    let (mut snaps, mut tmps) = (Vec::new(), Vec::new());
    for e in fs::read_dir(dir).map_err(|e| StoreError::io(dir, e))? {
        let e = e.map_err(|e| StoreError::io(dir, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("snapshot-") else {
            continue;
        };
        if rest.ends_with(".tmp") {
            tmps.push(e.path());
        } else if let Ok(n) = rest.parse::<u64>() {
            snaps.push((n, e.path()));
        }
    }
    snaps.sort();
    Ok((snaps, tmps))
}

/// Per-kind WAL positions a snapshot covers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Covered {
    /// Series and samples records before this are included.
    pub metrics: Pos,
    /// Logs records before this are included.
    pub logs: Pos,
    /// Spans records before this are included.
    pub spans: Pos,
}

/// Batches items into framed records of bounded size, written straight to the file.
struct Section<'a> {
    kind: u8,
    enc: Enc,
    items: u64,
    out: &'a mut BufWriter<File>,
    path: &'a Path,
}

impl Section<'_> {
    fn item_done(&mut self) -> Result<(), StoreError> {
        self.items += 1;
        if self.enc.buf.len() >= TARGET_RECORD {
            self.flush()
        } else {
            Ok(())
        }
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        if self.items == 0 {
            return Ok(());
        }
        let mut payload = Enc::default();
        payload.uvarint(self.items);
        payload.buf.extend_from_slice(&self.enc.buf);
        let mut framed = Vec::with_capacity(payload.buf.len() + 9);
        frame(self.kind, &payload.buf, &mut framed);
        self.out
            .write_all(&framed)
            .map_err(|e| StoreError::io(self.path, e))?;
        self.enc.buf.clear();
        self.items = 0;
        Ok(())
    }
}

fn pos(e: &mut Enc, p: Pos) {
    e.uvarint(p.segment);
    e.uvarint(p.offset);
}

/// Writes the snapshot for WAL cut `n` and returns its size in bytes. Locks
/// are held only while copying one kind into the (page-cached) file, never
/// across the fsync.
pub fn write(
    dir: &Path,
    n: u64,
    head: &RwLock<Head>,
    logs: &RwLock<LogStore>,
    spans: &RwLock<SpanStore>,
    wal: &Wal,
) -> Result<u64, StoreError> {
    let final_path = snapshot_path(dir, n);
    let tmp = final_path.with_extension("tmp");
    let file = crate::private::options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|e| StoreError::io(&tmp, e))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut hdr = Enc::default();
    hdr.buf.extend_from_slice(MAGIC);
    hdr.uvarint(VERSION);
    hdr.uvarint(n);
    let mut framed = Vec::new();
    frame(HEADER, &hdr.buf, &mut framed);
    out.write_all(&framed)
        .map_err(|e| StoreError::io(&tmp, e))?;

    let mut cov = Covered::default();
    let next_ref;
    {
        let h = head.read().unwrap_or_else(PoisonError::into_inner);
        cov.metrics = wal.position();
        next_ref = h.next_ref();
        let mut s = Section {
            kind: SERIES,
            enc: Enc::default(),
            items: 0,
            out: &mut out,
            path: &tmp,
        };
        for (r, series) in h.iter() {
            s.enc.uvarint(r);
            s.enc.labels(&series.labels);
            s.enc.uvarint(series.chunks.len() as u64);
            for c in &series.chunks {
                s.enc.uvarint(u64::from(c.len()));
                s.enc.uvarint(c.bit_len());
                s.enc.bytes(c.bytes());
            }
            s.item_done()?;
        }
        s.flush()?;
    }
    {
        let l = logs.read().unwrap_or_else(PoisonError::into_inner);
        cov.logs = wal.position();
        let mut s = Section {
            kind: LOGS,
            enc: Enc::default(),
            items: 0,
            out: &mut out,
            path: &tmp,
        };
        for stream in l.streams() {
            for part in stream.lines.chunks(1024) {
                s.enc.labels(&stream.labels);
                s.enc.uvarint(part.len() as u64);
                for line in part {
                    s.enc.ivarint(line.t_ns);
                    s.enc.str(&line.line);
                    s.enc.labels(&line.metadata);
                }
                s.item_done()?;
            }
        }
        s.flush()?;
    }
    {
        let sp = spans.read().unwrap_or_else(PoisonError::into_inner);
        cov.spans = wal.position();
        let mut s = Section {
            kind: SPANS,
            enc: Enc::default(),
            items: 0,
            out: &mut out,
            path: &tmp,
        };
        for span in sp.iter() {
            s.enc.buf.extend_from_slice(&span.trace_id);
            s.enc.ivarint(span.t_ns);
            s.enc.bytes(&span.payload);
            s.item_done()?;
        }
        s.flush()?;
    }
    let mut foot = Enc::default();
    pos(&mut foot, cov.metrics);
    pos(&mut foot, cov.logs);
    pos(&mut foot, cov.spans);
    foot.uvarint(next_ref);
    framed.clear();
    frame(FOOTER, &foot.buf, &mut framed);
    out.write_all(&framed)
        .map_err(|e| StoreError::io(&tmp, e))?;
    let file = out
        .into_inner()
        .map_err(|e| StoreError::io(&tmp, e.into_error()))?;
    file.sync_all().map_err(|e| StoreError::io(&tmp, e))?;
    let size = file.metadata().map_err(|e| StoreError::io(&tmp, e))?.len();
    drop(file);
    fs::rename(&tmp, &final_path).map_err(|e| StoreError::io(&final_path, e))?;
    sync_dir(dir)?;
    Ok(size)
}

/// What [`load`] recovered.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Series.
    pub head: Head,
    /// Log streams.
    pub logs: LogStore,
    /// Spans.
    pub spans: SpanStore,
    /// Positions covered; `None` if the footer was lost (replay everything from the cut).
    pub covered: Option<Covered>,
    /// First WAL segment not covered.
    pub wal_start: u64,
    /// Damaged records met (0 or 1: loading stops at the first).
    pub corrupt: u64,
}

/// Loads a snapshot. I/O errors fail; damage is logged and loading keeps
/// whatever came before it, because refusing to start loses more data.
pub fn load(path: &Path, n: u64) -> Result<Loaded, StoreError> {
    let buf = crate::segment::read_file(path)?;
    let sc = scan(&buf);
    let mut out = Loaded {
        wal_start: n,
        ..Loaded::default()
    };
    let mut bad: Option<(u64, String)> = sc.damage.map(|d| (sc.valid_len, d));
    for (i, r) in sc.records.iter().enumerate() {
        let res = if i == 0 {
            check_header(r.kind, r.payload, n)
        } else {
            apply(&mut out, r.kind, r.payload)
        };
        if let Err(reason) = res {
            bad = Some((r.offset, reason));
            break;
        }
    }
    if let Some((offset, reason)) = bad {
        tracing::warn!(path = %path.display(), offset, %reason, "snapshot damaged; loading what precedes the damage");
        out.corrupt += 1;
    }
    Ok(out)
}

fn check_header(kind: u8, payload: &[u8], n: u64) -> DecResult<()> {
    let magic = payload.get(..MAGIC.len());
    if kind != HEADER || magic != Some(MAGIC) {
        return Err("missing snapshot header".into());
    }
    let mut d = Dec::new(&payload[MAGIC.len()..]);
    let (version, cut) = (d.uvarint()?, d.uvarint()?);
    if version != VERSION || cut != n {
        return Err(format!(
            "unsupported snapshot version {version} or cut {cut} != file name {n}"
        ));
    }
    Ok(())
}

fn apply(out: &mut Loaded, kind: u8, payload: &[u8]) -> DecResult<()> {
    let mut d = Dec::new(payload);
    if kind == FOOTER {
        let mut p = || {
            Ok::<_, String>(Pos {
                segment: d.uvarint()?,
                offset: d.uvarint()?,
            })
        };
        let cov = Covered {
            metrics: p()?,
            logs: p()?,
            spans: p()?,
        };
        out.head.bump_next_ref(d.uvarint()?);
        out.covered = Some(cov);
        return Ok(());
    }
    let items = d.count()?;
    for _ in 0..items {
        match kind {
            SERIES => {
                let r = d.uvarint()?;
                let labels = d.labels()?;
                let nchunks = d.count()?;
                let mut chunks = Vec::with_capacity(nchunks);
                for _ in 0..nchunks {
                    let count =
                        u16::try_from(d.uvarint()?).map_err(|_| "chunk sample count too large")?;
                    let bit_len = d.uvarint()?;
                    chunks.push(Chunk::from_parts(d.bytes()?.to_vec(), bit_len, count)?);
                }
                out.head.restore(r, labels, chunks);
            }
            LOGS => {
                let stream = d.labels()?;
                let c = d.count()?;
                for _ in 0..c {
                    let line = LogLine {
                        t_ns: d.ivarint()?,
                        line: d.string()?,
                        metadata: d.labels()?,
                    };
                    out.logs.push(&stream, line);
                }
            }
            SPANS => {
                let mut trace_id = [0u8; 16];
                for b in &mut trace_id {
                    *b = d.u8()?;
                }
                let span = SpanEntry {
                    trace_id,
                    t_ns: d.ivarint()?,
                    payload: d.bytes()?.to_vec(),
                };
                out.spans.append(std::slice::from_ref(&span));
            }
            k => return Err(format!("unknown snapshot record kind {k}")),
        }
    }
    Ok(())
}
