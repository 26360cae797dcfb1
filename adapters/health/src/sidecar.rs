//! The sidecar's flags (`sextant adapt <kind> --target … --timeout …`) as
//! the kinds see them: one plain struct of the values given, the errors for
//! flags a kind does not take, and the database `--target` URL form
//! (`mysql://user@host:port`, `postgres://user@host:port/db`,
//! `redis://[user@]host:port`, `rediss://…`).
//!
//! Each kind's config applies the flags itself (`MysqlConfig::apply_flags`
//! and its peers, dispatched by [`KindConfig::apply_flags`](crate::kind::KindConfig::apply_flags)),
//! so what a flag means for a kind — its default port, `rediss://` turning
//! TLS on — lives with that kind; the binary only parses the command line.

use std::num::ParseIntError;
use std::path::PathBuf;
use std::time::Duration;

use sextant_tls::TlsSettings;

use crate::mysql::ExpectedRole;

/// The values of `sextant adapt`'s check flags; `None` is a flag not given,
/// which leaves the config file's value (or the kind's default) alone.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SidecarFlags {
    /// `--target`: a database URL, an `http(s)://` URL, `host:port` (tcp)
    /// or the DNS server's `ip:port`, read by the kind.
    pub target: Option<String>,
    /// `--name`: the name a DNS check resolves.
    pub name: Option<String>,
    /// `--password-file`: replaces the config's `password_file` /
    /// `password_env` (mysql, postgres, redis).
    pub password_file: Option<PathBuf>,
    /// `--tls-ca-file`: the CA of the database's `tls:` block; turns TLS on.
    pub tls_ca_file: Option<PathBuf>,
    /// `--max-replica-lag` (mysql, postgres).
    pub max_replica_lag: Option<Duration>,
    /// `--timeout`: the budget of one check (every kind).
    pub timeout: Option<Duration>,
    /// `--role`: what the MySQL server is supposed to be.
    pub role: Option<ExpectedRole>,
}

/// Why the flags do not fit the kind; the text is what the sidecar prints.
/// None repeats what came after a user name in a target, where a password
/// would be.
#[derive(Debug, thiserror::Error)]
pub enum FlagError {
    /// `--role` given to a kind other than mysql.
    #[error("--role applies to mysql only")]
    Role,
    /// `--tls-ca-file` given to a kind without a database `tls:` block.
    #[error(
        "--tls-ca-file applies to mysql, postgres and redis; \
         for http and tcp set tls.ca_file in the config's adapt: section"
    )]
    TlsCaFile,
    /// A database target with another scheme.
    #[error("--target must start with {scheme}://")]
    Scheme {
        /// The scheme the kind takes.
        scheme: &'static str,
    },
    /// `user:password@` in a target: it would show in `ps`.
    #[error("--target must not carry a password (it would show in `ps`); use --password-file")]
    Password,
    /// A port that is not a number from 0 to 65535.
    #[error("--target port {port:?} is not a port number")]
    Port {
        /// What stood after the last colon.
        port: String,
        /// Why it is no port.
        #[source]
        source: ParseIntError,
    },
    /// A database target without a host.
    #[error("--target has no host")]
    NoHost,
    /// A tcp target without a colon.
    #[error("--target {target:?}: want host:port")]
    HostPort {
        /// The target given.
        target: String,
    },
}

impl SidecarFlags {
    /// Refuses `--role`, for every kind but mysql.
    pub fn refuse_role(&self) -> Result<(), FlagError> {
        match self.role {
            Some(_) => Err(FlagError::Role),
            None => Ok(()),
        }
    }

    /// Refuses `--tls-ca-file`, for the kinds whose TLS is their own `tls:`
    /// options (http, tcp) or that have none (dns).
    pub fn refuse_tls_ca_file(&self) -> Result<(), FlagError> {
        match self.tls_ca_file {
            Some(_) => Err(FlagError::TlsCaFile),
            None => Ok(()),
        }
    }

