//! Shared harness for the end-to-end tests: start the real `sextant` binary
//! on free loopback ports in a temporary directory, talk HTTP to it, and
//! run the Python OpenTelemetry SDK installed by `scripts/test.sh`.

pub mod prometheus;
pub mod tls_api;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The release build of `sextant`, for the hardening tests whose limits
/// (peak RSS, latency under load) only mean something optimized. Built once
/// per test run with the same cargo and target directory as the tests;
/// `scripts/test.sh` builds it up front so this is a no-op there.
pub fn release_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let mut build = Command::new(cargo);
        build
            .args(["build", "--release", "--quiet", "--bin", "sextant"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        // `cargo test` hands the test process variables of its own (the
        // package's CARGO_PKG_*, OUT_DIR, …); build scripts that watch the
        // environment would see a change and rebuild what `scripts/test.sh`
        // just built. Build in the environment a shell would have.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            let keep = matches!(
                key.as_str(),
                "CARGO_HOME" | "CARGO_TARGET_DIR" | "CARGO_INCREMENTAL"
            );
            if !keep && (key.starts_with("CARGO_") || key == "OUT_DIR" || key.starts_with("RUSTC"))
            {
                build.env_remove(&key);
            }
        }
        let status = build.status().expect("run cargo build --release");
        assert!(
            status.success(),
            "cargo build --release --bin sextant failed"
        );
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
        let bin = target.join("release").join("sextant");
        assert!(bin.exists(), "no release binary at {}", bin.display());
        bin
    })
    .clone()
}

/// Peak resident set size of process `pid` in KiB (`VmHWM`), for the tests
/// that bound what one hostile request may make the collector allocate.
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc status")
}

/// `127.0.0.1:<a port nobody listens on right now>`.
pub fn free_addr() -> String {
    format!("127.0.0.1:{}", free_port())
}

