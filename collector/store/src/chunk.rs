//! Gorilla-style compressed sample chunks.
//!
//! Timestamps use delta-of-delta with variable-width buckets, as in Gorilla and
//! Prometheus. Values have two modes, picked per chunk from its first sample:
//!
//! * **XOR** (plain Gorilla): each value is XORed with the previous one and
//!   only the meaningful bits are written.
//! * **Decimal(k)**: most scraped values are decimals with few digits
//!   (counters are integers, gauges like `0.37`). If `v == n / 10^k` exactly
//!   for an integer `n`, we store the delta-of-delta of `n` in 1–38 bits.
//!   That beats XOR by a wide margin on counters and short decimals, which
//!   XOR encodes poorly because their mantissas differ in many bits. Values
//!   that are not exact decimals at scale `k` escape to XOR (or rescale to a
//!   larger `k`), so every f64 bit pattern — NaN payloads, stale markers,
//!   ±Inf, -0.0 — round-trips exactly.
//!
//! Encoder and decoder share one state machine ([`State`]) so they cannot drift.

use crate::bitstream::{BitReader, BitWriter};
use sextant_model::Sample;

/// Samples per chunk before it is closed and a new one is cut (as Prometheus).
pub const CHUNK_SAMPLES: u16 = 120;

/// Largest decimal scale tried; 10^15 is exact in f64.
const MAX_SCALE: u8 = 15;
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];
/// |n| must stay below 2^53 so `n as f64` is exact.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// `Some(n)` when `v` is exactly `n / 10^k` (bit for bit after the division).
fn decimal(v: f64, k: u8) -> Option<i64> {
    let scale = *POW10.get(usize::from(k))?;
    if !v.is_finite() {
        return None;
    }
    let x = (v * scale).round();
    if x.abs() >= MAX_EXACT {
        return None;
    }
    let n = x as i64;
    ((n as f64 / scale).to_bits() == v.to_bits()).then_some(n)
}

fn smallest_scale(v: f64, from: u8) -> Option<(u8, i64)> {
    (from..=MAX_SCALE).find_map(|k| decimal(v, k).map(|n| (k, n)))
}

/// Whether signed `v` fits in `bits` bits two's complement.
fn fits(v: i64, bits: u32) -> bool {
    let lim = 1i64 << (bits - 1);
    v >= -lim && v < lim
}

fn sign_extend(raw: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((raw << shift) as i64) >> shift
}

/// Timestamp delta-of-delta buckets: (prefix bits, prefix length, payload bits).
const T_BUCKETS: [(u64, u32, u32); 3] = [(0b10, 2, 7), (0b110, 3, 14), (0b1110, 4, 21)];
/// Decimal delta-of-delta buckets after the single `0` bit for "unchanged".
const N_BUCKETS: [(u64, u32, u32); 4] = [
    (0b10, 2, 4),
    (0b110, 3, 8),
    (0b1110, 4, 16),
    (0b11110, 5, 32),
];
const N_RESCALE: (u64, u32) = (0b111110, 6);
const N_XOR: (u64, u32) = (0b111111, 6);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Xor,
    Decimal(u8),
}

/// Encoder/decoder state after the last sample.
#[derive(Clone, Debug)]
struct State {
    count: u16,
    t: i64,
    t_delta: i64,
    v_bits: u64,
    /// XOR window of the last XOR-coded value; `None` before the first one.
    window: Option<(u32, u32)>,
    mode: Mode,
    n: i64,
    n_delta: i64,
    /// Samples that could not use the decimal path (drives the next chunk's mode).
    escapes: u16,
}

impl State {
    fn first(t: i64, v: f64, prefer_xor: bool) -> State {
        let (mode, n) = match smallest_scale(v, 0) {
            Some((k, n)) if !prefer_xor => (Mode::Decimal(k), n),
            _ => (Mode::Xor, 0),
        };
        State {
            count: 1,
            t,
            t_delta: 0,
            v_bits: v.to_bits(),
            window: None,
            mode,
            n,
            n_delta: 0,
            escapes: 0,
        }
    }

