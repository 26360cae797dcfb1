//! Tokens of Go's text/template as Prometheus's Go version reads them:
//! text and `{{ … }}` actions, trim markers (`{{- ` and ` -}}`), comments
//! (`{{/* … */}}`), newlines allowed inside actions (Go 1.16+), and the
//! keywords up to `break`/`continue` (Go 1.18). Errors carry Go's words.

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// Plain text between actions (trimmed as markers ask).
    Text(String),
    /// `{{`
    LeftDelim,
    /// `}}`
    RightDelim,
    /// A run of spaces inside an action (they separate arguments).
    Space,
    /// `.Name`
    Field(String),
    /// `$` or `$name`
    Variable(String),
    /// A function name or `true`/`false`.
    Identifier(String),
    /// `true` or `false`.
    Bool(bool),
    /// A number literal as written.
    Number(String),
    /// A character constant as written, quotes included.
    Char(String),
    /// A quoted string's value.
    Str(String),
    /// `:=`
    Declare,
    /// `=`
    Assign,
    /// `|`
    Pipe,
    /// `(`
    LeftParen,
    /// `)`
    RightParen,
    /// `.` alone.
    Dot,
    /// Any other printable ASCII character, e.g. `,`.
    Other(char),
    /// A keyword: block break continue define else end if nil range template with.
    Keyword(&'static str),
    /// End of input.
    Eof,
    /// A lexing error, Go's words; always the last item.
    Error(String),
}

impl Tok {
    /// How Go's parser names a token in "unexpected …" errors.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Eof => "EOF".into(),
            Tok::Error(m) => m.clone(),
            Tok::Keyword(k) => format!("<{k}>"),
            Tok::Dot => "<.>".into(),
            Tok::Text(s)
            | Tok::Field(s)
            | Tok::Variable(s)
            | Tok::Identifier(s)
            | Tok::Number(s)
            | Tok::Char(s) => quote_short(s),
            Tok::Str(s) => quote_short(&format!("\"{s}\"")),
            Tok::Bool(b) => quote_short(&b.to_string()),
            Tok::LeftDelim => quote_short("{{"),
            Tok::RightDelim => quote_short("}}"),
            Tok::Space => quote_short(" "),
            Tok::Declare => quote_short(":="),
            Tok::Assign => quote_short("="),
            Tok::Pipe => quote_short("|"),
            Tok::LeftParen => quote_short("("),
            Tok::RightParen => quote_short(")"),
            Tok::Other(c) => quote_short(&c.to_string()),
        }
    }
}

/// Go's `%q`, cut to ten characters with `...` as its item printer does.
fn quote_short(s: &str) -> String {
    if s.chars().count() > 10 {
        let cut: String = s.chars().take(10).collect();
        format!("{cut:?}...")
    } else {
        format!("{s:?}")
    }
}

/// A token and the line it starts on.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Item {
    pub tok: Tok,
    pub line: usize,
}

/// A lexing error and its line, before it becomes a [`Tok::Error`].
struct LexError {
    message: String,
    line: usize,
}

const KEYWORDS: [&str; 11] = [
    "block", "break", "continue", "define", "else", "end", "if", "nil", "range", "template", "with",
];

