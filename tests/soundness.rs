//! The hidden API the macro expands to cannot be misused from safe code into undefined
//! behaviour (issue 12).
//!
//! Before, `SyncCall::start` (safe, re-exported through `instrument::__private`) pushed a frame
//! pointing at the call's fields and returned a guard: `std::mem::forget` of the guard left the
//! frame on the thread's stack after the fields were gone, and the next event read them. Now a
//! deferred call's frame lives exactly as long as `SyncCall::run` runs the body: whatever a
//! caller does with a `SyncCall` (forget it before or after running it, drop it, never finish
//! it), no frame outlives the fields it points to.
#![allow(clippy::float_cmp)]

use instrument::__private::{
    pending_calls, tracing as private_tracing, value_set, Deferred, DeferredSite, Site, SyncCall,
};
use instrument::testing::LogBuffer;
use instrument_emf::MemorySink;
use serde_json::Value;
use tracing::callsite::{DefaultCallsite, Identifier};
use tracing::field::{FieldSet, ValueSet};
use tracing::metadata::Kind;
use tracing::{Level, Metadata};

static CALLSITE: DefaultCallsite = DefaultCallsite::new(&META);
static META: Metadata<'static> = Metadata::new(
    "handwritten",
    "soundness",
    Level::INFO,
    None,
    None,
    None,
    FieldSet::new(
        &["function", "outcome", "latency_ms", "error_type", "label"],
        Identifier(&CALLSITE),
    ),
    Kind::SPAN,
);
static SITE: DeferredSite = DeferredSite::new(&CALLSITE, &Site::OFF);

/// A call built by hand through the hidden API, recording `label`, with the given body.
fn with_call<R>(label: &str, f: impl FnOnce(SyncCall<'_>) -> R) -> R {
    let captured = (label,);
    let fields = Deferred::new(
        captured,
        true,
        |captured: &(&str,), function: &'static str, render: &mut dyn FnMut(&ValueSet<'_>)| {
            value_set(
                &META,
                [
                    Some(&function as &dyn private_tracing::Value),
                    None,
                    None,
                    None,
                    Some(&captured.0 as &dyn private_tracing::Value),
                ],
                render,
            );
        },
    );
    f(SyncCall::deferrable(&SITE, || "handwritten", &fields))
}

fn pipeline() -> (tracing::Dispatch, instrument::Guard, LogBuffer, MemorySink) {
    let logs = LogBuffer::default();
    let sink = MemorySink::default();
    let (dispatch, guard) = instrument::builder()
        .writer(logs.clone())
        .env_lookup(|_| None)
        .service("svc")
        .metrics_sink(sink.clone())
        .build_dispatch()
        .expect("builds");
    (dispatch, guard, logs, sink)
}

fn lines(logs: &LogBuffer) -> Vec<Value> {
    logs.contents()
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

#[test]
fn a_forgotten_call_leaves_no_frame_behind() {
    let (dispatch, guard, logs, _sink) = pipeline();
    tracing::dispatcher::with_default(&dispatch, || {
        // Forgotten before its body ran: nothing was pushed.
        with_call("a", |call| std::mem::forget(call));
        assert_eq!(pending_calls(), 0);

        // Forgotten after its body ran (deferred while it ran): the frame went with the body.
        let inside = with_call(&String::from("secret-b"), |mut call| {
            let inside = call.run(pending_calls);
            std::mem::forget(call);
            inside
        });
        assert_eq!(inside, 1, "the call was deferred while its body ran");
        assert_eq!(pending_calls(), 0, "no frame outlives the call's fields");

        // The next event reads no dead fields: it is logged outside any span.
        tracing::info!("after");
    });
    guard.flush();
    let lines = lines(&logs);
    let after = lines
        .iter()
        .find(|l| l["message"] == "after")
        .expect("the event after the forgotten call is logged");
    assert!(after.get("span").is_none(), "{after}");
    assert!(after.get("label").is_none(), "{after}");
}

#[test]
fn a_call_run_but_never_finished_is_recorded_once_when_dropped() {
    let (dispatch, guard, _logs, sink) = pipeline();
    tracing::dispatcher::with_default(&dispatch, || {
        with_call("c", |mut call| {
            call.run(|| ());
            drop(call);
        });
        assert_eq!(pending_calls(), 0);
    });
    tracing::dispatcher::with_default(&dispatch, || guard.flush());
    let cancelled: f64 = sink
        .documents()
        .iter()
        .map(|d| serde_json::from_slice::<Value>(d).expect("EMF JSON"))
        .filter_map(|d| d["handwritten.cancelled"].as_f64())
        .sum();
    assert_eq!(cancelled, 1.0);
}

#[test]
fn a_panicking_body_pops_its_frame_and_counts_the_panic() {
    let (dispatch, guard, _logs, sink) = pipeline();
    tracing::dispatcher::with_default(&dispatch, || {
        let caught = std::panic::catch_unwind(|| {
            with_call("d", |mut call| {
                call.run(|| {
                    assert_eq!(pending_calls(), 1);
                    panic!("boom");
                });
            });
        });
        assert!(caught.is_err());
        assert_eq!(pending_calls(), 0);
        tracing::info!("after the panic");
    });
    tracing::dispatcher::with_default(&dispatch, || guard.flush());
    let errors: f64 = sink
        .documents()
        .iter()
        .map(|d| serde_json::from_slice::<Value>(d).expect("EMF JSON"))
        .filter_map(|d| d["handwritten.error"].as_f64())
        .sum();
    assert_eq!(errors, 1.0);
}

/// A span opened while the call ran (an event inside it) carries the call's fields, copied
/// when the call started. Forgetting the call then leaves that span open and entered, which is
/// safe (like forgetting a `tracing` `Entered` guard): the fields were read when it opened.
#[test]
fn a_call_whose_span_opened_and_was_forgotten_is_safe() {
    let (dispatch, guard, logs, _sink) = pipeline();
    tracing::dispatcher::with_default(&dispatch, || {
        with_call(&String::from("e-label"), |mut call| {
            call.run(|| tracing::info!("inside"));
            std::mem::forget(call);
        });
        assert_eq!(pending_calls(), 0);
    });
    guard.flush();
    let lines = lines(&logs);
    let inside = lines
        .iter()
        .find(|l| l["message"] == "inside")
        .expect("logged");
    assert_eq!(inside["label"], "e-label");
    assert_eq!(inside["span"], "handwritten");
}

/// No `static mut` in library code: a signal handler (or anything else) writing one from
/// several threads is a data race (the SIGTERM handler's errno fallback was one).
#[test]
fn library_sources_have_no_static_mut() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut offenders = Vec::new();
    let mut dirs = vec![root.join("src")];
    for entry in std::fs::read_dir(root).expect("workspace root") {
        let path = entry.expect("entry").path();
        if path.is_dir()
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("instrument-"))
        {
            dirs.push(path.join("src"));
        }
    }
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source");
                for (i, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or("");
                    if code.contains("static mut ") {
                        offenders.push(format!("{}:{}", path.display(), i + 1));
                    }
                }
            }
        }
    }
    assert!(offenders.is_empty(), "`static mut` in {offenders:?}");
}