    /// Decimal bookkeeping shared by both directions: follow `v` if it is an
    /// exact decimal at the current scale, otherwise keep the old reference.
    fn observe_value(&mut self, v: f64) {
        self.v_bits = v.to_bits();
        if let Mode::Decimal(k) = self.mode
            && let Some(n) = decimal(v, k)
            && let Some(d) = n.checked_sub(self.n)
        {
            self.n_delta = d;
            self.n = n;
        }
    }

    fn write_first(&self, w: &mut BitWriter) {
        w.write_bits(self.t as u64, 64);
        match self.mode {
            Mode::Xor => w.write_bit(false),
            Mode::Decimal(k) => {
                w.write_bit(true);
                w.write_bits(u64::from(k), 4);
            }
        }
        w.write_bits(self.v_bits, 64);
    }

    fn read_first(r: &mut BitReader<'_>) -> Option<(State, Sample)> {
        let t = r.read_bits(64)? as i64;
        let mode = if r.read_bit()? {
            Mode::Decimal(r.read_bits(4)? as u8)
        } else {
            Mode::Xor
        };
        let v = f64::from_bits(r.read_bits(64)?);
        let n = match mode {
            Mode::Decimal(k) => decimal(v, k)?,
            Mode::Xor => 0,
        };
        let st = State {
            count: 1,
            t,
            t_delta: 0,
            v_bits: v.to_bits(),
            window: None,
            mode,
            n,
            n_delta: 0,
            escapes: 0,
        };
        Some((st, Sample { t, v }))
    }

    fn write_next(&mut self, w: &mut BitWriter, t: i64, v: f64) {
        let delta = t.wrapping_sub(self.t);
        let dod = delta.wrapping_sub(self.t_delta);
        if dod == 0 {
            w.write_bit(false);
        } else if let Some(&(p, pl, bits)) = T_BUCKETS.iter().find(|b| fits(dod, b.2)) {
            w.write_bits(p, pl);
            w.write_bits(dod as u64, bits);
        } else {
            w.write_bits(0b1111, 4);
            w.write_bits(dod as u64, 64);
        }
        self.t = t;
        self.t_delta = delta;
        self.write_value(w, v);
        self.count += 1;
    }

    fn write_value(&mut self, w: &mut BitWriter, v: f64) {
        let Mode::Decimal(k) = self.mode else {
            self.write_xor(w, v);
            return;
        };
        let dod = decimal(v, k)
            .and_then(|n| n.checked_sub(self.n))
            .and_then(|d| d.checked_sub(self.n_delta));
        match dod {
            Some(0) => w.write_bit(false),
            Some(dod) if fits(dod, 32) => {
                if let Some(&(p, pl, bits)) = N_BUCKETS.iter().find(|b| fits(dod, b.2)) {
                    w.write_bits(p, pl);
                    w.write_bits(dod as u64, bits);
                }
            }
            _ => {
                self.escapes += 1;
                if let (None, Some((k2, n))) = (dod, smallest_scale(v, k + 1)) {
                    // A finer decimal (23.4 then 23.45): switch scale for the rest of the chunk.
                    w.write_bits(N_RESCALE.0, N_RESCALE.1);
                    w.write_bits(u64::from(k2), 4);
                    w.write_bits(v.to_bits(), 64);
                    self.mode = Mode::Decimal(k2);
                    self.n = n;
                    self.n_delta = 0;
                    self.v_bits = v.to_bits();
                    return;
                }
                w.write_bits(N_XOR.0, N_XOR.1);
                self.write_xor(w, v);
                return;
            }
        }
        self.observe_value(v);
    }

    fn write_xor(&mut self, w: &mut BitWriter, v: f64) {
        let xor = v.to_bits() ^ self.v_bits;
        if xor == 0 {
            w.write_bit(false);
        } else {
            w.write_bit(true);
            let lead = xor.leading_zeros().min(31);
            let trail = xor.trailing_zeros();
            match self.window {
                Some((pl, pt)) if lead >= pl && trail >= pt => {
                    w.write_bit(false);
                    w.write_bits(xor >> pt, 64 - pl - pt);
                }
                _ => {
                    let sig = 64 - lead - trail;
                    w.write_bit(true);
                    w.write_bits(u64::from(lead), 5);
                    // 64 significant bits is stored as 0 (6 bits hold 0..=63).
                    w.write_bits(u64::from(sig % 64), 6);
                    w.write_bits(xor >> trail, sig);
                    self.window = Some((lead, trail));
                }
            }
        }
        self.observe_value(v);
    }

