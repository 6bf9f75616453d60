//! The EMF layer end to end: conventions, invalid input, Lambda flushes, exactness under
//! concurrency. Tracked-call spans are written by hand here in the shape `#[track_performance]`
//! produces (function, outcome, latency_ms, error_type).

mod emf_common;

use std::sync::Arc;

use emf_common::{check_all, declared, dimension_sets, sum, values};
use instrument_emf::{DropReason, EmfHandle, EmfLayer, EmfLayerBuilder, MemorySink};
use serde_json::{json, Value};
use tracing::field::Empty;
use tracing_subscriber::prelude::*;

struct Harness {
    sink: MemorySink,
    handle: EmfHandle,
    dispatch: tracing::Dispatch,
}

impl Harness {
    fn new(configure: impl FnOnce(EmfLayerBuilder) -> EmfLayerBuilder) -> Harness {
        let sink = MemorySink::default();
        let layer = configure(EmfLayer::builder(sink.clone()).namespace("Test")).build();
        let handle = layer.inner().handle();
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        Harness {
            sink,
            handle,
            dispatch,
        }
    }

    fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        tracing::dispatcher::with_default(&self.dispatch, f)
    }

    /// Flushes, validates every document, returns them.
    fn docs(&self) -> Vec<Value> {
        self.handle.flush();
        check_all(&self.sink.documents())
    }
}

/// A call in the shape `#[track_performance]` records.
fn tracked_call(function: &'static str, outcome: &str, latency_ms: f64, error_type: Option<&str>) {
    let span = tracing::info_span!(
        "call",
        function,
        outcome = Empty,
        latency_ms = Empty,
        error_type = Empty
    );
    span.record("outcome", outcome);
    span.record("latency_ms", latency_ms);
    if let Some(e) = error_type {
        span.record("error_type", e);
    }
}

#[test]
fn tracked_calls_become_success_error_and_latency() {
    let h = Harness::new(|b| b.dimension("service", "booking"));
    h.run(|| {
        tracked_call("reserve", "success", 1.5, None);
        tracked_call("reserve", "success", 2.5, None);
        tracked_call("reserve", "error", 3.0, Some("SoldOut"));
        tracked_call("reserve", "panic", 4.0, Some("panic"));
        tracked_call("reserve", "cancelled", 9.0, None);
    });
    let docs = h.docs();
    assert_eq!(sum(&docs, "reserve.success"), 2.0);
    assert_eq!(sum(&docs, "reserve.error"), 2.0);
    assert_eq!(sum(&docs, "reserve.cancelled"), 1.0);
    let mut latency = values(&docs, "reserve.latency");
    latency.sort_by(f64::total_cmp);
    assert_eq!(
        latency,
        [1.5, 2.5, 3.0, 4.0],
        "cancelled calls have no latency"
    );
    for doc in &docs {
        assert_eq!(doc["service"], "booking");
        let names = declared(doc);
        if names.contains(&"reserve.error".to_string()) {
            assert_eq!(names, ["reserve.error"], "errors carry their own dimension");
            assert!(["SoldOut", "panic"].contains(&doc["error_type"].as_str().unwrap()));
            assert_eq!(
                dimension_sets(doc),
                json!([["service", "error_type"], ["service"]]),
                "published with and without error_type"
            );
        }
    }
    let latency_doc = docs
        .iter()
        .find(|d| declared(d).contains(&"reserve.latency".to_string()))
        .unwrap();
    let metrics = &latency_doc["_aws"]["CloudWatchMetrics"][0]["Metrics"];
    assert!(metrics
        .as_array()
        .unwrap()
        .contains(&json!({"Name": "reserve.latency", "Unit": "Milliseconds"})));
}

