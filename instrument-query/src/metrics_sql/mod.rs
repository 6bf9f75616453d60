//! Metrics Insights over the EMF documents of a log stream.
//!
//! Every valid EMF document is extracted as CloudWatch does (every metric × every dimension
//! set is a series; see [`crate::emf::extract`]); documents with a problem (see
//! [`crate::emf_check`]; the timestamp window is not applied here, so captured logs work) yield
//! nothing, as in CloudWatch. The query then aggregates the values of the matching series over
//! the whole input: one row per group, at most 500 rows (Metrics Insights' series limit).
//! Series without a `GROUP BY` dimension form a group with that value absent. Without
//! `ORDER BY`, groups come in the order they first appear; `ORDER BY` sorts ascending unless
//! `DESC`.

mod parser;

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

pub use parser::{parse, Condition, Function, Select};

use crate::emf::{extract, is_candidate};
use crate::emf_check::{check_document, CheckOptions};
use crate::error::Result;
use crate::input::{lines, read_chunks, Input};
use crate::table::Table;
use crate::value::Value;

/// The most rows (series) a Metrics Insights query returns.
pub const MAX_SERIES: usize = 500;

#[derive(Debug, Clone, Copy)]
struct Acc {
    sum: f64,
    count: u64,
    min: f64,
    max: f64,
    first: u64,
}

impl Acc {
    fn get(&self, f: Function) -> f64 {
        match f {
            Function::Avg => self.sum / self.count as f64,
            Function::Count => self.count as f64,
            Function::Max => self.max,
            Function::Min => self.min,
            Function::Sum => self.sum,
        }
    }
}

