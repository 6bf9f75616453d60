//! Where the correlation ID of an invocation comes from: paths into the event, as data.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

/// A place in a Lambda event that may hold the correlation ID: a named preset or a dotted
/// path (`requestContext.requestId`, `Records.0.messageAttributes.correlation_id.stringValue`).
///
/// Object keys match exactly, else case-insensitively (HTTP header names arrive in any case);
/// a number selects an array element; a string value is taken as is, a number as its text,
/// an array as its first element (ALB's `multiValueHeaders`). Empty values do not count.
///
/// Parsed from text (`"api_gateway_rest"`, `"detail.orderId"`) and deserialised the same way,
/// so the paths can come from configuration:
///
/// ```
/// use instrument::lambda::CorrelationPath;
/// let path: CorrelationPath = "detail.orderId".parse().unwrap();
/// let event = serde_json::json!({"detail": {"orderId": "o-7"}});
/// assert_eq!(path.extract(&event).as_deref(), Some("o-7"));
/// assert_eq!("eventbridge".parse::<CorrelationPath>().unwrap(), CorrelationPath::EVENTBRIDGE);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationPath {
    name: &'static str,
    path: PathText,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PathText {
    Static(&'static str),
    Custom(String),
}

impl CorrelationPath {
    /// A caller-chosen `x-correlation-id` header (API Gateway, ALB, function URLs): the ID the
    /// calling service already uses, so it follows the call.
    pub const HEADER: CorrelationPath = Self::preset("header", "headers.x-correlation-id");
    /// API Gateway REST API (payload v1): `requestContext.requestId`.
    pub const API_GATEWAY_REST: CorrelationPath =
        Self::preset("api_gateway_rest", "requestContext.requestId");
    /// API Gateway HTTP API (payload v2): `requestContext.requestId`.
    pub const API_GATEWAY_HTTP: CorrelationPath =
        Self::preset("api_gateway_http", "requestContext.requestId");
    /// Application Load Balancer: the `x-amzn-trace-id` header.
    pub const ALB: CorrelationPath = Self::preset("alb", "headers.x-amzn-trace-id");
    /// Application Load Balancer with multi-value headers.
    pub const ALB_MULTI_VALUE: CorrelationPath =
        Self::preset("alb_multi_value", "multiValueHeaders.x-amzn-trace-id");
    /// Lambda function URL: `requestContext.requestId`.
    pub const FUNCTION_URL: CorrelationPath =
        Self::preset("function_url", "requestContext.requestId");
    /// EventBridge: the event's `id`.
    pub const EVENTBRIDGE: CorrelationPath = Self::preset("eventbridge", "id");
    /// SQS: the `correlation_id` message attribute of the batch's first record.
    pub const SQS: CorrelationPath = Self::preset(
        "sqs",
        "Records.0.messageAttributes.correlation_id.stringValue",
    );

    /// Every preset, in the order [`InvocationLayer`](super::InvocationLayer) tries them by
    /// default: a caller's `x-correlation-id` header first, then each event source's own ID.
    pub const PRESETS: [CorrelationPath; 8] = [
        Self::HEADER,
        Self::API_GATEWAY_REST,
        Self::API_GATEWAY_HTTP,
        Self::FUNCTION_URL,
        Self::ALB,
        Self::ALB_MULTI_VALUE,
        Self::EVENTBRIDGE,
        Self::SQS,
    ];

    const fn preset(name: &'static str, path: &'static str) -> Self {
        CorrelationPath {
            name,
            path: PathText::Static(path),
        }
    }

    /// A path of your own, dotted: `detail.orderId`, `Records.0.messageId`.
    pub fn custom(path: impl Into<String>) -> Self {
        CorrelationPath {
            name: "custom",
            path: PathText::Custom(path.into()),
        }
    }

    /// The preset's name, or `custom`.
    pub fn name(&self) -> &str {
        self.name
    }

    /// The dotted path.
    pub fn path(&self) -> &str {
        match &self.path {
            PathText::Static(p) => p,
            PathText::Custom(p) => p,
        }
    }

    /// The value at this path in `event`, if there is a non-empty one.
    pub fn extract(&self, event: &Value) -> Option<String> {
        let mut at = event;
        for segment in self.path().split('.') {
            at = match at {
                Value::Object(map) => match map.get(segment) {
                    Some(v) => v,
                    None => map
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(segment))
                        .map(|(_, v)| v)?,
                },
                Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        let value = match at {
            Value::Array(items) => items.first()?,
            v => v,
        };
        match value {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

impl fmt::Display for CorrelationPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            PathText::Static(_) => f.write_str(self.name),
            PathText::Custom(p) => f.write_str(p),
        }
    }
}

/// A correlation path that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid correlation path {path:?}: expected a preset ({presets}) or a dotted path such as `detail.orderId`")]
pub struct CorrelationPathError {
    path: String,
    presets: String,
}

impl FromStr for CorrelationPath {
    type Err = CorrelationPathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Some(preset) = Self::PRESETS.iter().find(|p| p.name == s) {
            return Ok(preset.clone());
        }
        if s.is_empty() || s.split('.').any(str::is_empty) {
            return Err(CorrelationPathError {
                path: s.to_string(),
                presets: Self::PRESETS
                    .iter()
                    .map(|p| p.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(Self::custom(s))
    }
}

impl<'de> serde::Deserialize<'de> for CorrelationPath {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn presets_find_their_ids() {
        let rest =
            json!({"requestContext": {"requestId": "r-1"}, "headers": {"X-Amzn-Trace-Id": "t"}});
        let alb =
            json!({"requestContext": {"elb": {}}, "headers": {"x-amzn-trace-id": "Root=1-a"}});
        let alb_multi = json!({"multiValueHeaders": {"X-Amzn-Trace-Id": ["Root=1-b"]}});
        let bridge = json!({"id": "e-1", "detail-type": "x"});
        let sqs =
            json!({"Records": [{"messageAttributes": {"correlation_id": {"stringValue": "q-1"}}}]});
        let extract = |e: &Value| CorrelationPath::PRESETS.iter().find_map(|p| p.extract(e));
        assert_eq!(extract(&rest).as_deref(), Some("r-1"));
        assert_eq!(extract(&alb).as_deref(), Some("Root=1-a"));
        assert_eq!(extract(&alb_multi).as_deref(), Some("Root=1-b"));
        assert_eq!(extract(&bridge).as_deref(), Some("e-1"));
        assert_eq!(extract(&sqs).as_deref(), Some("q-1"));
        assert_eq!(extract(&json!({"id": ""})), None);
        assert_eq!(extract(&json!([1, 2])), None);
        let header =
            json!({"headers": {"X-Correlation-Id": "c-9"}, "requestContext": {"requestId": "r"}});
        assert_eq!(extract(&header).as_deref(), Some("c-9"));
    }

    #[test]
    fn parsing_and_deserialising() {
        let paths: Vec<CorrelationPath> =
            serde_json::from_value(json!(["sqs", "detail.order.id"])).unwrap();
        assert_eq!(paths[0], CorrelationPath::SQS);
        assert_eq!(paths[1].path(), "detail.order.id");
        assert_eq!(paths[1].to_string(), "detail.order.id");
        assert!("a..b".parse::<CorrelationPath>().is_err());
        assert!(serde_json::from_value::<CorrelationPath>(json!("")).is_err());
    }
}
