//! Replica status: which statement each server wants, both column
//! vocabularies (Slave/Master and Replica/Source) matched by name, the lag as
//! the mixin defines it (`Seconds_Behind_* − SQL_Delay`), and metrics that
//! never drop a series when the lag is NULL.

use std::time::Duration;

use super::Row;
use super::status::{Flavour, ServerInfo, switch};
use crate::report::{MetricDef, MetricValue, flag, metric};

/// The statement listing every replication channel of this server.
///
/// MariaDB: `SHOW ALL REPLICAS STATUS` from 10.5.1, `SHOW ALL SLAVES STATUS`
/// before (both cover multi-source). MySQL: `SHOW REPLICA STATUS` from
/// 8.0.22 (8.4 removed the SLAVE form), `SHOW SLAVE STATUS` before. Unknown
/// servers get the oldest form.
pub(crate) fn statement(info: Option<&ServerInfo>) -> &'static str {
    match info {
        Some(i) if i.flavour == Flavour::Mariadb && i.version >= (10, 5, 1) => {
            "SHOW ALL REPLICAS STATUS"
        }
        Some(i) if i.flavour == Flavour::Mariadb => "SHOW ALL SLAVES STATUS",
        Some(i) if i.version >= (8, 0, 22) => "SHOW REPLICA STATUS",
        _ => "SHOW SLAVE STATUS",
    }
}

/// State of the replica's I/O (receiver) thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IoState {
    Running,
    Connecting,
    Stopped,
}

impl IoState {
    fn parse(text: Option<&str>) -> Self {
        match text.map(str::trim) {
            Some(t) if t.eq_ignore_ascii_case("connecting") => IoState::Connecting,
            Some(t) if switch(t) == Some(true) => IoState::Running,
            _ => IoState::Stopped,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            IoState::Running => "running",
            IoState::Connecting => "connecting",
            IoState::Stopped => "stopped",
        }
    }
}

/// One replication channel, in one vocabulary whatever the server spoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Channel {
    /// Channel_Name (MySQL) or Connection_name (MariaDB); "" for the default.
    pub name: String,
    /// `host:port` of the source.
    pub source: String,
    pub io: IoState,
    pub sql_running: bool,
    /// Seconds_Behind_Master / Seconds_Behind_Source; None when NULL.
    pub seconds_behind: Option<u64>,
    pub sql_delay: u64,
    pub last_io_error: String,
    pub last_sql_error: String,
}

fn get<'a>(row: &'a Row, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| row.get(*n).and_then(|v| v.as_deref()))
}

impl Channel {
    /// Reads a status row by column name (either vocabulary).
    pub fn from_row(row: &Row) -> Self {
        let text = |names: &[&str]| get(row, names).unwrap_or("").trim().to_string();
        let host = text(&["source_host", "master_host"]);
        let port = text(&["source_port", "master_port"]);
        Channel {
            name: text(&["channel_name", "connection_name"]),
            source: if port.is_empty() {
                host
            } else {
                format!("{host}:{port}")
            },
            io: IoState::parse(get(row, &["replica_io_running", "slave_io_running"])),
            sql_running: get(row, &["replica_sql_running", "slave_sql_running"])
                .and_then(switch)
                .unwrap_or(false),
            seconds_behind: get(row, &["seconds_behind_source", "seconds_behind_master"])
                .and_then(|v| v.trim().parse().ok()),
            sql_delay: get(row, &["sql_delay"])
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0),
            last_io_error: text(&["last_io_error"]),
            last_sql_error: text(&["last_sql_error"]),
        }
    }

    /// Lag beyond the intended delay; None when the server does not know.
    pub fn lag(&self) -> Option<u64> {
        self.seconds_behind
            .map(|s| s.saturating_sub(self.sql_delay))
    }

    fn label(&self) -> String {
        if self.name.is_empty() {
            "replica".to_string()
        } else {
            format!("replica channel '{}'", self.name)
        }
    }

    /// Every reason this channel keeps the server from being ready.
    pub fn failures(&self, max_lag: Duration) -> Vec<String> {
        let label = self.label();
        let mut out = Vec::new();
        if self.io != IoState::Running {
            let mut why = format!("{label}: IO thread {}", self.io.as_str());
            if !self.last_io_error.is_empty() {
                why.push_str(&format!(" (Last_IO_Error: {})", self.last_io_error));
            }
            out.push(why);
        }
        if !self.sql_running {
            let mut why = format!("{label}: SQL thread not running");
            if !self.last_sql_error.is_empty() {
                why.push_str(&format!(" (Last_SQL_Error: {})", self.last_sql_error));
            }
            out.push(why);
        }
        if !out.is_empty() {
            return out;
        }
        match self.lag() {
            None => out.push(format!(
                "{label}: lag unknown (Seconds_Behind_Source is NULL)"
            )),
            Some(lag) if lag > max_lag.as_secs() => out.push(format!(
                "{label}: lag {lag}s exceeds max_replica_lag {}s",
                max_lag.as_secs()
            )),
            Some(_) => {}
        }
        out
    }

    /// One line for a passing verdict.
    pub fn describe(&self) -> String {
        let lag = self
            .lag()
            .map_or("unknown".to_string(), |l| format!("{l}s"));
        format!(
            "{} from {}: threads running, lag {lag}",
            self.label(),
            self.source
        )
    }
}

