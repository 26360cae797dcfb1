use std::path::PathBuf;

use super::*;
use crate::mysql::ExpectedRole;
use sextant_tls::TlsSettings;

fn yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_saphyr::from_str(text).map_err(|e| e.to_string())
}

/// The flags `sextant adapt <kind> --target T [--tls-ca-file CA]` hands over.
fn flags(target: &str, ca: Option<&str>) -> SidecarFlags {
    SidecarFlags {
        target: Some(target.to_string()),
        tls_ca_file: ca.map(PathBuf::from),
        ..SidecarFlags::default()
    }
}

fn mysql(k: KindConfig) -> Option<MysqlConfig> {
    match k {
        KindConfig::Mysql(c) => Some(c),
        _ => None,
    }
}

fn postgres(k: KindConfig) -> Option<PostgresConfig> {
    match k {
        KindConfig::Postgres(c) => Some(c),
        _ => None,
    }
}

fn redis(k: KindConfig) -> Option<RedisConfig> {
    match k {
        KindConfig::Redis(c) => Some(c),
        _ => None,
    }
}

#[test]
fn the_registry_names_every_kind_once() {
    assert_eq!(
        KindName::NAMES,
        ["mysql", "postgres", "redis", "http", "tcp", "dns"]
    );
    assert_eq!(KindName::ALL.len(), KindName::COUNT);
    for (i, &kind) in KindName::ALL.iter().enumerate() {
        assert_eq!(kind.as_str(), KindName::NAMES[i]);
        assert_eq!(kind.to_string(), KindName::NAMES[i]);
        assert_eq!(kind.as_str().parse::<KindName>(), Ok(kind));
        assert!(!kind.about().is_empty());
        assert_eq!(KindConfig::default_for(kind).kind(), kind);
        assert!(
            KindName::ALL[..i]
                .iter()
                .all(|k| k.as_str() != kind.as_str()),
            "{kind} twice"
        );
    }
    for bad in ["MySQL", "mariadb", "", "mysql "] {
        let err = bad.parse::<KindName>().expect_err(bad);
        assert_eq!(
            err,
            format!(
                "{bad:?} is not a kind of check; expected one of mysql, postgres, redis, http, tcp, dns"
            )
        );
    }
    const KEYS: [&str; 2 + KindName::COUNT] = keys_with_kinds(["name", "interval"]);
    assert_eq!(
        KEYS,
        [
            "name", "interval", "mysql", "postgres", "redis", "http", "tcp", "dns"
        ]
    );
    let timeouts: Vec<u64> = KindName::ALL
        .iter()
        .map(|&k| KindConfig::default_for(k).timeout().as_secs())
        .collect();
    assert_eq!(timeouts, [2, 2, 2, 5, 5, 2], "each kind's own default");
}

#[test]
fn exactly_one_kind() {
    let err = yaml::<KindConfig>("{}").expect_err("none");
    assert!(err.contains("found none"), "{err}");
    let err = yaml::<KindConfig>("mysql: {}\ntcp: {}\n").expect_err("two");
    assert!(err.contains("mysql, tcp"), "{err}");
    let mysql = yaml::<KindConfig>("mysql: {}\n").expect("one");
    assert!(matches!(mysql.build(), Ok(AnyCheck::Mysql(_))));
    let tcp = KindConfig::default_for(KindName::Tcp);
    assert!(
        tcp.build().is_err_and(|e| e.starts_with("tcp:")),
        "port 0 is invalid"
    );
}

