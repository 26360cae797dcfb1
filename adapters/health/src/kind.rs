//! The kinds of check, registered once.
//!
//! The `kinds!` list below names every kind: its config key, a few words on
//! what it checks, its settings type and its check type. From that one list
//! come [`KindName`] (the names, for the sidecar's `<kind>` argument and for
//! errors), [`KindConfig`] (the settings of exactly one kind, a serde enum
//! read from `mysql: {…}`), [`AnyCheck`] (a built check of any kind) and the
//! dispatch between them, so the agent, the sidecar and `sextant check`
//! configure and run every kind the same way and nothing else lists them.
//!
//! A new kind is its own module plus one line in the list. The module gives
//!
//! * a settings type: `Clone + Debug + Default + PartialEq + Deserialize`
//!   with `deny_unknown_fields`, a `timeout: Duration` field (the budget of
//!   one check) and `apply_flags(&mut self, &SidecarFlags) -> Result<(),
//!   FlagError>` (what the sidecar's flags mean for it);
//! * a check type: `new(settings) -> Result<Self, impl Display>`,
//!   `async fn check(&self) -> Report` and `fn target(&self) -> &str`.
//!
//! The keys are a contract: a kind's block sits flat beside its container's
//! own keys — an agent check is `{name, interval, mysql: {…}}`, the
//! sidecar's `adapt:` section `{listen, interval, security, mysql: {…},
//! http: {…}}`. Containers read their maps by hand and hand each key to
//! [`KindSet::next_value`], rather than use serde's `flatten`, which would
//! buffer the blocks and so lose the line and column of errors inside them
//! and of unknown keys beside them.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use super::Report;
use super::dns::{DnsCheck, DnsConfig};
use super::http::{HttpCheck, HttpConfig};
use super::mysql::{MysqlCheck, MysqlConfig};
use super::postgres::{PostgresCheck, PostgresConfig};
use super::redis::{RedisCheck, RedisConfig};
use super::sidecar::{FlagError, SidecarFlags};
use super::tcp::{TcpCheck, TcpConfig};

/// Generates the registry from one line per kind:
/// `Variant = "key", "what it checks": Settings => Check;`.
macro_rules! kinds {
    ($($variant:ident = $key:literal, $about:literal: $config:ty => $check:ty;)+) => {
        /// The name of a kind of check: its config key and the sidecar's
        /// `<kind>` argument.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum KindName {
            $(#[doc = $about] $variant,)+
        }

        impl KindName {
            /// Every kind, in the order errors and `--help` list them.
            pub const ALL: &'static [KindName] = &[$(KindName::$variant),+];
            /// Every kind's config key, in the same order.
            pub const NAMES: &'static [&'static str] = &[$($key),+];

            /// The config key and command-line name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(KindName::$variant => $key,)+
                }
            }

            /// A few words on what the kind checks, for `--help`.
            pub fn about(self) -> &'static str {
                match self {
                    $(KindName::$variant => $about,)+
                }
            }
        }

        /// The settings of one check of exactly one kind. Read from a map
        /// with one kind key (`mysql: {…}`); containers that put the kind
        /// beside keys of their own read it with [`KindSet`].
        #[derive(Clone, Debug, PartialEq)]
        pub enum KindConfig {
            $(#[doc = $about] $variant($config),)+
        }

        /// A check of any kind, ready to run.
        pub enum AnyCheck {
            $(#[doc = $about] $variant($check),)+
        }

        impl KindConfig {
            /// The kind's defaults: what a sidecar starts from when its
            /// config file has no block for the kind.
            pub fn default_for(kind: KindName) -> Self {
                match kind {
                    $(KindName::$variant => KindConfig::$variant(<$config>::default()),)+
                }
            }

            /// Which kind this is.
            pub fn kind(&self) -> KindName {
                match self {
                    $(KindConfig::$variant(_) => KindName::$variant,)+
                }
            }

            /// The budget of one check, for staleness bounds.
            pub fn timeout(&self) -> Duration {
                match self {
                    $(KindConfig::$variant(c) => c.timeout,)+
                }
            }

            /// Applies the sidecar's flags as the kind reads them; a flag
            /// the kind does not take is an error.
            pub fn apply_flags(&mut self, flags: &SidecarFlags) -> Result<(), FlagError> {
                match self {
                    $(KindConfig::$variant(c) => c.apply_flags(flags),)+
                }
            }

            /// Builds the check; the error names the kind and why (never a secret).
            pub fn build(&self) -> Result<AnyCheck, String> {
                match self {
                    $(KindConfig::$variant(c) => <$check>::new(c.clone())
                        .map(AnyCheck::$variant)
                        .map_err(|e| format!("{}: {e}", $key)),)+
                }
            }

            /// Reads `kind`'s block, the value of the map entry at hand;
            /// `None` for a null block (`mysql:` alone), which counts as
            /// absent.
            fn next_value<'de, A: MapAccess<'de>>(
                kind: KindName,
                map: &mut A,
            ) -> Result<Option<Self>, A::Error> {
                match kind {
                    $(KindName::$variant => map
                        .next_value::<Option<$config>>()
                        .map(|c| c.map(KindConfig::$variant)),)+
                }
            }
        }

        impl AnyCheck {
            /// Runs the check once; never fails, bounded by the kind's timeout.
            pub async fn check(&self) -> Report {
                match self {
                    $(AnyCheck::$variant(c) => c.check().await,)+
                }
            }

            /// What is checked, without credentials.
            pub fn target(&self) -> String {
                match self {
                    $(AnyCheck::$variant(c) => c.target().to_string(),)+
                }
            }

            /// The password the check logs in with, if its kind takes one:
            /// the process adds it to the redactor of its log output.
            pub fn secret(&self) -> Option<&crate::secret::Secret> {
                match self {
                    $(AnyCheck::$variant(c) => c.secret(),)+
                }
            }
        }
    };
}

