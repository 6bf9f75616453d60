//! Turns a parsed query into an executable plan: field slots, the streaming stages every line
//! goes through, the first blocking command (where rows stop streaming), the table stages after
//! it, and the result's columns.
//!
//! Rules where CloudWatch's documentation is silent, as this engine applies them:
//! - Columns: the last `display` wins; otherwise the last `fields` (after a `stats`, the stats
//!   columns plus the new fields); otherwise the `stats` columns (groups first, then
//!   aggregations); otherwise `@timestamp` and `@message`.
//! - Order: a query without `stats` and without `sort` returns rows by `@timestamp`, newest
//!   first (ties in input order); `stats` results come in the order each group first appears in
//!   the input unless a `sort` follows.
//! - At most 10,000 rows are returned (an explicit `limit` above that is capped).

use regex::Regex;

use crate::aggregate::{is_aggregate, Kind};
use crate::ast::{Command, Expr, Named, ParsePattern, Query};
use crate::error::{Error, Position, Result};
use crate::eval::{compile, regex, CExpr, Schema};
use crate::extract::Extractor;

/// The most rows a query returns, as in CloudWatch.
pub const MAX_ROWS: usize = 10_000;

/// A stage a row passes through on its own.
#[derive(Debug, Clone)]
pub(crate) enum RowStage {
    Filter(CExpr),
    Assign(Vec<(usize, CExpr)>),
    ParseGlob {
        src: CExpr,
        pieces: Vec<String>,
        slots: Vec<usize>,
    },
    ParseRegex {
        src: CExpr,
        re: Regex,
        slots: Vec<(usize, usize)>,
    },
    Unnest {
        src: CExpr,
        slot: usize,
    },
}

/// A `stats` command, compiled.
#[derive(Debug, Clone)]
pub(crate) struct StatsPlan {
    pub(crate) aggregates: Vec<(Kind, CExpr)>,
    pub(crate) aggregate_slots: Vec<usize>,
    pub(crate) by: Vec<(usize, CExpr)>,
    pub(crate) outputs: Vec<(usize, CExpr)>,
    /// `@timestamp`, when an aggregation needs it (`earliest`, `latest`).
    pub(crate) timestamp: Option<usize>,
}

/// Sort keys: expression and whether descending.
pub(crate) type SortKeys = Vec<(CExpr, bool)>;

/// A stage that needs all rows (or works on the table of results).
#[derive(Debug, Clone)]
pub(crate) enum TableStage {
    Row(RowStage),
    Stats(StatsPlan),
    Sort(SortKeys),
    Limit(usize),
    Dedup(Vec<CExpr>),
}

/// An executable query.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) schema: Schema,
    pub(crate) extractor: Extractor,
    pub(crate) streaming: Vec<RowStage>,
    pub(crate) table: Vec<TableStage>,
    pub(crate) columns: Vec<usize>,
    pub(crate) default_sort: bool,
    pub(crate) system: System,
    /// Lines that cannot pass the first `filter` are skipped unparsed.
    pub(crate) prefilter: crate::prefilter::Prefilter,
}

/// The slots of the system fields the query uses.
#[derive(Debug, Default)]
pub(crate) struct System {
    pub(crate) timestamp: Option<usize>,
    pub(crate) message: Option<usize>,
    pub(crate) log: Option<usize>,
    pub(crate) log_stream: Option<usize>,
    pub(crate) ingestion_time: Option<usize>,
}

struct Planner<'q> {
    query: &'q str,
    schema: Schema,
    hidden: usize,
}

