//! Trace context in and out: the Lambda invocation's X-Ray header, HTTP requests' W3C
//! `traceparent` and `X-Amzn-Trace-Id`, and the headers of outgoing calls.

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::{Context as OtelContext, ContextGuard};
use opentelemetry_aws::trace::XrayPropagator;

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
    /// `X-Amzn-Trace-Id`, when it is in a sampled trace; returns whether it did.
    pub(crate) fn inject_current(headers: &mut http::HeaderMap) -> bool {
        let Some(cx) = super::current_sampled() else {
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
    use opentelemetry::trace::TraceContextExt;
    let cx = OtelContext::current();
    let sc = cx.span().span_context().clone();
    (sc.is_valid() && sc.is_sampled() && !sc.is_remote()).then_some(cx)
}
