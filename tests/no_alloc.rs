//! In steady state, logging an event costs zero heap allocations: through `JsonLogLayer` alone and
//! through the full subscriber `instrument::builder()` builds (with its `EnvFilter`-based filter).
//!
//! A counting global allocator counts allocations made by the current thread while it is
//! "armed". The first counted allocation also captures a backtrace (disarmed first, since
//! capturing allocates) so a failure says where the allocation came from.

use std::alloc::{GlobalAlloc, Layout, System};
use std::backtrace::Backtrace;
use std::cell::Cell;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use tracing_subscriber::layer::SubscriberExt;

struct Counting;

static COUNT: AtomicUsize = AtomicUsize::new(0);
static CAPTURED: AtomicBool = AtomicBool::new(false);
static FIRST: Mutex<Option<Backtrace>> = Mutex::new(None);

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
}

fn armed() -> bool {
    ARMED.try_with(Cell::get).unwrap_or(false)
}

fn set_armed(on: bool) {
    let _ = ARMED.try_with(|a| a.set(on));
}

fn counted() {
    COUNT.fetch_add(1, Ordering::SeqCst);
    if !CAPTURED.swap(true, Ordering::SeqCst) {
        set_armed(false);
        let backtrace = Backtrace::force_capture();
        *FIRST.lock().unwrap_or_else(|e| e.into_inner()) = Some(backtrace);
        set_armed(true);
    }
}

// SAFETY: every method forwards to `System` unchanged; counting has no effect on the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if armed() {
            counted();
        }
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if armed() {
            counted();
        }
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if armed() {
            counted();
        }
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A writer that only counts what it is given (no allocation), so the tests can check that the
/// events were really formatted and written.
struct CountingSink;

static LINES: AtomicUsize = AtomicUsize::new(0);

impl io::Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        LINES.fetch_add(
            buf.iter().filter(|b| **b == b'\n').count(),
            Ordering::SeqCst,
        );
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn counting_sink() -> CountingSink {
    CountingSink
}

/// Serialises the tests: `COUNT` and the captured backtrace are global.
static SERIAL: Mutex<()> = Mutex::new(());

/// One event with 5 fields (plus the message) inside two entered spans of 2 fields each.
fn log_one(i: u64) {
    tracing::info!(
        seats = 2,
        user = "u-42",
        paid = true,
        amount = 12.5,
        order = ?(7u32, "t-3"),
        "reserved {}", i
    );
}

/// Logs `n` events inside the spans; returns the allocations made while logging them.
fn allocations_for(n: u64) -> (usize, Option<String>) {
    let outer = tracing::info_span!("request", correlation_id = "c-1", route = "/book");
    let _outer = outer.enter();
    let inner = tracing::info_span!("reserve", attempt = 1, table = "t-3");
    let _inner = inner.enter();
    for i in 0..300 {
        log_one(i); // warm-up: thread-local buffers, span stacks, callsite interest
    }
    COUNT.store(0, Ordering::SeqCst);
    CAPTURED.store(false, Ordering::SeqCst);
    LINES.store(0, Ordering::SeqCst);
    set_armed(true);
    for i in 0..n {
        log_one(i);
    }
    set_armed(false);
    let count = COUNT.load(Ordering::SeqCst);
    assert_eq!(
        LINES.load(Ordering::SeqCst),
        n as usize,
        "every event written as one line"
    );
    let first = FIRST.lock().unwrap().take().map(|b| b.to_string());
    (count, first)
}

fn assert_no_allocations(what: &str, (count, first): (usize, Option<String>)) {
    assert!(
        count == 0,
        "{what}: {count} allocations for 10,000 events; the first one:\n{}",
        first.unwrap_or_default()
    );
}

#[test]
fn json_log_layer_does_not_allocate_in_steady_state() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let layer = instrument_core::JsonLogLayer::new().with_writer(counting_sink);
    let subscriber = tracing_subscriber::registry().with(layer);
    let result = tracing::subscriber::with_default(subscriber, || allocations_for(10_000));
    assert_no_allocations("JsonLogLayer", result);
}

#[test]
fn the_built_subscriber_does_not_allocate_in_steady_state() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (subscriber, _guard) = instrument::builder()
        .writer(counting_sink)
        .env_lookup(|_| None)
        .build()
        .expect("build");
    let result = tracing::subscriber::with_default(subscriber, || allocations_for(10_000));
    assert_no_allocations("instrument::builder().build()", result);
}

#[test]
fn the_installed_pipeline_does_not_allocate_in_steady_state() {
    // `build_dispatch()`, what `init()` installs: the same layers behind the deferred-span
    // pipeline, which checks for pending tracked calls before every event.
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (dispatch, _guard) = instrument::builder()
        .writer(counting_sink)
        .env_lookup(|_| None)
        .build_dispatch()
        .expect("build");
    let result = tracing::dispatcher::with_default(&dispatch, || allocations_for(10_000));
    assert_no_allocations("instrument::builder().build_dispatch()", result);
}

/// The counter is not vacuous: an allocation while armed is counted, with its backtrace.
#[test]
fn the_counting_allocator_sees_allocations() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    COUNT.store(0, Ordering::SeqCst);
    CAPTURED.store(false, Ordering::SeqCst);
    set_armed(true);
    let v: Vec<u8> = std::hint::black_box(Vec::with_capacity(16));
    set_armed(false);
    drop(v);
    assert_eq!(COUNT.load(Ordering::SeqCst), 1);
    assert!(FIRST.lock().unwrap().take().is_some());
}
