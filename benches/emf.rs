//! Cost of one tracked call's metrics: instrument's EMF layer against `metrics` +
//! `metrics_cloudwatch_embedded`, measured in the same run, plus the EMF bytes each emits.
//!
//! The call: a successful `reserve()`. Its metrics: `reserve.success` (Count 1) and
//! `reserve.latency` (Milliseconds), namespace `Bench`, dimension `service = bench`.
//!
//! Contenders (each writes every EMF line into the same writer, [`Out`]: a thread-local,
//! pre-allocated `Vec<u8>` that counts the bytes and is cleared whenever it gets near full, so
//! it never reallocates and costs the same for both):
//!
//! * `instrument`: `#[track_performance(log = "off")] fn reserve()` ([`reserve`]) under
//!   `instrument::builder()...log_level("off").metrics_sink(..).build_dispatch()` installed as
//!   the global dispatcher, as `init()` installs it (so the call defers its span and records its
//!   metrics directly), and `guard.flush()` every [`FLUSH_EVERY`] calls, inside the measured
//!   loop. Its latencies are the clock's, so its output is checked for counts, not bytes.
//! * `instrument_span` (reference; the bytes rows): what `#[track_performance]` did before
//!   deferred spans, written out by hand ([`instrument_call`]): a span
//!   `reserve{function, outcome, latency_ms, error_type}`, entered, the work (a `black_box`),
//!   `outcome = "success"` and `latency_ms` recorded, then exited and closed, under
//!   `registry().with(EmfLayer::builder(FnSink(..)).namespace("Bench").dimension("service",
//!   "bench").build())` (the layer behind its `MetricsFilter`), `handle.flush()` every
//!   [`FLUSH_EVERY`] calls. Its latencies can be set, so its bytes are compared with the other
//!   crate's for the very same values.
//! * `metrics_cloudwatch_embedded`: the same metrics recorded by hand with the `metrics` crate
//!   ([`mce_call`]): `counter!("reserve.success").increment(1)` and
//!   `histogram!("reserve.latency").record(ms)` per call (a failing call would add
//!   `counter!("reserve.error", "error_type" => ..)`; every call here succeeds, for both), with
//!   units given once by `describe_counter!`/`describe_histogram!`, as that crate documents. Its
//!   `Collector` is the process's global `metrics` recorder (`Builder::init`, the only way to
//!   build one), and `Collector::flush(&mut writer)` runs every [`FLUSH_EVERY`] calls, inside
//!   the measured loop.
//! * `instrument_span_flush1000` (reference): `instrument_span` flushing every 1,000 calls.
//! * `registry_span_noop` (reference, no output): the same span under `registry().with(a no-op
//!   layer)`: what the span alone costs before any metrics work.
//!
//! Flush cadence: 100 calls, not 1,000. `metrics_cloudwatch_embedded` keeps a histogram's values
//! in a `sync_channel(100)` between flushes (one document's worth) and drops every further value
//! with an `error!`, so at 1,000 calls per flush it would publish only 100 of 1,000 latencies.
//! The main contenders flush every 100 calls, so all publish every value; the
//! `instrument_span_flush1000` row shows instrument at the cadence the brief asked for.
//!
//! Before anything is timed, `instrument` runs 10,000 real calls whose output must count all
//! of them (10,000 successes, 10,000 latencies, valid documents, same namespace, dimensions and
//! units as below); and each other emitting contender runs exactly 10,000 calls with the same
//! deterministic pseudo-random latencies (0.05–50 ms, log-uniform; no clock), twice: once as
//! a clock would produce them (`Duration::from_nanos(..).as_secs_f64() * 1e3`, full `f64`
//! noise) and once rounded to whole microseconds. Every line is parsed with `serde_json` (and
//! instrument's checked with `instrument_emf::validate::document`), both must declare
//! `reserve.success` as `Count` and `reserve.latency` as `Milliseconds` in namespace `Bench`
//! with dimension set `[["service"]]`, the success counts must sum to 10,000, and exactly
//! 10,000 latency values must come back, each within 1e-5 (relative) of the one recorded; the
//! run panics otherwise. The bytes written are the "bytes per 10k calls" of the table.
//!
//! Numbers: criterion measures every contender as usual (`emf/<name>`); then, for the ratio
//! table, the bench times each contender itself as `benches/support/timing.rs` describes
//! ([`TIMING`]: batches calibrated to ~40 ms, 11 rounds, contenders interleaved round-robin;
//! median and minimum batch mean in ns per call, a time target met when both ratios meet it;
//! byte ratios have no minimum). The table is printed only for real runs (`cargo bench`);
//! `cargo test --benches` and `cargo bench -- --test` only run the checks and criterion's
//! single-iteration smoke test.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::{Duration, Instant};

