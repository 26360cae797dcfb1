//! `SHOW GLOBAL STATUS` / `SHOW GLOBAL VARIABLES`: the queries, parsing into
//! name → value maps, flavour and version detection, and the server-wide
//! metrics, named as the OpenTelemetry mysqlreceiver names them.

use std::collections::BTreeMap;

use crate::report::{MetricDef, MetricValue, flag, metric};

/// Lower-cased variable name → its text value.
pub(crate) type Vars = BTreeMap<String, String>;

/// The variables the check reads, by name so every version answers the same.
pub(crate) const VARIABLES_SQL: &str = "SHOW GLOBAL VARIABLES WHERE Variable_name IN \
    ('version', 'version_comment', 'read_only', 'super_read_only', 'max_connections', \
    'innodb_page_size', 'innodb_buffer_pool_size', 'wsrep_on')";

/// The status counters the check reads, plus every `wsrep%` (Galera) one.
pub(crate) const STATUS_SQL: &str = "SHOW GLOBAL STATUS WHERE Variable_name IN \
    ('Uptime', 'Threads_connected', 'Threads_running', 'Threads_cached', 'Threads_created', \
    'Connections', 'Aborted_connects', 'Aborted_clients', 'Connection_errors_max_connections', \
    'Max_used_connections', 'Slow_queries', 'Questions', 'Queries', \
    'Innodb_buffer_pool_pages_data', 'Innodb_buffer_pool_pages_free', \
    'Innodb_buffer_pool_pages_total', 'Innodb_buffer_pool_pages_misc', \
    'Innodb_buffer_pool_pages_dirty', 'Innodb_buffer_pool_bytes_data', \
    'Innodb_buffer_pool_bytes_dirty', 'Innodb_buffer_pool_read_requests', \
    'Innodb_buffer_pool_reads', 'Innodb_buffer_pool_write_requests', \
    'Innodb_buffer_pool_wait_free', 'Innodb_row_lock_waits', 'Innodb_row_lock_time', \
    'Innodb_row_lock_current_waits', 'Innodb_deadlocks', 'Innodb_history_list_length') \
    OR Variable_name LIKE 'wsrep%'";

/// Builds a map from `(name, value)` pairs, lower-casing names.
pub(crate) fn vars_from_pairs<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Vars {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect()
}

/// A numeric variable, if present and numeric.
pub(crate) fn number(vars: &Vars, name: &str) -> Option<f64> {
    vars.get(name).and_then(|v| v.trim().parse::<f64>().ok())
}

/// `ON`/`YES`/`1`/`TRUE` → true, `OFF`/`NO`/`0`/`FALSE` → false, else None.
pub(crate) fn switch(value: &str) -> Option<bool> {
    match value.trim().to_ascii_uppercase().as_str() {
        "ON" | "YES" | "1" | "TRUE" => Some(true),
        "OFF" | "NO" | "0" | "FALSE" => Some(false),
        _ => None,
    }
}

/// A boolean variable, if present and boolean.
pub(crate) fn flag_var(vars: &Vars, name: &str) -> Option<bool> {
    vars.get(name).and_then(|v| switch(v))
}

/// Which server family answered; they differ in statements and column names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Oracle MySQL (and Percona Server).
    Mysql,
    /// MariaDB.
    Mariadb,
}

impl Flavour {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavour::Mysql => "mysql",
            Flavour::Mariadb => "mariadb",
        }
    }
}

/// Flavour and version of the server, from `version`/`version_comment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerInfo {
    pub flavour: Flavour,
    /// (major, minor, patch); missing parts are 0.
    pub version: (u16, u16, u16),
    /// The version text as the server gave it.
    pub text: String,
}