    fn read_next(&mut self, r: &mut BitReader<'_>) -> Option<Sample> {
        let mut prefix = 0u32;
        while prefix < 4 && r.read_bit()? {
            prefix += 1;
        }
        let dod = match prefix {
            0 => 0,
            1..=3 => {
                let bits = T_BUCKETS[prefix as usize - 1].2;
                sign_extend(r.read_bits(bits)?, bits)
            }
            _ => r.read_bits(64)? as i64,
        };
        self.t_delta = self.t_delta.wrapping_add(dod);
        self.t = self.t.wrapping_add(self.t_delta);
        let v = self.read_value(r)?;
        self.count += 1;
        Some(Sample { t: self.t, v })
    }

    fn read_value(&mut self, r: &mut BitReader<'_>) -> Option<f64> {
        let Mode::Decimal(k) = self.mode else {
            return self.read_xor(r);
        };
        let mut prefix = 0u32;
        while prefix < 6 && r.read_bit()? {
            prefix += 1;
        }
        let dod = match prefix {
            0 => 0,
            1..=4 => {
                let bits = N_BUCKETS[prefix as usize - 1].2;
                sign_extend(r.read_bits(bits)?, bits)
            }
            5 => {
                self.escapes += 1;
                let k2 = r.read_bits(4)? as u8;
                let v = f64::from_bits(r.read_bits(64)?);
                self.mode = Mode::Decimal(k2);
                self.n = decimal(v, k2)?;
                self.n_delta = 0;
                self.v_bits = v.to_bits();
                return Some(v);
            }
            _ => {
                self.escapes += 1;
                return self.read_xor(r);
            }
        };
        let n_delta = self.n_delta.checked_add(dod)?;
        let n = self.n.checked_add(n_delta)?;
        let v = n as f64 / *POW10.get(usize::from(k))?;
        // What `observe_value(v)` would find, known without re-deriving `n`
        // from `v`: the encoder took this path only for exact decimals.
        self.v_bits = v.to_bits();
        self.n_delta = n_delta;
        self.n = n;
        Some(v)
    }

    fn read_xor(&mut self, r: &mut BitReader<'_>) -> Option<f64> {
        if r.read_bit()? {
            let (lead, trail) = if r.read_bit()? {
                let lead = r.read_bits(5)? as u32;
                let sig = match r.read_bits(6)? as u32 {
                    0 => 64,
                    s => s,
                };
                let trail = 64u32.checked_sub(lead + sig)?;
                self.window = Some((lead, trail));
                (lead, trail)
            } else {
                self.window?
            };
            let sig = 64 - lead - trail;
            let bits = r.read_bits(sig)?;
            self.v_bits ^= if trail >= 64 { 0 } else { bits << trail };
        }
        let v = f64::from_bits(self.v_bits);
        self.observe_value(v);
        Some(v)
    }
}

/// One compressed run of at most [`CHUNK_SAMPLES`] samples of one series.
#[derive(Clone, Debug)]
pub struct Chunk {
    bits: BitWriter,
    min_t: i64,
    prefer_xor: bool,
    state: Option<State>,
}

impl Chunk {
    /// An empty chunk. `prefer_xor` skips decimal mode when the previous chunk
    /// of the series was mostly escapes (values that are not short decimals).
    pub fn new(prefer_xor: bool) -> Chunk {
        Chunk {
            bits: BitWriter::default(),
            min_t: i64::MAX,
            prefer_xor,
            state: None,
        }
    }

    /// Appends a sample; the caller guarantees `t` is after [`Chunk::max_t`].
    pub fn append(&mut self, t: i64, v: f64) {
        match &mut self.state {
            None => {
                let st = State::first(t, v, self.prefer_xor);
                st.write_first(&mut self.bits);
                self.min_t = t;
                self.state = Some(st);
            }
            Some(st) => st.write_next(&mut self.bits, t, v),
        }
        if self.is_full() {
            self.bits.shrink();
        }
    }