use instrument_emf::{EmfHandle, EmfLayer, FnSink};
use metrics_cloudwatch_embedded::Collector;
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

#[path = "support/timing.rs"]
mod timing;

use timing::{Column, Ratio, Row, Timing};

// ---------------------------------------------------------------------------------------------
// The shared writer.

/// The writer is cleared when less than this much room is left (no flush writes more).
const OUT_HEADROOM: usize = 32 * 1024;
/// The writer's capacity.
const OUT_CAPACITY: usize = 128 * 1024;

/// Where both contenders write their EMF lines: a reused buffer and a byte count.
struct Out {
    buf: Vec<u8>,
    bytes: u64,
    /// Keep everything (for the checks) instead of clearing when near full.
    keep: bool,
}

thread_local! {
    static OUT: RefCell<Out> = RefCell::new(Out {
        buf: Vec::with_capacity(OUT_CAPACITY),
        bytes: 0,
        keep: false,
    });
}

impl Out {
    /// Makes room for the next write (unless keeping everything).
    #[inline]
    fn make_room(&mut self) {
        if !self.keep && self.buf.len() > OUT_CAPACITY - OUT_HEADROOM {
            self.buf.clear();
        }
    }

    /// Runs `write` on the buffer, counting what it appends.
    #[inline]
    fn write_with<R>(write: impl FnOnce(&mut Vec<u8>) -> R) -> R {
        OUT.with(|out| {
            let mut out = out.borrow_mut();
            out.make_room();
            let before = out.buf.len();
            let r = write(&mut out.buf);
            out.bytes += (out.buf.len() - before) as u64;
            r
        })
    }

    /// Starts keeping everything written, from empty.
    fn start_capture() {
        OUT.with(|out| {
            let mut out = out.borrow_mut();
            out.buf.clear();
            out.bytes = 0;
            out.keep = true;
        });
    }

    /// Everything written since [`Out::start_capture`]; back to a cleared, reused buffer.
    fn take_capture() -> Vec<u8> {
        OUT.with(|out| {
            let mut out = out.borrow_mut();
            let captured = std::mem::replace(&mut out.buf, Vec::with_capacity(OUT_CAPACITY));
            assert_eq!(
                out.bytes,
                captured.len() as u64,
                "the byte count must match the bytes kept"
            );
            out.bytes = 0;
            out.keep = false;
            captured
        })
    }
}

/// instrument's sink: one append per document.
fn instrument_sink() -> FnSink<impl Fn(&[u8]) + Send + Sync + 'static> {
    FnSink::new(|doc: &[u8]| Out::write_with(|buf| buf.extend_from_slice(doc)))
}

/// `metrics_cloudwatch_embedded`'s flush, into the same writer.
fn flush_mce(collector: &Collector) {
    Out::write_with(|buf| collector.flush(buf))
        .expect("metrics_cloudwatch_embedded cannot fail to write to a Vec");
}

// ---------------------------------------------------------------------------------------------
// The workload.

const NAMESPACE: &str = "Bench";
/// Calls between flushes for both main contenders (see the module docs for why not 1,000).
const FLUSH_EVERY: u64 = 100;
/// Calls between flushes of the `instrument_span_flush1000` reference row.
const FLUSH_EVERY_LONG: u64 = 1_000;
/// Calls of the bytes measurement.
const CHECK_CALLS: usize = 10_000;

/// The tracked function's body.
#[inline(always)]
fn work() -> u64 {
    black_box(42)
}

