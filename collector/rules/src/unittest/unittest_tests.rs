//! A failing test file against what promtool 2.42 printed for it
//! (`testdata/unittest/failing_test.std{out,err}`, recorded from promtool).

use super::*;

fn data(name: &str) -> String {
    let path = format!("{}/testdata/unittest/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn loader(pattern: &str) -> Result<Vec<(String, String)>, String> {
    Ok(vec![(pattern.to_string(), data(pattern))])
}

#[test]
fn failures_print_as_promtool_prints_them() {
    let r = run("failing_test.yaml", &data("failing_test.yaml"), &loader);
    assert!(!r.passed);
    assert_eq!(r.stdout, data("failing_test.stdout"));
    assert_eq!(r.stderr, data("failing_test.stderr"));
}

#[test]
fn a_passing_file_says_success() {
    let text = "rule_files: [rules.yaml]\ntests:\n- input_series:\n  - series: 'up{job=\"b\"}'\n    values: '1x5'\n  promql_expr_test:\n  - expr: up\n    eval_time: 2m\n    exp_samples:\n    - labels: 'up{job=\"b\"}'\n      value: 1\n";
    let r = run("ok.yaml", text, &loader);
    assert!(r.passed, "{}", r.stderr);
    assert_eq!(r.stdout, "Unit Testing:  ok.yaml\n  SUCCESS\n\n");
    assert_eq!(r.stderr, "");
}

#[test]
fn durations_print_as_go_and_prometheus_print_them() {
    assert_eq!(model_duration(0), "0s");
    assert_eq!(model_duration(300_000), "5m");
    assert_eq!(model_duration(5_400_000), "1h30m");
    assert_eq!(model_duration(14 * 86_400_000), "2w");
    assert_eq!(model_duration(90 * 86_400_000), "90d");
    assert_eq!(go_duration(120_000), "2m0s");
    assert_eq!(go_duration(3_600_000), "1h0m0s");
    assert_eq!(go_duration(90_500), "1m30.5s");
    assert_eq!(go_duration(0), "0s");
}

#[test]
fn broken_test_files_fail_with_a_reason() {
    let r = run("bad.yaml", "tests: [{bogus: 1}]\n", &loader);
    assert!(!r.passed);
    assert!(r.stderr.contains("bogus"), "{}", r.stderr);
    let r = run("bad.yaml", "rule_files: [nope.yaml]\n", &|p| {
        Err(format!("{p}: no such file"))
    });
    assert!(!r.passed);
    assert!(r.stderr.contains("nope.yaml: no such file"), "{}", r.stderr);
}
