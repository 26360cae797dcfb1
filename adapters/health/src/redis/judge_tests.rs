//! Table tests of the verdict rules over hand-built snapshots.

use super::*;
use crate::redis::info::parse_info;

fn info(text: &str) -> Info {
    parse_info(text)
}

const MASTER: &str = "redis_version:7.0.15\nrun_id:abc\nuptime_in_seconds:100\n\
    connected_clients:3\nrejected_connections:0\nmaxclients:10000\n\
    used_memory:1000000\nmaxmemory:0\nrole:master\nmaster_repl_offset:42\n";

const REPLICA: &str = "redis_version:7.0.15\nrun_id:def\nrole:slave\nmaster_host:10.0.0.1\n\
    master_port:6379\nmaster_link_status:up\nmaster_last_io_seconds_ago:2\n\
    master_sync_in_progress:0\nslave_repl_offset:42\nrejected_connections:0\n";

fn snap(text: &str) -> Snapshot {
    Snapshot {
        ping: Duration::from_micros(500),
        not_serving: None,
        info: Ok(info(text)),
        previous: None,
    }
}

type Edit = fn(&mut Snapshot);

fn set(s: &mut Snapshot, key: &str, value: &str) {
    if let Ok(i) = &mut s.info {
        i.insert(key.to_string(), value.to_string());
    }
}

#[test]
fn readiness_by_role() {
    type Case = (
        &'static str,
        &'static str,
        Edit,
        Result<&'static str, &'static str>,
    );
    let cases: [Case; 9] = [
        ("master", MASTER, |_| {}, Ok("master: answers PING")),
        (
            "replica",
            REPLICA,
            |_| {},
            Ok("replica of 10.0.0.1:6379: link up, last I/O 2s ago"),
        ),
        (
            "replica, link down",
            REPLICA,
            |s| {
                set(s, "master_link_status", "down");
                set(s, "master_link_down_since_seconds", "7");
                set(s, "master_last_io_seconds_ago", "-1");
            },
            Err("replica: link to master 10.0.0.1:6379 is down for 7s"),
        ),
        (
            "replica, syncing",
            REPLICA,
            |s| set(s, "master_sync_in_progress", "1"),
            Err("replica: initial sync from master 10.0.0.1:6379 in progress"),
        ),
        (
            "replica, silent master",
            REPLICA,
            |s| set(s, "master_last_io_seconds_ago", "31"),
            Err("replica: last I/O from master 31s ago, over 30s"),
        ),
        (
            "loading",
            MASTER,
            |s| s.not_serving = Some("LOADING Redis is loading the dataset in memory".into()),
            Err("not serving: LOADING Redis is loading the dataset in memory"),
        ),
        (
            "masterdown",
            REPLICA,
            |s| s.not_serving = Some("MASTERDOWN Link with MASTER is down".into()),
            Err("not serving: MASTERDOWN Link with MASTER is down"),
        ),
        (
            "no role",
            "redis_version:7.0.15\n",
            |_| {},
            Err("role unknown (no role in INFO replication)"),
        ),
        (
            "INFO failed",
            MASTER,
            |s| s.info = Err("no answer".into()),
            Err("could not read INFO: no answer"),
        ),
    ];
    let cfg = RedisConfig::default();
    for (name, text, edit, want) in cases {
        let mut s = snap(text);
        edit(&mut s);
        let v = judge(&s, &cfg);
        assert!(v.live.ok, "{name}: a server that answered PING is live");
        let got = if v.ready.ok {
            Ok(v.ready.summary())
        } else {
            Err(v.ready.summary())
        };
        let want = want.map(str::to_string).map_err(str::to_string);
        assert_eq!(got, want, "{name}");
    }
    let mut loading = snap(MASTER);
    loading.not_serving = Some("LOADING Redis is loading".into());
    assert_eq!(
        judge(&loading, &cfg).live.summary(),
        "answered PING in 0.5ms with LOADING Redis is loading"
    );
    assert_eq!(
        judge(&snap(MASTER), &cfg).live.summary(),
        "answered PING with PONG in 0.5ms"
    );
}

#[test]
fn degraded_never_fails_a_probe() {
    let prev = |run_id: &str, n: f64| Previous {
        run_id: run_id.to_string(),
        rejected_connections: n,
    };
    let cases: [(&str, Edit, &[&str]); 6] = [
        ("healthy", |_| {}, &[]),
        (
            "memory near maxmemory",
            |s| set(s, "maxmemory", "1200000"),
            &["memory: used_memory 1000000 is 83% of maxmemory 1200000, over 80%"],
        ),
        (
            "memory at the threshold",
            |s| set(s, "maxmemory", "1250000"),
            &[],
        ),
        (
            "rejections since the last check",
            |s| set(s, "rejected_connections", "5"),
            &[
                "rejected_connections: 3 connections rejected since the last check (maxclients 10000)",
            ],
        ),
        (
            "restart resets counters",
            |s| {
                set(s, "rejected_connections", "5");
                set(s, "run_id", "new");
            },
            &[],
        ),
        (
            "INFO unreadable",
            |s| s.info = Err("timeout".into()),
            &["incomplete: could not read INFO: timeout"],
        ),
    ];
    let cfg = RedisConfig::default();
    for (name, edit, want) in cases {
        let mut s = snap(MASTER);
        s.previous = Some(prev("abc", 2.0));
        edit(&mut s);
        let v = judge(&s, &cfg);
        assert_eq!(v.ready.ok, s.info.is_ok(), "{name}: {v}");
        let got: Vec<String> = v.degraded.iter().map(ToString::to_string).collect();
        assert_eq!(got, want, "{name}");
    }
    assert_eq!(snap(MASTER).remember(), Some(prev("abc", 0.0)));
}

#[test]
fn metrics_follow_the_redisreceiver_names() {
    let find = |out: &[MetricValue], name: &str, attr: Option<&str>| {
        out.iter()
            .find(|m| {
                m.def.name == name && attr.is_none_or(|a| m.attributes.iter().any(|(_, v)| v == a))
            })
            .map(|m| m.value)
    };
    let mut master = snap(MASTER);
    set(&mut master, "maxmemory", "4000000");
    let out = metrics(&master);
    assert_eq!(find(&out, "redis.clients.connected", None), Some(3.0));
    assert_eq!(find(&out, "redis.memory.utilization", None), Some(0.25));
    assert_eq!(find(&out, "redis.role", Some("primary")), Some(1.0));
    assert_eq!(find(&out, "redis.role", Some("replica")), Some(0.0));
    assert_eq!(find(&out, "redis.server.info", Some("7.0.15")), Some(1.0));
    assert_eq!(find(&out, "redis.replication.link.up", None), None);
    assert_eq!(master.started_unix_nanos(200_000_000_000), 100_000_000_000);

    let mut replica = snap(REPLICA);
    set(&mut replica, "master_link_status", "down");
    set(&mut replica, "master_last_io_seconds_ago", "-1");
    let out = metrics(&replica);
    assert_eq!(find(&out, "redis.replication.link.up", None), Some(0.0));
    let last_io = find(&out, "redis.replication.link.last_io", None).expect("kept when unknown");
    assert!(last_io.is_nan());
    assert_eq!(
        find(&out, "redis.replication.replica_offset", None),
        Some(42.0)
    );
    assert_eq!(find(&out, "redis.memory.utilization", None), None);
}
