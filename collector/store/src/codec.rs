//! Byte-level encoding shared by WAL records and snapshot records: varints,
//! length-prefixed strings and label sets. Decoding never panics; it reports
//! what was malformed so the caller can name the file and offset.

use sextant_model::Labels;

/// Appends primitive values to a record payload.
#[derive(Debug, Default)]
pub struct Enc {
    /// The encoded bytes.
    pub buf: Vec<u8>,
}

impl Enc {
    /// Unsigned LEB128 varint.
    pub fn uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    /// Zigzag signed varint: small magnitudes of either sign stay short.
    pub fn ivarint(&mut self, v: i64) {
        self.uvarint(((v << 1) ^ (v >> 63)) as u64);
    }

    /// Length-prefixed bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.uvarint(b.len() as u64);
        self.buf.extend_from_slice(b);
    }

    /// Length-prefixed UTF-8.
    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    /// A label set: count, then name/value pairs.
    pub fn labels(&mut self, l: &Labels) {
        self.uvarint(l.pairs().len() as u64);
        for (k, v) in l.pairs() {
            self.str(k);
            self.str(v);
        }
    }
}

/// Reads primitive values from a record payload.
#[derive(Debug)]
pub struct Dec<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// Result of decoding: the error is a human-readable reason.
pub type DecResult<T> = Result<T, String>;

impl<'a> Dec<'a> {
    /// Starts decoding `buf`.
    pub fn new(buf: &'a [u8]) -> Dec<'a> {
        Dec { buf, pos: 0 }
    }

    /// Whether all bytes have been consumed.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// See [`Enc::uvarint`].
    pub fn uvarint(&mut self) -> DecResult<u64> {
        let mut out = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or("truncated varint")?;
            self.pos += 1;
            out |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(out);
            }
        }
        Err("varint too long".into())
    }

    /// See [`Enc::ivarint`].
    pub fn ivarint(&mut self) -> DecResult<i64> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// A count that must not exceed the remaining bytes (each item takes at
    /// least one byte), so a corrupt count cannot trigger a huge allocation.
    pub fn count(&mut self) -> DecResult<usize> {
        let n = self.uvarint()?;
        if n > (self.buf.len() - self.pos.min(self.buf.len())) as u64 {
            return Err(format!("count {n} exceeds remaining bytes"));
        }
        Ok(n as usize)
    }

    /// One byte.
    pub fn u8(&mut self) -> DecResult<u8> {
        Ok(self.take(1)?[0])
    }

    fn take(&mut self, n: usize) -> DecResult<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or("length overflow")?;
        let s = self.buf.get(self.pos..end).ok_or("truncated field")?;
        self.pos = end;
        Ok(s)
    }

    /// See [`Enc::bytes`].
    pub fn bytes(&mut self) -> DecResult<&'a [u8]> {
        let n = self.uvarint()?;
        let n = usize::try_from(n).map_err(|_| "length overflow")?;
        self.take(n)
    }

    /// See [`Enc::str`].
    pub fn string(&mut self) -> DecResult<String> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| "invalid UTF-8".to_string())
    }

    /// See [`Enc::labels`].
    pub fn labels(&mut self) -> DecResult<Labels> {
        let n = self.count()?;
        let mut pairs = Vec::with_capacity(n);
        for _ in 0..n {
            let k = self.string()?;
            let v = self.string()?;
            pairs.push((k, v));
        }
        Ok(Labels::from_pairs(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() -> Result<(), String> {
        let mut e = Enc::default();
        let labels = Labels::from_pairs(vec![
            ("a".into(), "1".into()),
            ("__name__".into(), "m".into()),
        ]);
        e.uvarint(u64::MAX);
        e.ivarint(i64::MIN);
        e.ivarint(-3);
        e.labels(&labels);
        let mut d = Dec::new(&e.buf);
        assert_eq!(d.uvarint()?, u64::MAX);
        assert_eq!(d.ivarint()?, i64::MIN);
        assert_eq!(d.ivarint()?, -3);
        assert_eq!(d.labels()?, labels);
        assert!(d.is_empty());
        Ok(())
    }

    #[test]
    fn truncated_input_is_an_error() {
        let mut e = Enc::default();
        e.str("hello");
        let mut d = Dec::new(&e.buf[..3]);
        assert!(d.string().is_err());
        let mut d = Dec::new(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(
            d.count().is_err(),
            "a huge count must be rejected before allocating"
        );
    }
}