impl ServerInfo {
    /// Detects flavour ("mariadb" anywhere in version or comment) and
    /// parses the leading `X.Y.Z` of the version (skipping MariaDB's old
    /// `5.5.5-` replication prefix).
    pub fn from_variables(vars: &Vars) -> Option<Self> {
        let text = vars.get("version")?.clone();
        let comment = vars
            .get("version_comment")
            .map(String::as_str)
            .unwrap_or("");
        let is_maria = text.to_ascii_lowercase().contains("mariadb")
            || comment.to_ascii_lowercase().contains("mariadb");
        let flavour = if is_maria {
            Flavour::Mariadb
        } else {
            Flavour::Mysql
        };
        let bare = text.strip_prefix("5.5.5-").unwrap_or(&text);
        let numeric: String = bare
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let mut parts = numeric.split('.').map(|p| p.parse::<u16>().ok());
        let major = parts.next().flatten()?;
        let minor = parts.next().flatten().unwrap_or(0);
        let patch = parts.next().flatten().unwrap_or(0);
        Some(ServerInfo {
            flavour,
            version: (major, minor, patch),
            text,
        })
    }
}

metric!(
    SERVER_INFO,
    "mysql.server.info",
    "",
    Gauge,
    "Always 1; attributes mysql.flavour and mysql.version."
);
metric!(
    PING,
    "mysql.ping.duration",
    "s",
    Gauge,
    "Round trip of the liveness query SELECT 1."
);
metric!(
    UPTIME,
    "mysql.uptime",
    "s",
    Counter,
    "Seconds since the server started."
);
metric!(
    THREADS,
    "mysql.threads",
    "{threads}",
    Gauge,
    "Threads by kind (connected, running, cached, created)."
);
metric!(
    CONNECTION_COUNT,
    "mysql.connection.count",
    "{connections}",
    Counter,
    "Connection attempts, successful or not."
);
metric!(
    CONNECTION_ERRORS,
    "mysql.connection.errors",
    "{errors}",
    Counter,
    "Failed connections by error (aborted, aborted_clients, max_connections)."
);
metric!(
    CONNECTION_MAX,
    "mysql.connection.max",
    "{connections}",
    Gauge,
    "The max_connections setting."
);
metric!(
    CONNECTION_UTILIZATION,
    "mysql.connection.utilization",
    "1",
    Gauge,
    "Threads_connected / max_connections."
);
metric!(
    MAX_USED_CONNECTIONS,
    "mysql.max_used_connections",
    "{connections}",
    Gauge,
    "Most connections in use at once since the server started."
);
metric!(
    QUERY_COUNT,
    "mysql.query.count",
    "{queries}",
    Counter,
    "Statements executed, including those in stored programs."
);
metric!(
    QUERY_CLIENT_COUNT,
    "mysql.query.client.count",
    "{queries}",
    Counter,
    "Statements sent by clients (Questions)."
);
metric!(
    QUERY_SLOW_COUNT,
    "mysql.query.slow.count",
    "{queries}",
    Counter,
    "Statements slower than long_query_time."
);
metric!(
    BUFFER_POOL_PAGES,
    "mysql.buffer_pool.pages",
    "{pages}",
    Gauge,
    "InnoDB buffer pool pages by kind (data, free, misc)."
);
metric!(
    BUFFER_POOL_DATA_PAGES,
    "mysql.buffer_pool.data_pages",
    "{pages}",
    Gauge,
    "InnoDB buffer pool data pages by status (dirty, clean)."
);
metric!(
    BUFFER_POOL_USAGE,
    "mysql.buffer_pool.usage",
    "By",
    Gauge,
    "Bytes of data in the InnoDB buffer pool by status (dirty, clean)."
);
metric!(
    BUFFER_POOL_LIMIT,
    "mysql.buffer_pool.limit",
    "By",
    Gauge,
    "Configured size of the InnoDB buffer pool (total pages x page size)."
);
metric!(
    BUFFER_POOL_OPERATIONS,
    "mysql.buffer_pool.operations",
    "{operations}",
    Counter,
    "InnoDB buffer pool operations (read_requests, reads from disk, write_requests, wait_free)."
);
metric!(
    ROW_LOCKS,
    "mysql.row_locks",
    "{locks}",
    Counter,
    "InnoDB row lock waits (kind=waits)."
);
metric!(
    ROW_LOCK_TIME,
    "mysql.row_locks.time",
    "ms",
    Counter,
    "Total time spent waiting for InnoDB row locks."
);
metric!(
    ROW_LOCK_CURRENT_WAITS,
    "mysql.row_locks.current_waits",
    "{locks}",
    Gauge,
    "InnoDB row lock waits in progress."
);
metric!(
    READ_ONLY,
    "mysql.read_only",
    "",
    Gauge,
    "1 when read_only (kind=read_only) or super_read_only (kind=super_read_only) is ON."
);

