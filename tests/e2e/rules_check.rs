//! `sextant rules check` against a real `promtool check rules` (Debian's
//! 2.42) on every file of `collector/rules/testdata/check`: the same exit
//! code, the same stdout, and the same error lines wherever promtool's come
//! from its rule checks. Where they come from its YAML reader (unknown
//! keys, wrong types, syntax) the wording is the reader's own on each side,
//! so those must agree on the verdict and the line.

use std::path::Path;
use std::process::Command;

/// Files on which the two differ on purpose: Prometheus 3 fields that
/// promtool 2.42 refuses and we accept.
const PROMETHEUS_3_ONLY: &[&str] = &["prometheus3.yaml"];

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command, dir: &Path) -> Run {
    let out = cmd.current_dir(dir).output().expect("run the checker");
    Run {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Lines printed from rulefmt's checks or promtool's lint, sorted (Go maps
/// order label errors at random).
fn rule_lines(stderr: &str) -> Vec<String> {
    let mut lines: Vec<String> = stderr
        .lines()
        .filter(|l| !l.contains(": yaml: ") && !l.starts_with("  line "))
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

/// The line numbers an error text names as `line N`.
fn named_lines(text: &str) -> Vec<u64> {
    let mut out: Vec<u64> = text
        .split("line ")
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn verdicts_output_and_error_lines_match_promtool() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("collector/rules/testdata/check");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("testdata/check")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for name in &names {
        let theirs = run(
            Command::new("promtool").args(["check", "rules", name]),
            &dir,
        );
        let ours = run(
            Command::new(env!("CARGO_BIN_EXE_sextant")).args(["rules", "check", name]),
            &dir,
        );
        if PROMETHEUS_3_ONLY.contains(&name.as_str()) {
            assert_eq!(theirs.code, 1, "{name}: promtool 2.42 accepted it");
            assert_eq!(ours.code, 0, "{name}: {}", ours.stderr);
            assert_eq!(
                ours.stdout,
                format!("Checking {name}\n  SUCCESS: 1 rules found\n\n")
            );
            continue;
        }
        assert_eq!(
            ours.code, theirs.code,
            "{name}: exit code\nours: {}\npromtool: {}",
            ours.stderr, theirs.stderr
        );
        assert_eq!(ours.stdout, theirs.stdout, "{name}: stdout");
        if theirs.stderr.contains(": yaml: ") {
            let want = named_lines(&theirs.stderr);
            assert!(
                named_lines(&ours.stderr).iter().any(|l| want.contains(l)),
                "{name}: promtool named lines {want:?}; ours said {}",
                ours.stderr
            );
        } else if theirs.stderr.contains("not a valid duration string") {
            assert!(
                ours.stderr.contains("5x") && ours.stderr.contains("line 6"),
                "{name}: {}",
                ours.stderr
            );
        } else {
            assert_eq!(
                rule_lines(&ours.stderr),
                rule_lines(&theirs.stderr),
                "{name}: stderr"
            );
        }
    }
}

#[test]
fn lint_fatal_exits_3_and_missing_files_fail() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("collector/rules/testdata/check");
    let sextant = env!("CARGO_BIN_EXE_sextant");
    for args in [
        &["rules", "check", "--lint-fatal", "duplicates.yaml"][..],
        &[
            "rules",
            "check",
            "--lint=none",
            "--lint-fatal",
            "duplicates.yaml",
        ][..],
        &["rules", "check", "good.yaml", "no-such-file.yaml"][..],
    ] {
        let promtool: Vec<&str> = ["check", "rules"]
            .into_iter()
            .chain(args[2..].iter().copied())
            .collect();
        let theirs = run(Command::new("promtool").args(&promtool), &dir);
        let ours = run(Command::new(sextant).args(args), &dir);
        assert_eq!(
            ours.code, theirs.code,
            "{args:?}: {} / {}",
            ours.stderr, theirs.stderr
        );
        assert_eq!(ours.stdout, theirs.stdout, "{args:?}");
    }
}
