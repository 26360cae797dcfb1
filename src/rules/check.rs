//! `sextant rules check`: `promtool check rules`, line for line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::Lint;

/// Checks each file, printing as promtool prints; 0 clean, 1 any file
/// invalid, 3 lint findings under `--lint-fatal`.
pub(super) fn run(files: &[PathBuf], lint: Lint, lint_fatal: bool) -> ExitCode {
    let (mut invalid, mut linted) = (false, false);
    for path in files {
        println!("Checking {}", path.display());
        match check_one(path, lint) {
            Outcome::Clean(n) => println!("  SUCCESS: {n} rules found"),
            Outcome::Invalid(lines) => {
                invalid = true;
                eprintln!("  FAILED:");
                for line in lines {
                    eprintln!("{}: {line}", path.display());
                }
            }
            Outcome::Linted(message) => {
                linted = true;
                eprintln!("  FAILED:");
                eprintln!("{message}");
            }
        }
        println!();
    }
    if invalid {
        ExitCode::from(1)
    } else if linted && lint_fatal {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

enum Outcome {
    Clean(usize),
    Invalid(Vec<String>),
    Linted(String),
}

fn check_one(path: &Path, lint: Lint) -> Outcome {
    let text = match super::read(path) {
        Ok(t) => t,
        Err(e) => return Outcome::Invalid(vec![e]),
    };
    let file = match sextant_rules::check(&text) {
        Ok(f) => f,
        Err(errors) => return Outcome::Invalid(errors.iter().map(ToString::to_string).collect()),
    };
    let dups = if lint == Lint::None {
        Vec::new()
    } else {
        sextant_rules::duplicates(&file)
    };
    if dups.is_empty() {
        return Outcome::Clean(file.rule_count());
    }
    // promtool's lint message, line for line.
    let mut message = format!("lint error {} duplicate rule(s) found.\n", dups.len());
    for d in dups {
        message.push_str(&format!("Metric: {}\nLabel(s):\n", d.name));
        for (k, v) in &d.labels {
            message.push_str(&format!("\t{k}: {v}\n"));
        }
    }
    message.push_str("Might cause inconsistency while recording expressions");
    Outcome::Linted(message)
}
