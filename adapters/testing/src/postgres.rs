//! Real PostgreSQL servers, started from the tests themselves.
//!
//! Each [`Postgres`] gets a fresh cluster (`initdb`) in a temp dir, a free
//! loopback port and a socket directory of its own, runs `postgres` as a
//! child process and is stopped on drop (SIGQUIT, then SIGKILL). PostgreSQL
//! refuses to run as root, so when the tests run as root (CI, containers)
//! the temp dir is handed to the `postgres` system user and every server
//! binary is started with that user's uid and gid (`Command::uid`, which
//! also drops supplementary groups) — no `su`/`runuser` wrapper whose death
//! would orphan the server. Local connections are trusted (the admin
//! connects as `postgres` over the socket); TCP needs scram-sha-256, and a
//! `monitor` role in `pg_monitor` has a password. [`Postgres::start_tls`]
//! serves TLS with a test CA's certificate and takes TCP logins over TLS
//! only (`hostssl` lines in `pg_hba.conf`).
//!
//! A missing server fails the test with a message: the test script installs
//! Debian's `postgresql`; nothing is skipped silently.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio_postgres::{Client, NoTls};

use super::tls::TlsFiles;

/// The monitoring role every cluster has.
pub const MONITOR_USER: &str = "monitor";
/// Its password; `#`, `:`, `@` and `'`-free so it survives SQL quoting.
pub const MONITOR_PASSWORD: &str = "m0n#it:or@pw";

const HOW_TO_INSTALL: &str = "PostgreSQL is required by these tests: run scripts/test.sh \
    (it installs Debian's postgresql), or `apt-get install -y postgresql`";

/// One running PostgreSQL server.
pub struct Postgres {
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// TCP port on 127.0.0.1 (also names the socket file).
    pub port: u16,
    owner: Option<(u32, u32)>,
}

/// The directory holding `initdb`, `postgres` and `pg_basebackup`: the
/// newest `/usr/lib/postgresql/<major>/bin`, else wherever `PATH` has them.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let major = e.file_name().to_str()?.parse::<u32>().ok()?;
                    Some((major, e.path().join("bin")))
                })
                .filter(|(_, bin)| bin.join("postgres").is_file())
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    let path = std::env::var("PATH").unwrap_or_default();
    for dir in path.split(':').map(PathBuf::from) {
        if dir.join("postgres").is_file() && dir.join("initdb").is_file() {
            return dir;
        }
    }
    panic!("no PostgreSQL server binaries (initdb, postgres) found. {HOW_TO_INSTALL}");
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

/// uid and gid of the `postgres` system user (from /etc/passwd).
fn postgres_user() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&"postgres") && f.len() > 3)
                .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
                .flatten()
        })
        .unwrap_or_else(|| {
            panic!(
                "running as root, but there is no `postgres` user to run PostgreSQL as. \
                 {HOW_TO_INSTALL}"
            )
        })
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

fn chown_tree(path: &Path, owner: (u32, u32)) {
    std::os::unix::fs::chown(path, Some(owner.0), Some(owner.1))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("read dir") {
            chown_tree(&entry.expect("dir entry").path(), owner);
        }
    }
}

/// Server settings: small, fast, and ready to stream to standbys.
const SERVER_SETTINGS: &[&str] = &[
    "listen_addresses=127.0.0.1",
    "shared_buffers=16MB",
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "wal_level=replica",
    "max_wal_senders=5",
    "wal_keep_size=64MB",
    "hot_standby=on",
    "wal_receiver_status_interval=1s",
    "wal_retrieve_retry_interval=500ms",
    "logging_collector=off",
];

/// `pg_hba.conf` of a TLS server: the socket trusted, TCP over TLS only.
const TLS_ONLY_HBA: &str = "\
local all all trust
local replication all trust
hostssl all all 127.0.0.1/32 scram-sha-256
hostssl all all ::1/128 scram-sha-256
hostssl replication all 127.0.0.1/32 scram-sha-256
";

