//! Shared helpers: fixtures and a straightforward reference implementation of what the tests
//! expect (independent of the engine).

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

use instrument_query::{Input, LogsQuery, Options, Table, Value};
use serde_json::Value as Json;

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The JSON log lines (not EMF documents) of fixtures.
pub fn log_lines(names: &[&str]) -> Vec<serde_json::Map<String, Json>> {
    names
        .iter()
        .flat_map(|n| {
            std::fs::read_to_string(fixture(n))
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter_map(|l| serde_json::from_str::<serde_json::Map<String, Json>>(&l).ok())
        .filter(|m| !m.contains_key("_aws"))
        .collect()
}

pub fn run(query: &str, files: &[&str]) -> Table {
    let inputs: Vec<Input> = files.iter().map(|f| Input::Path(fixture(f))).collect();
    LogsQuery::new(query)
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .run(&inputs, &Options::default())
        .unwrap()
}

pub fn run_saved(name: &str, params: &[(&str, &str)], files: &[&str]) -> Table {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let text = instrument_query::pack::find(name)
        .unwrap()
        .render(&params)
        .unwrap();
    run(&text, files)
}

/// Nearest-rank percentile.
pub fn pct(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64)
        .ceil()
        .clamp(1.0, v.len() as f64) as usize;
    v[rank - 1]
}

pub fn num(v: &Value) -> f64 {
    match v {
        Value::Num(n) => *n,
        other => panic!("not a number: {other:?}"),
    }
}

pub fn text(v: &Value) -> String {
    v.to_string()
}

pub fn millis(line: &serde_json::Map<String, Json>) -> i64 {
    instrument_query::time::parse_rfc3339(line["timestamp"].as_str().unwrap()).unwrap()
}

pub fn s(x: &str) -> Value {
    Value::Str(x.into())
}

pub fn n(x: f64) -> Value {
    Value::Num(x)
}
