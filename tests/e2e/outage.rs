//! The agent keeps exporting across a 60-s collector outage: afterwards the
//! agent's once-a-second host metrics have no gap across the outage, because
//! the export path queued them on disk and delivered them when the
//! collector came back.

use crate::common;
use crate::common::Kill;

use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Collector, enc, eventually, free_port};

const OUTAGE: Duration = Duration::from_secs(60);

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64()
}

/// Timestamps (seconds) of the agent's load-average samples in (end-range, end].
fn sample_times(c: &Collector, end: f64, range_s: u64) -> Vec<f64> {
    let expr = format!(r#"system_cpu_load_average_1m{{job="sextant-agent"}}[{range_s}s]"#);
    let v = c.get_json(&format!("/api/v1/query?query={}&time={end}", enc(&expr)));
    v["data"]["result"][0]["values"]
        .as_array()
        .map(|vals| vals.iter().filter_map(|p| p[0].as_f64()).collect())
        .unwrap_or_default()
}

#[test]
fn agent_loses_nothing_across_a_collector_outage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let c = Collector::start(&data);
    let (http, otlp_http, otlp_grpc) = (c.http.clone(), c.otlp_http.clone(), c.otlp_grpc.clone());
    let config = dir.path().join("agent.yaml");
    std::fs::write(
        &config,
        format!(
            "agent:\n  http_listen: 127.0.0.1:{}\n  self_metrics_interval: 1s\n  host_metrics_interval: 1s\n  traces_endpoint: \"\"\n  export:\n    endpoint: http://{otlp_http}\n    queue_dir: {}\n    batch_timeout: 200ms\n    initial_backoff: 100ms\n    max_backoff: 2s\n    request_timeout: 2s\n",
            free_port(),
            dir.path().join("queue").display()
        ),
    )
    .expect("write agent config");
    let log = std::fs::File::create(dir.path().join("agent.log")).expect("agent log");
    let _agent = Kill(
        Command::new(env!("CARGO_BIN_EXE_sextant"))
            .args(["agent", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn agent"),
    );
    eventually(Duration::from_secs(30), "first agent samples", || {
        (sample_times(&c, now_s(), 60).len() >= 3).then_some(())
    });

    let down = now_s();
    c.kill9();
    std::thread::sleep(OUTAGE);
    let c = Collector::start_on(&data, http, otlp_http, otlp_grpc);
    let up = now_s();

    // Wait for the queue to drain: samples from just after the restart arrive.
    eventually(Duration::from_secs(60), "samples after the restart", || {
        sample_times(&c, now_s(), 30)
            .iter()
            .any(|t| *t > up + 3.0)
            .then_some(())
    });
    let end = up + 3.0;
    let times = sample_times(&c, end, (end - down) as u64 + 10);
    let window: Vec<f64> = times.iter().copied().filter(|t| *t >= down - 2.0).collect();
    assert!(
        window.len() as f64 >= (end - down) * 0.9,
        "expected about one sample a second across the outage, got {} over {:.0} s",
        window.len(),
        end - down
    );
    let gap = window.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    assert!(
        gap < 3.0,
        "a {gap:.1} s gap in the agent's samples: data lost during the outage"
    );
}
