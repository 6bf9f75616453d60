//! Local CloudWatch engines for the logs and metrics an `instrument` service writes:
//!
//! - [`LogsQuery`]: the Logs Insights query language over JSON-lines files or stdin
//!   (`fields`, `display`, `filter`, `stats ... by`, `sort`, `limit`, `parse`, `dedup`, `unnest`,
//!   their functions and operators), streaming and multi-threaded;
//! - [`metrics_sql`]: Metrics Insights (`SELECT AVG(m) FROM "Namespace" WHERE ... GROUP BY ...`)
//!   over the EMF documents in the same stream, with CloudWatch's metric extraction;
//! - [`emf_check`]: what CloudWatch would extract from each EMF document, and every reason it
//!   would drop a metric or reject a document (the rules `instrument-emf`'s encoder enforces);
//! - [`pack`]: saved queries for this library's log contract.
//!
//! ```
//! use instrument_query::{LogsQuery, Value};
//! let lines = r#"{"timestamp":"2026-12-04T10:00:00.000Z","level":"ERROR","function":"pay","error_type":"Declined"}"#;
//! let table = LogsQuery::new("filter level = 'ERROR' | stats count(*) as errors by function, error_type")
//!     .unwrap()
//!     .run_str(lines)
//!     .unwrap();
//! assert_eq!(table.get(0, "errors"), Some(&Value::Num(1.0)));
//! ```
//!
//! Events and fields: every line is an event. A line that is a JSON object has its keys as
//! fields (nested objects flattened with `.`, arrays by index: `error.message`, `spans.0`);
//! any other line is an event with `@message` only. `@message` is the raw line,
//! `@timestamp` comes from the line's `timestamp` key (RFC 3339, or epoch milliseconds),
//! `@log` and `@logStream` from [`Options`] (`@logStream` defaults to the file name), and
//! `@ingestionTime` is `@timestamp` (nothing ingests the lines locally).
//! Field names are case-sensitive; command, keyword and function names are not.
//!
//! # Where CloudWatch's documentation is silent
//!
//! The engine follows AWS's published query syntax; where that says nothing, it does this:
//!
//! - `sort` without `asc`/`desc` is ascending; values sort in the documented natural order
//!   (non-numbers before numbers, digit runs by length then value), absent values last.
//! - Without `stats` and `sort`, rows come newest `@timestamp` first (ties in input order);
//!   `stats` groups come in order of first appearance. At most [`MAX_ROWS`] rows.
//! - Absent fields: comparisons and arithmetic with an absent operand are absent, `and`/`or`
//!   are three-valued, `filter` keeps rows whose condition is true. Division by zero is absent.
//!   JSON `true`/`false` equal `1`/`0` and `"true"`/`"false"`; in arithmetic they are `1`/`0`.
//! - Columns: the last `display`, else the last `fields` (after `stats`: the stats columns plus
//!   the new ones), else the `stats` columns (groups first), else `@timestamp`, `@message`.
//! - `dedup` never treats rows with an absent dedup field as duplicates.
//! - `unnest` works on any field holding a JSON array (e.g. `spans`), not only on `jsonParse`
//!   results; `name.key` reads inside a computed JSON value (`jsonParse(@message) as j | fields j.a`).
//! - `pct` is exact (nearest rank) up to 10,000 values per group, then a sketch with at most
//!   0.5 % relative error (CloudWatch's is approximate too); `count_distinct` is exact;
//!   `stddev` is the sample standard deviation.
//! - Not emulated: the 200-field limit on discovered JSON fields, `@ingestionTime` as a
//!   separate clock, and the commands `pattern`, `diff`, `anomaly`, `lookup`, `join`,
//!   `filterIndex`, `unmask`, `SOURCE`.

#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod aggregate;
pub mod ast;
pub mod emf;
pub mod emf_check;
mod engine;
mod error;
mod eval;
mod extract;
mod functions;
mod input;
mod lexer;
mod logs;
pub mod metrics_sql;
pub mod output;
pub mod pack;
mod parser;
mod plan;
mod prefilter;
mod stats;
mod table;
pub mod time;
mod value;

pub use error::{Error, Position, Result};
pub use input::Input;
pub use logs::{LogsQuery, Options};
pub use parser::parse;
pub use plan::MAX_ROWS;
pub use table::Table;
pub use value::Value;
