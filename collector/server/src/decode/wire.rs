//! The protobuf wire pre-scan: walks a message's bytes (tags, varints,
//! length-delimited fields) against the static [`schema`](super::schema)
//! before prost materializes anything, counting the limited items and
//! estimating what decoding would allocate.
//!
//! Leaf messages (only singular strings and scalars: a remote-write
//! `Label` or `Sample`) are not walked: what they decode to is their
//! struct plus at most their own bytes, and prost checks their syntax.
//!
//! **Invariant:** the scan allocates nothing, recurses at most
//! [`MAX_DEPTH`] messages deep, and reads every byte at most once, so a
//! hostile body costs one linear pass and no memory before it is refused.

use super::schema::{Field, Item, Kind, Message};

/// The deepest nesting accepted: prost's own recursion limit.
pub const MAX_DEPTH: usize = 100;

/// How far `Vec` growth can overshoot: a doubling `Vec` holds at most
/// twice what it needs…
const VEC_GROWTH: u64 = 2;
/// …except at first: Rust's smallest non-empty `Vec` of small elements
/// has room for four, so the first element of each `Vec` is charged four.
const VEC_FIRST: u64 = 4;

/// What a scan found: how many of each item, and the estimated bytes the
/// decoded message would take.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Items counted, indexed by [`Item::index`].
    pub items: [u64; Item::ALL.len()],
    /// Estimated decoded size in bytes: struct sizes (doubled for `Vec`
    /// growth) plus string and bytes lengths.
    pub estimate: u64,
}

impl Tally {
    /// How many `item`s were counted.
    pub fn count(&self, item: Item) -> u64 {
        self.items[item.index()]
    }
}

/// Why bytes are not a well-formed message; the offset is from the start
/// of the scanned body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The bytes end inside a tag, varint, fixed-width value or length.
    #[error("truncated {what} at byte {at}")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Where it started.
        at: usize,
    },
    /// A varint longer than 10 bytes.
    #[error("varint longer than 10 bytes at byte {at}")]
    LongVarint {
        /// Where it started.
        at: usize,
    },
    /// Field number 0, which protobuf reserves.
    #[error("field number 0 at byte {at}")]
    FieldZero {
        /// Where the tag is.
        at: usize,
    },
    /// Wire types 3 and 4 (groups), deprecated and in no OTLP or
    /// remote-write message.
    #[error(
        "group (wire type {wire}) in field {field} of {message} at byte {at}: groups are not accepted"
    )]
    Group {
        /// The wire type.
        wire: u8,
        /// The field number.
        field: u64,
        /// The message it is in.
        message: &'static str,
        /// Where the tag is.
        at: usize,
    },
    /// Wire types 6 and 7, which do not exist.
    #[error("invalid wire type {wire} at byte {at}")]
    InvalidWireType {
        /// The wire type.
        wire: u8,
        /// Where the tag is.
        at: usize,
    },
    /// A known message, string or bytes field not length-delimited.
    #[error("{message}.{field} has wire type {wire}, not length-delimited, at byte {at}")]
    WrongWireType {
        /// The message.
        message: &'static str,
        /// The field name.
        field: &'static str,
        /// The wire type found.
        wire: u8,
        /// Where the tag is.
        at: usize,
    },
    /// Messages nested deeper than [`MAX_DEPTH`].
    #[error("messages nested deeper than {MAX_DEPTH} at byte {at}")]
    TooDeep {
        /// Where the too-deep message starts.
        at: usize,
    },
}

/// Scans `bytes` as one `root` message.
pub fn scan(bytes: &[u8], root: &'static Message) -> Result<Tally, WireError> {
    let mut tally = Tally {
        estimate: root.size as u64,
        ..Tally::default()
    };
    walk(bytes, 0, root, 0, &mut tally)?;
    Ok(tally)
}

