//! Galera (MariaDB Galera Cluster, Percona XtraDB Cluster): a node is ready
//! when it belongs to the Primary component and is Synced, as the Percona
//! operators' readiness scripts decide it. Read from `wsrep_%` status.

use super::status::{Vars, flag_var, number};
use crate::report::{MetricValue, flag, metric};

/// `wsrep_local_state` of a donor (allowed to be ready by config).
const DONOR_STATE: u64 = 2;

/// A Galera node's state.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GaleraState {
    /// `wsrep_cluster_status`: Primary, non-Primary, Disconnected.
    pub cluster_status: String,
    /// `wsrep_local_state`: 1 joining, 2 donor, 3 joined, 4 synced.
    pub local_state: Option<u64>,
    /// `wsrep_local_state_comment`: Synced, Donor/Desynced, Joining, …
    pub local_state_comment: String,
    /// `wsrep_ready`.
    pub ready: Option<bool>,
    /// `wsrep_cluster_size`.
    pub cluster_size: Option<u64>,
}

impl GaleraState {
    /// The node's state, or None when wsrep is off (not a Galera node).
    pub fn from_vars(variables: &Vars, status: &Vars) -> Option<Self> {
        if flag_var(variables, "wsrep_on") != Some(true) {
            return None;
        }
        let text = |n: &str| status.get(n).cloned().unwrap_or_default();
        Some(GaleraState {
            cluster_status: text("wsrep_cluster_status"),
            local_state: number(status, "wsrep_local_state").map(|v| v as u64),
            local_state_comment: text("wsrep_local_state_comment"),
            ready: flag_var(status, "wsrep_ready"),
            cluster_size: number(status, "wsrep_cluster_size").map(|v| v as u64),
        })
    }

    fn synced(&self) -> bool {
        self.local_state == Some(4) || self.local_state_comment.eq_ignore_ascii_case("synced")
    }

    /// Every reason this node is not ready.
    pub fn failures(&self, donor_ready: bool) -> Vec<String> {
        let mut out = Vec::new();
        if !self.cluster_status.eq_ignore_ascii_case("primary") {
            out.push(format!(
                "galera: cluster status is {:?}, not Primary (wsrep_cluster_status)",
                self.cluster_status
            ));
        }
        let donor = self.local_state == Some(DONOR_STATE);
        if !(self.synced() || (donor_ready && donor)) {
            out.push(format!(
                "galera: node state is {:?}, not Synced (wsrep_local_state_comment)",
                self.local_state_comment
            ));
        }
        if self.ready != Some(true) {
            out.push("galera: wsrep_ready is not ON".to_string());
        }
        out
    }

    /// One line for a passing verdict.
    pub fn describe(&self) -> String {
        let size = self.cluster_size.map_or("?".to_string(), |s| s.to_string());
        format!(
            "galera: {}, {}, cluster size {size}",
            self.cluster_status, self.local_state_comment
        )
    }
}

metric!(
    READY,
    "mysql.galera.ready",
    "",
    Gauge,
    "1 when wsrep_ready is ON."
);
metric!(
    PRIMARY,
    "mysql.galera.cluster.primary",
    "",
    Gauge,
    "1 when the node is in the Primary component."
);
metric!(
    CLUSTER_SIZE,
    "mysql.galera.cluster.size",
    "{nodes}",
    Gauge,
    "Nodes in the cluster (wsrep_cluster_size)."
);
metric!(
    LOCAL_STATE,
    "mysql.galera.local_state",
    "",
    Gauge,
    "wsrep_local_state: 1 joining, 2 donor, 3 joined, 4 synced."
);

/// Galera metrics; every series of a Galera node is always emitted.
pub(crate) fn metrics(state: &GaleraState, out: &mut Vec<MetricValue>) {
    out.push(MetricValue::new(&READY, flag(state.ready == Some(true))));
    let primary = state.cluster_status.eq_ignore_ascii_case("primary");
    out.push(MetricValue::new(&PRIMARY, flag(primary)));
    let size = state.cluster_size.map_or(f64::NAN, |s| s as f64);
    out.push(MetricValue::new(&CLUSTER_SIZE, size));
    let local = state.local_state.map_or(f64::NAN, |s| s as f64);
    out.push(MetricValue::new(&LOCAL_STATE, local));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mysql::status::vars_from_pairs;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        vars_from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn only_wsrep_nodes_are_galera() {
        let status = vars(&[
            ("wsrep_cluster_status", "Disconnected"),
            ("wsrep_ready", "OFF"),
        ]);
        assert!(GaleraState::from_vars(&vars(&[("wsrep_on", "OFF")]), &status).is_none());
        assert!(GaleraState::from_vars(&Vars::new(), &status).is_none());
        assert!(GaleraState::from_vars(&vars(&[("wsrep_on", "ON")]), &status).is_some());
    }

    #[test]
    fn readiness_cases() {
        let on = vars(&[("wsrep_on", "ON")]);
        type Case<'a> = (&'a [(&'a str, &'a str)], bool, &'a [&'a str]);
        let cases: [Case; 4] = [
            (
                &[
                    ("wsrep_cluster_status", "Primary"),
                    ("wsrep_local_state", "4"),
                    ("wsrep_local_state_comment", "Synced"),
                    ("wsrep_ready", "ON"),
                ],
                false,
                &[],
            ),
            (
                &[
                    ("wsrep_cluster_status", "Primary"),
                    ("wsrep_local_state", "2"),
                    ("wsrep_local_state_comment", "Donor/Desynced"),
                    ("wsrep_ready", "ON"),
                ],
                false,
                &[
                    "galera: node state is \"Donor/Desynced\", not Synced (wsrep_local_state_comment)",
                ],
            ),
            (
                &[
                    ("wsrep_cluster_status", "Primary"),
                    ("wsrep_local_state", "2"),
                    ("wsrep_local_state_comment", "Donor/Desynced"),
                    ("wsrep_ready", "ON"),
                ],
                true,
                &[],
            ),
            (
                &[
                    ("wsrep_cluster_status", "non-Primary"),
                    ("wsrep_local_state", "1"),
                    ("wsrep_local_state_comment", "Joining"),
                    ("wsrep_ready", "OFF"),
                ],
                false,
                &[
                    "galera: cluster status is \"non-Primary\", not Primary (wsrep_cluster_status)",
                    "galera: node state is \"Joining\", not Synced (wsrep_local_state_comment)",
                    "galera: wsrep_ready is not ON",
                ],
            ),
        ];
        for (status, donor_ok, want) in cases {
            let g = GaleraState::from_vars(&on, &vars(status)).expect("galera");
            assert_eq!(g.failures(donor_ok), want, "{status:?}");
            let mut out = Vec::new();
            metrics(&g, &mut out);
            assert_eq!(out.len(), 4);
        }
    }
}
