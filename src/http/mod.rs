//! The HTTP integration (cargo feature `http`): a tower layer for any service on the `http`
//! crate's types — axum, hyper, tonic, tower-http stacks.
//!
//! ```
//! use axum::{extract::MatchedPath, routing::get, Router};
//! use instrument::http::RequestLayer;
//!
//! let app: Router = Router::new()
//!     .route("/bookings/{id}", get(|| async { "booked" }))
//!     .layer(RequestLayer::new().route(|ext| {
//!         ext.get::<MatchedPath>().map(|p| p.as_str().to_owned())
//!     }));
//! # let _ = app;
//! ```
//!
//! Per request, [`RequestLayer`]:
//!
//! * takes the correlation ID from `x-correlation-id`, `x-request-id` or W3C `traceparent`
//!   (its trace ID), configurable, else a fresh UUID v4, and echoes it as `x-correlation-id`
//!   on the response;
//! * opens an `http_request` span with `correlation_id`, `method`, `route` — the matched route
//!   template (`/bookings/{id}`), never the raw path, so metrics stay bounded —,
//!   `status_code` and `latency_ms`; every log line inside carries them;
//! * logs the completion (`INFO` for 1xx–3xx, `WARN` for 4xx, `ERROR` for 5xx) and records,
//!   per `route` and `method` (and `service`, `environment`), `http_request.success`,
//!   `http_request.client_error` or `http_request.server_error` (Count) and
//!   `http_request.latency` (Milliseconds) through the EMF layer — whatever the log level.
//!
//! Inside a request, [`crate::correlation_id`] returns its correlation ID, and
//! [`CorrelationHeaders::insert_correlation_id`] puts it on an outgoing request's headers, so
//! the ID follows the call to the next service:
//!
//! ```
//! use instrument::http::CorrelationHeaders;
//!
//! let capture = instrument::testing::Capture::new();
//! capture.run(|| {
//!     let _request = tracing::info_span!("http_request", correlation_id = "c-42").entered();
//!     let mut headers = http::HeaderMap::new();
//!     headers.insert_correlation_id();
//!     assert_eq!(headers["x-correlation-id"], "c-42");
//! });
//! ```

mod layer;

pub use layer::{RequestLayer, RequestService, ResponseFuture, UNMATCHED_ROUTE};

/// The header the correlation ID travels in between services.
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// Puts the current correlation ID on outgoing requests: an extension of [`http::HeaderMap`].
pub trait CorrelationHeaders {
    /// Sets `x-correlation-id` to the current span's correlation ID (see
    /// [`crate::correlation_id`]); returns it, or `None` (and leaves the headers as they are)
    /// outside a span that has one. With the feature `otel`, inside a trace, also sets
    /// `traceparent` and `x-amzn-trace-id`: in a sampled trace to the current span's context,
    /// so the next service's spans join the trace; in an unsampled one to its trace with the
    /// sampled flag off (`-00`, `Sampled=0`), so the next service does not sample it either.
    fn insert_correlation_id(&mut self) -> Option<String>;
}

impl CorrelationHeaders for http::HeaderMap {
    fn insert_correlation_id(&mut self) -> Option<String> {
        #[cfg(feature = "otel")]
        crate::otel::headers::inject_current(self);
        let id = crate::correlation_id()?;
        let value = http::HeaderValue::from_str(&id).ok()?;
        self.insert(
            http::header::HeaderName::from_static(CORRELATION_HEADER),
            value,
        );
        Some(id)
    }
}
