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
//! `@log` and `@logStream` from [`Options`] (`@logStream` defaults to the file name).
//! Field names are case-sensitive; command, keyword and function names are not.

#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]

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
