//! CloudWatch's rules for metric data, in one place: the limits, what makes a name or a value
//! acceptable, and the repair or drop of what is not. Every flushed group is checked with these
//! functions once, in [`CheckedGroup::new`](crate::CheckedGroup::new), upstream of every
//! exporter, and [`validate`](crate::validate) checks documents with the same predicates, so
//! they cannot disagree.
//!
//! ```
//! use instrument_emf::{MAX_DIMENSION_VALUE, MAX_METRIC_NAME};
//! assert_eq!(MAX_DIMENSION_VALUE, 1024);
//! assert_eq!(MAX_METRIC_NAME, 255);
//! ```

use std::borrow::Cow;

use crate::dropped::{DropReason, Dropped};
use crate::encoder::Group;

/// The most metric definitions in one directive.
pub const MAX_METRICS: usize = 100;
/// The most values for one metric in one document.
pub const MAX_VALUES: usize = 100;
/// The most dimensions in one dimension set.
pub const MAX_DIMENSIONS: usize = 30;
/// The longest dimension value, in characters.
pub const MAX_DIMENSION_VALUE: usize = 1024;
/// The longest dimension name, in characters (the EMF schema's limit).
pub const MAX_DIMENSION_NAME: usize = 250;
/// The longest metric name, in characters (CloudWatch's limit).
pub const MAX_METRIC_NAME: usize = 255;
/// The largest document, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// Printable ASCII: what CloudWatch accepts in dimension names and values.
fn printable_ascii(c: char) -> bool {
    (' '..='~').contains(&c)
}

/// A dimension name CloudWatch accepts: 1 to 250 printable ASCII characters, not only
/// whitespace, not starting with `:`, not `_aws`.
pub(crate) fn dimension_name_ok(name: &str) -> bool {
    !name.trim().is_empty()
        && name.len() <= MAX_DIMENSION_NAME
        && name.chars().all(printable_ascii)
        && !name.starts_with(':')
        && name != "_aws"
}

/// Why a dimension value breaks CloudWatch's rule (printable ASCII, 1 to 1024 characters, at
/// least one that is not whitespace), if it does.
pub(crate) fn dimension_value_problem(value: &str) -> Option<&'static str> {
    if value.trim().is_empty() {
        Some("is empty or only whitespace")
    } else if !value.chars().all(printable_ascii) {
        Some("has control or non-ASCII characters")
    } else if value.chars().count() > MAX_DIMENSION_VALUE {
        Some("is over 1024 characters")
    } else {
        None
    }
}

/// `value` made acceptable as a dimension value, or `None` (counted) when it cannot be: only
/// whitespace is dropped; control and non-ASCII characters are replaced by `?`, and a value
/// over 1024 characters is cut, each counted.
pub(crate) fn repair_dimension_value<'a>(
    value: &'a str,
    dropped: &Dropped,
) -> Option<Cow<'a, str>> {
    if value.trim().is_empty() {
        dropped.add(DropReason::EmptyDimensionValue, 1);
        return None;
    }
    let mut value = Cow::Borrowed(value);
    if !value.chars().all(printable_ascii) {
        dropped.add(DropReason::InvalidDimensionValue, 1);
        value = Cow::Owned(
            value
                .chars()
                .map(|c| if printable_ascii(c) { c } else { '?' })
                .collect(),
        );
        if value.trim().is_empty() {
            return None;
        }
    }
    if let Some((cut, _)) = value.char_indices().nth(MAX_DIMENSION_VALUE) {
        dropped.add(DropReason::DimensionValueTooLong, 1);
        value = match value {
            Cow::Borrowed(v) => Cow::Borrowed(&v[..cut]),
            Cow::Owned(mut v) => {
                v.truncate(cut);
                Cow::Owned(v)
            }
        };
    }
    Some(value)
}

/// Why a metric name breaks CloudWatch's rule (1 to 255 characters, not only whitespace, no
/// control characters: the EMF schema's `^(.*)$` excludes line breaks), if it does.
pub(crate) fn metric_name_problem(name: &str) -> Option<&'static str> {
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_METRIC_NAME {
        Some("must have 1 to 255 characters")
    } else if name.trim().is_empty() {
        Some("is only whitespace")
    } else if name.chars().any(char::is_control) {
        Some("has control characters")
    } else {
        None
    }
}

/// The dimensions of a group after CloudWatch's rules: valid names, repaired values, the
/// first of each name, and the dimension sets over them (at most 30 each, no duplicate set).
pub(crate) struct CheckedDimensions<'a> {
    /// Dimension names and values that passed.
    pub(crate) members: Vec<(&'a str, Cow<'a, str>)>,
    /// The sets, as indices into `members`.
    pub(crate) sets: Vec<Vec<usize>>,
}

