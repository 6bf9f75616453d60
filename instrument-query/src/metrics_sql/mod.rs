//! Metrics Insights over the EMF documents of a log stream.
//!
//! Every valid EMF document is extracted as CloudWatch does (every metric × every dimension
//! set is a series; see [`crate::emf::extract`]); documents with a problem (see
//! [`crate::emf_check`]; the timestamp window is not applied here, so captured logs work) yield
//! nothing, as in CloudWatch. The query then aggregates the values of the matching series over
//! the whole input (or, with [`MetricsQuery::run_period`], per period as a dashboard graphs
//! it): one row per group, at most 500 series (Metrics Insights' limit).
//! Series without a `GROUP BY` dimension form a group with that value absent. Without
//! `ORDER BY`, groups come in the order they first appear; `ORDER BY` sorts ascending unless
//! `DESC`.

mod parser;

use std::collections::{BTreeMap, HashMap};

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

/// A series' dimension values, one per `GROUP BY` dimension.
type Labels = Vec<Option<String>>;

/// A series' aggregate over the whole input and per period.
type Series = (Acc, BTreeMap<i64, Acc>);

#[derive(Debug, Clone, Copy)]
struct Acc {
    sum: f64,
    count: u64,
    min: f64,
    max: f64,
    first: u64,
}

impl Acc {
    fn new(first: u64) -> Acc {
        Acc {
            sum: 0.0,
            count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            first,
        }
    }

    fn add(&mut self, v: f64) {
        self.sum += v;
        self.count += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

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

    /// Runs the query over the EMF documents in `inputs`: one row per series (group), its value
    /// over the whole input.
    pub fn run(&self, inputs: &[Input]) -> Result<Table> {
        self.run_period(inputs, None)
    }

    /// Runs the query as a dashboard graphs it: with `period_ms`, one row per series and period
    /// (first column `timestamp`, the period's start), series ordered and limited by their value
    /// over the whole input as Metrics Insights does; without, as [`MetricsQuery::run`].
    ///
    /// ```
    /// use instrument_query::{metrics_sql::MetricsQuery, Value};
    /// let doc = |ts: i64, v: f64| format!(r#"{{"_aws":{{"Timestamp":{ts},"CloudWatchMetrics":[{{"Namespace":"N","Dimensions":[[]],"Metrics":[{{"Name":"m"}}]}}]}},"m":{v}}}"#);
    /// let text = [doc(0, 1.0), doc(30_000, 2.0), doc(60_000, 5.0)].join("\n");
    /// let q = MetricsQuery::new("SELECT SUM(m) FROM N").unwrap();
    /// let t = q.run_period(&[instrument_query::Input::bytes("x", text)], Some(60_000)).unwrap();
    /// assert_eq!(t.rows, vec![vec![Value::Time(0), Value::Num(3.0)], vec![Value::Time(60_000), Value::Num(5.0)]]);
    /// ```
    pub fn run_period(&self, inputs: &[Input], period_ms: Option<i64>) -> Result<Table> {
        let s = &self.select;
        let mut groups: HashMap<Labels, Series> = HashMap::new();
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
                    let (total, bins) = groups
                        .entry(key)
                        .or_insert((Acc::new(seen), BTreeMap::new()));
                    let bin = period_ms.map_or(0, |p| point.timestamp_ms.div_euclid(p) * p);
                    let per = bins.entry(bin).or_insert(Acc::new(seen));
                    for v in &point.values {
                        total.add(*v);
                        per.add(*v);
                    }
                }
            }
        })?;
        let mut series: Vec<(Labels, Series)> = groups
            .into_iter()
            .filter(|(_, (a, _))| a.count > 0)
            .collect();
        series.sort_by_key(|(_, (a, _))| a.first);
        if let Some((f, desc)) = s.order_by {
            series.sort_by(|a, b| {
                let o = a.1 .0.get(f).total_cmp(&b.1 .0.get(f));
                if desc {
                    o.reverse()
                } else {
                    o
                }
            });
        }
        series.truncate(s.limit.unwrap_or(MAX_SERIES).min(MAX_SERIES));
        let mut columns = Vec::new();
        if period_ms.is_some() {
            columns.push("timestamp".to_owned());
        }
        columns.extend(s.group_by.iter().cloned());
        columns.push(format!("{}({})", s.function.name(), s.metric));
        let mut rows = Vec::new();
        for (key, (total, bins)) in series {
            let labels: Vec<Value> = key
                .into_iter()
                .map(|k| k.map_or(Value::Null, Value::Str))
                .collect();
            match period_ms {
                None => {
                    let mut row = labels;
                    row.push(Value::Num(total.get(s.function)));
                    rows.push(row);
                }
                Some(_) => {
                    for (bin, acc) in bins {
                        let mut row = vec![Value::Time(bin)];
                        row.extend(labels.iter().cloned());
                        row.push(Value::Num(acc.get(s.function)));
                        rows.push(row);
                    }
                }
            }
        }
        Ok(Table { columns, rows })
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
