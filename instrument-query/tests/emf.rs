//! `emf check` and Metrics Insights on the examples' real EMF output and on deliberately broken
//! documents (tests/data/emf_broken.log).

mod common;

use std::collections::BTreeMap;

use common::*;
use instrument_query::emf_check::{check, CheckOptions};
use instrument_query::metrics_sql::MetricsQuery;
use instrument_query::{Input, Value};
use serde_json::Value as Json;

const EXAMPLES: &[&str] = &[
    "booking.log",
    "axum.log",
    "lambda.log",
    "lambda_deadline.log",
];

fn emf_docs(name: &str) -> Vec<(u64, Json)> {
    std::fs::read_to_string(fixture(name))
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("\"_aws\""))
        .map(|(i, l)| (i as u64 + 1, serde_json::from_str(l).unwrap()))
        .collect()
}

/// The time the fixture was captured: its first log line.
fn captured_at(name: &str) -> i64 {
    let first = std::fs::read_to_string(fixture(name))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let line: serde_json::Map<String, Json> = serde_json::from_str(&first).unwrap();
    millis(&line)
}

#[test]
fn every_document_the_encoder_wrote_passes() {
    for name in EXAMPLES {
        let docs = emf_docs(name);
        assert!(!docs.is_empty(), "{name} has EMF documents");
        let report = check(
            &[Input::Path(fixture(name))],
            &CheckOptions {
                now_ms: Some(captured_at(name)),
            },
        )
        .unwrap();
        assert!(report.is_ok(), "{name}: {report:?}");
        assert_eq!(report.documents.len(), docs.len());
        for (d, (line, doc)) in report.documents.iter().zip(&docs) {
            assert_eq!(d.line, *line);
            // Every metric × every dimension set of every directive.
            let expected: usize = doc["_aws"]["CloudWatchMetrics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|dir| {
                    dir["Metrics"].as_array().unwrap().len()
                        * dir["Dimensions"].as_array().unwrap().len()
                })
                .sum();
            assert_eq!(d.extracted.len(), expected, "{name}:{line}");
            for p in &d.extracted {
                let values = match &doc[&p.metric] {
                    Json::Array(v) => v.iter().map(|x| x.as_f64().unwrap()).collect(),
                    v => vec![v.as_f64().unwrap()],
                };
                assert_eq!(p.values, values);
                assert_eq!(p.timestamp_ms, doc["_aws"]["Timestamp"].as_i64().unwrap());
                for (k, v) in &p.dimensions {
                    assert_eq!(doc[k].as_str(), Some(v.as_str()));
                }
            }
        }
    }
}

#[test]
fn every_broken_document_is_flagged_with_its_reason() {
    let now = instrument_query::time::parse_rfc3339("2026-12-04T12:39:37.223Z").unwrap();
    let report = check(
        &[Input::Path(fixture("emf_broken.log"))],
        &CheckOptions { now_ms: Some(now) },
    )
    .unwrap();
    assert!(!report.is_ok());
    let by_line: BTreeMap<u64, Vec<String>> = report
        .documents
        .iter()
        .map(|d| (d.line, d.problems.clone()))
        .collect();
    let expect = |line: u64, needle: &str| {
        let problems = &by_line[&line];
        assert!(
            problems.iter().any(|p| p.contains(needle)),
            "line {line}: {problems:?} lacks {needle:?}"
        );
    };
    assert!(
        !by_line.contains_key(&1),
        "a plain log line is not an EMF document"
    );
    assert_eq!(
        by_line[&2],
        Vec::<String>::new(),
        "the valid document passes"
    );
    expect(3, "_aws is missing");
    expect(4, "metric \"misses\" is missing at the root");
    expect(5, "dimension set of 31 dimensions, over 30");
    expect(6, "value of 1025 characters");
    expect(7, "invalid Unit \"Parsecs\"");
    expect(8, "101 values");
    expect(9, "is not a number at the root");
    expect(10, "not a JSON object");
    assert_eq!(report.rejected(), 8);
    assert!(report
        .documents
        .iter()
        .filter(|d| !d.problems.is_empty())
        .all(|d| d.extracted.is_empty()));
}

#[test]
fn without_now_timestamps_are_checked_against_the_clock() {
    let report = check(
        &[Input::Path(fixture("booking.log"))],
        &CheckOptions::default(),
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let fresh = now - captured_at("booking.log") <= 14 * 86_400_000;
    // Once the fixture is older than 14 days, CloudWatch would reject every document.
    assert_eq!(report.is_ok(), fresh);
    if !fresh {
        assert!(report.documents.iter().all(|d| d
            .problems
            .iter()
            .any(|p| p.contains("outside 14 days past"))));
    }
}

/// Sum, count, min and max of `metric` in `namespace` per value of `group` dimensions, over
/// every dimension set (the reference for Metrics Insights).
fn reference(
    files: &[&str],
    namespace: &str,
    metric: &str,
    group: &[&str],
    schema: Option<&[&str]>,
) -> BTreeMap<Vec<Option<String>>, (f64, f64, f64, f64)> {
    let mut out: BTreeMap<Vec<Option<String>>, (f64, f64, f64, f64)> = BTreeMap::new();
    for f in files {
        for (_, doc) in emf_docs(f) {
            for dir in doc["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
                if dir["Namespace"] != namespace
                    || !dir["Metrics"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|m| m["Name"] == metric)
                {
                    continue;
                }
                for set in dir["Dimensions"].as_array().unwrap() {
                    let set: Vec<&str> = set
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|d| d.as_str().unwrap())
                        .collect();
                    if let Some(schema) = schema {
                        if set.len() != schema.len() || !schema.iter().all(|d| set.contains(d)) {
                            continue;
                        }
                    }
                    let key = group
                        .iter()
                        .map(|g| {
                            set.contains(g)
                                .then(|| doc[*g].as_str().unwrap().to_owned())
                        })
                        .collect();
                    let values: Vec<f64> = match &doc[metric] {
                        Json::Array(v) => v.iter().map(|x| x.as_f64().unwrap()).collect(),
                        v => vec![v.as_f64().unwrap()],
                    };
                    let e = out.entry(key).or_insert((0.0, 0.0, f64::MAX, f64::MIN));
                    for v in values {
                        e.0 += v;
                        e.1 += 1.0;
                        e.2 = e.2.min(v);
                        e.3 = e.3.max(v);
                    }
                }
            }
        }
    }
    out
}

