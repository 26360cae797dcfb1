//! Splits PromQL text into tokens the way promql-parser's lexer does (so
//! the accepted language is the same), with Prometheus's lexer messages and
//! positions for what it refuses.
//!
//! Like both lexers this one has modes: inside `{…}` every word is a label
//! name (no keywords) and `or ` separates matcher groups; inside `[…]` only
//! durations, numbers, one `:` and `]` are expected. Tokens are produced on
//! demand, so a bad character is reported when the parser reaches it, as
//! Prometheus does.

use promql_parser::parser::token::*;

mod quoted;

use super::SyntaxError;
use super::describe::{quote, quote_rune};

/// A token: its kind (promql-parser's token ids) and its byte span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Token {
    pub id: TokenId,
    pub start: usize,
    pub end: usize,
}

/// Where inside `[…]` the lexer is: right after `[` (a duration must come
/// first), and whether the `:` of a subquery has been seen.
#[derive(Debug, Clone, Copy)]
struct Bracket {
    first: bool,
    got_colon: bool,
}

pub(super) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    parens: usize,
    in_braces: bool,
    bracket: Option<Bracket>,
}

fn is_alpha(b: u8) -> bool {
    b == b'_' || b.is_ascii_alphabetic()
}

fn is_alnum(b: u8) -> bool {
    is_alpha(b) || b.is_ascii_digit()
}

impl<'a> Lexer<'a> {
    pub(super) fn new(src: &'a str) -> Lexer<'a> {
        Lexer {
            src,
            pos: 0,
            parens: 0,
            in_braces: false,
            bracket: None,
        }
    }

    /// The text of token `t`.
    pub(super) fn text(&self, t: Token) -> &'a str {
        &self.src[t.start..t.end]
    }

    /// The next token, or the lexer error at this point of the text.
    pub(super) fn next(&mut self) -> Result<Token, SyntaxError> {
        if self.in_braces {
            self.inside_braces()
        } else if let Some(b) = self.bracket {
            self.inside_brackets(b)
        } else {
            self.statement()
        }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.src.as_bytes().get(at).copied()
    }

    /// The character at byte offset `at` (`'�'` at the end, as Go prints it).
    fn char_at(&self, at: usize) -> char {
        self.src
            .get(at..)
            .and_then(|s| s.chars().next())
            .unwrap_or('\u{FFFD}')
    }

    fn token(&mut self, id: TokenId, start: usize, len: usize) -> Result<Token, SyntaxError> {
        self.pos = start + len;
        Ok(Token {
            id,
            start,
            end: start + len,
        })
    }

