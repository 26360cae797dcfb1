//! Quoted strings in the lexer: where a string ends, and its escapes
//! checked as Prometheus checks them (so its messages are ours).

use promql_parser::parser::token::T_STRING;

use super::super::SyntaxError;
use super::super::describe::unicode;
use super::{Lexer, Token};

/// Characters promql-parser allows after a backslash in a string (besides
/// the string's own quote).
const ESCAPES: &[u8] = b"abfnrtv\\01234567xuU";

impl Lexer<'_> {
    /// A quoted string. Escapes are checked as Prometheus checks them (its
    /// messages); raw strings take promql-parser's escape check, which
    /// Prometheus does not have (it accepts `` `\d` ``; we do not).
    pub(super) fn string(&mut self, start: usize, q: u8) -> Result<Token, SyntaxError> {
        let mut at = start + 1;
        loop {
            let Some(b) = self.byte(at) else {
                let what = if q == b'`' {
                    "unterminated raw string"
                } else {
                    "unterminated quoted string"
                };
                return Err(SyntaxError::new(start, what));
            };
            at += 1;
            if b == q {
                return self.token(T_STRING, start, at - start);
            }
            if b == b'\n' && q != b'`' {
                return Err(SyntaxError::new(start, "unterminated quoted string"));
            }
            if b == b'\\' {
                at = if q == b'`' {
                    self.raw_escape(start, at)?
                } else {
                    self.escape(start, at, q)?
                };
            }
        }
    }

    /// promql-parser's check after a backslash in a raw string.
    fn raw_escape(&self, start: usize, at: usize) -> Result<usize, SyntaxError> {
        match self.byte(at) {
            None => Err(SyntaxError::new(start, "unterminated raw string")),
            Some(b) if b == b'`' || ESCAPES.contains(&b) => Ok(at + 1),
            Some(_) => Err(SyntaxError::new(
                start,
                format!("unknown escape sequence {}", unicode(self.char_at(at))),
            )),
        }
    }

    /// Prometheus's escape check (its `lexEscape`) after a backslash at
    /// `at - 1`; returns where the string continues.
    fn escape(&self, start: usize, mut at: usize, q: u8) -> Result<usize, SyntaxError> {
        let fail = |msg: String| Err(SyntaxError::new(start, msg));
        let (mut n, base, max) = match self.byte(at) {
            None => return fail("escape sequence not terminated".into()),
            Some(b) if b"abfnrtv\\".contains(&b) || b == q => return Ok(at + 1),
            Some(b'0'..=b'7') => (3, 8, 255),
            Some(b'x') => {
                at += 1;
                (2, 16, 255)
            }
            Some(b'u') => {
                at += 1;
                (4, 16, 0x10FFFF)
            }
            Some(b'U') => {
                at += 1;
                (8, 16, 0x10FFFF)
            }
            Some(_) => {
                return fail(format!(
                    "unknown escape sequence {}",
                    unicode(self.char_at(at))
                ));
            }
        };
        let mut x: u32 = 0;
        while n > 0 {
            let Some(b) = self.byte(at) else {
                return fail("escape sequence not terminated".into());
            };
            let d = (b as char).to_digit(16).filter(|d| *d < base);
            let Some(d) = d.filter(|_| b.is_ascii()) else {
                return fail(format!(
                    "illegal character {} in escape sequence",
                    unicode(self.char_at(at))
                ));
            };
            x = x.saturating_mul(base).saturating_add(d);
            at += 1;
            n -= 1;
        }
        if x > max || (0xD800..0xE000).contains(&x) {
            return fail("escape sequence is an invalid Unicode code point".into());
        }
        Ok(at)
    }
}
