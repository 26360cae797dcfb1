//! Alert templates expanded end to end, with Prometheus's answers.

use std::collections::BTreeMap;

use super::*;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn expand(text: &str, value: f64) -> String {
    let l = labels(&[("instance", "host:9100"), ("job", "node")]);
    let ext = labels(&[("cluster", "eu1")]);
    let query = |expr: &str| -> Result<Vec<Value>, String> {
        match expr {
            "up" => Ok(vec![
                sample(&labels(&[("instance", "b")]), 0.0),
                sample(&labels(&[("instance", "a")]), 1.0),
            ]),
            "bad(" => Err("1:5: parse error: unclosed left parenthesis".into()),
            "many" => Ok((0..10_000)
                .map(|i| sample(&labels(&[("i", &i.to_string())]), 1.0))
                .collect()),
            _ => Ok(Vec::new()),
        }
    };
    let env = Env {
        query: &query,
        external_url: "http://prom.example",
    };
    let data = AlertData {
        labels: &l,
        external_labels: &ext,
        external_url: "http://prom.example",
        value,
    };
    expand_alert("T", text, &data, &env)
}

#[test]
fn prometheus_style_annotations_expand() {
    for (text, value, want) in [
        (
            "{{ $labels.instance }} of {{ $labels.job }} is down",
            0.0,
            "host:9100 of node is down",
        ),
        ("value {{ $value }}", 1234567.0, "value 1.234567e+06"),
        ("{{ $value | humanize }}B", 1234567.0, "1.235MB"),
        ("{{ humanizePercentage $value }}", 0.25, "25%"),
        ("{{ printf \"%.1f\" $value }}", 2.25, "2.2"),
        (
            "{{ $externalLabels.cluster }} {{ $externalURL }}",
            0.0,
            "eu1 http://prom.example",
        ),
        ("[{{ $labels.missing }}]", 0.0, "[]"),
        (
            "{{ if gt $value 1.0 }}high{{ else if lt $value 0.5 }}low{{ else }}ok{{ end }}",
            0.7,
            "ok",
        ),
        (
            "{{ if gt $value 1.0 }}high{{ else if lt $value 0.5 }}low{{ else }}ok{{ end }}",
            0.2,
            "low",
        ),
        (
            "{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}",
            0.0,
            "instance=host:9100;job=node;",
        ),
        (
            "{{ range query \"up\" | sortByLabel \"instance\" }}{{ .Labels.instance }}:{{ .Value }} {{ end }}",
            0.0,
            "a:1 b:0 ",
        ),
        (
            "{{ with query \"up\" }}{{ . | first | label \"instance\" }}{{ end }}",
            0.0,
            "b",
        ),
        (
            "{{ with query \"none\" }}some{{ else }}none{{ end }}",
            0.0,
            "none",
        ),
        (
            "{{ range $i, $s := query \"up\" }}{{ if $i }}{{ break }}{{ end }}{{ $s.Value }}{{ end }}",
            0.0,
            "0",
        ),
        (
            "{{ reReplaceAll \":.*\" \"\" $labels.instance | toUpper }}",
            0.0,
            "HOST",
        ),
        (
            "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}",
            0.0,
            "2",
        ),
        (
            "{{ define \"d\" }}<{{ . }}>{{ end }}{{ template \"d\" $labels.job }}",
            0.0,
            "<node>",
        ),
        ("{{- \"a\" }}  {{- \"b\" -}}  c", 0.0, "abc"),
    ] {
        assert_eq!(expand(text, value), want, "{text:?}");
    }
}

#[test]
fn failures_become_the_error_text_not_an_error() {
    let got = expand("{{ query \"bad(\" }}", 0.0);
    assert!(got.starts_with("<error expanding template: template: __alert_T:1: executing \"__alert_T\": error calling query:"), "{got}");
    let got = expand("{{ .Foo ", 0.0);
    assert_eq!(
        got,
        "<error expanding template: template: __alert_T:1: unclosed action>"
    );
    let got = expand("{{ humanize \"x\" }}", 0.0);
    assert!(got.contains("error calling humanize"), "{got}");
}

#[test]
fn output_and_work_are_bounded() {
    let got = expand(
        "{{ range query \"many\" }}{{ range query \"many\" }}xxxxxxxxxxxxxxxx{{ end }}{{ end }}",
        0.0,
    );
    assert!(
        got.contains("output over"),
        "{}",
        &got[..got.len().min(200)]
    );
    let got = expand(
        "{{ range query \"many\" }}{{ range query \"many\" }}{{ end }}{{ end }}",
        0.0,
    );
    assert!(got.contains("steps"), "{}", &got[..got.len().min(200)]);
    // Prometheus 2.42's Go cannot range over an integer.
    let got = expand("{{ range 3 }}x{{ end }}", 0.0);
    assert!(got.contains("range can't iterate over 3"), "{got}");
}

/// Each annotation as promtool 2.42 expanded it (`promtool test rules` on a
/// one-sample alert `m{instance="h:1"} = 1234567`, read off its `got:`).
#[test]
fn annotations_match_prometheus_expansions() {
    let l = labels(&[("__name__", "m"), ("instance", "h:1")]);
    let ext = BTreeMap::new();
    let query = |expr: &str| -> Result<Vec<Value>, String> {
        assert_eq!(expr, "m");
        Ok(vec![sample(
            &labels(&[("__name__", "m"), ("instance", "h:1")]),
            1234567.0,
        )])
    };
    let env = Env {
        query: &query,
        external_url: "",
    };
    let data = AlertData {
        labels: &l,
        external_labels: &ext,
        external_url: "",
        value: 1234567.0,
    };
    for (text, want) in [
        ("value {{ $value }}", "value 1.234567e+06"),
        ("{{ $value | humanize }}B", "1.235MB"),
        ("{{ humanizePercentage $value }}", "1.235e+08%"),
        (
            "{{ printf \"%.1f\" $value }} {{ printf \"%5.1f|%-4d|%04d\" 3.14159 7 42 }}",
            "1234567.0   3.1|7   |0042",
        ),
        (
            "{{ humanizeDuration 90061 }} {{ humanizeDuration 0.0001234567 }} {{ humanize1024 1536 }}",
            "1d 1h 1m 1s 123.5us 1.5ki",
        ),
        (
            "{{ humanizeTimestamp 1435065584.128 }}",
            "2015-06-23 13:19:44.128 +0000 UTC",
        ),
        (
            "[{{ $labels.missing }}] {{ $labels }}",
            "[] map[__name__:m instance:h:1]",
        ),
        (
            "{{ title \"hello world-wide\" }} {{ 0.00001 }} {{ 100000.0 }} {{ 1e6 }} {{ -2.5 }}",
            "Hello World-Wide 1e-05 100000 1e+06 -2.5",
        ),
        (
            "{{ print 1 2 \"a\" }} {{ printf \"%v %q %e\" 0.5 \"a\" 1234.5 }} {{ printf \"%d\" \"x\" }}",
            "1 2a 0.5 \"a\" 1.234500e+03 %!d(string=x)",
        ),
        (
            "{{ with query \"m\" }}{{ . | first | value }}{{ end }} {{ range query \"m\" }}{{ .Labels }}{{ end }}",
            "1.234567e+06 map[__name__:m instance:h:1]",
        ),
        (
            "{{ humanize 0.0001234567 }} {{ humanize 999.95 }} {{ humanize 12345 }}",
            "123.5u 1000 12.35k",
        ),
    ] {
        assert_eq!(expand_alert("T", text, &data, &env), want, "{text:?}");
    }
}
