//! Label lists: the matchers of a selector (`{job="api", path=~"/v1/.*"}`,
//! quoted names, `or` groups), the grouping labels of `by`/`without`/`on`/
//! `ignoring`/`group_left`, and the binary operator modifiers they appear in.

use promql_parser::label::{Labels, Matcher, Matchers};
use promql_parser::parser::token::*;
use promql_parser::parser::{
    BinModifier, LabelModifier, VectorMatchCardinality, VectorMatchFillValues,
};

use super::SyntaxError;
use super::expr::Parser;
use super::literals;

/// Tokens that may name a label in a grouping list (keywords included, as
/// promql-parser's `maybe_label`); the name must still look like a label.
fn maybe_label(id: TokenId) -> bool {
    matches!(
        id,
        T_AVG
            | T_BOOL
            | T_BOTTOMK
            | T_BY
            | T_COUNT
            | T_COUNT_VALUES
            | T_FILL
            | T_FILL_LEFT
            | T_FILL_RIGHT
            | T_GROUP
            | T_GROUP_LEFT
            | T_GROUP_RIGHT
            | T_IDENTIFIER
            | T_IGNORING
            | T_LAND
            | T_LOR
            | T_LUNLESS
            | T_MAX
            | T_METRIC_IDENTIFIER
            | T_MIN
            | T_OFFSET
            | T_ON
            | T_QUANTILE
            | T_STDDEV
            | T_STDVAR
            | T_SUM
            | T_TOPK
            | T_LIMITK
            | T_LIMIT_RATIO
            | T_START
            | T_END
            | T_ATAN2
    )
}

fn is_label(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c == b'_' || c.is_ascii_alphabetic())
        && b.all(|c| c == b'_' || c.is_ascii_alphanumeric())
}

fn is_match_op(id: TokenId) -> bool {
    matches!(id, T_EQL | T_NEQ | T_EQL_REGEX | T_NEQ_REGEX)
}

const MATCHING: &str = "label matching";
const GROUPING: &str = "grouping opts";

impl Parser<'_> {
    /// The matchers after `{` up to and including `}`.
    pub(super) fn label_matchers(&mut self) -> Result<Matchers, SyntaxError> {
        let mut out = Matchers::empty();
        if self.eat(T_RIGHT_BRACE)?.is_some() {
            return Ok(out);
        }
        let mut or = false;
        loop {
            let m = self.label_matcher()?;
            out = if or { out.append_or(m) } else { out.append(m) };
            let t = self.bump()?;
            match t.id {
                T_RIGHT_BRACE => return Ok(out),
                T_COMMA if self.eat(T_RIGHT_BRACE)?.is_some() => return Ok(out),
                T_COMMA => or = false,
                T_LOR => or = true,
                _ => return Err(self.unexpected(t, MATCHING, "\",\" or \"}\"")),
            }
        }
    }

    /// `name op "value"`, `"name" op "value"`, or a quoted metric name.
    fn label_matcher(&mut self) -> Result<Matcher, SyntaxError> {
        let t = self.bump()?;
        let name = match t.id {
            T_IDENTIFIER => self.text(t).to_string(),
            T_STRING => {
                let name = self.unquote(t)?;
                if !is_match_op(self.peek()?.id) {
                    return Matcher::new_metric_name_matcher(name)
                        .map_err(|m| SyntaxError::new(t.start, m));
                }
                name
            }
            _ => return Err(self.unexpected(t, MATCHING, "identifier or \"}\"")),
        };
        let op = self.bump()?;
        if !is_match_op(op.id) {
            return Err(self.unexpected(op, MATCHING, "label matching operator"));
        }
        let value = self.bump()?;
        if value.id != T_STRING {
            return Err(self.unexpected(value, MATCHING, "string"));
        }
        let text = self.unquote(value)?;
        Matcher::new_matcher(op.id, name, text.clone())
            .map_err(|_| SyntaxError::new(t.start, regex_error(&text)))
    }

    pub(super) fn unquote(&self, t: super::lexer::Token) -> Result<String, SyntaxError> {
        literals::unquote(self.text(t)).map_err(|m| SyntaxError::new(t.start, m))
    }

    /// `(a, b, …)` after `by`, `without`, `on`, `ignoring` or `group_*`.
    pub(super) fn grouping_labels(&mut self) -> Result<Labels, SyntaxError> {
        let t = self.bump()?;
        if t.id != T_LEFT_PAREN {
            return Err(self.unexpected(t, GROUPING, "\"(\""));
        }
        let mut labels = Labels::new(vec![]);
        if self.eat(T_RIGHT_PAREN)?.is_some() {
            return Ok(labels);
        }
        loop {
            let t = self.bump()?;
            let label = match t.id {
                id if maybe_label(id) && is_label(self.text(t)) => self.text(t).to_string(),
                T_STRING => self.unquote(t)?,
                _ => return Err(self.unexpected(t, GROUPING, "label")),
            };
            labels = labels.append(label);
            let t = self.bump()?;
            match t.id {
                T_RIGHT_PAREN => return Ok(labels),
                T_COMMA if self.eat(T_RIGHT_PAREN)?.is_some() => return Ok(labels),
                T_COMMA => {}
                _ => return Err(self.unexpected(t, GROUPING, "\",\" or \")\"")),
            }
        }
    }

    /// An optional `by (…)` or `without (…)`.
    pub(super) fn aggregation_modifier(&mut self) -> Result<Option<LabelModifier>, SyntaxError> {
        if self.eat(T_BY)?.is_some() {
            return Ok(Some(LabelModifier::Include(self.grouping_labels()?)));
        }
        if self.eat(T_WITHOUT)?.is_some() {
            return Ok(Some(LabelModifier::Exclude(self.grouping_labels()?)));
        }
        Ok(None)
    }

    /// What may follow a binary operator: `bool`, `on`/`ignoring (…)`,
    /// `group_left`/`group_right [(…)]`, then `fill`/`fill_left`/
    /// `fill_right (n)`.
    pub(super) fn bin_modifier(&mut self) -> Result<Option<BinModifier>, SyntaxError> {
        let mut m: Option<BinModifier> = None;
        if self.eat(T_BOOL)?.is_some() {
            m = Some(BinModifier::default().with_return_bool(true));
        }
        let on = self.peek()?.id;
        if on == T_ON || on == T_IGNORING {
            self.bump()?;
            let labels = self.grouping_labels()?;
            let matching = if on == T_ON {
                LabelModifier::Include(labels)
            } else {
                LabelModifier::Exclude(labels)
            };
            m = Some(m.unwrap_or_default().with_matching(Some(matching)));
            let side = self.peek()?.id;
            if side == T_GROUP_LEFT || side == T_GROUP_RIGHT {
                self.bump()?;
                let labels = if self.peek()?.id == T_LEFT_PAREN {
                    self.grouping_labels()?
                } else {
                    Labels::new(vec![])
                };
                let card = if side == T_GROUP_LEFT {
                    VectorMatchCardinality::ManyToOne(labels)
                } else {
                    VectorMatchCardinality::OneToMany(labels)
                };
                m = m.map(|m| m.with_card(card));
            }
        }
        let fill = match self.peek()?.id {
            T_FILL => {
                self.bump()?;
                let v = self.fill_value()?;
                VectorMatchFillValues::new(v, v)
            }
            T_FILL_LEFT => {
                self.bump()?;
                let left = self.fill_value()?;
                if self.eat(T_FILL_RIGHT)?.is_some() {
                    VectorMatchFillValues::new(left, self.fill_value()?)
                } else {
                    VectorMatchFillValues::default().with_lhs(left)
                }
            }
            T_FILL_RIGHT => {
                self.bump()?;
                let right = self.fill_value()?;
                if self.eat(T_FILL_LEFT)?.is_some() {
                    VectorMatchFillValues::new(self.fill_value()?, right)
                } else {
                    VectorMatchFillValues::default().with_rhs(right)
                }
            }
            _ => return Ok(m),
        };
        Ok(Some(m.unwrap_or_default().with_fill_values(fill)))
    }

    /// `(n)`, `(+n)` or `(-n)` after a fill keyword.
    fn fill_value(&mut self) -> Result<f64, SyntaxError> {
        self.expect(T_LEFT_PAREN)?;
        let sign = self.peek()?.id;
        if sign == T_ADD || sign == T_SUB {
            self.bump()?;
        }
        let t = self.bump()?;
        if t.id != T_NUMBER {
            return Err(self.unexpected(t, "fill modifier", "number"));
        }
        let v = literals::number(self.text(t)).map_err(|m| SyntaxError::new(t.start, m))?;
        self.expect(T_RIGHT_PAREN)?;
        Ok(if sign == T_SUB { -v } else { v })
    }
}

