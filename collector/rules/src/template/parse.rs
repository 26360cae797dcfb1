//! Go's text/template parser over [`lex`](super::lex)'s tokens: the tree
//! [`exec`](super) walks, and the parse-time errors Go reports in its words
//! (`unexpected EOF`, `function "x" not defined`, `undefined variable
//! "$x"`, `missing value for command`, `unexpected <.> in operand` …), so a
//! rule file promtool refuses for its template is refused here too.

use std::collections::BTreeMap;

use super::lex::{Item, Tok};

/// A parsed node.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// Text copied to the output.
    Text(String),
    /// `{{ pipeline }}`: its value printed (unless it declares variables).
    Action(Pipe),
    /// `{{if}}`, `{{with}}` or `{{range}}` with its lists.
    Control(Control),
    /// `{{template "name" pipeline}}` (also what `{{block}}` leaves behind).
    Template {
        /// Which definition to run.
        name: String,
        /// Its dot, if given.
        pipe: Option<Pipe>,
        /// For errors at execution.
        line: usize,
    },
    /// `{{break}}` inside a range.
    Break,
    /// `{{continue}}` inside a range.
    Continue,
}

/// What kind of control node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlKind {
    /// `{{if}}`
    If,
    /// `{{with}}`
    With,
    /// `{{range}}`
    Range,
}

/// `{{if|with|range pipeline}} list {{else}} else_list {{end}}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Control {
    /// Which.
    pub kind: ControlKind,
    /// The condition (or what to range over / rebind dot to).
    pub pipe: Pipe,
    /// Run when the pipeline is non-empty.
    pub list: Vec<Node>,
    /// Run otherwise (`else if` is an `if` inside it).
    pub else_list: Option<Vec<Node>>,
    /// For errors at execution.
    pub line: usize,
}

/// `$a, $b := cmd | cmd …`.
#[derive(Clone, Debug, PartialEq)]
pub struct Pipe {
    /// Declared or assigned variables (without values when empty).
    pub decl: Vec<String>,
    /// `=` rather than `:=`.
    pub is_assign: bool,
    /// The stages; each stage's result is the next's last argument.
    pub cmds: Vec<Command>,
    /// For errors at execution.
    pub line: usize,
}

/// One stage: a function and its arguments, or a single operand.
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    /// The first is what is called or evaluated.
    pub args: Vec<Arg>,
}

/// An operand.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// `.`
    Dot,
    /// `nil`
    Nil,
    /// `.A.B`
    Field(Vec<String>),
    /// `$x.A.B` (`$` alone is the data passed in).
    Variable(String, Vec<String>),
    /// A function's name.
    Func(String),
    /// `true`/`false`
    Bool(bool),
    /// A number literal, kept as written and as Go reads it.
    Number(Number),
    /// A string literal's value.
    Str(String),
    /// `(pipeline).A.B`
    Pipe(Box<Pipe>, Vec<String>),
}

/// A number constant: Go keeps every reading that fits.
#[derive(Clone, Debug, PartialEq)]
pub struct Number {
    /// As written.
    pub text: String,
    /// As an integer, when it is one.
    pub int: Option<i64>,
    /// As a float.
    pub float: f64,
}

/// A parse error: `template: NAME:LINE: MESSAGE`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("template: {name}:{line}: {message}")]
pub struct TemplateError {
    /// The template's name.
    pub name: String,
    /// Where.
    pub line: usize,
    /// Go's words.
    pub message: String,
}

/// The main tree and the `{{define}}`d ones.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tree {
    /// The template itself.
    pub root: Vec<Node>,
    /// Named templates defined in it.
    pub defines: BTreeMap<String, Vec<Node>>,
}

/// Deepest nesting of parentheses and control blocks. Go bounds it at
/// 10,000 on its growable stacks; ours are fixed, and alert templates nest
/// a few levels, so 100 keeps a hostile template from overflowing one.
const MAX_DEPTH: usize = 100;

