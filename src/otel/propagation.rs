//! Trace context in and out: the Lambda invocation's X-Ray header, HTTP requests' W3C
//! `traceparent` and `X-Amzn-Trace-Id`, and the headers of outgoing calls.

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TraceId};
use opentelemetry::{Context as OtelContext, ContextGuard};
use opentelemetry_aws::trace::{XrayIdGenerator, XrayPropagator};
use opentelemetry_sdk::trace::IdGenerator;

/// A value in the OpenTelemetry context around the creation of an HTTP request's or Lambda
/// invocation's span: that span is a trace root (sampled by rate when no remote parent
/// decided).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TraceRoot;

/// The X-Ray trace header's name.
pub(crate) const XRAY_HEADER: &str = "x-amzn-trace-id";

/// One header, for a propagator.
struct OneHeader<'a>(&'a str, &'a str);

impl Extractor for OneHeader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        key.eq_ignore_ascii_case(self.0).then_some(self.1)
    }
    fn keys(&self) -> Vec<&str> {
        vec![self.0]
    }
}

/// Makes the next span created on this thread, until the guard drops, a trace root parented
/// on `remote` (an extracted context) when it carries a span context.
fn enter_root(remote: OtelContext) -> ContextGuard {
    remote.with_value(TraceRoot).attach()
}

/// The trace ID an HTTP request's or Lambda invocation's span decided unsampled keeps
/// ([`Unsampled`](super::sampling::Unsampled)): its caller's, else a fresh one in X-Ray's form.
/// `None` when no request or invocation span is being created here.
pub(crate) fn unsampled_root_trace() -> Option<TraceId> {
    OtelContext::map_current(|cx| {
        cx.get::<TraceRoot>()?;
        let remote = cx.span().span_context().trace_id();
        Some(if remote == TraceId::INVALID {
            XrayIdGenerator::default().new_trace_id()
        } else {
            remote
        })
    })
}

/// Around the creation of a Lambda invocation's span: the invocation's X-Ray header (from
/// its context, never the process-global `_X_AMZN_TRACE_ID`) is the parent, and its
/// `Sampled` decides. `None` (nothing read) when the subscriber exports no traces.
#[cfg_attr(not(feature = "lambda"), allow(dead_code))]
pub(crate) fn enter_invocation(xray_header: Option<&str>) -> Option<ContextGuard> {
    if !super::traces_on() {
        return None;
    }
    let remote = match xray_header {
        Some(value) => XrayPropagator::new().extract(&OneHeader(XRAY_HEADER, value)),
        None => OtelContext::new(),
    };
    Some(enter_root(remote))
}

/// The HTTP integration's side: headers in and out.
#[cfg(feature = "http")]
pub(crate) mod headers {
    use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
    use opentelemetry::trace::TraceContextExt;
    use opentelemetry::ContextGuard;
    use opentelemetry_aws::trace::XrayPropagator;
    use opentelemetry_sdk::propagation::TraceContextPropagator;

    struct Headers<'a>(&'a http::HeaderMap);

    impl Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(http::HeaderName::as_str).collect()
        }
    }

    struct HeadersMut<'a>(&'a mut http::HeaderMap);

    impl Injector for HeadersMut<'_> {
        fn set(&mut self, key: &str, value: String) {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(key.as_bytes()),
                http::HeaderValue::from_str(&value),
            ) {
                self.0.insert(name, value);
            }
        }
    }

    /// Around the creation of a request's span: W3C `traceparent` first (a caller that sends
    /// it chose it), else `X-Amzn-Trace-Id` (what ALB and API Gateway add). `None` (nothing
    /// read) when the subscriber exports no traces.
    pub(crate) fn enter_request(headers: &http::HeaderMap) -> Option<ContextGuard> {
        if !crate::otel::traces_on() {
            return None;
        }
        let headers = Headers(headers);
        let w3c = TraceContextPropagator::new().extract(&headers);
        let remote = if w3c.span().span_context().is_valid() {
            w3c
        } else {
            XrayPropagator::new().extract(&headers)
        };
        Some(super::enter_root(remote))
    }

    /// Puts the current span's trace context on outgoing headers, as `traceparent` and
    /// `X-Amzn-Trace-Id`: inside a sampled trace, the current span as the parent; inside an
    /// unsampled one, its trace with the sampled flag off (`-00`, `Sampled=0`), so that the
    /// next service does not sample it either. Returns whether it did (not outside any trace).
    pub(crate) fn inject_current(headers: &mut http::HeaderMap) -> bool {
        let Some(cx) = super::current_sampled().or_else(super::current_unsampled) else {
            return false;
        };
        TraceContextPropagator::new().inject_context(&cx, &mut HeadersMut(headers));
        XrayPropagator::new().inject_context(&cx, &mut HeadersMut(headers));
        true
    }
}

/// The OpenTelemetry context of the current span, when it is in a sampled trace: entering a
/// sampled span makes its context current (until it exits).
#[cfg(feature = "http")]
pub(crate) fn current_sampled() -> Option<OtelContext> {
    let cx = OtelContext::current();
    let sc = cx.span().span_context().clone();
    (sc.is_valid() && sc.is_sampled() && !sc.is_remote()).then_some(cx)
}

/// The context to forward from inside an unsampled trace: the trace ID its request or
/// invocation kept ([`Unsampled`]; a fresh one for a trace that started at a tracked call), a
/// fresh parent span ID, the sampled flag off. `None` outside any unsampled trace.
#[cfg(feature = "http")]
pub(crate) fn current_unsampled() -> Option<OtelContext> {
    use opentelemetry::trace::{SpanContext, TraceFlags, TraceState};
    use tracing_subscriber::registry::LookupSpan;

    use super::sampling::{Traced, Unsampled};

    let trace = tracing::dispatcher::get_default(|dispatch| {
        let id = dispatch.current_span().id()?.clone();
        let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
        let mut unsampled = false;
        for span in registry.span(&id)?.scope() {
            let extensions = span.extensions();
            if let Some(Unsampled(trace)) = extensions.get::<Unsampled>() {
                return Some(*trace);
            }
            match extensions.get::<Traced>() {
                Some(Traced(true)) => return None,
                Some(Traced(false)) => unsampled = true,
                None => {}
            }
        }
        unsampled.then(|| XrayIdGenerator::default().new_trace_id())
    })?;
    let parent = XrayIdGenerator::default().new_span_id();
    let sc = SpanContext::new(
        trace,
        parent,
        TraceFlags::default(),
        true,
        TraceState::default(),
    );
    Some(OtelContext::new().with_remote_span_context(sc))
}
