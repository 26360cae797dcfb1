//! Chunk round trips, a property test and the compression-ratio check.

use super::*;
use proptest::prelude::*;

const STALE: u64 = 0x7ff0000000000002;

fn encode_all(samples: &[(i64, f64)]) -> Vec<Chunk> {
    let mut chunks: Vec<Chunk> = Vec::new();
    for &(t, v) in samples {
        let prefer_xor = chunks.last().is_some_and(|c| c.mostly_escapes());
        if chunks.last().is_none_or(|c| c.is_full()) {
            chunks.push(Chunk::new(prefer_xor));
        }
        if let Some(c) = chunks.last_mut() {
            c.append(t, v);
        }
    }
    chunks
}

fn assert_bit_exact(samples: &[(i64, f64)], chunks: &[Chunk]) {
    let decoded: Vec<Sample> = chunks.iter().flat_map(|c| c.samples()).collect();
    assert_eq!(decoded.len(), samples.len());
    for (d, &(t, v)) in decoded.iter().zip(samples) {
        assert_eq!(d.t, t);
        assert_eq!(
            d.v.to_bits(),
            v.to_bits(),
            "value at t={t}: want {v:?} got {:?}",
            d.v
        );
    }
}

#[test]
fn special_values_round_trip() {
    let vals = [
        0.0,
        -0.0,
        1.0,
        f64::from_bits(STALE),
        f64::NAN,
        f64::from_bits(0xfff8_dead_beef_0001),
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MIN_POSITIVE,
        5e-324,
        f64::MAX,
        23.4,
        23.45,
        23.456,
        1e300,
        0.1 + 0.2,
        42.0,
        42.0,
        f64::from_bits(STALE),
        7.0,
    ];
    let samples: Vec<(i64, f64)> = vals
        .iter()
        .enumerate()
        .map(|(i, &v)| (1_700_000_000_000 + i as i64 * 15_000, v))
        .collect();
    assert_bit_exact(&samples, &encode_all(&samples));
    // Same values but starting in XOR mode.
    let mut shifted = samples.clone();
    shifted[0].1 = 0.1 + 0.2;
    assert_bit_exact(&shifted, &encode_all(&shifted));
}

#[test]
fn extreme_timestamps_round_trip() {
    let samples = vec![
        (i64::MIN + 1, 1.0),
        (-5, 2.0),
        (0, 3.0),
        (1, 4.0),
        (i64::MAX - 1, 5.0),
        (i64::MAX, 6.0),
    ];
    assert_bit_exact(&samples, &encode_all(&samples));
}

#[test]
fn open_chunk_resumes_after_reload() -> Result<(), String> {
    let mut c = Chunk::new(false);
    for i in 0..50 {
        c.append(i * 15_000, (i * 3) as f64 / 10.0);
    }
    let mut c2 = Chunk::from_parts(c.bytes().to_vec(), c.bit_len(), c.len())?;
    for i in 50..120 {
        c.append(i * 15_000, (i * 3) as f64 / 10.0);
        c2.append(i * 15_000, (i * 3) as f64 / 10.0);
    }
    assert_eq!(
        c.bytes(),
        c2.bytes(),
        "resumed encoder must produce identical bits"
    );
    assert!(
        Chunk::from_parts(vec![1, 2, 3], 24, 5).is_err(),
        "garbage must not decode"
    );
    Ok(())
}

fn value_strategy() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u64>().prop_map(f64::from_bits),
        (-1_000_000i64..1_000_000, 0u32..4).prop_map(|(n, k)| n as f64 / 10f64.powi(k as i32)),
        Just(f64::from_bits(STALE)),
        Just(f64::INFINITY),
        Just(-0.0),
        Just(1.0),
    ]
}

proptest! {
    #[test]
    fn random_sequences_round_trip(
        start in any::<i32>(),
        steps in proptest::collection::vec((prop_oneof![Just(15_000i64), 1i64..100, 1i64..10_000_000_000], value_strategy()), 1..400),
    ) {
        let mut t = i64::from(start);
        let mut samples = Vec::new();
        for (dt, v) in steps {
            t += dt;
            samples.push((t, v));
        }
        assert_bit_exact(&samples, &encode_all(&samples));
    }

    /// A partial read returns exactly the full decode's samples in range.
    #[test]
    fn samples_between_is_a_filtered_decode(
        steps in proptest::collection::vec((1i64..30_000, value_strategy()), 1..300),
        from in 0i64..4_000_000,
        len in 0i64..4_000_000,
    ) {
        let mut t = 0;
        let samples: Vec<(i64, f64)> = steps.iter().map(|&(dt, v)| { t += dt; (t, v) }).collect();
        for c in encode_all(&samples) {
            let want: Vec<(i64, u64)> = c.samples().iter().filter(|s| s.t >= from && s.t <= from + len).map(|s| (s.t, s.v.to_bits())).collect();
            let mut got = Vec::new();
            c.samples_between(from, from + len, &mut got);
            let got: Vec<(i64, u64)> = got.iter().map(|s| (s.t, s.v.to_bits())).collect();
            prop_assert_eq!(got, want);
        }
    }
}

/// Tiny deterministic PRNG so the data set is reproducible without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Realistic 15-s scrape data: one third counters (small random integer
/// increments), one third gauges (2-decimal random walks, and byte counts in
/// 4 KiB pages), one third constants; 1 % of scrapes are a few ms late.
pub(crate) fn scrape_dataset(series: usize, samples_per_series: usize) -> Vec<Vec<(i64, f64)>> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let t0 = 1_700_000_000_000i64;
    (0..series)
        .map(|i| {
            let mut out = Vec::with_capacity(samples_per_series);
            let mut counter = rng.below(1_000_000) as f64;
            let mut gauge = rng.below(10_000) as i64;
            let constant = [1.0, 0.0, 4.0, 1_699_999_000.0][i % 4];
            for j in 0..samples_per_series {
                let jitter = if rng.below(100) == 0 {
                    rng.below(5) as i64 + 1
                } else {
                    0
                };
                let t = t0 + j as i64 * 15_000 + jitter;
                let v = match i % 3 {
                    0 => {
                        counter += rng.below(20) as f64;
                        counter
                    }
                    1 if i % 2 == 0 => {
                        gauge = (gauge + rng.below(41) as i64 - 20).max(0);
                        gauge as f64 / 100.0
                    }
                    1 => {
                        gauge = (gauge + rng.below(9) as i64 - 4).max(0);
                        (gauge * 4096) as f64
                    }
                    _ => constant,
                };
                out.push((t, v));
            }
            out
        })
        .collect()
}

#[test]
fn bytes_per_sample_on_scrape_data() {
    let data = scrape_dataset(1000, 5760); // 1000 series x 1 day at 15 s
    let mut bytes = 0usize;
    let mut samples = 0usize;
    for series in &data {
        let chunks = encode_all(series);
        bytes += chunks.iter().map(|c| c.bytes().len()).sum::<usize>();
        samples += series.len();
        if samples <= series.len() * 3 {
            assert_bit_exact(series, &chunks);
        }
    }
    let per = bytes as f64 / samples as f64;
    println!("chunk encoding: {samples} samples in {bytes} bytes = {per:.3} bytes/sample");
    assert!(per <= 1.5, "compression goal missed: {per:.3} bytes/sample");
}
