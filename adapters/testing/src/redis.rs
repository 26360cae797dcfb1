//! Real Redis servers, started from the tests themselves.
//!
//! Each [`Redis`] runs `redis-server` on a free loopback port with
//! persistence off and its working directory in a temp dir, as a child
//! process killed (SIGKILL) on drop. [`Redis::start_tls`] serves TLS only
//! (`--port 0`, `--tls-port`), with a test CA's certificate.
//! [`Redis::command`] talks RESP to it, over TLS when the server has only
//! TLS, for setting up scenarios.
//!
//! A missing `redis-server` fails the test with a message: the test script
//! installs Debian's `redis-server`; nothing is skipped silently.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::tls::TlsFiles;
use sextant_tls::{Connector, TlsSettings};

const HOW_TO_INSTALL: &str = "Redis is required by these tests: run scripts/test.sh \
    (it installs Debian's redis-server), or `apt-get install -y redis-server`";

/// One running Redis server.
pub struct Redis {
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// TCP port on 127.0.0.1 (the TLS port of a [`start_tls`](Self::start_tls) server).
    pub port: u16,
    password: Option<String>,
    /// The client config of a TLS-only server (trusting its CA; any name).
    tls: Option<Arc<rustls::ClientConfig>>,
}

/// A byte stream to the server: plain TCP or rustls over it.
trait Io: Read + Write {}
impl<T: Read + Write> Io for T {}

