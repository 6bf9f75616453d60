//! Shared by the EMF tests: every document is checked against AWS's published schema and
//! against the rules the schema does not encode.
#![allow(dead_code)]

use std::sync::OnceLock;

use serde_json::Value;

fn schema() -> &'static jsonschema::Validator {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let text = include_str!("../data/emf-schema.json");
        let schema: Value = serde_json::from_str(text).expect("schema is JSON");
        jsonschema::draft7::new(&schema).expect("schema compiles")
    })
}

/// Parses and validates one document; panics with every violation.
pub fn check(doc: &[u8]) -> Value {
    assert!(doc.ends_with(b"\n"), "a document is one line");
    let violations = instrument_emf::validate::document(doc);
    assert!(
        violations.is_empty(),
        "EMF rules broken in {}: {violations:#?}",
        String::from_utf8_lossy(doc)
    );
    let value: Value = serde_json::from_slice(doc).expect("JSON");
    let errors: Vec<String> = schema()
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "schema violations in {}: {errors:#?}",
        String::from_utf8_lossy(doc)
    );
    value
}

/// Validates every document; returns them parsed.
pub fn check_all(docs: &[Vec<u8>]) -> Vec<Value> {
    docs.iter().map(|d| check(d)).collect()
}

/// Metric names declared in a document.
pub fn declared(doc: &Value) -> Vec<String> {
    doc["_aws"]["CloudWatchMetrics"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|d| d["Metrics"].as_array().cloned().unwrap_or_default())
        .filter_map(|m| m["Name"].as_str().map(str::to_string))
        .collect()
}

/// Every value of metric `name` across documents.
pub fn values(docs: &[Value], name: &str) -> Vec<f64> {
    let mut out = Vec::new();
    for doc in docs {
        if !declared(doc).iter().any(|n| n == name) {
            continue;
        }
        match &doc[name] {
            Value::Array(vs) => out.extend(vs.iter().map(|v| v.as_f64().unwrap())),
            v => out.push(v.as_f64().unwrap()),
        }
    }
    out
}

pub fn sum(docs: &[Value], name: &str) -> f64 {
    values(docs, name).iter().sum()
}

/// The dimension sets of a document's first directive.
pub fn dimension_sets(doc: &Value) -> Value {
    doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"].clone()
}
