//! The catalog next to what a captured log actually holds: the metric names of its EMF
//! documents, as CloudWatch extracts them (`instrument_query::emf`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;

use serde::Serialize;

use super::{Catalog, When};

/// The metric names a captured log's EMF documents hold, each with its namespaces and
/// dimension sets.
///
/// ```
/// let log = br#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["service"]],"Metrics":[{"Name":"pay.success"}]}]},"service":"s","pay.success":1}
/// {"level":"INFO","message":"not a metric"}"#;
/// let captured = instrument_cli::catalog::captured_metrics(&log[..]).unwrap();
/// assert_eq!(captured["pay.success"].dimension_sets.iter().next().unwrap(), &vec!["service".to_string()]);
/// ```
///
/// # Errors
///
/// Reading fails.
pub fn captured_metrics(reader: impl BufRead) -> std::io::Result<BTreeMap<String, Captured>> {
    let mut out: BTreeMap<String, Captured> = BTreeMap::new();
    for line in reader.split(b'\n') {
        let line = line?;
        if !instrument_query::emf::is_candidate(&line) {
            continue;
        }
        let Ok(serde_json::Value::Object(doc)) = serde_json::from_slice(&line) else {
            continue;
        };
        for point in instrument_query::emf::extract(&doc) {
            let entry = out.entry(point.metric).or_default();
            entry.namespaces.insert(point.namespace);
            entry
                .dimension_sets
                .insert(point.dimensions.into_iter().map(|(k, _)| k).collect());
        }
    }
    Ok(out)
}

/// [`captured_metrics`] of the files at `paths`.
///
/// # Errors
///
/// A file cannot be read.
pub fn captured_in_files(
    paths: &[impl AsRef<Path>],
) -> std::io::Result<BTreeMap<String, Captured>> {
    let mut all: BTreeMap<String, Captured> = BTreeMap::new();
    for path in paths {
        let file = std::fs::File::open(path.as_ref())?;
        for (name, c) in captured_metrics(std::io::BufReader::new(file))? {
            let entry = all.entry(name).or_default();
            entry.namespaces.extend(c.namespaces);
            entry.dimension_sets.extend(c.dimension_sets);
        }
    }
    Ok(all)
}

/// One metric name of a capture.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Captured {
    /// The namespaces it was published under.
    pub namespaces: BTreeSet<String>,
    /// Its dimension sets (names only).
    pub dimension_sets: BTreeSet<Vec<String>>,
}

/// The differences between a catalog and a capture.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Comparison {
    /// In both.
    pub matched: Vec<String>,
    /// Emitted, but no source declares it: a metric from code the catalog did not read, a
    /// name built at run time, or `instrument.dropped` (something was dropped).
    pub undeclared: Vec<String>,
    /// Declared, published on every call or event, never emitted: not called in the capture,
    /// or renamed.
    pub missing: Vec<String>,
    /// Declared for a case the capture did not exercise (errors, panics, cancellations, 4xx,
    /// 5xx, cold starts), with that case.
    pub not_exercised: Vec<(String, When)>,
}

impl Comparison {
    /// Compares `catalog` with `captured`.
    #[must_use]
    pub fn new(catalog: &Catalog, captured: &BTreeMap<String, Captured>) -> Comparison {
        let mut out = Comparison::default();
        let declared = catalog.metrics();
        for metric in &declared {
            if captured.contains_key(&metric.name) {
                out.matched.push(metric.name.clone());
            } else if metric.when.is_conditional() {
                out.not_exercised.push((metric.name.clone(), metric.when));
            } else {
                out.missing.push(metric.name.clone());
            }
        }
        out.undeclared = captured
            .keys()
            .filter(|name| !declared.iter().any(|m| &m.name == *name))
            .cloned()
            .collect();
        out
    }

    /// No undeclared and no missing metric.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.undeclared.is_empty() && self.missing.is_empty()
    }

    /// The report, for people.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "compared with the capture: {} declared and emitted, {} emitted but undeclared, \
             {} declared but never emitted, {} not exercised",
            self.matched.len(),
            self.undeclared.len(),
            self.missing.len(),
            self.not_exercised.len()
        );
        for name in &self.undeclared {
            let _ = writeln!(out, "  emitted but undeclared:     {name}");
        }
        for name in &self.missing {
            let _ = writeln!(out, "  declared but never emitted: {name}");
        }
        for (name, when) in &self.not_exercised {
            let _ = writeln!(
                out,
                "  not exercised:              {name} (on {})",
                when.describe()
            );
        }
        out
    }
}
