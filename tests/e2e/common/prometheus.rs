//! A real Prometheus (Debian's 2.42, installed by `scripts/test.sh`) on a
//! free loopback port, for side-by-side tests, and the HTTP helpers both
//! sides are asked through.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sextant_model::Series;
use sextant_prometheus::encode_remote_write;

use super::{free_port, post};

/// A running Prometheus with the remote-write receiver enabled.
pub struct Prometheus {
    pub child: Child,
    pub addr: String,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    /// Starts Prometheus with its data under `dir`, scraping nothing.
    pub fn start(dir: &Path) -> Prometheus {
        Prometheus::start_with(dir, &[])
    }

    /// Starts Prometheus with extra flags (`--query.max-samples=…`).
    pub fn start_with(dir: &Path, flags: &[&str]) -> Prometheus {
        std::fs::create_dir_all(dir).expect("prometheus dir");
        let config = dir.join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 1h\n").expect("config");
        let addr = format!("127.0.0.1:{}", free_port());
        let log = std::fs::File::create(dir.join("prometheus.log")).expect("log");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--web.enable-remote-write-receiver")
            .args(flags)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("Debian's prometheus must be installed: run `bash scripts/test.sh`");
        let p = Prometheus { child, addr };
        let deadline = Instant::now() + Duration::from_secs(30);
        while ureq::get(&format!("http://{}/-/ready", p.addr))
            .call()
            .is_err()
        {
            assert!(Instant::now() < deadline, "prometheus did not become ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        p
    }
}

/// Remote-writes `series` to `url` (`http://…/api/v1/write`) in one request.
pub fn remote_write(url: &str, series: &[Series]) {
    let (status, body) = post(
        url,
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Content-Encoding", "snappy"),
            ("X-Prometheus-Remote-Write-Version", "0.1.0"),
        ],
        &encode_remote_write(series),
    );
    assert!(status == 204 || status == 200, "{url}: {status} {body}");
}

/// An HTTP answer: status code and the body as JSON (a non-JSON body becomes
/// the JSON string of its text, so a comparison still shows it).
pub type Answer = (u16, Value);

fn answer(resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>, what: &str) -> Answer {
    let resp = resp.unwrap_or_else(|e| panic!("{what}: {e}"));
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .expect("body");
    let json = serde_json::from_str(&body).unwrap_or(Value::String(body));
    (status, json)
}

/// `GET http://{addr}{path_and_query}`.
pub fn get(addr: &str, path_and_query: &str) -> Answer {
    let url = format!("http://{addr}{path_and_query}");
    let resp = ureq::get(&url)
        .config()
        .http_status_as_error(false)
        .build()
        .call();
    answer(resp, &url)
}

/// `POST` a form body (`application/x-www-form-urlencoded`), as Grafana does.
pub fn post_form(addr: &str, path: &str, form: &[(&str, &str)]) -> Answer {
    let url = format!("http://{addr}{path}");
    let body: String = form
        .iter()
        .map(|(k, v)| format!("{}={}", super::enc(k), super::enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let resp = ureq::post(&url)
        .config()
        .http_status_as_error(false)
        .build()
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(body.as_bytes());
    answer(resp, &url)
}

/// A query string from pairs, each value URL-encoded.
pub fn qs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", super::enc(k), super::enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}
