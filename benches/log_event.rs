//! Cost of one log line: instrument against its peers, measured in the same run.
//!
//! The event: `info!` with a message and 5 fields (`&str`, `i64`, `f64`, `bool`, a `%Display`
//! value) inside two entered spans (`request{correlation_id, route}` > `reserve{venue_id, retry}`).
//! Every contender formats it into the same writer, [`Sink`]: a thread-local, pre-allocated
//! `Vec<u8>` that is appended to and cleared whenever the next line would not fit, so it never
//! reallocates and costs the same (one `RefCell` borrow + one `memcpy`) for everyone.
//!
//! Contenders (each with its own `Dispatch`, all alive for the whole run; spans are created and
//! entered outside the measured loop, the loop times only the `info!` call, and every tracing
//! contender shares one `info!` callsite, [`emit`]):
//!
//! * `instrument`: `registry().with(JsonLogLayer::new().with_writer(Sink).with_service("bench"))`.
//! * `instrument_redact`: `instrument` with PII redaction on (`Redactor::default()`); the event
//!   carries no PII, so this is the price of scanning (target: ≤ 1.15× `instrument`).
//! * `instrument_builder`: what `instrument::builder()...build_dispatch()` produces, the pipeline
//!   `init()` installs (the layer behind its per-layer `LogFilter` at `info`, redaction on, the
//!   EMF layer beside it, deferred spans), with `.service("bench")` so the key set is the same.
//! * `instrument_build` (reference): the same layers from `build()`, without the deferred-span
//!   pipeline around them: what the pipeline's checks cost an event.
//! * `fmt_json_flattened`: `tracing_subscriber::fmt().json().flatten_event(true)
//!   .with_current_span(true).with_span_list(true)`: its best flat shape (span fields stay nested
//!   under `span`/`spans`, no `service`).
//! * `json_subscriber`: `json_subscriber::JsonLayer` configured for instrument's key set:
//!   timestamp, level, target, static `service`, flattened event fields, flattened span fields,
//!   `span` (leaf name) and `spans` (names, root to leaf); its flattened span fields add the
//!   leaf span's `name`, the only key instrument's line does not have.
//! * `json_subscriber_fmt`: json-subscriber as the drop-in for `fmt_json_flattened` (same shape).
//! * `registry_noop` (reference, no output, not checked): `registry().with(a no-op layer)`: the
//!   cost of the `info!` dispatch and the registry's span bookkeeping before any formatting.
//! * `serde_json_floor`: no tracing: a `#[derive(Serialize)]` struct borrowing the same flat
//!   object as instrument's line (checked: identical key set), timestamp formatted fresh with
//!   `instrument_core::timestamp::write_now`, `serde_json::to_writer` into a reused `Vec`, `\n`,
//!   then one `write_all` to [`Sink`], like the layers do.
//!
//! Before anything is timed, one line of every contender is parsed as JSON and checked for the
//! message, the 5 event fields and the 4 span field values (the run panics otherwise).
//!
//! Numbers: criterion measures every contender as usual (`log_event/<name>`); then, for the
//! ratio table, the bench times each contender itself as `benches/support/timing.rs` describes
//! ([`TIMING`]: batches calibrated to ~40 ms, 11 rounds, contenders interleaved round-robin;
//! median and minimum batch mean in ns/iter, ratios from both, a target met when both meet it).
//! The table is printed only for real runs (`cargo bench`); `cargo test --benches` and
//! `cargo bench -- --test` only run the checks and criterion's single-iteration smoke test.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;
use std::hint::black_box;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use serde::ser::{Serialize, Serializer};
use tracing::Dispatch;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Registry;

#[path = "support/timing.rs"]
mod timing;

use timing::{Column, Ratio, Row, Timing};

// ---------------------------------------------------------------------------------------------
// The shared writer.

/// The sink never grows past this (plus one line).
const SINK_CAPACITY: usize = 64 * 1024;

thread_local! {
    static SINK: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(SINK_CAPACITY));
}

/// Appends to the thread-local buffer; clears it when the next write would not fit.
#[derive(Debug, Clone, Copy, Default)]
struct Sink;

