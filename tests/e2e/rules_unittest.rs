//! `sextant rules test` against a real `promtool test rules` (Debian's
//! 2.42) on every `*_test.yaml` of `collector/rules/testdata/unittest` and
//! of the rule packs in `rules/` (which must also pass, and check clean
//! under both `promtool check rules` and `sextant rules check`):
//! the same exit code and byte for byte the same stdout and stderr —
//! passing and failing tests, recorded chains, `for` across gaps, stale
//! markers, `keep_firing_for`, `absent`, templates with `humanize*`,
//! `printf` and `query`. The files avoid the one place the two engines
//! differ on purpose: Prometheus 3's left-open windows (`rate(x[1m])` over
//! 1m samples holds one sample here and two in 2.42).

use std::path::Path;
use std::process::Command;

fn run(cmd: &mut Command, dir: &Path) -> (i32, String, String) {
    let out = cmd.current_dir(dir).output().expect("run the tester");
    (
        out.status.code().expect("exited"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn test_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("test directory")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with("_test.yaml"))
        .collect();
    names.sort();
    names
}

/// Runs both testers on each file of `dir` (ours as `sextant`); returns
/// how many failed.
fn compare(dir: &Path, sextant: &Path) -> usize {
    let names = test_files(dir);
    assert!(names.len() >= 2, "{names:?}");
    let mut failing = 0;
    for name in &names {
        let theirs = run(Command::new("promtool").args(["test", "rules", name]), dir);
        let ours = run(Command::new(sextant).args(["rules", "test", name]), dir);
        assert_eq!(
            ours.0, theirs.0,
            "{name}: exit code\nours: {}\npromtool: {}",
            ours.2, theirs.2
        );
        assert_eq!(ours.1, theirs.1, "{name}: stdout");
        assert_eq!(ours.2, theirs.2, "{name}: stderr");
        failing += usize::from(theirs.0 != 0);
    }
    // Several files at once: one exit code for all, as promtool's.
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    let theirs = run(
        Command::new("promtool").arg("test").arg("rules").args(&all),
        dir,
    );
    let ours = run(
        Command::new(sextant).arg("rules").arg("test").args(&all),
        dir,
    );
    assert_eq!((ours.0, &ours.1), (theirs.0, &theirs.1));
    failing
}

#[test]
fn verdicts_and_output_match_promtool() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("collector/rules/testdata/unittest");
    let sextant = Path::new(env!("CARGO_BIN_EXE_sextant"));
    assert!(
        compare(&dir, sextant) > 0,
        "no file exercises a failing test"
    );
}

#[test]
fn the_rule_packs_check_clean_and_their_tests_pass_under_both() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    // The packs' tests evaluate days of data; the release build keeps that
    // to seconds (promtool takes about as long).
    let sextant = crate::common::release_bin();
    assert_eq!(compare(&dir, &sextant), 0, "a pack's tests fail");
    let packs: Vec<String> = std::fs::read_dir(&dir)
        .expect("rules/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".yaml") && !n.ends_with("_test.yaml"))
        .collect();
    assert!(packs.len() >= 4, "{packs:?}");
    for pack in &packs {
        let theirs = run(
            Command::new("promtool").args(["check", "rules", pack]),
            &dir,
        );
        let ours = run(Command::new(&sextant).args(["rules", "check", pack]), &dir);
        assert_eq!(theirs.0, 0, "{pack}: {}", theirs.2);
        assert_eq!(
            (ours.0, &ours.1),
            (theirs.0, &theirs.1),
            "{pack}: {}",
            ours.2
        );
        // Every alert tells the reader what to do.
        let text = std::fs::read_to_string(dir.join(pack)).expect("pack");
        let alerts = text.matches("- alert:").count();
        for key in ["summary:", "description:", "runbook_url: rules/runbooks/"] {
            assert_eq!(
                text.matches(key).count(),
                alerts,
                "{pack}: every alert needs {key}"
            );
        }
        for url in text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("runbook_url: rules/"))
        {
            let (file, anchor) = url.split_once('#').expect("an anchor");
            let book = std::fs::read_to_string(dir.join(file)).expect("the runbook exists");
            assert!(
                book.lines().any(|l| l
                    .strip_prefix("## ")
                    .is_some_and(|h| h.to_lowercase() == anchor)),
                "{pack}: {file} has no section #{anchor}"
            );
        }
    }
}
