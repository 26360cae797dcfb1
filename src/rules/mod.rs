//! `sextant rules check|test FILE…`: `promtool check rules` and `promtool
//! test rules` for Sextant's rule engine, with promtool's output shape and
//! exit codes, so CI scripts written for promtool work unchanged.

mod check;
mod glob;
mod unit;

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
    /// Run rule unit tests as `promtool test rules` does.
    Test {
        /// The test files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// promtool's lint choices.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Lint {
    /// Every lint (today: duplicate rules).
    All,
    /// Rules with the same name and labels.
    DuplicateRules,
    /// No lint.
    None,
}

/// Runs `sextant rules …` and gives its exit code.
pub fn run(args: RulesArgs) -> ExitCode {
    let (RulesCommand::Check { files, .. } | RulesCommand::Test { files }) = &args.command;
    // promtool (kingpin) refuses a missing path before doing anything.
    if let Some(missing) = files.iter().find(|p| !p.exists()) {
        eprintln!(
            "sextant: error: path '{}' does not exist",
            missing.display()
        );
        return ExitCode::from(1);
    }
    match args.command {
        RulesCommand::Check {
            lint,
            lint_fatal,
            files,
        } => check::run(&files, lint, lint_fatal),
        RulesCommand::Test { files } => unit::run(&files),
    }
}

/// Reads a rule or test file: bounded, UTF-8, or a reason.
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
