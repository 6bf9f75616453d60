//! Issue 13 (1, 2): the per-layer filters' answers belong to the span or event they were
//! asked for. A question nobody acts on (`tracing::enabled!`) or a question interrupted by the
//! spans and events of its own field values (`info!(x = f())`) used to leave answers behind that
//! the next span or event was judged by: metrics lost, lines lost or written at the wrong level.
//! Every scenario runs under the pipeline `init()` installs (`build_dispatch()`) and under the
//! subscriber of `build()`.
#![allow(clippy::float_cmp)]

use instrument::testing::LogBuffer;
use instrument::track_performance;
use instrument_emf::MemorySink;
use serde_json::Value;

#[track_performance]
fn takes_string(text: String) -> usize {
    text.len()
}

#[track_performance]
fn quiet(n: u64) -> u64 {
    n + 1
}

struct Run {
    lines: Vec<Value>,
    docs: Vec<Value>,
}

impl Run {
    fn sum(&self, metric: &str) -> f64 {
        self.docs.iter().filter_map(|d| d[metric].as_f64()).sum()
    }

    fn sum_where(&self, metric: &str, dimension: &str, value: &str) -> f64 {
        self.docs
            .iter()
            .filter(|d| d[dimension] == value)
            .filter_map(|d| d[metric].as_f64())
            .sum()
    }
}

fn run(scenario: fn()) -> Run {
    let deferred = run_with(true, scenario);
    let spans = run_with(false, scenario);
    assert_eq!(
        deferred.lines.len(),
        spans.lines.len(),
        "same lines both ways"
    );
    assert_eq!(
        deferred.docs.len(),
        spans.docs.len(),
        "same documents both ways"
    );
    for metric in [
        "orders",
        "takes_string.success",
        "quiet.success",
        "debug_things",
    ] {
        assert_eq!(
            deferred.sum(metric),
            spans.sum(metric),
            "{metric} both ways"
        );
    }
    spans
}

fn run_with(deferred: bool, scenario: fn()) -> Run {
    let logs = LogBuffer::default();
    let sink = MemorySink::default();
    let builder = instrument::builder()
        .writer(logs.clone())
        .env_lookup(|_| None)
        .service("svc")
        .log_level("info")
        .metrics_sink(sink.clone());
    let (dispatch, guard) = if deferred {
        builder.build_dispatch().expect("builds")
    } else {
        let (subscriber, guard) = builder.build().expect("builds");
        (tracing::Dispatch::new(subscriber), guard)
    };
    tracing::dispatcher::with_default(&dispatch, scenario);
    tracing::dispatcher::with_default(&dispatch, || guard.flush());
    let docs = sink
        .documents()
        .iter()
        .map(|d| {
            let violations = instrument_emf::validate::document(d);
            assert!(violations.is_empty(), "{violations:?}");
            serde_json::from_slice(d).expect("EMF JSON")
        })
        .collect();
    let lines = logs
        .contents()
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    Run { lines, docs }
}

#[test]
fn an_unanswered_question_loses_no_metric() {
    let r = run(|| {
        assert!(tracing::enabled!(tracing::Level::INFO));
        tracing::info!(counter.orders = 1, "ordered");
    });
    assert_eq!(r.sum("orders"), 1.0);
}

#[test]
fn an_unanswered_question_loses_no_line() {
    let r = run(|| {
        assert!(!tracing::enabled!(tracing::Level::DEBUG));
        tracing::info!(counter.orders = 1, "ordered");
    });
    assert_eq!(r.sum("orders"), 1.0);
    assert!(
        r.lines.iter().any(|l| l["message"] == "ordered"),
        "{:?}",
        r.lines
    );
}

#[test]
fn an_unanswered_question_loses_no_tracked_call_or_dimension() {
    let r = run(|| {
        let _ = tracing::enabled!(tracing::Level::INFO);
        takes_string("abc".into());
        let _ = tracing::enabled!(tracing::Level::INFO);
        tracing::info_span!("request", dimension.route = "/book").in_scope(|| {
            let _ = tracing::enabled!(tracing::Level::INFO);
            quiet(1);
        });
    });
    assert_eq!(r.sum("takes_string.success"), 1.0);
    assert_eq!(r.sum_where("quiet.success", "route", "/book"), 1.0);
}

#[test]
fn a_tracked_call_in_an_event_s_fields_is_counted_and_the_event_keeps_its_level() {
    let r = run(|| {
        tracing::info!(len = takes_string("abcd".into()), "measured");
        tracing::debug!(counter.debug_things = quiet(1), "not at info");
        // Nobody wants this event: its fields are not evaluated, as with `tracing` alone.
        tracing::debug!(n = takes_string("ab".into()), "not at info either");
    });
    assert_eq!(r.sum("takes_string.success"), 1.0);
    assert_eq!(r.sum("quiet.success"), 1.0);
    assert_eq!(r.sum("debug_things"), 2.0);
    let messages: Vec<&str> = r
        .lines
        .iter()
        .filter_map(|l| l["message"].as_str())
        .collect();
    assert!(messages.contains(&"measured"), "{messages:?}");
    assert!(
        r.lines.iter().all(|l| l["level"] != "DEBUG"),
        "a DEBUG line at level info: {:?}",
        r.lines
    );
}
