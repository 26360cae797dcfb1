//! Passwords for checks: read from a file (a mounted Secret) or an
//! environment variable, held in a type whose `Debug` prints `***`, and
//! scrubbed from any text that might echo them.

use std::fmt;
use std::path::{Path, PathBuf};

/// A password: `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a password.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The password itself, for the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the password replaced by `***`, for
    /// error texts that might echo what they were given.
    pub fn scrub(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.0, "***")
        }
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

/// Reads the password from `file` (its first line, without the newline) or
/// the variable `env_name` looked up with `env`; `None` when neither is set.
pub fn resolve(
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
        assert_eq!(got.scrub("bad s3cret here"), "bad *** here");
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
}
