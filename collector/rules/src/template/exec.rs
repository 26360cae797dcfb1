//! Runs a parsed template the way Go's text/template does for Prometheus:
//! dot and variables, fields of maps (a missing key is the empty string,
//! Prometheus's `missingkey=zero`), pipelines feeding the previous result
//! as the last argument, Go's truth for `if`/`with`/`range`, `range` over
//! lists and maps (keys sorted), `break`/`continue`, and `{{define}}`d
//! templates. The functions are [`funcs`](super::funcs).

use std::collections::BTreeMap;

use super::funcs::Env;
use super::parse::{Arg, Command, ControlKind, Node, Pipe, Tree};

/// A value a template handles: what Prometheus's template data, query
/// results and functions produce.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Go's untyped nil.
    Nil,
    /// A boolean.
    Bool(bool),
    /// An integer constant or `len`'s answer.
    Int(i64),
    /// A float (`$value`, a sample's value).
    Float(f64),
    /// A string.
    Str(String),
    /// Labels, or a query result's sample (`Labels`, `Value`).
    Map(BTreeMap<String, Value>),
    /// A query result.
    List(Vec<Value>),
}

impl Value {
    /// Labels as a map of strings.
    pub fn labels(labels: &BTreeMap<String, String>) -> Value {
        Value::Map(
            labels
                .iter()
                .map(|(k, v)| (k.clone(), Value::Str(v.clone())))
                .collect(),
        )
    }

    /// Go's truth: false, zero, nil, and empty strings, maps and lists are false.
    pub fn truth(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::List(l) => !l.is_empty(),
        }
    }
}

/// Why execution stopped, in Go's shape.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("template: {name}:{line}: executing \"{name}\": {message}")]
pub struct ExecError {
    /// The template's name.
    pub name: String,
    /// The line of the action that failed.
    pub line: usize,
    /// What went wrong.
    pub message: String,
}

/// Most output one expansion may write; a template is input, and `range`
/// over a big query result must not become a gigabyte annotation.
pub const MAX_OUTPUT: usize = 1 << 20;

/// Most template calls deep (`{{template}}` recursion).
const MAX_CALL_DEPTH: usize = 100;

/// Most nodes one expansion may run: nested `range`s over query results
/// multiply, and an annotation must not hold an evaluation for minutes.
pub const MAX_STEPS: usize = 1_000_000;

/// Executes `tree` with `dot` as the data.
pub fn execute(name: &str, tree: &Tree, dot: Value, env: &Env) -> Result<String, ExecError> {
    let mut st = State {
        name,
        tree,
        env,
        vars: vec![("$".to_string(), dot.clone())],
        out: String::new(),
        line: 1,
        depth: 0,
        steps: 0,
    };
    st.list(&tree.root, &dot)?;
    Ok(st.out)
}

enum Flow {
    Normal,
    Break,
    Continue,
}

struct State<'a> {
    name: &'a str,
    tree: &'a Tree,
    env: &'a Env<'a>,
    vars: Vec<(String, Value)>,
    out: String,
    line: usize,
    depth: usize,
    steps: usize,
}

type Res<T> = Result<T, ExecError>;

