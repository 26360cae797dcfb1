//! One full MySQL check against one mysqld_exporter scrape of the same
//! MariaDB, in the same run: wall time, CPU time and statements issued, with
//! ratios; then the agent's resident memory with 50 checks configured.
//!
//! `cargo bench --bench mysql_check` (needs mariadb-server and
//! prometheus-mysqld-exporter, which `scripts/test.sh` installs).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use sextant_health::mysql::{MysqlCheck, MysqlConfig};
use sextant_testing::mariadb::{MONITOR_PASSWORD, MONITOR_USER, MariaDb};

const RUNS: usize = 50;

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// User + system CPU seconds of a process, from /proc.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("proc stat");
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = after
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // Fields 14 and 15 (utime, stime) are at 11 and 12 after the ')' (state is not numeric).
    (f.get(10).copied().unwrap_or(0.0) + f.get(11).copied().unwrap_or(0.0)) / 100.0
}

fn proc_status_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn questions(db: &MariaDb) -> f64 {
    let mut conn = db.admin().await;
    let row: Option<(String, String)> = conn
        .query_first("SHOW GLOBAL STATUS LIKE 'Questions'")
        .await
        .expect("status");
    let _ = conn.disconnect().await;
    row.and_then(|(_, v)| v.parse().ok()).unwrap_or(f64::NAN)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let db = MariaDb::start(1).await;
    db.exec(&[
        "CREATE USER 'exporter'@'%' IDENTIFIED BY 'exporter-pw'",
        "GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT ON *.* TO 'exporter'@'%'",
    ])
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let password = dir.path().join("password");
    std::fs::write(&password, MONITOR_PASSWORD).expect("password");

    // Ours: one MysqlCheck, warm pool (as in the agent), RUNS checks.
    let cfg = MysqlConfig {
        port: db.port,
        user: MONITOR_USER.to_string(),
        password_file: Some(password.clone()),
        ..MysqlConfig::default()
    };
    let check = MysqlCheck::new(cfg).expect("check");
    let _ = check.check().await;
    let (q0, cpu0) = (questions(&db).await, cpu_seconds("self"));
    let mut walls = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let report = check.check().await;
        walls.push(start.elapsed().as_secs_f64());
        assert!(report.verdict.live.ok, "{:?}", report.verdict);
    }
    let (cpu1, q1) = (cpu_seconds("self"), questions(&db).await);
    let ours = (
        median(walls),
        (cpu1 - cpu0) / RUNS as f64,
        (q1 - q0 - 1.0) / RUNS as f64,
    );
    check.close().await;

    // mysqld_exporter 0.14 with its default collectors plus innodb_metrics.
    let cnf = dir.path().join("my.cnf");
    std::fs::write(
        &cnf,
        format!(
            "[client]\nuser=exporter\npassword=exporter-pw\nhost=127.0.0.1\nport={}\n",
            db.port
        ),
    )
    .expect("my.cnf");
    let addr = format!("127.0.0.1:{}", free_port());
    let exporter = Kill(
        Command::new("prometheus-mysqld-exporter")
            .arg(format!("--config.my-cnf={}", cnf.display()))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--collect.info_schema.innodb_metrics")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus-mysqld-exporter"),
    );
    let url = format!("http://{addr}/metrics");
    let scrape = || {
        ureq::get(&url)
            .call()
            .ok()
            .and_then(|r| r.into_body().read_to_string().ok())
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !scrape().is_some_and(|b| b.contains("mysql_up 1")) {
        assert!(
            Instant::now() < deadline,
            "mysqld_exporter never scraped the server"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let pid = exporter.0.id().to_string();
    let (q0, cpu0) = (questions(&db).await, cpu_seconds(&pid));
    let mut walls = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let body = tokio::task::block_in_place(scrape).expect("scrape");
        walls.push(start.elapsed().as_secs_f64());
        assert!(body.contains("mysql_up 1"));
    }
    let (cpu1, q1) = (cpu_seconds(&pid), questions(&db).await);
    let theirs = (
        median(walls),
        (cpu1 - cpu0) / RUNS as f64,
        (q1 - q0 - 1.0) / RUNS as f64,
    );
    drop(exporter);

    println!(
        "one full check vs one mysqld_exporter scrape, {RUNS} runs each (MariaDB 10.11, same server)"
    );
    println!(
        "{:<28} {:>12} {:>16} {:>8}",
        "", "sextant", "mysqld_exporter", "ratio"
    );
    println!(
        "{:<28} {:>10.2}ms {:>14.2}ms {:>8.2}",
        "wall time (median)",
        ours.0 * 1e3,
        theirs.0 * 1e3,
        ours.0 / theirs.0
    );
    println!(
        "{:<28} {:>10.2}ms {:>14.2}ms {:>8.2}",
        "CPU time (mean)",
        ours.1 * 1e3,
        theirs.1 * 1e3,
        ours.1 / theirs.1
    );
    println!(
        "{:<28} {:>12.1} {:>16.1} {:>8.2}",
        "statements issued",
        ours.2,
        theirs.2,
        ours.2 / theirs.2
    );

    // Agent RSS with 50 MySQL checks configured (1-s interval, no collector:
    // reports go to its disk queue, which is part of its real work).
    let mut yaml = format!(
        "agent:\n  http_listen: 127.0.0.1:{}\n  host_metrics: false\n  traces_endpoint: \"\"\n  export:\n    endpoint: http://127.0.0.1:{}\n    queue_dir: {}\n  checks:\n",
        free_port(),
        free_port(),
        dir.path().join("queue").display()
    );
    for i in 0..50 {
        yaml.push_str(&format!(
            "    - name: db-{i}\n      interval: 1s\n      mysql:\n        host: 127.0.0.1\n        port: {}\n        user: {MONITOR_USER}\n        password_file: {}\n",
            db.port,
            password.display()
        ));
    }
    let cfg_path = dir.path().join("agent.yaml");
    std::fs::write(&cfg_path, yaml).expect("agent config");
    let agent = Kill(
        Command::new(env!("CARGO_BIN_EXE_sextant"))
            .args(["agent", "--config"])
            .arg(&cfg_path)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("agent"),
    );
    tokio::time::sleep(Duration::from_secs(15)).await;
    let pid = agent.0.id();
    println!(
        "agent with 50 MySQL checks (1-s interval), after 15 s: RSS {} KiB, peak RSS {} KiB",
        proc_status_kib(pid, "VmRSS:"),
        proc_status_kib(pid, "VmHWM:")
    );
}
