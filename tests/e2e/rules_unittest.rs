//! `sextant rules test` against a real `promtool test rules` (Debian's
//! 2.42) on every `*_test.yaml` of `collector/rules/testdata/unittest`:
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

#[test]
fn verdicts_and_output_match_promtool() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("collector/rules/testdata/unittest");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("testdata/unittest")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with("_test.yaml"))
        .collect();
    names.sort();
    assert!(names.len() >= 2, "{names:?}");
    let mut failing = 0;
    for name in &names {
        let theirs = run(Command::new("promtool").args(["test", "rules", name]), &dir);
        let ours = run(
            Command::new(env!("CARGO_BIN_EXE_sextant")).args(["rules", "test", name]),
            &dir,
        );
        assert_eq!(
            ours.0, theirs.0,
            "{name}: exit code\nours: {}\npromtool: {}",
            ours.2, theirs.2
        );
        assert_eq!(ours.1, theirs.1, "{name}: stdout");
        assert_eq!(ours.2, theirs.2, "{name}: stderr");
        failing += usize::from(theirs.0 != 0);
    }
    assert!(failing > 0, "no file exercises a failing test");
    // Several files at once: one exit code for all, as promtool's.
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    let theirs = run(
        Command::new("promtool").arg("test").arg("rules").args(&all),
        &dir,
    );
    let ours = run(
        Command::new(env!("CARGO_BIN_EXE_sextant"))
            .arg("rules")
            .arg("test")
            .args(&all),
        &dir,
    );
    assert_eq!((ours.0, &ours.1), (theirs.0, &theirs.1));
}
