//! One configuration block and one runnable value for every kind of check,
//! so the agent and the sidecar configure and run any kind the same way.

use serde::Deserialize;

use super::Report;
use super::dns::{DnsCheck, DnsConfig};
use super::http::{HttpCheck, HttpConfig};
use super::mysql::{MysqlCheck, MysqlConfig};
use super::postgres::{PostgresCheck, PostgresConfig};
use super::redis::{RedisCheck, RedisConfig};
use super::tcp::{TcpCheck, TcpConfig};

/// The kind-specific settings of one check: exactly one must be set.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindConfig {
    /// A MySQL/MariaDB server.
    pub mysql: Option<MysqlConfig>,
    /// An HTTP(S) endpoint.
    pub http: Option<HttpConfig>,
    /// A TCP (or TLS) port.
    pub tcp: Option<TcpConfig>,
    /// A DNS server and name.
    pub dns: Option<DnsConfig>,
    /// A PostgreSQL server.
    pub postgres: Option<PostgresConfig>,
    /// A Redis server.
    pub redis: Option<RedisConfig>,
}

/// A check of any kind, ready to run.
pub enum AnyCheck {
    /// MySQL/MariaDB.
    Mysql(MysqlCheck),
    /// HTTP(S).
    Http(HttpCheck),
    /// TCP/TLS.
    Tcp(TcpCheck),
    /// DNS.
    Dns(DnsCheck),
    /// PostgreSQL.
    Postgres(PostgresCheck),
    /// Redis.
    Redis(RedisCheck),
}

impl KindConfig {
    /// Names of the kinds that are set, for "exactly one" errors.
    fn set(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.mysql.is_some() {
            out.push("mysql");
        }
        if self.http.is_some() {
            out.push("http");
        }
        if self.tcp.is_some() {
            out.push("tcp");
        }
        if self.dns.is_some() {
            out.push("dns");
        }
        if self.postgres.is_some() {
            out.push("postgres");
        }
        if self.redis.is_some() {
            out.push("redis");
        }
        out
    }

    /// The per-call timeout of the (first) kind set, for staleness bounds.
    pub fn timeout(&self) -> Option<std::time::Duration> {
        [
            self.mysql.as_ref().map(|c| c.timeout),
            self.postgres.as_ref().map(|c| c.timeout),
            self.redis.as_ref().map(|c| c.timeout),
            self.http.as_ref().map(|c| c.timeout),
            self.tcp.as_ref().map(|c| c.timeout),
            self.dns.as_ref().map(|c| c.timeout),
        ]
        .into_iter()
        .flatten()
        .next()
    }

    /// Whether no kind is set.
    pub fn is_empty(&self) -> bool {
        self.set().is_empty()
    }

    /// Builds the check; the error names the kind and why (never a secret).
    pub fn build(&self) -> Result<AnyCheck, String> {
        let set = self.set();
        if set.len() != 1 {
            return Err(format!(
                "set exactly one of mysql, postgres, redis, http, tcp, dns (found {})",
                if set.is_empty() {
                    "none".to_string()
                } else {
                    set.join(", ")
                }
            ));
        }
        let err = |kind: &str, e: &dyn std::fmt::Display| format!("{kind}: {e}");
        if let Some(c) = &self.mysql {
            return MysqlCheck::new(c.clone())
                .map(AnyCheck::Mysql)
                .map_err(|e| err("mysql", &e));
        }
        if let Some(c) = &self.http {
            return HttpCheck::new(c.clone())
                .map(AnyCheck::Http)
                .map_err(|e| err("http", &e));
        }
        if let Some(c) = &self.tcp {
            return TcpCheck::new(c.clone())
                .map(AnyCheck::Tcp)
                .map_err(|e| err("tcp", &e));
        }
        if let Some(c) = &self.dns {
            return DnsCheck::new(c.clone())
                .map(AnyCheck::Dns)
                .map_err(|e| err("dns", &e));
        }
        if let Some(c) = &self.postgres {
            return PostgresCheck::new(c.clone())
                .map(AnyCheck::Postgres)
                .map_err(|e| err("postgres", &e));
        }
        match &self.redis {
            Some(c) => RedisCheck::new(c.clone())
                .map(AnyCheck::Redis)
                .map_err(|e| err("redis", &e)),
            None => Err("no kind set".to_string()),
        }
    }
}

impl AnyCheck {
    /// Runs the check once; never fails, bounded by the kind's timeout.
    pub async fn check(&self) -> Report {
        match self {
            AnyCheck::Mysql(c) => c.check().await,
            AnyCheck::Http(c) => c.check().await,
            AnyCheck::Tcp(c) => c.check().await,
            AnyCheck::Dns(c) => c.check().await,
            AnyCheck::Postgres(c) => c.check().await,
            AnyCheck::Redis(c) => c.check().await,
        }
    }

    /// What is checked, without credentials.
    pub fn target(&self) -> String {
        match self {
            AnyCheck::Mysql(c) => c.target().to_string(),
            AnyCheck::Http(c) => c.target().to_string(),
            AnyCheck::Tcp(c) => c.target().to_string(),
            AnyCheck::Dns(c) => c.target().to_string(),
            AnyCheck::Postgres(c) => c.target().to_string(),
            AnyCheck::Redis(c) => c.target().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_kind() {
        assert!(
            KindConfig::default()
                .build()
                .is_err_and(|e| e.contains("found none"))
        );
        let two = KindConfig {
            mysql: Some(MysqlConfig::default()),
            tcp: Some(TcpConfig::default()),
            ..KindConfig::default()
        };
        assert!(two.build().is_err_and(|e| e.contains("mysql, tcp")));
        let mysql = KindConfig {
            mysql: Some(MysqlConfig::default()),
            ..KindConfig::default()
        };
        assert!(matches!(mysql.build(), Ok(AnyCheck::Mysql(_))));
        let tcp = KindConfig {
            tcp: Some(TcpConfig::default()),
            ..KindConfig::default()
        };
        assert!(
            tcp.build().is_err_and(|e| e.starts_with("tcp:")),
            "port 0 is invalid"
        );
    }
}
