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
