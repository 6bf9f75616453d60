//! The runtime of [`instrument`](https://github.com/instrument-rs/instrument): the JSON log layer, request and
//! Lambda context, configuration.
//!
//! Most users depend on the `instrument` facade and call `instrument::init()`; this crate is for
//! composing the pieces by hand.
//!
//! # The log line
//!
//! [`JsonLogLayer`] writes one flat JSON object per event, on one line, in one `write` call:
//!
//! ```json
//! {"timestamp":"2026-11-22T11:25:06.123Z","level":"INFO","message":"reserved","target":"booking",
//!  "service":"booking","environment":"prod","correlation_id":"c-1","function_request_id":"8f…",
//!  "xray_trace_id":"Root=1-…","cold_start":true,"function_name":"booking","span":"reserve",
//!  "spans":["Lambda runtime invoke","reserve"],"seats":2,"route":"/book"}
//! ```
//!
//! | key | when |
//! |---|---|
//! | `timestamp` | always; RFC 3339 UTC with milliseconds |
//! | `level` | always; `TRACE` `DEBUG` `INFO` `WARN` `ERROR` |
//! | `message` | always (`""` for an event without one) |
//! | `target` | always; for `log` records, the `log` target |
//! | `location` | opt-in (`INSTRUMENT_LOG_LOCATION=on`); `file:line` |
//! | `service`, `environment` | when configured |
//! | `correlation_id`, `function_request_id`, `xray_trace_id`, `function_arn` | when known: the nearest field of that name (event, then spans inside out); `lambda_runtime`'s `requestId`/`xrayTraceId` |
//! | `cold_start`, `function_name`, `function_version`, `function_memory_size` | inside a Lambda invocation |
//! | `trace_id`, `span_id` | inside a span of a sampled trace, with [`JsonLogLayer::with_trace_ids`] (`instrument`'s feature `otel`): the innermost such span's, the trace ID in X-Ray's form `1-5759e988-bd862e3fe1be46a994272793` ([`context::TraceIds`]) |
//! | `span`, `spans` | inside spans: the innermost span's name; all names root to leaf |
//! | event fields, span fields | flattened; an event field wins over a span field, an inner span over an outer |
//! | `error` | for the first `&dyn Error` field: `{"type","message","chain":[…]}` |
//!
//! A user field named like a fixed key is kept as `field_<name>`; see [`keys`].
#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod callsite;
pub mod config;
pub mod context;
#[doc(hidden)]
pub mod hash;
pub mod lambda;
pub mod redact;
pub mod tracked;

mod log;

pub use log::{buffer, filter, json, keys, timestamp, writer};

pub use config::{Config, ConfigError, LogBuffering, Settings};
pub use filter::LogFilter;
pub use log::JsonLogLayer;
