//! Checked groups → PutMetricData datums, valid by construction.
//!
//! A [`CheckedGroup`] already meets CloudWatch's rules (names, dimension values and sets,
//! finite values within ±2^360, resolution 1 or 60: checked once at the flush); what is left
//! here is PutMetricData's own shape: one datum per metric and dimension set, at most 150
//! distinct values per datum (see [`buckets`](super::buckets)).

use std::sync::Arc;

use crate::checked::CheckedGroup;
use crate::unit::Unit;

use super::buckets::{self, MAX_VALUES_PER_DATUM};

/// The most dimensions on one datum (CloudWatch's limit, shared with EMF's dimension sets).
pub const MAX_DIMENSIONS_PER_DATUM: usize = crate::limits::MAX_DIMENSIONS;
/// The longest metric name, in characters.
pub const MAX_NAME: usize = crate::limits::MAX_METRIC_NAME;
/// The longest dimension value, in characters.
pub use crate::limits::MAX_DIMENSION_VALUE;
/// CloudWatch rejects values outside ±2^360.
pub use crate::limits::MAX_MAGNITUDE;

/// A datum's dimensions (name, value), shared by the datums of one dimension set.
pub(crate) type Dimensions = Arc<[(Box<str>, Box<str>)]>;

/// One PutMetricData datum, owned, waiting in the sender's buffer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Datum {
    pub(crate) namespace: Arc<str>,
    pub(crate) name: Box<str>,
    pub(crate) unit: Unit,
    pub(crate) resolution: u32,
    pub(crate) timestamp_ms: u64,
    pub(crate) dimensions: Dimensions,
    pub(crate) values: Values,
}

/// A datum's numbers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Values {
    /// One value (a counter's sum, a gauge, a single observation).
    One(f64),
    /// Distinct values and their counts (at most 150).
    Many { values: Vec<f64>, counts: Vec<f64> },
}

impl Datum {
    /// The number of observations this datum stands for.
    #[cfg(test)]
    pub(crate) fn sample_count(&self) -> f64 {
        match &self.values {
            Values::One(_) => 1.0,
            Values::Many { counts, .. } => counts.iter().sum(),
        }
    }

    /// An upper bound of this datum's size in the request's CBOR body, in bytes.
    pub(crate) fn encoded_size(&self) -> usize {
        // Map header, then each key with its value; strings carry a header of up to 3 bytes at
        // these lengths, doubles are 9 bytes, the timestamp a tag and a double.
        let mut n = 1 + (1 + 10) + (3 + self.name.len());
        if !self.dimensions.is_empty() {
            n += (1 + 10) + 2;
            for (name, value) in self.dimensions.iter() {
                n += 1 + (1 + 4) + (3 + name.len()) + (1 + 5) + (3 + value.len());
            }
        }
        n += (1 + 9) + 1 + 9;
        n += match &self.values {
            Values::One(_) => (1 + 5) + 9,
            Values::Many { values, counts } => {
                (1 + 6) + 3 + 9 * values.len() + (1 + 6) + 3 + 9 * counts.len()
            }
        };
        n += (1 + 4) + (1 + self.unit.as_str().len());
        n += (1 + 17) + 5;
        n
    }
}

