//! The OpenTelemetry SDK pipeline: X-Ray-compatible IDs, a batch processor on its own thread,
//! and the OTLP/HTTP (protobuf) exporter.

use instrument_core::config::TracesConfig;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_aws::trace::XrayIdGenerator;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;

use crate::InitError;

/// The tracer provider exporting to `config.endpoint`, and its tracer.
///
/// Every span the trace layer hands over is exported (`AlwaysOn`): sampling is decided before,
/// per span, by the layer (see [`super::sampling`]), so that unsampled spans never reach the
/// SDK. Trace IDs start with the epoch seconds, as X-Ray requires.
pub(crate) fn pipeline(
    config: &TracesConfig,
    service: Option<&str>,
) -> Result<(SdkTracerProvider, SdkTracer), InitError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(config.endpoint.as_str())
        .build()
        .map_err(|err| InitError::Traces(err.to_string()))?;
    let mut resource = Resource::builder();
    if let Some(service) = service {
        resource = resource.with_service_name(service.to_string());
    }
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_id_generator(XrayIdGenerator::default())
        .with_sampler(Sampler::AlwaysOn)
        .with_resource(resource.build())
        .build();
    let tracer = provider.tracer("instrument");
    Ok((provider, tracer))
}
