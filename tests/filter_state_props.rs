//! Issue 13: random interleavings of `enabled!` questions, events with tracked calls in their
//! fields, spans with dimensions, and sync and async tracked calls give, under `build()` and
//! under `build_dispatch()`, metric totals equal to the calls made and the same log lines
//! (timestamps and latencies aside).
#![allow(clippy::float_cmp)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use instrument::testing::LogBuffer;
use instrument::track_performance;
use instrument_emf::MemorySink;
use proptest::prelude::*;
use serde_json::Value;

static SYNC_CALLS: AtomicU64 = AtomicU64::new(0);
static STRING_CALLS: AtomicU64 = AtomicU64::new(0);
static ASYNC_CALLS: AtomicU64 = AtomicU64::new(0);
static FAILING_CALLS: AtomicU64 = AtomicU64::new(0);

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("refused")
    }
}

impl std::error::Error for Refused {}

/// Fails: its completion line (WARN) must be the same under both pipelines.
#[track_performance]
fn failing_call(n: u64) -> Result<u64, Refused> {
    FAILING_CALLS.fetch_add(1, Ordering::Relaxed);
    if n > 0 {
        Err(Refused)
    } else {
        Ok(0)
    }
}

#[track_performance]
fn sync_call(n: u64) -> u64 {
    SYNC_CALLS.fetch_add(1, Ordering::Relaxed);
    n + 1
}

#[track_performance]
fn string_call(text: String) -> usize {
    STRING_CALLS.fetch_add(1, Ordering::Relaxed);
    text.len()
}

#[track_performance]
async fn async_call(n: u64) -> u64 {
    ASYNC_CALLS.fetch_add(1, Ordering::Relaxed);
    n * 2
}

#[derive(Debug, Clone)]
enum Call {
    Sync,
    String,
    Async,
    Failing,
}

#[derive(Debug, Clone)]
enum Op {
    Ask(bool),
    Call(Call),
    /// An event at info (`true`) or debug, with a metric field or not, evaluating a call.
    Event(bool, bool, Option<Call>),
    Span(bool, Vec<Op>),
}

fn call() -> impl Strategy<Value = Call> {
    prop_oneof![
        Just(Call::Sync),
        Just(Call::String),
        Just(Call::Async),
        Just(Call::Failing)
    ]
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Op::Ask),
        call().prop_map(Op::Call),
        (any::<bool>(), any::<bool>(), proptest::option::of(call()))
            .prop_map(|(info, metric, c)| Op::Event(info, metric, c)),
    ];
    let op = leaf.prop_recursive(3, 24, 4, |inner| {
        (any::<bool>(), proptest::collection::vec(inner, 0..4))
            .prop_map(|(dimension, ops)| Op::Span(dimension, ops))
    });
    proptest::collection::vec(op, 0..12)
}

fn make(c: &Call) -> u64 {
    match c {
        Call::Sync => sync_call(1),
        Call::String => string_call("ab".into()) as u64,
        Call::Async => futures::executor::block_on(async_call(1)),
        Call::Failing => failing_call(1).unwrap_or(7),
    }
}

fn play(ops: &[Op]) {
    for op in ops {
        match op {
            Op::Ask(info) => {
                let _ = if *info {
                    tracing::enabled!(tracing::Level::INFO)
                } else {
                    tracing::enabled!(tracing::Level::DEBUG)
                };
            }
            Op::Call(c) => {
                make(c);
            }
            Op::Event(info, metric, c) => {
                let value = || c.as_ref().map_or(0, make);
                match (info, metric) {
                    (true, true) => tracing::info!(counter.events = 1, v = value(), "event"),
                    (true, false) => tracing::info!(v = value(), "event"),
                    (false, true) => tracing::debug!(counter.events = 1, v = value(), "event"),
                    (false, false) => tracing::debug!(v = value(), "event"),
                }
            }
            Op::Span(dimension, inner) => {
                let span = if *dimension {
                    tracing::info_span!("scope", dimension.area = "a")
                } else {
                    tracing::info_span!("scope")
                };
                span.in_scope(|| play(inner));
            }
        }
    }
}

/// Log lines without timestamps and latencies; metric totals per name (counts for latency).
fn run(deferred: bool, ops: &[Op]) -> (Vec<Value>, BTreeMap<String, f64>, [u64; 4]) {
    SYNC_CALLS.store(0, Ordering::Relaxed);
    STRING_CALLS.store(0, Ordering::Relaxed);
    ASYNC_CALLS.store(0, Ordering::Relaxed);
    FAILING_CALLS.store(0, Ordering::Relaxed);
    let logs = LogBuffer::default();
    let sink = MemorySink::default();
    let builder = instrument::builder()
        .writer(logs.clone())
        .env_lookup(|_| None)
        .log_level("info")
        .metrics_sink(sink.clone());
    let (dispatch, guard) = if deferred {
        builder.build_dispatch().expect("builds")
    } else {
        let (subscriber, guard) = builder.build().expect("builds");
        (tracing::Dispatch::new(subscriber), guard)
    };
    tracing::dispatcher::with_default(&dispatch, || play(ops));
    tracing::dispatcher::with_default(&dispatch, || guard.flush());
    let lines = logs
        .contents()
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("JSON line");
            let o = v.as_object_mut().expect("object");
            o.remove("timestamp");
            o.remove("latency_ms");
            v
        })
        .collect();
    let mut totals = BTreeMap::new();
    for doc in sink.documents() {
        let doc: Value = serde_json::from_slice(&doc).expect("EMF JSON");
        for directive in doc["_aws"]["CloudWatchMetrics"]
            .as_array()
            .expect("directives")
        {
            for metric in directive["Metrics"].as_array().expect("metrics") {
                let name = metric["Name"].as_str().expect("name").to_string();
                let total = match &doc[&name] {
                    Value::Array(values) if name.ends_with(".latency") => values.len() as f64,
                    Value::Array(values) => values.iter().filter_map(Value::as_f64).sum(),
                    _ if name.ends_with(".latency") => 1.0,
                    v => v.as_f64().unwrap_or(0.0),
                };
                *totals.entry(name).or_insert(0.0) += total;
            }
        }
    }
    let made = [
        SYNC_CALLS.load(Ordering::Relaxed),
        STRING_CALLS.load(Ordering::Relaxed),
        ASYNC_CALLS.load(Ordering::Relaxed),
        FAILING_CALLS.load(Ordering::Relaxed),
    ];
    (lines, totals, made)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn both_pipelines_count_every_call_and_log_the_same(ops in ops()) {
        let (spans_lines, spans_totals, spans_made) = run(false, &ops);
        let (deferred_lines, deferred_totals, deferred_made) = run(true, &ops);
        prop_assert_eq!(spans_made, deferred_made);
        for (metric, made) in ["sync_call.success", "string_call.success", "async_call.success", "failing_call.error"]
            .iter()
            .zip(spans_made)
        {
            let success = (*metric).to_string();
            prop_assert_eq!(spans_totals.get(&success).copied().unwrap_or(0.0), made as f64);
            prop_assert_eq!(deferred_totals.get(&success).copied().unwrap_or(0.0), made as f64);
        }
        prop_assert_eq!(&spans_totals, &deferred_totals);
        prop_assert_eq!(spans_lines, deferred_lines);
    }
}
