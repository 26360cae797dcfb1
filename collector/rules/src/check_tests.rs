//! Each file of `testdata/check` against what promtool 2.42 printed for it
//! (its rulefmt lines exactly; the YAML reader's own wording differs, so
//! those cases check the verdict and the position). The e2e test
//! `rules_check` runs promtool itself on the same files.

use super::*;

fn data(name: &str) -> String {
    let path = format!("{}/testdata/check/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn errors(name: &str) -> Vec<String> {
    match check(&data(name)) {
        Ok(f) => panic!("{name} checked clean: {f:?}"),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn promtools_error_lines_exactly() {
    let cases: [(&str, &[&str]); 2] = [
        (
            "many_errors.yaml",
            &[
                r#"4:17: 5:16: group "g", rule 1, "X": only one of 'record' and 'alert' must be set"#,
                r#"6:15: group "g", rule 1, "X": could not parse expression: 1:17: parse error: unclosed left parenthesis"#,
                r#"7:17: group "g", rule 2, "bad name": invalid field 'annotations' in recording rule"#,
                r#"7:17: group "g", rule 2, "bad name": invalid field 'for' in recording rule"#,
                r#"7:17: group "g", rule 2, "bad name": invalid recording rule name: bad name"#,
                r#"group "g", rule 3, "T": invalid label name: __name__"#,
                r#"group "g", rule 3, "T": invalid label name: bad-l"#,
                r#"group "g", rule 3, "T": invalid annotation name: bad a"#,
                r#"0:0: group "g", rule 4, "": one of 'record' or 'alert' must be set"#,
                r#"17:5: groupname: "g" is repeated in the same file"#,
            ],
        ),
        (
            "missing_fields.yaml",
            &[
                "2:5: Groupname must not be empty",
                r#"0:0: group "", rule 1, "a": field 'expr' must be set in rule"#,
                r#"6:15: group "", rule 2, "B": could not parse expression: 1:1: parse error: no expression found in input"#,
            ],
        ),
    ];
    for (name, want) in cases {
        assert_eq!(errors(name), want, "{name}");
    }
}

#[test]
fn alert_templates_are_parsed_as_prometheus_parses_them() {
    check(&data("templates_good.yaml")).expect("every template parses");
    let errs = errors("templates_bad.yaml");
    assert_eq!(errs.len(), 17, "{errs:?}");
    assert_eq!(
        errs[0],
        r#"group "g", rule 1, "T0": annotation "a": template: __alert_T0:1: unclosed action"#
    );
    assert_eq!(
        errs[15],
        r#"group "g", rule 16, "T15": annotation "a": template: __alert_T15:3: unclosed action"#
    );
    // A recording rule's labels are not templates.
    check("groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n    labels: {a: \"{{\"}\n")
        .expect("recording labels are plain");
}

#[test]
fn the_yaml_reader_refuses_with_a_position() {
    for (name, line) in [
        ("unknown_field.yaml", "line 3"),
        ("not_a_list.yaml", "line 1"),
        ("syntax.yaml", "line 1"),
        ("bad_duration.yaml", "line 6"),
    ] {
        let errs = errors(name);
        assert_eq!(errs.len(), 1, "{name}: {errs:?}");
        assert!(errs[0].contains(line), "{name}: {errs:?} (want {line})");
    }
    assert!(errors("unknown_field.yaml")[0].contains("bogus"));
    assert!(errors("bad_duration.yaml")[0].contains("5x"));
}

#[test]
fn clean_files_become_typed_groups() {
    let f = check(&data("good.yaml")).expect("good.yaml checks");
    assert_eq!(f.rule_count(), 3);
    let g = &f.groups[0];
    assert_eq!(g.name, "availability");
    assert_eq!(g.interval, Some(Duration::from_secs(30)));
    assert_eq!(g.limit, 10);
    match &g.rules[1] {
        Rule::Alert(a) => {
            assert_eq!(a.alert, "InstanceDown");
            assert_eq!(a.for_, Duration::from_secs(5400));
            assert_eq!(a.keep_firing_for, Duration::from_secs(60));
            assert_eq!(a.labels["severity"], "page");
            assert_eq!(a.annotations["summary"], "{{ $labels.instance }} is down");
        }
        other => panic!("{other:?}"),
    }
    // `for: 0s` on a recording rule is zero, which promtool lets pass.
    assert!(matches!(&f.groups[1].rules[0], Rule::Record(r) if r.record == "instance:up:max"));
    assert_eq!(check(&data("empty.yaml")), Ok(RuleFile::default()));
    assert_eq!(check("# only a comment\n"), Ok(RuleFile::default()));
}

#[test]
fn prometheus_3_fields_are_accepted() {
    let f = check(&data("prometheus3.yaml")).expect("query_offset and group labels");
    assert_eq!(f.groups[0].query_offset, Some(Duration::from_secs(60)));
    assert_eq!(f.groups[0].labels["team"], "infra");
}

#[test]
fn duplicates_are_found_once_each_in_promtools_order() {
    let f = check(&data("duplicates.yaml")).expect("duplicates are a lint, not an error");
    let d = duplicates(&f);
    let names: Vec<_> = d.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["A", "x"]);
    assert_eq!(d[0].labels["s"], "1");
    assert!(duplicates(&check(&data("good.yaml")).expect("good")).is_empty());
}

#[test]
fn names_follow_the_classic_rules() {
    for (s, metric, label) in [
        ("up", true, true),
        ("job:up:sum", true, false),
        ("_x9", true, true),
        ("9x", false, false),
        ("", false, false),
        ("a-b", false, false),
        ("é", false, false),
    ] {
        assert_eq!(is_metric_name(s), metric, "{s:?}");
        assert_eq!(is_label_name(s), label, "{s:?}");
    }
}

#[test]
fn long_names_are_cut_in_errors() {
    let long = "x-".repeat(10_000);
    let text = format!("groups:\n- name: g\n  rules:\n  - record: \"{long}\"\n    expr: up\n");
    let errs = check(&text).expect_err("invalid name");
    assert!(
        errs.iter()
            .all(|e| e.to_string().len() < 2 * MAX_SHOWN + 200),
        "{errs:?}"
    );
}