impl Write for Sink {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        SINK.with(|sink| {
            let mut sink = sink.borrow_mut();
            if sink.len() + bytes.len() > SINK_CAPACITY {
                sink.clear();
            }
            sink.extend_from_slice(bytes);
        });
        Ok(bytes.len())
    }

    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.write(bytes).map(|_| ())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = Sink;

    #[inline]
    fn make_writer(&'a self) -> Sink {
        Sink
    }
}

/// Empties the sink and returns what it held.
fn take_sink() -> Vec<u8> {
    SINK.with(|sink| std::mem::take(&mut *sink.borrow_mut()))
}

fn reset_sink() {
    SINK.with(|sink| *sink.borrow_mut() = Vec::with_capacity(SINK_CAPACITY));
}

// ---------------------------------------------------------------------------------------------
// The workload.

const MESSAGE: &str = "reserved seats";
/// A `%Display` field value that is not PII (the redaction contender must find nothing).
#[derive(Clone, Copy)]
struct Seat {
    row: char,
    number: u16,
}

impl std::fmt::Display for Seat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {} seat {}", self.row, self.number)
    }
}

const PEER: Seat = Seat {
    row: 'F',
    number: 12,
};

/// The one event every tracing contender logs (one callsite, so one metadata and one interest).
#[inline(never)]
fn emit(peer: &Seat) {
    tracing::info!(
        user = "alice",
        seats = 2i64,
        price = 19.5f64,
        vip = true,
        peer = %peer,
        "reserved seats"
    );
}

/// Runs `f` with `dispatch` as the default, inside the two entered spans.
fn in_spans<R>(dispatch: &Dispatch, f: impl FnOnce() -> R) -> R {
    tracing::dispatcher::with_default(dispatch, || {
        let outer = tracing::info_span!("request", correlation_id = "c-8f2a", route = "/book");
        let _outer = outer.enter();
        let inner = tracing::info_span!("reserve", venue_id = 42u64, retry = false);
        let _inner = inner.enter();
        f()
    })
}

/// Serialises a `Display` value as a JSON string, as the layers do with `%value` fields.
struct Shown<'a>(&'a dyn fmt::Display);

impl Serialize for Shown<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self.0)
    }
}

/// instrument's line for the event, key for key, in its order.
#[derive(serde::Serialize)]
struct FloorLine<'a> {
    timestamp: &'a str,
    level: &'a str,
    message: &'a str,
    target: &'a str,
    service: &'a str,
    correlation_id: &'a str,
    span: &'a str,
    spans: [&'a str; 2],
    user: &'a str,
    seats: i64,
    price: f64,
    vip: bool,
    peer: Shown<'a>,
    venue_id: u64,
    retry: bool,
    route: &'a str,
}

/// Reused buffers of the floor contender.
struct FloorBuffers {
    timestamp: Vec<u8>,
    line: Vec<u8>,
}

impl FloorBuffers {
    fn new() -> Self {
        FloorBuffers {
            timestamp: Vec::with_capacity(instrument_core::timestamp::LEN),
            line: Vec::with_capacity(1024),
        }
    }
}

#[inline(never)]
fn floor_once(bufs: &mut FloorBuffers, peer: &Seat) {
    bufs.timestamp.clear();
    instrument_core::timestamp::write_now(&mut bufs.timestamp);
    let timestamp = std::str::from_utf8(&bufs.timestamp).expect("timestamps are ASCII");
    let line = FloorLine {
        timestamp,
        level: "INFO",
        message: black_box(MESSAGE),
        target: module_path!(),
        service: "bench",
        correlation_id: black_box("c-8f2a"),
        span: "reserve",
        spans: ["request", "reserve"],
        user: black_box("alice"),
        seats: black_box(2),
        price: black_box(19.5),
        vip: black_box(true),
        peer: Shown(peer),
        venue_id: black_box(42),
        retry: black_box(false),
        route: black_box("/book"),
    };
    bufs.line.clear();
    serde_json::to_writer(&mut bufs.line, &line).expect("serialising to a Vec cannot fail");
    bufs.line.push(b'\n');
    Sink.write_all(&bufs.line).expect("the sink cannot fail");
}

// ---------------------------------------------------------------------------------------------
// Contenders.

enum Work {
    /// `emit()` under this dispatcher, inside the spans.
    Tracing(Dispatch),
    /// `floor_once()`.
    Floor,
}

struct Contender {
    name: &'static str,
    work: Work,
}

