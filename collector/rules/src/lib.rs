//! Sextant's rule engine: Prometheus rule files read, checked and evaluated.
//!
//! A rule file is read in two steps, as promtool reads it:
//!
//! * [`file`] — the YAML as written (`groups`, each with `name`, `interval`,
//!   `limit`, `query_offset`, `labels`, `rules`), every field that an error
//!   may point at kept with its line and column; unknown keys are refused
//!   by the YAML reader with theirs.
//! * [`check`] — promtool's semantic checks over that (one of `record` and
//!   `alert`, `expr` parses with the engine's own parser, recording rules
//!   carry no `for`/`keep_firing_for`/annotations, names are classic metric
//!   and label names, group names unique in a file), producing the typed
//!   [`RuleFile`] the engine evaluates, or every problem at once in
//!   promtool's `line:col: group "g", rule N, "name": …` shape.
//!
//! Then the engine, pure as the rest: [`alert`] is one alerting rule's
//! alerts and Prometheus's state machine over them; [`group`] evaluates a
//! group's rules in order at one timestamp against any `Queryable` and
//! returns what to append and what to notify; [`unittest`] runs
//! promtool's rule unit tests over [`mem`], an in-memory store.
//!
//! The lint promtool runs by default (rules with the same name and labels)
//! is [`check::duplicates`]: a warning, not an error, as there.
//!
//! * [`template`] — Go's text/template as Prometheus uses it: the check
//!   parses every alert label and annotation with it, as promtool does, so
//!   a malformed template is refused with Go's message; `expand_alert`
//!   runs one with `$labels`, `$value`, `$externalLabels`, `$externalURL`,
//!   Go's builtins and Prometheus's template functions (`humanize*`,
//!   `query`, `first`, `label`, `value`, `reReplaceAll`, `title` …),
//!   printing numbers as Go prints them.
//!
//! Prometheus 3 fields (`query_offset`, group `labels`) are accepted
//! although promtool 2.42 refuses them; recording-rule names follow the
//! classic metric-name rule `[a-zA-Z_:][a-zA-Z0-9_:]*` as promtool 2.42
//! checks it.
//!
//! The crate knows no HTTP, no files on disk and no clock: callers hand it
//! text, a store to read and a timestamp, and get back values and errors.

pub mod alert;
pub mod check;
pub mod file;
pub mod group;
pub mod mem;
pub mod template;
pub mod unittest;

pub use check::{CheckError, Duplicate, RuleFile, check, duplicates};
pub use file::Pos;

/// The typed rule model [`check`] produces.
pub mod model;
pub use model::{AlertingRule, Group, RecordingRule, Rule};
