//! The Logs Insights engine's entry point: [`LogsQuery`].

use crate::ast::Query;
use crate::engine::{finish, run_stages, Sink};
use crate::error::Result;
use crate::input::{lines, parallel, Chunk, Input};
use crate::plan::{plan, Plan};
use crate::table::Table;
use crate::value::Value;

/// Options that fill the system fields CloudWatch knows from where a line was stored.
///
/// ```
/// use instrument_query::{Input, LogsQuery, Options, Value};
/// let options = Options { log_group: Some("/aws/lambda/booking".into()), ..Options::default() };
/// let t = LogsQuery::new("fields @log, @logStream").unwrap().run(&[Input::bytes("app.log", "x\n")], &options).unwrap();
/// assert_eq!(t.rows[0], vec![Value::Str("/aws/lambda/booking".into()), Value::Str("app.log".into())]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `@log`: the log group (`None`: absent).
    pub log_group: Option<String>,
    /// `@logStream`: the log stream (`None`: the input's file name, or `stdin`).
    pub log_stream: Option<String>,
    /// Worker threads (`None`: one per available core).
    pub threads: Option<usize>,
}

/// A parsed and planned Logs Insights query.
///
/// ```
/// use instrument_query::{Input, LogsQuery, Options, Value};
/// let logs = "{\"timestamp\":\"2026-12-04T10:00:00.000Z\",\"function\":\"pay\",\"latency_ms\":12}\n\
///             {\"timestamp\":\"2026-12-04T10:00:01.000Z\",\"function\":\"pay\",\"latency_ms\":30}\n\
///             not json at all\n";
/// let q = LogsQuery::new("filter ispresent(latency_ms) | stats count(*) as calls, max(latency_ms) by function").unwrap();
/// let table = q.run(&[Input::bytes("app.log", logs)], &Options::default()).unwrap();
/// assert_eq!(table.columns, ["function", "calls", "max(latency_ms)"]);
/// assert_eq!(table.rows, vec![vec![Value::Str("pay".into()), Value::Num(2.0), Value::Num(30.0)]]);
/// ```
#[derive(Debug)]
pub struct LogsQuery {
    text: String,
    query: Query,
    plan: Plan,
}

impl LogsQuery {
    /// Parses and plans `text`.
    pub fn new(text: &str) -> Result<LogsQuery> {
        let query = crate::parser::parse(text)?;
        let plan = plan(&query, text)?;
        Ok(LogsQuery {
            text: text.to_owned(),
            query,
            plan,
        })
    }

    /// The query text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parsed query.
    pub fn ast(&self) -> &Query {
        &self.query
    }

    /// Runs the query over `inputs` (in order, as one stream of events).
    pub fn run(&self, inputs: &[Input], options: &Options) -> Result<Table> {
        let threads = options
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let plan = &self.plan;
        let width = plan.schema.len();
        let log_group = options.log_group.clone().map(Value::Str);
        let states = parallel(
            inputs,
            threads,
            &|| (Sink::for_plan(plan), vec![Value::Null; width]),
            &|(sink, row): &mut (Sink, Vec<Value>), chunk: &Chunk| {
                let stream = Value::Str(
                    options
                        .log_stream
                        .clone()
                        .unwrap_or_else(|| chunk.stream.to_string()),
                );
                for (index, line) in lines(&chunk.data) {
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    if !plan.prefilter.may_match(line) {
                        continue;
                    }
                    let seq = (chunk.id << 32) | index;
                    self.load(line, row, log_group.as_ref(), &stream);
                    run_stages(&plan.streaming, row, &mut |r| sink.push(r, seq));
                }
            },
        )?;
        let mut states = states.into_iter().map(|(s, _)| s);
        let mut sink = states.next().unwrap_or_else(|| Sink::for_plan(plan));
        for other in states {
            sink.merge(other);
        }
        let rows = finish(plan, sink);
        Ok(Table {
            columns: plan
                .columns
                .iter()
                .map(|c| plan.schema.names[*c].clone())
                .collect(),
            rows: rows
                .into_iter()
                .map(|r| plan.columns.iter().map(|c| r.values[*c].clone()).collect())
                .collect(),
        })
    }

    /// Runs the query over text in memory (one stream named `local`).
    ///
    /// ```
    /// let q = instrument_query::LogsQuery::new("stats count(*) as n").unwrap();
    /// let t = q.run_str("{\"a\":1}\nplain\n").unwrap();
    /// assert_eq!(t.rows[0][0], instrument_query::Value::Num(2.0));
    /// ```
    pub fn run_str(&self, text: &str) -> Result<Table> {
        self.run(
            &[Input::bytes("local", text)],
            &Options {
                threads: Some(1),
                ..Options::default()
            },
        )
    }

    fn load(&self, line: &[u8], row: &mut [Value], log: Option<&Value>, stream: &Value) {
        let plan = &self.plan;
        for v in row.iter_mut() {
            if !v.is_null() {
                *v = Value::Null;
            }
        }
        if !plan.extractor.is_empty() {
            plan.extractor.extract(line, row);
        }
        let sys = &plan.system;
        if let Some(m) = sys.message {
            row[m] = Value::Str(String::from_utf8_lossy(line).into_owned());
        }
        if let (Some(slot), Some(ts)) = (sys.ingestion_time, sys.timestamp) {
            row[slot] = row[ts].clone();
        }
        if let (Some(slot), Some(log)) = (sys.log, log) {
            row[slot] = log.clone();
        }
        if let Some(slot) = sys.log_stream {
            row[slot] = stream.clone();
        }
    }
}
