//! `sextant rules test`: `promtool test rules`, with its output on the
//! same streams and its exit codes (0 all passed, 1 any failed).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Runs each test file; rule files are found relative to it.
pub(super) fn run(files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for path in files {
        let name = path.display().to_string();
        let report = match super::read(path) {
            Ok(text) => {
                let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
                let load = |pattern: &str| -> Result<Vec<(String, String)>, String> {
                    let mut out = Vec::new();
                    for p in super::glob::expand(&base, pattern)? {
                        let text = super::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
                        out.push((p.display().to_string(), text));
                    }
                    Ok(out)
                };
                sextant_rules::unittest::run(&name, &text, &load)
            }
            Err(e) => sextant_rules::unittest::Report {
                stdout: format!("Unit Testing:  {name}\n\n\n"),
                stderr: format!("  FAILED:\n    {name}: {e}\n"),
                passed: false,
            },
        };
        failed |= !report.passed;
        // stdout and stderr interleave as promtool's do when both are a terminal.
        let _ = std::io::stdout().write_all(report.stdout.as_bytes());
        let _ = std::io::stderr().write_all(report.stderr.as_bytes());
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
