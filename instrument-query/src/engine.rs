//! Runs a planned Logs Insights query over lines: chunks of input are processed by worker
//! threads (each with its own aggregation state, merged at the end), so memory is bounded by
//! the number of groups for `stats` queries and by the row limit for `sort`/`limit` queries.

use std::collections::HashSet;
use std::sync::Arc;

use crate::plan::{Plan, RowStage, SortKeys, TableStage, MAX_ROWS};
use crate::stats::Aggregator;
use crate::value::Value;

/// A row in flight: its input position (for stable ordering) and its slots.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) seq: u64,
    pub(crate) values: Vec<Value>,
}

/// Runs row stages from `at` on `row`, calling `emit` for each row that comes out.
pub(crate) fn run_stages(
    stages: &[RowStage],
    row: &mut Vec<Value>,
    emit: &mut dyn FnMut(&[Value]),
) {
    let Some((stage, rest)) = stages.split_first() else {
        emit(row);
        return;
    };
    match stage {
        RowStage::Filter(e) => {
            if e.test(row) {
                run_stages(rest, row, emit);
            }
        }
        RowStage::Assign(assigns) => {
            for (slot, e) in assigns {
                let v = e.eval(row).into_owned();
                row[*slot] = v;
            }
            run_stages(rest, row, emit);
        }
        RowStage::ParseGlob { src, pieces, slots } => {
            let text = src.eval(row).to_text().map(|t| t.into_owned());
            if let Some(caps) = text.as_deref().and_then(|t| glob_match(t, pieces)) {
                for (slot, cap) in slots.iter().zip(caps) {
                    row[*slot] = Value::Str(cap);
                }
            } else {
                for slot in slots {
                    row[*slot] = Value::Null;
                }
            }
            run_stages(rest, row, emit);
        }
        RowStage::ParseRegex { src, re, slots } => {
            let text = src.eval(row).to_text().map(|t| t.into_owned());
            let caps = text.as_deref().and_then(|t| re.captures(t));
            let values: Vec<Value> = slots
                .iter()
                .map(|(group, _)| {
                    caps.as_ref()
                        .and_then(|c| c.get(*group))
                        .map_or(Value::Null, |m| Value::Str(m.as_str().to_owned()))
                })
                .collect();
            for ((_, slot), v) in slots.iter().zip(values) {
                row[*slot] = v;
            }
            run_stages(rest, row, emit);
        }
        RowStage::Unnest { src, slot } => {
            let items = match src.eval(row).as_ref() {
                Value::Json(serde_json::Value::Array(items)) => items.clone(),
                _ => return,
            };
            let saved = row[*slot].clone();
            for item in items {
                row[*slot] = crate::extract::from_json(item);
                run_stages(rest, row, emit);
            }
            row[*slot] = saved;
        }
    }
}

/// Matches a glob (literal pieces around `*`s) against `text`; the captures, or `None`.
/// A leading piece must match at the start only when it is empty; otherwise the glob is found
/// anywhere in the text, as CloudWatch's `parse` does.
pub(crate) fn glob_match(text: &str, pieces: &[String]) -> Option<Vec<String>> {
    let first = &pieces[0];
    let mut at = text.find(first.as_str())? + first.len();
    let mut caps = Vec::with_capacity(pieces.len() - 1);
    for (i, piece) in pieces[1..].iter().enumerate() {
        let last = i == pieces.len() - 2;
        if piece.is_empty() {
            if last {
                caps.push(text[at..].to_owned());
                at = text.len();
            } else {
                caps.push(String::new());
            }
            continue;
        }
        let found = text[at..].find(piece.as_str())?;
        caps.push(text[at..at + found].to_owned());
        at += found + piece.len();
    }
    Some(caps)
}

/// Where streaming rows go: a `stats` aggregator, or a collection (pruned to the best `k` rows
/// when a sort and a limit follow).
#[derive(Debug, Clone)]
pub(crate) enum Sink {
    Stats(Aggregator),
    Collect {
        rows: Vec<Row>,
        keep: Option<(Arc<SortKeys>, usize)>,
    },
}

fn sort_rows(rows: &mut [Row], keys: &SortKeys) {
    rows.sort_by(|a, b| {
        for (e, desc) in keys {
            let (x, y) = (e.eval(&a.values), e.eval(&b.values));
            let mut o = x.sort_cmp(&y);
            if *desc && !x.is_null() && !y.is_null() {
                o = o.reverse();
            }
            if o.is_ne() {
                return o;
            }
        }
        a.seq.cmp(&b.seq)
    });
}