impl Contender {
    fn tracing(name: &'static str, dispatch: Dispatch) -> Self {
        Contender {
            name,
            work: Work::Tracing(dispatch),
        }
    }

    /// Runs the event `iters` times; returns the time the events took.
    fn run(&self, iters: u64) -> Duration {
        match &self.work {
            Work::Tracing(dispatch) => in_spans(dispatch, || {
                let start = Instant::now();
                for _ in 0..iters {
                    emit(black_box(&PEER));
                }
                start.elapsed()
            }),
            Work::Floor => {
                let mut bufs = FloorBuffers::new();
                let start = Instant::now();
                for _ in 0..iters {
                    floor_once(&mut bufs, black_box(&PEER));
                }
                start.elapsed()
            }
        }
    }

    /// One line, parsed.
    fn sample(&self) -> (String, serde_json::Value) {
        reset_sink();
        self.run(1);
        let out = take_sink();
        reset_sink();
        let text = String::from_utf8(out)
            .unwrap_or_else(|e| panic!("{}: output is not UTF-8: {e}", self.name));
        assert!(
            text.ends_with('\n') && text.matches('\n').count() == 1,
            "{}: expected exactly one line, got {text:?}",
            self.name
        );
        let value = serde_json::from_str(text.trim_end())
            .unwrap_or_else(|e| panic!("{}: output is not JSON ({e}): {text}", self.name));
        (text, value)
    }
}

fn contenders() -> (Vec<Contender>, [instrument::Guard; 2]) {
    let instrument = tracing_subscriber::registry().with(
        instrument_core::JsonLogLayer::new()
            .with_writer(Sink)
            .with_service("bench"),
    );
    let instrument_redact = tracing_subscriber::registry().with(
        instrument_core::JsonLogLayer::new()
            .with_writer(Sink)
            .with_service("bench")
            .with_redactor(Some(instrument_core::redact::Redactor::default().into())),
    );
    let (builder, guard) = instrument::builder()
        .service("bench")
        .writer(Sink)
        .env_lookup(|_| None)
        .build_dispatch()
        .expect("default configuration builds");
    let (layers, layers_guard) = instrument::builder()
        .service("bench")
        .writer(Sink)
        .env_lookup(|_| None)
        .build()
        .expect("default configuration builds");
    let fmt_json = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(Sink)
        .finish();
    let json_subscriber = tracing_subscriber::registry().with(json_subscriber_layer());
    let json_subscriber_fmt = json_subscriber::fmt()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(Sink)
        .finish();
    let contenders = vec![
        Contender::tracing("instrument", Dispatch::new(instrument)),
        Contender::tracing("instrument_redact", Dispatch::new(instrument_redact)),
        Contender::tracing("instrument_builder", builder),
        Contender::tracing("instrument_build", Dispatch::new(layers)),
        Contender::tracing("fmt_json_flattened", Dispatch::new(fmt_json)),
        Contender::tracing("json_subscriber", Dispatch::new(json_subscriber)),
        Contender::tracing("json_subscriber_fmt", Dispatch::new(json_subscriber_fmt)),
        Contender::tracing(
            NOOP,
            Dispatch::new(tracing_subscriber::registry().with(NoopLayer)),
        ),
        Contender {
            name: "serde_json_floor",
            work: Work::Floor,
        },
    ];
    (contenders, [guard, layers_guard])
}

/// The reference row without output: what `info!` inside two spans costs before any formatting.
const NOOP: &str = "registry_noop";

/// A layer that does nothing: the registry's span bookkeeping and the dispatch only.
struct NoopLayer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for NoopLayer {}

/// json-subscriber producing instrument's key set.
fn json_subscriber_layer() -> json_subscriber::JsonLayer<Registry, Sink> {
    let mut layer = json_subscriber::JsonLayer::<Registry, fn() -> io::Stdout>::new(Sink);
    layer
        .with_timer("timestamp", tracing_subscriber::fmt::time::SystemTime)
        .with_level("level")
        .with_target("target")
        .with_flattened_event()
        .with_top_level_flattened_span_list();
    layer.add_static_field("service", serde_json::Value::from("bench"));
    layer.add_from_span("span", |span| Some(span.name()));
    layer.add_from_span("spans", |span| {
        Some(
            span.scope()
                .from_root()
                .map(|s| s.name())
                .collect::<Vec<_>>(),
        )
    });
    layer
}