impl Postgres {
    /// Initialises a cluster and starts a primary with `settings` (`name=value`)
    /// on top of the defaults, then creates the `monitor` role.
    pub async fn start(settings: &[&str]) -> Postgres {
        Self::start_with(settings, None).await
    }

    /// Like [`start`](Self::start), serving TLS (`ssl=on`) with `tls`'s
    /// certificate and refusing TCP logins without it (`hostssl` only).
    pub async fn start_tls(tls: &TlsFiles, settings: &[&str]) -> Postgres {
        Self::start_with(settings, Some(tls)).await
    }

    async fn start_with(settings: &[&str], tls: Option<&TlsFiles>) -> Postgres {
        let bin = bin_dir();
        let (dir, owner) = Self::new_dir();
        let data = dir.path().join("data");
        let mut cmd = Command::new(bin.join("initdb"));
        cmd.arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ])
            .args(["--no-sync", "--encoding=UTF8", "--locale=C"]);
        run(&mut cmd, dir.path(), owner, "initdb");
        let mut all: Vec<String> = settings.iter().map(|s| s.to_string()).collect();
        if let Some(files) = tls {
            all.extend(serve_tls(dir.path(), owner, files));
        }
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let pg = Self::spawn(dir, owner, &all).await;
        let monitor = format!(
            "CREATE ROLE {MONITOR_USER} LOGIN PASSWORD '{MONITOR_PASSWORD}' IN ROLE pg_monitor"
        );
        pg.exec(&[&monitor]).await;
        pg
    }

    /// A streaming standby of `primary` (`pg_basebackup -R`), started with
    /// `settings` on top of the defaults.
    pub async fn standby_of(primary: &Postgres, settings: &[&str]) -> Postgres {
        let bin = bin_dir();
        let (dir, owner) = Self::new_dir();
        let mut cmd = Command::new(bin.join("pg_basebackup"));
        cmd.arg("-D")
            .arg(dir.path().join("data"))
            .arg("-h")
            .arg(primary.socket_dir())
            .arg("-p")
            .arg(primary.port.to_string())
            .args(["-U", "postgres", "-R", "-X", "stream", "--no-sync"]);
        run(&mut cmd, dir.path(), owner, "pg_basebackup");
        Self::spawn(dir, owner, settings).await
    }

    fn new_dir() -> (tempfile::TempDir, Option<(u32, u32)>) {
        let dir = tempfile::tempdir().expect("temp dir for the cluster");
        std::fs::create_dir(dir.path().join("sock")).expect("create the socket dir");
        let owner = running_as_root().then(postgres_user);
        if let Some(owner) = owner {
            chown_tree(dir.path(), owner);
        }
        (dir, owner)
    }

    async fn spawn(
        mut dir: tempfile::TempDir,
        owner: Option<(u32, u32)>,
        extra: &[&str],
    ) -> Postgres {
        let bin = bin_dir();
        for attempt in 0..3 {
            let port = free_port();
            let log = File::create(dir.path().join("server.log")).expect("create server.log");
            let mut cmd = Command::new(bin.join("postgres"));
            cmd.arg("-D")
                .arg(dir.path().join("data"))
                .arg("-k")
                .arg(dir.path().join("sock"))
                .arg("-p")
                .arg(port.to_string());
            for setting in SERVER_SETTINGS.iter().chain(extra) {
                cmd.arg("-c").arg(setting);
            }
            cmd.current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::from(log));
            if let Some((uid, gid)) = owner {
                cmd.uid(uid).gid(gid);
            }
            let child = cmd.spawn().expect("spawn postgres");
            let mut pg = Postgres {
                child: Some(child),
                dir,
                port,
                owner,
            };
            match pg.wait_ready(Duration::from_secs(60)).await {
                Ok(()) => return pg,
                Err(why) if attempt < 2 && why.contains("could not bind") => {
                    dir = pg.into_dir();
                }
                Err(why) => panic!("postgres did not start: {why}"),
            }
        }
        unreachable!("the loop returns or panics")
    }

    fn into_dir(mut self) -> tempfile::TempDir {
        self.stop();
        let placeholder = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.dir, placeholder)
    }

    /// The directory holding the server's Unix socket.
    pub fn socket_dir(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    /// The cluster's parent directory, for files a test wants next to it.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    async fn wait_ready(&mut self, limit: Duration) -> Result<(), String> {
        let until = Instant::now() + limit;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!("exited with {status}:\n{}", self.log()));
            }
            if let Ok(Ok(client)) =
                tokio::time::timeout(Duration::from_secs(2), self.try_admin()).await
                && client.simple_query("SELECT 1").await.is_ok()
            {
                return Ok(());
            }
            if Instant::now() > until {
                return Err(format!("not ready after {limit:?}:\n{}", self.log()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn try_admin(&self) -> Result<Client, tokio_postgres::Error> {
        let (client, connection) = tokio_postgres::Config::new()
            .host_path(self.socket_dir())
            .port(self.port)
            .user("postgres")
            .dbname("postgres")
            .application_name("sextant-test-admin")
            .connect(NoTls)
            .await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    }

    /// A superuser connection over the socket (dropping it disconnects).
    pub async fn admin(&self) -> Client {
        self.try_admin()
            .await
            .unwrap_or_else(|e| panic!("postgres connects over the socket: {e}\n{}", self.log()))
    }

    /// Runs statements as the superuser, panicking with the statement on failure.
    pub async fn exec(&self, statements: &[&str]) {
        let client = self.admin().await;
        for sql in statements {
            client
                .batch_execute(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }

    /// The first column of the first row of `sql`, as text.
    pub async fn query_value(&self, sql: &str) -> Option<String> {
        let client = self.admin().await;
        let messages = client
            .simple_query(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        messages.into_iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        })
    }

    /// Stops the server: SIGQUIT (immediate shutdown, children included),
    /// then SIGKILL if it is still there after five seconds; reaps it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-QUIT")
                .arg(child.id().to_string())
                .status();
            let until = Instant::now() + Duration::from_secs(5);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends `signal` (e.g. `"STOP"`, `"CONT"`) to the postmaster and every
    /// process it started (backends, WAL sender/receiver…), so `STOP`
    /// freezes established sessions too.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("server running").id();
        let mut pids = vec![pid];
        pids.extend(children_of(pid));
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .args(pids.iter().map(ToString::to_string))
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {pids:?}");
    }

    /// Whether the server runs as the `postgres` user (the tests run as root).
    pub fn runs_as_postgres_user(&self) -> bool {
        self.owner.is_some()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Pids whose parent is `parent` (from `/proc/<pid>/stat`).
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    // "pid (comm) state ppid …"; comm may hold spaces.
                    let rest = &stat[stat.rfind(')')? + 1..];
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .collect()
}

/// Puts the certificate and key next to the cluster (owned by the server's
/// user, the key 0600 as PostgreSQL demands), makes `pg_hba.conf` TLS-only
/// for TCP, and returns the settings that turn TLS on.
fn serve_tls(dir: &Path, owner: Option<(u32, u32)>, files: &TlsFiles) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let cert = dir.join("server.crt");
    let key = dir.join("server.key");
    let hba = dir.join("data").join("pg_hba.conf");
    std::fs::copy(&files.cert, &cert).expect("copy the server certificate");
    std::fs::copy(&files.key, &key).expect("copy the server key");
    std::fs::write(&hba, TLS_ONLY_HBA).expect("write pg_hba.conf");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod key");
    if let Some(owner) = owner {
        for path in [&cert, &key, &hba] {
            chown_tree(path, owner);
        }
    }
    vec![
        "ssl=on".to_string(),
        format!("ssl_cert_file={}", cert.display()),
        format!("ssl_key_file={}", key.display()),
    ]
}

fn run(cmd: &mut Command, cwd: &Path, owner: Option<(u32, u32)>, what: &str) {
    cmd.current_dir(cwd).stdin(Stdio::null());
    if let Some((uid, gid)) = owner {
        cmd.uid(uid).gid(gid);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("run {what}: {e}. {HOW_TO_INSTALL}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
