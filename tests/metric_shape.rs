//! Issue 14 (parts 1, 4, 5): metrics shaped as dashboards and alarms need them — custom
//! dimensions on every metric, default dimensions chosen and renamed (or none), metric-only
//! events that write no line, metric bookkeeping kept out of lines, and a Powertools-compatible
//! `ColdStart`. Every document is checked against AWS's EMF schema.

mod emf_common;

use instrument::testing::Capture;
use serde_json::{json, Value};

#[instrument::track_performance]
fn reserve(seats: u32) -> Result<u32, std::io::Error> {
    Ok(seats)
}

fn documents(capture: &Capture) -> Vec<Value> {
    capture.flush();
    let raw = capture.raw_metric_documents();
    assert!(!raw.is_empty(), "no EMF document");
    emf_common::check_all(&raw)
}

/// The dimension sets of the document that declares `metric`.
fn sets_of(docs: &[Value], metric: &str) -> Value {
    let doc = docs
        .iter()
        .find(|d| emf_common::declared(d).iter().any(|m| m == metric))
        .unwrap_or_else(|| panic!("{metric} not declared: {docs:#?}"));
    emf_common::dimension_sets(doc)
}

fn record() {
    let _ = reserve(2);
    tracing::info!(counter.orders = 1, "ordered");
}

#[test]
fn a_custom_dimension_is_on_every_metric_from_code_or_environment() {
    let from_code = Capture::with(|b| {
        b.service("fleet")
            .dimension("InstanceId", "i-0abc")
            .dimension("Team", "payments")
    });
    let from_env = Capture::with(|b| {
        b.service("fleet").env_lookup(|name| {
            (name == "INSTRUMENT_DIMENSIONS").then(|| "InstanceId=i-0abc, Team=payments".into())
        })
    });
    for capture in [from_code, from_env] {
        capture.run(record);
        let docs = documents(&capture);
        for metric in ["reserve.success", "reserve.latency", "orders"] {
            assert_eq!(
                sets_of(&docs, metric),
                json!([["service", "InstanceId", "Team"]]),
                "{metric}"
            );
        }
        for doc in &docs {
            assert_eq!(doc["InstanceId"], "i-0abc");
            assert_eq!(doc["Team"], "payments");
        }
    }
}

#[test]
fn default_dimensions_can_be_renamed_chosen_or_switched_off() {
    let renamed = Capture::with(|b| {
        b.service("booking")
            .environment("prod")
            .dimension("InstanceId", "i-1")
            .default_dimensions(["InstanceId", "environment as Environment"])
    });
    renamed.run(record);
    let docs = documents(&renamed);
    assert_eq!(
        sets_of(&docs, "orders"),
        json!([["InstanceId", "Environment"]])
    );
    assert!(docs.iter().all(|d| d.get("service").is_none()));
    assert!(docs.iter().all(|d| d["Environment"] == "prod"));
    // The log line keeps its own keys: `service` and `environment`.
    let line = &renamed.logs()[0];
    assert_eq!(line["environment"], "prod");
    assert_eq!(line["service"], "booking");

    let none = Capture::with(|b| {
        b.service("booking")
            .env_lookup(|name| (name == "INSTRUMENT_DEFAULT_DIMENSIONS").then(|| "none".into()))
    });
    none.run(record);
    let docs = documents(&none);
    assert_eq!(sets_of(&docs, "orders"), json!([[]]));
    assert_eq!(sets_of(&docs, "reserve.success"), json!([[]]));
}

#[test]
fn a_default_dimension_without_a_value_is_an_error_that_names_it() {
    let error = instrument::builder()
        .env_lookup(|_| None)
        .service("booking")
        .default_dimensions(["service", "environment as Environment"])
        .build()
        .err()
        .expect("no environment is configured");
    let message = error.to_string();
    assert!(message.contains("default_dimensions"), "{message}");
    assert!(message.contains("\"environment\" has none"), "{message}");
    let bad = instrument::builder()
        .env_lookup(|name| (name == "INSTRUMENT_DIMENSIONS").then(|| "InstanceId".into()))
        .build()
        .err()
        .expect("not Name=value");
    assert!(bad.to_string().contains("INSTRUMENT_DIMENSIONS"), "{bad}");
}

#[test]
fn a_metric_only_event_writes_no_line_and_bookkeeping_never_reaches_a_line() {
    let capture = Capture::with(|b| b.service("shop"));
    capture.run(|| {
        tracing::info!(counter.orders = 1);
        tracing::info!(histogram.basket_bytes = 512, unit.basket_bytes = "Bytes");
        tracing::info!(
            counter.refunds = 1,
            unit.refunds = "Count",
            resolution.refunds = 1,
            "refunded"
        );
        let _span = tracing::info_span!("batch", gauge.depth = 3, unit.depth = "Count").entered();
        tracing::info!("inside");
    });
    let lines = capture.logs();
    let messages: Vec<&Value> = lines.iter().map(|l| &l["message"]).collect();
    assert_eq!(messages, ["refunded", "inside"], "{lines:#?}");
    for line in &lines {
        let keys: Vec<&String> = line.as_object().unwrap().keys().collect();
        assert!(
            keys.iter()
                .all(|k| !k.starts_with("unit.") && !k.starts_with("resolution.")),
            "{line}"
        );
    }
    assert_eq!(
        lines[0]["counter.refunds"], 1,
        "metric fields stay in their line"
    );
    assert_eq!(capture.metric_sum("orders"), 1.0);
    assert_eq!(capture.metric_sum("basket_bytes"), 512.0);

    let back_on = Capture::with(|b| {
        b.env_lookup(|name| (name == "INSTRUMENT_LOG_METRIC_EVENTS").then(|| "on".into()))
    });
    back_on.run(|| tracing::info!(counter.orders = 1));
    assert_eq!(back_on.logs().len(), 1, "configurable back on");
}

