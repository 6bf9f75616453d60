//! A recursive-descent parser for the Logs Insights query language.
//!
//! Commands are separated by `|`; command, keyword and function names are case-insensitive,
//! field names are case-sensitive (as in CloudWatch). Precedence, lowest first: `or`, `and`,
//! `not`, comparisons (`= != < <= > >= like =~ in`), `+ -`, `* / %`, `^`, unary `-`.

use crate::ast::{BinOp, Command, Expr, Named, ParsePattern, Query, SortKey};
use crate::error::{Error, Position, Result};
use crate::lexer::{tokenize, Spanned, Tok};

/// Parses a query.
///
/// ```
/// let q = instrument_query::parse("filter level = 'ERROR' | stats count(*) by function").unwrap();
/// assert_eq!(q.commands.len(), 2);
/// let err = instrument_query::parse("filter latency_ms >").unwrap_err();
/// assert_eq!(err.to_string(), "expected a value after `>` at column 20");
/// ```
pub fn parse(query: &str) -> Result<Query> {
    let tokens = tokenize(query)?;
    let mut p = Parser {
        query,
        chars: query.chars().collect(),
        tokens,
        pos: 0,
    };
    let mut commands = Vec::new();
    loop {
        if p.at_end() {
            if commands.is_empty() {
                return Err(p.expected(
                    "a command (fields, filter, stats, sort, limit, parse, display, dedup, unnest)",
                ));
            }
            break;
        }
        commands.push(p.command()?);
        if p.at_end() {
            break;
        }
        if !p.eat_op("|") {
            return Err(p.expected("`|` or the end of the query"));
        }
    }
    Ok(Query { commands })
}

