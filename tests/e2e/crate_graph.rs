//! The dependency rules of ARCHITECTURE.md, checked against the real crate
//! graph (`cargo metadata`, resolved from Cargo.lock): the model at the
//! bottom, the query engines and the store side by side, the agent and the
//! collector apart, database and HTTP clients out of the collector.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// Normal (non-dev, non-build) dependencies of each workspace package and
/// of every package in the resolved graph, by crate name.
struct Graph {
    normal: BTreeMap<String, BTreeSet<String>>,
    dev: BTreeMap<String, BTreeSet<String>>,
    workspace: BTreeSet<String>,
}

/// The host's target triple, so the graph is the one this machine builds
/// (and resolves from the local registry cache, without the network).
fn host_triple() -> String {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("run rustc -vV");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_string()
}

fn graph() -> Graph {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .args(["--filter-platform", &host_triple()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");
    let name_of: BTreeMap<String, String> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            let id = p["id"].as_str().unwrap_or_default().to_string();
            (id, p["name"].as_str().unwrap_or_default().to_string())
        })
        .collect();
    let workspace = meta["workspace_members"]
        .as_array()
        .expect("workspace members")
        .iter()
        .filter_map(|id| name_of.get(id.as_str().unwrap_or_default()).cloned())
        .collect();
    let (mut normal, mut dev) = (BTreeMap::new(), BTreeMap::new());
    for node in meta["resolve"]["nodes"].as_array().expect("resolve") {
        let from = name_of[node["id"].as_str().unwrap_or_default()].clone();
        for dep in node["deps"].as_array().expect("deps") {
            let to = name_of[dep["pkg"].as_str().unwrap_or_default()].clone();
            for kind in dep["dep_kinds"].as_array().expect("dep kinds") {
                let set = match kind["kind"].as_str() {
                    None => &mut normal,
                    Some("dev") => &mut dev,
                    Some(_) => continue,
                };
                set.entry(from.clone())
                    .or_insert_with(BTreeSet::new)
                    .insert(to.clone());
            }
        }
    }
    Graph {
        normal,
        dev,
        workspace,
    }
}

impl Graph {
    /// Everything `name` pulls in through normal dependencies, transitively.
    fn closure(&self, name: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![name.to_string()];
        while let Some(n) = todo.pop() {
            for d in self.normal.get(&n).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    todo.push(d.clone());
                }
            }
        }
        seen
    }

    /// The Sextant crates `name` depends on directly (normal dependencies).
    fn ours(&self, name: &str) -> BTreeSet<String> {
        self.normal
            .get(name)
            .into_iter()
            .flatten()
            .filter(|d| self.workspace.contains(*d))
            .cloned()
            .collect()
    }
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[test]
fn the_crate_graph_keeps_the_architecture_rules() {
    let g = graph();
    let adapters = set(&[
        "sextant-config",
        "sextant-otlp",
        "sextant-prometheus",
        "sextant-tls",
        "sextant-export",
        "sextant-health",
        "sextant-testing",
    ]);
    for krate in adapters.iter().chain([&"sextant-model".to_string()]) {
        assert!(
            g.workspace.contains(krate),
            "{krate} is not a workspace crate"
        );
    }

    // The model is the bottom: no Sextant crate below it.
    assert!(
        g.ours("sextant-model").is_empty(),
        "{:?}",
        g.ours("sextant-model")
    );
    // The store and the PromQL engine stand side by side on the model.
    assert_eq!(g.ours("sextant-store"), set(&["sextant-model"]));
    assert_eq!(g.ours("sextant-promql"), set(&["sextant-model"]));
    // The rule engine reads rules and evaluates PromQL; it knows no HTTP.
    for dep in g.ours("sextant-rules") {
        assert!(
            ["sextant-promql", "sextant-config", "sextant-model"].contains(&dep.as_str()),
            "sextant-rules depends on {dep}"
        );
    }
    for banned in ["axum", "hyper", "reqwest", "tonic"] {
        assert!(
            !g.closure("sextant-rules").contains(banned),
            "sextant-rules pulls in {banned}"
        );
    }
    // Adapters build only on the model and on each other.
    for krate in &adapters {
        for dep in g.ours(krate) {
            assert!(
                dep == "sextant-model" || adapters.contains(&dep),
                "{krate} depends on {dep}"
            );
        }
    }
    // The agent never imports the collector, nor the collector the agent.
    let collector_side = set(&[
        "sextant-collector",
        "sextant-store",
        "sextant-promql",
        "sextant-rules",
    ]);
    let agent_deps = g.closure("sextant-agent");
    assert!(
        agent_deps.is_disjoint(&collector_side),
        "the agent pulls in {:?}",
        agent_deps.intersection(&collector_side).collect::<Vec<_>>()
    );
    assert!(!g.closure("sextant-collector").contains("sextant-agent"));
    // The collector compiles no database client, no health check, no HTTP
    // client and no export path.
    let collector_deps = g.closure("sextant-collector");
    for banned in [
        "mysql_async",
        "tokio-postgres",
        "reqwest",
        "sextant-health",
        "sextant-export",
        "sextant-tls",
    ] {
        assert!(
            !collector_deps.contains(banned),
            "sextant-collector pulls in {banned}"
        );
    }
    // Test servers are a dev-dependency only.
    for (krate, deps) in &g.normal {
        assert!(
            !deps.contains("sextant-testing"),
            "{krate} has sextant-testing as a normal dependency"
        );
    }
    assert!(
        g.dev
            .get("sextant")
            .is_some_and(|d| d.contains("sextant-testing"))
    );
}
