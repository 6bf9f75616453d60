//! Expressions compiled against the query's field slots, and their evaluation on a row.
//!
//! Absent values propagate: arithmetic and comparisons with an absent operand are absent, `not`
//! of absent is absent, `and`/`or` follow three-valued logic, and `filter` keeps a row only when
//! its condition is true. So `filter x != 1` drops events without `x`, as CloudWatch does.
//! Division by zero is absent. Booleans are `1`/`0` in arithmetic (`sum(status_code >= 500)`).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;

use regex::Regex;

use crate::ast::{BinOp, Expr};
use crate::error::{Error, Position, Result};
use crate::functions::{call, Func, FUNCTIONS};
use crate::value::Value;

/// The named slots of a row: every field a query reads or writes.
#[derive(Debug, Default, Clone)]
pub(crate) struct Schema {
    pub(crate) names: Vec<String>,
    index: HashMap<String, usize>,
    /// Names the query computes (`fields ... as`, `parse`, `unnest`): `name.key` reads into them.
    computed: Vec<String>,
    /// Per slot: whether the query reads it before computing it (so it comes from the line).
    source: Vec<bool>,
}

impl Schema {
    /// The slot of `name`, created on first use.
    pub(crate) fn slot(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        self.names.push(name.to_owned());
        self.source.push(false);
        self.index.insert(name.to_owned(), self.names.len() - 1);
        self.names.len() - 1
    }

    /// The slot of field `name` as the query reads it: it comes from the line unless the query
    /// computed it before.
    pub(crate) fn read(&mut self, name: &str) -> usize {
        let slot = self.slot(name);
        if !self.computed.iter().any(|c| c == name) {
            self.source[slot] = true;
        }
        slot
    }

    /// Whether slot `slot` is read from the line.
    pub(crate) fn is_source(&self, slot: usize) -> bool {
        self.source[slot]
    }

    pub(crate) fn get(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// Records that the query computes `name` (so `name.key` reads inside its JSON value).
    pub(crate) fn computed(&mut self, name: &str) {
        if !self.computed.iter().any(|c| c == name) {
            self.computed.push(name.to_owned());
        }
    }

    /// `name` as a path into a computed field: its slot and the keys after it.
    fn path(&mut self, name: &str) -> Option<(usize, Vec<String>)> {
        if self.computed.iter().any(|c| c == name) {
            return None;
        }
        let prefix = self
            .computed
            .iter()
            .filter(|c| {
                name.len() > c.len()
                    && name.starts_with(c.as_str())
                    && name.as_bytes()[c.len()] == b'.'
            })
            .max_by_key(|c| c.len())?
            .clone();
        let keys = name[prefix.len() + 1..]
            .split('.')
            .map(str::to_owned)
            .collect();
        Some((self.slot(&prefix), keys))
    }
}

/// How `like` matches.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    /// A string: substring match, case-sensitive.
    Substring(String),
    /// A regular expression.
    Regex(Regex),
    /// A pattern computed per row (a field): substring match.
    Dynamic(Box<CExpr>),
}

/// A compiled expression.
#[derive(Debug, Clone)]
pub(crate) enum CExpr {
    Slot(usize),
    /// A key path into a computed JSON value (`jsonParse(@message) as j | fields j.records`).
    Path(usize, Vec<String>),
    Const(Value),
    Not(Box<CExpr>),
    Neg(Box<CExpr>),
    Bin(BinOp, Box<CExpr>, Box<CExpr>),
    Like {
        expr: Box<CExpr>,
        matcher: Matcher,
        negated: bool,
    },
    In {
        expr: Box<CExpr>,
        list: Vec<CExpr>,
        negated: bool,
    },
    Call(Func, Vec<CExpr>),
}

pub(crate) fn regex(pattern: &str) -> Result<Regex> {
    Regex::new(pattern).map_err(|e| Error::Regex {
        pattern: pattern.to_owned(),
        source: Box::new(e),
    })
}