#[test]
fn cold_start_has_powertools_dimensions_or_every_default_one() {
    let lambda = |mode: Option<&'static str>| {
        Capture::with(move |b| {
            b.service("validator")
                .environment("prod")
                .env_lookup(move |name| match name {
                    "AWS_LAMBDA_FUNCTION_NAME" => Some("validator-fn".into()),
                    "AWS_LAMBDA_INITIALIZATION_TYPE" => Some("on-demand".into()),
                    "INSTRUMENT_COLD_START_DIMENSIONS" => mode.map(String::from),
                    _ => None,
                })
        })
    };
    for (mode, expected) in [
        (None, json!([["function_name", "service"]])),
        (Some("powertools"), json!([["function_name", "service"]])),
        (
            Some("all"),
            json!([["function_name", "service", "environment"]]),
        ),
    ] {
        let capture = lambda(mode);
        capture.run(|| {
            let _invocation =
                tracing::info_span!("invocation", function_request_id = "req-1").entered();
            tracing::info!(counter.validated = 1, "validated");
        });
        let docs = documents(&capture);
        assert_eq!(sets_of(&docs, "ColdStart"), expected, "{mode:?}");
        let cold = docs.iter().find(|d| d.get("ColdStart").is_some()).unwrap();
        assert_eq!(cold["function_name"], "validator-fn");
        assert_eq!(cold["service"], "validator");
        assert_eq!(cold["function_request_id"], "req-1");
        // Other metrics keep the default dimensions.
        assert_eq!(
            sets_of(&docs, "validated"),
            json!([["service", "environment"]])
        );
    }
}

#[test]
fn rollups_publish_a_metric_under_several_sets_with_each_value_written_once() {
    let capture = Capture::with(|b| b.service("api").rollups([vec![], vec!["route"]]));
    capture.run(|| {
        for (route, method, ms) in [
            ("/book", "POST", 12.0),
            ("/book", "GET", 3.0),
            ("/pay", "POST", 40.0),
        ] {
            tracing::info!(
                dimension.route = route,
                dimension.method = method,
                counter.requests = 1,
                histogram.request_ms = ms
            );
        }
    });
    let docs = documents(&capture);
    assert_eq!(
        docs.len(),
        3,
        "one document per route and method: {docs:#?}"
    );
    let mut latencies = Vec::new();
    for doc in &docs {
        assert_eq!(
            emf_common::dimension_sets(doc),
            json!([
                ["service", "route", "method"],
                ["service"],
                ["service", "route"]
            ])
        );
        assert_eq!(
            doc["requests"], 1,
            "each value once, whatever the number of sets"
        );
        latencies.push(doc["request_ms"].as_f64().unwrap());
    }
    latencies.sort_by(f64::total_cmp);
    assert_eq!(latencies, [3.0, 12.0, 40.0]);

    // The default: every metric under the default dimensions alone too; `none`: only its own.
    let default = Capture::with(|b| b.service("api"));
    let off = Capture::with(|b| {
        b.service("api")
            .env_lookup(|name| (name == "INSTRUMENT_ROLLUPS").then(|| "none".into()))
    });
    for (capture, expected) in [
        (&default, json!([["service", "route"], ["service"]])),
        (&off, json!([["service", "route"]])),
    ] {
        capture.run(|| tracing::info!(dimension.route = "/book", counter.requests = 1));
        let docs = documents(capture);
        assert_eq!(emf_common::dimension_sets(&docs[0]), expected);
    }
}

#[test]
fn the_thirty_dimension_limit_holds_with_several_sets() {
    let capture = Capture::with(|b| {
        let mut b = b.service("wide").rollups([vec![], vec!["d1", "d2"]]);
        for i in 0..27 {
            b = b.dimension(format!("fleet{i}"), "x");
        }
        b
    });
    capture.run(|| {
        tracing::info!(
            dimension.d1 = "a",
            dimension.d2 = "b",
            dimension.d3 = "c",
            dimension.d4 = "d",
            counter.wide = 1
        )
    });
    let docs = documents(&capture);
    let doc = docs.iter().find(|d| d.get("wide").is_some()).unwrap();
    for set in emf_common::dimension_sets(doc).as_array().unwrap() {
        assert!(set.as_array().unwrap().len() <= 30, "{set}");
    }
    assert_eq!(doc["wide"], 1);
}
