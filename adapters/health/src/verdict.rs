//! The three verdicts of a health check and the reasons behind them.
//!
//! Kubernetes acts on two of them: a failed *liveness* probe restarts the
//! container, a failed *readiness* probe takes the pod out of its Service.
//! So liveness stays dumb (the process answers), readiness depends on the
//! role (a lagging replica is alive but not ready), and everything that is
//! merely worrying (saturation, purge debt, long transactions) is *degraded*:
//! reported, never a probe failure. Every verdict carries text saying why,
//! for `/readyz?verbose`, logs and humans.

use std::fmt;

use sextant_config::redact::Secrets;

/// One verdict (live or ready): the answer plus the reasons for it.
///
/// The reasons explain a pass too (`"primary: writable (read_only=OFF)"`),
/// so a verbose probe answer always says what was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    /// Whether the probe would pass.
    pub ok: bool,
    /// Why; for a failure every failed condition, for a pass what held.
    pub reasons: Vec<String>,
}

impl Judgement {
    /// A passing verdict with one explanation.
    pub fn pass(reason: impl Into<String>) -> Self {
        Judgement {
            ok: true,
            reasons: vec![reason.into()],
        }
    }

    /// A failing verdict with one reason.
    pub fn fail(reason: impl Into<String>) -> Self {
        Judgement {
            ok: false,
            reasons: vec![reason.into()],
        }
    }

    /// Passes when `failures` is empty (then `pass_reason` explains it),
    /// otherwise fails with every failure as a reason.
    pub fn from_failures(failures: Vec<String>, pass_reason: impl Into<String>) -> Self {
        if failures.is_empty() {
            Judgement::pass(pass_reason)
        } else {
            Judgement {
                ok: false,
                reasons: failures,
            }
        }
    }

    /// Scrubs `secrets` from every reason.
    pub fn redact(&mut self, secrets: &Secrets) {
        for reason in &mut self.reasons {
            redact_in_place(reason, secrets);
        }
    }

    /// The reasons joined with `"; "`, for one log line or probe body line.
    pub fn summary(&self) -> String {
        self.reasons.join("; ")
    }
}

impl fmt::Display for Judgement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = if self.ok { "ok" } else { "failed" };
        write!(f, "{word}: {}", self.summary())
    }
}

/// Something worrying that is neither a liveness nor a readiness failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// A short stable key for the signal (`"connections"`, `"history_list"`,
    /// `"long_transaction"`, `"incomplete"`), for filtering and tests.
    pub signal: &'static str,
    /// What was seen and the threshold it crossed.
    pub text: String,
}

impl Reason {
    /// A reason for `signal`.
    pub fn new(signal: &'static str, text: impl Into<String>) -> Self {
        Reason {
            signal,
            text: text.into(),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.signal, self.text)
    }
}

/// The overall state of one check, one value at a time, so it can be
/// exported as a status metric (1 for the current state, 0 for the others).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Live, ready, nothing worrying.
    Ok,
    /// Live and ready, but at least one degraded reason.
    Degraded,
    /// Not live or not ready.
    Failed,
}

impl Status {
    /// Every state, in the order status metrics list them.
    pub const ALL: [Status; 3] = [Status::Ok, Status::Degraded, Status::Failed];

    /// The attribute value of this state.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Degraded => "degraded",
            Status::Failed => "failed",
        }
    }
}

/// The three verdicts of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The target answers at all (a failure should restart it).
    pub live: Judgement,
    /// The target can take traffic in its role (a failure should unroute it).
    pub ready: Judgement,
    /// Worrying signals; empty when none. Never decide liveness or readiness.
    pub degraded: Vec<Reason>,
}

impl Verdict {
    /// The verdict of a check that could not reach its target: not live, and
    /// therefore not ready either.
    pub fn unreachable(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Verdict {
            ready: Judgement::fail(format!("not live: {reason}")),
            live: Judgement::fail(reason),
            degraded: Vec::new(),
        }
    }

    /// Scrubs `secrets` from every reason of the three verdicts.
    pub fn redact(&mut self, secrets: &Secrets) {
        self.live.redact(secrets);
        self.ready.redact(secrets);
        for reason in &mut self.degraded {
            redact_in_place(&mut reason.text, secrets);
        }
    }

    /// Failed if not live or not ready, else Degraded if any reason, else Ok.
    pub fn status(&self) -> Status {
        if !self.live.ok || !self.ready.ok {
            Status::Failed
        } else if !self.degraded.is_empty() {
            Status::Degraded
        } else {
            Status::Ok
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "live {}; ready {}", self.live, self.ready)?;
        for reason in &self.degraded {
            write!(f, "; degraded {reason}")?;
        }
        Ok(())
    }
}

/// Replaces `text` by its scrubbed form when anything was scrubbed.
pub(crate) fn redact_in_place(text: &mut String, secrets: &Secrets) {
    if let std::borrow::Cow::Owned(clean) = secrets.redact(text) {
        *text = clean;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_reaches_every_reason() {
        let pw = "0123456789abcdef";
        let mut v = Verdict {
            live: Judgement::fail(format!("AUTH: echoed '{}'", &pw[..12])),
            ready: Judgement::fail(format!("not live: {pw}")),
            degraded: vec![Reason::new("incomplete", format!("INFO: {}", &pw[4..10]))],
        };
        v.redact(&Secrets::new([pw]));
        assert_eq!(
            v.to_string(),
            "live failed: AUTH: echoed '[***]'; ready failed: not live: [***]; \
             degraded incomplete: INFO: [***]"
        );
    }

    #[test]
    fn status_follows_the_verdicts() {
        let pass = Judgement::pass("fine");
        let fail = Judgement::fail("broken");
        let worry = vec![Reason::new("connections", "90% used")];
        let cases = [
            (pass.clone(), pass.clone(), vec![], Status::Ok),
            (pass.clone(), pass.clone(), worry.clone(), Status::Degraded),
            (pass.clone(), fail.clone(), worry.clone(), Status::Failed),
            (fail.clone(), pass.clone(), vec![], Status::Failed),
        ];
        for (live, ready, degraded, want) in cases {
            let v = Verdict {
                live,
                ready,
                degraded,
            };
            assert_eq!(v.status(), want, "{v}");
        }
    }

    #[test]
    fn unreachable_is_neither_live_nor_ready_and_says_why() {
        let v = Verdict::unreachable("connection refused");
        assert!(!v.live.ok && !v.ready.ok);
        assert_eq!(v.live.summary(), "connection refused");
        assert_eq!(v.ready.summary(), "not live: connection refused");
        assert_eq!(
            v.to_string(),
            "live failed: connection refused; ready failed: not live: connection refused"
        );
    }

    #[test]
    fn from_failures_lists_every_failure() {
        let j = Judgement::from_failures(vec!["a".into(), "b".into()], "unused");
        assert!(!j.ok);
        assert_eq!(j.summary(), "a; b");
        assert_eq!(
            Judgement::from_failures(vec![], "all good").summary(),
            "all good"
        );
    }
}
