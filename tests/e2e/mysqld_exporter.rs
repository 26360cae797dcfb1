//! The MySQL check's metrics agree with what the real mysqld_exporter
//! (Debian's prometheus-mysqld-exporter) reports for the same MariaDB at the
//! same moment: gauges equal (connection counts within the two exporters'
//! own connections), counters within a small tolerance for the queries the
//! scrapes themselves cause.

use crate::common;
use crate::common::Kill;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{eventually, free_port};
use sextant_testing::mariadb::{MONITOR_PASSWORD, MariaDb};

/// `name{labels}` (labels as written, minus ours that the exporter lacks) → value.
fn scrape(url: &str) -> Option<HashMap<String, f64>> {
    let body = ureq::get(url)
        .call()
        .ok()?
        .into_body()
        .read_to_string()
        .ok()?;
    let mut out = HashMap::new();
    for line in body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (key, value) = line.rsplit_once(' ')?;
        let value: f64 = value.parse().ok()?;
        let (name, labels) = match key.split_once('{') {
            Some((n, l)) => (n, l.trim_end_matches('}')),
            None => (key, ""),
        };
        let kept: Vec<&str> = labels
            .split(',')
            .filter(|l| {
                !l.is_empty() && !l.starts_with("otel_scope") && !l.starts_with("sextant_check")
            })
            .collect();
        let key = if kept.is_empty() {
            name.to_string()
        } else {
            format!("{name}{{{}}}", kept.join(","))
        };
        out.insert(key, value);
    }
    Some(out)
}

#[test]
fn metrics_agree_with_mysqld_exporter() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let db = rt.block_on(MariaDb::start(1));
    let dir = tempfile::tempdir().expect("tempdir");
    let password = dir.path().join("password");
    std::fs::write(&password, MONITOR_PASSWORD).expect("password");
    // mysqld_exporter's my.cnf parser cannot quote the monitor password's `#`;
    // it gets its own user with the same privileges.
    rt.block_on(db.exec(&[
        "CREATE USER 'exporter'@'%' IDENTIFIED BY 'exporter-pw'",
        "GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT ON *.* TO 'exporter'@'%'",
    ]));
    let cnf = dir.path().join("my.cnf");
    std::fs::write(
        &cnf,
        format!(
            "[client]\nuser=exporter\npassword=exporter-pw\nhost=127.0.0.1\nport={}\n",
            db.port
        ),
    )
    .expect("my.cnf");
    let (ours, theirs) = (
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
    );
    let _exporter = Kill(
        Command::new("prometheus-mysqld-exporter")
            .arg(format!("--config.my-cnf={}", cnf.display()))
            .arg(format!("--web.listen-address={theirs}"))
            .arg("--collect.info_schema.innodb_metrics")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "Debian's prometheus-mysqld-exporter must be installed: run `bash scripts/test.sh`",
            ),
    );
    let _sidecar = Kill(
        common::adapt_mysql(db.port, &password, &ours)
            .args(["--interval", "200ms"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sidecar"),
    );
    // Some load so counters move: a few statements from a third client.
    rt.block_on(db.exec(&[
        "CREATE DATABASE IF NOT EXISTS load_db",
        "CREATE TABLE IF NOT EXISTS load_db.t (id INT PRIMARY KEY)",
        "INSERT IGNORE INTO load_db.t VALUES (1), (2), (3)",
    ]));
    let (a, b) = eventually(Duration::from_secs(20), "both exporters answering", || {
        let theirs = scrape(&format!("http://{theirs}/metrics"))?;
        let ours = scrape(&format!("http://{ours}/metrics"))?;
        (theirs.get("mysql_up") == Some(&1.0) && ours.contains_key("mysql_uptime_seconds_total"))
            .then_some((ours, theirs))
    });
    let get =
        |m: &HashMap<String, f64>, k: &str| *m.get(k).unwrap_or_else(|| panic!("{k} missing"));
    // (ours, theirs, absolute tolerance)
    let pairs: &[(&str, &str, f64)] = &[
        (
            "mysql_connection_max",
            "mysql_global_variables_max_connections",
            0.0,
        ),
        (
            "mysql_buffer_pool_limit_bytes",
            "mysql_global_variables_innodb_buffer_pool_size",
            0.0,
        ),
        (
            "mysql_read_only{kind=\"read_only\"}",
            "mysql_global_variables_read_only",
            0.0,
        ),
        (
            "mysql_query_slow_count_total",
            "mysql_global_status_slow_queries",
            0.0,
        ),
        (
            "mysql_connection_errors_total{error=\"aborted\"}",
            "mysql_global_status_aborted_connects",
            0.0,
        ),
        (
            "mysql_row_locks_total{kind=\"waits\"}",
            "mysql_global_status_innodb_row_lock_waits",
            0.0,
        ),
        (
            "mysql_innodb_deadlocks_total",
            "mysql_global_status_innodb_deadlocks",
            0.0,
        ),
        (
            "mysql_innodb_history_list_length",
            "mysql_info_schema_innodb_metrics_transaction_trx_rseg_history_len",
            50.0,
        ),
        (
            "mysql_uptime_seconds_total",
            "mysql_global_status_uptime",
            3.0,
        ),
        // Each exporter holds its own connections: at most 2 ours, 1 theirs.
        (
            "mysql_threads{kind=\"connected\"}",
            "mysql_global_status_threads_connected",
            3.0,
        ),
        (
            "mysql_threads{kind=\"running\"}",
            "mysql_global_status_threads_running",
            3.0,
        ),
        // Counters move with every scrape (ours every 200 ms, theirs per request).
        (
            "mysql_query_client_count_total",
            "mysql_global_status_questions",
            150.0,
        ),
        (
            "mysql_query_count_total",
            "mysql_global_status_queries",
            150.0,
        ),
        (
            "mysql_buffer_pool_pages{kind=\"data\"}",
            "mysql_global_status_buffer_pool_pages{state=\"data\"}",
            20.0,
        ),
        (
            "mysql_buffer_pool_pages{kind=\"free\"}",
            "mysql_global_status_buffer_pool_pages{state=\"free\"}",
            20.0,
        ),
    ];
    let mut diffs = Vec::new();
    for (o, t, tol) in pairs {
        let (x, y) = (get(&a, o), get(&b, t));
        if (x - y).abs() > *tol {
            diffs.push(format!(
                "{o} = {x} but mysqld_exporter's {t} = {y} (tolerance {tol})"
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "metrics disagree with mysqld_exporter:\n{}",
        diffs.join("\n")
    );
}