/// Reads a varint at `*pos`, advancing past it.
fn varint(buf: &[u8], pos: &mut usize, base: usize, what: &'static str) -> Result<u64, WireError> {
    let start = *pos;
    let mut value = 0u64;
    for i in 0..10 {
        let Some(&b) = buf.get(*pos) else {
            return Err(WireError::Truncated {
                what,
                at: base + start,
            });
        };
        *pos += 1;
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(WireError::LongVarint { at: base + start })
}

/// Advances `*pos` by `n` bytes, which must be there.
fn skip(
    buf: &[u8],
    pos: &mut usize,
    n: usize,
    base: usize,
    what: &'static str,
) -> Result<(), WireError> {
    let at = base + *pos;
    match pos.checked_add(n) {
        Some(end) if end <= buf.len() => {
            *pos = end;
            Ok(())
        }
        _ => Err(WireError::Truncated { what, at }),
    }
}

/// Walks the fields of one `msg` in `buf`, which starts at `base` in the body.
fn walk(
    buf: &[u8],
    base: usize,
    msg: &'static Message,
    depth: usize,
    tally: &mut Tally,
) -> Result<(), WireError> {
    let mut pos = 0;
    // which of `msg.fields` already has a `Vec` in this message
    let mut started: u64 = 0;
    while pos < buf.len() {
        let tag_at = base + pos;
        let key = varint(buf, &mut pos, base, "tag")?;
        let number = key >> 3;
        let wire = (key & 7) as u8;
        if number == 0 {
            return Err(WireError::FieldZero { at: tag_at });
        }
        let slot = msg
            .fields
            .iter()
            .position(|f| u64::from(f.number) == number);
        let field = slot.map(|i| &msg.fields[i]);
        let first = slot.is_some_and(|i| started & (1 << i) == 0);
        if let Some(i) = slot {
            started |= 1 << i;
        }
        let growth = if first { VEC_FIRST } else { VEC_GROWTH };
        match wire {
            0 => {
                varint(buf, &mut pos, base, "varint")?;
                charge_unpacked(field, growth, tally);
            }
            1 => {
                skip(buf, &mut pos, 8, base, "fixed64")?;
                charge_unpacked(field, growth, tally);
            }
            5 => skip(buf, &mut pos, 4, base, "fixed32")?,
            2 => {
                let len = varint(buf, &mut pos, base, "length")?;
                let start = pos;
                let len = usize::try_from(len).map_err(|_| WireError::Truncated {
                    what: "length-delimited field",
                    at: tag_at,
                })?;
                skip(buf, &mut pos, len, base, "length-delimited field")?;
                if let Some(field) = field {
                    let body = &buf[start..pos];
                    delimited(field, body, base + start, depth, growth, tally)?;
                }
            }
            3 | 4 => {
                return Err(WireError::Group {
                    wire,
                    field: number,
                    message: msg.name,
                    at: tag_at,
                });
            }
            _ => return Err(WireError::InvalidWireType { wire, at: tag_at }),
        }
        if let (Some(field), 0 | 1 | 5) = (field, wire)
            && !matches!(field.kind, Kind::Packed { .. })
        {
            return Err(WireError::WrongWireType {
                message: msg.name,
                field: field.name,
                wire,
                at: tag_at,
            });
        }
    }
    Ok(())
}

/// One unpacked element of a repeated scalar: one `Vec` slot, doubled.
fn charge_unpacked(field: Option<&Field>, growth: u64, tally: &mut Tally) {
    if let Some(Field {
        kind: Kind::Packed { .. },
        ..
    }) = field
    {
        tally.estimate += 8 * growth;
    }
}

/// Charges (and for messages, walks) one length-delimited known field.
fn delimited(
    field: &Field,
    body: &[u8],
    base: usize,
    depth: usize,
    growth: u64,
    tally: &mut Tally,
) -> Result<(), WireError> {
    match field.kind {
        Kind::Message {
            of,
            repeated,
            counts,
        } => {
            if depth + 1 >= MAX_DEPTH {
                return Err(WireError::TooDeep { at: base });
            }
            if repeated {
                tally.estimate += of.size as u64 * growth;
            }
            if let Some(item) = counts {
                tally.items[item.index()] += 1;
            }
            if of.is_leaf() {
                // its strings hold at most its bytes; prost checks the rest
                tally.estimate += body.len() as u64;
                return Ok(());
            }
            walk(body, base, of, depth + 1, tally)
        }
        Kind::Bytes { repeated } => {
            tally.estimate += body.len() as u64;
            if repeated {
                tally.estimate += 24 * growth;
            }
            Ok(())
        }
        Kind::Packed { min_wire } => {
            let elements = (body.len() / min_wire) as u64;
            tally.estimate += (elements * VEC_GROWTH + VEC_FIRST) * 8;
            Ok(())
        }
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
