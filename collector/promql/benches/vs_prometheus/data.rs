//! The generated data set: 200 series per instance in ten jobs, and its
//! remote-write encoding.

/// xorshift64: the same data on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % 1_000_000) as f64 / 1_000_000.0
    }
}

/// How one series' values move.
#[derive(Clone, Copy)]
pub enum Shape {
    /// Increments of up to this much per sample.
    Counter(f64),
    /// Random walk around this level.
    Gauge(f64),
    /// A histogram bucket: this share of the observations.
    Bucket(f64),
    /// Always this value.
    Constant(f64),
}

/// A series' labels, `__name__` first.
pub type Labels = Vec<(String, String)>;

/// 200 series per instance, ten jobs; `n` is rounded to a multiple of 200.
pub fn series(n: usize) -> Vec<(Labels, Shape)> {
    let mut out = Vec::new();
    for i in 0..(n / 200).max(1) {
        let (job, inst) = (format!("job{}", i % 10), format!("i{i}"));
        let base = |name: &str| -> Labels {
            vec![
                ("__name__".into(), name.into()),
                ("job".into(), job.clone()),
                ("instance".into(), inst.clone()),
            ]
        };
        let with = |mut l: Labels, extra: &[(&str, String)]| {
            l.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
            l
        };
        for h in 0..10 {
            for m in ["GET", "POST"] {
                for (c, share) in [("200", 20.0), ("404", 2.0), ("500", 0.5), ("503", 0.2)] {
                    let l = with(
                        base("http_requests_total"),
                        &[
                            ("handler", format!("h{h}")),
                            ("method", m.into()),
                            ("code", c.into()),
                        ],
                    );
                    out.push((l, Shape::Counter(share)));
                }
            }
            for (le, share) in [
                ("0.005", 0.1),
                ("0.01", 0.2),
                ("0.025", 0.4),
                ("0.05", 0.6),
                ("0.1", 0.8),
                ("0.25", 0.9),
                ("1", 0.97),
                ("+Inf", 1.0),
            ] {
                let l = with(
                    base("http_request_duration_seconds_bucket"),
                    &[("handler", format!("h{h}")), ("le", le.into())],
                );
                out.push((l, Shape::Bucket(share)));
            }
        }
        for q in 0..10 {
            let l = with(base("queue_depth"), &[("queue", format!("q{q}"))]);
            out.push((l, Shape::Gauge(50.0)));
        }
        for cpu in 0..8 {
            for mode in ["user", "idle"] {
                let l = with(
                    base("node_cpu_seconds_total"),
                    &[("cpu", cpu.to_string()), ("mode", mode.into())],
                );
                out.push((l, Shape::Counter(30.0)));
            }
        }
        for d in 0..11 {
            let l = with(
                base("node_network_receive_bytes_total"),
                &[("device", format!("eth{d}"))],
            );
            out.push((l, Shape::Counter(1e6)));
        }
        out.push((base("node_memory_free_bytes"), Shape::Gauge(4e9)));
        out.push((base("process_cpu_seconds_total"), Shape::Counter(5.0)));
        out.push((base("up"), Shape::Constant(1.0)));
    }
    out
}

/// One series' samples; bucket series share a seed per histogram so their
/// counts stay cumulative (`le` ordered).
pub fn samples(idx: usize, shape: Shape, t0: i64, points: i64, step_ms: i64) -> Vec<(i64, f64)> {
    let seed = match shape {
        Shape::Bucket(_) => idx / 8,
        _ => idx,
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (seed as u64 + 1).wrapping_mul(0x2545_f491));
    let mut v = match shape {
        Shape::Gauge(level) => level,
        Shape::Constant(c) => c,
        _ => 0.0,
    };
    (0..points)
        .map(|i| {
            match shape {
                Shape::Counter(max) => v += (rng.next() * max).floor(),
                Shape::Bucket(share) => v += (rng.next() * 100.0).floor() * share,
                Shape::Gauge(level) => {
                    v = (v + (rng.next() - 0.5) * level * 0.05).max(0.0).round();
                }
                Shape::Constant(_) => {}
            }
            // Half a second off the minute: Prometheus 2.42's windows are
            // closed on the left, Prometheus 3's (and ours) open, so no
            // window edge may fall on a sample. 0.5 s is exact in binary,
            // so the OpenMetrics float seconds round-trip.
            (t0 + i * step_ms + 500, v.floor())
        })
        .collect()
}

/// Remote-write 1.0 protobuf (`WriteRequest`), snappy-compressed.
pub fn encode(batch: &[(Labels, Vec<(i64, f64)>)]) -> Vec<u8> {
    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    fn field(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
        out.push(tag);
        varint(out, body.len() as u64);
        out.extend_from_slice(body);
    }
    let mut req = Vec::new();
    for (labels, points) in batch {
        let mut ts = Vec::new();
        for (k, v) in labels {
            let mut l = Vec::new();
            field(&mut l, 0x0a, k.as_bytes());
            field(&mut l, 0x12, v.as_bytes());
            field(&mut ts, 0x0a, &l);
        }
        for (t, v) in points {
            let mut s = vec![0x09];
            s.extend_from_slice(&v.to_le_bytes());
            s.push(0x10);
            varint(&mut s, *t as u64);
            field(&mut ts, 0x12, &s);
        }
        field(&mut req, 0x0a, &ts);
    }
    snap::raw::Encoder::new()
        .compress_vec(&req)
        .expect("snappy-compress a request")
}