impl Planner<'_> {
    fn compile(&mut self, e: &Expr) -> Result<CExpr> {
        compile(e, &mut self.schema, self.query)
    }

    fn assign(&mut self, named: &[Named]) -> Result<Vec<(usize, CExpr)>> {
        let mut assigns = Vec::new();
        for n in named {
            if matches!(&n.expr, Expr::Field(f) if *f == n.name) {
                self.schema.read(&n.name);
            } else {
                // Compiled before the name counts as computed: `fields j.a as j` reads the old j.
                let e = self.compile(&n.expr)?;
                self.schema.computed(&n.name);
                assigns.push((self.schema.slot(&n.name), e));
            }
        }
        Ok(assigns)
    }

    /// Replaces each aggregation call in `e` by a hidden field, recording it in `out`.
    fn lift(&mut self, e: &Expr, out: &mut Vec<(Kind, CExpr, usize)>) -> Result<Expr> {
        Ok(match e {
            Expr::Call { name, args, offset } if is_aggregate(name) => {
                let bad = |msg: &str| Error::Invalid {
                    message: format!("`{name}` {msg}"),
                    position: Position::of(self.query, *offset),
                };
                let (kind, arg) = match (name.as_str(), args.as_slice()) {
                    ("count", []) | ("count", [Expr::Star]) => (Kind::CountStar, Expr::Num(1.0)),
                    ("count", [a]) => (Kind::Count, a.clone()),
                    ("count_distinct", [a]) => (Kind::CountDistinct, a.clone()),
                    ("sum", [a]) => (Kind::Sum, a.clone()),
                    ("avg", [a]) => (Kind::Avg, a.clone()),
                    ("min", [a]) => (Kind::Min, a.clone()),
                    ("max", [a]) => (Kind::Max, a.clone()),
                    ("stddev", [a]) => (Kind::Stddev, a.clone()),
                    ("earliest", [a]) => (Kind::Earliest, a.clone()),
                    ("latest", [a]) => (Kind::Latest, a.clone()),
                    ("median", [a]) => (Kind::Pct(50.0), a.clone()),
                    ("pct" | "percentile", [a, Expr::Num(p)]) if (0.0..=100.0).contains(p) => {
                        (Kind::Pct(*p), a.clone())
                    }
                    ("pct" | "percentile", [_, _]) => {
                        return Err(bad(
                            "needs a percentile between 0 and 100 as its second argument",
                        ))
                    }
                    ("pct" | "percentile", _) => {
                        return Err(bad("takes a field and a percentile: pct(latency_ms, 95)"))
                    }
                    _ => return Err(bad("takes one argument")),
                };
                if matches!(arg, Expr::Star) {
                    return Err(bad("takes a field, not `*`"));
                }
                let arg = self.compile(&arg)?;
                let hidden = format!("#agg{}", self.hidden);
                self.hidden += 1;
                let slot = self.schema.slot(&hidden);
                out.push((kind, arg, slot));
                Expr::Field(hidden)
            }
            Expr::Call { name, args, offset } => Expr::Call {
                name: name.clone(),
                args: args
                    .iter()
                    .map(|a| self.lift(a, out))
                    .collect::<Result<_>>()?,
                offset: *offset,
            },
            Expr::Not(a) => Expr::Not(Box::new(self.lift(a, out)?)),
            Expr::Neg(a) => Expr::Neg(Box::new(self.lift(a, out)?)),
            Expr::Binary(op, a, b) => Expr::Binary(
                *op,
                Box::new(self.lift(a, out)?),
                Box::new(self.lift(b, out)?),
            ),
            _ => e.clone(),
        })
    }

    fn row_stage(&mut self, cmd: &Command) -> Result<Option<RowStage>> {
        Ok(Some(match cmd {
            Command::Filter(e) => RowStage::Filter(self.compile(e)?),
            Command::Fields(named) | Command::Display(named) => {
                let assigns = self.assign(named)?;
                if assigns.is_empty() {
                    return Ok(None);
                }
                RowStage::Assign(assigns)
            }
            Command::Parse { field, pattern } => {
                let src = self.compile(field)?;
                match pattern {
                    ParsePattern::Glob { pieces, names } => RowStage::ParseGlob {
                        src,
                        pieces: pieces.clone(),
                        slots: names
                            .iter()
                            .map(|n| {
                                self.schema.computed(n);
                                self.schema.slot(n)
                            })
                            .collect(),
                    },
                    ParsePattern::Regex(r) => {
                        let re = regex(r)?;
                        let slots: Vec<(usize, usize)> = re
                            .capture_names()
                            .enumerate()
                            .filter_map(|(i, n)| n.map(|n| (i, self.schema.slot(n))))
                            .collect();
                        if slots.is_empty() {
                            return Err(Error::Invalid {
                                message: format!("the regular expression /{r}/ has no named group `(?<name>...)` to extract"),
                                position: Position::of(self.query, 0),
                            });
                        }
                        RowStage::ParseRegex { src, re, slots }
                    }
                }
            }
            Command::Unnest { field, into } => {
                let src = self.compile(field)?;
                self.schema.computed(into);
                RowStage::Unnest {
                    src,
                    slot: self.schema.slot(into),
                }
            }
            _ => return Ok(None),
        }))
    }
}