#[test]
fn error_type_cardinality_is_bounded() {
    let h = Harness::new(|b| b.max_error_types(2));
    h.run(|| {
        for e in ["A", "B", "C", "D"] {
            tracked_call("pay", "error", 1.0, Some(e));
        }
    });
    let docs = h.docs();
    let mut types: Vec<String> = docs
        .iter()
        .filter_map(|d| d["error_type"].as_str().map(str::to_string))
        .collect();
    types.sort();
    assert_eq!(types, ["A", "B", "other"]);
    assert_eq!(sum(&docs, "pay.error"), 4.0);
}

#[test]
fn metric_fields_kinds_units_and_resolution() {
    let h = Harness::new(|b| b);
    h.run(|| {
        for i in 0..3 {
            tracing::info!(
                counter.orders = 2,
                monotonic_counter.visits = 1u64,
                histogram.payload_bytes = 100 * (i + 1),
                gauge.queue_depth = i,
                histogram.render = 1.25,
                unit.render = "Seconds",
                histogram.fast_path_us = 3,
                resolution.fast_path_us = 1,
                "tick"
            );
        }
    });
    let docs = h.docs();
    assert_eq!(docs.len(), 1);
    let doc = &docs[0];
    assert_eq!(doc["orders"], 6);
    assert_eq!(doc["visits"], 3);
    assert_eq!(doc["payload_bytes"], json!([100, 200, 300]));
    assert_eq!(doc["queue_depth"], 2, "a gauge keeps the last value");
    assert_eq!(doc["render"], json!([1.25, 1.25, 1.25]));
    let metrics = doc["_aws"]["CloudWatchMetrics"][0]["Metrics"].clone();
    let unit = |name: &str| {
        metrics
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["Name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(unit("orders")["Unit"], "Count");
    assert_eq!(unit("payload_bytes")["Unit"], "Bytes");
    assert_eq!(unit("queue_depth")["Unit"], "None");
    assert_eq!(unit("render")["Unit"], "Seconds");
    assert_eq!(
        unit("fast_path_us"),
        json!({"Name": "fast_path_us", "Unit": "Microseconds", "StorageResolution": 1})
    );
}

#[test]
fn span_dimensions_are_inherited_and_inner_wins() {
    let h = Harness::new(|b| b.dimension("service", "svc"));
    h.run(|| {
        let outer = tracing::info_span!("api", dimension.route = "/book", dimension.tier = "gold");
        let _o = outer.enter();
        tracing::info!(counter.hits = 1);
        let inner = tracing::info_span!("db", dimension.tier = "silver");
        let _i = inner.enter();
        tracing::info!(counter.hits = 1);
        tracked_call("query", "success", 1.0, None);
    });
    let docs = h.docs();
    let gold = docs.iter().find(|d| d["tier"] == "gold").unwrap();
    assert_eq!(gold["route"], "/book");
    assert_eq!(gold["hits"], 1);
    assert_eq!(dimension_sets(gold), json!([["service", "route", "tier"]]));
    let silver = docs.iter().find(|d| d["tier"] == "silver").unwrap();
    assert_eq!(silver["route"], "/book", "inherited from the outer span");
    assert_eq!(silver["hits"], 1);
    assert_eq!(silver["query.success"], 1);
}

#[test]
fn metrics_do_not_depend_on_any_log_filter() {
    // A layer filtering everything out next to the EMF layer: metrics are still complete.
    let sink = MemorySink::default();
    let layer = EmfLayer::builder(sink.clone()).build();
    let handle = layer.inner().handle();
    let quiet = tracing_subscriber::fmt::layer()
        .with_writer(std::io::sink)
        .with_filter(tracing_subscriber::filter::LevelFilter::OFF);
    let subscriber = tracing_subscriber::registry().with(quiet).with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..5 {
            tracked_call("f", "success", 1.0, None);
        }
        tracing::trace!(counter.deep = 1);
    });
    handle.flush();
    let docs = check_all(&sink.documents());
    assert_eq!(sum(&docs, "f.success"), 5.0);
    assert_eq!(sum(&docs, "deep"), 1.0);
}

