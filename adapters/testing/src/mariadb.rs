//! Real MariaDB servers, started from the tests themselves.
//!
//! Each [`MariaDb`] gets a fresh data directory (`mariadb-install-db`), a
//! free loopback port and a socket in a temp dir, runs `mariadbd` as a
//! child process, and is killed (SIGKILL) on drop. A `monitor` user with
//! only the privileges the check needs is created without binlogging, so a
//! replica set up from two instances never replays it.
//!
//! A missing `mariadbd` fails the test with a message: the test script
//! installs Debian's `mariadb-server`; nothing is skipped silently.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder};

/// The monitoring user every instance has.
pub const MONITOR_USER: &str = "monitor";
/// Its password; `#`, `:` and `@` catch quoting and URL mistakes.
pub const MONITOR_PASSWORD: &str = "m0n#it:or@pw";
/// The replication user every instance has.
pub const REPL_USER: &str = "repl";
/// Its password.
pub const REPL_PASSWORD: &str = "repl-pw";

const HOW_TO_INSTALL: &str = "MariaDB is required by these tests: run scripts/test.sh \
    (it installs Debian's mariadb-server), or `apt-get install -y mariadb-server`";

/// One running MariaDB server.
pub struct MariaDb {
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// TCP port on 127.0.0.1.
    pub port: u16,
}

