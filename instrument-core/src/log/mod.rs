//! The log path: one flat JSON line per event.
//!
//! | module | concern |
//! |---|---|
//! | `layer` | [`JsonLogLayer`]: events and spans in, lines out |
//! | `line` | formatting one event as one line |
//! | `fields` | span and event fields: what each becomes in a line (context keys, flattened fields) |
//! | `field_info` | what a field name means to the line, decided once per name |
//! | `value` | writing one field value, with PII redaction applied |
//! | `keys` | the line's fixed keys, and where a user field named like one goes |
//! | `json` | the JSON writer |
//! | `timestamp` | RFC 3339 timestamps |
//! | `filter` | the log level filter |
//! | `buffer` | per-invocation buffering of verbose lines |
//! | `writer` | writing lines, counting what could not be written |

pub mod buffer;
pub mod filter;
pub mod json;
pub mod keys;
pub mod timestamp;
pub mod writer;

pub(crate) mod field_info;
mod fields;
mod layer;
mod line;
mod value;

pub(crate) use fields::SpanFields;
pub use layer::JsonLogLayer;