/// Compiles `expr`; `query` is the text (for error positions).
pub(crate) fn compile(expr: &Expr, schema: &mut Schema, query: &str) -> Result<CExpr> {
    let mut c = |e: &Expr| compile(e, schema, query);
    Ok(match expr {
        Expr::Field(name) => match schema.path(name) {
            Some((slot, keys)) => CExpr::Path(slot, keys),
            None => CExpr::Slot(schema.read(name)),
        },
        Expr::Num(n) => CExpr::Const(Value::Num(*n)),
        Expr::Str(s) => CExpr::Const(Value::Str(s.clone())),
        Expr::Duration(ms) => CExpr::Const(Value::Num(*ms as f64)),
        Expr::Regex(r) => CExpr::Const(Value::Str(r.clone())),
        Expr::Star => CExpr::Const(Value::Num(1.0)),
        Expr::List(items) => CExpr::Const(Value::Json(serde_json::Value::Array(
            items
                .iter()
                .map(|i| match compile(i, &mut Schema::default(), query) {
                    Ok(CExpr::Const(v)) => Ok(v.to_json()),
                    _ => Err(Error::Invalid {
                        message: "a list literal may only hold constants".into(),
                        position: Position::of(query, 0),
                    }),
                })
                .collect::<Result<_>>()?,
        ))),
        Expr::Not(e) => CExpr::Not(Box::new(c(e)?)),
        Expr::Neg(e) => CExpr::Neg(Box::new(c(e)?)),
        Expr::Binary(op, a, b) => CExpr::Bin(*op, Box::new(c(a)?), Box::new(c(b)?)),
        Expr::Like {
            expr,
            pattern,
            negated,
        } => {
            let matcher = match pattern.as_ref() {
                Expr::Regex(r) => Matcher::Regex(regex(r)?),
                Expr::Str(s) => Matcher::Substring(s.clone()),
                other => Matcher::Dynamic(Box::new(c(other)?)),
            };
            CExpr::Like {
                expr: Box::new(c(expr)?),
                matcher,
                negated: *negated,
            }
        }
        Expr::In {
            expr,
            list,
            negated,
        } => CExpr::In {
            expr: Box::new(c(expr)?),
            list: list.iter().map(&mut c).collect::<Result<_>>()?,
            negated: *negated,
        },
        Expr::Call { name, args, offset } => {
            if name == "bin" {
                if args.len() != 1 {
                    return Err(arity(name, "1", args.len(), query, *offset));
                }
                let period = c(&args[0])?;
                return Ok(CExpr::Call(
                    Func::DateFloor,
                    vec![CExpr::Slot(schema.slot("@timestamp")), period],
                ));
            }
            let Some(&(_, func, min, max)) = FUNCTIONS.iter().find(|(n, ..)| n == name) else {
                let message = if crate::aggregate::is_aggregate(name) {
                    format!("aggregation `{name}` may only be used in `stats`")
                } else {
                    format!("unknown function `{name}`")
                };
                return Err(Error::Invalid {
                    message,
                    position: Position::of(query, *offset),
                });
            };
            if args.len() < min || args.len() > max {
                let want = match (min, max) {
                    (a, b) if a == b => a.to_string(),
                    (a, usize::MAX) => format!("at least {a}"),
                    (a, b) => format!("{a} to {b}"),
                };
                return Err(arity(name, &want, args.len(), query, *offset));
            }
            CExpr::Call(func, args.iter().map(&mut c).collect::<Result<_>>()?)
        }
    })
}

fn arity(name: &str, want: &str, got: usize, query: &str, offset: usize) -> Error {
    Error::Invalid {
        message: format!("`{name}` takes {want} argument(s), not {got}"),
        position: Position::of(query, offset),
    }
}

fn arith(op: BinOp, a: f64, b: f64) -> Value {
    let r = match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div if b == 0.0 => return Value::Null,
        BinOp::Div => a / b,
        BinOp::Rem if b == 0.0 => return Value::Null,
        BinOp::Rem => a % b,
        BinOp::Pow => a.powf(b),
        _ => unreachable!("not arithmetic"),
    };
    Value::Num(r)
}

/// `a == b` as `=` sees it (numbers numerically, strings exactly; absent: unknown).
fn equals(a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::Str(x), Value::Str(y)) => Some(x == y),
        _ => a.compare(b).map(|o| o == Ordering::Equal).or(Some(false)),
    }
}

impl CExpr {
    /// Evaluates the expression on `row`.
    pub(crate) fn eval<'r>(&'r self, row: &'r [Value]) -> Cow<'r, Value> {
        match self {
            CExpr::Slot(i) => Cow::Borrowed(&row[*i]),
            CExpr::Const(v) => Cow::Borrowed(v),
            other => Cow::Owned(other.eval_owned(row)),
        }
    }

    /// Whether the expression is true on `row` (what `filter` keeps).
    pub(crate) fn test(&self, row: &[Value]) -> bool {
        self.eval(row).truthy()
    }

