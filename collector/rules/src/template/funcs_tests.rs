//! Prometheus's template functions against the answers its own tests and
//! documentation give (`template/template_test.go`).

use super::*;

#[test]
fn humanize_uses_si_prefixes_and_four_digits() {
    for (v, want) in [
        (0.0, "0"),
        (1.234567, "1.235"),
        (12.34567, "12.35"),
        (123.4567, "123.5"),
        (1234.567, "1.235k"),
        (12345.67, "12.35k"),
        (123456.7, "123.5k"),
        (1234567.0, "1.235M"),
        (0.1234567, "123.5m"),
        (0.001234567, "1.235m"),
        (0.0001234567, "123.5u"),
        (-1234.567, "-1.235k"),
        (f64::INFINITY, "+Inf"),
        (f64::NAN, "NaN"),
    ] {
        assert_eq!(humanize(v), want, "{v}");
    }
}

#[test]
fn humanize1024_uses_binary_prefixes() {
    for (v, want) in [
        (0.0, "0"),
        (1.0, "1"),
        (1024.0, "1ki"),
        (1048576.0, "1Mi"),
        (1536.0, "1.5ki"),
        (1.5, "1.5"),
    ] {
        assert_eq!(humanize1024(v), want, "{v}");
    }
}

#[test]
fn humanize_duration_spells_days_to_nanoseconds() {
    for (v, want) in [
        (0.0, "0s"),
        (0.1, "100ms"),
        (0.0001234567, "123.5us"),
        (1.0, "1s"),
        (1.5, "1.5s"),
        (60.0, "1m 0s"),
        (3600.0, "1h 0m 0s"),
        (86400.0, "1d 0h 0m 0s"),
        (90061.0, "1d 1h 1m 1s"),
        (-90061.0, "-1d 1h 1m 1s"),
    ] {
        assert_eq!(humanize_duration(v), want, "{v}");
    }
}

#[test]
fn timestamps_print_as_go_time() {
    assert_eq!(
        go_time(1_435_065_584_128_000_000),
        "2015-06-23 13:19:44.128 +0000 UTC"
    );
    assert_eq!(go_time(0), "1970-01-01 00:00:00 +0000 UTC");
    assert_eq!(
        go_time(951_782_400_000_000_000),
        "2000-02-29 00:00:00 +0000 UTC"
    );
}

#[test]
fn go_builtins() {
    let env = Env {
        query: &|_| Ok(Vec::new()),
        external_url: "http://prom.example/sub/",
    };
    let c = |name: &str, args: Vec<Value>| call(name, args, &env);
    assert_eq!(
        c("eq", vec![Value::Int(1), Value::Int(2), Value::Int(1)]),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        c("lt", vec![Value::Float(1.0), Value::Float(2.0)]),
        Ok(Value::Bool(true))
    );
    assert!(c("lt", vec![Value::Int(1), Value::Float(2.0)]).is_err());
    assert_eq!(
        c("and", vec![Value::Int(1), Value::Str(String::new())]),
        Ok(Value::Str(String::new()))
    );
    assert_eq!(
        c("or", vec![Value::Str(String::new()), Value::Int(3)]),
        Ok(Value::Int(3))
    );
    assert_eq!(c("len", vec![Value::Str("abc".into())]), Ok(Value::Int(3)));
    assert_eq!(
        c(
            "print",
            vec![Value::Int(1), Value::Int(2), Value::Str("a".into())]
        ),
        Ok(Value::Str("1 2a".into()))
    );
    assert_eq!(
        c("title", vec![Value::Str("hello world-wide".into())]),
        Ok(Value::Str("Hello World-Wide".into()))
    );
    assert_eq!(
        c(
            "reReplaceAll",
            vec![
                Value::Str("(.*):.*".into()),
                Value::Str("$1".into()),
                Value::Str("host:9100".into())
            ]
        ),
        Ok(Value::Str("host".into()))
    );
    assert_eq!(
        c("stripPort", vec![Value::Str("[::1]:80".into())]),
        Ok(Value::Str("::1".into()))
    );
    assert_eq!(
        c("stripPort", vec![Value::Str("host:80".into())]),
        Ok(Value::Str("host".into()))
    );
    assert_eq!(c("pathPrefix", vec![]), Ok(Value::Str("/sub".into())));
    assert_eq!(
        c("graphLink", vec![Value::Str("up == 0".into())]),
        Ok(Value::Str("/sub/graph?g0.expr=up+%3D%3D+0&g0.tab=0".into()))
    );
    assert_eq!(
        c("parseDuration", vec![Value::Str("1h30m".into())]),
        Ok(Value::Float(5400.0))
    );
    assert_eq!(
        c("humanizePercentage", vec![Value::Float(0.1234567)]),
        Ok(Value::Str("12.35%".into()))
    );
    assert_eq!(
        c("humanize", vec![Value::Str("1234".into())]),
        Ok(Value::Str("1.234k".into()))
    );
    assert!(c("humanize", vec![Value::Str("x".into())]).is_err());
    assert!(c("first", vec![Value::List(vec![])]).is_err());
}
