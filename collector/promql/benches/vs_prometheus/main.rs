//! Query latency and peak memory, side by side with a real Prometheus, on
//! the same machine and the same data.
//!
//! 1. Generates a dashboard-like data set (`--series`, default 10,000, over
//!    `--hours`, default 24, one sample every `--interval` seconds, default
//!    60): counters by code and method, classic histograms, node gauges.
//! 2. Loads it into Prometheus with `promtool tsdb create-blocks-from
//!    openmetrics` (old data cannot be remote-written into a fresh head) and
//!    into the collector by remote-write (its store takes any age).
//! 3. Starts both and runs ten dashboard queries `--runs` times each (after
//!    one warm-up): instant at the data's end, range over the whole span at
//!    a 5-minute step. Prints the median latency of each side, the ratio
//!    (collector / Prometheus), whether the answers agree, and each
//!    process's peak RSS (`VmHWM`).
//!
//! Run: `cargo build --release --bin sextant && cargo bench -p sextant-promql
//! --bench vs_prometheus -- --series 10000 --hours 24`. Needs `prometheus`
//! and `promtool` on `PATH` (Debian's package).

use std::io::{BufWriter, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

mod data;

use data::{Labels, encode, samples, series};

/// The ten dashboard queries.
const QUERIES: [&str; 10] = [
    "sum by (job) (rate(http_requests_total[5m]))",
    "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m])) / sum by (job) (rate(http_requests_total[5m]))",
    "histogram_quantile(0.99, sum by (job, le) (rate(http_request_duration_seconds_bucket[5m])))",
    "topk(5, sum by (instance) (rate(http_requests_total[5m])))",
    "avg by (job) (node_memory_free_bytes)",
    "count by (job) (up == 1)",
    "sum by (instance) (rate(node_cpu_seconds_total{mode!=\"idle\"}[5m]))",
    "max_over_time(queue_depth{queue=\"q0\"}[1h])",
    "sum by (job) (increase(node_network_receive_bytes_total[1h]))",
    "quantile_over_time(0.9, node_memory_free_bytes[30m])",
];

struct Args {
    series: usize,
    hours: i64,
    interval_s: i64,
    runs: usize,
    sextant: PathBuf,
    dir: Option<PathBuf>,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        series: 10_000,
        hours: 24,
        interval_s: 60,
        runs: 5,
        sextant: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/sextant"),
        dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |v: String| {
            v.parse::<i64>()
                .map_err(|_| format!("{v:?} is not a number"))
        };
        match flag.as_str() {
            "--series" => a.series = num(value()?)?.max(200) as usize,
            "--hours" => a.hours = num(value()?)?.max(1),
            "--interval" => a.interval_s = num(value()?)?.max(1),
            "--runs" => a.runs = num(value()?)?.max(1) as usize,
            "--sextant" => a.sextant = PathBuf::from(value()?),
            "--dir" => a.dir = Some(PathBuf::from(value()?)),
            "--bench" => {} // cargo bench passes it
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

fn free_addr() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local address").to_string()
}

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `VmHWM` (peak resident set) of a process, in MiB.
fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn wait_ready(url: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(600);
    while ureq::get(url).call().is_err() {
        assert!(Instant::now() < deadline, "{what} did not become ready");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn get(addr: &str, path_and_query: &str) -> Value {
    let url = format!("http://{addr}{path_and_query}");
    let body = ureq::get(&url)
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .expect("GET")
        .into_body()
        .with_config()
        .limit(256 << 20)
        .read_to_string()
        .expect("body");
    serde_json::from_str(&body).unwrap_or(Value::String(body))
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Series count and a sorted (labels, last value) digest, to check both
/// sides answered the same thing.
fn digest(v: &Value) -> Result<Vec<(String, f64)>, String> {
    if v["status"] != "success" {
        return Err(format!("{}: {}", v["errorType"], v["error"]));
    }
    let mut rows: Vec<(String, f64)> = v["data"]["result"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let last = s
                .get("values")
                .and_then(|vs| vs.as_array()?.last().cloned())
                .or_else(|| s.get("value").cloned())
                .unwrap_or(Value::Null);
            let x = last[1]
                .as_str()
                .and_then(|x| x.parse().ok())
                .unwrap_or(f64::NAN);
            (s["metric"].to_string(), x)
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(rows)
}

fn agree(a: &Value, b: &Value) -> bool {
    match (digest(a), digest(b)) {
        (Ok(x), Ok(y)) => {
            x.len() == y.len()
                && x.iter().zip(&y).all(|(p, q)| {
                    p.0 == q.0
                        && (p.1 == q.1
                            || (p.1.is_nan() && q.1.is_nan())
                            || (p.1 - q.1).abs() <= 1e-6 * p.1.abs().max(q.1.abs()))
                })
        }
        _ => false,
    }
}

/// Median wall time of `runs` calls after one warm-up, and the last answer.
fn time(addr: &str, pq: &str, runs: usize) -> (Duration, Value) {
    let mut answer = get(addr, pq);
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            answer = get(addr, pq);
            t.elapsed()
        })
        .collect();
    times.sort();
    (times[times.len() / 2], answer)
}

fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "vs_prometheus: {e}\nflags: --series N --hours H --interval S --runs R --sextant PATH --dir DIR"
            );
            std::process::exit(2);
        }
    };
    assert!(
        a.sextant.exists(),
        "{} is missing: run `cargo build --release --bin sextant` first",
        a.sextant.display()
    );
    let tmp = tempdir_in(a.dir.as_deref());
    let step_ms = a.interval_s * 1000;
    let points = a.hours * 3600 / a.interval_s;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let end = now / 60_000 * 60_000 - 60_000;
    let t0 = end - (points - 1) * step_ms;
    let set = series(a.series);
    println!(
        "data: {} series x {} samples ({} h at {} s) = {:.1} M samples; dir {}",
        set.len(),
        points,
        a.hours,
        a.interval_s,
        (set.len() as i64 * points) as f64 / 1e6,
        tmp.display()
    );

    // The collector, fed by remote-write while the OpenMetrics file is written.
    let (http, oh, og) = (free_addr(), free_addr(), free_addr());
    let ours = Proc(
        Command::new(&a.sextant)
            .args(["collector", "--data-dir"])
            .arg(tmp.join("sextant"))
            .args([
                "--http-listen",
                &http,
                "--otlp-http-listen",
                &oh,
                "--otlp-grpc-listen",
                &og,
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(tmp.join("sextant.log")).expect("log"))
            .spawn()
            .expect("start sextant"),
    );
    wait_ready(&format!("http://{http}/readyz"), "the collector");
    let started = Instant::now();
    let om_path = tmp.join("data.om");
    let mut om = BufWriter::new(std::fs::File::create(&om_path).expect("openmetrics file"));
    let per_request = (400_000 / points.max(1) as usize).max(1);
    for (chunk_no, chunk) in set.chunks(per_request).enumerate() {
        let batch: Vec<(Labels, Vec<(i64, f64)>)> = chunk
            .iter()
            .enumerate()
            .map(|(j, (l, shape))| {
                let s = samples(chunk_no * per_request + j, *shape, t0, points, step_ms);
                (l.clone(), s)
            })
            .collect();
        for (labels, pts) in &batch {
            let name = &labels[0].1;
            let rest: Vec<String> = labels[1..]
                .iter()
                .map(|(k, v)| format!("{k}=\"{v}\""))
                .collect();
            let head = format!("{name}{{{}}}", rest.join(","));
            for (t, v) in pts {
                writeln!(om, "{head} {v} {}", *t as f64 / 1000.0).expect("write openmetrics");
            }
        }
        let resp = ureq::post(&format!("http://{http}/api/v1/write"))
            .header("Content-Type", "application/x-protobuf")
            .header("Content-Encoding", "snappy")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .send(&encode(&batch)[..])
            .expect("remote-write to the collector");
        assert!(
            resp.status().is_success(),
            "remote-write: {}",
            resp.status()
        );
    }
    writeln!(om, "# EOF").expect("write openmetrics");
    om.flush().expect("flush openmetrics");
    drop(om);
    println!(
        "generated + remote-written to the collector in {:.1?}",
        started.elapsed()
    );

    let started = Instant::now();
    let tsdb = tmp.join("prometheus");
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics", "-q"])
        .arg(&om_path)
        .arg(&tsdb)
        .output()
        .expect("promtool must be installed (Debian's prometheus package)");
    assert!(
        out.status.success(),
        "promtool: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(&om_path).expect("remove the openmetrics file");
    println!("promtool created blocks in {:.1?}", started.elapsed());
    let cfg = tmp.join("prometheus.yml");
    std::fs::write(&cfg, "global:\n  scrape_interval: 1h\n").expect("prometheus config");
    let paddr = free_addr();
    let prom = Proc(
        Command::new("prometheus")
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--storage.tsdb.path={}", tsdb.display()))
            .arg(format!("--web.listen-address={paddr}"))
            .arg("--storage.tsdb.retention.time=30d")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(tmp.join("prometheus.log")).expect("log"))
            .spawn()
            .expect("start prometheus"),
    );
    wait_ready(&format!("http://{paddr}/-/ready"), "prometheus");
    let loaded = (peak_rss_mib(ours.0.id()), peak_rss_mib(prom.0.id()));

    let range = format!("&start={}&end={}&step=300", t0 / 1000 + 3600, end / 1000);
    println!(
        "\n{} runs each, median; ratio = collector / Prometheus\n",
        a.runs
    );
    println!(
        "| # | query | instant: collector | Prometheus | ratio | range: collector | Prometheus | ratio | answers agree |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut sums = [Duration::ZERO; 4];
    for (i, q) in QUERIES.iter().enumerate() {
        let iq = format!("/api/v1/query?query={}&time={}", enc(q), end / 1000);
        let rq = format!("/api/v1/query_range?query={}{range}", enc(q));
        let (oi, ai) = time(&http, &iq, a.runs);
        let (pi, bi) = time(&paddr, &iq, a.runs);
        let (or, ar) = time(&http, &rq, a.runs);
        let (pr, br) = time(&paddr, &rq, a.runs);
        for (s, d) in sums.iter_mut().zip([oi, pi, or, pr]) {
            *s += d;
        }
        if std::env::var_os("VS_PROMETHEUS_DEBUG").is_some() && !agree(&ai, &bi) {
            eprintln!("{q}\n  ours {:?}\n  prom {:?}", digest(&ai), digest(&bi));
        }
        let ok = match (agree(&ai, &bi), agree(&ar, &br)) {
            (true, true) => "yes".to_string(),
            (x, y) => format!("instant {x}, range {y}"),
        };
        println!(
            "| {} | `{q}` | {:.1} ms | {:.1} ms | {:.2} | {:.1} ms | {:.1} ms | {:.2} | {ok} |",
            i + 1,
            ms(oi),
            ms(pi),
            ms(oi) / ms(pi),
            ms(or),
            ms(pr),
            ms(or) / ms(pr)
        );
    }
    println!(
        "| | **all ten** | {:.1} ms | {:.1} ms | {:.2} | {:.1} ms | {:.1} ms | {:.2} | |",
        ms(sums[0]),
        ms(sums[1]),
        ms(sums[0]) / ms(sums[1]),
        ms(sums[2]),
        ms(sums[3]),
        ms(sums[2]) / ms(sums[3])
    );
    println!(
        "\npeak RSS (VmHWM): collector {:.0} MiB after loading, {:.0} MiB after queries; \
         Prometheus {:.0} MiB after start, {:.0} MiB after queries",
        loaded.0,
        peak_rss_mib(ours.0.id()),
        loaded.1,
        peak_rss_mib(prom.0.id())
    );
    drop((ours, prom));
    if a.dir.is_none() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A fresh directory under `base` (or the system temp directory).
fn tempdir_in(base: Option<&Path>) -> PathBuf {
    let base = base.map_or_else(std::env::temp_dir, Path::to_path_buf);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = base.join(format!("vs-prometheus-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the bench directory");
    dir
}
