//! `INFO` text → a map, and the few typed readings the verdicts need.

use std::collections::BTreeMap;

/// `INFO` fields: name → value (section headers and blank lines dropped).
pub(crate) type Info = BTreeMap<String, String>;

/// Parses `INFO` output (`# Section` headers, `name:value` lines, CRLF or LF).
/// A value may hold `:` (keyspace lines, IPv6 addresses); only the first
/// colon splits. Lines without a colon are ignored.
pub(crate) fn parse_info(text: &str) -> Info {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// A numeric field, if present and numeric.
pub(crate) fn number(info: &Info, name: &str) -> Option<f64> {
    info.get(name).and_then(|v| v.parse::<f64>().ok())
}

/// The server's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Master,
    Replica,
}

impl Role {
    /// Every role, in the order the role metric lists them.
    pub const ALL: [Role; 2] = [Role::Master, Role::Replica];

    /// `role:` of `INFO replication` (`master` or `slave`).
    pub fn from_info(info: &Info) -> Option<Role> {
        match info.get("role").map(String::as_str) {
            Some("master") => Some(Role::Master),
            Some("slave" | "replica") => Some(Role::Replica),
            _ => None,
        }
    }

    /// The OpenTelemetry redisreceiver's attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Master => "primary",
            Role::Replica => "replica",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_info_cases() {
        let text = "# Server\r\nredis_version:7.0.15\r\nuptime_in_seconds:42\r\n\r\n\
            # Replication\r\nrole:slave\r\nmaster_host:::1\r\nmaster_link_status:down\r\n\
            # Keyspace\r\ndb0:keys=3,expires=0,avg_ttl=0\r\ngarbage line\r\n";
        let info = parse_info(text);
        let cases = [
            ("redis_version", Some("7.0.15")),
            ("uptime_in_seconds", Some("42")),
            ("master_host", Some("::1")),
            ("db0", Some("keys=3,expires=0,avg_ttl=0")),
            ("garbage line", None),
            ("# Server", None),
        ];
        for (key, want) in cases {
            assert_eq!(info.get(key).map(String::as_str), want, "{key}");
        }
        assert_eq!(info.len(), 6);
        assert_eq!(number(&info, "uptime_in_seconds"), Some(42.0));
        assert_eq!(number(&info, "master_link_status"), None);
        assert_eq!(Role::from_info(&info), Some(Role::Replica));
        assert_eq!(
            parse_info("role:master\n").get("role").map(String::as_str),
            Some("master")
        );
        assert_eq!(Role::from_info(&Info::new()), None);
        assert!(parse_info("").is_empty());
    }
}