#[test]
fn adversarial_input_never_yields_an_invalid_document() {
    let h = Harness::new(|b| b.dimension("service", "svc"));
    let long_value = "v".repeat(1025);
    let long_metric = "m".repeat(256);
    h.run(|| {
        tracing::info!(counter.nan = f64::NAN, counter.fine = 1);
        tracing::info!(
            histogram.inf = f64::INFINITY,
            histogram.ninf = f64::NEG_INFINITY
        );
        tracing::info!(counter.weird = 1, unit.weird = "furlongs");
        tracing::info!(counter.odd = 1, resolution.odd = 7);
        tracing::info!("counter._aws" = 1);
        tracing::info!("counter." = 1);
        tracing::info!(counter.service = 1);
        {
            let span = tracing::info_span!("long", dimension.tenant = long_value.as_str());
            let _e = span.enter();
            tracing::info!(counter.long_dim = 1);
        }
        {
            let span = tracing::info_span!("aws", "dimension._aws" = "x");
            let _e = span.enter();
            tracing::info!(counter.aws_dim = 1);
        }
        let dyn_name: &'static str = Box::leak(format!("counter.{long_metric}").into_boxed_str());
        let _ = dyn_name; // field names must be literals; long names go through the encoder test
    });
    // 31 dimensions through spans.
    h.run(|| {
        let mut spans = Vec::new();
        macro_rules! dims {
            ($($name:literal),*) => {$(
                spans.push(tracing::info_span!("d", $name = "v").entered());
            )*};
        }
        dims!(
            "dimension.d01",
            "dimension.d02",
            "dimension.d03",
            "dimension.d04",
            "dimension.d05",
            "dimension.d06",
            "dimension.d07",
            "dimension.d08",
            "dimension.d09",
            "dimension.d10",
            "dimension.d11",
            "dimension.d12",
            "dimension.d13",
            "dimension.d14",
            "dimension.d15",
            "dimension.d16",
            "dimension.d17",
            "dimension.d18",
            "dimension.d19",
            "dimension.d20",
            "dimension.d21",
            "dimension.d22",
            "dimension.d23",
            "dimension.d24",
            "dimension.d25",
            "dimension.d26",
            "dimension.d27",
            "dimension.d28",
            "dimension.d29",
            "dimension.d30"
        );
        tracing::info!(counter.wide = 1);
        drop(spans);
    });
    let docs = h.docs(); // validates every one
    let dropped = h.handle.dropped();
    assert_eq!(sum(&docs, "fine"), 1.0);
    assert_eq!(values(&docs, "nan"), Vec::<f64>::new());
    assert_eq!(values(&docs, "inf"), Vec::<f64>::new());
    assert_eq!(dropped.total(DropReason::NonFiniteValue), 3);
    assert_eq!(dropped.total(DropReason::InvalidUnit), 1);
    let weird = docs.iter().find(|d| d.get("weird").is_some()).unwrap();
    let weird_def = weird["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Name"] == "weird")
        .unwrap();
    assert_eq!(weird_def["Unit"], "None", "repaired to None");
    assert_eq!(dropped.total(DropReason::InvalidResolution), 1);
    assert_eq!(
        dropped.total(DropReason::InvalidMetricName),
        1,
        "the empty name"
    );
    assert!(
        dropped.total(DropReason::NameConflict) >= 2,
        "_aws and service"
    );
    assert_eq!(dropped.total(DropReason::DimensionValueTooLong), 1);
    assert_eq!(
        dropped.total(DropReason::InvalidDimensionName),
        1,
        "dimension._aws"
    );
    assert_eq!(
        dropped.total(DropReason::TooManyDimensions),
        1,
        "service + 30 = 31"
    );
    let wide = docs.iter().find(|d| d.get("wide").is_some()).unwrap();
    assert_eq!(dimension_sets(wide)[0].as_array().unwrap().len(), 30);

    // What was dropped is reported as a metric, with the reason as a dimension.
    let reasons: Vec<String> = docs
        .iter()
        .filter(|d| d.get("instrument.dropped").is_some())
        .map(|d| d["reason"].as_str().unwrap().to_string())
        .collect();
    for reason in [
        "non_finite_value",
        "invalid_unit",
        "invalid_metric_name",
        "name_conflict",
        "dimension_value_too_long",
        "too_many_dimensions",
    ] {
        assert!(
            reasons.contains(&reason.to_string()),
            "{reason} in {reasons:?}"
        );
    }
    let non_finite = docs
        .iter()
        .find(|d| d["reason"] == "non_finite_value")
        .unwrap();
    assert_eq!(non_finite["instrument.dropped"], 3);
    assert_eq!(non_finite["service"], "svc");
}