impl Sink {
    /// The sink for `plan`'s first blocking stage.
    pub(crate) fn for_plan(plan: &Plan) -> Sink {
        match plan.table.first() {
            Some(TableStage::Stats(s)) => Sink::Stats(Aggregator::new(Arc::new(s.clone()))),
            first => {
                let keep = match (first, plan.table.get(1)) {
                    (Some(TableStage::Sort(keys)), None) => {
                        Some((Arc::new(keys.clone()), MAX_ROWS))
                    }
                    (Some(TableStage::Sort(keys)), Some(TableStage::Limit(n))) => {
                        Some((Arc::new(keys.clone()), (*n).min(MAX_ROWS)))
                    }
                    (Some(TableStage::Limit(n)), _) if plan.default_sort => {
                        Some((default_keys(plan), (*n).min(MAX_ROWS)))
                    }
                    (None, _) if plan.default_sort => Some((default_keys(plan), MAX_ROWS)),
                    _ => None,
                };
                Sink::Collect {
                    rows: Vec::new(),
                    keep,
                }
            }
        }
    }

    pub(crate) fn push(&mut self, row: &[Value], seq: u64) {
        match self {
            Sink::Stats(agg) => agg.add(row, seq),
            Sink::Collect { rows, keep } => {
                rows.push(Row {
                    seq,
                    values: row.to_vec(),
                });
                if let Some((keys, k)) = keep {
                    if rows.len() >= 2 * *k + 1024 {
                        sort_rows(rows, keys);
                        rows.truncate(*k);
                    }
                }
            }
        }
    }

    pub(crate) fn merge(&mut self, other: Sink) {
        match (self, other) {
            (Sink::Stats(a), Sink::Stats(b)) => a.merge(b),
            (Sink::Collect { rows, keep }, Sink::Collect { rows: more, .. }) => {
                rows.extend(more);
                if let Some((keys, k)) = keep {
                    sort_rows(rows, keys);
                    rows.truncate(*k);
                }
            }
            _ => unreachable!("workers of one plan have the same sink"),
        }
    }
}

fn default_keys(plan: &Plan) -> Arc<SortKeys> {
    let ts = plan
        .system
        .timestamp
        .expect("default sort plans @timestamp");
    Arc::new(vec![(crate::eval::CExpr::Slot(ts), true)])
}

/// Runs the table stages after the sink and returns the final rows.
pub(crate) fn finish(plan: &Plan, sink: Sink) -> Vec<Row> {
    let width = plan.schema.len();
    let (mut rows, skip) = match sink {
        Sink::Stats(agg) => (agg.finish(width), 1),
        Sink::Collect { mut rows, .. } => {
            if plan.default_sort {
                sort_rows(&mut rows, &default_keys(plan));
            } else {
                rows.sort_by_key(|r| r.seq);
            }
            (rows, 0)
        }
    };
    for stage in &plan.table[skip..] {
        rows = match stage {
            TableStage::Row(stage) => {
                let mut out = Vec::new();
                for mut row in rows {
                    let seq = row.seq;
                    run_stages(std::slice::from_ref(stage), &mut row.values, &mut |v| {
                        out.push(Row {
                            seq,
                            values: v.to_vec(),
                        })
                    });
                }
                out
            }
            TableStage::Stats(s) => {
                let mut agg = Aggregator::new(Arc::new(s.clone()));
                for row in &rows {
                    agg.add(&row.values, row.seq);
                }
                agg.finish(width)
            }
            TableStage::Sort(keys) => {
                sort_rows(&mut rows, keys);
                rows
            }
            TableStage::Limit(n) => {
                rows.truncate(*n);
                rows
            }
            TableStage::Dedup(exprs) => {
                // Rows where a dedup field is absent are never duplicates: all are kept.
                let mut seen = HashSet::new();
                rows.retain(|r| {
                    let key: Vec<Value> = exprs
                        .iter()
                        .map(|e| e.eval(&r.values).into_owned())
                        .collect();
                    key.iter().any(Value::is_null) || seen.insert(key)
                });
                rows
            }
        };
    }
    rows.truncate(MAX_ROWS);
    rows
}