/// Splits `input` into items, ending with [`Tok::Eof`] or, as Go's lexer
/// does, with a [`Tok::Error`] where it stopped (the parser reports it only
/// if it gets that far).
pub(crate) fn lex(input: &str) -> Vec<Item> {
    let mut lexer = Lexer {
        input,
        pos: 0,
        line: 1,
        items: Vec::new(),
        paren_depth: 0,
    };
    match lexer.run() {
        Ok(()) => {}
        Err(e) => lexer.items.push(Item {
            tok: Tok::Error(e.message),
            line: e.line,
        }),
    }
    lexer.items
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    line: usize,
    items: Vec<Item>,
    paren_depth: usize,
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.input[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn err(&self, message: impl Into<String>) -> LexError {
        LexError {
            message: message.into(),
            line: self.line,
        }
    }

    fn push(&mut self, tok: Tok, line: usize) {
        self.items.push(Item { tok, line });
    }

    fn run(&mut self) -> Result<(), LexError> {
        loop {
            // Text up to the next `{{`.
            let start_line = self.line;
            let end = self
                .rest()
                .find("{{")
                .map_or(self.input.len(), |i| self.pos + i);
            let mut text = self.input[self.pos..end].to_owned();
            while self.pos < end {
                self.bump();
            }
            if self.pos >= self.input.len() {
                if !text.is_empty() {
                    self.push(Tok::Text(text), start_line);
                }
                self.push(Tok::Eof, self.line);
                return Ok(());
            }
            // `{{- ` trims the text before it.
            let trim_left = self.rest()[2..].starts_with('-')
                && self.rest()[3..].starts_with([' ', '\t', '\r', '\n']);
            if trim_left {
                text.truncate(text.trim_end_matches([' ', '\t', '\r', '\n']).len());
            }
            if !text.is_empty() {
                self.push(Tok::Text(text), start_line);
            }
            // `{{`, and `- ` with the trim marker (its space is part of it).
            self.pos += 2;
            if trim_left {
                self.pos += 1;
                self.bump();
            }
            let delim_line = self.line;
            // A comment: `{{/* … */}}` or `{{- /* … */ -}}`.
            if self.rest().starts_with("/*") {
                self.lex_comment()?;
                continue;
            }
            self.push(Tok::LeftDelim, delim_line);
            self.paren_depth = 0;
            self.lex_action()?;
        }
    }

    fn lex_comment(&mut self) -> Result<(), LexError> {
        self.pos += 2;
        let Some(close) = self.rest().find("*/") else {
            return Err(self.err("unclosed comment"));
        };
        let target = self.pos + close + 2;
        while self.pos < target {
            self.bump();
        }
        let trim_right = self.at_trim_right();
        if trim_right {
            while self.peek().is_some_and(|c| c != '-') {
                self.bump();
            }
            self.pos += 1;
        }
        if !self.rest().starts_with("}}") {
            return Err(self.err("comment ends before closing delimiter"));
        }
        self.pos += 2;
        if trim_right {
            self.skip_leading_space();
        }
        Ok(())
    }

    /// ` -}}` (any spacing before the marker) is next.
    fn at_trim_right(&self) -> bool {
        let r = self.rest();
        let spaces = r.len() - r.trim_start_matches([' ', '\t', '\r', '\n']).len();
        spaces > 0 && r[spaces..].starts_with("-}}")
    }

    fn skip_leading_space(&mut self) {
        while self
            .peek()
            .is_some_and(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
        {
            self.bump();
        }
    }

    fn lex_action(&mut self) -> Result<(), LexError> {
        loop {
            let line = self.line;
            if self.at_trim_right() || self.rest().starts_with("}}") {
                if self.paren_depth > 0 {
                    return Err(self.err("unclosed left paren"));
                }
                let trim = self.at_trim_right();
                if trim {
                    self.skip_leading_space();
                    self.pos += 1; // the '-'
                }
                self.pos += 2;
                self.push(Tok::RightDelim, line);
                if trim {
                    self.skip_leading_space();
                }
                return Ok(());
            }
            let Some(c) = self.bump() else {
                return Err(self.err("unclosed action"));
            };
            match c {
                ' ' | '\t' | '\r' | '\n' => {
                    while self
                        .peek()
                        .is_some_and(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
                        && !self.at_trim_right()
                    {
                        self.bump();
                    }
                    self.push(Tok::Space, line);
                }
                '=' => self.push(Tok::Assign, line),
                ':' => {
                    if self.bump() != Some('=') {
                        return Err(self.err("expected :="));
                    }
                    self.push(Tok::Declare, line);
                }
                '|' => self.push(Tok::Pipe, line),
                '"' => self.lex_quote(line)?,
                '`' => self.lex_raw(line)?,
                '\'' => self.lex_char(line)?,
                '$' => {
                    let name = self.word();
                    self.check_terminator()?;
                    self.push(Tok::Variable(format!("${name}")), line);
                }
                '.' if !self.peek().is_some_and(|c| c.is_ascii_digit()) => {
                    let name = self.word();
                    self.check_terminator()?;
                    if name.is_empty() {
                        self.push(Tok::Dot, line);
                    } else {
                        self.push(Tok::Field(name), line);
                    }
                }
                '.' | '+' | '-' | '0'..='9' => {
                    self.pos -= 1;
                    self.lex_number(line)?;
                }
                '(' => {
                    self.paren_depth += 1;
                    self.push(Tok::LeftParen, line);
                }
                ')' => {
                    if self.paren_depth == 0 {
                        // Go emits the paren, then the error: a parser
                        // reading the paren first reports it instead.
                        self.push(Tok::RightParen, line);
                        return Err(self.err(format!("unexpected right paren {}", unicode_name(c))));
                    }
                    self.paren_depth -= 1;
                    self.push(Tok::RightParen, line);
                }
                c if is_alphanumeric(c) => {
                    let rest = self.word();
                    let word = format!("{c}{rest}");
                    self.check_terminator()?;
                    let tok = match word.as_str() {
                        "true" => Tok::Bool(true),
                        "false" => Tok::Bool(false),
                        w => match KEYWORDS.iter().find(|k| **k == w) {
                            Some(k) => Tok::Keyword(k),
                            None => Tok::Identifier(word),
                        },
                    };
                    self.push(tok, line);
                }
                c if c.is_ascii() && !c.is_ascii_control() => self.push(Tok::Other(c), line),
                c => {
                    return Err(self.err(format!(
                        "unrecognized character in action: {}",
                        unicode_name(c)
                    )));
                }
            }
        }
    }

    fn word(&mut self) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek().filter(|c| is_alphanumeric(*c)) {
            out.push(c);
            self.bump();
        }
        out
    }

    /// Go's `atTerminator`: what may follow a name.
    fn check_terminator(&self) -> Result<(), LexError> {
        match self.peek() {
            None => Ok(()),
            Some(' ' | '\t' | '\r' | '\n' | '.' | ',' | '|' | ':' | ')' | '(' | '}') => Ok(()),
            Some(c) => Err(self.err(format!("bad character {}", unicode_name(c)))),
        }
    }

    fn lex_quote(&mut self, line: usize) -> Result<(), LexError> {
        let start = self.pos;
        loop {
            match self.bump() {
                Some('\\') => match self.bump() {
                    None | Some('\n') => return Err(self.err("unterminated quoted string")),
                    Some(_) => {}
                },
                None | Some('\n') => return Err(self.err("unterminated quoted string")),
                Some('"') => break,
                Some(_) => {}
            }
        }
        let raw = &self.input[start..self.pos - 1];
        let value = unquote(raw).map_err(|e| self.err(e))?;
        self.push(Tok::Str(value), line);
        Ok(())
    }

    fn lex_raw(&mut self, line: usize) -> Result<(), LexError> {
        let start = self.pos;
        loop {
            match self.bump() {
                None => return Err(self.err("unterminated raw quoted string")),
                Some('`') => break,
                Some(_) => {}
            }
        }
        let value = self.input[start..self.pos - 1].replace('\r', "");
        self.push(Tok::Str(value), line);
        Ok(())
    }

    fn lex_char(&mut self, line: usize) -> Result<(), LexError> {
        let start = self.pos - 1;
        loop {
            match self.bump() {
                Some('\\') => match self.bump() {
                    None | Some('\n') => return Err(self.err("unterminated character constant")),
                    Some(_) => {}
                },
                None | Some('\n') => return Err(self.err("unterminated character constant")),
                Some('\'') => break,
                Some(_) => {}
            }
        }
        self.push(Tok::Char(self.input[start..self.pos].to_owned()), line);
        Ok(())
    }

    /// Go's `scanNumber`: loose on purpose; the parser checks the value.
    fn lex_number(&mut self, line: usize) -> Result<(), LexError> {
        let start = self.pos;
        let ok = self.scan_number();
        if !ok {
            return Err(self.err(format!(
                "bad number syntax: {:?}",
                &self.input[start..self.pos]
            )));
        }
        if matches!(self.peek(), Some('+' | '-')) {
            // A complex constant (1+2i): not used by Prometheus's templates.
            self.scan_number();
            return Err(self.err(format!(
                "complex number {:?} is not supported",
                &self.input[start..self.pos]
            )));
        }
        self.push(Tok::Number(self.input[start..self.pos].to_owned()), line);
        Ok(())
    }

    fn accept(&mut self, set: &str) -> bool {
        if self.peek().is_some_and(|c| set.contains(c)) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn accept_run(&mut self, set: &str) {
        while self.accept(set) {}
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alphanumeric) {
            self.bump();
            return false;
        }
        true
    }
}

fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Go's `%#U`: `U+0021 '!'`.
fn unicode_name(c: char) -> String {
    format!("U+{:04X} '{c}'", c as u32)
}

/// Go's `strconv.Unquote` for a double-quoted string's inside.
fn unquote(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut bytes: Vec<u8> = Vec::new();
    let mut chars = raw.chars().peekable();
    let flush = |bytes: &mut Vec<u8>, out: &mut String| -> Result<(), String> {
        if !bytes.is_empty() {
            let s = String::from_utf8(std::mem::take(bytes))
                .map_err(|_| "invalid syntax".to_string())?;
            out.push_str(&s);
        }
        Ok(())
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            flush(&mut bytes, &mut out)?;
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            return Err("invalid syntax".into());
        };
        let hex =
            |chars: &mut std::iter::Peekable<std::str::Chars>, n: usize| -> Result<u32, String> {
                let s: String = (0..n).filter_map(|_| chars.next()).collect();
                if s.len() != n {
                    return Err("invalid syntax".into());
                }
                u32::from_str_radix(&s, 16).map_err(|_| "invalid syntax".to_string())
            };
        if !matches!(e, 'x' | '0'..='7') {
            flush(&mut bytes, &mut out)?;
        }
        match e {
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            'x' => {
                bytes.push(hex(&mut chars, 2)? as u8);
                continue;
            }
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    let d = chars
                        .next()
                        .and_then(|c| c.to_digit(8))
                        .ok_or("invalid syntax")?;
                    v = v * 8 + d;
                }
                if v > 255 {
                    return Err("invalid syntax".into());
                }
                bytes.push(v as u8);
                continue;
            }
            'u' | 'U' => {
                let v = hex(&mut chars, if e == 'u' { 4 } else { 8 })?;
                out.push(char::from_u32(v).ok_or("invalid syntax")?);
                continue;
            }
            _ => return Err("invalid syntax".into()),
        }
    }
    flush(&mut bytes, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).into_iter().map(|i| i.tok).collect()
    }

    #[test]
    fn actions_fields_variables_and_trim_markers() {
        assert_eq!(
            toks("a {{- $labels.job | printf \"%s\" -}} b"),
            [
                Tok::Text("a".into()),
                Tok::LeftDelim,
                Tok::Variable("$labels".into()),
                Tok::Field("job".into()),
                Tok::Space,
                Tok::Pipe,
                Tok::Space,
                Tok::Identifier("printf".into()),
                Tok::Space,
                Tok::Str("%s".into()),
                Tok::RightDelim,
                Tok::Text("b".into()),
                Tok::Eof,
            ]
        );
        assert_eq!(
            toks("x {{/* note */}} y{{- /* t */ -}}  z"),
            [
                Tok::Text("x ".into()),
                Tok::Text(" y".into()),
                Tok::Text("z".into()),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("{{if .}}{{else}}{{end}}"),
            [
                Tok::LeftDelim,
                Tok::Keyword("if"),
                Tok::Space,
                Tok::Dot,
                Tok::RightDelim,
                Tok::LeftDelim,
                Tok::Keyword("else"),
                Tok::RightDelim,
                Tok::LeftDelim,
                Tok::Keyword("end"),
                Tok::RightDelim,
                Tok::Eof,
            ]
        );
    }

    #[test]
    fn go_lexer_errors() {
        for (input, want) in [
            ("{{ .Foo ", "unclosed action"),
            ("{{ (1 }}", "unclosed left paren"),
            ("{{ 1) }}", "unexpected right paren U+0029 ')'"),
            ("{{ \"abc }}", "unterminated quoted string"),
            ("{{ `abc }}", "unterminated raw quoted string"),
            ("{{/* x }}", "unclosed comment"),
            ("{{/* x */ }}", "comment ends before closing delimiter"),
            ("{{ a: }}", "expected :="),
            ("{{ 3x }}", "bad number syntax: \"3x\""),
            ("{{ $x# }}", "bad character U+0023 '#'"),
            (
                "{{ \u{1} }}",
                "unrecognized character in action: U+0001 '\u{1}'",
            ),
        ] {
            let last = lex(input).pop().map(|i| i.tok);
            assert_eq!(last, Some(Tok::Error(want.into())), "{input:?}");
        }
    }

    #[test]
    fn lines_count_newlines_before_the_token() {
        let items = lex("a\nb{{\n.x}}");
        let field = items
            .iter()
            .find(|i| matches!(i.tok, Tok::Field(_)))
            .expect("field");
        assert_eq!(field.line, 3);
        assert_eq!(lex("\n\n{{ .x").pop().map(|i| i.line), Some(3));
    }

    #[test]
    fn strings_unquote_as_go_does() {
        assert_eq!(
            unquote(r#"a\tb\x41\u00e9\101\\\""#),
            Ok("a\tbAéA\\\"".into())
        );
        assert!(unquote(r"\q").is_err());
        assert!(unquote(r"\xff").is_err());
    }
}
