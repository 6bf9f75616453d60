//! The prefixes that give a span or event field a meaning for metrics: `counter.orders = 1`.
//!
//! ```
//! use instrument_vocab::metric::{prefix, Prefix};
//! assert_eq!(prefix("histogram.basket_bytes"), Some((Prefix::Histogram, "basket_bytes")));
//! assert_eq!(prefix("dimension.route"), Some((Prefix::Dimension, "route")));
//! assert_eq!(prefix("seats"), None);
//! ```

/// What a field's prefix says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prefix {
    /// `counter.<metric>` (also `monotonic_counter.`, as in tracing-opentelemetry): summed.
    Counter,
    /// `histogram.<metric>`: a distribution of values.
    Histogram,
    /// `gauge.<metric>`: the last value.
    Gauge,
    /// `unit.<metric>`: the unit of a metric of the same name.
    Unit,
    /// `resolution.<metric>`: the storage resolution (1 or 60) of a metric of the same name.
    Resolution,
    /// `dimension.<name>`: a dimension of every metric recorded inside the span.
    Dimension,
}

/// The prefix of `name` and the rest (the metric or dimension name), when it has one of
/// [`Prefix`]'s.
#[must_use]
pub fn prefix(name: &str) -> Option<(Prefix, &str)> {
    let (prefix, rest) = name.split_once('.')?;
    let kind = match prefix {
        "counter" | "monotonic_counter" => Prefix::Counter,
        "histogram" => Prefix::Histogram,
        "gauge" => Prefix::Gauge,
        "unit" => Prefix::Unit,
        "resolution" => Prefix::Resolution,
        "dimension" => Prefix::Dimension,
        _ => return None,
    };
    Some((kind, rest))
}

/// The metrics of a tracked call: `<function>.<suffix>`.
///
/// ```
/// use instrument_vocab::metric::tracked;
/// assert_eq!(tracked::name("pay", tracked::LATENCY).as_str(), "pay.latency");
/// ```
pub mod tracked {
    /// Count 1 per call that succeeded.
    pub const SUCCESS: &str = "success";
    /// Count 1 per call that returned an error or panicked; also published per `error_type`.
    pub const ERROR: &str = "error";
    /// The call's duration, in milliseconds (every completed call).
    pub const LATENCY: &str = "latency";
    /// Count 1 per async call whose future was dropped before it completed.
    pub const CANCELLED: &str = "cancelled";

    /// `<function>.<suffix>`.
    #[must_use]
    pub fn name(function: &str, suffix: &str) -> alloc::string::String {
        alloc::format!("{function}.{suffix}")
    }
}

/// The metrics of the HTTP layer (`instrument::http`), one of each per request, with the
/// dimensions [`ROUTE`](http::ROUTE) and [`METHOD`](http::METHOD).
pub mod http {
    /// A response with a status below 400.
    pub const SUCCESS: &str = "http_request.success";
    /// A response with a 4xx status.
    pub const CLIENT_ERROR: &str = "http_request.client_error";
    /// A response with a 5xx status, or no response.
    pub const SERVER_ERROR: &str = "http_request.server_error";
    /// The request's duration, in milliseconds.
    pub const LATENCY: &str = "http_request.latency";
    /// The matched route (`/bookings/{id}`).
    pub const ROUTE: &str = "route";
    /// The request's method.
    pub const METHOD: &str = "method";
}

/// Count 1 per cold Lambda invocation.
pub const COLD_START: &str = "ColdStart";

/// The dimension the Lambda function's name is published under (on [`COLD_START`]).
pub const FUNCTION_NAME_DIMENSION: &str = "function_name";

/// The dimension the configured service name is published under.
pub const SERVICE_DIMENSION: &str = "service";

/// The dimension the configured environment is published under.
pub const ENVIRONMENT_DIMENSION: &str = "environment";