    fn eval_owned(&self, row: &[Value]) -> Value {
        match self {
            CExpr::Slot(i) => row[*i].clone(),
            CExpr::Const(v) => v.clone(),
            CExpr::Path(slot, keys) => {
                let Value::Json(root) = &row[*slot] else {
                    return Value::Null;
                };
                let mut json: &serde_json::Value = root;
                for key in keys {
                    json = match json {
                        serde_json::Value::Object(map) => match map.get(key) {
                            Some(v) => v,
                            None => return Value::Null,
                        },
                        serde_json::Value::Array(items) => {
                            match key.parse::<usize>().ok().and_then(|i| items.get(i)) {
                                Some(v) => v,
                                None => return Value::Null,
                            }
                        }
                        _ => return Value::Null,
                    };
                }
                crate::extract::from_json(json.clone())
            }
            CExpr::Not(e) => match e.eval(row).as_ref() {
                Value::Null => Value::Null,
                v => Value::Bool(!v.truthy()),
            },
            CExpr::Neg(e) => e.eval(row).as_num().map_or(Value::Null, |n| Value::Num(-n)),
            CExpr::Bin(BinOp::And, a, b) => {
                let a = a.eval(row);
                if !a.is_null() && !a.truthy() {
                    return Value::Bool(false);
                }
                let b = b.eval(row);
                match (a.is_null(), b.is_null()) {
                    (_, false) if !b.truthy() => Value::Bool(false),
                    (false, false) => Value::Bool(true),
                    _ => Value::Null,
                }
            }
            CExpr::Bin(BinOp::Or, a, b) => {
                let a = a.eval(row);
                if a.truthy() {
                    return Value::Bool(true);
                }
                let b = b.eval(row);
                if b.truthy() {
                    Value::Bool(true)
                } else if a.is_null() || b.is_null() {
                    Value::Null
                } else {
                    Value::Bool(false)
                }
            }
            CExpr::Bin(op, a, b) => {
                let (a, b) = (a.eval(row), b.eval(row));
                match op {
                    BinOp::Eq => equals(&a, &b).map_or(Value::Null, Value::Bool),
                    BinOp::Ne => equals(&a, &b).map_or(Value::Null, |e| Value::Bool(!e)),
                    BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => match a.compare(&b) {
                        None => Value::Null,
                        Some(o) => Value::Bool(match op {
                            BinOp::Lt => o.is_lt(),
                            BinOp::Le => o.is_le(),
                            BinOp::Gt => o.is_gt(),
                            _ => o.is_ge(),
                        }),
                    },
                    _ => match (a.as_num(), b.as_num()) {
                        (Some(x), Some(y)) => arith(*op, x, y),
                        _ => Value::Null,
                    },
                }
            }
            CExpr::Like {
                expr,
                matcher,
                negated,
            } => {
                let v = expr.eval(row);
                let Some(text) = v.to_text() else {
                    return Value::Null;
                };
                let hit = match matcher {
                    Matcher::Substring(s) => text.contains(s.as_str()),
                    Matcher::Regex(r) => r.is_match(&text),
                    Matcher::Dynamic(p) => match p.eval(row).to_text() {
                        Some(p) => text.contains(p.as_ref()),
                        None => return Value::Null,
                    },
                };
                Value::Bool(hit != *negated)
            }
            CExpr::In {
                expr,
                list,
                negated,
            } => {
                let v = expr.eval(row);
                if v.is_null() {
                    return Value::Null;
                }
                let hit = list
                    .iter()
                    .any(|item| equals(&v, &item.eval(row)) == Some(true));
                Value::Bool(hit != *negated)
            }
            CExpr::Call(f, args) => {
                let args: smallvec::SmallVec<[Value; 3]> =
                    args.iter().map(|a| a.eval(row).into_owned()).collect();
                call(*f, &args)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse;

    /// Evaluates the `fields` expression of `query` on a row built from `fields`.
    fn eval(expr: &str, fields: &[(&str, Value)]) -> Value {
        let q = parse(&format!("fields {expr}")).unwrap();
        let crate::ast::Command::Fields(named) = &q.commands[0] else {
            panic!()
        };
        let mut schema = Schema::default();
        for (name, _) in fields {
            schema.slot(name);
        }
        let c = compile(&named[0].expr, &mut schema, expr).unwrap();
        let mut row = vec![Value::Null; schema.len()];
        for (name, v) in fields {
            row[schema.get(name).unwrap()] = v.clone();
        }
        c.eval(&row).into_owned()
    }

    fn n(x: f64) -> Value {
        Value::Num(x)
    }
    fn b(x: bool) -> Value {
        Value::Bool(x)
    }
    fn s(x: &str) -> Value {
        Value::Str(x.into())
    }

    #[test]
    fn comparison_operators() {
        let f = [("x", n(5.0)), ("s", s("abc"))];
        assert_eq!(eval("x = 5", &f), b(true));
        assert_eq!(eval("x != 5", &f), b(false));
        assert_eq!(eval("x < 6", &f), b(true));
        assert_eq!(eval("x <= 5", &f), b(true));
        assert_eq!(eval("x > 5", &f), b(false));
        assert_eq!(eval("x >= 5", &f), b(true));
        assert_eq!(eval("x = '5'", &f), b(true));
        assert_eq!(eval("s = 'abc'", &f), b(true));
        assert_eq!(eval("s < 'abd'", &f), b(true));
        assert_eq!(eval("missing = 1", &f), Value::Null);
        assert_eq!(eval("missing != 1", &f), Value::Null);
    }

    #[test]
    fn boolean_operators_are_three_valued() {
        let f = [("t", b(true)), ("z", n(0.0))];
        assert_eq!(eval("t and z", &f), b(false));
        assert_eq!(eval("t or z", &f), b(true));
        assert_eq!(eval("not z", &f), b(true));
        assert_eq!(eval("not missing", &f), Value::Null);
        assert_eq!(eval("missing and z", &f), b(false));
        assert_eq!(eval("missing or t", &f), b(true));
        assert_eq!(eval("missing or z", &f), Value::Null);
    }

    #[test]
    fn arithmetic() {
        let f = [("x", n(7.0)), ("y", s("2"))];
        assert_eq!(eval("x + y", &f), n(9.0));
        assert_eq!(eval("x - y * 3", &f), n(1.0));
        assert_eq!(eval("x / y", &f), n(3.5));
        assert_eq!(eval("x % y", &f), n(1.0));
        assert_eq!(eval("y ^ 3", &f), n(8.0));
        assert_eq!(eval("-x", &f), n(-7.0));
        assert_eq!(eval("x / 0", &f), Value::Null);
        assert_eq!(eval("x + missing", &f), Value::Null);
        assert_eq!(eval("(x > 1) + (x > 100)", &f), n(1.0));
    }

    #[test]
    fn like_regex_and_in() {
        let f = [("m", s("GET /bookings/42 took 12ms")), ("r", s("/b"))];
        assert_eq!(eval("m like 'bookings'", &f), b(true));
        assert_eq!(eval("m like 'Bookings'", &f), b(false));
        assert_eq!(eval("m like /took \\d+ms/", &f), b(true));
        assert_eq!(eval("m =~ /^GET/", &f), b(true));
        assert_eq!(eval("m !=~ /^GET/", &f), b(false));
        assert_eq!(eval("m not like /^POST/", &f), b(true));
        assert_eq!(eval("m like /(?i)BOOKINGS/", &f), b(true));
        assert_eq!(eval("m like r", &f), b(true));
        assert_eq!(eval("r in ['/a', '/b']", &f), b(true));
        assert_eq!(eval("r not in ['/a', '/b']", &f), b(false));
        assert_eq!(eval("missing in ['/a']", &f), Value::Null);
        assert_eq!(eval("2 in [1, 2]", &f), b(true));
    }

    #[test]
    fn functions_are_case_insensitive_and_checked() {
        assert_eq!(eval("TOUPPER('a')", &[]), s("A"));
        let mut schema = Schema::default();
        let q = parse("fields nope(1)").unwrap();
        let crate::ast::Command::Fields(named) = &q.commands[0] else {
            panic!()
        };
        let err = compile(&named[0].expr, &mut schema, "fields nope(1)").unwrap_err();
        assert_eq!(err.to_string(), "unknown function `nope` at column 8");
        let q = parse("fields strlen(1, 2)").unwrap();
        let crate::ast::Command::Fields(named) = &q.commands[0] else {
            panic!()
        };
        let err = compile(&named[0].expr, &mut schema, "fields strlen(1, 2)").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`strlen` takes 1 argument(s), not 2 at column 8"
        );
    }

    #[test]
    fn bin_floors_the_timestamp() {
        assert_eq!(
            eval("bin(5m)", &[("@timestamp", Value::Time(299_999))]),
            Value::Time(0)
        );
        assert_eq!(
            eval("bin(1h)", &[("@timestamp", Value::Time(3_600_001))]),
            Value::Time(3_600_000)
        );
    }
}
