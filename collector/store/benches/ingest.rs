//! Ingest throughput (samples, logs, spans per second, fsync included) and
//! storage density (bytes/sample in memory, in the WAL, in a snapshot).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sextant_model::{Labels, LogEntry, Sample, Series, SpanEntry};
use sextant_store::{Store, StoreConfig};

const T0: i64 = 1_700_000_000_000;

fn labels(i: usize) -> Labels {
    Labels::from_pairs(vec![
        ("__name__".into(), format!("metric_{}", i % 50)),
        ("instance".into(), format!("host-{}:9100", i / 50)),
        ("job".into(), "node".into()),
    ])
}

/// Deterministic xorshift, so runs are comparable.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// 15-s scrape data as in the chunk test: counters, 2-decimal and page-size
/// gauges, constants; 1 % of scrapes a few ms late. `state` carries values
/// across calls so each batch continues the previous one.
fn batch(rng: &mut Rng, state: &mut [f64], step: usize, n: usize) -> Vec<Series> {
    state
        .iter_mut()
        .enumerate()
        .map(|(i, v)| Series {
            labels: labels(i),
            samples: (0..n)
                .map(|j| {
                    let k = (step * n + j) as i64;
                    let jitter = if rng.below(100) == 0 {
                        rng.below(5) as i64 + 1
                    } else {
                        0
                    };
                    *v = match i % 3 {
                        0 => *v + rng.below(20) as f64,
                        1 if i % 2 == 0 => {
                            ((*v * 100.0).round() + rng.below(41) as f64 - 20.0).max(0.0) / 100.0
                        }
                        1 => (*v + (rng.below(9) as f64 - 4.0) * 4096.0).max(0.0),
                        _ => 1.0,
                    };
                    Sample {
                        t: T0 + k * 15_000 + jitter,
                        v: *v,
                    }
                })
                .collect(),
        })
        .collect()
}

fn density() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path(), StoreConfig::default())?;
    let mut rng = Rng(42);
    let mut state = vec![1000.0; 1000];
    let steps = 5760 / 120; // one day at 15 s
    for step in 0..steps {
        store.append_samples(&batch(&mut rng, &mut state, step, 120))?;
    }
    let st = store.stats();
    let n = st.samples_in_memory as f64;
    println!(
        "density: {} samples, memory {:.3} B/sample (chunk bytes), WAL {:.3} B/sample",
        st.samples_in_memory,
        st.chunk_bytes as f64 / n,
        st.disk_bytes as f64 / n
    );
    let rep = store.maintain(T0 + 86_400_000)?;
    println!(
        "density: snapshot after maintain {:.3} B/sample on disk",
        rep.disk_bytes as f64 / n
    );
    Ok(())
}

fn bench(c: &mut Criterion) {
    if let Err(e) = density() {
        eprintln!("density run failed: {e}");
    }
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => return eprintln!("no temp dir: {e}"),
    };
    let store = match Store::open(dir.path(), StoreConfig::default()) {
        Ok(s) => s,
        Err(e) => return eprintln!("open failed: {e}"),
    };
    let mut g = c.benchmark_group("ingest");
    g.throughput(Throughput::Elements(100_000));
    let mut rng = Rng(7);
    let mut state = vec![1000.0; 1000];
    let mut step = 0;
    g.bench_function("append_samples 1000 series x 100", |b| {
        // Input generation is excluded from the timing.
        b.iter_batched(
            || {
                step += 1;
                batch(&mut rng, &mut state, step - 1, 100)
            },
            |data| black_box(store.append_samples(&data).ok()),
            BatchSize::PerIteration,
        )
    });
    g.throughput(Throughput::Elements(1000));
    let mut t = 0i64;
    g.bench_function("append_logs 1000", |b| {
        b.iter_batched(
            || {
                (0..1000)
                    .map(|i| {
                        t += 1;
                        LogEntry {
                            t_ns: t,
                            stream: Labels::from_pairs(vec![(
                                "service".into(),
                                format!("svc-{}", i % 10),
                            )]),
                            line: format!(
                                "GET /api/v1/items/{i} 200 {}ms user=alice request_id={t:016x}",
                                i % 97
                            ),
                            metadata: Labels::from_pairs(vec![(
                                "trace_id".into(),
                                format!("{t:032x}"),
                            )]),
                        }
                    })
                    .collect::<Vec<LogEntry>>()
            },
            |entries| black_box(store.append_logs(&entries).ok()),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("append_spans 1000", |b| {
        b.iter_batched(
            || {
                (0..1000u32)
                    .map(|i| {
                        t += 1;
                        let mut trace_id = [0u8; 16];
                        trace_id[..8].copy_from_slice(&(t as u64 / 8).to_le_bytes());
                        SpanEntry {
                            trace_id,
                            t_ns: t,
                            payload: vec![(i % 251) as u8; 200],
                        }
                    })
                    .collect::<Vec<SpanEntry>>()
            },
            |spans| black_box(store.append_spans(&spans).ok()),
            BatchSize::PerIteration,
        )
    });
    g.finish();
    let st = store.stats();
    println!(
        "after bench: {} samples, {} logs, {} spans, {} MB on disk",
        st.samples_in_memory,
        st.log_entries,
        st.spans,
        st.disk_bytes >> 20
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
