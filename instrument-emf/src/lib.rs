//! CloudWatch Embedded Metric Format layer of [`instrument`](https://github.com/instrument-rs/instrument).
//!
//! [`EmfLayer`] turns span and event fields into CloudWatch metrics, aggregates them, and writes
//! EMF documents that are valid by construction.
//!
//! # Conventions
//!
//! * A `#[track_performance]` span (a span with `function`, `outcome` and `latency_ms` fields)
//!   yields per call `<function>.success` or `<function>.error` (Count 1; `error` also per
//!   `error_type` dimension, which is published with and without it), and `<function>.latency`
//!   (Milliseconds). A panic counts as an error; a cancelled call as `<function>.cancelled`,
//!   without latency.
//! * `counter.<metric>` (and `monotonic_counter.<metric>`) fields are summed,
//!   `histogram.<metric>` fields keep every value, `gauge.<metric>` keeps the last value.
//!   The unit is `unit.<metric> = "Bytes"`, else the name's suffix (`_ms`, `_us`, `_s`,
//!   `_bytes`, `_pct`, `_count`), else `Count` for counters and `None` otherwise.
//!   `resolution.<metric> = 1` makes a high-resolution metric.
//! * `dimension.<name>` fields on a span become dimensions of every metric recorded inside it
//!   (children inherit; an inner span's value wins). Dimensions given to the builder (`service`,
//!   `environment`) apply to all.
//! * Inside a Lambda invocation (`lambda_runtime`'s span, or a span with `function_request_id`),
//!   `function_request_id` and `xray_trace_id` are written as root properties, so Insights can
//!   join metrics to requests; the invocation's metrics are flushed when it ends, and the cold
//!   one counts `ColdStart`.
//!
//! Invalid input is repaired or dropped, counted per [`DropReason`], reported as the
//! `instrument.dropped` metric and a rate-limited warning — never an invalid document.
//!
//! # Destinations
//!
//! A flush hands its aggregates to an [`Exporter`]: [`EmfExporter`] encodes EMF documents for a
//! [`Sink`] (stdout, a writer, the CloudWatch agent: what [`EmfLayer::builder`] sets up), and,
//! with the cargo feature `cloudwatch-api`, `cloudwatch::CloudwatchExporter` sends them to the
//! CloudWatch API with PutMetricData ([`EmfLayer::with_exporter`]).
#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod agent;
mod aggregator;
mod checked;
mod dropped;
mod encoder;
mod export;
mod fields;
mod layer;
mod limits;
mod sink;
mod unit;
pub mod validate;

#[cfg(feature = "cloudwatch-api")]
pub mod cloudwatch;

pub use agent::{AgentError, AgentOptions, AgentSink, AgentStats};
pub use checked::{CheckedGroup, CheckedMetric};
pub use dropped::{DropReason, Dropped};
pub use encoder::{
    Encoder, Group, Metric, MAX_DIMENSIONS, MAX_DIMENSION_NAME, MAX_DIMENSION_VALUE,
    MAX_DOCUMENT_BYTES, MAX_MAGNITUDE, MAX_METRICS, MAX_METRIC_NAME, MAX_VALUES,
};
pub use export::{EmfExporter, Exporter};
pub use layer::{
    EmfHandle, EmfLayer, EmfLayerBuilder, IntervalFlush, MetricsFilter, RuntimeCounter,
    RuntimeValues,
};
pub use sink::{FnSink, MakeWriterSink, MemorySink, Sink, StdoutSink, WriterSink};
pub use unit::Unit;
