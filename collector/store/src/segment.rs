//! Record framing shared by WAL segments and snapshot files:
//! `[len u32 LE][crc32 u32 LE][kind u8][payload; len bytes]`, the CRC
//! covering kind and payload. Scanning stops at the first record that does not
//! check out and reports where, so callers can truncate a torn tail or skip
//! the rest of a damaged file.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::StoreError;

/// Bytes before the payload.
pub const HEADER_LEN: usize = 9;
/// Largest payload accepted when reading; a bigger length means a damaged header.
pub const MAX_RECORD: usize = 256 << 20;

fn crc(kind: u8, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&[kind]);
    h.update(payload);
    h.finalize()
}

/// Appends one framed record to `out`.
pub fn frame(kind: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc(kind, payload).to_le_bytes());
    out.push(kind);
    out.extend_from_slice(payload);
}

/// One record found by [`scan`].
#[derive(Debug)]
pub struct Record<'a> {
    /// Offset of the record header in the file.
    pub offset: u64,
    /// Record kind.
    pub kind: u8,
    /// Payload bytes (CRC verified).
    pub payload: &'a [u8],
}

/// What [`scan`] found.
#[derive(Debug)]
pub struct Scan<'a> {
    /// Valid records in order.
    pub records: Vec<Record<'a>>,
    /// Length of the valid prefix.
    pub valid_len: u64,
    /// Why scanning stopped early, if it did.
    pub damage: Option<String>,
}

/// Splits `buf` into records, stopping at the first bad one.
pub fn scan(buf: &[u8]) -> Scan<'_> {
    let mut records = Vec::new();
    let mut pos = 0usize;
    let damage = loop {
        let rest = &buf[pos..];
        if rest.is_empty() {
            break None;
        }
        if rest.len() < HEADER_LEN {
            break Some(format!("truncated record header ({} bytes)", rest.len()));
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let want = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        let kind = rest[8];
        if len > MAX_RECORD {
            break Some(format!("record length {len} exceeds limit"));
        }
        let Some(payload) = rest.get(HEADER_LEN..HEADER_LEN + len) else {
            break Some(format!(
                "truncated record: need {len} payload bytes, have {}",
                rest.len() - HEADER_LEN
            ));
        };
        if crc(kind, payload) != want {
            break Some("checksum mismatch".to_string());
        }
        records.push(Record {
            offset: pos as u64,
            kind,
            payload,
        });
        pos += HEADER_LEN + len;
    };
    Scan {
        records,
        valid_len: pos as u64,
        damage,
    }
}

/// Reads a whole file (segments are bounded by the WAL's segment size).
pub fn read_file(path: &Path) -> Result<Vec<u8>, StoreError> {
    let mut buf = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut buf))
        .map_err(|e| StoreError::io(path, e))?;
    Ok(buf)
}

/// fsyncs a directory so a create, rename or delete inside it is durable.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_torn_tail_and_bad_crc() {
        let mut buf = Vec::new();
        frame(1, b"hello", &mut buf);
        let first = buf.len() as u64;
        frame(2, b"world!", &mut buf);
        let s = scan(&buf);
        assert_eq!(s.records.len(), 2);
        assert!(s.damage.is_none());

        let s = scan(&buf[..buf.len() - 2]);
        assert_eq!((s.records.len(), s.valid_len), (1, first));
        assert!(s.damage.is_some());

        let mut bad = buf.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        let s = scan(&bad);
        assert_eq!((s.records.len(), s.valid_len), (1, first));

        let s = scan(&[0u8; 40]);
        assert_eq!(s.records.len(), 0, "zeroes are not a valid record");
    }
}
