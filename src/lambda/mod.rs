//! The AWS Lambda integration (cargo feature `lambda`): a tower layer around your
//! [`lambda_runtime`] handler.
//!
//! ```no_run
//! use lambda_runtime::{service_fn, Error, LambdaEvent};
//! use serde_json::{json, Value};
//!
//! async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
//!     tracing::info!(counter.orders = 1, "order received");
//!     Ok(json!({ "ok": true }))
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Error> {
//!     let _guard = instrument::init();
//!     lambda_runtime::run(instrument::lambda::service(service_fn(handler))).await
//! }
//! ```
//!
//! Or as a layer among others: `tower::ServiceBuilder::new().layer(InvocationLayer::new())`,
//! and with `lambda_runtime::run_concurrent` for Lambda's concurrent mode.
//!
//! Per invocation, [`InvocationLayer`]:
//!
//! * opens a `lambda_invocation` span with `function_request_id`, `function_arn`,
//!   `xray_trace_id` (from the invocation's context — never from the process-global
//!   `_X_AMZN_TRACE_ID`, which concurrent invocations would overwrite) and `correlation_id`.
//!   Every log line inside carries them, with `cold_start`, `function_name`,
//!   `function_version` and `function_memory_size`; the EMF documents carry the request and
//!   trace IDs. The first invocation of an `on-demand` environment is the cold one (never for
//!   `provisioned-concurrency` or `snap-start`), and counts the `ColdStart` metric.
//! * takes the correlation ID from the event, by [`CorrelationPath`]s tried in order (by
//!   default a caller's `x-correlation-id` header, then API Gateway REST and HTTP, function
//!   URLs, ALB, EventBridge, SQS), else a fresh UUID v4. [`crate::correlation_id`] reads it.
//! * logs a failed invocation's error as an `ERROR` line (`handler_error`) when
//!   `lambda_runtime` does not (a `Runtime` built without its tracing layer; inside
//!   `lambda_runtime::run` the runtime logs it, once);
//! * ends each invocation with one `INFO` line, `"the invocation ended"`, with its `outcome`,
//!   `duration_ms` and the process's peak memory `max_memory_used_mb` (`VmHWM`, what Lambda's
//!   REPORT line calls Max Memory Used; also a gauge of the invocation's EMF document with
//!   [`InvocationLayer::memory_metric`] or `INSTRUMENT_LAMBDA_MEMORY_METRIC=on`);
//! * keeps what the handler appends with [`append_keys!`](crate::append_keys) on every later
//!   line of the invocation, `lambda_runtime`'s own failure line included, whose
//!   `correlation_id` and `function_arn` the layer appends too;
//! * flushes the invocation's metrics when it ends, and — if it is still running
//!   [`flush_margin`](InvocationLayer::flush_margin) before its deadline — logs an `ERROR`
//!   line and flushes what it recorded so far, so an invocation that times out still reports.
//!
//! Everything per invocation lives in its span, so overlapping invocations in one process
//! (`AWS_LAMBDA_MAX_CONCURRENCY` > 1) never see each other's context.
//!
//! ## Log sampling and buffering
//!
//! `INSTRUMENT_LOG_SAMPLE_RATE=0.1` makes 10% of the invocations log at `DEBUG`.
//! `INSTRUMENT_LOG_BUFFER=on` keeps each invocation's lines below the log level (down to
//! `INSTRUMENT_LOG_BUFFER_LEVEL`, `debug` by default: under `warn`, its `INFO` and `DEBUG` lines)
//! in a buffer
//! (`INSTRUMENT_LOG_BUFFER_MAX_BYTES`, default 20 KiB, oldest evicted with a warning) and writes
//! them only if the invocation logs an error, returns an error, panics or is about to time
//! out. Nothing is buffered outside invocations. See
//! [`instrument_core::buffer`] and [`Builder::log_buffer`](crate::Builder::log_buffer).

mod correlation;
mod layer;

pub use correlation::{CorrelationPath, CorrelationPathError};
pub use layer::{InvocationFuture, InvocationLayer, InvocationService};

/// Wraps `handler` with the default [`InvocationLayer`]: the shortest way in.
///
/// ```no_run
/// # use lambda_runtime::{service_fn, Error, LambdaEvent};
/// # async fn handler(event: LambdaEvent<serde_json::Value>) -> Result<(), Error> { Ok(()) }
/// # async fn run() -> Result<(), Error> {
/// lambda_runtime::run(instrument::lambda::service(service_fn(handler))).await
/// # }
/// ```
pub fn service<S>(handler: S) -> InvocationService<S> {
    tower::Layer::layer(&InvocationLayer::new(), handler)
}
