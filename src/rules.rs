//! `sextant rules check FILE…`: `promtool check rules` for Sextant's rule
//! engine, with promtool's output shape and exit codes (0 clean, 1 any file
//! invalid, 3 lint findings under `--lint-fatal`), so CI scripts written
//! for promtool work unchanged.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};

/// Longest rule file read: rule files are hand-written or generated
/// configs, never this big, and the whole file is held to check it.
const MAX_RULE_FILE_BYTES: u64 = 64 << 20;

/// Flags of `sextant rules`.
#[derive(Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    command: RulesCommand,
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Check rule files as `promtool check rules` does.
    Check {
        /// Lint checks to apply, as promtool's `--lint`.
        #[arg(long, value_enum, default_value_t = Lint::DuplicateRules)]
        lint: Lint,
        /// Exit with 3 on lint findings (promtool's `--lint-fatal`).
        #[arg(long)]
        lint_fatal: bool,
        /// The rule files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// promtool's lint choices.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Lint {
    /// Every lint (today: duplicate rules).
    All,
    /// Rules with the same name and labels.
    DuplicateRules,
    /// No lint.
    None,
}

/// Runs `sextant rules …` and gives its exit code.
pub fn run(args: RulesArgs) -> ExitCode {
    match args.command {
        RulesCommand::Check {
            lint,
            lint_fatal,
            files,
        } => check(&files, lint, lint_fatal),
    }
}

fn check(files: &[PathBuf], lint: Lint, lint_fatal: bool) -> ExitCode {
    // promtool refuses a missing path before checking anything.
    if let Some(missing) = files.iter().find(|p| !p.exists()) {
        eprintln!(
            "sextant: error: path '{}' does not exist",
            missing.display()
        );
        return ExitCode::from(1);
    }
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
    let text = match read(path) {
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

fn read(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_RULE_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_RULE_FILE_BYTES {
        return Err(format!(
            "over {MAX_RULE_FILE_BYTES} bytes, the most a rule file may hold"
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 (byte {} is the first invalid one)",
            e.utf8_error().valid_up_to()
        )
    })
}
