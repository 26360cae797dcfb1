//! Passwords for checks: read from a file (a mounted Secret) or an
//! environment variable, held in a type whose `Debug` prints `***`, and
//! scrubbed from any text that might echo them — any run of 6 or more of
//! their characters, by `sextant_config::redact`, since servers echo
//! fragments (Redis repeats the first 128 characters of an unknown
//! command's arguments).
//!
//! Every kind that logs in (mysql, postgres, redis) carries the same two
//! flat keys, `password_file` and `password_env` — never an inline
//! `password:` — and sees them through one [`PasswordSource`], so the "not
//! both" rule, the reading and what `Debug` shows are written once here.

use std::fmt;
use std::path::{Path, PathBuf};

use sextant_config::redact::Secrets;

/// A password: `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    value: String,
    /// The password's runs, ready to scrub texts with.
    runs: Secrets,
}

impl Secret {
    /// Wraps a password.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        Secret {
            runs: Secrets::new([&value]),
            value,
        }
    }

    /// The password itself, for the driver (and for a process-wide
    /// redactor of log output) only.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// The password as a redaction set, for scrubbing whole reports.
    pub fn secrets(&self) -> &Secrets {
        &self.runs
    }

    /// `text` with every run of the password's characters (6 or more, or
    /// the whole of a shorter one) replaced by the redaction marker, for
    /// error texts that might echo what they were given.
    pub fn scrub(&self, text: &str) -> String {
        self.runs.redact(text).into_owned()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Why a password could not be read; each check's error wraps it.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The password file could not be read (the error never holds its contents).
    #[error("cannot read password file {path}: {source}")]
    File {
        /// The configured path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The configured variable is not set (or not UTF-8).
    #[error("password environment variable {name} is not set")]
    Env {
        /// The variable's name.
        name: String,
    },
}

/// Where a check's password comes from: a kind's `password_file` and
/// `password_env` keys seen together, so every kind validates, reads and
/// prints them the same way. `Debug` shows the file's path and the
/// variable's name, never what they hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PasswordSource<'a> {
    /// `password_file`: a file holding the password (its first line).
    pub file: Option<&'a Path>,
    /// `password_env`: an environment variable holding the password.
    pub env: Option<&'a str>,
}

impl<'a> PasswordSource<'a> {
    /// The source named by a kind's `password_file` and `password_env` keys.
    pub fn new(file: Option<&'a Path>, env: Option<&'a str>) -> Self {
        PasswordSource { file, env }
    }

    /// Whether a password is configured at all.
    pub fn is_set(&self) -> bool {
        self.file.is_some() || self.env.is_some()
    }

    /// Refuses both keys at once; the text is the kind's config error.
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.file.is_some() && self.env.is_some() {
            return Err("set password_file or password_env, not both");
        }
        Ok(())
    }

    /// Reads the password (`env` looks a variable up; the process
    /// environment in [`resolve`](Self::resolve)); `None` when unset.
    pub fn resolve_with(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Secret>, SecretError> {
        resolve(self.file, self.env, env)
    }

    /// [`resolve_with`](Self::resolve_with) over the process environment.
    pub fn resolve(&self) -> Result<Option<Secret>, SecretError> {
        self.resolve_with(|name| std::env::var(name).ok())
    }
}

/// A kind's config that takes its password from a [`PasswordSource`]: the
/// kind says where its keys are and which of its errors wraps a password
/// failure (so the error names the kind), and reading is written once here.
pub trait WithPassword {
    /// The kind's config error.
    type Error: From<SecretError>;

    /// Where the password comes from: `password_file` or `password_env`.
    fn password(&self) -> PasswordSource<'_>;

    /// Reads the password from its file or variable (`env` looks a
    /// variable up; the real process environment in
    /// [`resolve_password`](Self::resolve_password)).
    fn resolve_password_with(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Secret>, Self::Error> {
        self.password().resolve_with(env).map_err(Self::Error::from)
    }

    /// [`resolve_password_with`](Self::resolve_password_with) over the
    /// process environment.
    fn resolve_password(&self) -> Result<Option<Secret>, Self::Error> {
        self.resolve_password_with(|name| std::env::var(name).ok())
    }
}

/// Reads the password from `file` (its first line, without the newline) or
/// the variable `env_name` looked up with `env`; `None` when neither is set.
fn resolve(
    file: Option<&Path>,
    env_name: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, SecretError> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| SecretError::File {
            path: path.to_path_buf(),
            source,
        })?;
        let line = text.strip_suffix('\n').unwrap_or(&text);
        let line = line.strip_suffix('\r').unwrap_or(line);
        return Ok(Some(Secret::new(line)));
    }
    match env_name {
        Some(name) => env(name)
            .map(|v| Some(Secret::new(v)))
            .ok_or_else(|| SecretError::Env {
                name: name.to_string(),
            }),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_files_and_variables_and_hides_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret\r\n").expect("write");
        let got = resolve(Some(&file), None, |_| None)
            .expect("file")
            .expect("some");
        assert_eq!(got.expose(), "s3cret");
        assert_eq!(format!("{got:?}"), "***");
        assert_eq!(got.scrub("bad s3cret here"), "bad [***] here");
        assert_eq!(got.scrub("echoed 3cre back"), "echoed 3cre back");
        let long = Secret::new("correct-horse-battery-staple");
        assert_eq!(
            long.scrub("ERR unknown command, args beginning with: 'correct-horse-b'"),
            "ERR unknown command, args beginning with: '[***]'"
        );
        let env = resolve(None, Some("PW"), |n| (n == "PW").then(|| "x".to_string())).expect("env");
        assert_eq!(env.map(|s| s.expose().to_string()), Some("x".to_string()));
        assert!(matches!(
            resolve(None, Some("NOPE"), |_| None),
            Err(SecretError::Env { .. })
        ));
        assert!(matches!(
            resolve(Some(&dir.path().join("missing")), None, |_| None),
            Err(SecretError::File { .. })
        ));
        assert!(resolve(None, None, |_| None).expect("none").is_none());
    }

    #[test]
    fn password_source_cases() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("pw");
        std::fs::write(&file, "hunter2\n").expect("write");
        let env = |n: &str| (n == "PW").then(|| "from-env".to_string());
        // (file, env, validates, resolves to)
        type Case<'a> = (
            Option<&'a Path>,
            Option<&'a str>,
            bool,
            Result<Option<&'a str>, &'a str>,
        );
        let cases: [Case; 5] = [
            (None, None, true, Ok(None)),
            (Some(&file), None, true, Ok(Some("hunter2"))),
            (None, Some("PW"), true, Ok(Some("from-env"))),
            (
                None,
                Some("NOPE"),
                true,
                Err("password environment variable NOPE is not set"),
            ),
            (Some(&file), Some("PW"), false, Ok(Some("hunter2"))),
        ];
        for (f, e, valid, want) in cases {
            let src = PasswordSource::new(f, e);
            assert_eq!(src.is_set(), f.is_some() || e.is_some());
            assert_eq!(
                src.validate(),
                if valid {
                    Ok(())
                } else {
                    Err("set password_file or password_env, not both")
                },
                "{src:?}"
            );
            let got = src.resolve_with(env);
            let got = got
                .as_ref()
                .map(|s| s.as_ref().map(Secret::expose))
                .map_err(|e| e.to_string());
            assert_eq!(got, want.map_err(str::to_string), "{src:?}");
            let shown = format!("{src:?}");
            assert!(
                !shown.contains("hunter2") && !shown.contains("from-env"),
                "{shown}"
            );
        }
    }
}
