//! Parse verdicts and messages, each checked against Go's text/template as
//! promtool 2.42 reports it (`template: __alert_T:1: …`).

use super::*;

#[test]
fn prometheus_style_templates_parse() {
    for text in [
        "plain text",
        "{{ $labels.instance }} is down",
        "{{ $value | humanize }}",
        "{{ printf \"%.2f\" $value }}%",
        "{{ with query \"up\" }}{{ . | first | value | humanizePercentage }}{{ end }}",
        "{{ if gt $value 1.0 }}high{{ else if lt $value 0.5 }}low{{ else }}ok{{ end }}",
        "{{ range $i, $s := query \"up\" }}{{ $i }}={{ $s.Value }} {{ end }}",
        "{{ range query \"up\" }}{{ if .Value }}{{ break }}{{ end }}{{ continue }}{{ end }}",
        "{{- /* a comment */ -}} {{ $externalLabels.cluster }} {{ $externalURL }}",
        "{{ reReplaceAll \"(.*):.*\" \"$1\" $labels.instance | toUpper }}",
        "{{ define \"x\" }}X{{ end }}{{ template \"x\" . }}",
        "{{ $x := 1 }}{{ $x = 2 }}{{ $x }}",
        "{{ (index $labels \"job\") }} {{ 0x1F }} {{ 'a' }} {{ -1.5e3 }} {{ nil | not }}",
        "multi\nline {{\n  $labels.job\n}}",
    ] {
        if let Err(e) = parse_alert("T", text) {
            panic!("{text:?}: {e}");
        }
    }
}

#[test]
fn go_parse_errors_in_gos_words() {
    for (text, want) in [
        ("{{ .Foo ", "template: __alert_T:1: unclosed action"),
        (
            "{{ nosuch $value }}",
            "template: __alert_T:1: function \"nosuch\" not defined",
        ),
        (
            "{{ $nope }}",
            "template: __alert_T:1: undefined variable \"$nope\"",
        ),
        ("{{ if $value }}x", "template: __alert_T:1: unexpected EOF"),
        ("x{{ end }}", "template: __alert_T:1: unexpected {{end}}"),
        ("{{ else }}", "template: __alert_T:1: unexpected {{else}}"),
        ("{{ }}", "template: __alert_T:1: missing value for command"),
        (
            "{{ if }}{{ end }}",
            "template: __alert_T:1: missing value for if",
        ),
        (
            "{{ $value | 3 }}",
            "template: __alert_T:1: non executable command in pipeline stage 2",
        ),
        (
            "{{ break }}",
            "template: __alert_T:1: {{break}} outside {{range}}",
        ),
        (
            "{{ \"a\".b }}",
            "template: __alert_T:1: unexpected . after term \"\\\"a\\\"\"",
        ),
        (
            "{{ $value ) }}",
            "template: __alert_T:1: unexpected \")\" in command",
        ),
        (
            "{{ . , }}",
            "template: __alert_T:1: unexpected \",\" in operand",
        ),
        (
            "{{ range $a, $b, $c := . }}{{ end }}",
            "template: __alert_T:1: too many declarations in range",
        ),
        (
            "{{ with $a, $b := . }}{{ end }}",
            "template: __alert_T:1: too many declarations in with",
        ),
        (
            "a\n{{ if . }}\n{{ .x",
            "template: __alert_T:3: unclosed action",
        ),
    ] {
        match parse_alert("T", text) {
            Ok(t) => panic!("{text:?} parsed: {t:?}"),
            Err(e) => assert_eq!(e.to_string(), want, "{text:?}"),
        }
    }
}

#[test]
fn variables_leave_scope_with_their_block() {
    let e = parse("t", "{{ if 1 }}{{ $x := 1 }}{{ end }}{{ $x }}").expect_err("out of scope");
    assert_eq!(e.message, "undefined variable \"$x\"");
    parse("t", "{{ $x := 1 }}{{ if 1 }}{{ $x }}{{ end }}").expect("in scope");
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!("{{{{ {}1{} }}}}", "(".repeat(100_000), ")".repeat(100_000));
    let e = parse("t", &deep).expect_err("too deep");
    assert!(e.message.contains("depth"), "{e}");
}
