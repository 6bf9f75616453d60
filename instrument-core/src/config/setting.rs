//! What one declaration is: [`Setting`] (typed: its parser, its default, its place in
//! [`Settings`]) and [`Declaration`] (the same, type-erased, for the table, the docs and
//! the tests that walk every setting).

use std::time::Duration;

use tracing_core::LevelFilter;

use super::error::{ConfigError, Rejection, Source};
use super::parse::Parser;
use super::{MetricsDestination, Settings};

/// The part of the library a setting belongs to; the table is grouped by it.
///
/// ```
/// use instrument_core::config::{table, Section};
/// assert_eq!(table::CORRELATION_HEADERS.section, Section::Http);
/// assert_eq!(Section::Http.title(), "HTTP");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Who is logging: service, namespace, environment.
    Service,
    /// The JSON log lines.
    Logs,
    /// Metrics and where they go.
    Metrics,
    /// PII redaction.
    Redaction,
    /// Lambda's environment and the `instrument::lambda` layer.
    Lambda,
    /// The `instrument::http` layer.
    Http,
    /// Traces through OpenTelemetry (feature `otel`).
    Traces,
    /// The process: signals.
    Process,
}

impl Section {
    /// Every section, in the order of the table.
    pub const ALL: [Section; 8] = [
        Section::Service,
        Section::Logs,
        Section::Metrics,
        Section::Redaction,
        Section::Lambda,
        Section::Http,
        Section::Traces,
        Section::Process,
    ];

    /// The section's heading in the table.
    pub fn title(self) -> &'static str {
        match self {
            Section::Service => "Service",
            Section::Logs => "Logs",
            Section::Metrics => "Metrics",
            Section::Redaction => "PII redaction",
            Section::Lambda => "Lambda",
            Section::Http => "HTTP",
            Section::Traces => "Traces",
            Section::Process => "Process",
        }
    }
}

/// One environment variable of a setting. Its parser and accepted values are the setting's
/// unless the variable has its own (`POWERTOOLS_LOG_LEVEL` takes a level, not directives).
///
/// ```
/// use instrument_core::config::{table, Declaration};
/// let names: Vec<&str> = table::LOG_LEVEL.variables.iter().map(|v| v.name).collect();
/// assert_eq!(names, ["INSTRUMENT_LOG_LEVEL", "RUST_LOG", "POWERTOOLS_LOG_LEVEL"]);
/// assert!(table::LOG_LEVEL.accepted("POWERTOOLS_LOG_LEVEL").starts_with("one of trace"));
/// ```
#[derive(Debug)]
pub struct Variable<T: 'static> {
    /// The variable's name.
    pub name: &'static str,
    parse: Option<Parser<T>>,
    accepted: Option<&'static str>,
}

impl<T> Variable<T> {
    /// A variable parsed as its setting says.
    pub const fn new(name: &'static str) -> Self {
        Variable {
            name,
            parse: None,
            accepted: None,
        }
    }

    /// A variable with its own parser and accepted values.
    pub const fn parsed(name: &'static str, parse: Parser<T>, accepted: &'static str) -> Self {
        Variable {
            name,
            parse: Some(parse),
            accepted: Some(accepted),
        }
    }
}

/// Where a setting lives in [`Settings`], when code can set it.
#[derive(Debug)]
pub(crate) struct Field<T: 'static> {
    pub(crate) get: fn(&Settings) -> &Option<T>,
    pub(crate) get_mut: fn(&mut Settings) -> &mut Option<T>,
}

/// One setting, declared once: its name (the builder method's), its variables in precedence
/// order, its parser, accepted values, default and doc line. Errors, the docs' table and the
/// README's come from here.
///
/// ```
/// use instrument_core::config::{table, Settings};
/// assert_eq!(table::SERVICE.variable(), "INSTRUMENT_SERVICE");
/// let service = table::SERVICE
///     .value(&Settings::default(), &|name| (name == "POWERTOOLS_SERVICE_NAME").then(|| "pt".into()))
///     .unwrap();
/// assert_eq!(service.as_deref(), Some("pt"));
/// ```
#[derive(Debug)]
pub struct Setting<T: 'static> {
    /// The setting's name: its [`Settings`] field and builder method, where code can set it.
    pub name: &'static str,
    /// The part of the library it belongs to.
    pub section: Section,
    /// Its environment variables, highest precedence first.
    pub variables: &'static [Variable<T>],
    /// What it accepts, in words (the end of its error messages).
    pub accepted: &'static str,
    /// Its default, in words.
    pub default: &'static str,
    /// What it does, in one line.
    pub doc: &'static str,
    /// A value the parser refuses (to test the error), if it refuses any.
    pub invalid: Option<&'static str>,
    pub(crate) parse: Parser<T>,
    pub(crate) check: Option<fn(T) -> Result<T, Rejection>>,
    pub(crate) fallback: Option<fn() -> T>,
    pub(crate) field: Option<Field<T>>,
}

/// A value a setting can hold: shown as text in errors about values set in code.
///
/// ```
/// use instrument_core::config::Value;
/// use std::time::Duration;
/// assert_eq!(Duration::from_millis(1500).show(), "1.5s");
/// assert_eq!(vec!["a".to_string(), "b".to_string()].show(), "a,b");
/// ```
pub trait Value: Clone + PartialEq + Send + Sync + 'static {
    /// The value as text.
    fn show(&self) -> String;
}

