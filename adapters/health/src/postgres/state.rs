//! What the check asks PostgreSQL, and the rows parsed into plain structs.
//!
//! Every query runs over the simple-query protocol, so every value arrives
//! as text (or NULL) and is parsed here; nothing the server answers can
//! panic. All statements are read-only and work on PostgreSQL ≥ 11 for a
//! role in `pg_monitor` (without it, other sessions' `xact_start` and the
//! WAL receiver's status read as NULL).

use std::collections::BTreeMap;

/// One result row: column name → text value (None = NULL).
pub(crate) type Row = BTreeMap<String, Option<String>>;

/// The server-wide state, one row. The standby columns are NULL on a primary.
pub(crate) const STATE_SQL: &str = "SELECT \
    current_setting('server_version') AS version, \
    extract(epoch FROM pg_postmaster_start_time()) AS started, \
    extract(epoch FROM clock_timestamp() - pg_postmaster_start_time()) AS uptime, \
    pg_is_in_recovery() AS in_recovery, \
    current_setting('default_transaction_read_only') AS default_transaction_read_only, \
    current_setting('transaction_read_only') AS transaction_read_only, \
    current_setting('max_connections') AS max_connections, \
    (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS backends, \
    (SELECT extract(epoch FROM max(clock_timestamp() - xact_start)) FROM pg_stat_activity \
      WHERE backend_type = 'client backend' AND xact_start IS NOT NULL \
      AND pid <> pg_backend_pid()) AS oldest_xact, \
    CASE WHEN pg_is_in_recovery() THEN \
      extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) END AS replay_age, \
    CASE WHEN pg_is_in_recovery() THEN \
      pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) END AS replay_backlog, \
    CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END AS replay_paused";

/// The WAL receiver of a standby (no row on a primary, or when it is not running).
pub(crate) const RECEIVER_SQL: &str = "SELECT status, sender_host, sender_port, \
    extract(epoch FROM clock_timestamp() - last_msg_receipt_time) AS last_msg_age \
    FROM pg_stat_wal_receiver";

/// The standbys streaming from this server (a primary, or a cascading standby).
pub(crate) const CLIENTS_SQL: &str = "SELECT application_name, client_addr, state, sync_state, \
    extract(epoch FROM write_lag) AS write_lag, extract(epoch FROM flush_lag) AS flush_lag, \
    extract(epoch FROM replay_lag) AS replay_lag, \
    pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() \
      ELSE pg_current_wal_lsn() END, replay_lsn) AS data_delay \
    FROM pg_stat_replication ORDER BY application_name, client_addr LIMIT 64";

/// Per-database counters (templates left out).
pub(crate) const DATABASES_SQL: &str = "SELECT d.datname, s.numbackends, s.xact_commit, \
    s.xact_rollback, s.deadlocks FROM pg_stat_database s JOIN pg_database d ON d.oid = s.datid \
    WHERE NOT d.datistemplate ORDER BY d.datname LIMIT 100";

fn text<'a>(row: &'a Row, name: &str) -> Option<&'a str> {
    row.get(name).and_then(|v| v.as_deref())
}

/// A numeric column, if present, not NULL and numeric.
pub(crate) fn number(row: &Row, name: &str) -> Option<f64> {
    text(row, name).and_then(|v| v.trim().parse::<f64>().ok())
}

/// `t`/`on`/`true` → true, `f`/`off`/`false` → false (PostgreSQL's spellings), else None.
pub(crate) fn switch(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "t" | "true" | "on" | "yes" | "1" => Some(true),
        "f" | "false" | "off" | "no" | "0" => Some(false),
        _ => None,
    }
}

fn boolean(row: &Row, name: &str) -> Option<bool> {
    text(row, name).and_then(switch)
}

/// The server-wide state from [`STATE_SQL`].
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ServerState {
    pub version: Option<String>,
    /// Postmaster start, Unix seconds.
    pub started_unix: Option<f64>,
    pub uptime_secs: Option<f64>,
    pub in_recovery: Option<bool>,
    pub default_read_only: Option<bool>,
    pub transaction_read_only: Option<bool>,
    pub max_connections: Option<f64>,
    /// Client backends connected now (this check's included).
    pub backends: Option<f64>,
    /// Age of the oldest open transaction of another session; None when none.
    pub oldest_xact_secs: Option<f64>,
    /// Standby: seconds since the last replayed transaction committed on the primary.
    pub replay_age_secs: Option<f64>,
    /// Standby: WAL received but not yet replayed, bytes.
    pub replay_backlog_bytes: Option<f64>,
    /// Standby: whether replay is paused.
    pub replay_paused: Option<bool>,
}

impl ServerState {
    /// Reads the [`STATE_SQL`] row.
    pub fn from_row(row: &Row) -> Self {
        ServerState {
            version: text(row, "version").map(str::to_string),
            started_unix: number(row, "started"),
            uptime_secs: number(row, "uptime"),
            in_recovery: boolean(row, "in_recovery"),
            default_read_only: boolean(row, "default_transaction_read_only"),
            transaction_read_only: boolean(row, "transaction_read_only"),
            max_connections: number(row, "max_connections"),
            backends: number(row, "backends"),
            oldest_xact_secs: number(row, "oldest_xact"),
            replay_age_secs: number(row, "replay_age"),
            replay_backlog_bytes: number(row, "replay_backlog"),
            replay_paused: boolean(row, "replay_paused"),
        }
    }

