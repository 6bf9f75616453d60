//! Traces (cargo feature `otel`): spans of tracked calls, HTTP requests and Lambda
//! invocations exported through OpenTelemetry, with X-Ray-compatible IDs, so that they land in
//! AWS X-Ray (through the ADOT collector or its Lambda layer) and in any OTLP backend alike.
//!
//! Nothing to call: with the feature built in, `init()` exports to the OTLP/HTTP (protobuf)
//! endpoint of `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT` when one is
//! set, or to `http://localhost:4318/v1/traces` (where the ADOT collector and its Lambda layer
//! listen) with `INSTRUMENT_TRACES=on`. `INSTRUMENT_TRACES=off` (or Powertools'
//! `POWERTOOLS_TRACE_DISABLED=true`) turns them off. `instrument::testing::Capture` has traces
//! off unless its configuration turns them on.
//!
//! * **Sampling** is decided once per trace, where it starts. Inside a sampled span every span
//!   is sampled, inside an unsampled one none (parent-based). A trace starts at a tracked call,
//!   an HTTP request or a Lambda invocation with no traced span around it: its remote parent
//!   decides (the invocation's X-Ray header `Sampled=1`/`0`, a request's `traceparent` or
//!   `X-Amzn-Trace-Id`), else `INSTRUMENT_TRACE_SAMPLE_RATE` (`OTEL_TRACES_SAMPLER_ARG`, default
//!   `0.05`). Other spans outside any trace are not exported.
//! * **Unsampled tracked calls keep the deferred fast path** (no span opened, metrics recorded
//!   directly); sampled ones open their span at once and it is exported when it closes.
//! * **Lambda**: the invocation's span is parented on the invocation's own X-Ray header (from
//!   its context, never the process-global `_X_AMZN_TRACE_ID`), so concurrent invocations keep
//!   their own parents. The spans are flushed at the end of each invocation.
//! * **HTTP**: the request's `traceparent` or `X-Amzn-Trace-Id` is the parent;
//!   [`CorrelationHeaders::insert_correlation_id`](crate::http::CorrelationHeaders::insert_correlation_id)
//!   also sets `traceparent` and `X-Amzn-Trace-Id` on outgoing requests: inside a sampled
//!   trace with the current span as the parent; inside an unsampled one with the sampled flag
//!   off (`-00`, `Sampled=0`), in the caller's trace (or one drawn for the request), so the next
//!   service does not sample a trace this one did not. Lambda invocations do the same.
//! * **Annotations**: span fields `annotation.<k>` become X-Ray annotations (indexed), fields
//!   `metadata.<k>` metadata (the attribute `aws.xray.annotations` lists the annotation keys,
//!   the convention of the collector's X-Ray exporter); other span fields are attributes. Every
//!   attribute is redacted as log lines are.
//! * **Errors**: a failed or panicking tracked call sets the span's status to error; an error
//!   logged inside a sampled span (a tracked call's completion line, `error!(error = …)`) adds an
//!   `exception` event with the *redacted* message.
//! * **Logs**: every line inside a sampled span carries its `trace_id` (X-Ray's form,
//!   `1-5759e988-bd862e3fe1be46a994272793`) and `span_id`, so Logs Insights joins lines to traces.
//!
//! ```
//! #[instrument::track_performance]
//! fn reserve(seats: u32) -> u32 {
//!     tracing::info!("reserving");
//!     seats
//! }
//!
//! let (dispatch, guard) = instrument::builder()
//!     .trace_sample_rate(1.0)
//!     .trace_endpoint("http://127.0.0.1:9/v1/traces") // nothing listens: export fails quietly
//!     .build_dispatch()
//!     .unwrap();
//! tracing::dispatcher::with_default(&dispatch, || reserve(2));
//! guard.flush();
//! ```

mod annotations;
mod export;
mod layer;
mod propagation;
mod sampling;

pub(crate) use export::pipeline;
pub(crate) use layer::{Sampling, TraceFilter, TraceLayer};
#[cfg(feature = "lambda")]
pub(crate) use propagation::enter_invocation;
#[cfg(feature = "http")]
pub(crate) use propagation::headers;
pub(crate) use sampling::{preset, Traced};

/// What a pipeline that exports traces keeps: how tracked calls decide at their start, and
/// the provider (flushed with the guard and at the end of Lambda invocations).
#[derive(Clone)]
pub(crate) struct Tracing {
    pub(crate) sampling: Sampling,
    pub(crate) traces: std::sync::Arc<Traces>,
}

/// The tracer provider of a pipeline, flushed with its guard.
pub(crate) struct Traces(pub(crate) opentelemetry_sdk::trace::SdkTracerProvider);

impl Traces {
    /// Sends the finished spans now (the end of a Lambda invocation, the guard's flush).
    pub(crate) fn flush(&self) {
        let _ = self.0.force_flush();
    }

    /// Sends what is left and stops the batch thread.
    pub(crate) fn shutdown(&self) {
        let _ = self.0.shutdown();
    }
}

/// Flushes the spans of the current subscriber's trace layer, if it has one: what the Lambda
/// layer does at the end of each invocation.
#[cfg(feature = "lambda")]
pub(crate) fn flush_current() {
    tracing::dispatcher::get_default(|dispatch| {
        if let Some(traces) = dispatch.downcast_ref::<Traces>() {
            traces.flush();
        }
    });
}

/// Whether the current subscriber has a trace layer (which answers `downcast_ref::<Traces>()`):
/// the Lambda and HTTP layers read trace headers only then.
#[cfg_attr(not(any(feature = "lambda", feature = "http")), allow(dead_code))]
pub(crate) fn traces_on() -> bool {
    tracing::dispatcher::get_default(|dispatch| dispatch.downcast_ref::<Traces>().is_some())
}
