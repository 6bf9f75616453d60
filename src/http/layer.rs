//! The tower layer around an HTTP service: one span per request, its correlation ID, its
//! metrics.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::header::{HeaderName, HeaderValue};
use http::{Extensions, HeaderMap, Request, Response};
use instrument_core::config::{HttpLayerConfig, Settings};
use tower::{Layer, Service};
use tracing::instrument::Instrumented;
use tracing::Instrument;

type RouteFn = dyn Fn(&Extensions) -> Option<String> + Send + Sync;

/// Opens a span per request with its correlation ID, method, route, status code and latency,
/// echoes the correlation ID on the response and records request metrics (see the
/// [module docs](super)).
///
/// ```
/// use instrument::http::RequestLayer;
/// use http::HeaderName;
///
/// let layer = RequestLayer::new()
///     // where the correlation ID may come from, first match wins (this is the default)
///     .correlation_headers([
///         HeaderName::from_static("x-correlation-id"),
///         HeaderName::from_static("x-request-id"),
///         HeaderName::from_static("traceparent"),
///     ])
///     // the route template, e.g. from axum's `MatchedPath`
///     .route(|extensions| extensions.get::<String>().cloned());
/// # let _ = layer;
/// ```
#[derive(Clone)]
pub struct RequestLayer {
    config: Arc<Config>,
}

#[derive(Clone)]
struct Config {
    headers: Vec<HeaderName>,
    response_header: HeaderName,
    route: Option<Arc<RouteFn>>,
}

impl std::fmt::Debug for RequestLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestLayer")
            .field("correlation_headers", &self.config.headers)
            .field("response_header", &self.config.response_header)
            .field("route", &self.config.route.is_some())
            .finish()
    }
}

impl Default for RequestLayer {
    fn default() -> Self {
        RequestLayer::new()
    }
}

/// The `route` of a request no route extractor recognised: never the raw path, which would
/// make a metric dimension per URL.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The longest client-supplied correlation ID taken as is; a longer one is replaced.
const MAX_CORRELATION_ID: usize = 128;

impl RequestLayer {
    /// Correlation ID from `x-correlation-id`, `x-request-id`, then W3C `traceparent` (its
    /// trace ID), else a fresh UUID v4; echoed as `x-correlation-id`; no route extractor.
    /// `INSTRUMENT_CORRELATION_HEADERS` (comma-separated header names) replaces the list: the
    /// installed configuration's HTTP section (what `init`/`install` resolved), else the
    /// environment's, where an invalid value is reported on stderr and ignored
    /// ([`from_env`](Self::from_env) returns it as an error).
    /// [`correlation_headers`](Self::correlation_headers) overrides both.
    pub fn new() -> Self {
        Self::from_env().unwrap_or_else(|err| {
            eprintln!("instrument: {err}; using the default");
            Self::defaults()
        })
    }

    /// Like [`new`](Self::new), with an invalid environment value as an error that names it.
    ///
    /// ```
    /// # fn main() -> Result<(), instrument::ConfigError> {
    /// let layer = instrument::http::RequestLayer::from_env()?;
    /// # let _ = layer; Ok(()) }
    /// ```
    pub fn from_env() -> Result<Self, crate::ConfigError> {
        match crate::builder::installed_config() {
            Some(config) => Ok(Self::from_section(config.http_layer.clone())),
            None => Self::from_lookup(&|name| std::env::var(name).ok()),
        }
    }

    fn from_lookup(var: &dyn Fn(&str) -> Option<String>) -> Result<Self, crate::ConfigError> {
        HttpLayerConfig::resolve(&Settings::default(), var).map(Self::from_section)
    }

    fn defaults() -> Self {
        Self::from_section(HttpLayerConfig::default())
    }

    /// The layer of the configuration's HTTP section (see
    /// [`instrument_core::config::table`]).
    fn from_section(section: HttpLayerConfig) -> Self {
        RequestLayer {
            config: Arc::new(Config {
                // The section's parser accepts only valid header names.
                headers: section
                    .correlation_headers
                    .iter()
                    .filter_map(|name| HeaderName::from_bytes(name.as_bytes()).ok())
                    .collect(),
                response_header: HeaderName::from_static(super::CORRELATION_HEADER),
                route: None,
            }),
        }
    }