/// Plans `query` (its text is `text`).
pub(crate) fn plan(query: &Query, text: &str) -> Result<Plan> {
    let mut p = Planner {
        query: text,
        schema: Schema::default(),
        hidden: 0,
    };
    let mut streaming = Vec::new();
    let mut table = Vec::new();
    let mut blocked = false;
    let mut columns: Option<Vec<usize>> = None;
    let mut stats_columns: Option<Vec<usize>> = None;
    let mut has_stats = false;
    let mut has_sort = false;
    for cmd in &query.commands {
        match cmd {
            Command::Stats { aggregates, by } => {
                has_stats = true;
                blocked = true;
                let mut lifted = Vec::new();
                let mut outputs = Vec::new();
                let mut out_slots = Vec::new();
                for n in aggregates {
                    let e = p.lift(&n.expr, &mut lifted)?;
                    let e = p.compile(&e)?;
                    let slot = p.schema.slot(&n.name);
                    out_slots.push(slot);
                    outputs.push((slot, e));
                }
                if lifted.is_empty() {
                    return Err(Error::Invalid {
                        message: "`stats` needs at least one aggregation such as count(*)".into(),
                        position: Position::of(text, 0),
                    });
                }
                let mut by_slots = Vec::new();
                let mut by_exprs = Vec::new();
                for n in by {
                    let e = p.compile(&n.expr)?;
                    let slot = p.schema.slot(&n.name);
                    by_slots.push(slot);
                    by_exprs.push((slot, e));
                }
                let timestamp = lifted
                    .iter()
                    .any(|(k, _, _)| matches!(k, Kind::Earliest | Kind::Latest))
                    .then(|| p.schema.slot("@timestamp"));
                table.push(TableStage::Stats(StatsPlan {
                    aggregate_slots: lifted.iter().map(|l| l.2).collect(),
                    aggregates: lifted.into_iter().map(|(k, e, _)| (k, e)).collect(),
                    by: by_exprs,
                    outputs,
                    timestamp,
                }));
                // After stats, its columns are computed values, not fields of the lines.
                for slot in by_slots.iter().chain(&out_slots) {
                    let name = p.schema.names[*slot].clone();
                    p.schema.computed(&name);
                }
                by_slots.extend(out_slots);
                stats_columns = Some(by_slots.clone());
                columns = Some(by_slots);
            }
            Command::Sort(keys) => {
                has_sort = true;
                blocked = true;
                let keys = keys
                    .iter()
                    .map(|k| Ok((p.compile(&k.expr)?, k.descending)))
                    .collect::<Result<_>>()?;
                table.push(TableStage::Sort(keys));
            }
            Command::Limit(n) => {
                blocked = true;
                table.push(TableStage::Limit(*n));
            }
            Command::Dedup(exprs) => {
                blocked = true;
                let exprs = exprs.iter().map(|e| p.compile(e)).collect::<Result<_>>()?;
                table.push(TableStage::Dedup(exprs));
            }
            other => {
                if let Command::Fields(named) | Command::Display(named) = other {
                    let slots: Vec<usize> = named.iter().map(|n| p.schema.slot(&n.name)).collect();
                    columns = Some(match (&stats_columns, other) {
                        (Some(base), Command::Fields(_)) => {
                            let mut c = base.clone();
                            c.extend(slots.into_iter().filter(|s| !base.contains(s)));
                            c
                        }
                        _ => slots,
                    });
                }
                if let Some(stage) = p.row_stage(other)? {
                    if blocked {
                        table.push(TableStage::Row(stage));
                    } else {
                        streaming.push(stage);
                    }
                }
            }
        }
    }
    let default_sort = !has_stats && !has_sort;
    let columns = match columns {
        Some(c) => c,
        None => vec![p.schema.slot("@timestamp"), p.schema.slot("@message")],
    };
    if default_sort {
        p.schema.slot("@timestamp");
    }
    let mut system = System {
        timestamp: p.schema.get("@timestamp"),
        message: p.schema.get("@message"),
        log: p.schema.get("@log"),
        log_stream: p.schema.get("@logStream"),
        ingestion_time: p.schema.get("@ingestionTime"),
    };
    if system.ingestion_time.is_some() && system.timestamp.is_none() {
        system.timestamp = Some(p.schema.slot("@timestamp"));
    }
    let wanted: Vec<(&str, usize)> = p
        .schema
        .names
        .iter()
        .enumerate()
        .filter(|(i, n)| p.schema.is_source(*i) && !n.starts_with('@') && !n.starts_with('#'))
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let extractor = Extractor::new(wanted, system.timestamp.map(|slot| ("timestamp", slot)));
    let first_filter = match streaming.first() {
        Some(RowStage::Filter(e)) => Some(e),
        _ => None,
    };
    let prefilter = crate::prefilter::Prefilter::new(first_filter, &p.schema);
    Ok(Plan {
        prefilter,
        schema: p.schema,
        extractor,
        streaming,
        table,
        columns,
        default_sort,
        system,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(query: &str) -> Vec<String> {
        let p = plan(&crate::parser::parse(query).unwrap(), query).unwrap();
        (0..p.schema.len())
            .filter(|i| p.schema.is_source(*i) && !p.schema.names[*i].starts_with('#'))
            .map(|i| p.schema.names[i].clone())
            .collect()
    }

    #[test]
    fn only_fields_read_from_the_lines_are_extracted() {
        assert_eq!(sources("stats count(*) as n"), Vec::<String>::new());
        assert_eq!(
            sources("stats count(*) as n | filter n > 1"),
            Vec::<String>::new()
        );
        assert_eq!(
            sources("filter x > 1 | fields x * 2 as y, z | stats sum(y) as total by bin(1m), f | sort total desc"),
            ["x", "z", "f"]
        );
        assert_eq!(
            sources("parse @message 'a=*' as a | filter a = '1'"),
            ["@message"]
        );
    }
}