kinds! {
    Mysql = "mysql", "MySQL or MariaDB": MysqlConfig => MysqlCheck;
    Postgres = "postgres", "PostgreSQL": PostgresConfig => PostgresCheck;
    Redis = "redis", "Redis": RedisConfig => RedisCheck;
    Http = "http", "An HTTP(S) endpoint": HttpConfig => HttpCheck;
    Tcp = "tcp", "A TCP (or TLS) port": TcpConfig => TcpCheck;
    Dns = "dns", "A DNS server answering for a name": DnsConfig => DnsCheck;
}

impl KindName {
    /// How many kinds there are.
    pub const COUNT: usize = KindName::NAMES.len();
}

impl fmt::Display for KindName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for KindName {
    type Err = String;

    /// The config key of a kind, exactly.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KindName::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a kind of check; expected one of {}",
                    KindName::NAMES.join(", ")
                )
            })
    }
}

/// A container's own keys followed by every kind's, for serde's
/// unknown-field error (`expected one of …`):
/// `static KEYS: [&str; 2 + KindName::COUNT] = keys_with_kinds(["name", "interval"]);`
pub const fn keys_with_kinds<const N: usize, const M: usize>(
    own: [&'static str; N],
) -> [&'static str; M] {
    assert!(M == N + KindName::COUNT, "M must be N + KindName::COUNT");
    let mut out = [""; M];
    let mut i = 0;
    while i < N {
        out[i] = own[i];
        i += 1;
    }
    let mut j = 0;
    while j < KindName::COUNT {
        out[N + j] = KindName::NAMES[j];
        j += 1;
    }
    out
}

/// Kinds configured side by side, each at most once, kept in registry
/// order: the sidecar's `adapt:` section holds a block for each kind it may
/// be asked to run, and an agent check entry gathers its kind here before
/// [`into_one`](Self::into_one) insists on exactly one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KindSet(Vec<KindConfig>);

impl KindSet {
    /// The block of `kind`, if configured.
    pub fn get(&self, kind: KindName) -> Option<&KindConfig> {
        self.0.iter().find(|c| c.kind() == kind)
    }

    /// Adds a block, returning the one it replaces.
    pub fn insert(&mut self, config: KindConfig) -> Option<KindConfig> {
        match self
            .0
            .binary_search_by_key(&config.kind(), KindConfig::kind)
        {
            Ok(i) => Some(std::mem::replace(&mut self.0[i], config)),
            Err(i) => {
                self.0.insert(i, config);
                None
            }
        }
    }

    /// The configured blocks, in registry order.
    pub fn iter(&self) -> impl Iterator<Item = &KindConfig> {
        self.0.iter()
    }

    /// Whether no kind is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// For a hand-written map visitor: when `key` names a kind, reads its
    /// block (errors inside it keep their line and column) and returns
    /// `true`; otherwise leaves the value unread and returns `false`, for
    /// the caller's own keys or its unknown-field error. A kind given twice
    /// is serde's duplicate-field error; a null block is left out, as an
    /// absent one.
    pub fn next_value<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        let Ok(kind) = key.parse::<KindName>() else {
            return Ok(false);
        };
        if self.get(kind).is_some() {
            return Err(de::Error::duplicate_field(kind.as_str()));
        }
        if let Some(config) = KindConfig::next_value(kind, map)? {
            self.insert(config);
        }
        Ok(true)
    }

    /// The one kind of an entry that takes exactly one; otherwise "set
    /// exactly one of mysql, postgres, … (found none)" or "(found mysql, http)".
    pub fn into_one<E: de::Error>(mut self) -> Result<KindConfig, E> {
        if self.0.len() == 1
            && let Some(one) = self.0.pop()
        {
            return Ok(one);
        }
        let found = if self.0.is_empty() {
            "none".to_string()
        } else {
            let names: Vec<&str> = self.0.iter().map(|c| c.kind().as_str()).collect();
            names.join(", ")
        };
        Err(E::custom(format!(
            "set exactly one of {} (found {found})",
            KindName::NAMES.join(", ")
        )))
    }

    /// What the sidecar runs for `kind`: the configured block (or the
    /// kind's defaults) with the flags applied.
    pub fn sidecar(&self, kind: KindName, flags: &SidecarFlags) -> Result<KindConfig, FlagError> {
        let mut config = self
            .get(kind)
            .cloned()
            .unwrap_or_else(|| KindConfig::default_for(kind));
        config.apply_flags(flags)?;
        Ok(config)
    }
}