impl State<'_> {
    fn fail<T>(&self, message: impl Into<String>) -> Res<T> {
        Err(ExecError {
            name: self.name.to_owned(),
            line: self.line,
            message: message.into(),
        })
    }

    fn write(&mut self, s: &str) -> Res<()> {
        if self.out.len() + s.len() > MAX_OUTPUT {
            return self.fail(format!("output over {MAX_OUTPUT} bytes"));
        }
        self.out.push_str(s);
        Ok(())
    }

    fn list(&mut self, nodes: &[Node], dot: &Value) -> Res<Flow> {
        for n in nodes {
            match self.node(n, dot)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn node(&mut self, n: &Node, dot: &Value) -> Res<Flow> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return self.fail(format!("ran over {MAX_STEPS} steps"));
        }
        match n {
            Node::Text(t) => self.write(t)?,
            Node::Action(p) => {
                self.line = p.line;
                let v = self.pipe(p, dot)?;
                if p.decl.is_empty() {
                    self.write(&super::gofmt::print(&v))?;
                }
            }
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
            Node::Template { name, pipe, line } => {
                self.line = *line;
                let Some(body) = self.tree.defines.get(name) else {
                    return self.fail(format!("no such template {name:?}"));
                };
                let new_dot = match pipe {
                    Some(p) => self.pipe(p, dot)?,
                    None => Value::Nil,
                };
                self.depth += 1;
                if self.depth > MAX_CALL_DEPTH {
                    return self.fail("exceeded maximum template depth (100)");
                }
                let saved = std::mem::replace(&mut self.vars, vec![("$".into(), new_dot.clone())]);
                let r = self.list(body, &new_dot);
                self.vars = saved;
                self.depth -= 1;
                r?;
            }
            Node::Control(c) => {
                self.line = c.line;
                let mark = self.vars.len();
                let flow = match c.kind {
                    ControlKind::If | ControlKind::With => {
                        let v = self.pipe(&c.pipe, dot)?;
                        if v.truth() {
                            let d = if c.kind == ControlKind::With {
                                v
                            } else {
                                dot.clone()
                            };
                            self.list(&c.list, &d)?
                        } else if let Some(e) = &c.else_list {
                            self.list(e, dot)?
                        } else {
                            Flow::Normal
                        }
                    }
                    ControlKind::Range => self.range(c, dot)?,
                };
                self.vars.truncate(mark);
                if !matches!(flow, Flow::Normal) {
                    return Ok(flow);
                }
            }
        }
        Ok(Flow::Normal)
    }

    fn range(&mut self, c: &super::parse::Control, dot: &Value) -> Res<Flow> {
        // The declarations name the key/index and the element, not the list.
        let decl = c.pipe.decl.clone();
        let bare = Pipe {
            decl: Vec::new(),
            ..c.pipe.clone()
        };
        let v = self.pipe(&bare, dot)?;
        let items: Vec<(Value, Value)> = match v {
            Value::List(l) => l
                .into_iter()
                .enumerate()
                .map(|(i, e)| (Value::Int(i as i64), e))
                .collect(),
            Value::Map(m) => m.into_iter().map(|(k, e)| (Value::Str(k), e)).collect(),
            Value::Nil => Vec::new(),
            other => {
                return self.fail(format!(
                    "range can't iterate over {}",
                    super::gofmt::print(&other)
                ));
            }
        };
        if items.is_empty() {
            if let Some(e) = &c.else_list {
                return self.list(e, dot);
            }
            return Ok(Flow::Normal);
        }
        let mark = self.vars.len();
        for (key, elem) in items {
            self.steps += 1;
            if self.steps > MAX_STEPS {
                return self.fail(format!("ran over {MAX_STEPS} steps"));
            }
            self.vars.truncate(mark);
            match decl.as_slice() {
                [] => {}
                [e] => self.vars.push((e.clone(), elem.clone())),
                [k, e, ..] => {
                    self.vars.push((k.clone(), key));
                    self.vars.push((e.clone(), elem.clone()));
                }
            }
            match self.list(&c.list, &elem)? {
                Flow::Break => break,
                Flow::Continue | Flow::Normal => {}
            }
        }
        self.vars.truncate(mark);
        Ok(Flow::Normal)
    }

    fn pipe(&mut self, p: &Pipe, dot: &Value) -> Res<Value> {
        let mut last: Option<Value> = None;
        for cmd in &p.cmds {
            last = Some(self.command(cmd, dot, last)?);
        }
        let v = last.unwrap_or(Value::Nil);
        for name in &p.decl {
            if p.is_assign {
                match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 = v.clone(),
                    None => return self.fail(format!("undefined variable: {name}")),
                }
            } else {
                self.vars.push((name.clone(), v.clone()));
            }
        }
        Ok(v)
    }

    fn command(&mut self, cmd: &Command, dot: &Value, piped: Option<Value>) -> Res<Value> {
        let Some(first) = cmd.args.first() else {
            return self.fail("empty command");
        };
        if let Arg::Func(name) = first {
            let mut args = Vec::with_capacity(cmd.args.len());
            for a in &cmd.args[1..] {
                args.push(self.arg(a, dot)?);
            }
            if let Some(p) = piped {
                args.push(p);
            }
            return match super::funcs::call(name, args, self.env) {
                Ok(v) => Ok(v),
                Err(e) => self.fail(format!("error calling {name}: {e}")),
            };
        }
        if cmd.args.len() > 1 || piped.is_some() {
            // A field or value given arguments: Go tries a method call, and
            // our values have no methods.
            return self.fail(format!(
                "can't give argument to non-function {}",
                describe(first)
            ));
        }
        self.arg(first, dot)
    }

    fn arg(&mut self, a: &Arg, dot: &Value) -> Res<Value> {
        Ok(match a {
            Arg::Dot => dot.clone(),
            Arg::Nil => Value::Nil,
            Arg::Bool(b) => Value::Bool(*b),
            Arg::Number(n) => match n.int {
                Some(i) => Value::Int(i),
                None => Value::Float(n.float),
            },
            Arg::Str(s) => Value::Str(s.clone()),
            Arg::Field(path) => self.fields(dot.clone(), path)?,
            Arg::Variable(name, path) => {
                let Some((_, v)) = self.vars.iter().rev().find(|(n, _)| n == name) else {
                    return self.fail(format!("undefined variable: {name}"));
                };
                let v = v.clone();
                self.fields(v, path)?
            }
            Arg::Pipe(p, path) => {
                let v = self.pipe(p, dot)?;
                self.fields(v, path)?
            }
            Arg::Func(name) => super::funcs::call(name, Vec::new(), self.env)
                .or_else(|e| self.fail(format!("error calling {name}: {e}")))?,
        })
    }

    fn fields(&self, mut v: Value, path: &[String]) -> Res<Value> {
        for f in path {
            v = match v {
                Value::Map(mut m) => m.remove(f).unwrap_or(Value::Str(String::new())),
                Value::Nil => return self.fail(format!("nil pointer evaluating .{f}")),
                other => {
                    return self.fail(format!(
                        "can't evaluate field {f} in type {}",
                        super::gofmt::type_name(&other)
                    ));
                }
            };
        }
        Ok(v)
    }
}

fn describe(a: &Arg) -> String {
    match a {
        Arg::Field(p) => format!(".{}", p.join(".")),
        Arg::Variable(v, p) if p.is_empty() => v.clone(),
        Arg::Variable(v, p) => format!("{v}.{}", p.join(".")),
        Arg::Dot => ".".into(),
        Arg::Str(s) => format!("{s:?}"),
        Arg::Number(n) => n.text.clone(),
        Arg::Bool(b) => b.to_string(),
        Arg::Nil => "nil".into(),
        Arg::Pipe(..) => "(pipeline)".into(),
        Arg::Func(f) => f.clone(),
    }
}