/// What `#[track_performance] fn reserve()` does around a successful call; `latency` turns the
/// start instant into the recorded `latency_ms` (the clock, or a fixed value for the checks).
#[inline(always)]
fn instrument_call(latency: impl FnOnce(Instant) -> f64) {
    let span = tracing::info_span!(
        "reserve",
        function = "reserve",
        outcome = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
        error_type = tracing::field::Empty
    );
    let _e = span.enter();
    let start = Instant::now();
    black_box(work());
    span.record("outcome", "success");
    span.record("latency_ms", latency(start));
}

/// The same metrics recorded by hand with the `metrics` crate.
#[inline(always)]
fn mce_call(latency: impl FnOnce(Instant) -> f64) {
    let start = Instant::now();
    black_box(work());
    let ms = latency(start);
    metrics::counter!("reserve.success").increment(1);
    metrics::histogram!("reserve.latency").record(ms);
}

/// The latency a real call records.
#[inline(always)]
fn clock(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

/// `n` deterministic latencies, 0.05–50 ms log-uniform, as a nanosecond clock would give them
/// (`Duration::as_secs_f64() * 1e3`), or rounded to whole microseconds.
fn latencies(n: usize, whole_micros: bool) -> Vec<f64> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            // xorshift64*
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let r = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
            let u = (r >> 11) as f64 / (1u64 << 53) as f64;
            let ms = 0.05 * 1000f64.powf(u);
            if whole_micros {
                (ms * 1e3).round() / 1e3
            } else {
                Duration::from_nanos((ms * 1e6).round() as u64).as_secs_f64() * 1e3
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Contenders.

enum Work {
    /// [`reserve`] (`#[track_performance]`) under instrument's pipeline installed as the global
    /// dispatcher (as `init()` does), flushing through its guard.
    Tracked(instrument::Guard),
    /// [`instrument_call`] under this dispatcher, flushing through the handle.
    Instrument(Dispatch, EmfHandle),
    /// [`mce_call`], flushing the global collector.
    Mce(&'static Collector),
    /// [`instrument_call`] under a registry with a no-op layer; nothing to flush.
    SpanNoop(Dispatch),
}

struct Contender {
    name: &'static str,
    work: Work,
    flush_every: u64,
    /// Calls since the last flush, carried across batches so the cadence is exact.
    pending: Cell<u64>,
}

/// Runs `iters` calls, flushing every `every` calls (counting from `pending`); returns the time.
#[inline(always)]
fn drive(
    pending: &Cell<u64>,
    every: u64,
    iters: u64,
    mut call: impl FnMut(usize),
    mut flush: impl FnMut(),
) -> Duration {
    let mut n = pending.get();
    let start = Instant::now();
    for i in 0..iters {
        call(i as usize);
        n += 1;
        if n == every {
            n = 0;
            flush();
        }
    }
    let elapsed = start.elapsed();
    pending.set(n);
    elapsed
}

impl Contender {
    fn new(name: &'static str, work: Work, flush_every: u64) -> Self {
        Contender {
            name,
            work,
            flush_every,
            pending: Cell::new(0),
        }
    }

    /// Runs `iters` calls with real clock readings; returns the time they took.
    fn run(&self, iters: u64) -> Duration {
        let (pending, every) = (&self.pending, self.flush_every);
        match &self.work {
            Work::Tracked(guard) => drive(
                pending,
                every,
                iters,
                |_| {
                    black_box(reserve());
                },
                || guard.flush(),
            ),
            Work::Instrument(dispatch, handle) => {
                tracing::dispatcher::with_default(dispatch, || {
                    drive(
                        pending,
                        every,
                        iters,
                        |_| instrument_call(clock),
                        || handle.flush(),
                    )
                })
            }
            Work::Mce(collector) => drive(
                pending,
                every,
                iters,
                |_| mce_call(clock),
                || flush_mce(collector),
            ),
            Work::SpanNoop(dispatch) => tracing::dispatcher::with_default(dispatch, || {
                drive(pending, every, iters, |_| instrument_call(clock), || {})
            }),
        }
    }

    /// Flushes whatever is pending (into the writer, not counted by any check).
    fn flush_now(&self) {
        match &self.work {
            Work::Tracked(guard) => guard.flush(),
            Work::Instrument(_, handle) => handle.flush(),
            Work::Mce(collector) => flush_mce(collector),
            Work::SpanNoop(_) => {}
        }
        self.pending.set(0);
    }

    /// The EMF written for exactly `latencies.len()` calls recording these latencies.
    fn emitted(&self, latencies: &[f64]) -> Vec<u8> {
        assert_eq!(
            latencies.len() as u64 % self.flush_every,
            0,
            "the check must end on a flush"
        );
        self.flush_now();
        Out::start_capture();
        let (pending, every, iters) = (&self.pending, self.flush_every, latencies.len() as u64);
        match &self.work {
            Work::Instrument(dispatch, handle) => {
                tracing::dispatcher::with_default(dispatch, || {
                    drive(
                        pending,
                        every,
                        iters,
                        |i| instrument_call(|_| latencies[i]),
                        || handle.flush(),
                    )
                });
            }
            Work::Mce(collector) => {
                drive(
                    pending,
                    every,
                    iters,
                    |i| mce_call(|_| latencies[i]),
                    || flush_mce(collector),
                );
            }
            Work::Tracked(..) => {
                unreachable!("a tracked call's latency is the clock's; see check_tracked")
            }
            Work::SpanNoop(_) => unreachable!("the no-op reference emits nothing"),
        }
        assert_eq!(self.pending.get(), 0);
        Out::take_capture()
    }
}

/// A layer that does nothing: the registry's span bookkeeping and the dispatch only.
struct NoopLayer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for NoopLayer {}

fn instrument_contender(name: &'static str, flush_every: u64) -> Contender {
    let layer = EmfLayer::builder(instrument_sink())
        .namespace(NAMESPACE)
        .dimension("service", "bench")
        .build();
    let handle = layer.inner().handle();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    Contender::new(name, Work::Instrument(dispatch, handle), flush_every)
}

/// The tracked function of the `instrument` row.
#[instrument::track_performance(log = "off")]
fn reserve() -> u64 {
    work()
}

/// `reserve` under instrument's pipeline as `init()` installs it: the process's global
/// dispatcher (logs off, metrics into the shared writer). The other `tracing` contenders run
/// under scoped dispatchers on top of it.
fn tracked_contender(name: &'static str, flush_every: u64) -> Contender {
    let (dispatch, guard) = instrument::builder()
        .env_lookup(|_| None)
        .writer(std::io::sink)
        .log_level("off")
        .namespace(NAMESPACE)
        .service("bench")
        .metrics_sink(instrument_sink())
        .build_dispatch()
        .expect("instrument builds");
    tracing::dispatcher::set_global_default(dispatch).expect("the only global dispatcher");
    Contender::new(name, Work::Tracked(guard), flush_every)
}

const INSTRUMENT: &str = "instrument";
const MCE: &str = "metrics_cloudwatch_embedded";
const SPAN: &str = "instrument_span";
const SPAN_LONG: &str = "instrument_span_flush1000";
const NOOP: &str = "registry_span_noop";

fn contenders() -> Vec<Contender> {
    // The process's global `metrics` recorder; instrument never touches `metrics`. The global
    // `tracing` dispatcher is the `instrument` row's pipeline; the span rows scope their own.
    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(NAMESPACE)
        .with_dimension("service", "bench")
        .init()
        .expect("the metrics_cloudwatch_embedded recorder installs once");
    metrics::describe_counter!("reserve.success", metrics::Unit::Count, "successful calls");
    metrics::describe_histogram!(
        "reserve.latency",
        metrics::Unit::Milliseconds,
        "call latency"
    );
    vec![
        tracked_contender(INSTRUMENT, FLUSH_EVERY),
        Contender::new(MCE, Work::Mce(collector), FLUSH_EVERY),
        instrument_contender(SPAN, FLUSH_EVERY),
        instrument_contender(SPAN_LONG, FLUSH_EVERY_LONG),
        Contender::new(
            NOOP,
            Work::SpanNoop(Dispatch::new(
                tracing_subscriber::registry().with(NoopLayer),
            )),
            FLUSH_EVERY,
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Checks.

/// The numbers of a metric member: one number, or an array of numbers.
fn numbers(name: &str, value: &serde_json::Value, line: &str) -> Vec<f64> {
    let one = |v: &serde_json::Value| {
        v.as_f64()
            .unwrap_or_else(|| panic!("{name}: not a number in {line}"))
    };
    match value {
        serde_json::Value::Array(items) => items.iter().map(one).collect(),
        v => vec![one(v)],
    }
}

/// What a contender's output for the check calls holds.
struct Emitted {
    bytes: usize,
    lines: usize,
    /// One document, for the printout.
    sample: String,
    /// `validate::document` violations found in the other crate's output (informative).
    violations: Vec<String>,
}

/// Parses and checks a contender's output for `recorded`; panics with the reason if it does not
/// carry exactly those calls.
fn check_output(c: &Contender, out: &[u8], recorded: &[f64]) -> Emitted {
    check_calls(c, out, recorded.len(), Some(recorded))
}

/// [`check_output`] for `calls` calls whose latencies are known (`recorded`) or came from the
/// clock (`None`: counted, not compared).
fn check_calls(c: &Contender, out: &[u8], calls: usize, recorded: Option<&[f64]>) -> Emitted {
    let name = c.name;
    let text = std::str::from_utf8(out).unwrap_or_else(|e| panic!("{name}: not UTF-8: {e}"));
    assert!(
        text.ends_with('\n'),
        "{name}: output must end with a newline"
    );
    let mut success = 0.0;
    let mut values = Vec::with_capacity(calls);
    let mut violations = Vec::new();
    let mut lines = 0;
    for line in text.lines() {
        lines += 1;
        let doc: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{name}: a line is not JSON ({e}): {line}"));
        let problems = instrument_emf::validate::document(line.as_bytes());
        if matches!(c.work, Work::Instrument(..) | Work::Tracked(..)) {
            assert!(
                problems.is_empty(),
                "{name}: invalid EMF document ({problems:?}): {line}"
            );
        } else {
            violations.extend(problems);
        }
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(
            directive["Namespace"], NAMESPACE,
            "{name}: namespace in {line}"
        );
        assert_eq!(
            directive["Dimensions"],
            serde_json::json!([["service"]]),
            "{name}: dimension sets in {line}"
        );
        assert_eq!(doc["service"], "bench", "{name}: service in {line}");
        let metrics = directive["Metrics"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: no Metrics in {line}"));
        for metric in metrics {
            let metric_name = metric["Name"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: metric without a name in {line}"));
            let unit = match metric_name {
                "reserve.success" => "Count",
                "reserve.latency" => "Milliseconds",
                other => panic!("{name}: unexpected metric {other:?} in {line}"),
            };
            assert_eq!(
                metric["Unit"], unit,
                "{name}: unit of {metric_name} in {line}"
            );
            let found = numbers(metric_name, &doc[metric_name], line);
            if metric_name == "reserve.success" {
                success += found.iter().sum::<f64>();
            } else {
                values.extend(found);
            }
        }
    }
    assert_eq!(
        success, calls as f64,
        "{name}: reserve.success must sum to {calls} over {calls} calls"
    );
    assert_eq!(
        values.len(),
        calls,
        "{name}: reserve.latency must carry every one of the {calls} values recorded"
    );
    let mut want = recorded.unwrap_or(&values).to_vec();
    want.sort_by(f64::total_cmp);
    values.sort_by(f64::total_cmp);
    for (got, want) in values.iter().zip(&want) {
        assert!(
            (got - want).abs() <= 1e-5 * want.abs(),
            "{name}: latency {want} came back as {got}"
        );
    }
    Emitted {
        bytes: out.len(),
        lines,
        sample: text.lines().next().unwrap_or_default().to_string(),
        violations,
    }
}

/// Runs 10,000 real tracked calls of `c` (a [`Work::Tracked`]) and checks that every one is
/// counted and timed, in valid EMF with the expected namespace, dimensions and units.
fn check_tracked(c: &Contender) {
    c.flush_now();
    Out::start_capture();
    c.run(CHECK_CALLS as u64);
    assert_eq!(c.pending.get(), 0, "the check must end on a flush");
    let out = Out::take_capture();
    check_calls(c, &out, CHECK_CALLS, None);
}

/// Bytes per 10,000 calls, per emitting contender whose latencies can be set (the hand-written
/// span): (name, clock-like latencies, whole µs). Checks the tracked contenders too.
fn check(contenders: &[Contender]) -> Vec<(&'static str, Emitted, Emitted)> {
    let clock_like = latencies(CHECK_CALLS, false);
    let whole_micros = latencies(CHECK_CALLS, true);
    for c in contenders {
        if matches!(c.work, Work::Tracked(..)) {
            check_tracked(c);
        }
    }
    contenders
        .iter()
        .filter(|c| !matches!(c.work, Work::SpanNoop(_) | Work::Tracked(..)))
        .map(|c| {
            let a = check_output(c, &c.emitted(&clock_like), &clock_like);
            let b = check_output(c, &c.emitted(&whole_micros), &whole_micros);
            (c.name, a, b)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The ratio table.

const TIMING: Timing = Timing::DEFAULT;

fn print_table(
    contenders: &[Contender],
    rows: &mut [Row<'_>],
    emitted: &[(&'static str, Emitted, Emitted)],
) {
    println!("\none document of each contender (clock-like latencies):");
    for (name, e, _) in emitted {
        println!("  {name:<28} {}", e.sample);
    }
    for (name, a, b) in emitted {
        if !a.violations.is_empty() || !b.violations.is_empty() {
            println!(
                "  {name}: instrument_emf::validate::document found {:?}",
                a.violations
                    .iter()
                    .chain(&b.violations)
                    .collect::<BTreeSet<_>>()
            );
        }
    }
    let times = timing::time_rows(rows, &TIMING);
    let flush_every = |name: &str| {
        contenders
            .iter()
            .find(|c| c.name == name)
            .expect("known contender")
            .flush_every
    };
    let found = |name: &str| emitted.iter().find(|(n, _, _)| *n == name);
    // The bytes and lines of the check runs; "-" for a contender that emits nothing.
    let output = |head, width, field: fn(&Emitted) -> usize, whole_micros: bool| {
        Column::new(head, width, move |name, _| match found(name) {
            Some((_, a, b)) => field(if whole_micros { b } else { a }).to_string(),
            None => "-".into(),
        })
    };
    timing::print_times(
        &format!(
            "emf: ns per tracked call (batch means; {}; flush every N calls inside the loop) and \
             EMF bytes per {CHECK_CALLS} calls",
            TIMING.describe("contender")
        ),
        ("contender", 28),
        &[
            Column::new("N", 5, |name, _| flush_every(name).to_string()),
            Column::median("ns median", 9),
            Column::min("ns min", 9),
            output("bytes/10k", 10, |e| e.bytes, false),
            output("lines", 6, |e| e.lines, false),
            output("bytes (µs)", 11, |e| e.bytes, true),
            output("lines", 6, |e| e.lines, true),
        ],
        &times,
    );
    println!("  (bytes: clock-like f64 latencies; bytes (µs): the same rounded to whole µs)");
    let time_ratio = |num: &str, den: &str, target| {
        Ratio::of(&times, num, den, target).labelled(format!("time  {num} / {den}"))
    };
    let bytes_ratio = |num: &str, den: &str, whole_micros: bool, target| {
        let bytes = |name| {
            let (_, a, b) = found(name).expect("known contender");
            (if whole_micros { b } else { a }).bytes as f64
        };
        let suffix = if whole_micros { " (whole µs)" } else { "" };
        Ratio {
            label: format!("bytes {num} / {den}{suffix}"),
            median: bytes(num) / bytes(den),
            min: None,
            target,
        }
    };
    timing::print_ratios(
        &format!("ratios {:>60} {:>6}", "median", "min"),
        64,
        &[
            time_ratio(INSTRUMENT, MCE, Some(1.0)),
            bytes_ratio(SPAN, MCE, false, Some(1.0)),
            bytes_ratio(SPAN, MCE, true, None),
            time_ratio(SPAN, MCE, None),
            time_ratio(SPAN_LONG, MCE, None),
            bytes_ratio(SPAN_LONG, MCE, false, None),
            time_ratio(NOOP, MCE, None),
        ],
    );
}

// ---------------------------------------------------------------------------------------------

fn main() {
    let contenders = contenders();
    let emitted = check(&contenders);

    timing::run(
        timing::criterion(),
        "emf",
        contenders
            .iter()
            .map(|c| Row::new(c.name, |iters| c.run(iters)))
            .collect(),
        |rows| print_table(&contenders, rows, &emitted),
    );
}