/// Appends the datums of `group` to `out`: one per metric and dimension set (more for
/// distributions with more than 150 distinct values after bucketing).
pub(crate) fn from_group(
    namespace: &Arc<str>,
    group: &CheckedGroup<'_>,
    timestamp_ms: u64,
    out: &mut Vec<Datum>,
) {
    let mut dimension_sets: Vec<Dimensions> = Vec::with_capacity(group.sets().len());
    for set in group.sets() {
        let resolved: Dimensions = set
            .iter()
            .map(|&i| {
                let (name, value) = group.dimension(i);
                (Box::<str>::from(name), Box::<str>::from(value))
            })
            .collect::<Vec<_>>()
            .into();
        if !dimension_sets.contains(&resolved) {
            dimension_sets.push(resolved);
        }
    }

    for metric in group.metrics() {
        let chunks: Vec<Values> = match &*metric.values {
            [] => continue,
            [one] => vec![Values::One(*one)],
            many => buckets::compress(many)
                .entries
                .chunks(MAX_VALUES_PER_DATUM)
                .map(|chunk| Values::Many {
                    values: chunk.iter().map(|e| e.0).collect(),
                    counts: chunk.iter().map(|e| e.1).collect(),
                })
                .collect(),
        };
        for dimensions in &dimension_sets {
            for values in &chunks {
                out.push(Datum {
                    namespace: namespace.clone(),
                    name: metric.name.into(),
                    unit: metric.unit,
                    resolution: metric.resolution,
                    timestamp_ms,
                    dimensions: dimensions.clone(),
                    values: values.clone(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dropped::{DropReason, Dropped};
    use crate::encoder::{Group, Metric};

    fn datums(group: &Group<'_>, dropped: &Dropped) -> Vec<Datum> {
        let mut out = Vec::new();
        let checked = CheckedGroup::new(group, dropped);
        from_group(&Arc::from("Test"), &checked, 1_000, &mut out);
        out
    }

    fn metric<'a>(name: &'a str, values: &'a [f64]) -> Metric<'a> {
        Metric {
            name,
            unit: Unit::Milliseconds,
            resolution: 60,
            values,
        }
    }

    #[test]
    fn dimensions_29_30_31() {
        for (n, kept, over) in [(29usize, 29usize, 0u64), (30, 30, 0), (31, 30, 1)] {
            let names: Vec<String> = (0..n).map(|i| format!("d{i}")).collect();
            let group = Group {
                dimensions: names.iter().map(|d| (d.as_str(), "v")).collect(),
                metrics: vec![metric("m", &[1.0])],
                ..Group::default()
            };
            let dropped = Dropped::default();
            let out = datums(&group, &dropped);
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].dimensions.len(), kept);
            assert_eq!(dropped.total(DropReason::TooManyDimensions), over);
        }
    }

    #[test]
    fn values_149_150_151_distinct() {
        for (n, exact) in [(149usize, true), (150, true), (151, false)] {
            let values: Vec<f64> = (1..=n).map(|i| i as f64).collect();
            let group = Group {
                metrics: vec![metric("m", &values)],
                ..Group::default()
            };
            let out = datums(&group, &Dropped::default());
            assert_eq!(out.len(), 1, "{n} distinct values fit one datum");
            let Values::Many { values: v, counts } = &out[0].values else {
                panic!("a distribution")
            };
            assert!(v.len() <= MAX_VALUES_PER_DATUM);
            assert_eq!(v.len() == n, exact);
            assert_eq!(counts.iter().sum::<f64>(), n as f64);
        }
    }

    #[test]
    fn wide_distributions_split_into_datums_of_150_with_exact_total_count() {
        let values: Vec<f64> = (0..3_000).map(|i| 1.01_f64.powi(i)).collect();
        let group = Group {
            metrics: vec![metric("m", &values)],
            ..Group::default()
        };
        let out = datums(&group, &Dropped::default());
        assert!(out.len() > 1);
        let mut total = 0.0;
        for d in &out {
            let Values::Many { values, counts } = &d.values else {
                panic!("a distribution")
            };
            assert!(values.len() <= MAX_VALUES_PER_DATUM);
            assert_eq!(values.len(), counts.len());
            total += d.sample_count();
        }
        assert_eq!(total, 3_000.0);
    }

    #[test]
    fn invalid_input_is_dropped_and_counted() {
        let long = "x".repeat(1_100);
        let long_name = "n".repeat(256);
        let group = Group {
            dimensions: vec![("", "a"), (":x", "b"), ("ok", ""), ("long", &long)],
            metrics: vec![
                metric("m", &[1.0, f64::NAN, f64::INFINITY, 1e200]),
                metric(&long_name, &[1.0]),
                metric("only_nan", &[f64::NAN]),
            ],
            ..Group::default()
        };
        let dropped = Dropped::default();
        let out = datums(&group, &dropped);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].values, Values::One(1.0));
        assert_eq!(out[0].dimensions.len(), 1);
        assert_eq!(out[0].dimensions[0].1.len(), MAX_DIMENSION_VALUE);
        assert_eq!(dropped.total(DropReason::InvalidDimensionName), 2);
        assert_eq!(dropped.total(DropReason::EmptyDimensionValue), 1);
        assert_eq!(dropped.total(DropReason::DimensionValueTooLong), 1);
        assert_eq!(dropped.total(DropReason::NonFiniteValue), 4);
        assert_eq!(dropped.total(DropReason::InvalidMetricName), 1);
    }

    #[test]
    fn each_dimension_set_is_a_datum() {
        let group = Group {
            dimensions: vec![("service", "s"), ("error_type", "Timeout")],
            dimension_sets: vec![vec![0, 1], vec![0]],
            metrics: vec![metric("f.error", &[2.0])],
            ..Group::default()
        };
        let out = datums(&group, &Dropped::default());
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].dimensions.len(), 2);
        assert_eq!(out[1].dimensions.len(), 1);
        assert_eq!(&*out[1].dimensions[0].0, "service");
    }
}
