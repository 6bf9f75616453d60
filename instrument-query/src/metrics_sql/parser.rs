//! Parses the Metrics Insights SQL dialect:
//!
//! ```text
//! SELECT FUNCTION(metric) FROM namespace | SCHEMA(namespace [, dimension...])
//!   [WHERE dimension = 'v' | != 'v' | LIKE 'p*' | IN ('a', 'b') [AND | OR ...]]
//!   [GROUP BY dimension [, ...]] [ORDER BY FUNCTION() [ASC | DESC]] [LIMIT n]
//! ```
//! Keywords and function names are case-insensitive; names with special characters go in double
//! quotes, string values in single quotes.

use crate::error::{Error, Position, Result};
use crate::lexer::{scan_quoted, Escapes};

/// An aggregation function of Metrics Insights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `AVG`
    Avg,
    /// `COUNT`: the number of values.
    Count,
    /// `MAX`
    Max,
    /// `MIN`
    Min,
    /// `SUM`
    Sum,
}

impl Function {
    fn parse(s: &str) -> Option<Function> {
        Some(match s.to_ascii_uppercase().as_str() {
            "AVG" => Function::Avg,
            "COUNT" => Function::Count,
            "MAX" => Function::Max,
            "MIN" => Function::Min,
            "SUM" => Function::Sum,
            _ => return None,
        })
    }

    /// The SQL name.
    ///
    /// ```
    /// assert_eq!(instrument_query::metrics_sql::Function::Avg.name(), "AVG");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Function::Avg => "AVG",
            Function::Count => "COUNT",
            Function::Max => "MAX",
            Function::Min => "MIN",
            Function::Sum => "SUM",
        }
    }
}

/// A `WHERE` condition on dimension values.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `dim = 'v'` (`negated`: `!=` / `<>`).
    Eq {
        /// The dimension.
        key: String,
        /// The value.
        value: String,
        /// `!=`.
        negated: bool,
    },
    /// `dim LIKE 'pattern'` with `*` or `%` wildcards (`negated`: `NOT LIKE`).
    Like {
        /// The dimension.
        key: String,
        /// The pattern.
        pattern: String,
        /// `NOT LIKE`.
        negated: bool,
    },
    /// `dim IN ('a', 'b')` (`negated`: `NOT IN`).
    In {
        /// The dimension.
        key: String,
        /// The values.
        values: Vec<String>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `a AND b`.
    And(Box<Condition>, Box<Condition>),
    /// `a OR b`.
    Or(Box<Condition>, Box<Condition>),
    /// `NOT a`.
    Not(Box<Condition>),
}

/// A parsed Metrics Insights query.
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    /// The aggregation.
    pub function: Function,
    /// The metric name.
    pub metric: String,
    /// The namespace.
    pub namespace: String,
    /// `SCHEMA(ns, dims...)`: only series with exactly these dimensions.
    pub schema: Option<Vec<String>>,
    /// The `WHERE` condition.
    pub condition: Option<Condition>,
    /// `GROUP BY` dimensions.
    pub group_by: Vec<String>,
    /// `ORDER BY FUNCTION() [DESC]`: the function and whether descending.
    pub order_by: Option<(Function, bool)>,
    /// `LIMIT n`.
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Str(String),
    Num(f64),
    Sym(&'static str),
}

struct Parser<'a> {
    sql: &'a str,
    toks: Vec<(Tok, usize, usize)>,
    pos: usize,
}

fn tokenize(sql: &str) -> Result<Vec<(Tok, usize, usize)>> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let tok = if c == '"' || c == '\'' {
            let (text, next) =
                scan_quoted(&chars, i, Escapes::Doubled).ok_or_else(|| Error::Parse {
                    expected: format!("a closing {c}"),
                    after: None,
                    position: Position::of(sql, start),
                })?;
            i = next;
            if c == '"' {
                Tok::Quoted(text)
            } else {
                Tok::Str(text)
            }
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            Tok::Num(s.parse().map_err(|_| Error::Parse {
                expected: "a number".into(),
                after: None,
                position: Position::of(sql, start),
            })?)
        } else if c.is_alphabetic() || c == '_' {
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.' | '/' | ':' | '-'))
            {
                i += 1;
            }
            Tok::Word(chars[start..i].iter().collect())
        } else {
            let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let sym = ["!=", "<>", "(", ")", ",", "=", "*"]
                .into_iter()
                .find(|s| two.starts_with(s))
                .ok_or_else(|| Error::Parse {
                    expected: "a keyword, a name, a value or one of ( ) , = != <>".into(),
                    after: None,
                    position: Position::of(sql, start),
                })?;
            i += sym.len();
            Tok::Sym(sym)
        };
        out.push((tok, start, i));
    }
    Ok(out)
}

fn text(t: &Tok) -> String {
    match t {
        Tok::Word(w) => w.clone(),
        Tok::Quoted(q) => format!("\"{q}\""),
        Tok::Str(s) => format!("'{s}'"),
        Tok::Num(n) => n.to_string(),
        Tok::Sym(s) => (*s).to_owned(),
    }
}