/// The server-wide metrics from status and variables; a value the server
/// did not report is left out (never invented).
pub(crate) fn metrics(
    info: Option<&ServerInfo>,
    status: &Vars,
    variables: &Vars,
    out: &mut Vec<MetricValue>,
) {
    if let Some(info) = info {
        out.push(
            MetricValue::new(&SERVER_INFO, 1.0)
                .attr("mysql.flavour", info.flavour.as_str())
                .attr("mysql.version", info.text.clone()),
        );
    }
    let mut put = |def: &'static MetricDef, attr: Option<(&'static str, &str)>, name: &str| {
        if let Some(v) = number(status, name) {
            out.push(match attr {
                Some((k, a)) => MetricValue::with(def, k, a, v),
                None => MetricValue::new(def, v),
            });
        }
    };
    put(&UPTIME, None, "uptime");
    for kind in ["connected", "running", "cached", "created"] {
        put(&THREADS, Some(("kind", kind)), &format!("threads_{kind}"));
    }
    put(&CONNECTION_COUNT, None, "connections");
    put(
        &CONNECTION_ERRORS,
        Some(("error", "aborted")),
        "aborted_connects",
    );
    put(
        &CONNECTION_ERRORS,
        Some(("error", "aborted_clients")),
        "aborted_clients",
    );
    put(
        &CONNECTION_ERRORS,
        Some(("error", "max_connections")),
        "connection_errors_max_connections",
    );
    put(&MAX_USED_CONNECTIONS, None, "max_used_connections");
    put(&QUERY_COUNT, None, "queries");
    put(&QUERY_CLIENT_COUNT, None, "questions");
    put(&QUERY_SLOW_COUNT, None, "slow_queries");
    for kind in ["data", "free", "misc"] {
        let name = format!("innodb_buffer_pool_pages_{kind}");
        put(&BUFFER_POOL_PAGES, Some(("kind", kind)), &name);
    }
    for op in ["read_requests", "reads", "write_requests", "wait_free"] {
        let name = format!("innodb_buffer_pool_{op}");
        put(&BUFFER_POOL_OPERATIONS, Some(("operation", op)), &name);
    }
    put(&ROW_LOCKS, Some(("kind", "waits")), "innodb_row_lock_waits");
    put(&ROW_LOCK_TIME, None, "innodb_row_lock_time");
    put(
        &ROW_LOCK_CURRENT_WAITS,
        None,
        "innodb_row_lock_current_waits",
    );

    let pages = |k: &str| number(status, &format!("innodb_buffer_pool_pages_{k}"));
    if let (Some(data), Some(dirty)) = (pages("data"), pages("dirty")) {
        out.push(MetricValue::with(
            &BUFFER_POOL_DATA_PAGES,
            "status",
            "dirty",
            dirty,
        ));
        let clean = (data - dirty).max(0.0);
        out.push(MetricValue::with(
            &BUFFER_POOL_DATA_PAGES,
            "status",
            "clean",
            clean,
        ));
    }
    let bytes = |k: &str| number(status, &format!("innodb_buffer_pool_bytes_{k}"));
    if let (Some(data), Some(dirty)) = (bytes("data"), bytes("dirty")) {
        out.push(MetricValue::with(
            &BUFFER_POOL_USAGE,
            "status",
            "dirty",
            dirty,
        ));
        let clean = (data - dirty).max(0.0);
        out.push(MetricValue::with(
            &BUFFER_POOL_USAGE,
            "status",
            "clean",
            clean,
        ));
    }
    // The configured size (what mysqld_exporter and the OTel receiver
    // report); pages × page size only when the variable is unreadable.
    let configured = number(variables, "innodb_buffer_pool_size");
    let from_pages = pages("total")
        .zip(number(variables, "innodb_page_size"))
        .map(|(t, p)| t * p);
    if let Some(limit) = configured.or(from_pages) {
        out.push(MetricValue::new(&BUFFER_POOL_LIMIT, limit));
    }
    if let Some(max) = number(variables, "max_connections") {
        out.push(MetricValue::new(&CONNECTION_MAX, max));
        if let Some(connected) = number(status, "threads_connected")
            && max > 0.0
        {
            out.push(MetricValue::new(&CONNECTION_UTILIZATION, connected / max));
        }
    }
    for kind in ["read_only", "super_read_only"] {
        if let Some(on) = flag_var(variables, kind) {
            out.push(MetricValue::with(&READ_ONLY, "kind", kind, flag(on)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        vars_from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn detects_flavour_and_version() {
        let cases = [
            (
                "8.0.36",
                "MySQL Community Server - GPL",
                Some((Flavour::Mysql, (8, 0, 36))),
            ),
            ("8.4.0-commercial", "", Some((Flavour::Mysql, (8, 4, 0)))),
            (
                "10.11.6-MariaDB-0+deb12u1-log",
                "Debian 12",
                Some((Flavour::Mariadb, (10, 11, 6))),
            ),
            (
                "5.5.5-10.5.1-MariaDB",
                "",
                Some((Flavour::Mariadb, (10, 5, 1))),
            ),
            (
                "11.4.2",
                "mariadb.org binary distribution",
                Some((Flavour::Mariadb, (11, 4, 2))),
            ),
            (
                "8.0.22-13",
                "Percona Server (GPL)",
                Some((Flavour::Mysql, (8, 0, 22))),
            ),
            ("garbage", "", None),
        ];
        for (version, comment, want) in cases {
            let v = vars(&[("version", version), ("version_comment", comment)]);
            let got = ServerInfo::from_variables(&v).map(|i| (i.flavour, i.version));
            assert_eq!(got, want, "{version}");
        }
        assert!(ServerInfo::from_variables(&Vars::new()).is_none());
    }

    #[test]
    fn switches() {
        let cases = [
            ("ON", Some(true)),
            ("off", Some(false)),
            ("Yes", Some(true)),
            ("No", Some(false)),
            ("1", Some(true)),
            ("0", Some(false)),
            ("Connecting", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(switch(text), want, "{text:?}");
        }
    }

    #[test]
    fn metrics_from_status_and_variables() {
        let status = vars(&[
            ("Uptime", "100"),
            ("Threads_connected", "40"),
            ("Threads_running", "3"),
            ("Innodb_buffer_pool_pages_data", "10"),
            ("Innodb_buffer_pool_pages_dirty", "4"),
            ("Innodb_buffer_pool_pages_total", "64"),
            ("Innodb_buffer_pool_bytes_data", "163840"),
            ("Innodb_buffer_pool_bytes_dirty", "65536"),
            ("Slow_queries", "not-a-number"),
        ]);
        let variables = vars(&[
            ("max_connections", "50"),
            ("innodb_page_size", "16384"),
            ("read_only", "OFF"),
            ("version", "10.11.6-MariaDB"),
        ]);
        let info = ServerInfo::from_variables(&variables);
        let mut out = Vec::new();
        metrics(info.as_ref(), &status, &variables, &mut out);
        let find = |name: &str, attr: Option<&str>| {
            out.iter()
                .find(|m| {
                    m.def.name == name
                        && attr.is_none_or(|a| m.attributes.iter().any(|(_, v)| v == a))
                })
                .map(|m| m.value)
        };
        assert_eq!(find("mysql.uptime", None), Some(100.0));
        assert_eq!(find("mysql.threads", Some("running")), Some(3.0));
        assert_eq!(
            find("mysql.threads", Some("cached")),
            None,
            "absent stays absent"
        );
        assert_eq!(
            find("mysql.query.slow.count", None),
            None,
            "unparsable is skipped"
        );
        assert_eq!(find("mysql.connection.utilization", None), Some(0.8));
        assert_eq!(
            find("mysql.buffer_pool.data_pages", Some("clean")),
            Some(6.0)
        );
        assert_eq!(
            find("mysql.buffer_pool.usage", Some("clean")),
            Some(98304.0)
        );
        assert_eq!(find("mysql.buffer_pool.limit", None), Some(64.0 * 16384.0));
        assert_eq!(find("mysql.read_only", Some("read_only")), Some(0.0));
        assert_eq!(find("mysql.read_only", Some("super_read_only")), None);
        assert_eq!(find("mysql.server.info", Some("mariadb")), Some(1.0));
    }
}