fn metrics(sql: &str, files: &[&str]) -> instrument_query::Table {
    let inputs: Vec<Input> = files.iter().map(|f| Input::Path(fixture(f))).collect();
    MetricsQuery::new(sql).unwrap().run(&inputs).unwrap()
}

fn key(row: &[Value], n: usize) -> Vec<Option<String>> {
    row[..n]
        .iter()
        .map(|v| (!v.is_null()).then(|| v.to_string()))
        .collect()
}

#[test]
fn metrics_insights_group_by_matches_the_reference() {
    let files = &["axum.log"];
    let expected = reference(
        files,
        "Ticketing",
        "http_request.latency",
        &["route", "method"],
        None,
    );
    assert!(expected.len() >= 3);
    for (func, pick) in [
        ("SUM", 0usize),
        ("COUNT", 1),
        ("MIN", 2),
        ("MAX", 3),
        ("AVG", 4),
    ] {
        let t = metrics(
            &format!(
                "SELECT {func}(\"http_request.latency\") FROM \"Ticketing\" GROUP BY route, method"
            ),
            files,
        );
        assert_eq!(
            t.columns,
            ["route", "method", &format!("{func}(http_request.latency)")]
        );
        assert_eq!(t.rows.len(), expected.len());
        for row in &t.rows {
            let e = expected[&key(row, 2)];
            let want = [e.0, e.1, e.2, e.3, e.0 / e.1][pick];
            assert!(
                (num(&row[2]) - want).abs() < 1e-9,
                "{func}: {row:?} vs {want}"
            );
        }
    }
}

#[test]
fn metrics_insights_schema_where_order_and_limit() {
    let files = &["booking.log"];
    let expected = reference(
        files,
        "Ticketing",
        "pay.latency",
        &["service"],
        Some(&["service", "environment"]),
    );
    let t = metrics("SELECT SUM(\"pay.latency\") FROM SCHEMA(\"Ticketing\", service, environment) WHERE environment = 'dev' GROUP BY service", files);
    assert_eq!(t.rows.len(), expected.len());
    assert!((num(&t.rows[0][1]) - expected[&key(&t.rows[0], 1)].0).abs() < 1e-9);
    // A schema the metric never has: no rows.
    assert!(metrics(
        "SELECT SUM(\"pay.latency\") FROM SCHEMA(\"Ticketing\", service)",
        files
    )
    .rows
    .is_empty());
    // A WHERE that matches nothing.
    assert!(metrics(
        "SELECT SUM(\"pay.latency\") FROM \"Ticketing\" WHERE environment = 'prod'",
        files
    )
    .rows
    .is_empty());

    let files = &["axum.log"];
    let t = metrics("SELECT COUNT(\"http_request.latency\") FROM \"Ticketing\" WHERE route != 'unmatched' GROUP BY route ORDER BY COUNT() DESC LIMIT 2", files);
    assert_eq!(t.rows.len(), 2);
    let all = reference(files, "Ticketing", "http_request.latency", &["route"], None);
    let mut counts: Vec<f64> = all
        .iter()
        .filter(|(k, _)| k[0].as_deref() != Some("unmatched"))
        .map(|(_, e)| e.1)
        .collect();
    counts.sort_by(|a, b| b.total_cmp(a));
    assert_eq!(
        t.column("COUNT(http_request.latency)")
            .iter()
            .map(num)
            .collect::<Vec<_>>(),
        counts[..2]
    );
}

#[test]
fn metrics_insights_skips_rejected_documents() {
    let t = metrics("SELECT COUNT(hits) FROM \"Broken\"", &["emf_broken.log"]);
    assert_eq!(
        t.rows,
        vec![vec![Value::Num(1.0)]],
        "only the valid document counts"
    );
}

#[test]
fn metrics_insights_per_period_adds_up_to_the_whole() {
    let inputs = [Input::Path(fixture("lambda.log"))];
    let q =
        MetricsQuery::new("SELECT COUNT(\"reserve.latency\") FROM \"Ticketing\" GROUP BY service")
            .unwrap();
    let whole = q.run(&inputs).unwrap();
    let per_second = q.run_period(&inputs, Some(1_000)).unwrap();
    assert_eq!(per_second.columns[0], "timestamp");
    assert!(!whole.rows.is_empty());
    let total: f64 = per_second.rows.iter().map(|r| num(&r[2])).sum();
    assert_eq!(total, num(&whole.rows[0][1]));
    assert!(per_second
        .rows
        .iter()
        .all(|r| matches!(r[0], Value::Time(t) if t % 1_000 == 0)));
}
