//! Boundaries of the EMF encoder: 99/100/101 metrics, values and dimensions, 256 KB.

mod emf_common;

use emf_common::{check_all, declared, values};
use instrument_emf::{DropReason, Dropped, Encoder, Group, Metric, Unit};
use serde_json::Value;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn encode(group: &Group<'_>) -> (Vec<Value>, Dropped) {
    let dropped = Dropped::default();
    let mut docs = Vec::new();
    Encoder::new("Boundaries").encode(group, now_ms(), &dropped, &mut |d| docs.push(d.to_vec()));
    (check_all(&docs), dropped)
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("metric_{i:03}")).collect()
}

#[test]
fn metric_definitions_99_100_101() {
    for (n, expected_docs) in [(99, 1), (100, 1), (101, 2)] {
        let names = names(n);
        let one = [1.0];
        let group = Group {
            dimensions: vec![("service", "svc")],
            metrics: names
                .iter()
                .map(|name| Metric {
                    name,
                    unit: Unit::Count,
                    resolution: 60,
                    values: &one,
                })
                .collect(),
            ..Group::default()
        };
        let (docs, dropped) = encode(&group);
        assert_eq!(docs.len(), expected_docs, "{n} metrics");
        let mut all: Vec<String> = docs.iter().flat_map(declared).collect();
        all.sort();
        assert_eq!(all, names, "every metric exactly once");
        assert_eq!(dropped.total_all(), 0);
        for doc in &docs {
            assert_eq!(doc["service"], "svc", "dimensions repeated in every split");
        }
    }
}

#[test]
fn values_per_metric_99_100_101() {
    for (n, expected_docs) in [(99, 1), (100, 1), (101, 2), (250, 3)] {
        let vals: Vec<f64> = (0..n).map(|i| i as f64 + 0.5).collect();
        let group = Group {
            metrics: vec![
                Metric {
                    name: "latency",
                    unit: Unit::Milliseconds,
                    resolution: 60,
                    values: &vals,
                },
                Metric {
                    name: "calls",
                    unit: Unit::Count,
                    resolution: 60,
                    values: &[7.0],
                },
            ],
            ..Group::default()
        };
        let (docs, _) = encode(&group);
        assert_eq!(docs.len(), expected_docs, "{n} values");
        assert_eq!(values(&docs, "latency"), vals, "every value, in order");
        assert_eq!(values(&docs, "calls"), [7.0], "a counter is emitted once");
    }
}