fn like(value: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split(['*', '%']).collect();
    if parts.len() == 1 {
        return value == pattern;
    }
    let mut rest = value;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else {
                return false;
            };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

fn matches(c: &Condition, dims: &[(String, String)]) -> bool {
    let get = |k: &str| dims.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    match c {
        Condition::Eq {
            key,
            value,
            negated,
        } => (get(key) == Some(value.as_str())) != *negated,
        Condition::Like {
            key,
            pattern,
            negated,
        } => get(key).is_some_and(|v| like(v, pattern)) != *negated,
        Condition::In {
            key,
            values,
            negated,
        } => get(key).is_some_and(|v| values.iter().any(|x| x == v)) != *negated,
        Condition::And(a, b) => matches(a, dims) && matches(b, dims),
        Condition::Or(a, b) => matches(a, dims) || matches(b, dims),
        Condition::Not(a) => !matches(a, dims),
    }
}

/// A parsed Metrics Insights query.
///
/// ```
/// use instrument_query::{metrics_sql::MetricsQuery, Value};
/// let now = 1_796_000_000_000i64;
/// let doc = format!(r#"{{"_aws":{{"Timestamp":{now},"CloudWatchMetrics":[{{"Namespace":"Shop","Dimensions":[["service"]],"Metrics":[{{"Name":"latency","Unit":"Milliseconds"}}]}}]}},"service":"api","latency":[10,30]}}"#);
/// let t = MetricsQuery::new(r#"SELECT AVG(latency) FROM "Shop" GROUP BY service"#).unwrap().run_str(&doc).unwrap();
/// assert_eq!(t.columns, ["service", "AVG(latency)"]);
/// assert_eq!(t.rows, vec![vec![Value::Str("api".into()), Value::Num(20.0)]]);
/// ```
#[derive(Debug, Clone)]
pub struct MetricsQuery {
    select: Select,
}

impl MetricsQuery {
    /// Parses `sql`.
    pub fn new(sql: &str) -> Result<MetricsQuery> {
        Ok(MetricsQuery {
            select: parse(sql)?,
        })
    }

    /// The parsed query.
    pub fn select(&self) -> &Select {
        &self.select
    }

    /// Runs the query over the EMF documents in `inputs`.
    pub fn run(&self, inputs: &[Input]) -> Result<Table> {
        let s = &self.select;
        let mut groups: HashMap<Vec<Option<String>>, Acc> = HashMap::new();
        let mut seen = 0u64;
        // Checked against the document's own timestamp: the window does not apply here.
        read_chunks(inputs, &mut |chunk| {
            for (_, line) in lines(&chunk.data) {
                if !is_candidate(line) {
                    continue;
                }
                let Ok(root) = serde_json::from_slice::<Map<String, Json>>(line) else {
                    continue;
                };
                let ts = root
                    .get("_aws")
                    .and_then(|a| a.get("Timestamp"))
                    .and_then(Json::as_i64);
                if !check_document(
                    line,
                    &CheckOptions {
                        now_ms: Some(ts.unwrap_or(0)),
                    },
                )
                .is_empty()
                {
                    continue;
                }
                for point in extract(&root) {
                    if point.namespace != s.namespace || point.metric != s.metric {
                        continue;
                    }
                    if let Some(schema) = &s.schema {
                        let exact = schema.len() == point.dimensions.len()
                            && schema
                                .iter()
                                .all(|d| point.dimensions.iter().any(|(n, _)| n == d));
                        if !exact {
                            continue;
                        }
                    }
                    if s.condition
                        .as_ref()
                        .is_some_and(|c| !matches(c, &point.dimensions))
                    {
                        continue;
                    }
                    let key: Vec<Option<String>> = s
                        .group_by
                        .iter()
                        .map(|g| {
                            point
                                .dimensions
                                .iter()
                                .find(|(n, _)| n == g)
                                .map(|(_, v)| v.clone())
                        })
                        .collect();
                    seen += 1;
                    let acc = groups.entry(key).or_insert(Acc {
                        sum: 0.0,
                        count: 0,
                        min: f64::INFINITY,
                        max: f64::NEG_INFINITY,
                        first: seen,
                    });
                    for v in &point.values {
                        acc.sum += v;
                        acc.count += 1;
                        acc.min = acc.min.min(*v);
                        acc.max = acc.max.max(*v);
                    }
                }
            }
        })?;
        let mut rows: Vec<(Vec<Option<String>>, Acc)> =
            groups.into_iter().filter(|(_, a)| a.count > 0).collect();
        rows.sort_by_key(|(_, a)| a.first);
        if let Some((f, desc)) = s.order_by {
            rows.sort_by(|a, b| {
                let o = a.1.get(f).total_cmp(&b.1.get(f));
                if desc {
                    o.reverse()
                } else {
                    o
                }
            });
        }
        rows.truncate(s.limit.unwrap_or(MAX_SERIES).min(MAX_SERIES));
        let mut columns = s.group_by.clone();
        columns.push(format!("{}({})", s.function.name(), s.metric));
        Ok(Table {
            columns,
            rows: rows
                .into_iter()
                .map(|(key, acc)| {
                    let mut row: Vec<Value> = key
                        .into_iter()
                        .map(|k| k.map_or(Value::Null, Value::Str))
                        .collect();
                    row.push(Value::Num(acc.get(s.function)));
                    row
                })
                .collect(),
        })
    }

    /// Runs the query over text in memory.
    pub fn run_str(&self, text: &str) -> Result<Table> {
        self.run(&[Input::bytes("local", text)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        assert!(like("/bookings/{id}", "/bookings*"));
        assert!(like("/bookings", "%ings"));
        assert!(like("abc", "a*c"));
        assert!(!like("abd", "a*c"));
        assert!(like("x", "x"));
    }

    #[test]
    fn conditions() {
        let dims = vec![
            ("route".to_string(), "/a".to_string()),
            ("method".to_string(), "GET".to_string()),
        ];
        let q = parse("SELECT SUM(m) FROM n WHERE route = '/a' AND (method IN ('POST', 'GET') OR route != '/a') AND NOT route LIKE '/b*'").unwrap();
        assert!(matches(q.condition.as_ref().unwrap(), &dims));
        let q = parse("SELECT SUM(m) FROM n WHERE method NOT IN ('GET')").unwrap();
        assert!(!matches(q.condition.as_ref().unwrap(), &dims));
    }
}
