//! Scrubbing configured secrets (passwords, bearer tokens) out of any text
//! that may reach a log line, a probe reason or an error answer, whatever a
//! peer echoed back: a Redis server that does not know `AUTH` repeats its
//! first 128 characters, a driver error may quote a fragment of its input.
//!
//! A plain "replace the whole secret" misses exactly those echoes, so the
//! unit of redaction is a *run*: every run of at least [`MIN_RUN`]
//! consecutive characters of the text that is also a substring of a secret
//! is replaced by [`MARKER`]. Why 6: a 6-character fragment of a password
//! is already a real loss, while shorter runs would match ordinary words,
//! numbers and punctuation of log lines ("error", port numbers) and redact
//! the text people need. A secret shorter than [`MIN_RUN`] is matched only
//! whole: its fragments are shorter than 6 characters, and scrubbing them
//! would eat ordinary text (such a secret is weak anyway).
//!
//! **Invariant:** after [`Secrets::redact`], the text holds no run of
//! [`MIN_RUN`] or more characters that is a substring of a secret of at
//! least that length, and no occurrence of a shorter secret outside a
//! marker — even where the marker's own characters would pair with their
//! neighbours to form one (the scrub repeats until nothing is left; each
//! round removes at least one character of the original text).
//!
//! Cost: one hash lookup per character position (skipped when the byte
//! cannot start a secret's run) plus a substring search per short secret,
//! O(n·m) with m the few configured secrets; nothing is allocated when
//! nothing matches.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, PoisonError, RwLock};

/// Shortest run of a secret's characters that is redacted (whole secrets
/// shorter than this are redacted only whole).
pub const MIN_RUN: usize = 6;

/// What replaces a redacted run. Shorter than [`MIN_RUN`], so no run of a
/// secret can hide inside the marker itself.
pub const MARKER: &str = "[***]";

/// A fixed set of secrets, ready to scrub texts: cheap to clone (shared),
/// `Debug` shows only how many secrets it holds.
#[derive(Clone, Default)]
pub struct Secrets {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    /// Every [`MIN_RUN`]-character substring of the long secrets, as bytes.
    windows: HashSet<Box<[u8]>>,
    /// Which bytes start some window: most text positions are skipped
    /// without hashing.
    starts: Box<[bool]>,
    /// Secrets shorter than [`MIN_RUN`] characters, matched whole.
    short: Vec<Box<str>>,
    /// How many secrets were added (for `Debug`).
    count: usize,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            windows: HashSet::new(),
            starts: vec![false; 256].into_boxed_slice(),
            short: Vec::new(),
            count: 0,
        }
    }
}

impl Secrets {
    /// The set of `secrets`; empty strings are ignored.
    pub fn new<S: AsRef<str>>(secrets: impl IntoIterator<Item = S>) -> Self {
        let mut inner = Inner::default();
        for s in secrets {
            inner.add(s.as_ref());
        }
        Secrets {
            inner: Arc::new(inner),
        }
    }

    /// Whether there is nothing to scrub.
    pub fn is_empty(&self) -> bool {
        self.inner.count == 0
    }

    /// How many secrets the set holds.
    pub fn len(&self) -> usize {
        self.inner.count
    }

    /// `text` with every run of a secret replaced by [`MARKER`]; borrowed
    /// when nothing matched.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.is_empty() {
            return Cow::Borrowed(text);
        }
        let ranges = self.inner.cover(text);
        if ranges.is_empty() {
            return Cow::Borrowed(text);
        }
        let (mut out, mut markers) = rebuild(text, ranges);
        // A marker's brackets could pair with the text beside it into a run
        // of a secret that contains them; scrub again until nothing new.
        loop {
            let fresh: Vec<Range<usize>> = self
                .inner
                .cover(&out)
                .into_iter()
                .filter(|r| !markers.iter().any(|m| m.start <= r.start && r.end <= m.end))
                .collect();
            if fresh.is_empty() {
                return Cow::Owned(out);
            }
            markers.extend(fresh);
            (out, markers) = rebuild(&out, merge(markers));
        }
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({} hidden)", self.inner.count)
    }
}