#[test]
fn a_lambda_invocation_flushes_at_its_end_with_request_properties_and_one_cold_start() {
    let h = Harness::new(|b| b.dimension("service", "fn"));
    h.run(|| {
        for request in ["req-1", "req-2"] {
            let span = tracing::info_span!(
                "Lambda runtime invoke",
                requestId = request,
                xrayTraceId = "Root=1-abc"
            );
            let entered = span.enter();
            tracked_call("handler", "success", 2.0, None);
            drop(entered);
            drop(span);
            // Flushed at the end of the invocation, without an explicit flush.
            let docs = check_all(&h.sink.take());
            let handler = docs
                .iter()
                .find(|d| d.get("handler.success").is_some())
                .expect("flushed when the invocation ended");
            assert_eq!(handler["function_request_id"], request);
            assert_eq!(handler["xray_trace_id"], "Root=1-abc");
            let cold: f64 = sum(&docs, "ColdStart");
            assert_eq!(
                cold,
                if request == "req-1" { 1.0 } else { 0.0 },
                "{request}"
            );
        }
    });
}

#[test]
fn exact_under_concurrency_8_threads_100k_calls() {
    const THREADS: usize = 8;
    const CALLS: usize = 100_000;
    let h = Arc::new(Harness::new(|b| b));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let h = h.clone();
            std::thread::spawn(move || {
                h.run(|| {
                    for i in 0..CALLS {
                        match (t + i) % 10 {
                            0 => tracked_call("mixed", "error", 1.0, Some("Timeout")),
                            1 => tracked_call("mixed", "panic", 1.0, Some("panic")),
                            _ => tracked_call("mixed", "success", 0.5 + (i % 7) as f64, None),
                        }
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let docs = h.docs();
    let calls = (THREADS * CALLS) as f64;
    let success = sum(&docs, "mixed.success");
    let error = sum(&docs, "mixed.error");
    assert_eq!(success + error, calls);
    assert_eq!(error, calls / 5.0);
    assert_eq!(values(&docs, "mixed.latency").len(), THREADS * CALLS);
    assert_eq!(h.handle.dropped().total_all(), 0);
}

macro_rules! many_callsites {
    ($($name:ident)*) => {
        /// One tracked call at each of many distinct callsites.
        fn call_every_callsite(latency_ms: f64) {
            $({
                let span = tracing::info_span!(
                    stringify!($name),
                    function = stringify!($name),
                    outcome = Empty,
                    latency_ms = Empty,
                    error_type = Empty
                );
                span.record("outcome", "success");
                span.record("latency_ms", latency_ms);
            })*
        }

        const CALLSITE_NAMES: &[&str] = &[$(stringify!($name)),*];
    };
}

many_callsites!(f000 f001 f002 f003 f004 f005 f006 f007 f008 f009 f010 f011 f012 f013 f014 f015 f016 f017 f018 f019 f020 f021 f022 f023 f024 f025 f026 f027 f028 f029 f030 f031 f032 f033 f034 f035 f036 f037 f038 f039 f040 f041 f042 f043 f044 f045 f046 f047 f048 f049 f050 f051 f052 f053 f054 f055 f056 f057 f058 f059 f060 f061 f062 f063 f064 f065 f066 f067 f068 f069 f070 f071 f072 f073 f074 f075 f076 f077 f078 f079 f080 f081 f082 f083 f084 f085 f086 f087 f088 f089 f090 f091 f092 f093 f094 f095 f096 f097 f098 f099 f100 f101 f102 f103 f104 f105 f106 f107 f108 f109 f110 f111 f112 f113 f114 f115 f116 f117 f118 f119 f120 f121 f122 f123 f124 f125 f126 f127 f128 f129 f130 f131 f132 f133 f134 f135 f136 f137 f138 f139 f140 f141 f142 f143 f144 f145 f146 f147 f148 f149);

#[test]
fn many_callsites_and_successive_layers_stay_exact() {
    // More tracked callsites than the per-thread callsite cache has slots, so some share one
    // and evict each other on every call; and a second layer after the first, whose metric ids
    // differ. Every count must stay exact.
    for round in 0..2 {
        let h = Harness::new(|b| b);
        h.run(|| {
            for i in 0..3 {
                call_every_callsite(f64::from(i + round));
            }
        });
        let docs = h.docs();
        for name in CALLSITE_NAMES {
            assert_eq!(sum(&docs, &format!("{name}.success")), 3.0, "{name}");
            assert_eq!(values(&docs, &format!("{name}.latency")).len(), 3, "{name}");
        }
    }
}

#[test]
fn a_gauge_set_on_several_threads_keeps_the_value_set_last() {
    // Thread `b` registers its shard first; thread `a` sets the gauge, then `b` sets it again.
    // Merging the shards in registration order must still keep `b`'s later value.
    let h = Arc::new(Harness::new(|b| b));
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let b = {
        let h = h.clone();
        std::thread::spawn(move || {
            h.run(|| tracing::info!(counter.warm_up = 1, "b's shard first"));
            ready_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            h.run(|| tracing::info!(gauge.queue_depth = 7, "set last"));
        })
    };
    ready_rx.recv().unwrap();
    {
        let h = h.clone();
        std::thread::spawn(move || h.run(|| tracing::info!(gauge.queue_depth = 1, "set first")))
            .join()
            .unwrap();
    }
    go_tx.send(()).unwrap();
    b.join().unwrap();
    let docs = h.docs();
    assert_eq!(values(&docs, "queue_depth"), [7.0], "{docs:#?}");
}

/// A flush started from inside a flush on the same thread (a sink that panics mid-flush and the
/// panic hook flushing, or a sink that logs metrics) returns instead of waiting forever for the
/// flush lock its own thread holds (issue 13, a sibling of item 3).
#[test]
fn a_flush_from_inside_a_flush_does_not_deadlock() {
    struct Reentrant {
        handle: std::sync::OnceLock<EmfHandle>,
        inner: MemorySink,
    }
    impl instrument_emf::Sink for Reentrant {
        fn write(&self, document: &[u8]) {
            if let Some(handle) = self.handle.get() {
                handle.flush();
            }
            self.inner.write(document);
        }
    }
    let inner = MemorySink::default();
    let sink = Arc::new(Reentrant {
        handle: std::sync::OnceLock::new(),
        inner: inner.clone(),
    });
    let layer = EmfLayer::builder_shared(sink.clone()).build_unfiltered();
    let handle = layer.handle();
    let _ = sink.handle.set(handle.clone());
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(counter.orders = 2, "ordered");
        });
        handle.flush();
        let _ = done.send(());
    });
    assert!(
        finished
            .recv_timeout(std::time::Duration::from_secs(10))
            .is_ok(),
        "the flush hung"
    );
    let docs = check_all(&inner.documents());
    assert_eq!(sum(&docs, "orders"), 2.0);
}