fn find_server() -> PathBuf {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .map(PathBuf::from)
        .chain(["/usr/bin", "/usr/local/bin", "/usr/sbin"].map(PathBuf::from))
        .map(|d| d.join("redis-server"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("redis-server not found. {HOW_TO_INSTALL}"))
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

/// One decoded reply, flattened to text for tests (`ERR …` for errors).
fn read_reply(r: &mut impl BufRead) -> Result<String, String> {
    let mut line = String::new();
    r.read_line(&mut line).map_err(|e| e.to_string())?;
    let line = line.trim_end_matches(['\r', '\n']);
    let (kind, rest) = line.split_at(line.len().min(1));
    match kind {
        "+" | ":" => Ok(rest.to_string()),
        "-" => Err(rest.to_string()),
        "$" => {
            let Ok(n) = rest.parse::<usize>() else {
                return Ok(String::new());
            };
            let mut buf = vec![0; n + 2];
            r.read_exact(&mut buf).map_err(|e| e.to_string())?;
            buf.truncate(n);
            Ok(String::from_utf8_lossy(&buf).into_owned())
        }
        "*" => {
            let n = rest.parse::<i64>().unwrap_or(0).max(0);
            let items: Result<Vec<String>, String> = (0..n).map(|_| read_reply(r)).collect();
            Ok(items?.join(" "))
        }
        other => Err(format!("unexpected reply type {other:?}")),
    }
}

impl Redis {
    /// Starts a server with `extra` arguments (`["--maxmemory", "10mb"]`).
    pub async fn start(extra: &[&str]) -> Redis {
        Self::start_with(extra, None).await
    }

    /// Starts a server that speaks TLS only (`--port 0`, `--tls-port`) with
    /// `tls`'s certificate and no client certificates asked for, plus `extra`.
    pub async fn start_tls(tls: &TlsFiles, extra: &[&str]) -> Redis {
        Self::start_with(extra, Some(tls)).await
    }

    async fn start_with(extra: &[&str], tls: Option<&TlsFiles>) -> Redis {
        let client = tls.map(|files| {
            let settings = TlsSettings {
                ca_file: Some(files.ca.clone()),
                skip_domain_validation: true,
                accept_invalid_certs: false,
            };
            Connector::new(&settings)
                .unwrap_or_else(|e| panic!("TLS client for the test server: {e}"))
                .config()
        });
        let server = find_server();
        let dir = tempfile::tempdir().expect("temp dir for redis");
        let password = extra
            .iter()
            .position(|a| *a == "--requirepass")
            .and_then(|i| extra.get(i + 1))
            .map(|p| p.to_string());
        let mut dir = Some(dir);
        for attempt in 0..3 {
            let port = free_port();
            let dir_now = dir.take().expect("dir kept between attempts");
            let log = dir_now.path().join("redis.log");
            let port_args: Vec<String> = match tls {
                None => vec!["--port".into(), port.to_string()],
                Some(files) => vec![
                    "--port".into(),
                    "0".into(),
                    "--tls-port".into(),
                    port.to_string(),
                    "--tls-cert-file".into(),
                    files.cert.display().to_string(),
                    "--tls-key-file".into(),
                    files.key.display().to_string(),
                    "--tls-ca-cert-file".into(),
                    files.ca.display().to_string(),
                    "--tls-auth-clients".into(),
                    "no".into(),
                ],
            };
            let child = Command::new(&server)
                .args(&port_args)
                .args(["--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(dir_now.path())
                .arg("--logfile")
                .arg(&log)
                .args(["--daemonize", "no", "--repl-ping-replica-period", "1"])
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("spawn redis-server: {e}. {HOW_TO_INSTALL}"));
            let mut redis = Redis {
                child: Some(child),
                dir: dir_now,
                port,
                password: password.clone(),
                tls: client.clone(),
            };
            match redis.wait_ready(Duration::from_secs(20)).await {
                Ok(()) => return redis,
                Err(why) if attempt < 2 && why.contains("in use") => {
                    redis.kill();
                    let placeholder = tempfile::tempdir().expect("temp dir");
                    dir = Some(std::mem::replace(&mut redis.dir, placeholder));
                }
                Err(why) => panic!("redis-server did not start: {why}"),
            }
        }
        unreachable!("the loop returns or panics")
    }

    /// A replica of `master` (`--replicaof`), with `extra` arguments.
    pub async fn replica_of(master: &Redis, extra: &[&str]) -> Redis {
        let port = master.port.to_string();
        let mut args = vec!["--replicaof", "127.0.0.1", &port];
        args.extend_from_slice(extra);
        Self::start(&args).await
    }

    /// The server log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default()
    }

    async fn wait_ready(&mut self, limit: Duration) -> Result<(), String> {
        let until = Instant::now() + limit;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!("exited with {status}:\n{}", self.log()));
            }
            if self.try_command(&["PING"]).is_ok() {
                return Ok(());
            }
            if Instant::now() > until {
                return Err(format!("not ready after {limit:?}:\n{}", self.log()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn stream(&self) -> Result<Box<dyn Io>, String> {
        let tcp = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        tcp.set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        let Some(config) = &self.tls else {
            return Ok(Box::new(tcp));
        };
        let name =
            rustls::pki_types::ServerName::try_from("127.0.0.1").map_err(|e| e.to_string())?;
        let conn =
            rustls::ClientConnection::new(Arc::clone(config), name).map_err(|e| e.to_string())?;
        Ok(Box::new(rustls::StreamOwned::new(conn, tcp)))
    }

    fn try_command(&self, args: &[&str]) -> Result<String, String> {
        let mut stream = self.stream()?;
        let mut out = Vec::new();
        let mut push = |args: &[&str]| {
            out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
            for a in args {
                out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
            }
        };
        if let Some(pw) = &self.password {
            push(&["AUTH", pw]);
        }
        push(args);
        stream.write_all(&out).map_err(|e| e.to_string())?;
        stream.flush().map_err(|e| e.to_string())?;
        let mut reader = BufReader::new(stream);
        if self.password.is_some() {
            read_reply(&mut reader)?;
        }
        read_reply(&mut reader)
    }

    /// Runs one command (authenticated when the server has a password),
    /// panicking on an error reply; returns the reply as text.
    pub fn command(&self, args: &[&str]) -> String {
        self.try_command(args)
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    /// Opens `n` idle plain-TCP client connections (dropping them
    /// disconnects); for servers started without TLS.
    pub fn idle_clients(&self, n: usize) -> Vec<TcpStream> {
        (0..n)
            .filter_map(|_| TcpStream::connect(("127.0.0.1", self.port)).ok())
            .collect()
    }

    /// Kills the server (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}
