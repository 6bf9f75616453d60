//! Reading span and event fields into what the EMF layer records: metrics, dimensions, units,
//! properties, and the tracked-call fields of `#[track_performance]`, by the roles the
//! callsite's schema gives them (`instrument_core::callsite`).

use std::fmt;

use instrument_core::callsite::{Role, Schema};
use instrument_vocab::metric::Prefix;
use tracing_core::field::{Field, Visit};

use crate::aggregator::Kind;

/// The aggregation kind of a metric prefix.
fn kind(prefix: Prefix) -> Kind {
    match prefix {
        Prefix::Histogram => Kind::Distribution,
        Prefix::Gauge => Kind::Gauge,
        // Unit, resolution and dimension prefixes have roles of their own.
        _ => Kind::Counter,
    }
}

/// Values collected from one span or event; strings copied into one reusable buffer.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    pub(crate) text: String,
    pub(crate) function: Option<(usize, usize)>,
    pub(crate) outcome: Option<(usize, usize)>,
    pub(crate) error_type: Option<(usize, usize)>,
    pub(crate) latency: Option<f64>,
    pub(crate) dims: Vec<(&'static str, (usize, usize))>,
    pub(crate) props: Vec<(&'static str, (usize, usize))>,
    pub(crate) units: Vec<(&'static str, (usize, usize))>,
    pub(crate) resolutions: Vec<(&'static str, f64)>,
    pub(crate) metrics: Vec<(Kind, &'static str, f64)>,
    /// The roles of the fields of the callsite being collected.
    roles: &'static [Role],
}

impl Collected {
    pub(crate) fn reset(&mut self, schema: &'static Schema) {
        self.text.clear();
        self.function = None;
        self.outcome = None;
        self.error_type = None;
        self.latency = None;
        self.dims.clear();
        self.props.clear();
        self.units.clear();
        self.resolutions.clear();
        self.metrics.clear();
        self.roles = &schema.roles;
    }

    #[inline]
    pub(crate) fn str(&self, range: (usize, usize)) -> &str {
        &self.text[range.0..range.1]
    }

    #[inline]
    fn role(&self, field: &Field) -> Role {
        self.roles
            .get(field.index())
            .copied()
            .unwrap_or(Role::Other)
    }

    fn push_str(&mut self, s: &str) -> (usize, usize) {
        let start = self.text.len();
        self.text.push_str(s);
        (start, self.text.len())
    }

    fn push_display(&mut self, value: &dyn fmt::Debug) -> (usize, usize) {
        use fmt::Write;
        let start = self.text.len();
        let _ = write!(self.text, "{value:?}");
        (start, self.text.len())
    }

    fn number(&mut self, field: &Field, value: f64) {
        match self.role(field) {
            Role::Metric(prefix, name) => self.metrics.push((kind(prefix), name, value)),
            Role::Latency => self.latency = Some(value),
            Role::Resolution(name) => self.resolutions.push((name, value)),
            // Numbers as dimension or property values are kept as their text.
            Role::Dimension(name) => {
                let r = self.push_display(&value);
                self.dims.push((name, r));
            }
            Role::Property(name) => {
                let r = self.push_display(&value);
                self.props.push((name, r));
            }
            _ => {}
        }
    }

    /// Integers stay exact as dimension and property text (`3`, not `3.0`).
    fn integer(&mut self, field: &Field, value: i128) {
        match self.role(field) {
            Role::Dimension(_) | Role::Property(_) => {
                self.text_value(field, itoa::Buffer::new().format(value))
            }
            _ => self.number(field, value as f64),
        }
    }

    fn text_value(&mut self, field: &Field, value: &str) {
        match self.role(field) {
            Role::Function => self.function = Some(self.push_str(value)),
            Role::Outcome => self.outcome = Some(self.push_str(value)),
            Role::ErrorType => self.error_type = Some(self.push_str(value)),
            Role::Unit(name) => {
                let r = self.push_str(value);
                self.units.push((name, r));
            }
            Role::Dimension(name) => {
                let r = self.push_str(value);
                self.dims.push((name, r));
            }
            Role::Property(name) => {
                let r = self.push_str(value);
                self.props.push((name, r));
            }
            // A metric given as text: parse it, or count it as non-finite (dropped, reported).
            Role::Metric(prefix, name) => {
                let v = value.trim().parse::<f64>().unwrap_or(f64::NAN);
                self.metrics.push((kind(prefix), name, v));
            }
            Role::Latency => self.latency = value.trim().parse().ok(),
            _ => {}
        }
    }
}

impl Visit for Collected {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.number(field, value)
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.integer(field, value.into())
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.integer(field, value.into())
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.integer(field, value)
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        match i128::try_from(value) {
            Ok(v) => self.integer(field, v),
            Err(_) => self.number(field, value as f64),
        }
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.text_value(field, if value { "true" } else { "false" })
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.text_value(field, value)
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if matches!(self.role(field), Role::Other) {
            return;
        }
        let mut tmp = String::new();
        {
            use fmt::Write;
            let _ = write!(tmp, "{value:?}");
        }
        self.text_value(field, &tmp)
    }
}