    /// Number of samples.
    pub fn len(&self) -> u16 {
        self.state.as_ref().map_or(0, |s| s.count)
    }

    /// Whether the chunk is closed to further appends.
    pub fn is_full(&self) -> bool {
        self.len() >= CHUNK_SAMPLES
    }

    /// Whether more than half the samples escaped decimal mode.
    pub fn mostly_escapes(&self) -> bool {
        self.state
            .as_ref()
            .is_some_and(|s| s.mode == Mode::Xor || s.escapes * 2 > s.count)
    }

    /// First timestamp (i64::MAX when empty).
    pub fn min_t(&self) -> i64 {
        if self.state.is_none() {
            i64::MAX
        } else {
            self.min_t
        }
    }

    /// Last timestamp (i64::MIN when empty).
    pub fn max_t(&self) -> i64 {
        self.state.as_ref().map_or(i64::MIN, |s| s.t)
    }

    /// Last sample, used for out-of-order and duplicate checks.
    pub fn last(&self) -> Option<Sample> {
        self.state.as_ref().map(|s| Sample {
            t: s.t,
            v: f64::from_bits(s.v_bits),
        })
    }

    /// The encoded bytes (for stats and snapshots).
    pub fn bytes(&self) -> &[u8] {
        self.bits.bytes()
    }

    /// Number of meaningful bits in [`Chunk::bytes`].
    pub fn bit_len(&self) -> u64 {
        self.bits.bit_len()
    }

    /// Decodes every sample. Stops early (returning what decoded) on damage,
    /// which CRCs make unlikely; never panics.
    pub fn samples(&self) -> Vec<Sample> {
        decode(self.bits.bytes(), self.bits.bit_len(), self.len())
            .map_or_else(|(s, _)| s, |(s, _)| s)
    }

    /// Appends the samples with `start <= t <= end` to `out`, decoding no
    /// further than `end`: reads of recent data stop early in the open chunk.
    pub fn samples_between(&self, start: i64, end: i64, out: &mut Vec<Sample>) {
        let mut r = BitReader::new(self.bits.bytes(), self.bits.bit_len());
        let count = usize::from(self.len());
        let Some((mut st, first)) = State::read_first(&mut r) else {
            return;
        };
        let mut next = Some(first);
        let mut read = 1;
        while let Some(s) = next {
            if s.t > end {
                return;
            }
            if s.t >= start {
                out.push(s);
            }
            next = if read < count {
                st.read_next(&mut r)
            } else {
                None
            };
            read += 1;
        }
    }

    /// Rebuilds a chunk (including its encoder state, so an open chunk can be
    /// appended to in place) from snapshot bytes; fails if they do not decode.
    pub fn from_parts(bytes: Vec<u8>, bit_len: u64, count: u16) -> Result<Chunk, String> {
        if count == 0 {
            return Err("empty chunk".into());
        }
        let (samples, state) = decode(&bytes, bit_len, count)
            .map_err(|(s, _)| format!("chunk decodes only {} of {count} samples", s.len()))?;
        let min_t = samples.first().map_or(i64::MAX, |s| s.t);
        Ok(Chunk {
            bits: BitWriter::from_parts(bytes, bit_len),
            min_t,
            prefer_xor: false,
            state,
        })
    }
}

type Decoded = (Vec<Sample>, Option<State>);

fn decode(bytes: &[u8], bit_len: u64, count: u16) -> Result<Decoded, Decoded> {
    let mut r = BitReader::new(bytes, bit_len);
    let mut out = Vec::with_capacity(usize::from(count));
    if count == 0 {
        return Ok((out, None));
    }
    let Some((mut st, first)) = State::read_first(&mut r) else {
        return Err((out, None));
    };
    out.push(first);
    while out.len() < usize::from(count) {
        match st.read_next(&mut r) {
            Some(s) => out.push(s),
            None => return Err((out, Some(st))),
        }
    }
    Ok((out, Some(st)))
}

#[cfg(test)]
#[path = "chunk_tests.rs"]
mod tests;
