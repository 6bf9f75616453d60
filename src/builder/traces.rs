//! The builder's trace settings and the trace layer it adds (feature `otel`).

use std::sync::Arc;

use instrument_core::config::{table, Config};
use instrument_core::redact::Redactor;
use tracing_core::Subscriber;
use tracing_subscriber::filter::Filtered;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use super::Builder;
use crate::otel::{Sampling, TraceFilter, TraceLayer, Traces, Tracing};
use crate::InitError;

/// The trace layer as the subscriber stack holds it: filtered to what it wants, or to
/// nothing when traces are off.
pub(super) type TraceStack<S> = Filtered<Option<TraceLayer<S>>, TraceFilter, S>;

impl<W> Builder<W>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    /// Whether spans are exported through OpenTelemetry (default on in a build with the
    /// feature `otel`; `INSTRUMENT_TRACES`, `POWERTOOLS_TRACE_DISABLED`).
    ///
    /// ```
    /// let (_subscriber, _guard) = instrument::builder().traces(false).build().unwrap();
    /// ```
    pub fn traces(self, on: bool) -> Self {
        self.setting(&table::TRACES, on)
    }

    /// The share of new traces that are sampled, 0.0 to 1.0 (`INSTRUMENT_TRACE_SAMPLE_RATE`):
    /// decided where a trace starts (a tracked call, HTTP request or Lambda invocation without
    /// a traced parent or a remote decision); spans inside a trace follow it.
    ///
    /// ```
    /// let (_subscriber, _guard) = instrument::builder().trace_sample_rate(0.1).build().unwrap();
    /// ```
    pub fn trace_sample_rate(self, rate: f64) -> Self {
        self.setting(&table::TRACE_SAMPLE_RATE, rate)
    }

    /// The OTLP/HTTP traces endpoint (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`; default `http://localhost:4318/v1/traces`).
    ///
    /// ```
    /// let (_subscriber, _guard) = instrument::builder()
    ///     .trace_endpoint("http://127.0.0.1:4318/v1/traces")
    ///     .build()
    ///     .unwrap();
    /// ```
    pub fn trace_endpoint(self, url: impl Into<String>) -> Self {
        self.setting(&table::TRACE_ENDPOINT, url.into())
    }
}

/// The trace layer of `config`, and what the pipeline keeps of it (`None` when off).
pub(super) fn layer<S>(
    config: &Config,
    redactor: Option<Arc<Redactor>>,
) -> Result<(TraceStack<S>, Option<Tracing>), InitError>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let traces = &config.traces;
    if !traces.enabled {
        return Ok((None.with_filter(TraceFilter::new(false)), None));
    }
    let (provider, tracer) = crate::otel::pipeline(traces, config.service.as_deref())?;
    let sampling = Sampling::new(traces.sample_rate);
    let traces = Arc::new(Traces(provider));
    let layer = TraceLayer::new(tracer, sampling, redactor, traces.clone());
    let tracing = Tracing { sampling, traces };
    Ok((
        Some(layer).with_filter(TraceFilter::new(true)),
        Some(tracing),
    ))
}