/// Prometheus's message for a regex that does not compile: Go's
/// `error parsing regexp: <what>: `<fragment>`` over the anchored
/// expression. Our regex engine is Rust's, so `<what>` is mapped from its
/// wording where Go has a counterpart, and the fragment Go would quote is
/// cut from the span Rust marks.
fn regex_error(value: &str) -> String {
    let anchored = format!("^(?:{value})$");
    let rust = match regex::Regex::new(&anchored) {
        Err(e) => e.to_string(),
        Ok(_) => String::new(),
    };
    let lines: Vec<&str> = rust.lines().collect();
    // Rust's message ends with a line `error: <what>`.
    let what = lines
        .iter()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or("invalid or unsupported Perl syntax");
    // The line under the pattern marks the offending span with `^`s.
    let span = lines.iter().find_map(|l| {
        let marks = l.trim();
        let start = l.find('^')?;
        let only_marks = !marks.is_empty() && marks.chars().all(|c| c == '^');
        (only_marks && !anchored.contains('\n')).then(|| (start.saturating_sub(4), marks.len()))
    });
    let chars: Vec<char> = anchored.chars().collect();
    let cut = |from: usize, to: usize| -> String {
        chars[from.min(chars.len())..to.min(chars.len())]
            .iter()
            .collect()
    };
    let (what, fragment) = match (what, span) {
        ("unclosed group", _) => ("missing closing )", anchored.clone()),
        ("unopened group", _) => ("unexpected )", anchored.clone()),
        ("unclosed character class", Some((s, _))) => ("missing closing ]", cut(s, chars.len())),
        ("repetition operator missing expression", Some((s, n))) => {
            ("missing argument to repetition operator", cut(s, s + n))
        }
        ("unrecognized escape sequence", Some((s, n))) => {
            ("invalid escape sequence", cut(s, s + n))
        }
        (w, Some((s, n))) if w.starts_with("invalid character class range") => {
            ("invalid character class range", cut(s, s + n))
        }
        (w, Some((s, n))) if w.starts_with("invalid repetition count") => {
            ("invalid repeat count", cut(s, s + n))
        }
        (w, Some((s, n))) => (w, cut(s, s + n)),
        (w, None) => (w, anchored.clone()),
    };
    format!("error parsing regexp: {what}: `{fragment}`")
}
