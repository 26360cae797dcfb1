use super::*;
use sextant_health::mysql::MysqlConfig;

fn yaml(text: &str) -> Result<Vec<CheckConfig>, String> {
    serde_saphyr::from_str(text).map_err(|e| e.to_string())
}

#[test]
fn validates_entries() {
    let ok = CheckConfig {
        name: "db".into(),
        interval: Duration::from_secs(5),
        kind: KindConfig::Mysql(MysqlConfig::default()),
    };
    assert!(ok.validate().is_ok());
    let none = yaml("- name: db\n  interval: 5s\n").map(|_| ());
    assert!(none.is_err_and(|e| e.contains("exactly one")));
    let zero = CheckConfig {
        interval: Duration::ZERO,
        ..ok.clone()
    };
    assert!(zero.validate().is_err());
    let unnamed = CheckConfig {
        name: String::new(),
        ..ok
    };
    assert!(unnamed.validate().is_err());
}

#[test]
fn entries_parse_flat_or_say_where_they_are_wrong() {
    let got = yaml(
        "- name: orders-db\n  interval: 5s\n  mysql: {host: db, role: primary}\n\
         - mysql: {host: db2}\n  name: cache-db\n\
         - name: api\n  http:\n    url: \"http://svc/healthz\"\n",
    )
    .expect("valid");
    let summary: Vec<(&str, u64, KindName)> = got
        .iter()
        .map(|c| (c.name.as_str(), c.interval.as_secs(), c.kind.kind()))
        .collect();
    assert_eq!(
        summary,
        [
            ("orders-db", 5, KindName::Mysql),
            ("cache-db", 15, KindName::Mysql),
            ("api", 15, KindName::Http),
        ]
    );

    let cases: [(&str, &[&str]); 9] = [
        (
            "- name: db\n  mysql: {}\n  http: {url: \"http://x\"}\n",
            &[
                "line 1 column 3",
                "set exactly one of mysql, postgres, redis, http, tcp, dns (found mysql, http)",
            ],
        ),
        (
            "- name: db\n  interval: 5s\n",
            &[
                "line 1 column 3",
                "set exactly one of mysql, postgres, redis, http, tcp, dns (found none)",
            ],
        ),
        (
            "- name: db\n  mysql: {}\n  intervall: 5s\n",
            &[
                "line 3 column 3",
                "unknown field `intervall`, expected one of name, interval, mysql, postgres, redis, http, tcp, dns",
            ],
        ),
        (
            "- name: db\n  mysql:\n    port: many\n",
            &["line 3 column 11", "invalid u16"],
        ),
        (
            "- name: db\n  mysql:\n    password: x\n",
            &["line 3 column 5", "unknown field `password`"],
        ),
        (
            "- name: db\n  postgres:\n    password: x\n",
            &["line 3 column 5", "unknown field `password`"],
        ),
        (
            "- name: db\n  interval: 5\n  mysql: {}\n",
            &["line 2 column 13", "no unit"],
        ),
        (
            "- mysql: {}\n",
            &["line 1 column 3", "missing field `name`"],
        ),
        (
            "- name: db\n  mysql: {}\n  name: db2\n",
            &["line 3 column 3", "duplicate"],
        ),
    ];
    for (text, parts) in cases {
        let err = yaml(text).expect_err(text);
        for part in parts {
            assert!(err.contains(part), "{text:?}: {err} lacks {part}");
        }
    }
}