    /// Skips ASCII whitespace (promql-parser's notion, which includes form
    /// feed) and, where allowed, `#` comments up to the end of the line.
    fn skip_blank(&mut self, comments: bool) {
        while let Some(b) = self.byte(self.pos) {
            if b.is_ascii_whitespace() {
                self.pos += 1;
            } else if comments && b == b'#' {
                while let Some(b) = self.byte(self.pos) {
                    self.pos += 1;
                    if b == b'\n' || b == b'\r' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
    }

    fn statement(&mut self) -> Result<Token, SyntaxError> {
        self.skip_blank(true);
        let start = self.pos;
        let Some(b) = self.byte(start) else {
            if self.parens > 0 {
                return Err(SyntaxError::new(start, "unclosed left parenthesis"));
            }
            return self.token(T_EOF, start, 0);
        };
        let next = self.byte(start + 1);
        match b {
            b',' => self.token(T_COMMA, start, 1),
            b'*' => self.token(T_MUL, start, 1),
            b'/' => self.token(T_DIV, start, 1),
            b'%' => self.token(T_MOD, start, 1),
            b'+' => self.token(T_ADD, start, 1),
            b'-' => self.token(T_SUB, start, 1),
            b'^' => self.token(T_POW, start, 1),
            b'@' => self.token(T_AT, start, 1),
            b'=' => match next {
                Some(b'=') => self.token(T_EQLC, start, 2),
                Some(b'~') => Err(SyntaxError::new(
                    start,
                    "unexpected character after '=': '~'",
                )),
                _ => self.token(T_EQL, start, 1),
            },
            b'!' => match next {
                Some(b'=') => self.token(T_NEQ, start, 2),
                _ => Err(SyntaxError::new(
                    start,
                    format!(
                        "unexpected character after '!': {}",
                        quote_rune(self.char_at(start + 1))
                    ),
                )),
            },
            b'<' | b'>' => {
                let (one, two) = if b == b'<' {
                    (T_LSS, T_LTE)
                } else {
                    (T_GTR, T_GTE)
                };
                if next == Some(b'=') {
                    self.token(two, start, 2)
                } else {
                    self.token(one, start, 1)
                }
            }
            b'0'..=b'9' => self.number_or_duration(start),
            b'.' if next.is_some_and(|n| n.is_ascii_digit()) => self.number_or_duration(start),
            b if is_alpha(b) || b == b':' => self.word(start),
            b'"' | b'\'' | b'`' => self.string(start, b),
            b'(' => {
                self.parens += 1;
                self.token(T_LEFT_PAREN, start, 1)
            }
            b')' => {
                if self.parens == 0 {
                    // Prometheus emits the `)` and then reports past it.
                    return Err(SyntaxError::new(
                        start + 1,
                        "unexpected right parenthesis ')'",
                    ));
                }
                self.parens -= 1;
                self.token(T_RIGHT_PAREN, start, 1)
            }
            b'{' => {
                self.in_braces = true;
                self.token(T_LEFT_BRACE, start, 1)
            }
            b'[' => {
                self.bracket = Some(Bracket {
                    first: true,
                    got_colon: false,
                });
                self.token(T_LEFT_BRACKET, start, 1)
            }
            b']' => Err(SyntaxError::new(start, "unexpected right bracket ']'")),
            _ => Err(SyntaxError::new(
                start,
                format!("unexpected character: {}", quote_rune(self.char_at(start))),
            )),
        }
    }

    /// A word: keyword, `inf`/`nan`, identifier or (with a colon) metric
    /// identifier. `fill`, `fill_left` and `fill_right` are keywords only
    /// when an opening parenthesis follows, so they stay usable as names.
    fn word(&mut self, start: usize) -> Result<Token, SyntaxError> {
        let mut end = start + 1;
        while self.byte(end).is_some_and(|b| is_alnum(b) || b == b':') {
            end += 1;
        }
        let text = &self.src[start..end];
        let id = match keyword(&text.to_ascii_lowercase()) {
            Some(id @ (T_FILL | T_FILL_LEFT | T_FILL_RIGHT)) => {
                let mut at = end;
                while self.byte(at).is_some_and(|b| b.is_ascii_whitespace()) {
                    at += 1;
                }
                if self.byte(at) == Some(b'(') {
                    id
                } else {
                    T_IDENTIFIER
                }
            }
            Some(id) => id,
            None if text.contains(':') => T_METRIC_IDENTIFIER,
            None => T_IDENTIFIER,
        };
        self.token(id, start, end - start)
    }

    /// A number (decimal, hex, octal, float, exponent) or a duration
    /// (`5m`, `1h30m`, `500ms`), scanned as promql-parser scans them; the
    /// values are checked by the parser.
    fn number_or_duration(&mut self, start: usize) -> Result<Token, SyntaxError> {
        let mut at = start;
        let hex = self.byte(at) == Some(b'0') && matches!(self.byte(at + 1), Some(b'x' | b'X'));
        if hex {
            at += 2;
        }
        let digit = |b: u8| {
            if hex {
                b.is_ascii_hexdigit()
            } else {
                b.is_ascii_digit()
            }
        };
        let run = |lx: &Self, mut at: usize, f: &dyn Fn(u8) -> bool| {
            while lx.byte(at).is_some_and(f) {
                at += 1;
            }
            at
        };
        at = run(self, at, &digit);
        if self.byte(at) == Some(b'.') {
            at = run(self, at + 1, &digit);
        }
        if matches!(self.byte(at), Some(b'e' | b'E')) {
            at += 1;
            if matches!(self.byte(at), Some(b'+' | b'-')) {
                at += 1;
            }
            at = run(self, at, &|b: u8| b.is_ascii_digit());
        }
        if !self.byte(at).is_some_and(|b| is_alpha(b) || b == b'.') {
            return self.token(T_NUMBER, start, at - start);
        }
        // Not a number: maybe a duration, a unit after the digits.
        let unit = |lx: &Self, at: &mut usize, units: &[u8]| {
            let ok = lx.byte(*at).is_some_and(|b| units.contains(&b));
            if ok {
                *at += 1;
                if lx.byte(*at) == Some(b's') {
                    *at += 1;
                }
            }
            ok
        };
        let mut ok = unit(self, &mut at, b"smhdwy");
        while ok && self.byte(at).is_some_and(|b| b.is_ascii_digit()) {
            at = run(self, at, &|b: u8| b.is_ascii_digit());
            ok = unit(self, &mut at, b"smhdw");
        }
        if ok && !self.byte(at).is_some_and(is_alnum) {
            return self.token(T_DURATION, start, at - start);
        }
        if ok {
            at += self.char_at(at).len_utf8();
        }
        let seen = self.src.get(start..at).unwrap_or_default();
        Err(SyntaxError::new(
            start,
            format!("bad number or duration syntax: {}", quote(seen)),
        ))
    }

    fn inside_braces(&mut self) -> Result<Token, SyntaxError> {
        self.skip_blank(true);
        let start = self.pos;
        let Some(b) = self.byte(start) else {
            return Err(SyntaxError::new(
                start,
                "unexpected end of input inside braces",
            ));
        };
        match b {
            b',' => self.token(T_COMMA, start, 1),
            // promql-parser: `or` followed by exactly a space separates
            // matcher groups; any other `or…` is a label name.
            b'o' | b'O'
                if matches!(self.byte(start + 1), Some(b'r' | b'R'))
                    && self.byte(start + 2) == Some(b' ') =>
            {
                self.token(T_LOR, start, 2)
            }
            b if is_alpha(b) => {
                let mut end = start + 1;
                while self.byte(end).is_some_and(is_alnum) {
                    end += 1;
                }
                self.token(T_IDENTIFIER, start, end - start)
            }
            b'"' | b'\'' | b'`' => self.string(start, b),
            b'=' if self.byte(start + 1) == Some(b'~') => self.token(T_EQL_REGEX, start, 2),
            b'=' => self.token(T_EQL, start, 1),
            b'!' => match self.byte(start + 1) {
                Some(b'~') => self.token(T_NEQ_REGEX, start, 2),
                Some(b'=') => self.token(T_NEQ, start, 2),
                _ => Err(SyntaxError::new(
                    start,
                    format!(
                        "unexpected character after '!' inside braces: {}",
                        quote_rune(self.char_at(start + 1))
                    ),
                )),
            },
            b'{' => Err(SyntaxError::new(start, "unexpected left brace '{'")),
            b'}' => {
                self.in_braces = false;
                self.token(T_RIGHT_BRACE, start, 1)
            }
            _ => Err(SyntaxError::new(
                start,
                format!(
                    "unexpected character inside braces: {}",
                    quote_rune(self.char_at(start))
                ),
            )),
        }
    }

    /// Inside `[…]`: promql-parser accepts blanks, durations and numbers
    /// starting with a digit, one `:` (not first) and `]`. Messages are
    /// Prometheus 2's, whose bracket lexer expects a duration first.
    fn inside_brackets(&mut self, mut br: Bracket) -> Result<Token, SyntaxError> {
        self.skip_blank(false);
        let start = self.pos;
        let first = br.first;
        br.first = false;
        self.bracket = Some(br);
        let fail = |msg: String| Err(SyntaxError::new(start, msg));
        let Some(b) = self.byte(start) else {
            return match (first, self.parens > 0) {
                (true, _) => fail("missing unit character in duration".into()),
                (false, true) => fail("unclosed left parenthesis".into()),
                (false, false) => fail("unclosed left bracket".into()),
            };
        };
        match b {
            // Prometheus 2 scans the first item as a duration only.
            b'0'..=b'9' if first => self.number_or_duration(start).map_err(|mut e| {
                e.msg = e.msg.replace("bad number or duration", "bad duration");
                e
            }),
            b'0'..=b'9' => self.number_or_duration(start),
            b']' => {
                self.bracket = None;
                self.token(T_RIGHT_BRACKET, start, 1)
            }
            _ if first && is_alpha(b) => fail("bad duration syntax: \"\"".into()),
            _ if first => fail("missing unit character in duration".into()),
            b':' if br.got_colon => fail("unexpected colon ':'".into()),
            b':' => {
                self.bracket = Some(Bracket {
                    first: false,
                    got_colon: true,
                });
                self.token(T_COLON, start, 1)
            }
            // Prometheus 2 takes a letter here for a colon, and complains
            // about the second one.
            b if is_alpha(b) && br.got_colon => fail(format!(
                "unexpected colon {}",
                quote_rune(self.char_at(start))
            )),
            b if is_alpha(b)
                && self
                    .byte(start + 1)
                    .is_some_and(|n| is_alpha(n) || n == b':') =>
            {
                Err(SyntaxError::new(
                    start + 1,
                    format!("unexpected colon {}", quote_rune(self.char_at(start + 1))),
                ))
            }
            b'#' | b'.' | b'[' => fail(format!(
                "unexpected character inside brackets: {}",
                quote_rune(self.char_at(start))
            )),
            _ if is_alpha(b) => fail(format!(
                "unexpected character inside brackets: {}",
                quote_rune(self.char_at(start))
            )),
            // Anything else is a token the parser will not take here; it
            // reports it with the subquery context.
            _ => self.statement(),
        }
    }
}

/// Keywords (lower case), as promql-parser's lexer knows them; `inf` and
/// `nan` are numbers.
fn keyword(word: &str) -> Option<TokenId> {
    Some(match word {
        "and" => T_LAND,
        "or" => T_LOR,
        "unless" => T_LUNLESS,
        "atan2" => T_ATAN2,
        "sum" => T_SUM,
        "avg" => T_AVG,
        "count" => T_COUNT,
        "min" => T_MIN,
        "max" => T_MAX,
        "group" => T_GROUP,
        "stddev" => T_STDDEV,
        "stdvar" => T_STDVAR,
        "topk" => T_TOPK,
        "bottomk" => T_BOTTOMK,
        "count_values" => T_COUNT_VALUES,
        "quantile" => T_QUANTILE,
        "limitk" => T_LIMITK,
        "limit_ratio" => T_LIMIT_RATIO,
        "offset" => T_OFFSET,
        "by" => T_BY,
        "without" => T_WITHOUT,
        "on" => T_ON,
        "ignoring" => T_IGNORING,
        "group_left" => T_GROUP_LEFT,
        "group_right" => T_GROUP_RIGHT,
        "bool" => T_BOOL,
        "smoothed" => T_SMOOTHED,
        "anchored" => T_ANCHORED,
        "fill" => T_FILL,
        "fill_left" => T_FILL_LEFT,
        "fill_right" => T_FILL_RIGHT,
        "start" => T_START,
        "end" => T_END,
        "inf" | "nan" => T_NUMBER,
        _ => return None,
    })
}