impl Parser<'_> {
    fn expected(&self, what: &str) -> Error {
        let offset = match self.toks.get(self.pos) {
            Some(t) => t.1,
            None => self.toks.last().map_or(0, |t| t.2),
        };
        Error::Parse {
            expected: what.to_owned(),
            after: self.pos.checked_sub(1).map(|i| text(&self.toks[i].0)),
            position: Position::of(self.sql, offset),
        }
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn keyword(&mut self, k: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_keyword(&mut self, k: &str) -> Result<()> {
        if self.keyword(k) {
            Ok(())
        } else {
            Err(self.expected(&format!("`{k}`")))
        }
    }

    fn sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(x)) if *x == s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, s: &str) -> Result<()> {
        if self.sym(s) {
            Ok(())
        } else {
            Err(self.expected(&format!("`{s}`")))
        }
    }

    fn name(&mut self, what: &str) -> Result<String> {
        match self.peek().cloned() {
            Some(Tok::Word(w)) | Some(Tok::Quoted(w)) => {
                self.pos += 1;
                Ok(w)
            }
            _ => Err(self.expected(what)),
        }
    }

    fn string(&mut self) -> Result<String> {
        match self.peek().cloned() {
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.expected("a value in single quotes")),
        }
    }

    fn function(&mut self) -> Result<Function> {
        let word = self.name("a function (AVG, COUNT, MAX, MIN, SUM)")?;
        Function::parse(&word).ok_or_else(|| {
            self.pos -= 1;
            self.expected("a function (AVG, COUNT, MAX, MIN, SUM)")
        })
    }

    fn condition(&mut self) -> Result<Condition> {
        let mut left = self.and()?;
        while self.keyword("OR") {
            left = Condition::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Condition> {
        let mut left = self.not()?;
        while self.keyword("AND") {
            left = Condition::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Condition> {
        if self.keyword("NOT") {
            return Ok(Condition::Not(Box::new(self.not()?)));
        }
        if self.sym("(") {
            let c = self.condition()?;
            self.expect_sym(")")?;
            return Ok(c);
        }
        let key = self.name("a dimension name")?;
        if self.sym("=") {
            return Ok(Condition::Eq {
                key,
                value: self.string()?,
                negated: false,
            });
        }
        if self.sym("!=") || self.sym("<>") {
            return Ok(Condition::Eq {
                key,
                value: self.string()?,
                negated: true,
            });
        }
        let negated = self.keyword("NOT");
        if self.keyword("LIKE") {
            return Ok(Condition::Like {
                key,
                pattern: self.string()?,
                negated,
            });
        }
        if self.keyword("IN") {
            self.expect_sym("(")?;
            let mut values = vec![self.string()?];
            while self.sym(",") {
                values.push(self.string()?);
            }
            self.expect_sym(")")?;
            return Ok(Condition::In {
                key,
                values,
                negated,
            });
        }
        Err(self.expected(if negated {
            "LIKE or IN"
        } else {
            "=, !=, LIKE or IN"
        }))
    }
}

/// Parses a Metrics Insights query.
///
/// ```
/// use instrument_query::metrics_sql::{parse, Function};
/// let q = parse(r#"SELECT AVG("pay.latency") FROM SCHEMA("Ticketing", service) WHERE service = 'booking' GROUP BY service ORDER BY AVG() DESC LIMIT 5"#).unwrap();
/// assert_eq!(q.function, Function::Avg);
/// assert_eq!(q.schema, Some(vec!["service".to_string()]));
/// assert_eq!(q.order_by, Some((Function::Avg, true)));
/// assert_eq!(parse("SELECT AVG(x) FROM").unwrap_err().to_string(), "expected a namespace or SCHEMA(...) after `FROM` at column 19");
/// ```
pub fn parse(sql: &str) -> Result<Select> {
    let mut p = Parser {
        sql,
        toks: tokenize(sql)?,
        pos: 0,
    };
    p.expect_keyword("SELECT")?;
    let function = p.function()?;
    p.expect_sym("(")?;
    let metric = p.name("a metric name")?;
    p.expect_sym(")")?;
    p.expect_keyword("FROM")?;
    let (namespace, schema) = if p.keyword("SCHEMA") {
        p.expect_sym("(")?;
        let ns = p.name("a namespace")?;
        let mut dims = Vec::new();
        while p.sym(",") {
            dims.push(p.name("a dimension name")?);
        }
        p.expect_sym(")")?;
        (ns, Some(dims))
    } else {
        (p.name("a namespace or SCHEMA(...)")?, None)
    };
    let condition = if p.keyword("WHERE") {
        Some(p.condition()?)
    } else {
        None
    };
    let mut group_by = Vec::new();
    if p.keyword("GROUP") {
        p.expect_keyword("BY")?;
        group_by.push(p.name("a dimension name")?);
        while p.sym(",") {
            group_by.push(p.name("a dimension name")?);
        }
    }
    let order_by = if p.keyword("ORDER") {
        p.expect_keyword("BY")?;
        let f = p.function()?;
        p.expect_sym("(")?;
        p.expect_sym(")")?;
        let desc = if p.keyword("DESC") {
            true
        } else {
            p.keyword("ASC");
            false
        };
        Some((f, desc))
    } else {
        None
    };
    let limit = if p.keyword("LIMIT") {
        match p.peek() {
            Some(Tok::Num(n)) if n.fract() == 0.0 && *n >= 1.0 => {
                let n = *n as usize;
                p.pos += 1;
                Some(n)
            }
            _ => return Err(p.expected("a row count")),
        }
    } else {
        None
    };
    if p.pos < p.toks.len() {
        return Err(p.expected("the end of the query"));
    }
    Ok(Select {
        function,
        metric,
        namespace,
        schema,
        condition,
        group_by,
        order_by,
        limit,
    })
}
