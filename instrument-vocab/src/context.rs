//! The request-context keys of a log line, and where `lambda_runtime` spells them otherwise.
//!
//! A context key is *promoted*: the nearest value (event field, then spans inside out) appears
//! once at the top of the line; the EMF layer writes the Lambda ones as document properties.
//!
//! ```
//! use instrument_vocab::context;
//! assert_eq!(context::from_lambda_runtime("requestId"), Some(context::FUNCTION_REQUEST_ID));
//! assert_eq!(context::from_lambda_runtime("xrayTraceId"), Some(context::XRAY_TRACE_ID));
//! assert_eq!(context::from_lambda_runtime("other"), None);
//! ```

/// The correlation ID of a request, across services.
pub const CORRELATION_ID: &str = "correlation_id";
/// The Lambda invocation's request ID.
pub const FUNCTION_REQUEST_ID: &str = "function_request_id";
/// The X-Ray trace header of the request or invocation.
pub const XRAY_TRACE_ID: &str = "xray_trace_id";
/// The invoked function's ARN.
pub const FUNCTION_ARN: &str = "function_arn";

/// Every context key.
pub const KEYS: [&str; 4] = [
    CORRELATION_ID,
    FUNCTION_REQUEST_ID,
    XRAY_TRACE_ID,
    FUNCTION_ARN,
];

/// The target of the events `instrument::append_keys!` emits: their fields are kept on the
/// request's or invocation's span, for every later line of it, instead of being logged.
pub const APPEND_KEYS_TARGET: &str = "instrument::append_keys";

/// The name of `lambda_runtime`'s span around each invocation.
pub const LAMBDA_RUNTIME_SPAN: &str = "Lambda runtime invoke";

/// The context key a field of `lambda_runtime`'s invocation span stands for (`requestId`,
/// `xrayTraceId`).
#[must_use]
pub fn from_lambda_runtime(field: &str) -> Option<&'static str> {
    match field {
        "requestId" => Some(FUNCTION_REQUEST_ID),
        "xrayTraceId" => Some(XRAY_TRACE_ID),
        _ => None,
    }
}