#[test]
fn a_kind_block_parses_or_says_where_it_is_wrong() {
    // (YAML, the kind it reads as, or what the error holds)
    type Case = (&'static str, Result<KindName, &'static [&'static str]>);
    let cases: [Case; 14] = [
        ("- mysql:\n    host: db\n", Ok(KindName::Mysql)),
        ("- postgres: {database: orders}\n", Ok(KindName::Postgres)),
        ("- redis: {}\n", Ok(KindName::Redis)),
        (
            "- http: {url: \"http://svc/healthz\"}\n",
            Ok(KindName::Http),
        ),
        ("- tcp: {port: 80}\n", Ok(KindName::Tcp)),
        ("- dns: {name: example.com}\n", Ok(KindName::Dns)),
        (
            "- mysql: {}\n  http: {}\n",
            Err(&[
                "line 1 column 3",
                "set exactly one of mysql, postgres, redis, http, tcp, dns (found mysql, http)",
            ]),
        ),
        (
            "- {}\n",
            Err(&[
                "line 1 column 3",
                "set exactly one of mysql, postgres, redis, http, tcp, dns (found none)",
            ]),
        ),
        // A null block counts as absent, as an `Option` field did.
        ("- mysql:\n", Err(&["line 1 column 3", "(found none)"])),
        (
            "- mysqll: {}\n",
            Err(&[
                "line 1 column 3",
                "unknown field `mysqll`, expected one of mysql, postgres, redis, http, tcp, dns",
            ]),
        ),
        (
            "- mysql:\n    port: many\n",
            Err(&["line 2 column 11", "invalid u16"]),
        ),
        (
            "- mysql:\n    password: x\n",
            Err(&["line 2 column 5", "unknown field `password`"]),
        ),
        (
            "- redis:\n    host: cache\n    password: x\n",
            Err(&["line 3 column 5", "unknown field `password`"]),
        ),
        (
            "- http:\n    url: \"http://svc\"\n    timeout: 5\n",
            Err(&["line 3 column 14", "no unit"]),
        ),
    ];
    for (text, want) in cases {
        let got = yaml::<Vec<KindConfig>>(text)
            .map(|v| v.iter().map(KindConfig::kind).collect::<Vec<_>>());
        match (got, want) {
            (Ok(kinds), Ok(kind)) => assert_eq!(kinds, [kind], "{text:?}"),
            (Err(e), Err(parts)) => {
                for part in parts {
                    assert!(e.contains(part), "{text:?}: {e} lacks {part}");
                }
            }
            (got, want) => panic!("{text:?}: {got:?} but wanted {want:?}"),
        }
    }
    let two = yaml::<Vec<KindConfig>>("- mysql: {}\n  mysql: {}\n").expect_err("twice");
    assert!(
        two.contains("line 2 column 3") && two.contains("duplicate"),
        "{two}"
    );
}

#[test]
fn a_kind_set_holds_each_kind_at_most_once() {
    let set: KindSet =
        yaml("http:\n  url: \"http://svc/healthz\"\nmysql:\n  host: db\n  role: primary\ndns:\n")
            .expect("two kinds, one null");
    let kinds: Vec<KindName> = set.iter().map(KindConfig::kind).collect();
    assert_eq!(kinds, [KindName::Mysql, KindName::Http], "registry order");
    assert!(set.get(KindName::Dns).is_none() && !set.is_empty());
    let db = mysql(set.get(KindName::Mysql).cloned().expect("mysql")).expect("mysql");
    assert_eq!((db.host.as_str(), db.role), ("db", ExpectedRole::Primary));
    assert!(yaml::<KindSet>("{}").is_ok_and(|s| s.is_empty()));
    let err = yaml::<KindSet>("mysql: {}\nlisten: x\n").expect_err("not a kind");
    assert!(
        err.contains("line 2 column 1") && err.contains("unknown field `listen`"),
        "{err}"
    );
    let err = set
        .clone()
        .into_one::<serde::de::value::Error>()
        .expect_err("two");
    assert_eq!(
        err.to_string(),
        "set exactly one of mysql, postgres, redis, http, tcp, dns (found mysql, http)"
    );

    let mut set: KindSet = [
        KindConfig::default_for(KindName::Dns),
        KindConfig::default_for(KindName::Redis),
    ]
    .into_iter()
    .collect();
    let replaced = set.insert(KindConfig::default_for(KindName::Redis));
    assert_eq!(replaced.map(|c| c.kind()), Some(KindName::Redis));
    let kinds: Vec<KindName> = set.iter().map(KindConfig::kind).collect();
    assert_eq!(kinds, [KindName::Redis, KindName::Dns]);
}

#[test]
fn flags_apply_per_kind() {
    let every = SidecarFlags {
        target: None,
        name: Some("svc.local".into()),
        password_file: Some("/pw".into()),
        tls_ca_file: None,
        max_replica_lag: Some(Duration::from_secs(7)),
        timeout: Some(Duration::from_secs(3)),
        role: None,
    };
    let role = SidecarFlags {
        role: Some(ExpectedRole::Replica),
        ..every.clone()
    };
    let ca = SidecarFlags {
        tls_ca_file: Some("/ca.pem".into()),
        ..role.clone()
    };
    const ROLE: &str = "--role applies to mysql only";
    const CA: &str = "--tls-ca-file applies to mysql, postgres and redis; \
                      for http and tcp set tls.ca_file in the config's adapt: section";
    // (kind, --target, with --role, with --role and --tls-ca-file, target reported)
    type Case = (
        KindName,
        &'static str,
        Result<(), &'static str>,
        Result<(), &'static str>,
        &'static str,
    );
    let cases: [Case; 7] = [
        (
            KindName::Mysql,
            "mysql://mon@db",
            Ok(()),
            Ok(()),
            "mysql://mon@db:3306",
        ),
        (
            KindName::Postgres,
            "postgres://mon@db/orders",
            Err(ROLE),
            Err(ROLE),
            "postgresql://mon@db:5432/orders",
        ),
        (
            KindName::Redis,
            "redis://db",
            Err(ROLE),
            Err(ROLE),
            "redis://db:6379",
        ),
        (
            KindName::Redis,
            "rediss://mon@db",
            Err(ROLE),
            Err(ROLE),
            "rediss://mon@db:6379",
        ),
        (
            KindName::Http,
            "http://svc/healthz",
            Err(ROLE),
            Err(CA),
            "http://svc/healthz",
        ),
        (
            KindName::Tcp,
            "svc:443",
            Err(ROLE),
            Err(CA),
            "tcp://svc:443",
        ),
        (
            KindName::Dns,
            "10.0.0.2:53",
            Err(ROLE),
            Err(CA),
            "dns://10.0.0.2:53/svc.local?type=A",
        ),
    ];
    let target = |c: &KindConfig| match c {
        KindConfig::Mysql(c) => c.target(),
        KindConfig::Postgres(c) => c.target(),
        KindConfig::Redis(c) => c.target(),
        KindConfig::Http(c) => c.target(),
        KindConfig::Tcp(c) => c.target(),
        KindConfig::Dns(c) => c.target(),
    };
    for (kind, t, with_role, with_ca, reported) in cases {
        let flags = SidecarFlags {
            target: Some(t.to_string()),
            ..every.clone()
        };
        let mut c = KindConfig::default_for(kind);
        c.apply_flags(&flags).expect("flags every kind takes");
        assert_eq!(c.timeout(), Duration::from_secs(3), "{kind}");
        assert_eq!(target(&c), reported, "{kind}");
        for (flags, want) in [(&role, with_role), (&ca, with_ca)] {
            let flags = SidecarFlags {
                target: Some(t.to_string()),
                ..flags.clone()
            };
            let got = KindConfig::default_for(kind).apply_flags(&flags);
            assert_eq!(
                got.map_err(|e| e.to_string()),
                want.map_err(str::to_string),
                "{kind}"
            );
        }
    }

    // What each database does with the rest.
    let with = |t: &str| SidecarFlags {
        target: Some(t.to_string()),
        ..every.clone()
    };
    let m = mysql(
        KindSet::default()
            .sidecar(KindName::Mysql, &with("mysql://mon@db"))
            .expect("ok"),
    )
    .expect("mysql");
    assert_eq!(
        (m.password_file.as_deref(), m.max_replica_lag, m.tls),
        (
            Some(std::path::Path::new("/pw")),
            Duration::from_secs(7),
            None
        )
    );
    let p = postgres(
        KindSet::default()
            .sidecar(KindName::Postgres, &with("postgres://db:6432"))
            .expect("ok"),
    )
    .expect("postgres");
    assert_eq!(
        (
            p.user.as_str(),
            p.port,
            p.database.as_str(),
            p.max_replica_lag
        ),
        ("sextant", 6432, "postgres", Duration::from_secs(7))
    );
    let r = redis(
        KindSet::default()
            .sidecar(KindName::Redis, &with("redis://db"))
            .expect("ok"),
    )
    .expect("redis");
    assert_eq!(
        (r.password_file.as_deref(), r.user),
        (Some(std::path::Path::new("/pw")), None)
    );

    // Bad targets, in each kind's words.
    let bad = [
        (
            KindName::Mysql,
            "postgres://db",
            "--target must start with mysql://",
        ),
        (
            KindName::Postgres,
            "mysql://db",
            "--target must start with postgres://",
        ),
        (
            KindName::Redis,
            "http://db",
            "--target must start with redis://",
        ),
        (
            KindName::Redis,
            "rediss://u:pw@db",
            "--target must not carry a password (it would show in `ps`); use --password-file",
        ),
        (KindName::Tcp, "svc", "--target \"svc\": want host:port"),
        (
            KindName::Tcp,
            "svc:https",
            "--target port \"https\" is not a port number",
        ),
    ];
    for (kind, t, want) in bad {
        let err = KindConfig::default_for(kind)
            .apply_flags(&flags(t, None))
            .expect_err(t);
        assert_eq!(err.to_string(), want, "{kind} {t}");
    }
}

#[test]
fn role_flag_overrides_the_file_for_mysql_only() {
    let mut file = KindSet::default();
    let k = file
        .sidecar(KindName::Mysql, &flags("mysql://m@db", None))
        .expect("mysql");
    assert_eq!(mysql(k).map(|c| c.role), Some(ExpectedRole::Auto));

    file.insert(KindConfig::Mysql(MysqlConfig {
        role: ExpectedRole::Replica,
        ..MysqlConfig::default()
    }));
    let k = file
        .sidecar(KindName::Mysql, &flags("mysql://m@db", None))
        .expect("mysql");
    assert_eq!(mysql(k).map(|c| c.role), Some(ExpectedRole::Replica));
    let mut a = flags("mysql://m@db", None);
    a.role = Some(ExpectedRole::Primary);
    let k = file.sidecar(KindName::Mysql, &a).expect("mysql");
    assert_eq!(mysql(k).map(|c| c.role), Some(ExpectedRole::Primary));

    let mut a = flags("postgres://m@db", None);
    a.role = Some(ExpectedRole::Primary);
    let err = file
        .sidecar(KindName::Postgres, &a)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(err, "--role applies to mysql only");
}

#[test]
fn tls_ca_file_turns_tls_on_for_the_databases() {
    let mut file = KindSet::default();
    let k = file
        .sidecar(
            KindName::Mysql,
            &flags("mysql://m@db:3306", Some("/ca.pem")),
        )
        .expect("mysql");
    let tls = mysql(k).and_then(|c| c.tls).expect("mysql tls on");
    assert_eq!(tls.ca_file, Some(PathBuf::from("/ca.pem")));

    // The flag sets the CA; the file's switches stay.
    file.insert(KindConfig::Postgres(PostgresConfig {
        tls: Some(TlsSettings {
            skip_domain_validation: true,
            ..Default::default()
        }),
        ..PostgresConfig::default()
    }));
    let k = file
        .sidecar(
            KindName::Postgres,
            &flags("postgres://m@db/orders", Some("/ca.pem")),
        )
        .expect("postgres");
    let tls = postgres(k).and_then(|c| c.tls).expect("postgres tls on");
    assert_eq!(tls.ca_file, Some(PathBuf::from("/ca.pem")));
    assert!(tls.skip_domain_validation);
    let k = file
        .sidecar(KindName::Postgres, &flags("postgres://m@db", None))
        .expect("postgres from the file");
    assert!(postgres(k).is_some_and(|c| c.tls.is_some()));

    let k = file
        .sidecar(KindName::Redis, &flags("redis://cache:6379", None))
        .expect("plain redis");
    assert!(redis(k).is_some_and(|c| c.tls.is_none()));
    let k = file
        .sidecar(KindName::Redis, &flags("rediss://cache:6380", None))
        .expect("rediss");
    let c = redis(k).expect("redis");
    assert_eq!((c.port, c.tls.clone()), (6380, Some(Default::default())));
    assert_eq!(c.target(), "rediss://cache:6380");
    let k = file
        .sidecar(
            KindName::Redis,
            &flags("redis://cache:6380", Some("/ca.pem")),
        )
        .expect("redis with a CA");
    let tls = redis(k).and_then(|c| c.tls).expect("redis tls on");
    assert_eq!(tls.ca_file, Some(PathBuf::from("/ca.pem")));

    let err = file
        .sidecar(
            KindName::Http,
            &flags("https://svc/healthz", Some("/ca.pem")),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.starts_with("--tls-ca-file applies to mysql"), "{err}");
}