metric!(
    TIME_BEHIND_SOURCE,
    "mysql.replica.time_behind_source",
    "s",
    Gauge,
    "Replica lag (Seconds_Behind_Source - SQL_Delay); NaN when unknown, see mysql.replica.lag_known."
);
metric!(
    LAG_KNOWN,
    "mysql.replica.lag_known",
    "",
    Gauge,
    "1 when the replica knows its lag, 0 when Seconds_Behind_Source is NULL."
);
metric!(
    SQL_DELAY,
    "mysql.replica.sql_delay",
    "s",
    Gauge,
    "Configured replication delay (SQL_Delay)."
);
metric!(
    THREAD_RUNNING,
    "mysql.replica.thread.running",
    "",
    Gauge,
    "1 when the replica thread (thread=io|sql) runs; an IO thread still connecting is 0."
);
metric!(
    LAST_ERROR,
    "mysql.replica.error",
    "",
    Gauge,
    "1 when the replica thread (thread=io|sql) has a Last_*_Error."
);

/// Per-channel metrics; every channel gets every series, whatever its state.
pub(crate) fn metrics(channels: &[Channel], out: &mut Vec<MetricValue>) {
    for c in channels {
        let ch = |def: &'static MetricDef, v: f64| MetricValue::with(def, "channel", &c.name, v);
        let lag = c.lag();
        out.push(ch(&TIME_BEHIND_SOURCE, lag.map_or(f64::NAN, |l| l as f64)));
        out.push(ch(&LAG_KNOWN, flag(lag.is_some())));
        out.push(ch(&SQL_DELAY, c.sql_delay as f64));
        let io = c.io == IoState::Running;
        out.push(ch(&THREAD_RUNNING, flag(io)).attr("thread", "io"));
        out.push(ch(&THREAD_RUNNING, flag(c.sql_running)).attr("thread", "sql"));
        let io_err = !c.last_io_error.is_empty();
        out.push(ch(&LAST_ERROR, flag(io_err)).attr("thread", "io"));
        let sql_err = !c.last_sql_error.is_empty();
        out.push(ch(&LAST_ERROR, flag(sql_err)).attr("thread", "sql"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mysql::status::vars_from_pairs;

    fn row(pairs: &[(&str, Option<&str>)]) -> Row {
        pairs
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.map(str::to_string)))
            .collect()
    }

    #[test]
    fn statement_by_flavour_and_version() {
        let cases = [
            ("8.0.21", "", "SHOW SLAVE STATUS"),
            ("8.0.22", "", "SHOW REPLICA STATUS"),
            ("8.4.3", "", "SHOW REPLICA STATUS"),
            ("5.7.44-log", "", "SHOW SLAVE STATUS"),
            ("10.4.30-MariaDB", "", "SHOW ALL SLAVES STATUS"),
            ("10.5.1-MariaDB", "", "SHOW ALL REPLICAS STATUS"),
            ("10.11.6-MariaDB-0+deb12u1", "", "SHOW ALL REPLICAS STATUS"),
        ];
        for (version, comment, want) in cases {
            let v = vars_from_pairs([
                ("version".to_string(), version.to_string()),
                ("version_comment".to_string(), comment.to_string()),
            ]);
            let info = ServerInfo::from_variables(&v);
            assert_eq!(statement(info.as_ref()), want, "{version}");
        }
        assert_eq!(statement(None), "SHOW SLAVE STATUS");
    }

    #[test]
    fn both_vocabularies_parse_the_same() {
        let mysql84 = row(&[
            ("Source_Host", Some("db1")),
            ("Source_Port", Some("3306")),
            ("Replica_IO_Running", Some("Yes")),
            ("Replica_SQL_Running", Some("Yes")),
            ("Seconds_Behind_Source", Some("45")),
            ("SQL_Delay", Some("30")),
            ("Last_IO_Error", Some("")),
            ("Last_SQL_Error", Some("")),
            ("Channel_Name", Some("")),
        ]);
        let maria = row(&[
            ("Connection_name", Some("")),
            ("Master_Host", Some("db1")),
            ("Master_Port", Some("3306")),
            ("Slave_IO_Running", Some("Yes")),
            ("Slave_SQL_Running", Some("Yes")),
            ("Seconds_Behind_Master", Some("45")),
            ("SQL_Delay", Some("30")),
            ("Last_IO_Error", Some("")),
            ("Last_SQL_Error", None),
        ]);
        let a = Channel::from_row(&mysql84);
        assert_eq!(a, Channel::from_row(&maria));
        assert_eq!(a.lag(), Some(15));
        assert_eq!(a.source, "db1:3306");
    }

    #[test]
    fn readiness_failures_per_channel() {
        let max = Duration::from_secs(30);
        let base = Channel {
            name: String::new(),
            source: "db1:3306".into(),
            io: IoState::Running,
            sql_running: true,
            seconds_behind: Some(0),
            sql_delay: 0,
            last_io_error: String::new(),
            last_sql_error: String::new(),
        };
        type Edit = fn(&mut Channel);
        let cases: [(Edit, &[&str]); 7] = [
            (|_| {}, &[]),
            (|c| c.seconds_behind = Some(30), &[]),
            (
                |c| c.seconds_behind = Some(31),
                &["replica: lag 31s exceeds max_replica_lag 30s"],
            ),
            (
                |c| {
                    c.seconds_behind = Some(100);
                    c.sql_delay = 80;
                },
                &[],
            ),
            (
                |c| c.seconds_behind = None,
                &["replica: lag unknown (Seconds_Behind_Source is NULL)"],
            ),
            (
                |c| {
                    c.sql_running = false;
                    c.seconds_behind = None;
                    c.last_sql_error = "Duplicate entry '1'".into();
                },
                &["replica: SQL thread not running (Last_SQL_Error: Duplicate entry '1')"],
            ),
            (
                |c| {
                    c.name = "east".into();
                    c.io = IoState::Connecting;
                    c.last_io_error = "error connecting to master".into();
                },
                &[
                    "replica channel 'east': IO thread connecting (Last_IO_Error: error connecting to master)",
                ],
            ),
        ];
        for (edit, want) in cases {
            let mut c = base.clone();
            edit(&mut c);
            assert_eq!(c.failures(max), want, "{c:?}");
        }
    }

    #[test]
    fn null_lag_keeps_every_series() {
        let c = Channel::from_row(&row(&[
            ("Slave_IO_Running", Some("Connecting")),
            ("Slave_SQL_Running", Some("No")),
            ("Seconds_Behind_Master", None),
        ]));
        assert_eq!(c.io, IoState::Connecting);
        let mut out = Vec::new();
        metrics(&[c], &mut out);
        let names: Vec<&str> = out.iter().map(|m| m.def.name).collect();
        assert_eq!(out.len(), 7, "{names:?}");
        let lag = out
            .iter()
            .find(|m| m.def.name == "mysql.replica.time_behind_source")
            .expect("lag series present");
        assert!(lag.value.is_nan());
        let known = out
            .iter()
            .find(|m| m.def.name == "mysql.replica.lag_known")
            .expect("lag_known present");
        assert_eq!(known.value, 0.0);
    }
}