// ---------------------------------------------------------------------------------------------
// Checks.

/// Finds `key` anywhere in `value` (top level first).
fn find<'v>(value: &'v serde_json::Value, key: &str) -> Option<&'v serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map
            .get(key)
            .or_else(|| map.values().find_map(|v| find(v, key))),
        serde_json::Value::Array(items) => items.iter().find_map(|v| find(v, key)),
        _ => None,
    }
}

fn check(contenders: &[Contender]) -> Vec<(&'static str, String)> {
    let expected_event = serde_json::json!({
        "message": MESSAGE,
        "user": "alice",
        "seats": 2,
        "price": 19.5,
        "vip": true,
        "peer": PEER.to_string(),
    });
    let expected_span = serde_json::json!({
        "correlation_id": "c-8f2a",
        "route": "/book",
        "venue_id": 42,
        "retry": false,
    });
    let mut lines = Vec::new();
    let mut instrument_keys = None;
    for c in contenders.iter().filter(|c| c.name != NOOP) {
        let (text, line) = c.sample();
        let top = line
            .as_object()
            .unwrap_or_else(|| panic!("{}: line is not a JSON object: {text}", c.name));
        for (key, want) in expected_event.as_object().unwrap() {
            let got = top.get(key);
            assert_eq!(
                got,
                Some(want),
                "{}: top-level event field {key:?} missing or wrong in {text}",
                c.name
            );
        }
        for (key, want) in expected_span.as_object().unwrap() {
            assert_eq!(
                find(&line, key),
                Some(want),
                "{}: span field {key:?} missing or wrong in {text}",
                c.name
            );
        }
        for key in ["timestamp", "level", "target"] {
            assert!(top.contains_key(key), "{}: no {key:?} in {text}", c.name);
        }
        let keys: BTreeSet<String> = top.keys().cloned().collect();
        match c.name {
            "instrument" => instrument_keys = Some(keys),
            "instrument_builder" | "instrument_build" | "instrument_redact" | "json_subscriber"
            | "serde_json_floor" => {
                let mut want = instrument_keys
                    .clone()
                    .expect("instrument is checked first");
                if c.name == "json_subscriber" {
                    // Its flattened span fields include the span's own name.
                    want.insert("name".to_string());
                }
                assert_eq!(keys, want, "{}: key set differs from instrument's", c.name);
            }
            _ => {}
        }
        lines.push((c.name, text.trim_end().to_string()));
    }
    lines
}

// ---------------------------------------------------------------------------------------------
// The ratio table.

const TIMING: Timing = Timing::DEFAULT;

fn print_table(rows: &mut [Row<'_>], lines: &[(&'static str, String)]) {
    println!("\none line of each contender:");
    for (name, line) in lines {
        println!("  {name:<20} {line}");
    }
    let times = timing::time_rows(rows, &TIMING);
    timing::print_times(
        &format!(
            "log_event: ns/iter (batch means; {})",
            TIMING.describe("contender")
        ),
        ("contender", 20),
        &[Column::median("median", 10), Column::min("min", 10)],
        &times,
    );
    let ratio = |num, den, target| Ratio::of(&times, num, den, target);
    timing::print_ratios(
        &format!("ratios ({:>6} {:>6})", "median", "min"),
        44,
        &[
            ratio("instrument_redact", "instrument", Some(1.15)),
            ratio("instrument", "fmt_json_flattened", Some(0.2)),
            ratio("instrument", "serde_json_floor", Some(1.3)),
            ratio("instrument", "json_subscriber", None),
            ratio("instrument", "json_subscriber_fmt", None),
            ratio("instrument_builder", "fmt_json_flattened", Some(0.2)),
            ratio("instrument_builder", "serde_json_floor", Some(1.3)),
            ratio("instrument_builder", "instrument", None),
            ratio("instrument_builder", "instrument_build", None),
            ratio("registry_noop", "instrument", None),
        ],
    );
}

// ---------------------------------------------------------------------------------------------

fn main() {
    let (contenders, _guard) = contenders();
    let lines = check(&contenders);

    timing::run(
        timing::criterion(),
        "log_event",
        contenders
            .iter()
            .map(|c| Row::new(c.name, |iters| c.run(iters)))
            .collect(),
        |rows| print_table(rows, &lines),
    );
}