impl FromIterator<KindConfig> for KindSet {
    fn from_iter<I: IntoIterator<Item = KindConfig>>(iter: I) -> Self {
        let mut set = KindSet::default();
        for config in iter {
            set.insert(config);
        }
        set
    }
}

/// Reads a map of kind blocks and nothing else.
struct KindsVisitor;

impl<'de> Visitor<'de> for KindsVisitor {
    type Value = KindSet;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a map of check kinds ({})", KindName::NAMES.join(", "))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KindSet, A::Error> {
        let mut set = KindSet::default();
        while let Some(key) = map.next_key::<String>()? {
            if !set.next_value(&key, &mut map)? {
                return Err(de::Error::unknown_field(&key, KindName::NAMES));
            }
        }
        Ok(set)
    }
}

/// A map of kind blocks, each kind at most once.
impl<'de> Deserialize<'de> for KindSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct("KindSet", KindName::NAMES, KindsVisitor)
    }
}

/// Reads a map with exactly one kind block; the error, at the map, says
/// which kinds it found.
struct OneKindVisitor;

impl<'de> Visitor<'de> for OneKindVisitor {
    type Value = KindConfig;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "one of {}", KindName::NAMES.join(", "))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<KindConfig, A::Error> {
        KindsVisitor.visit_map(map)?.into_one()
    }
}

/// `mysql: {…}` and the like: exactly one kind.
impl<'de> Deserialize<'de> for KindConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct("KindConfig", KindName::NAMES, OneKindVisitor)
    }
}

#[cfg(test)]
mod tests;