    /// The request headers that may carry the correlation ID, first present wins. A header
    /// named `traceparent` is read as W3C Trace Context: its trace ID is the correlation ID.
    pub fn correlation_headers(mut self, headers: impl IntoIterator<Item = HeaderName>) -> Self {
        Arc::make_mut(&mut self.config).headers = headers.into_iter().collect();
        self
    }

    /// The response header that echoes the correlation ID (default `x-correlation-id`).
    pub fn response_header(mut self, header: HeaderName) -> Self {
        Arc::make_mut(&mut self.config).response_header = header;
        self
    }

    /// How to find the matched route template (`/bookings/{id}`) in the request's extensions,
    /// which routers fill in. With axum, apply the layer with `Router::layer` and pass
    /// `|ext| ext.get::<axum::extract::MatchedPath>().map(|p| p.as_str().to_owned())`.
    /// Requests without one get the route [`UNMATCHED_ROUTE`].
    pub fn route(
        mut self,
        route: impl Fn(&Extensions) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        Arc::make_mut(&mut self.config).route = Some(Arc::new(route));
        self
    }
}

impl<S> Layer<S> for RequestLayer {
    type Service = RequestService<S>;

    fn layer(&self, inner: S) -> RequestService<S> {
        RequestService {
            inner,
            config: self.config.clone(),
        }
    }
}

/// An HTTP service wrapped by [`RequestLayer`].
#[derive(Clone)]
pub struct RequestService<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> std::fmt::Debug for RequestService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestService").finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequestService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let correlation_id = correlation_id(&self.config.headers, request.headers())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let route = self
            .config
            .route
            .as_ref()
            .and_then(|route| route(request.extensions()))
            .unwrap_or_else(|| UNMATCHED_ROUTE.to_string());
        let method = request.method().as_str().to_owned();
        // The caller's trace context (`traceparent`, `X-Amzn-Trace-Id`) is the span's parent.
        #[cfg(feature = "otel")]
        let remote = crate::otel::headers::enter_request(request.headers());
        let span = tracing::info_span!(
            "http_request",
            correlation_id = correlation_id.as_str(),
            method = method.as_str(),
            route = route.as_str(),
            status_code = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        #[cfg(feature = "otel")]
        drop(remote);
        let future = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        ResponseFuture {
            inner: future.instrument(span),
            start: Instant::now(),
            done: Some(Done {
                correlation_id,
                method,
                route,
                header: self.config.response_header.clone(),
            }),
        }
    }
}

/// The first usable correlation ID in `headers`, by `names` in order.
fn correlation_id(names: &[HeaderName], headers: &HeaderMap) -> Option<String> {
    names.iter().find_map(|name| {
        let value = headers.get(name)?.to_str().ok()?.trim();
        let id = if name.as_str() == "traceparent" {
            trace_id(value)?
        } else {
            value
        };
        let usable = !id.is_empty()
            && id.len() <= MAX_CORRELATION_ID
            && id.bytes().all(|b| b.is_ascii_graphic());
        usable.then(|| id.to_string())
    })
}

/// The trace ID of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`), if well formed and
/// not all zeros.
fn trace_id(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let valid = hex(version, 2)
        && version != "ff"
        && hex(trace, 32)
        && hex(parent, 16)
        && hex(flags, 2)
        && trace.bytes().any(|b| b != b'0');
    valid.then_some(trace)
}

struct Done {
    correlation_id: String,
    method: String,
    route: String,
    header: HeaderName,
}