    /// `--target` as a database URL of `scheme`, `port` when it names none.
    pub fn db_target(
        &self,
        scheme: &'static str,
        port: u16,
    ) -> Result<Option<DbTarget>, FlagError> {
        self.target
            .as_deref()
            .map(|t| DbTarget::parse(t, scheme, port))
            .transpose()
    }

    /// `--password-file` over a kind's password keys: the file wins and
    /// `password_env` is dropped.
    pub fn apply_password_file(&self, file: &mut Option<PathBuf>, env: &mut Option<String>) {
        if let Some(path) = &self.password_file {
            // The file wins and the variable goes, so the flag never trips
            // the "not both" rule.
            *file = Some(path.clone());
            *env = None;
        }
    }

    /// `--tls-ca-file` as the CA of a database's `tls:` block — a default
    /// block when there is none, since the flag turns TLS on; the block's
    /// switches stay.
    pub fn apply_tls_ca_file(&self, tls: &mut Option<TlsSettings>) {
        if let Some(ca) = &self.tls_ca_file {
            tls.get_or_insert_default().ca_file = Some(ca.clone());
        }
    }
}

/// A database target, `scheme://[user@]host[:port][/database]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbTarget {
    /// The user before `@`, if any.
    pub user: Option<String>,
    /// The host, as written (an IPv6 address keeps its brackets).
    pub host: String,
    /// The port, or the kind's default.
    pub port: u16,
    /// The path after the first `/`, if not empty.
    pub database: Option<String>,
}

impl DbTarget {
    /// Parses `target`; a password in the URL is refused (it would show in
    /// `ps`), and no error repeats what came after the user name.
    pub fn parse(target: &str, scheme: &'static str, default_port: u16) -> Result<Self, FlagError> {
        let rest = target
            .strip_prefix(scheme)
            .and_then(|r| r.strip_prefix("://"))
            .ok_or(FlagError::Scheme { scheme })?;
        let (rest, database) = match rest.split_once('/') {
            Some((r, db)) => (r, (!db.is_empty()).then(|| db.to_string())),
            None => (rest, None),
        };
        let (user, hostport) = match rest.rsplit_once('@') {
            Some((user, hp)) => (Some(user), hp),
            None => (None, rest),
        };
        if user.is_some_and(|u| u.contains(':')) {
            return Err(FlagError::Password);
        }
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, parse_port(p)?),
            None => (hostport, default_port),
        };
        if host.is_empty() {
            return Err(FlagError::NoHost);
        }
        Ok(DbTarget {
            user: user.map(str::to_string),
            host: host.to_string(),
            port,
            database,
        })
    }
}

/// `host:port` (tcp's `--target`).
pub fn host_port(target: &str) -> Result<(String, u16), FlagError> {
    let (host, port) = target.rsplit_once(':').ok_or_else(|| FlagError::HostPort {
        target: target.to_string(),
    })?;
    Ok((host.to_string(), parse_port(port)?))
}

