//! InnoDB signals that need their own queries: the history list length
//! (purge debt), deadlocks, and the oldest open transaction.
//!
//! MariaDB reports `Innodb_deadlocks` and `Innodb_history_list_length` as
//! status variables; MySQL only in `information_schema.INNODB_METRICS`,
//! whose "enabled" column is `STATUS` on MySQL and `ENABLED` on MariaDB, so
//! columns are matched by name and a disabled counter is never reported as 0.

use super::Row;
use super::status::{Vars, number, switch};
use crate::report::{MetricDef, MetricValue, metric};

/// The two counters read from `INNODB_METRICS`.
pub(crate) const METRICS_SQL: &str = "SELECT * FROM information_schema.INNODB_METRICS \
    WHERE NAME IN ('trx_rseg_history_len', 'lock_deadlocks')";

/// Open transactions and the age of the oldest, in seconds (needs PROCESS).
pub(crate) const TRX_SQL: &str = "SELECT COUNT(*) AS active, \
    COALESCE(MAX(TIMESTAMPDIFF(SECOND, trx_started, NOW())), 0) AS max_age \
    FROM information_schema.INNODB_TRX";

/// What the InnoDB queries and status told; None = not available.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct InnodbState {
    pub history_list: Option<u64>,
    pub deadlocks: Option<u64>,
    pub active_transactions: Option<u64>,
    pub oldest_transaction_secs: Option<u64>,
}

/// The enabled counters of `INNODB_METRICS` rows, by lower-cased name.
fn enabled_counts(rows: &[Row]) -> Vec<(String, u64)> {
    rows.iter()
        .filter_map(|row| {
            let text = |c: &str| row.get(c).and_then(|v| v.as_deref());
            let name = text("name")?.to_ascii_lowercase();
            let count = text("count")?.trim().parse::<u64>().ok()?;
            let enabled = match (text("status"), text("enabled")) {
                (Some(s), _) => s.eq_ignore_ascii_case("enabled"),
                (None, Some(e)) => switch(e).unwrap_or(false),
                (None, None) => true,
            };
            enabled.then_some((name, count))
        })
        .collect()
}

impl InnodbState {
    /// Combines `INNODB_METRICS` rows (when readable) with status variables;
    /// status wins for deadlocks (MariaDB/Percona), metrics for history.
    pub fn from_sources(metric_rows: Option<&[Row]>, status: &Vars) -> Self {
        let counts = metric_rows.map(enabled_counts).unwrap_or_default();
        let count = |n: &str| counts.iter().find(|(k, _)| k == n).map(|(_, v)| *v);
        let status_u64 = |n: &str| number(status, n).map(|v| v as u64);
        InnodbState {
            history_list: count("trx_rseg_history_len")
                .or_else(|| status_u64("innodb_history_list_length")),
            deadlocks: status_u64("innodb_deadlocks").or_else(|| count("lock_deadlocks")),
            active_transactions: None,
            oldest_transaction_secs: None,
        }
    }

    /// Adds the result row of [`TRX_SQL`].
    pub fn with_transactions(mut self, row: &Row) -> Self {
        let num = |c: &str| {
            row.get(c)
                .and_then(|v| v.as_deref())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        self.active_transactions = num("active");
        self.oldest_transaction_secs = num("max_age");
        self
    }
}

metric!(
    HISTORY_LIST,
    "mysql.innodb.history_list.length",
    "{undo_logs}",
    Gauge,
    "InnoDB history list length: undo not yet purged (purge debt)."
);
metric!(
    DEADLOCKS,
    "mysql.innodb.deadlocks",
    "{deadlocks}",
    Counter,
    "InnoDB deadlocks since the server started."
);
metric!(
    ACTIVE_TRANSACTIONS,
    "mysql.innodb.transactions.active",
    "{transactions}",
    Gauge,
    "Open InnoDB transactions (information_schema.INNODB_TRX)."
);
metric!(
    OLDEST_TRANSACTION,
    "mysql.innodb.transactions.max_duration",
    "s",
    Gauge,
    "Age of the oldest open InnoDB transaction (0 when none)."
);

/// The InnoDB metrics that are known.
pub(crate) fn metrics(state: &InnodbState, out: &mut Vec<MetricValue>) {
    let pairs: [(&'static MetricDef, Option<u64>); 4] = [
        (&HISTORY_LIST, state.history_list),
        (&DEADLOCKS, state.deadlocks),
        (&ACTIVE_TRANSACTIONS, state.active_transactions),
        (&OLDEST_TRANSACTION, state.oldest_transaction_secs),
    ];
    for (def, value) in pairs {
        if let Some(v) = value {
            out.push(MetricValue::new(def, v as f64));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mysql::status::vars_from_pairs;

    fn row(pairs: &[(&str, &str)]) -> Row {
        pairs
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), Some(v.to_string())))
            .collect()
    }

    fn status(pairs: &[(&str, &str)]) -> Vars {
        vars_from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn sources_by_flavour() {
        let mysql_rows = [
            row(&[
                ("NAME", "trx_rseg_history_len"),
                ("COUNT", "1234"),
                ("STATUS", "enabled"),
            ]),
            row(&[
                ("NAME", "lock_deadlocks"),
                ("COUNT", "7"),
                ("STATUS", "enabled"),
            ]),
        ];
        let maria_rows = [
            row(&[
                ("NAME", "trx_rseg_history_len"),
                ("COUNT", "55"),
                ("ENABLED", "1"),
            ]),
            row(&[("NAME", "lock_deadlocks"), ("COUNT", "0"), ("ENABLED", "0")]),
        ];
        let disabled = [row(&[
            ("NAME", "lock_deadlocks"),
            ("COUNT", "0"),
            ("STATUS", "disabled"),
        ])];
        let maria_status = status(&[
            ("Innodb_deadlocks", "3"),
            ("Innodb_history_list_length", "60"),
        ]);
        let empty = Vars::new();
        type Case<'a> = (Option<&'a [Row]>, &'a Vars, Option<u64>, Option<u64>);
        let cases: [Case; 5] = [
            (Some(&mysql_rows), &empty, Some(1234), Some(7)),
            (Some(&maria_rows), &maria_status, Some(55), Some(3)),
            (Some(&disabled), &empty, None, None),
            (None, &maria_status, Some(60), Some(3)),
            (None, &empty, None, None),
        ];
        for (rows, st, history, deadlocks) in cases {
            let s = InnodbState::from_sources(rows, st);
            assert_eq!(
                (s.history_list, s.deadlocks),
                (history, deadlocks),
                "{rows:?} {st:?}"
            );
        }
    }

    #[test]
    fn transactions_row() {
        let s =
            InnodbState::default().with_transactions(&row(&[("active", "2"), ("max_age", "75")]));
        assert_eq!(
            (s.active_transactions, s.oldest_transaction_secs),
            (Some(2), Some(75))
        );
        let mut out = Vec::new();
        metrics(&s, &mut out);
        let names: Vec<&str> = out.iter().map(|m| m.def.name).collect();
        assert_eq!(
            names,
            [
                "mysql.innodb.transactions.active",
                "mysql.innodb.transactions.max_duration"
            ]
        );
    }
}
