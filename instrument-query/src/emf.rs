//! What CloudWatch extracts from an EMF document: for every directive, every metric × every
//! dimension set becomes a series (namespace, metric name, dimension values, unit, storage
//! resolution), with the document's values at its `_aws.Timestamp`.

use serde_json::{Map, Value as Json};

/// Values of one metric under one dimension set of one document.
#[derive(Debug, Clone, PartialEq)]
pub struct Datapoint {
    /// The directive's namespace.
    pub namespace: String,
    /// The metric name.
    pub metric: String,
    /// The unit (`None` when the definition has none; CloudWatch then uses `None`).
    pub unit: Option<String>,
    /// 1 (high resolution) or 60.
    pub storage_resolution: u64,
    /// The dimension set's names and their values, in the set's order.
    pub dimensions: Vec<(String, String)>,
    /// `_aws.Timestamp`, epoch milliseconds.
    pub timestamp_ms: i64,
    /// The values (a number, or each member of an array).
    pub values: Vec<f64>,
}

/// Whether a line looks like an EMF document (it mentions `_aws` or `CloudWatchMetrics`), so
/// that `emf check` examines it even when it is broken.
///
/// ```
/// assert!(instrument_query::emf::is_candidate(br#"{"_aws":{}}"#));
/// assert!(!instrument_query::emf::is_candidate(br#"{"level":"INFO"}"#));
/// ```
pub fn is_candidate(line: &[u8]) -> bool {
    memchr::memmem::find(line, b"\"_aws\"").is_some()
        || memchr::memmem::find(line, b"CloudWatchMetrics").is_some()
}

/// The series CloudWatch extracts from a parsed document. Only call this for a document that
/// passes the EMF rules (see [`crate::emf_check`]); parts that do not have the expected shape
/// are skipped.
///
/// ```
/// let doc: serde_json::Value = serde_json::from_str(r#"{"_aws":{"Timestamp":1000,"CloudWatchMetrics":[
///     {"Namespace":"N","Dimensions":[["service"],["service","route"]],"Metrics":[{"Name":"hits","Unit":"Count"}]}]},
///     "service":"api","route":"/a","hits":[1,2]}"#).unwrap();
/// let points = instrument_query::emf::extract(doc.as_object().unwrap());
/// assert_eq!(points.len(), 2); // one metric × two dimension sets
/// assert_eq!(points[1].dimensions, vec![("service".into(), "api".into()), ("route".into(), "/a".into())]);
/// assert_eq!(points[0].values, vec![1.0, 2.0]);
/// ```
pub fn extract(root: &Map<String, Json>) -> Vec<Datapoint> {
    let mut out = Vec::new();
    let Some(aws) = root.get("_aws").and_then(Json::as_object) else {
        return out;
    };
    let timestamp_ms = aws.get("Timestamp").and_then(Json::as_i64).unwrap_or(0);
    let directives = aws.get("CloudWatchMetrics").and_then(Json::as_array);
    for directive in directives.into_iter().flatten().filter_map(Json::as_object) {
        let namespace = directive
            .get("Namespace")
            .and_then(Json::as_str)
            .unwrap_or_default();
        let empty = Vec::new();
        let sets = directive
            .get("Dimensions")
            .and_then(Json::as_array)
            .unwrap_or(&empty);
        let metrics = directive
            .get("Metrics")
            .and_then(Json::as_array)
            .unwrap_or(&empty);
        for set in sets.iter().filter_map(Json::as_array) {
            let dimensions: Option<Vec<(String, String)>> = set
                .iter()
                .map(|name| {
                    let name = name.as_str()?;
                    Some((name.to_owned(), root.get(name)?.as_str()?.to_owned()))
                })
                .collect();
            let Some(dimensions) = dimensions else {
                continue;
            };
            for metric in metrics.iter().filter_map(Json::as_object) {
                let Some(name) = metric.get("Name").and_then(Json::as_str) else {
                    continue;
                };
                let values: Vec<f64> = match root.get(name) {
                    Some(Json::Array(items)) => items.iter().filter_map(Json::as_f64).collect(),
                    Some(v) => v.as_f64().into_iter().collect(),
                    None => continue,
                };
                out.push(Datapoint {
                    namespace: namespace.to_owned(),
                    metric: name.to_owned(),
                    unit: metric.get("Unit").and_then(Json::as_str).map(str::to_owned),
                    storage_resolution: metric
                        .get("StorageResolution")
                        .and_then(Json::as_u64)
                        .unwrap_or(60),
                    dimensions: dimensions.clone(),
                    timestamp_ms,
                    values,
                });
            }
        }
    }
    out
}
