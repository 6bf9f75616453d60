//! The snapshot step between the aggregator and every exporter: a flushed [`Group`] checked
//! once against CloudWatch's rules (the predicates of `limits`), so that every [`Exporter`]
//! receives only what CloudWatch accepts and each rule is applied in one place, upstream of
//! the EMF encoder and the PutMetricData exporter alike.
//!
//! [`Exporter`]: crate::Exporter

use std::borrow::Cow;
use std::collections::HashSet;

use crate::dropped::{DropReason, Dropped};
use crate::encoder::Group;
use crate::limits::{kept_values, metric_name_problem, valid_value, CheckedDimensions};
use crate::unit::Unit;

/// A [`Group`] after CloudWatch's rules: dimension names valid and unique, values repaired
/// (or dropped when only whitespace), dimension sets of at most 30 and without duplicates;
/// properties that shadow nothing; metric names valid and unique among all root members,
/// resolution 1 or 60, values finite and within CloudWatch's range. What breaks a rule is
/// repaired or dropped and counted in [`Dropped`], once, here.
///
/// ```
/// use instrument_emf::{CheckedGroup, DropReason, Dropped, Group, Metric, Unit};
/// let group = Group {
///     dimensions: vec![("route", "/café"), ("", "x")],
///     metrics: vec![
///         Metric { name: "orders", unit: Unit::Count, resolution: 60, values: &[1.0, f64::NAN] },
///         Metric { name: "bad\nname", unit: Unit::Count, resolution: 60, values: &[1.0] },
///     ],
///     ..Group::default()
/// };
/// let dropped = Dropped::default();
/// let checked = CheckedGroup::new(&group, &dropped);
/// assert_eq!(checked.dimension(0), ("route", "/caf?"));
/// assert_eq!(checked.sets(), [vec![0]]);
/// assert_eq!(checked.metrics().len(), 1);
/// assert_eq!(&*checked.metrics()[0].values, &[1.0]);
/// assert_eq!(dropped.total(DropReason::InvalidDimensionName), 1);
/// assert_eq!(dropped.total(DropReason::InvalidMetricName), 1);
/// assert_eq!(dropped.total(DropReason::NonFiniteValue), 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedGroup<'a> {
    dimensions: Vec<(&'a str, Cow<'a, str>)>,
    sets: Vec<Vec<usize>>,
    properties: Vec<(&'a str, &'a str)>,
    metrics: Vec<CheckedMetric<'a>>,
}

/// One metric of a [`CheckedGroup`]: a valid name, resolution 1 or 60, at least one value,
/// every value finite and within CloudWatch's range.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedMetric<'a> {
    /// The metric name.
    pub name: &'a str,
    /// Its unit.
    pub unit: Unit,
    /// 1 (high resolution) or 60 (standard).
    pub resolution: u32,
    /// The values, borrowed from the group unless some were dropped.
    pub values: Cow<'a, [f64]>,
}

impl<'a> CheckedGroup<'a> {
    /// Checks `group`, counting in `dropped` what it repairs or drops.
    pub fn new(group: &Group<'a>, dropped: &Dropped) -> Self {
        // One namespace of root members: `_aws`, dimensions, properties, metrics.
        let mut taken: HashSet<&str> = HashSet::with_capacity(
            1 + group.dimensions.len() + group.properties.len() + group.metrics.len(),
        );
        taken.insert("_aws");
        let dims = CheckedDimensions::of(group, dropped, |name| taken.insert(name));
        let mut properties = Vec::with_capacity(group.properties.len());
        for &(name, value) in &group.properties {
            if name.is_empty() || !taken.insert(name) {
                dropped.add(DropReason::NameConflict, 1);
                continue;
            }
            properties.push((name, value));
        }
        let mut metrics = Vec::with_capacity(group.metrics.len());
        for metric in &group.metrics {
            if metric_name_problem(metric.name).is_some() {
                dropped.add(DropReason::InvalidMetricName, 1);
                continue;
            }
            if !taken.insert(metric.name) {
                dropped.add(DropReason::NameConflict, 1);
                continue;
            }
            let resolution = match metric.resolution {
                1 | 60 => metric.resolution,
                _ => {
                    dropped.add(DropReason::InvalidResolution, 1);
                    60
                }
            };
            let values = kept_values(metric.values, valid_value, dropped);
            if !values.is_empty() {
                metrics.push(CheckedMetric {
                    name: metric.name,
                    unit: metric.unit,
                    resolution,
                    values,
                });
            }
        }
        CheckedGroup {
            dimensions: dims.members,
            sets: dims.sets,
            properties,
            metrics,
        }
    }

