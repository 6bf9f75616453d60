//! What a bad value is reported as: a [`ConfigError`] naming where the value came from
//! ([`Source`]), the value, and what the setting's declaration says it accepts.

use std::fmt;

/// Where a configuration value came from; named in errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An environment variable, by name.
    Variable(String),
    /// A builder method, by name (e.g. `log_level`).
    Code(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Variable(name) => write!(f, "environment variable {name}"),
            Source::Code(setting) => write!(f, "builder setting `{setting}`"),
        }
    }
}

/// A configuration value that cannot be used.
///
/// ```
/// use instrument_core::config::{Config, Settings};
/// let err = Config::resolve(&Settings::default(), |name| {
///     (name == "INSTRUMENT_LOG_LEVEL").then(|| "loud".to_string())
/// })
/// .unwrap_err();
/// assert!(err.to_string().contains("INSTRUMENT_LOG_LEVEL"));
/// assert!(err.to_string().contains("loud"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin} has an invalid value {value:?}: expected {expected}")]
pub struct ConfigError {
    /// Where the bad value came from.
    pub origin: Source,
    /// The value as given.
    pub value: String,
    /// What would have been accepted.
    pub expected: String,
}

/// A parser's refusal of a value, with an optional detail (why exactly) that follows the
/// setting's accepted values in the error message.
///
/// ```
/// use instrument_core::config::Rejection;
/// assert_eq!(Rejection::because("invalid path \"a..b\"").detail(), Some("invalid path \"a..b\""));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rejection {
    detail: Option<String>,
}

impl Rejection {
    /// A refusal that the accepted values explain on their own.
    pub fn new() -> Self {
        Rejection { detail: None }
    }

    /// A refusal with a detail, e.g. the underlying parser's message.
    pub fn because(detail: impl Into<String>) -> Self {
        Rejection {
            detail: Some(detail.into()),
        }
    }

    /// The detail, if any.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// The error for this refusal of `value` from `origin`, given what the setting accepts.
    pub(crate) fn into_error(self, origin: Source, value: String, accepted: &str) -> ConfigError {
        let expected = match self.detail {
            Some(detail) => format!("{accepted} ({detail})"),
            None => accepted.to_string(),
        };
        ConfigError {
            origin,
            value,
            expected,
        }
    }
}