fn parse_port(port: &str) -> Result<u16, FlagError> {
    port.parse().map_err(|source| FlagError::Port {
        port: port.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets() {
        let t = DbTarget::parse("mysql://monitor@db.local:3307", "mysql", 3306).expect("valid");
        assert_eq!(
            (t.user.as_deref(), t.host.as_str(), t.port),
            (Some("monitor"), "db.local", 3307)
        );
        let t = DbTarget::parse("postgres://10.0.0.1/orders", "postgres", 5432).expect("valid");
        assert_eq!(
            (t.user, t.host.as_str(), t.port, t.database.as_deref()),
            (None, "10.0.0.1", 5432, Some("orders"))
        );
        let bad = [
            ("mysql://u:secret@h:1", "mysql"),
            ("postgres://h", "mysql"),
            ("mysql://u@", "mysql"),
            ("mysql://h:port", "mysql"),
        ];
        for (t, scheme) in bad {
            let err = DbTarget::parse(t, scheme, 1)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(!err.is_empty() && !err.contains("secret"), "{t}: {err}");
        }
    }

    #[test]
    fn target_errors_say_what_is_wrong() {
        let cases = [
            (
                "mysql://u:secret@h:1",
                "--target must not carry a password (it would show in `ps`); use --password-file",
            ),
            ("postgres://h", "--target must start with mysql://"),
            ("mysql:/h", "--target must start with mysql://"),
            ("mysql://u@", "--target has no host"),
            ("mysql://:3306", "--target has no host"),
            (
                "mysql://h:port",
                "--target port \"port\" is not a port number",
            ),
            (
                "mysql://h:70000",
                "--target port \"70000\" is not a port number",
            ),
        ];
        for (target, want) in cases {
            let err = DbTarget::parse(target, "mysql", 3306).expect_err(target);
            assert_eq!(err.to_string(), want, "{target}");
        }
        let ok = [
            ("mysql://h", (None, "h", 3306, None)),
            ("mysql://u@h:1/", (Some("u"), "h", 1, None)),
            (
                "mysql://u@[::1]:3307/db",
                (Some("u"), "[::1]", 3307, Some("db")),
            ),
            ("mysql://a@b@h", (Some("a@b"), "h", 3306, None)),
        ];
        for (target, (user, host, port, db)) in ok {
            let t = DbTarget::parse(target, "mysql", 3306).expect(target);
            assert_eq!(
                (
                    t.user.as_deref(),
                    t.host.as_str(),
                    t.port,
                    t.database.as_deref()
                ),
                (user, host, port, db),
                "{target}"
            );
        }
        assert_eq!(
            host_port("svc.local:8080").expect("host:port"),
            ("svc.local".to_string(), 8080)
        );
        let err = host_port("svc.local").expect_err("no port");
        assert_eq!(err.to_string(), "--target \"svc.local\": want host:port");
        let err = host_port("svc:http").expect_err("a name, no number");
        assert_eq!(
            err.to_string(),
            "--target port \"http\" is not a port number"
        );
        assert!(
            std::error::Error::source(&err).is_some(),
            "the parse error is kept"
        );
    }

    #[test]
    fn flag_helpers() {
        let none = SidecarFlags::default();
        assert!(none.refuse_role().is_ok() && none.refuse_tls_ca_file().is_ok());
        assert_eq!(none.db_target("mysql", 3306).ok(), Some(None));
        let (mut file, mut env) = (None, Some("PW".to_string()));
        none.apply_password_file(&mut file, &mut env);
        assert_eq!((file.as_deref(), env.as_deref()), (None, Some("PW")));
        let mut tls = None;
        none.apply_tls_ca_file(&mut tls);
        assert_eq!(tls, None);

        let all = SidecarFlags {
            target: Some("mysql://m@db".into()),
            password_file: Some("/pw".into()),
            tls_ca_file: Some("/ca.pem".into()),
            role: Some(ExpectedRole::Primary),
            ..SidecarFlags::default()
        };
        assert_eq!(
            all.refuse_role().map_err(|e| e.to_string()),
            Err("--role applies to mysql only".to_string())
        );
        assert_eq!(
            all.refuse_tls_ca_file().map_err(|e| e.to_string()),
            Err("--tls-ca-file applies to mysql, postgres and redis; \
                 for http and tcp set tls.ca_file in the config's adapt: section"
                .to_string())
        );
        let t = all.db_target("mysql", 3306).expect("valid").expect("given");
        assert_eq!((t.host.as_str(), t.port), ("db", 3306));
        all.apply_password_file(&mut file, &mut env);
        assert_eq!(
            (file.as_deref(), env),
            (Some(std::path::Path::new("/pw")), None)
        );
        let mut tls = Some(TlsSettings {
            accept_invalid_certs: true,
            ..TlsSettings::default()
        });
        all.apply_tls_ca_file(&mut tls);
        assert_eq!(
            tls,
            Some(TlsSettings {
                ca_file: Some("/ca.pem".into()),
                accept_invalid_certs: true,
                ..TlsSettings::default()
            })
        );
    }
}