    /// The number of dimensions that passed.
    #[must_use]
    pub fn dimension_count(&self) -> usize {
        self.dimensions.len()
    }

    /// The name and value of dimension `index` (below [`dimension_count`](Self::dimension_count)).
    #[must_use]
    pub fn dimension(&self, index: usize) -> (&'a str, &str) {
        let (name, value) = &self.dimensions[index];
        (name, value)
    }

    /// The dimension sets, as indices of [`dimension`](Self::dimension); each set is published
    /// with every metric.
    #[must_use]
    pub fn sets(&self) -> &[Vec<usize>] {
        &self.sets
    }

    /// Root members that are neither dimensions nor metrics (e.g. `function_request_id`).
    #[must_use]
    pub fn properties(&self) -> &[(&'a str, &'a str)] {
        &self.properties
    }

    /// The metrics that passed, in the group's order.
    #[must_use]
    pub fn metrics(&self) -> &[CheckedMetric<'a>] {
        &self.metrics
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::{EmfLayer, Exporter};

    /// One export as received: metric names with their values' sum, and dimension values.
    type Export = (Vec<(String, f64)>, Vec<String>);

    #[derive(Clone, Default)]
    struct Received(Arc<Mutex<Vec<Export>>>);

    impl Exporter for Received {
        fn export(&self, _ns: &str, group: &CheckedGroup<'_>, _ts: u64, _dropped: &Dropped) {
            let metrics = group
                .metrics()
                .iter()
                .map(|m| (m.name.to_string(), m.values.iter().sum()));
            let values = (0..group.dimension_count()).map(|i| group.dimension(i).1.to_string());
            self.0
                .lock()
                .unwrap()
                .push((metrics.collect(), values.collect()));
        }
    }

    #[test]
    fn exporters_receive_checked_groups_and_each_repair_is_counted_once() {
        let received = Received::default();
        let layer = EmfLayer::with_exporter(received.clone())
            .namespace("Shop")
            .build_unfiltered();
        let handle = layer.handle();
        handle.counter("orders", &[("route", "/café")]).add(1);
        handle.counter("bad\nname", &[]).add(1);
        handle.flush();
        let received = received.0.lock().unwrap().clone();
        let names: Vec<&str> = received
            .iter()
            .flat_map(|(metrics, _)| metrics.iter().map(|(n, _)| n.as_str()))
            .collect();
        assert!(names.contains(&"orders"), "{received:?}");
        assert!(
            !names.iter().any(|n| n.contains('\n')),
            "an invalid name never reaches an exporter: {received:?}"
        );
        assert!(
            received
                .iter()
                .any(|(_, dims)| dims.iter().any(|d| d == "/caf?")),
            "values are repaired before the exporter sees them: {received:?}"
        );
        // `instrument.dropped`, exported at the same flush, counts each problem once.
        let dropped = |reason: DropReason| -> f64 {
            received
                .iter()
                .filter(|(_, dims)| dims.last().map(String::as_str) == Some(reason.as_str()))
                .flat_map(|(metrics, _)| metrics.iter())
                .filter(|(name, _)| name == "instrument.dropped")
                .map(|(_, sum)| sum)
                .sum()
        };
        assert_eq!(dropped(DropReason::InvalidMetricName), 1.0, "{received:?}");
        assert_eq!(
            dropped(DropReason::InvalidDimensionValue),
            1.0,
            "{received:?}"
        );
    }
}