pin_project_lite::pin_project! {
    /// The future of a [`RequestService`] call.
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Instrumented<F>,
        start: Instant,
        done: Option<Done>,
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        let mut result = std::task::ready!(this.inner.as_mut().poll(cx));
        let latency_ms = this.start.elapsed().as_secs_f64() * 1000.0;
        let Some(done) = this.done.take() else {
            return Poll::Ready(result);
        };
        let span = this.inner.span();
        let _entered = span.enter();
        match &mut result {
            Ok(response) => {
                let status = response.status().as_u16();
                span.record("status_code", status);
                span.record("latency_ms", latency_ms);
                finished(&done, Some(status), latency_ms);
                if let Ok(value) = HeaderValue::from_str(&done.correlation_id) {
                    response.headers_mut().insert(done.header.clone(), value);
                }
            }
            Err(_) => {
                span.record("latency_ms", latency_ms);
                finished(&done, None, latency_ms);
            }
        }
        Poll::Ready(result)
    }
}

/// The request's completion: one line, and its metrics (`http_request.success`,
/// `.client_error` or `.server_error`, and `.latency`, per `route` and `method`).
fn finished(done: &Done, status: Option<u16>, latency_ms: f64) {
    let (route, method) = (done.route.as_str(), done.method.as_str());
    let ms = "Milliseconds";
    match status {
        Some(s) if s >= 500 => tracing::error!(
            target: "instrument::http",
            status_code = s,
            latency_ms,
            dimension.route = route,
            dimension.method = method,
            counter.http_request.server_error = 1,
            histogram.http_request.latency = latency_ms,
            unit.http_request.latency = ms,
            "request failed"
        ),
        Some(s) if s >= 400 => tracing::warn!(
            target: "instrument::http",
            status_code = s,
            latency_ms,
            dimension.route = route,
            dimension.method = method,
            counter.http_request.client_error = 1,
            histogram.http_request.latency = latency_ms,
            unit.http_request.latency = ms,
            "request rejected"
        ),
        Some(s) => tracing::info!(
            target: "instrument::http",
            status_code = s,
            latency_ms,
            dimension.route = route,
            dimension.method = method,
            counter.http_request.success = 1,
            histogram.http_request.latency = latency_ms,
            unit.http_request.latency = ms,
            "request finished"
        ),
        None => tracing::error!(
            target: "instrument::http",
            latency_ms,
            dimension.route = route,
            dimension.method = method,
            counter.http_request.server_error = 1,
            histogram.http_request.latency = latency_ms,
            unit.http_request.latency = ms,
            "request failed without a response"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADERS_VAR: &str = instrument_core::config::table::CORRELATION_HEADERS.variables[0].name;

    #[test]
    fn traceparent_trace_ids() {
        assert_eq!(
            trace_id("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01",
        ] {
            assert_eq!(trace_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn correlation_headers_from_the_environment() {
        let layer = RequestLayer::from_lookup(&|name| {
            (name == HEADERS_VAR).then(|| "X-Amzn-Trace-Id, traceparent".to_string())
        })
        .unwrap();
        assert_eq!(
            layer.config.headers,
            [
                HeaderName::from_static("x-amzn-trace-id"),
                HeaderName::from_static("traceparent")
            ]
        );
        let err = RequestLayer::from_lookup(&|name| {
            (name == HEADERS_VAR).then(|| "not a header".to_string())
        })
        .unwrap_err();
        assert_eq!(err.origin, crate::Source::Variable(HEADERS_VAR.into()));
        assert_eq!(
            RequestLayer::from_lookup(&|_| None)
                .unwrap()
                .config
                .headers
                .len(),
            3
        );
    }

    #[test]
    fn client_ids_are_bounded() {
        let names = [HeaderName::from_static("x-correlation-id")];
        let mut headers = HeaderMap::new();
        headers.insert("x-correlation-id", HeaderValue::from_static("abc-1"));
        assert_eq!(correlation_id(&names, &headers).as_deref(), Some("abc-1"));
        let long = "a".repeat(MAX_CORRELATION_ID + 1);
        headers.insert("x-correlation-id", HeaderValue::from_str(&long).unwrap());
        assert_eq!(correlation_id(&names, &headers), None);
        headers.insert("x-correlation-id", HeaderValue::from_static("has space"));
        assert_eq!(correlation_id(&names, &headers), None);
    }
}
