//! Bit-level writer and reader used by the Gorilla chunk encoding.
//!
//! The writer appends in place to a `Vec<u8>` so an open chunk grows without
//! re-encoding; the reader never panics on short input (it returns `None`),
//! because chunk bytes may come from a damaged snapshot.

/// Appends bits, most significant first, to a byte vector.
#[derive(Clone, Debug, Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    /// Number of bits used in the last byte (0 means the last byte is full or there is none).
    used: u8,
}

impl BitWriter {
    /// Resumes writing after `bit_len` bits of `bytes` (used when reloading an open chunk).
    pub fn from_parts(mut bytes: Vec<u8>, bit_len: u64) -> BitWriter {
        let full = bit_len.div_ceil(8) as usize;
        bytes.truncate(full);
        BitWriter {
            bytes,
            used: (bit_len % 8) as u8,
        }
    }

    /// Writes the low `n` bits of `value` (n <= 64).
    pub fn write_bits(&mut self, value: u64, n: u32) {
        let mut remaining = n;
        while remaining > 0 {
            if self.used == 0 {
                self.bytes.push(0);
            }
            let free = 8 - u32::from(self.used);
            let take = free.min(remaining);
            // Extract the next `take` bits of value from the top of what remains.
            let shift = remaining - take;
            let chunk = ((value >> shift) & ((1u64 << take) - 1)) as u8;
            if let Some(last) = self.bytes.last_mut() {
                *last |= chunk << (free - take);
            }
            self.used = ((u32::from(self.used) + take) % 8) as u8;
            remaining -= take;
        }
    }

    /// Writes one bit.
    pub fn write_bit(&mut self, bit: bool) {
        self.write_bits(u64::from(bit), 1);
    }

    /// The bytes written so far (the last may be partial).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Total number of bits written.
    pub fn bit_len(&self) -> u64 {
        let full = self.bytes.len() as u64 * 8;
        if self.used == 0 {
            full
        } else {
            full - 8 + u64::from(self.used)
        }
    }

    /// Releases spare capacity once a chunk is closed.
    pub fn shrink(&mut self) {
        self.bytes.shrink_to_fit();
    }
}

/// Reads bits, most significant first, from a byte slice.
#[derive(Clone, Debug)]
pub struct BitReader<'a> {
    bytes: &'a [u8],
    pos: u64,
    end: u64,
}

impl<'a> BitReader<'a> {
    /// Reads at most `bit_len` bits of `bytes`.
    pub fn new(bytes: &'a [u8], bit_len: u64) -> BitReader<'a> {
        let end = bit_len.min(bytes.len() as u64 * 8);
        BitReader { bytes, pos: 0, end }
    }

    /// Reads `n` bits (n <= 64) as the low bits of the result; `None` past the end.
    pub fn read_bits(&mut self, n: u32) -> Option<u64> {
        if n > 64 || self.pos + u64::from(n) > self.end {
            return None;
        }
        if n == 0 {
            return Some(0);
        }
        // Decoding is on every query's path: take the bits from one
        // big-endian 64-bit load (plus one byte when they straddle it)
        // rather than byte by byte.
        let first = (self.pos / 8) as usize;
        let offset = (self.pos % 8) as u32;
        let word = self.word_at(first);
        let mut out = (word << offset) >> (64 - n);
        if offset + n > 64 {
            let spill = offset + n - 64;
            let next = u64::from(*self.bytes.get(first + 8)?);
            out |= next >> (8 - spill);
        }
        self.pos += u64::from(n);
        Some(out)
    }

    /// Eight bytes from `at` as a big-endian word, zero-padded past the end.
    fn word_at(&self, at: usize) -> u64 {
        match self.bytes.get(at..at + 8) {
            Some(b) => {
                let mut w = [0u8; 8];
                w.copy_from_slice(b);
                u64::from_be_bytes(w)
            }
            None => {
                let mut w = [0u8; 8];
                let tail = self.bytes.get(at..).unwrap_or(&[]);
                w[..tail.len()].copy_from_slice(tail);
                u64::from_be_bytes(w)
            }
        }
    }

    /// Reads one bit.
    pub fn read_bit(&mut self) -> Option<bool> {
        if self.pos >= self.end {
            return None;
        }
        let byte = *self.bytes.get((self.pos / 8) as usize)?;
        let bit = (byte >> (7 - (self.pos % 8) as u32)) & 1;
        self.pos += 1;
        Some(bit == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_mixed_widths() {
        let mut w = BitWriter::default();
        let items: Vec<(u64, u32)> = vec![
            (1, 1),
            (0b101, 3),
            (u64::MAX, 64),
            (0, 7),
            (12345, 17),
            (1 << 63, 64),
            (0, 0),
        ];
        for &(v, n) in &items {
            w.write_bits(v, n);
        }
        let mut r = BitReader::new(w.bytes(), w.bit_len());
        for &(v, n) in &items {
            assert_eq!(r.read_bits(n), Some(v));
        }
        assert_eq!(
            r.read_bit(),
            None,
            "reading past the end must fail, not panic"
        );
    }

    #[test]
    fn resumes_from_parts() {
        let mut w = BitWriter::default();
        w.write_bits(0b10110, 5);
        let mut w2 = BitWriter::from_parts(w.bytes().to_vec(), w.bit_len());
        w2.write_bits(0b111, 3);
        w2.write_bits(0xAB, 8);
        let mut r = BitReader::new(w2.bytes(), w2.bit_len());
        assert_eq!(r.read_bits(5), Some(0b10110));
        assert_eq!(r.read_bits(3), Some(0b111));
        assert_eq!(r.read_bits(8), Some(0xAB));
    }

    proptest::proptest! {
        /// Any mix of widths at any bit offset reads back as written, and
        /// reading past the end fails instead of panicking.
        #[test]
        fn any_widths_round_trip(items in proptest::collection::vec((proptest::prelude::any::<u64>(), 0u32..=64), 0..200)) {
            let mut w = BitWriter::default();
            let masked: Vec<(u64, u32)> = items
                .iter()
                .map(|&(v, n)| (if n == 64 { v } else { v & ((1u64 << n) - 1) }, n))
                .collect();
            for &(v, n) in &masked {
                w.write_bits(v, n);
            }
            let mut r = BitReader::new(w.bytes(), w.bit_len());
            for &(v, n) in &masked {
                proptest::prop_assert_eq!(r.read_bits(n), Some(v));
            }
            proptest::prop_assert_eq!(r.read_bit(), None);
            proptest::prop_assert_eq!(r.read_bits(64), None);
        }
    }
}