impl PartialEq for Secrets {
    /// Two sets are equal when they scrub the same runs.
    fn eq(&self, other: &Self) -> bool {
        self.inner.windows == other.inner.windows && self.inner.short == other.inner.short
    }
}

impl Eq for Secrets {}

impl Inner {
    fn add(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        self.count += 1;
        let bounds = char_bounds(secret);
        if bounds.len() <= MIN_RUN {
            let secret: Box<str> = secret.into();
            if !self.short.contains(&secret) {
                self.short.push(secret);
            }
            return;
        }
        for i in 0..bounds.len() - MIN_RUN {
            let run = &secret.as_bytes()[bounds[i]..bounds[i + MIN_RUN]];
            self.starts[usize::from(run[0])] = true;
            self.windows.insert(run.into());
        }
    }

    /// The byte ranges of `text` to redact, sorted, merged where they
    /// overlap or touch (so a long echo becomes one marker).
    fn cover(&self, text: &str) -> Vec<Range<usize>> {
        let mut ranges = Vec::new();
        let bytes = text.as_bytes();
        if !self.windows.is_empty() {
            let bounds = char_bounds(text);
            for i in 0..bounds.len().saturating_sub(MIN_RUN) {
                let (from, to) = (bounds[i], bounds[i + MIN_RUN]);
                if self.starts[usize::from(bytes[from])] && self.windows.contains(&bytes[from..to])
                {
                    ranges.push(from..to);
                }
            }
        }
        for secret in &self.short {
            ranges.extend(
                text.match_indices(&**secret)
                    .map(|(at, s)| at..at + s.len()),
            );
        }
        merge(ranges)
    }
}

/// Where each character of `text` starts, and its end.
fn char_bounds(text: &str) -> Vec<usize> {
    text.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect()
}

/// `ranges` sorted, with overlapping and touching ones joined.
fn merge(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|r| r.start);
    let mut out: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// `text` with each of the (sorted, disjoint) `ranges` replaced by the
/// marker, and where the markers now are.
fn rebuild(text: &str, ranges: Vec<Range<usize>>) -> (String, Vec<Range<usize>>) {
    let mut out = String::with_capacity(text.len());
    let mut markers = Vec::with_capacity(ranges.len());
    let mut at = 0;
    for r in ranges {
        out.push_str(&text[at..r.start]);
        markers.push(out.len()..out.len() + MARKER.len());
        out.push_str(MARKER);
        at = r.end;
    }
    out.push_str(&text[at..]);
    (out, markers)
}

/// A set of secrets that grows while the process runs and is shared by
/// every place that writes text out — the log writer, the self-log layer,
/// error answers — each of which is set up before all secrets are read.
/// Clones share one set.
#[derive(Clone, Default, Debug)]
pub struct Redactor {
    set: Arc<RwLock<Secrets>>,
}

impl Redactor {
    /// An empty redactor.
    pub fn new() -> Self {
        Redactor::default()
    }

    /// Adds a secret (ignored when empty).
    pub fn add(&self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let mut set = self.set.write().unwrap_or_else(PoisonError::into_inner);
        let mut inner = (*set.inner).clone();
        inner.add(secret);
        *set = Secrets {
            inner: Arc::new(inner),
        };
    }

    /// Adds every secret of `secrets`.
    pub fn add_all<S: AsRef<str>>(&self, secrets: impl IntoIterator<Item = S>) {
        for s in secrets {
            self.add(s.as_ref());
        }
    }

    /// The secrets known now.
    pub fn secrets(&self) -> Secrets {
        self.set
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// [`Secrets::redact`] over the secrets known now.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.secrets().redact(text)
    }
}

#[cfg(test)]
mod tests;