macro_rules! shown_by {
    ($how:expr => $($t:ty),*) => {$(
        impl Value for $t {
            fn show(&self) -> String {
                let how: fn(&$t) -> String = $how;
                how(self)
            }
        }
    )*};
}
shown_by!(|v| v.to_string() => String, bool, f64, usize, LevelFilter);
shown_by!(|v| format!("{v:?}") => Duration, MetricsDestination, Option<u32>);
shown_by!(|v| v.join(",") => Vec<String>);

impl<T: Value> Setting<T> {
    /// Its first (canonical) variable.
    pub fn variable(&self) -> &'static str {
        self.variables.first().map_or("", |v| v.name)
    }

    /// The value from code, else from the first of its variables that is set (empty counts as
    /// unset), with where it came from; `None` when neither has one.
    pub fn find(
        &self,
        settings: &Settings,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<(Source, T)>, ConfigError> {
        if let Some(value) = self.field.as_ref().and_then(|f| (f.get)(settings).as_ref()) {
            let origin = Source::Code(self.name);
            let checked = match self.check {
                Some(check) => check(value.clone())
                    .map_err(|r| r.into_error(origin.clone(), value.show(), self.accepted))?,
                None => value.clone(),
            };
            return Ok(Some((origin, checked)));
        }
        for variable in self.variables {
            if let Some(text) = env(variable.name).filter(|v| !v.trim().is_empty()) {
                return self.parse_variable(variable, text).map(Some);
            }
        }
        Ok(None)
    }

    /// Code › variables › the default; `None` only for a setting without a default.
    pub fn value(
        &self,
        settings: &Settings,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<T>, ConfigError> {
        Ok(match self.find(settings, env)? {
            Some((_, value)) => Some(value),
            None => self.default_value(),
        })
    }

    /// The default value, if the setting has one.
    pub fn default_value(&self) -> Option<T> {
        self.fallback.map(|f| f())
    }

    /// Sets the value in `settings`; `false` (nothing set) when code cannot set this one.
    pub fn set(&self, settings: &mut Settings, value: T) -> bool {
        match &self.field {
            Some(field) => {
                *(field.get_mut)(settings) = Some(value);
                true
            }
            None => false,
        }
    }

    fn parse_variable(
        &self,
        variable: &Variable<T>,
        text: String,
    ) -> Result<(Source, T), ConfigError> {
        let origin = Source::Variable(variable.name.to_string());
        match variable.parse.unwrap_or(self.parse)(&text) {
            Ok(value) => Ok((origin, value)),
            Err(r) => Err(r.into_error(origin, text, variable.accepted.unwrap_or(self.accepted))),
        }
    }
}

/// A [`Setting`] of any type: what the table lists.
///
/// ```
/// use instrument_core::config::{table, Declaration};
/// let margin = table::TABLE.iter().find(|s| s.name() == "lambda_flush_margin").unwrap();
/// assert_eq!(margin.variables(), ["INSTRUMENT_LAMBDA_FLUSH_MARGIN_MS"]);
/// assert!(!margin.in_code());
/// let err = margin.check("INSTRUMENT_LAMBDA_FLUSH_MARGIN_MS", "soon").unwrap_err();
/// assert_eq!(err.expected, margin.accepted("INSTRUMENT_LAMBDA_FLUSH_MARGIN_MS"));
/// assert_eq!(margin.default_agrees(), Some(true));
/// ```
pub trait Declaration: Sync {
    /// [`Setting::name`].
    fn name(&self) -> &'static str;
    /// [`Setting::section`].
    fn section(&self) -> Section;
    /// Its variables' names, highest precedence first.
    fn variables(&self) -> Vec<&'static str>;
    /// What `variable` accepts (the setting's, or the variable's own).
    fn accepted(&self, variable: &str) -> &'static str;
    /// [`Setting::default`].
    fn default_text(&self) -> &'static str;
    /// [`Setting::doc`].
    fn doc(&self) -> &'static str;
    /// [`Setting::invalid`].
    fn invalid(&self) -> Option<&'static str>;
    /// Whether code can set it (a [`Settings`] field and builder method).
    fn in_code(&self) -> bool;
    /// Parses `value` as `variable` says, as resolution would.
    fn check(&self, variable: &str, value: &str) -> Result<(), ConfigError>;
    /// Whether the default in words parses to the default value (`None`: no default value,
    /// or no words to parse).
    fn default_agrees(&self) -> Option<bool>;
}

impl<T: Value> Declaration for Setting<T> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn section(&self) -> Section {
        self.section
    }
    fn variables(&self) -> Vec<&'static str> {
        self.variables.iter().map(|v| v.name).collect()
    }
    fn accepted(&self, variable: &str) -> &'static str {
        self.variables
            .iter()
            .find(|v| v.name == variable)
            .and_then(|v| v.accepted)
            .unwrap_or(self.accepted)
    }
    fn default_text(&self) -> &'static str {
        self.default
    }
    fn doc(&self) -> &'static str {
        self.doc
    }
    fn invalid(&self) -> Option<&'static str> {
        self.invalid
    }
    fn in_code(&self) -> bool {
        self.field.is_some()
    }
    fn check(&self, variable: &str, value: &str) -> Result<(), ConfigError> {
        match self.variables.iter().find(|v| v.name == variable) {
            Some(v) => self.parse_variable(v, value.to_string()).map(drop),
            None => Err(ConfigError {
                origin: Source::Variable(variable.to_string()),
                value: value.to_string(),
                expected: format!("one of {}'s variables", self.name),
            }),
        }
    }
    fn default_agrees(&self) -> Option<bool> {
        let default = self.default_value()?;
        let words = self.default.strip_prefix('`')?.strip_suffix('`')?;
        Some((self.parse)(words).is_ok_and(|parsed| parsed == default))
    }
}
