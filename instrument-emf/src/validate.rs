//! Checks an EMF document against every rule CloudWatch enforces, including those the published
//! JSON schema does not encode. Used by `instrument::testing::Capture` and the test suite.

use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::limits::{
    dimension_name_ok, dimension_value_problem, metric_name_problem, MAX_DIMENSIONS,
    MAX_DIMENSION_VALUE, MAX_DOCUMENT_BYTES, MAX_METRICS, MAX_VALUES,
};
use crate::unit::Unit;

/// Validates one EMF document (one line, a trailing newline allowed); returns every violation.
///
/// ```
/// let ok = br#"{"_aws":{"Timestamp":TS,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["service"]],"Metrics":[{"Name":"x","Unit":"Count"}]}]},"service":"a","x":1}"#;
/// let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
/// let doc = String::from_utf8(ok.to_vec()).unwrap().replace("TS", &now.to_string());
/// assert_eq!(instrument_emf::validate::document(doc.as_bytes()), Vec::<String>::new());
/// assert!(!instrument_emf::validate::document(br#"{"x":1}"#).is_empty());
/// ```
pub fn document(bytes: &[u8]) -> Vec<String> {
    let mut errors = Vec::new();
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if body.contains(&b'\n') {
        errors.push("a document must be one line".into());
    }
    if body.len() > MAX_DOCUMENT_BYTES {
        errors.push(format!(
            "document is {} bytes, over {MAX_DOCUMENT_BYTES}",
            body.len()
        ));
    }
    let root = match parse_unique(body) {
        Ok(root) => root,
        Err(e) => {
            errors.push(e);
            return errors;
        }
    };
    let Some(aws) = root.get("_aws").and_then(Value::as_object) else {
        errors.push("_aws is missing or not an object".into());
        return errors;
    };
    match aws.get("Timestamp").and_then(Value::as_u64) {
        None => errors.push("_aws.Timestamp is missing or not a non-negative integer".into()),
        Some(ts) => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let past = Duration::from_secs(14 * 86_400).as_millis() as u64;
            let future = Duration::from_secs(2 * 3_600).as_millis() as u64;
            if ts + past < now || ts > now + future {
                errors.push(format!(
                    "_aws.Timestamp {ts} is outside 14 days past / 2 hours future"
                ));
            }
        }
    }
    let Some(directives) = aws.get("CloudWatchMetrics").and_then(Value::as_array) else {
        errors.push("_aws.CloudWatchMetrics is missing or not an array".into());
        return errors;
    };
    for (d, directive) in directives.iter().enumerate() {
        let here = Here(d);
        let Some(directive) = directive.as_object() else {
            errors.push(format!("{here} is not an object"));
            continue;
        };
        match directive.get("Namespace").and_then(Value::as_str) {
            Some(ns) if !ns.is_empty() && ns.chars().count() <= 1024 => {}
            _ => errors.push(format!("{here}.Namespace is missing, empty or too long")),
        }
        match directive.get("Dimensions").and_then(Value::as_array) {
            None => errors.push(format!("{here}.Dimensions is missing or not an array")),
            Some(sets) if sets.is_empty() => errors.push(format!(
                "{here}.Dimensions needs at least one dimension set"
            )),
            Some(sets) => {
                for set in sets {
                    let Some(set) = set.as_array() else {
                        errors.push(format!("{here}.Dimensions has a set that is not an array"));
                        continue;
                    };
                    if set.len() > MAX_DIMENSIONS {
                        errors.push(format!(
                            "{here} has a dimension set of {} dimensions, over {MAX_DIMENSIONS}",
                            set.len()
                        ));
                    }
                    for name in set {
                        let Some(name) = name.as_str() else {
                            errors
                                .push(format!("{here} has a dimension name that is not a string"));
                            continue;
                        };
                        if !dimension_name_ok(name) {
                            errors.push(format!(
                                "{here}: dimension name {name:?} is not 1 to 250 printable \
                                 ASCII characters (not starting with `:`)"
                            ));
                        }
                        match root.get(name) {
                            Some(Value::String(v)) => {
                                if let Some(problem) = dimension_value_problem(v) {
                                    let n = v.chars().count();
                                    errors.push(if n == 0 || n > MAX_DIMENSION_VALUE {
                                        format!(
                                            "dimension {name:?} has a value of {n} characters \
                                             (1 to {MAX_DIMENSION_VALUE})"
                                        )
                                    } else {
                                        format!("dimension {name:?} has a value that {problem}")
                                    });
                                }
                            }
                            Some(_) => errors
                                .push(format!("dimension {name:?} is not a string at the root")),
                            None => {
                                errors.push(format!("dimension {name:?} is missing at the root"))
                            }
                        }
                    }
                }
            }
        }
        let Some(metrics) = directive.get("Metrics").and_then(Value::as_array) else {
            errors.push(format!("{here}.Metrics is missing or not an array"));
            continue;
        };
        if metrics.len() > MAX_METRICS {
            errors.push(format!(
                "{here} has {} metric definitions, over {MAX_METRICS}",
                metrics.len()
            ));
        }
        for metric in metrics {
            let Some(metric) = metric.as_object() else {
                errors.push(format!(
                    "{here} has a metric definition that is not an object"
                ));
                continue;
            };
            let Some(name) = metric.get("Name").and_then(Value::as_str) else {
                errors.push(format!("{here} has a metric without a string Name"));
                continue;
            };
            if let Some(problem) = metric_name_problem(name) {
                errors.push(format!("metric name {name:?} {problem}"));
            }
            if let Some(unit) = metric.get("Unit") {
                let valid = unit
                    .as_str()
                    .and_then(Unit::parse)
                    .is_some_and(|u| Some(u.as_str()) == unit.as_str());
                if !valid {
                    errors.push(format!("metric {name:?} has an invalid Unit {unit}"));
                }
            }
            if let Some(resolution) = metric.get("StorageResolution") {
                if !matches!(resolution.as_u64(), Some(1 | 60)) {
                    errors.push(format!(
                        "metric {name:?} has StorageResolution {resolution}, not 1 or 60"
                    ));
                }
            }
            match root.get(name) {
                Some(Value::Number(n)) if n.as_f64().is_some_and(f64::is_finite) => {}
                Some(Value::Array(values)) => {
                    if values.is_empty() || values.len() > MAX_VALUES {
                        errors.push(format!(
                            "metric {name:?} has {} values (1 to {MAX_VALUES})",
                            values.len()
                        ));
                    }
                    if !values
                        .iter()
                        .all(|v| v.as_f64().is_some_and(f64::is_finite))
                    {
                        errors.push(format!(
                            "metric {name:?} has a value that is not a finite number"
                        ));
                    }
                }
                Some(other) => errors.push(format!(
                    "metric {name:?} is not a number at the root: {other}"
                )),
                None => errors.push(format!("metric {name:?} is missing at the root")),
            }
        }
    }
    errors
}

struct Here(usize);

impl fmt::Display for Here {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "_aws.CloudWatchMetrics[{}]", self.0)
    }
}

/// Parses a JSON object, rejecting duplicate keys at the root (serde_json keeps the last one).
fn parse_unique(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    use serde::de::{Deserializer, MapAccess, Visitor};
    struct Unique;
    impl<'de> Visitor<'de> for Unique {
        type Value = Map<String, Value>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
            let mut map = Map::new();
            let mut seen = HashSet::new();
            while let Some((k, v)) = access.next_entry::<String, Value>()? {
                if !seen.insert(k.clone()) {
                    return Err(serde::de::Error::custom(format!("duplicate key {k:?}")));
                }
                map.insert(k, v);
            }
            Ok(map)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let map = de
        .deserialize_map(Unique)
        .map_err(|e| format!("not a JSON object: {e}"))?;
    de.end().map_err(|e| format!("trailing data: {e}"))?;
    Ok(map)
}
