//! `sextant query`: PromQL from a terminal. Sends the query to a collector's
//! Prometheus API and prints the answer as a table, or as JSON with `--json`.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::Value;

/// Flags of `sextant query`.
#[derive(Args)]
pub struct QueryArgs {
    /// The PromQL expression.
    expr: String,
    /// Evaluation time for an instant query (Unix seconds or RFC 3339; default now).
    #[arg(long, conflicts_with_all = ["start", "end", "step"])]
    time: Option<String>,
    /// Range query start (Unix seconds or RFC 3339).
    #[arg(long, requires_all = ["end", "step"])]
    start: Option<String>,
    /// Range query end.
    #[arg(long, requires_all = ["start", "step"])]
    end: Option<String>,
    /// Range query step (seconds or a duration such as 15s).
    #[arg(long, requires_all = ["start", "end"])]
    step: Option<String>,
    /// The collector's HTTP API.
    #[arg(long, default_value = "http://127.0.0.1:9464")]
    url: String,
    /// Print the API's JSON answer instead of a table.
    #[arg(long)]
    json: bool,
    /// File holding a bearer token for a protected collector.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// PEM CA file for an https:// collector with a private CA (trusted
    /// instead of the system's CAs).
    #[arg(long)]
    ca_file: Option<PathBuf>,
}

/// Runs the query and prints the result; errors carry Prometheus's `errorType`.
pub async fn run(args: QueryArgs) -> Result<()> {
    // The one client TLS every outbound connection uses: the CA file, when
    // given, replaces the system roots, as for the agent's exporter.
    let tls = sextant_tls::Connector::new(&sextant_tls::TlsSettings {
        ca_file: args.ca_file.clone(),
        ..Default::default()
    })
    .context("--ca-file")?;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(130))
        .use_preconfigured_tls(tokio_rustls::rustls::ClientConfig::clone(&tls.config()))
        .build()
        .context("cannot build the HTTP client")?;
    let (path, mut form) = match (&args.start, &args.end, &args.step) {
        (Some(s), Some(e), Some(st)) => (
            "/api/v1/query_range",
            vec![
                ("start", s.clone()),
                ("end", e.clone()),
                ("step", st.clone()),
            ],
        ),
        _ => (
            "/api/v1/query",
            args.time.iter().map(|t| ("time", t.clone())).collect(),
        ),
    };
    form.push(("query", args.expr.clone()));
    let url = format!("{}{path}", args.url.trim_end_matches('/'));
    let mut req = client.post(&url).form(&form);
    if let Some(f) = &args.token_file {
        let token =
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        req = req.bearer_auth(token.trim());
    }
    let resp = req
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = resp.status();
    let body: Value = resp
        .json()
        .await
        .with_context(|| format!("{url} answered {status} without JSON"))?;
    if body["status"] != "success" {
        bail!(
            "{}: {}",
            body["errorType"].as_str().unwrap_or("error"),
            body["error"].as_str().unwrap_or("unknown error")
        );
    }
    let out = if args.json {
        format!("{body:#}\n")
    } else {
        render(&body["data"])
    };
    print!("{out}");
    for (kind, key) in [("warning", "warnings"), ("info", "infos")] {
        for w in body[key].as_array().into_iter().flatten() {
            eprintln!("{kind}: {}", w.as_str().unwrap_or_default());
        }
    }
    Ok(())
}

/// Renders a Prometheus `data` object as an aligned text table.
fn render(data: &Value) -> String {
    let result = &data["result"];
    match data["resultType"].as_str() {
        Some("scalar") | Some("string") => format!("{}\n", result[1].as_str().unwrap_or_default()),
        Some("vector") => {
            let rows: Vec<(String, String)> = result
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| {
                    (
                        labels(&s["metric"]),
                        s["value"][1].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            table(&rows, "SERIES", "VALUE")
        }
        Some("matrix") => {
            let mut out = String::new();
            for s in result.as_array().into_iter().flatten() {
                let _ = writeln!(out, "{}", labels(&s["metric"]));
                for p in s["values"].as_array().into_iter().flatten() {
                    let _ = writeln!(out, "  {}  {}", p[0], p[1].as_str().unwrap_or_default());
                }
            }
            if out.is_empty() {
                "no data\n".to_string()
            } else {
                out
            }
        }
        _ => format!("{data:#}\n"),
    }
}

/// `name{a="b", c="d"}` as PromQL writes a series.
fn labels(metric: &Value) -> String {
    let Some(map) = metric.as_object() else {
        return "{}".to_string();
    };
    let name = map.get("__name__").and_then(Value::as_str).unwrap_or("");
    let pairs: Vec<String> = map
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}={}", serde_json::to_string(v).unwrap_or_default()))
        .collect();
    if pairs.is_empty() && !name.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{}}}", pairs.join(", "))
    }
}

fn table(rows: &[(String, String)], left: &str, right: &str) -> String {
    if rows.is_empty() {
        return "no data\n".to_string();
    }
    let width = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0)
        .max(left.len());
    let mut out = format!("{left:width$}  {right}\n");
    for (l, r) in rows {
        let _ = writeln!(out, "{l:width$}  {r}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_each_result_type() {
        let vector = json!({"resultType": "vector", "result": [
            {"metric": {"__name__": "up", "job": "a"}, "value": [1, "1"]},
            {"metric": {"job": "bb"}, "value": [1, "NaN"]}
        ]});
        assert_eq!(
            render(&vector),
            "SERIES       VALUE\nup{job=\"a\"}  1\n{job=\"bb\"}   NaN\n"
        );
        assert_eq!(
            render(&json!({"resultType": "scalar", "result": [1, "2"]})),
            "2\n"
        );
        let matrix = json!({"resultType": "matrix", "result": [
            {"metric": {"__name__": "x"}, "values": [[10, "1"], [25, "2"]]}
        ]});
        assert_eq!(render(&matrix), "x\n  10  1\n  25  2\n");
        assert_eq!(
            render(&json!({"resultType": "vector", "result": []})),
            "no data\n"
        );
    }
}