/// Parses `text` named `name`, knowing only the functions `funcs` says.
pub fn parse(name: &str, text: &str, funcs: &dyn Fn(&str) -> bool) -> Result<Tree, TemplateError> {
    let mut p = Parser {
        name,
        items: super::lex::lex(text),
        at: 0,
        line: 1,
        vars: vec!["$".into()],
        range_depth: 0,
        depth: 0,
        action_line: 0,
        funcs,
        defines: BTreeMap::new(),
    };
    let root = p.top()?;
    Ok(Tree {
        root,
        defines: p.defines,
    })
}

/// Why a list ended.
enum End {
    End,
    Else,
}

struct Parser<'a> {
    name: &'a str,
    items: Vec<Item>,
    at: usize,
    /// Line of the last token read.
    line: usize,
    vars: Vec<String>,
    range_depth: usize,
    depth: usize,
    action_line: usize,
    funcs: &'a dyn Fn(&str) -> bool,
    defines: BTreeMap<String, Vec<Node>>,
}

type Res<T> = Result<T, TemplateError>;

impl Parser<'_> {
    fn err<T>(&self, message: impl Into<String>) -> Res<T> {
        Err(TemplateError {
            name: self.name.to_owned(),
            line: self.line,
            message: message.into(),
        })
    }

    fn peek(&self) -> &Tok {
        self.items.get(self.at).map_or(&Tok::Eof, |i| &i.tok)
    }

    fn next(&mut self) -> Tok {
        match self.items.get(self.at) {
            Some(item) => {
                self.line = item.line;
                self.at += 1;
                item.tok.clone()
            }
            None => Tok::Eof,
        }
    }

    fn backup(&mut self) {
        self.at = self.at.saturating_sub(1);
    }

    fn next_non_space(&mut self) -> Tok {
        loop {
            let t = self.next();
            if t != Tok::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Tok {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn unexpected<T>(&self, tok: &Tok, context: &str) -> Res<T> {
        if let Tok::Error(m) = tok {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != self.line {
                extra = format!(" in action started at {}:{}", self.name, self.action_line);
                if m.ends_with(" action") {
                    extra = extra[" in action".len()..].to_owned();
                }
            }
            return self.err(format!("{m}{extra}"));
        }
        self.err(format!("unexpected {} in {context}", tok.describe()))
    }

    fn expect(&mut self, want: &Tok, context: &str) -> Res<()> {
        let t = self.next_non_space();
        if &t != want {
            return self.unexpected(&t, context);
        }
        Ok(())
    }

    fn deeper(&mut self) -> Res<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err(format!("max expression depth exceeded ({MAX_DEPTH})"));
        }
        Ok(())
    }

    fn top(&mut self) -> Res<Vec<Node>> {
        let mut root = Vec::new();
        loop {
            match self.peek() {
                Tok::Eof => return Ok(root),
                Tok::LeftDelim => {
                    let at = self.at;
                    self.next();
                    if self.next_non_space() == Tok::Keyword("define") {
                        self.definition()?;
                        continue;
                    }
                    self.at = at;
                }
                _ => {}
            }
            match self.text_or_action()? {
                Parsed::Node(n) => root.push(n),
                Parsed::End => return self.err("unexpected {{end}}"),
                Parsed::Else => return self.err("unexpected {{else}}"),
            }
        }
    }

    fn definition(&mut self) -> Res<()> {
        let context = "define clause";
        let name = match self.next_non_space() {
            Tok::Str(s) => s,
            t => return self.unexpected(&t, context),
        };
        self.expect(&Tok::RightDelim, context)?;
        let saved = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let (list, end) = self.item_list()?;
        self.vars = saved;
        if let End::Else = end {
            return self.err(format!("unexpected {{{{else}}}} in {context}"));
        }
        self.defines.insert(name, list);
        Ok(())
    }

    /// Nodes up to `{{end}}` or `{{else}}`.
    fn item_list(&mut self) -> Res<(Vec<Node>, End)> {
        let mut list = Vec::new();
        while self.peek_non_space() != Tok::Eof {
            match self.text_or_action()? {
                Parsed::Node(n) => list.push(n),
                Parsed::End => return Ok((list, End::End)),
                Parsed::Else => return Ok((list, End::Else)),
            }
        }
        if let Tok::Error(_) = self.peek() {
            let t = self.next();
            return self.unexpected(&t, "input");
        }
        self.err("unexpected EOF")
    }

    fn text_or_action(&mut self) -> Res<Parsed> {
        match self.next_non_space() {
            Tok::Text(s) => Ok(Parsed::Node(Node::Text(s))),
            Tok::LeftDelim => {
                self.action_line = self.line;
                let r = self.action();
                self.action_line = 0;
                r
            }
            t => self.unexpected(&t, "input"),
        }
    }

    fn action(&mut self) -> Res<Parsed> {
        let line = self.line;
        match self.next_non_space() {
            Tok::Keyword("block") => self.block().map(Parsed::Node),
            Tok::Keyword("break") => self
                .loop_control("break")
                .map(|()| Parsed::Node(Node::Break)),
            Tok::Keyword("continue") => self
                .loop_control("continue")
                .map(|()| Parsed::Node(Node::Continue)),
            Tok::Keyword("else") => {
                // `{{else if …}}` / `{{else with …}}` stay open: the caller
                // parses the `if`/`with` that follows as the else branch.
                if matches!(self.peek_non_space(), Tok::Keyword("if" | "with")) {
                    return Ok(Parsed::Else);
                }
                self.expect(&Tok::RightDelim, "else")?;
                Ok(Parsed::Else)
            }
            Tok::Keyword("end") => {
                self.expect(&Tok::RightDelim, "end")?;
                Ok(Parsed::End)
            }
            Tok::Keyword("if") => self.control(ControlKind::If, "if").map(Parsed::Node),
            Tok::Keyword("range") => self.control(ControlKind::Range, "range").map(Parsed::Node),
            Tok::Keyword("with") => self.control(ControlKind::With, "with").map(Parsed::Node),
            Tok::Keyword("template") => self.template_call(line).map(Parsed::Node),
            _ => {
                self.backup();
                let pipe = self.pipeline("command", &Tok::RightDelim)?;
                Ok(Parsed::Node(Node::Action(pipe)))
            }
        }
    }

    fn loop_control(&mut self, word: &str) -> Res<()> {
        let t = self.next_non_space();
        if t != Tok::RightDelim {
            return self.unexpected(&t, &format!("{{{{{word}}}}}"));
        }
        if self.range_depth == 0 {
            return self.err(format!("{{{{{word}}}}} outside {{{{range}}}}"));
        }
        Ok(())
    }

    fn control(&mut self, kind: ControlKind, context: &str) -> Res<Node> {
        self.deeper()?;
        let line = self.line;
        let vars = self.vars.len();
        let pipe = self.pipeline(context, &Tok::RightDelim)?;
        if kind == ControlKind::Range {
            self.range_depth += 1;
        }
        let (list, end) = self.item_list()?;
        if kind == ControlKind::Range {
            self.range_depth -= 1;
        }
        let else_list = match end {
            End::End => None,
            End::Else => {
                let chained = match (kind, self.peek_non_space()) {
                    (ControlKind::If, Tok::Keyword("if")) => Some(ControlKind::If),
                    (ControlKind::With, Tok::Keyword("with")) => Some(ControlKind::With),
                    _ => None,
                };
                if let Some(k) = chained {
                    self.next_non_space();
                    let word = if k == ControlKind::If { "if" } else { "with" };
                    // The chained control consumes the shared {{end}}.
                    Some(vec![self.control(k, word)?])
                } else {
                    let (list, end) = self.item_list()?;
                    if !matches!(end, End::End) {
                        return self.err("expected end; found {{else}}");
                    }
                    Some(list)
                }
            }
        };
        self.vars.truncate(vars);
        self.depth -= 1;
        Ok(Node::Control(Control {
            kind,
            pipe,
            list,
            else_list,
            line,
        }))
    }

    fn template_call(&mut self, line: usize) -> Res<Node> {
        let context = "template clause";
        let name = match self.next_non_space() {
            Tok::Str(s) => s,
            t => return self.unexpected(&t, context),
        };
        let pipe = if self.next_non_space() == Tok::RightDelim {
            None
        } else {
            self.backup();
            Some(self.pipeline(context, &Tok::RightDelim)?)
        };
        Ok(Node::Template { name, pipe, line })
    }

    fn block(&mut self) -> Res<Node> {
        let context = "block clause";
        let line = self.line;
        let name = match self.next_non_space() {
            Tok::Str(s) => s,
            t => return self.unexpected(&t, context),
        };
        let pipe = self.pipeline(context, &Tok::RightDelim)?;
        let saved = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let (list, end) = self.item_list()?;
        self.vars = saved;
        if !matches!(end, End::End) {
            return self.err(format!("unexpected {{{{else}}}} in {context}"));
        }
        self.defines.insert(name.clone(), list);
        Ok(Node::Template {
            name,
            pipe: Some(pipe),
            line,
        })
    }

    fn pipeline(&mut self, context: &str, end: &Tok) -> Res<Pipe> {
        let mut pipe = Pipe {
            decl: Vec::new(),
            is_assign: false,
            cmds: Vec::new(),
            line: self.line,
        };
        // Declarations: `$x :=`, `$x =`, `$i, $e :=` (range only).
        while let Tok::Variable(v) = self.peek_non_space() {
            let start = self.at;
            self.next_non_space();
            match self.peek_non_space() {
                Tok::Declare | Tok::Assign => {
                    pipe.is_assign = self.next_non_space() == Tok::Assign;
                    pipe.decl.push(v.clone());
                    self.vars.push(v);
                    break;
                }
                Tok::Other(',') => {
                    self.next_non_space();
                    pipe.decl.push(v.clone());
                    self.vars.push(v);
                    if context == "range" && pipe.decl.len() < 2 {
                        if matches!(
                            self.peek_non_space(),
                            Tok::Variable(_) | Tok::RightDelim | Tok::RightParen
                        ) {
                            continue;
                        }
                        return self.err("range can only initialize variables");
                    }
                    return self.err(format!("too many declarations in {context}"));
                }
                _ => {
                    self.at = start;
                    break;
                }
            }
        }
        loop {
            let t = self.next_non_space();
            if &t == end {
                if pipe.cmds.is_empty() {
                    return self.err(format!("missing value for {context}"));
                }
                for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
                    if matches!(
                        c.args.first(),
                        Some(Arg::Bool(_) | Arg::Dot | Arg::Nil | Arg::Number(_) | Arg::Str(_))
                    ) {
                        return self.err(format!(
                            "non executable command in pipeline stage {}",
                            i + 1
                        ));
                    }
                }
                return Ok(pipe);
            }
            match t {
                Tok::Bool(_)
                | Tok::Char(_)
                | Tok::Dot
                | Tok::Field(_)
                | Tok::Identifier(_)
                | Tok::Number(_)
                | Tok::Keyword("nil")
                | Tok::Str(_)
                | Tok::Variable(_)
                | Tok::LeftParen => {
                    self.backup();
                    pipe.cmds.push(self.command()?);
                }
                t => return self.unexpected(&t, context),
            }
        }
    }

    fn command(&mut self) -> Res<Command> {
        let mut cmd = Command { args: Vec::new() };
        loop {
            self.peek_non_space();
            if let Some(a) = self.operand()? {
                cmd.args.push(a);
            }
            match self.next() {
                Tok::Space => continue,
                Tok::RightDelim | Tok::RightParen => self.backup(),
                Tok::Pipe => {}
                t => return self.unexpected(&t, "operand"),
            }
            break;
        }
        if cmd.args.is_empty() {
            return self.err("empty command");
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> Res<Option<Arg>> {
        let Some(term) = self.term()? else {
            return Ok(None);
        };
        let mut fields = Vec::new();
        while let Tok::Field(f) = self.peek() {
            fields.push(f.clone());
            self.next();
        }
        if fields.is_empty() {
            return Ok(Some(term));
        }
        Ok(Some(match term {
            Arg::Field(mut f) => {
                f.extend(fields);
                Arg::Field(f)
            }
            Arg::Variable(v, mut f) => {
                f.extend(fields);
                Arg::Variable(v, f)
            }
            Arg::Pipe(p, mut f) => {
                f.extend(fields);
                Arg::Pipe(p, f)
            }
            Arg::Bool(b) => {
                return self.err(format!("unexpected . after term {:?}", b.to_string()));
            }
            Arg::Str(s) => {
                return self.err(format!("unexpected . after term {:?}", format!("{s:?}")));
            }
            Arg::Number(n) => return self.err(format!("unexpected . after term {:?}", n.text)),
            Arg::Nil => return self.err("unexpected . after term \"nil\""),
            Arg::Dot => return self.err("unexpected . after term \".\""),
            Arg::Func(name) => return self.err(format!("unexpected . after term {name:?}")),
        }))
    }

    fn term(&mut self) -> Res<Option<Arg>> {
        Ok(Some(match self.next_non_space() {
            Tok::Identifier(name) => {
                if !(self.funcs)(&name) {
                    return self.err(format!("function {name:?} not defined"));
                }
                Arg::Func(name)
            }
            Tok::Dot => Arg::Dot,
            Tok::Keyword("nil") => Arg::Nil,
            Tok::Variable(v) => {
                if !self.vars.contains(&v) {
                    return self.err(format!("undefined variable {v:?}"));
                }
                Arg::Variable(v, Vec::new())
            }
            Tok::Field(f) => Arg::Field(vec![f]),
            Tok::Bool(b) => Arg::Bool(b),
            Tok::Number(text) => Arg::Number(self.number(&text)?),
            Tok::Char(text) => Arg::Number(self.char_constant(&text)?),
            Tok::LeftParen => {
                self.deeper()?;
                let p = self.pipeline("parenthesized pipeline", &Tok::RightParen)?;
                self.depth -= 1;
                Arg::Pipe(Box::new(p), Vec::new())
            }
            Tok::Str(s) => Arg::Str(s),
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }

    fn number(&self, text: &str) -> Res<Number> {
        let clean = text.replace('_', "");
        let (neg, body) = match clean.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, clean.strip_prefix('+').unwrap_or(&clean)),
        };
        let radix = |p: &str, r: u32| {
            body.strip_prefix(p)
                .or_else(|| body.strip_prefix(&p.to_uppercase()))
                .and_then(|d| i64::from_str_radix(d, r).ok())
        };
        let int = radix("0x", 16)
            .or_else(|| radix("0o", 8))
            .or_else(|| radix("0b", 2))
            .or_else(|| body.parse::<i64>().ok())
            .map(|v| if neg { -v } else { v });
        let float = match int {
            Some(i) => i as f64,
            None => match clean.parse::<f64>() {
                Ok(f) if !text.ends_with('i') => f,
                _ => return self.err(format!("illegal number syntax: {text:?}")),
            },
        };
        Ok(Number {
            text: text.to_owned(),
            int,
            float,
        })
    }

    fn char_constant(&self, text: &str) -> Res<Number> {
        let inner = &text[1..text.len().saturating_sub(1).max(1)];
        let value = match inner.strip_prefix('\\') {
            None => {
                let mut cs = inner.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) => Some(c),
                    _ => None,
                }
            }
            Some(esc) => match esc {
                "n" => Some('\n'),
                "t" => Some('\t'),
                "r" => Some('\r'),
                "\\" => Some('\\'),
                "'" => Some('\''),
                "0" => Some('\0'),
                _ => None,
            },
        };
        match value {
            Some(c) => Ok(Number {
                text: text.to_owned(),
                int: Some(i64::from(u32::from(c))),
                float: f64::from(u32::from(c)),
            }),
            None => self.err(format!("malformed character constant: {text}")),
        }
    }
}

/// What one `text_or_action` produced.
enum Parsed {
    Node(Node),
    End,
    Else,
}