#[test]
fn dimensions_29_30_31() {
    for n in [29usize, 30, 31] {
        let dims: Vec<(String, String)> = (0..n)
            .map(|i| (format!("dim_{i:02}"), format!("v{i}")))
            .collect();
        let group = Group {
            dimensions: dims.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
            metrics: vec![Metric {
                name: "calls",
                unit: Unit::Count,
                resolution: 60,
                values: &[1.0],
            }],
            ..Group::default()
        };
        let (docs, dropped) = encode(&group);
        assert_eq!(docs.len(), 1);
        let set = docs[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(set, n.min(30), "{n} dimensions");
        assert_eq!(
            dropped.total(DropReason::TooManyDimensions),
            n.saturating_sub(30) as u64
        );
        assert!(
            docs[0].get("dim_30").is_none(),
            "an unreferenced dimension is not written"
        );
    }
}

#[test]
fn documents_over_256_kb_are_split_and_nothing_is_lost() {
    // 100 metrics of 100 values with long names, a long dimension and a 150 KB property:
    // over 256 KB in one document.
    let names: Vec<String> = (0..100)
        .map(|i| format!("{}_{i:03}", "m".repeat(240)))
        .collect();
    let vals: Vec<f64> = (0..100).map(|i| 1.0e-7 + f64::from(i) / 7.0e7).collect();
    let long_value = "x".repeat(1024);
    let big_property = "p".repeat(150 * 1024);
    let group = Group {
        dimensions: vec![("service", "svc"), ("tenant", &long_value)],
        properties: vec![("function_request_id", "req-1"), ("payload", &big_property)],
        metrics: names
            .iter()
            .map(|name| Metric {
                name,
                unit: Unit::Milliseconds,
                resolution: 1,
                values: &vals,
            })
            .collect(),
        ..Group::default()
    };
    let (docs, dropped) = encode(&group);
    assert!(
        docs.len() > 1,
        "split: {} documents, {:?} bytes",
        docs.len(),
        docs.iter()
            .map(|d| serde_json::to_vec(d).unwrap().len())
            .collect::<Vec<_>>()
    );
    for doc in &docs {
        let size = serde_json::to_vec(doc).unwrap().len();
        assert!(size <= 256 * 1024, "{size} bytes");
        assert_eq!(doc["function_request_id"], "req-1");
        assert_eq!(doc["payload"].as_str().unwrap().len(), 150 * 1024);
        assert_eq!(doc["tenant"].as_str().unwrap().len(), 1024);
        for metric in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
        {
            assert_eq!(metric["StorageResolution"], 1);
        }
    }
    for name in &names {
        assert_eq!(values(&docs, name).len(), 100, "{name}");
    }
    assert_eq!(dropped.total_all(), 0);
}

#[test]
fn a_document_just_under_and_just_over_the_limit() {
    // One metric whose document lands near 256 KB: grow the dimension-free payload by values.
    let vals: Vec<f64> = vec![123_456.789_012; 100];
    let name_len = 200;
    for metrics in [90usize, 100] {
        let names: Vec<String> = (0..metrics)
            .map(|i| format!("{}{i:03}", "n".repeat(name_len)))
            .collect();
        let group = Group {
            metrics: names
                .iter()
                .map(|name| Metric {
                    name,
                    unit: Unit::None,
                    resolution: 60,
                    values: &vals,
                })
                .collect(),
            ..Group::default()
        };
        let (docs, _) = encode(&group);
        let total: usize = docs.iter().map(|d| declared(d).len()).sum();
        assert_eq!(total, metrics);
        for doc in &docs {
            assert!(serde_json::to_vec(doc).unwrap().len() <= 256 * 1024);
        }
    }
}

#[test]
fn invalid_input_is_dropped_or_repaired_never_emitted() {
    let long_name = "n".repeat(256);
    let long_value = "v".repeat(1025);
    let group = Group {
        dimensions: vec![
            ("service", "svc"),
            ("tenant", &long_value),
            ("", "empty name"),
            ("empty", ""),
            (":colon", "x"),
            ("_aws", "x"),
        ],
        properties: vec![("_aws", "x"), ("service", "shadow"), ("trace", "t")],
        metrics: vec![
            Metric {
                name: "ok",
                unit: Unit::Count,
                resolution: 60,
                values: &[1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 2.0],
            },
            Metric {
                name: "",
                unit: Unit::Count,
                resolution: 60,
                values: &[1.0],
            },
            Metric {
                name: &long_name,
                unit: Unit::Count,
                resolution: 60,
                values: &[1.0],
            },
            Metric {
                name: "_aws",
                unit: Unit::Count,
                resolution: 60,
                values: &[1.0],
            },
            Metric {
                name: "service",
                unit: Unit::Count,
                resolution: 60,
                values: &[1.0],
            },
            Metric {
                name: "all_nan",
                unit: Unit::Count,
                resolution: 60,
                values: &[f64::NAN],
            },
            Metric {
                name: "odd_resolution",
                unit: Unit::Count,
                resolution: 5,
                values: &[1.0],
            },
        ],
        ..Group::default()
    };
    let (docs, dropped) = encode(&group);
    assert_eq!(docs.len(), 1);
    let doc = &docs[0];
    assert_eq!(values(&docs, "ok"), [1.0, 2.0]);
    assert_eq!(declared(doc), ["ok", "odd_resolution"]);
    assert_eq!(doc["tenant"].as_str().unwrap().chars().count(), 1024);
    assert_eq!(doc["service"], "svc");
    assert_eq!(doc["trace"], "t");
    assert_eq!(dropped.total(DropReason::NonFiniteValue), 4);
    assert_eq!(dropped.total(DropReason::InvalidMetricName), 2);
    assert_eq!(dropped.total(DropReason::DimensionValueTooLong), 1);
    assert_eq!(dropped.total(DropReason::EmptyDimensionValue), 1);
    assert_eq!(dropped.total(DropReason::InvalidDimensionName), 3);
    // `_aws` and `service` as property, `_aws` and `service` as metric.
    assert_eq!(dropped.total(DropReason::NameConflict), 4);
}

#[test]
fn an_invalid_namespace_is_replaced() {
    for bad in ["", "   ", "ünïcode", ":leading"] {
        assert_eq!(Encoder::new(bad).namespace(), "instrument", "{bad:?}");
    }
    assert_eq!(Encoder::new("Ticketing/Prod").namespace(), "Ticketing/Prod");
}

/// Issue 13 (10): a metric name CloudWatch rejects (a line break fails the schema's
/// `^(.*)$`) is dropped alone, counted, and never invalidates its document's other metrics;
/// dimension values with control or non-ASCII characters are repaired, whitespace-only ones
/// dropped, each counted; and the validator flags such documents.
#[test]
fn names_and_values_cloudwatch_rejects_are_dropped_or_repaired() {
    let one = [1.0];
    let metric = |name| Metric {
        name,
        unit: Unit::Count,
        resolution: 60,
        values: &one,
    };
    let group = Group {
        dimensions: vec![
            ("service", "svc"),
            ("route", "/caf\u{e9}\n"),
            ("tenant", "   "),
        ],
        metrics: vec![metric("orders"), metric("bad\nname"), metric("  ")],
        ..Group::default()
    };
    let (docs, dropped) = encode(&group);
    assert_eq!(docs.len(), 1);
    assert_eq!(declared(&docs[0]), vec!["orders".to_string()]);
    assert_eq!(docs[0]["route"], "/caf??");
    assert!(docs[0].get("tenant").is_none());
    assert_eq!(dropped.total(DropReason::InvalidMetricName), 2);
    assert_eq!(dropped.total(DropReason::InvalidDimensionValue), 1);
    assert_eq!(dropped.total(DropReason::EmptyDimensionValue), 1);

    let now = now_ms();
    for (doc, what) in [
        (
            format!(
                r#"{{"_aws":{{"Timestamp":{now},"CloudWatchMetrics":[{{"Namespace":"N","Dimensions":[["d"]],"Metrics":[{{"Name":"a\nb"}}]}}]}},"d":"v","a\nb":1}}"#
            ),
            "metric name with a line break",
        ),
        (
            format!(
                r#"{{"_aws":{{"Timestamp":{now},"CloudWatchMetrics":[{{"Namespace":"N","Dimensions":[["d"]],"Metrics":[{{"Name":"m"}}]}}]}},"d":"caf\u00e9","m":1}}"#
            ),
            "non-ASCII dimension value",
        ),
        (
            format!(
                r#"{{"_aws":{{"Timestamp":{now},"CloudWatchMetrics":[{{"Namespace":"N","Dimensions":[["d"]],"Metrics":[{{"Name":"m"}}]}}]}},"d":"  ","m":1}}"#
            ),
            "whitespace-only dimension value",
        ),
    ] {
        assert!(
            !instrument_emf::validate::document(doc.as_bytes()).is_empty(),
            "the validator must flag a {what}"
        );
    }
}