struct Parser<'q> {
    query: &'q str,
    chars: Vec<char>,
    tokens: Vec<Spanned>,
    pos: usize,
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.tokens.len()
    }

    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|s| &s.tok)
    }

    fn offset(&self) -> usize {
        match self.tokens.get(self.pos) {
            Some(t) => t.offset,
            None => self.tokens.last().map_or(0, |t| t.end),
        }
    }

    fn prev_end(&self) -> usize {
        if self.pos == 0 {
            0
        } else {
            self.tokens[self.pos - 1].end
        }
    }

    fn expected(&self, what: &str) -> Error {
        Error::Parse {
            expected: what.to_owned(),
            after: self.pos.checked_sub(1).map(|i| self.tokens[i].tok.text()),
            position: Position::of(self.query, self.offset()),
        }
    }

    fn invalid(&self, message: String, offset: usize) -> Error {
        Error::Invalid {
            message,
            position: Position::of(self.query, offset),
        }
    }

    fn text(&self, start: usize, end: usize) -> String {
        self.chars[start..end]
            .iter()
            .collect::<String>()
            .trim()
            .to_owned()
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(word))
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if self.is_word(word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn name(&mut self, what: &str) -> Result<String> {
        match self.peek() {
            Some(Tok::Ident(w)) | Some(Tok::Quoted(w)) => {
                let w = w.clone();
                self.pos += 1;
                Ok(w)
            }
            _ => Err(self.expected(what)),
        }
    }

    fn command(&mut self) -> Result<Command> {
        let word =
            match self.peek() {
                Some(Tok::Ident(w)) => w.to_ascii_lowercase(),
                _ => return Err(self.expected(
                    "a command (fields, filter, stats, sort, limit, parse, display, dedup, unnest)",
                )),
            };
        let offset = self.offset();
        self.pos += 1;
        Ok(match word.as_str() {
            "fields" => Command::Fields(self.named_list("a field or expression")?),
            "display" => Command::Display(self.named_list("a field")?),
            "filter" => Command::Filter(self.expr()?),
            "stats" => {
                let aggregates = self.named_list("an aggregation such as count(*)")?;
                let by = if self.eat_word("by") {
                    self.named_list("a field or bin(...) to group by")?
                } else {
                    Vec::new()
                };
                Command::Stats { aggregates, by }
            }
            "sort" => {
                let mut keys = Vec::new();
                loop {
                    let expr = self.expr()?;
                    let descending = if self.eat_word("desc") {
                        true
                    } else {
                        self.eat_word("asc");
                        false
                    };
                    keys.push(SortKey { expr, descending });
                    if !self.eat_op(",") {
                        break;
                    }
                }
                Command::Sort(keys)
            }
            "limit" | "head" => match self.peek() {
                Some(Tok::Num(n)) if *n >= 0.0 && n.fract() == 0.0 => {
                    let n = *n as usize;
                    self.pos += 1;
                    Command::Limit(n)
                }
                _ => return Err(self.expected("a whole number of rows")),
            },
            "parse" => {
                let field = match self.peek() {
                    Some(Tok::Str(_)) | Some(Tok::Regex(_)) => Expr::Field("@message".into()),
                    _ => self.primary()?,
                };
                let pattern = match self.peek().cloned() {
                    Some(Tok::Str(glob)) => {
                        self.pos += 1;
                        if !self.eat_word("as") {
                            return Err(self.expected("`as` and the names of the captured fields"));
                        }
                        let mut names = vec![self.name("a field name")?];
                        while self.eat_op(",") {
                            names.push(self.name("a field name")?);
                        }
                        let pieces: Vec<String> = glob.split('*').map(str::to_owned).collect();
                        if pieces.len() - 1 != names.len() {
                            return Err(self.invalid(
                                format!(
                                    "the pattern has {} wildcards but {} names follow `as`",
                                    pieces.len() - 1,
                                    names.len()
                                ),
                                offset,
                            ));
                        }
                        ParsePattern::Glob { pieces, names }
                    }
                    Some(Tok::Regex(re)) => {
                        self.pos += 1;
                        ParsePattern::Regex(re)
                    }
                    _ => return Err(self.expected("a glob pattern in quotes or a /regular expression/")),
                };
                Command::Parse { field, pattern }
            }
            "dedup" => {
                let mut fields = vec![self.expr()?];
                while self.eat_op(",") {
                    fields.push(self.expr()?);
                }
                Command::Dedup(fields)
            }
            "unnest" => {
                let field = self.expr()?;
                if !self.eat_word("into") {
                    return Err(self.expected("`into` and a field name"));
                }
                let into = self.name("a field name")?;
                Command::Unnest { field, into }
            }
            other => {
                return Err(self.invalid(
                    format!("unknown command `{other}` (expected fields, filter, stats, sort, limit, parse, display, dedup or unnest)"),
                    offset,
                ))
            }
        })
    }

    fn named_list(&mut self, what: &str) -> Result<Vec<Named>> {
        let mut out = Vec::new();
        loop {
            if self.at_end() || matches!(self.peek(), Some(Tok::Op("|"))) {
                return Err(self.expected(what));
            }
            let start = self.offset();
            let expr = self.expr()?;
            let end = self.prev_end();
            let name = if self.eat_word("as") {
                self.name("a name after `as`")?
            } else {
                match &expr {
                    Expr::Field(f) => f.clone(),
                    _ => self.text(start, end),
                }
            };
            out.push(Named { expr, name });
            if !self.eat_op(",") {
                return Ok(out);
            }
        }
    }

    /// Parses an expression.
    fn expr(&mut self) -> Result<Expr> {
        self.or()
    }

    fn or(&mut self) -> Result<Expr> {
        let mut left = self.and()?;
        while self.eat_word("or") {
            let right = self.and()?;
            left = Expr::Binary(BinOp::Or, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr> {
        let mut left = self.not()?;
        while self.eat_word("and") {
            let right = self.not()?;
            left = Expr::Binary(BinOp::And, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr> {
        if self.eat_word("not") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr> {
        let left = self.additive()?;
        let op = match self.peek() {
            Some(Tok::Op("=")) => Some(BinOp::Eq),
            Some(Tok::Op("!=")) => Some(BinOp::Ne),
            Some(Tok::Op("<")) => Some(BinOp::Lt),
            Some(Tok::Op("<=")) => Some(BinOp::Le),
            Some(Tok::Op(">")) => Some(BinOp::Gt),
            Some(Tok::Op(">=")) => Some(BinOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.pos += 1;
            let right = self.additive()?;
            return Ok(Expr::Binary(op, Box::new(left), Box::new(right)));
        }
        let negated = if self.is_word("not")
            && matches!(self.tokens.get(self.pos + 1).map(|t| &t.tok), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("like") || w.eq_ignore_ascii_case("in"))
        {
            self.pos += 1;
            true
        } else {
            false
        };
        if self.eat_word("like") || (!negated && self.eat_op("=~")) {
            let pattern = self.additive()?;
            return Ok(Expr::Like {
                expr: Box::new(left),
                pattern: Box::new(pattern),
                negated,
            });
        }
        if !negated && self.eat_op("!=~") {
            let pattern = self.additive()?;
            return Ok(Expr::Like {
                expr: Box::new(left),
                pattern: Box::new(pattern),
                negated: true,
            });
        }
        if self.eat_word("in") {
            if !self.eat_op("[") {
                return Err(self.expected("`[` starting a list"));
            }
            let list = self.list_rest()?;
            return Ok(Expr::In {
                expr: Box::new(left),
                list,
                negated,
            });
        }
        Ok(left)
    }

    fn list_rest(&mut self) -> Result<Vec<Expr>> {
        let mut list = Vec::new();
        if self.eat_op("]") {
            return Ok(list);
        }
        loop {
            list.push(self.additive()?);
            if self.eat_op("]") {
                return Ok(list);
            }
            if !self.eat_op(",") {
                return Err(self.expected("`,` or `]`"));
            }
        }
    }

    fn additive(&mut self) -> Result<Expr> {
        let mut left = self.multiplicative()?;
        loop {
            let op = if self.eat_op("+") {
                BinOp::Add
            } else if self.eat_op("-") {
                BinOp::Sub
            } else {
                return Ok(left);
            };
            let right = self.multiplicative()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr> {
        let mut left = self.power()?;
        loop {
            let op = if self.eat_op("*") {
                BinOp::Mul
            } else if self.eat_op("/") {
                BinOp::Div
            } else if self.eat_op("%") {
                BinOp::Rem
            } else {
                return Ok(left);
            };
            let right = self.power()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn power(&mut self) -> Result<Expr> {
        let base = self.unary()?;
        if self.eat_op("^") {
            let exponent = self.power()?;
            return Ok(Expr::Binary(BinOp::Pow, Box::new(base), Box::new(exponent)));
        }
        Ok(base)
    }

    fn unary(&mut self) -> Result<Expr> {
        if self.eat_op("-") {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr> {
        let Some(tok) = self.peek().cloned() else {
            return Err(self.expected("a value"));
        };
        let offset = self.offset();
        self.pos += 1;
        Ok(match tok {
            Tok::Num(n) => Expr::Num(n),
            Tok::Str(s) => Expr::Str(s),
            Tok::Duration(ms) => Expr::Duration(ms),
            Tok::Regex(r) => Expr::Regex(r),
            Tok::Quoted(f) => Expr::Field(f),
            Tok::Op("(") => {
                let e = self.expr()?;
                if !self.eat_op(")") {
                    return Err(self.expected("`)`"));
                }
                e
            }
            Tok::Op("[") => Expr::List(self.list_rest()?),
            Tok::Ident(word) if matches!(self.peek(), Some(Tok::Op("("))) => {
                self.pos += 1;
                let mut args = Vec::new();
                if !self.eat_op(")") {
                    loop {
                        if self.eat_op("*") {
                            args.push(Expr::Star);
                        } else {
                            args.push(self.expr()?);
                        }
                        if self.eat_op(")") {
                            break;
                        }
                        if !self.eat_op(",") {
                            return Err(self.expected("`,` or `)`"));
                        }
                    }
                }
                Expr::Call {
                    name: word.to_ascii_lowercase(),
                    args,
                    offset,
                }
            }
            Tok::Ident(word) => {
                let lower = word.to_ascii_lowercase();
                if matches!(
                    lower.as_str(),
                    "and" | "or" | "by" | "as" | "asc" | "desc" | "like" | "in"
                ) {
                    self.pos -= 1;
                    return Err(self.expected("a value"));
                }
                Expr::Field(word)
            }
            Tok::Op(_) => {
                self.pos -= 1;
                return Err(self.expected("a value"));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(q: &str) -> String {
        parse(q).unwrap_err().to_string()
    }

    #[test]
    fn errors_say_what_was_expected_and_where() {
        assert_eq!(
            err("filter latency_ms >"),
            "expected a value after `>` at column 20"
        );
        assert_eq!(
            err("stats count(*) by"),
            "expected a field or bin(...) to group by after `by` at column 18"
        );
        assert_eq!(
            err("fields a b"),
            "expected `|` or the end of the query after `a` at column 10"
        );
        assert_eq!(
            err("limit x"),
            "expected a whole number of rows after `limit` at column 7"
        );
        assert_eq!(err(""), "expected a command (fields, filter, stats, sort, limit, parse, display, dedup, unnest) at column 1");
        assert_eq!(
            err("fields x\n| filter (a = 1"),
            "expected `)` after `1` at line 2, column 16"
        );
        assert!(err("frobnicate x").starts_with("unknown command `frobnicate`"));
    }

    #[test]
    fn precedence_and_names() {
        let q = parse("stats count(*) as n, pct(latency_ms, 95) by bin(5m), function").unwrap();
        let Command::Stats { aggregates, by } = &q.commands[0] else {
            panic!()
        };
        assert_eq!(aggregates[0].name, "n");
        assert_eq!(aggregates[1].name, "pct(latency_ms, 95)");
        assert_eq!(by[0].name, "bin(5m)");
        assert_eq!(by[1].name, "function");
        let q = parse("filter a = 1 or b = 2 and not c > 1 + 2 * 3").unwrap();
        let Command::Filter(Expr::Binary(BinOp::Or, _, right)) = &q.commands[0] else {
            panic!()
        };
        let Expr::Binary(BinOp::And, _, not) = right.as_ref() else {
            panic!()
        };
        let Expr::Not(cmp) = not.as_ref() else {
            panic!()
        };
        let Expr::Binary(BinOp::Gt, _, sum) = cmp.as_ref() else {
            panic!()
        };
        assert!(matches!(sum.as_ref(), Expr::Binary(BinOp::Add, _, _)));
    }

    #[test]
    fn like_in_and_parse_forms() {
        let q = parse("filter x not like /a+/ and y in ['a', 'b'] and z not in [1] | parse @message 'at * took *' as a, b | parse /(?<n>\\d+)/").unwrap();
        assert_eq!(q.commands.len(), 3);
        let Command::Parse {
            pattern: ParsePattern::Glob { pieces, names },
            ..
        } = &q.commands[1]
        else {
            panic!()
        };
        assert_eq!(pieces, &["at ", " took ", ""]);
        assert_eq!(names, &["a", "b"]);
        assert!(
            matches!(&q.commands[2], Command::Parse { pattern: ParsePattern::Regex(r), .. } if r == "(?<n>\\d+)")
        );
        assert!(err("parse @message 'a * b * c' as x").contains("2 wildcards but 1 names"));
    }

    #[test]
    fn sort_defaults_to_ascending() {
        let q = parse("sort @timestamp, b asc | limit 5").unwrap();
        assert!(
            matches!(&parse("sort x desc").unwrap().commands[0], Command::Sort(k) if k[0].descending)
        );
        assert_eq!(
            q.commands[0],
            Command::Sort(vec![
                SortKey {
                    expr: Expr::Field("@timestamp".into()),
                    descending: false
                },
                SortKey {
                    expr: Expr::Field("b".into()),
                    descending: false
                },
            ])
        );
        assert_eq!(q.commands[1], Command::Limit(5));
    }
}