impl<'a> CheckedDimensions<'a> {
    /// Checks `group`'s dimensions; `taken(name)` says whether a name is used already (and
    /// takes it), so the caller can keep one namespace of root members.
    pub(crate) fn of(
        group: &Group<'a>,
        dropped: &Dropped,
        mut take: impl FnMut(&'a str) -> bool,
    ) -> Self {
        let mut members: Vec<(&'a str, Cow<'a, str>)> = Vec::with_capacity(group.dimensions.len());
        let mut index: Vec<Option<usize>> = Vec::with_capacity(group.dimensions.len());
        for &(name, value) in &group.dimensions {
            if !dimension_name_ok(name) {
                dropped.add(DropReason::InvalidDimensionName, 1);
                index.push(None);
                continue;
            }
            if value.trim().is_empty() {
                dropped.add(DropReason::EmptyDimensionValue, 1);
                index.push(None);
                continue;
            }
            if !take(name) {
                dropped.add(DropReason::NameConflict, 1);
                index.push(None);
                continue;
            }
            let Some(value) = repair_dimension_value(value, dropped) else {
                index.push(None);
                continue;
            };
            index.push(Some(members.len()));
            members.push((name, value));
        }
        let all: Vec<usize> = (0..group.dimensions.len()).collect();
        let requested = if group.dimension_sets.is_empty() {
            std::slice::from_ref(&all)
        } else {
            &group.dimension_sets[..]
        };
        let mut sets: Vec<Vec<usize>> = Vec::new();
        for set in requested {
            let mut valid: Vec<usize> = set
                .iter()
                .filter_map(|&i| index.get(i).copied().flatten())
                .collect();
            valid.dedup();
            if valid.len() > MAX_DIMENSIONS {
                dropped.add(
                    DropReason::TooManyDimensions,
                    (valid.len() - MAX_DIMENSIONS) as u64,
                );
                valid.truncate(MAX_DIMENSIONS);
            }
            if !sets.contains(&valid) {
                sets.push(valid);
            }
        }
        CheckedDimensions { members, sets }
    }
}

/// The largest magnitude CloudWatch accepts for a value (2^360).
pub const MAX_MAGNITUDE: f64 = 2.348_542_582_773_833_3e108;

/// A value CloudWatch accepts: finite and at most 2^360 in magnitude.
pub(crate) fn valid_value(v: f64) -> bool {
    v.is_finite() && v.abs() <= MAX_MAGNITUDE
}

/// `values` without those `ok` rejects (counted as non-finite), borrowed when all pass.
pub(crate) fn kept_values<'v>(
    values: &'v [f64],
    ok: impl Fn(f64) -> bool,
    dropped: &Dropped,
) -> Cow<'v, [f64]> {
    if values.iter().all(|v| ok(*v)) {
        return Cow::Borrowed(values);
    }
    let kept: Vec<f64> = values.iter().copied().filter(|v| ok(*v)).collect();
    dropped.add(
        DropReason::NonFiniteValue,
        (values.len() - kept.len()) as u64,
    );
    Cow::Owned(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimension_values_are_repaired_or_dropped_and_counted() {
        let dropped = Dropped::default();
        assert_eq!(
            repair_dimension_value("ok", &dropped).as_deref(),
            Some("ok")
        );
        assert_eq!(repair_dimension_value("   ", &dropped), None);
        assert_eq!(
            repair_dimension_value("a\nb", &dropped).as_deref(),
            Some("a?b")
        );
        assert_eq!(
            repair_dimension_value("café", &dropped).as_deref(),
            Some("caf?")
        );
        let long = "x".repeat(1030);
        assert_eq!(
            repair_dimension_value(&long, &dropped).map(|v| v.len()),
            Some(MAX_DIMENSION_VALUE)
        );
        assert_eq!(dropped.total(DropReason::EmptyDimensionValue), 1);
        assert_eq!(dropped.total(DropReason::InvalidDimensionValue), 2);
        assert_eq!(dropped.total(DropReason::DimensionValueTooLong), 1);
    }

    #[test]
    fn metric_names_follow_the_schema() {
        assert_eq!(metric_name_problem("orders"), None);
        assert_eq!(metric_name_problem("Type::method.latency"), None);
        assert!(metric_name_problem("").is_some());
        assert!(metric_name_problem("  ").is_some());
        assert!(metric_name_problem("a\nb").is_some());
        assert!(metric_name_problem(&"m".repeat(256)).is_some());
    }
}