/// Writes `yaml` beside the data directory as the collector's `--config`
/// file and returns its path.
fn config_file(data_dir: &Path, yaml: &str) -> String {
    let config = data_dir.with_extension("yaml");
    std::fs::write(&config, yaml).expect("write collector config");
    config.to_str().expect("UTF-8 temp path").to_string()
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

/// Wall-clock milliseconds since the Unix epoch: the tests write samples
/// around "now" so both servers keep them in their head blocks.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

/// A series from plain label pairs and `(ms, value)` samples, as the tests
/// write their data.
pub fn series(labels: Vec<(String, String)>, samples: Vec<(i64, f64)>) -> sextant_model::Series {
    sextant_model::Series {
        labels: sextant_model::Labels::from_pairs(labels),
        samples: samples
            .into_iter()
            .map(|(t, v)| sextant_model::Sample { t, v })
            .collect(),
    }
}

/// `sextant adapt mysql` against the MariaDB on `port` as its monitoring
/// user, serving on `listen`; callers add their flags and spawn it.
pub fn adapt_mysql(port: u16, password_file: &Path, listen: &str) -> Command {
    use sextant_testing::mariadb::MONITOR_USER;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sextant"));
    cmd.args(["adapt", "mysql", "--target"])
        .arg(format!("mysql://{MONITOR_USER}@127.0.0.1:{port}"))
        .arg("--password-file")
        .arg(password_file)
        .args(["--listen", listen]);
    cmd
}

/// A child process (sidecar, agent, exporter) killed and reaped when the
/// test lets go of it, so a failing assertion leaves nothing running.
pub struct Kill(pub Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running collector process and its addresses.
pub struct Collector {
    pub child: Child,
    pub data_dir: PathBuf,
    pub http: String,
    pub otlp_http: String,
    pub otlp_grpc: String,
}

impl Collector {
    /// Starts `sextant collector` with all listeners on free ports.
    pub fn start(data_dir: &Path) -> Collector {
        let (http, otlp_http, otlp_grpc) = (
            format!("127.0.0.1:{}", free_port()),
            format!("127.0.0.1:{}", free_port()),
            format!("127.0.0.1:{}", free_port()),
        );
        Collector::start_on(data_dir, http, otlp_http, otlp_grpc)
    }

    /// Starts `sextant collector` on the given addresses (for restarts).
    pub fn start_on(
        data_dir: &Path,
        http: String,
        otlp_http: String,
        otlp_grpc: String,
    ) -> Collector {
        Collector::start_with_args(data_dir, http, otlp_http, otlp_grpc, &[])
    }

    /// Starts `sextant collector` on free ports with `yaml` as its `--config`
    /// file (written beside the data directory).
    pub fn start_with_config(data_dir: &Path, yaml: &str) -> Collector {
        let config = config_file(data_dir, yaml);
        Collector::start_with_args(
            data_dir,
            free_addr(),
            free_addr(),
            free_addr(),
            &["--config", &config],
        )
    }

    /// Starts the release build of `sextant collector` on free ports with
    /// `yaml` as its config (empty: defaults) and `extra` flags.
    pub fn start_release(data_dir: &Path, yaml: &str, extra: &[&str]) -> Collector {
        let config = config_file(data_dir, yaml);
        let mut args = vec!["--config", config.as_str()];
        args.extend_from_slice(extra);
        Collector::start_bin(
            &release_bin(),
            data_dir,
            free_addr(),
            free_addr(),
            free_addr(),
            &args,
        )
    }

    /// Starts `sextant collector` on the given addresses with extra flags.
    pub fn start_with_args(
        data_dir: &Path,
        http: String,
        otlp_http: String,
        otlp_grpc: String,
        extra: &[&str],
    ) -> Collector {
        let bin = PathBuf::from(env!("CARGO_BIN_EXE_sextant"));
        Collector::start_bin(&bin, data_dir, http, otlp_http, otlp_grpc, extra)
    }

    /// Starts the release build like [`Collector::start_release`], under
    /// `ulimit -n nofile` (soft and hard), as a host with the common
    /// default of 1024 open files would run it.
    pub fn start_release_nofile(data_dir: &Path, yaml: &str, nofile: u32) -> Collector {
        let config = config_file(data_dir, yaml);
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg(format!("ulimit -n {nofile} && exec \"$0\" \"$@\""))
            .arg(release_bin());
        Collector::start_command(
            sh,
            data_dir,
            free_addr(),
            free_addr(),
            free_addr(),
            &["--config", &config],
        )
    }

    /// Starts binary `bin` as `collector` on the given addresses.
    pub fn start_bin(
        bin: &Path,
        data_dir: &Path,
        http: String,
        otlp_http: String,
        otlp_grpc: String,
        extra: &[&str],
    ) -> Collector {
        Collector::start_command(
            Command::new(bin),
            data_dir,
            http,
            otlp_http,
            otlp_grpc,
            extra,
        )
    }

    /// Runs `cmd` (the binary, or a wrapper that execs it) as `collector`.
    fn start_command(
        mut cmd: Command,
        data_dir: &Path,
        http: String,
        otlp_http: String,
        otlp_grpc: String,
        extra: &[&str],
    ) -> Collector {
        let log = std::fs::File::create(data_dir.with_extension("log")).expect("log file");
        let child = cmd
            .arg("collector")
            .args(extra)
            .arg("--data-dir")
            .arg(data_dir)
            .args([
                "--http-listen",
                &http,
                "--otlp-http-listen",
                &otlp_http,
                "--otlp-grpc-listen",
                &otlp_grpc,
            ])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn sextant collector");
        let c = Collector {
            child,
            data_dir: data_dir.to_path_buf(),
            http,
            otlp_http,
            otlp_grpc,
        };
        c.wait_ready();
        c
    }

    /// Waits until `/readyz` answers, failing the test after 30 s.
    pub fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if ureq::get(&format!("http://{}/readyz", self.http))
                .call()
                .is_ok()
                && std::net::TcpStream::connect(&self.otlp_http).is_ok()
                && std::net::TcpStream::connect(&self.otlp_grpc).is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "collector did not become ready; see {}",
                self.log_path().display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log_path(&self) -> PathBuf {
        self.data_dir.with_extension("log")
    }

    /// `kill -9`: no shutdown path runs.
    pub fn kill9(mut self) {
        self.child.kill().expect("SIGKILL the collector");
        self.child.wait().expect("reap the collector");
    }

    /// GET on the HTTP API, parsed as JSON.
    pub fn get_json(&self, path_and_query: &str) -> serde_json::Value {
        get_json(&format!("http://{}{path_and_query}", self.http))
    }

    /// The collector's own `/metrics` exposition text.
    pub fn metrics_text(&self) -> String {
        ureq::get(&format!("http://{}/metrics", self.http))
            .call()
            .expect("GET /metrics")
            .into_body()
            .read_to_string()
            .expect("/metrics text")
    }

    /// Whether the collector process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GET `url` and parse the JSON body, whatever the status.
pub fn get_json(url: &str) -> serde_json::Value {
    let resp = ureq::get(url)
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .expect("GET");
    let body = resp.into_body().read_to_string().expect("body");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {body}"))
}

/// POST raw bytes; returns status and body text.
pub fn post(url: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    try_post(url, headers, body).unwrap_or_else(|e| panic!("POST {url}: {e}"))
}

/// POST raw bytes; a transport error (connection refused, reset) is an `Err`.
pub fn try_post(url: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<(u16, String), String> {
    let mut req = ureq::post(url).config().http_status_as_error(false).build();
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send(body).map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let bytes = resp
        .into_body()
        .with_config()
        .limit(10 << 20)
        .read_to_vec()
        .map_err(|e| e.to_string())?;
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

/// URL-encodes a query parameter value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The virtualenv Python with the OpenTelemetry SDK. `scripts/test.sh` sets
/// it up; running these tests without it is a setup error, not a skip.
pub fn python() -> String {
    std::env::var("SEXTANT_TEST_PYTHON").unwrap_or_else(|_| {
        panic!("SEXTANT_TEST_PYTHON is not set: run the tests with `bash scripts/test.sh`, which installs the OpenTelemetry SDK")
    })
}

/// Makes sure this test process may open `need` files (sockets), raising
/// its soft limit to the hard one with util-linux's `prlimit` if needed:
/// tests that open a thousand client connections fail on the usual soft
/// default of 1024 otherwise.
pub fn raise_own_fd_limit(need: u64) {
    let limits = || -> (u64, u64) {
        let text = std::fs::read_to_string("/proc/self/limits").expect("read /proc/self/limits");
        let line = text
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .expect("Max open files in /proc/self/limits");
        let mut nums = line.split_whitespace().filter_map(|w| {
            w.parse::<u64>()
                .ok()
                .or((w == "unlimited").then_some(u64::MAX))
        });
        (nums.next().unwrap_or(0), nums.next().unwrap_or(0))
    };
    let (soft, hard) = limits();
    if soft >= need {
        return;
    }
    let hard_text = if hard == u64::MAX {
        "unlimited".to_string()
    } else {
        hard.to_string()
    };
    let status = Command::new("prlimit")
        .arg("--pid")
        .arg(std::process::id().to_string())
        .arg(format!("--nofile={hard_text}:{hard_text}"))
        .status();
    let (soft, _) = limits();
    assert!(
        soft >= need,
        "this test opens {need} sockets but may open {soft} files (hard limit {hard}; prlimit: {status:?}): raise `ulimit -n`"
    );
}

/// Runs the test virtualenv's Python with `args` and fails the test, with
/// both output streams, unless it exits 0; returns its stdout.
pub fn run_python(args: &[&str], what: &str) -> String {
    let out = Command::new(python())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run python: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Polls `f` until it returns `Some`, failing after `timeout`.
pub fn eventually<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