fn find_binary(names: &[&str]) -> PathBuf {
    let path = std::env::var("PATH").unwrap_or_default();
    let dirs = path
        .split(':')
        .map(PathBuf::from)
        .chain(["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"].map(PathBuf::from));
    for dir in dirs {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!("none of {names:?} found. {HOW_TO_INSTALL}");
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

/// Common server options: small, quiet, deterministic.
const SERVER_OPTIONS: &[&str] = &[
    "--innodb-buffer-pool-size=16M",
    "--innodb-log-file-size=4M",
    "--skip-name-resolve",
    "--performance-schema=OFF",
    "--log-bin=binlog",
    "--binlog-format=ROW",
];

impl MariaDb {
    /// Installs a data directory and starts a server with `server_id`.
    pub async fn start(server_id: u32) -> MariaDb {
        Self::start_with(server_id, &[]).await
    }

    /// Like [`start`](Self::start) with extra server options.
    pub async fn start_with(server_id: u32, extra: &[String]) -> MariaDb {
        let install = find_binary(&["mariadb-install-db", "mysql_install_db"]);
        let server = find_binary(&["mariadbd", "mysqld"]);
        let mut dir = tempfile::tempdir().expect("temp dir for the data directory");
        let data = dir.path().join("data");
        // Concurrent bootstraps sharing /tmp trip over each other's
        // temporary tables; each instance gets its own tmpdir.
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).expect("create tmpdir");
        let tmpdir = format!("--tmpdir={}", tmp.display());
        let mut cmd = Command::new(&install);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(&tmpdir)
            .arg("--auth-root-authentication-method=normal")
            .arg("--skip-test-db")
            .args(["--innodb-buffer-pool-size=16M", "--innodb-log-file-size=4M"]);
        if running_as_root() {
            cmd.arg("--user=root");
        }
        let out = cmd.output().expect("run mariadb-install-db");
        assert!(
            out.status.success(),
            "mariadb-install-db failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for attempt in 0..3 {
            let port = free_port();
            let mut cmd = Command::new(&server);
            cmd.arg("--no-defaults")
                .arg(format!("--datadir={}", data.display()))
                .arg(&tmpdir)
                .arg(format!("--socket={}", dir.path().join("sock").display()))
                .arg(format!("--pid-file={}", dir.path().join("pid").display()))
                .arg(format!(
                    "--log-error={}",
                    dir.path().join("err.log").display()
                ))
                .arg(format!("--port={port}"))
                .arg("--bind-address=127.0.0.1")
                .arg(format!("--server-id={server_id}"))
                .args(SERVER_OPTIONS)
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if running_as_root() {
                cmd.arg("--user=root");
            }
            let child = cmd.spawn().expect("spawn mariadbd");
            let mut db = MariaDb {
                child: Some(child),
                dir,
                port,
            };
            match db.wait_ready(Duration::from_secs(60)).await {
                Ok(()) => {
                    db.create_users().await;
                    return db;
                }
                Err(why) if attempt < 2 && why.contains("already in use") => {
                    db.kill();
                    dir = db.into_dir();
                }
                Err(why) => panic!("mariadbd did not start: {why}"),
            }
        }
        unreachable!("the loop returns or panics")
    }

    fn into_dir(mut self) -> tempfile::TempDir {
        self.kill();
        let placeholder = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.dir, placeholder)
    }

    /// The server's Unix socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("err.log")).unwrap_or_default()
    }

    async fn wait_ready(&mut self, limit: Duration) -> Result<(), String> {
        let until = Instant::now() + limit;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!("exited with {status}:\n{}", self.error_log()));
            }
            if self.socket().exists()
                && let Ok(Ok(conn)) =
                    tokio::time::timeout(Duration::from_secs(2), self.try_admin()).await
            {
                let _ = conn.disconnect().await;
                return Ok(());
            }
            if Instant::now() > until {
                return Err(format!("not ready after {limit:?}:\n{}", self.error_log()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn try_admin(&self) -> Result<Conn, mysql_async::Error> {
        let opts = OptsBuilder::default()
            .socket(Some(self.socket().to_string_lossy().into_owned()))
            .user(Some("root"))
            .prefer_socket(false);
        Conn::new(opts).await
    }

    /// A root connection over the socket.
    pub async fn admin(&self) -> Conn {
        self.try_admin()
            .await
            .expect("root connects over the socket")
    }

    /// A root connection over TCP (counts in Threads_connected like a client).
    pub async fn tcp_root(&self) -> Conn {
        let opts = OptsBuilder::default()
            .ip_or_hostname("127.0.0.1")
            .tcp_port(self.port)
            .user(Some("root"))
            .prefer_socket(false);
        Conn::new(opts).await.expect("root connects over TCP")
    }

    /// Runs statements as root, panicking with the statement on failure.
    pub async fn exec(&self, statements: &[&str]) {
        let mut conn = self.admin().await;
        for sql in statements {
            conn.query_drop(*sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        let _ = conn.disconnect().await;
    }

    async fn create_users(&self) {
        let monitor = format!(
            "CREATE USER '{MONITOR_USER}'@'%' IDENTIFIED BY '{MONITOR_PASSWORD}' \
             WITH MAX_USER_CONNECTIONS 3"
        );
        let grant = format!(
            "GRANT PROCESS, REPLICATION CLIENT, REPLICA MONITOR ON *.* TO '{MONITOR_USER}'@'%'"
        );
        let repl = format!("CREATE USER '{REPL_USER}'@'%' IDENTIFIED BY '{REPL_PASSWORD}'");
        let repl_grant = format!("GRANT REPLICATION SLAVE ON *.* TO '{REPL_USER}'@'%'");
        self.exec(&[
            "SET SESSION sql_log_bin = 0",
            &monitor,
            &grant,
            &repl,
            &repl_grant,
        ])
        .await;
    }

    /// Makes this server replicate from `source` (GTID, from the start).
    pub async fn replicate_from(&self, source: &MariaDb) {
        let change = format!(
            "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = {}, \
             MASTER_USER = '{REPL_USER}', MASTER_PASSWORD = '{REPL_PASSWORD}', \
             MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1",
            source.port
        );
        self.exec(&[&change, "START SLAVE", "SET GLOBAL read_only = 1"])
            .await;
    }

    /// Kills the server (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends `signal` (e.g. `"STOP"`, `"CONT"`) to the server process.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("server running").id();
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {pid}");
    }

    /// The data directory's parent, for files a test wants next to it.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Server options that make MariaDB serve TLS with `tls`'s certificate.
pub fn tls_server_options(tls: &super::tls::TlsFiles) -> Vec<String> {
    vec![
        format!("--ssl-ca={}", tls.ca.display()),
        format!("--ssl-cert={}", tls.cert.display()),
        format!("--ssl-key={}", tls.key.display()),
    ]
}