    /// A standby's replay lag in seconds: 0 when it has replayed all the WAL
    /// it received (an idle primary must not make its standbys look late),
    /// else the age of the last replayed transaction; None when unknown.
    pub fn standby_lag_secs(&self) -> Option<f64> {
        match (self.replay_backlog_bytes, self.replay_age_secs) {
            (Some(b), _) if b <= 0.0 => Some(0.0),
            (_, Some(age)) => Some(age.max(0.0)),
            _ => None,
        }
    }
}

/// The WAL receiver of a standby, from [`RECEIVER_SQL`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Receiver {
    /// `streaming`, `starting`, `waiting`, `stopping`…; None when not visible.
    pub status: Option<String>,
    /// `host:port` of the sending server ("" when not visible).
    pub sender: String,
    pub last_msg_age_secs: Option<f64>,
}

impl Receiver {
    /// Reads a [`RECEIVER_SQL`] row.
    pub fn from_row(row: &Row) -> Self {
        let host = text(row, "sender_host").unwrap_or("");
        let sender = match text(row, "sender_port") {
            Some(port) if !host.is_empty() => format!("{host}:{port}"),
            _ => host.to_string(),
        };
        Receiver {
            status: text(row, "status").map(str::to_string),
            sender,
            last_msg_age_secs: number(row, "last_msg_age"),
        }
    }
}

/// One standby streaming from this server, from [`CLIENTS_SQL`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReplicationClient {
    /// `application_name`, else the client address.
    pub name: String,
    pub state: String,
    /// Seconds; None when NULL (no recent activity: caught up).
    pub write_lag: Option<f64>,
    pub flush_lag: Option<f64>,
    pub replay_lag: Option<f64>,
    /// Bytes of WAL not yet replayed by the client.
    pub data_delay: Option<f64>,
}

impl ReplicationClient {
    /// Reads a [`CLIENTS_SQL`] row.
    pub fn from_row(row: &Row) -> Self {
        let name = match text(row, "application_name") {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => text(row, "client_addr").unwrap_or("unknown").to_string(),
        };
        ReplicationClient {
            name,
            state: text(row, "state").unwrap_or("unknown").to_string(),
            write_lag: number(row, "write_lag"),
            flush_lag: number(row, "flush_lag"),
            replay_lag: number(row, "replay_lag"),
            data_delay: number(row, "data_delay"),
        }
    }
}

/// Counters of one database, from [`DATABASES_SQL`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DatabaseStats {
    pub name: String,
    pub backends: Option<f64>,
    pub commits: Option<f64>,
    pub rollbacks: Option<f64>,
    pub deadlocks: Option<f64>,
}

impl DatabaseStats {
    /// Reads a [`DATABASES_SQL`] row.
    pub fn from_row(row: &Row) -> Self {
        DatabaseStats {
            name: text(row, "datname").unwrap_or("").to_string(),
            backends: number(row, "numbackends"),
            commits: number(row, "xact_commit"),
            rollbacks: number(row, "xact_rollback"),
            deadlocks: number(row, "deadlocks"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn row(pairs: &[(&str, Option<&str>)]) -> Row {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect()
    }

    #[test]
    fn parses_the_state_row_and_tolerates_garbage() {
        let s = ServerState::from_row(&row(&[
            ("version", Some("15.14 (Debian 15.14-0+deb12u1)")),
            ("in_recovery", Some("f")),
            ("default_transaction_read_only", Some("off")),
            ("max_connections", Some("100")),
            ("backends", Some("7")),
            ("oldest_xact", None),
            ("uptime", Some("not-a-number")),
        ]));
        assert_eq!(s.in_recovery, Some(false));
        assert_eq!(s.default_read_only, Some(false));
        assert_eq!(s.transaction_read_only, None);
        assert_eq!(s.max_connections, Some(100.0));
        assert_eq!(s.oldest_xact_secs, None);
        assert_eq!(s.uptime_secs, None, "unparsable is unknown");
        assert_eq!(ServerState::from_row(&Row::new()), ServerState::default());
    }

    #[test]
    fn standby_lag_cases() {
        let cases = [
            (Some(0.0), Some(500.0), Some(0.0)),
            (Some(8192.0), Some(4.5), Some(4.5)),
            (None, Some(3.0), Some(3.0)),
            (Some(10.0), None, None),
            (None, None, None),
            (Some(10.0), Some(-0.2), Some(0.0)),
        ];
        for (backlog, age, want) in cases {
            let s = ServerState {
                replay_backlog_bytes: backlog,
                replay_age_secs: age,
                ..ServerState::default()
            };
            assert_eq!(s.standby_lag_secs(), want, "{backlog:?} {age:?}");
        }
    }

    #[test]
    fn receiver_and_clients() {
        let r = Receiver::from_row(&row(&[
            ("status", Some("streaming")),
            ("sender_host", Some("/tmp/sock")),
            ("sender_port", Some("5432")),
        ]));
        assert_eq!(r.sender, "/tmp/sock:5432");
        assert_eq!(r.status.as_deref(), Some("streaming"));
        let c = ReplicationClient::from_row(&row(&[
            ("application_name", Some("")),
            ("client_addr", Some("10.0.0.2")),
            ("state", Some("streaming")),
            ("replay_lag", Some("0.25")),
        ]));
        assert_eq!(c.name, "10.0.0.2");
        assert_eq!(c.replay_lag, Some(0.25));
        assert_eq!(c.write_lag, None);
        for (text, want) in [("t", Some(true)), ("off", Some(false)), ("maybe", None)] {
            assert_eq!(switch(text), want, "{text}");
        }
    }
}
