//! `#[track_performance]` behaviour: for every supported shape of function, what the tracked
//! span records when it closes (the fields the EMF layer reads) and the completion log lines.
//!
//! A capturing layer records each span's fields at close and each event with its fields, so the
//! assertions are on recorded values, never on text.
//!
//! Linted with `clippy::pedantic`: CI's clippy run proves the generated code of every shape
//! below is free of warnings.
#![warn(clippy::pedantic)]

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use instrument::track_performance;
use serde_json::{json, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

// ---------------------------------------------------------------------------------------------
// Capture
// ---------------------------------------------------------------------------------------------

/// A closed span: what a metrics layer sees in `on_close`.
#[derive(Debug, Clone)]
struct Closed {
    name: &'static str,
    target: String,
    level: Level,
    fields: BTreeMap<String, Value>,
}

impl Closed {
    fn get(&self, key: &str) -> &Value {
        self.fields.get(key).unwrap_or(&Value::Null)
    }

    fn latency(&self) -> f64 {
        self.get("latency_ms")
            .as_f64()
            .unwrap_or_else(|| panic!("no latency_ms in {self:?}"))
    }
}

#[derive(Debug, Clone)]
struct Logged {
    level: Level,
    target: String,
    fields: BTreeMap<String, Value>,
    /// The `function` field of the span the event is in.
    in_function: Option<Value>,
}

#[derive(Clone, Default)]
struct Capture {
    closed: Arc<Mutex<Vec<Closed>>>,
    events: Arc<Mutex<Vec<Logged>>>,
}

struct Fields(BTreeMap<String, Value>);

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), json!(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), json!(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), json!(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), json!(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), json!(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0
            .insert(field.name().into(), json!({ "error": value.to_string() }));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), json!(format!("{value:?}")));
    }
}

impl<S> Layer<S> for Capture
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields(BTreeMap::new());
        attrs.record(&mut fields);
        ctx.span(id).unwrap().extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let span = ctx.span(id).unwrap();
        let mut extensions = span.extensions_mut();
        values.record(extensions.get_mut::<Fields>().unwrap());
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields(BTreeMap::new());
        event.record(&mut fields);
        let in_function = ctx.event_span(event).and_then(|span| {
            span.extensions()
                .get::<Fields>()
                .and_then(|f| f.0.get("function").cloned())
        });
        self.events.lock().unwrap().push(Logged {
            level: *event.metadata().level(),
            target: event.metadata().target().to_string(),
            fields: fields.0,
            in_function,
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let span = ctx.span(&id).unwrap();
        let fields = span.extensions_mut().remove::<Fields>().unwrap().0;
        let meta = span.metadata();
        self.closed.lock().unwrap().push(Closed {
            name: meta.name(),
            target: meta.target().to_string(),
            level: *meta.level(),
            fields,
        });
    }
}

impl Capture {
    /// Tracked spans (those with a `function` field), in closing order.
    fn tracked(&self) -> Vec<Closed> {
        self.closed
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.fields.contains_key("function"))
            .cloned()
            .collect()
    }

    /// The only tracked span.
    fn one(&self) -> Closed {
        let tracked = self.tracked();
        assert_eq!(tracked.len(), 1, "expected one tracked span: {tracked:#?}");
        tracked.into_iter().next().unwrap()
    }

    fn events(&self) -> Vec<Logged> {
        self.events.lock().unwrap().clone()
    }

    /// Completion lines: events with an `outcome` field.
    fn completions(&self) -> Vec<Logged> {
        self.events()
            .into_iter()
            .filter(|e| e.fields.contains_key("outcome"))
            .collect()
    }

    /// `outcome` → count over tracked spans named `function`.
    fn outcomes(&self, function: &str) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for closed in self.tracked() {
            if closed.get("function") == function {
                let outcome = closed
                    .get("outcome")
                    .as_str()
                    .unwrap_or("<none>")
                    .to_string();
                *counts.entry(outcome).or_default() += 1;
            }
        }
        counts
    }
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| ((*k).to_string(), *v)).collect()
}

/// Runs `f` with a capturing subscriber as the thread's default.
fn capture(f: impl FnOnce()) -> Capture {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    tracing::subscriber::with_default(subscriber, f);
    capture
}

fn block_on<F: Future>(future: F) -> F::Output {
    futures::executor::block_on(future)
}

/// A current-thread tokio runtime (the subscriber is the thread's default).
fn tokio_run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(future)
}

/// Runs `f`, expecting a panic, without printing it.
fn expect_panic(f: impl FnOnce()) {
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    panic::set_hook(hook);
    assert!(result.is_err(), "expected a panic");
}

// ---------------------------------------------------------------------------------------------
// Functions under test
// ---------------------------------------------------------------------------------------------

#[derive(Debug, PartialEq)]
enum BookingError {
    SoldOut,
}

impl fmt::Display for BookingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sold out")
    }
}

impl std::error::Error for BookingError {}

type BookingResult<T> = Result<T, BookingError>;

/// Reserves `seats` seats.
#[track_performance]
fn reserve_ticket(seats: u32) -> Result<u32, BookingError> {
    if seats > 4 {
        Err(BookingError::SoldOut)
    } else {
        Ok(seats * 10)
    }
}

#[track_performance]
fn parse_seats(text: &str) -> Result<u32, std::num::ParseIntError> {
    let seats: u32 = text.trim().parse()?;
    Ok(seats)
}

#[track_performance]
fn early_return(flag: bool) -> BookingResult<&'static str> {
    if flag {
        return Err(BookingError::SoldOut);
    }
    Ok("fine")
}

#[track_performance]
fn read_config(missing: bool) -> io::Result<String> {
    if missing {
        return Err(io::Error::new(io::ErrorKind::NotFound, "no config"));
    }
    Ok("config".into())
}

#[track_performance]
fn load(missing: bool) -> anyhow::Result<u8> {
    if missing {
        anyhow::bail!("nothing to load");
    }
    Ok(1)
}

#[track_performance]
fn boxed_error(fail: bool) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    if fail {
        return Err("boxed failure".into());
    }
    Ok(())
}

#[track_performance]
fn string_error(fail: bool) -> Result<(), String> {
    if fail {
        Err("plain text failure".to_string())
    } else {
        Ok(())
    }
}

#[track_performance]
fn not_a_result(x: u64) -> u64 {
    x + 1
}

#[track_performance]
fn returns_unit() {}

#[track_performance]
fn sleepy(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

#[track_performance]
fn explode(really: bool) -> Result<u8, BookingError> {
    assert!(!really, "boom");
    Ok(1)
}

#[track_performance]
fn never_returns() -> ! {
    panic!("diverges")
}

#[track_performance]
async fn reserve_async(seats: u32) -> BookingResult<u32> {
    tokio::time::sleep(Duration::from_millis(20)).await;
    if seats > 4 {
        return Err(BookingError::SoldOut);
    }
    Ok(seats)
}

#[track_performance]
async fn parse_async(text: &str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = text.parse()?;
    Ok(n)
}

#[track_performance]
async fn never_completes() -> u8 {
    futures::future::pending::<()>().await;
    1
}

#[track_performance]
async fn panics_async() -> u8 {
    tokio::time::sleep(Duration::from_millis(1)).await;
    panic!("async boom")
}

#[track_performance]
async fn borrows_async(items: &[u32]) -> Option<&u32> {
    items.iter().max()
}

// Generics and where clauses.
#[track_performance]
fn largest<T>(items: &[T]) -> Option<&T>
where
    T: PartialOrd + fmt::Debug,
{
    let mut best = items.first()?;
    for item in items {
        if item > best {
            best = item;
        }
    }
    Some(best)
}

#[track_performance]
fn convert<T, E>(value: Result<T, E>) -> Result<T, E>
where
    E: std::error::Error + 'static,
{
    value
}

#[track_performance]
async fn generic_async<T: Clone + Send>(value: T) -> Result<T, BookingError> {
    Ok(value.clone())
}

// impl Trait returns.
#[track_performance]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

/// Returns a future: the whole future is timed, from the call to its completion.
#[track_performance]
fn fetch(delay_ms: u64, fail: bool) -> impl Future<Output = Result<u32, BookingError>> + Send {
    async move {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        if fail {
            Err(BookingError::SoldOut)
        } else {
            Ok(7)
        }
    }
}

#[track_performance]
fn boxed_future(fail: bool) -> Pin<Box<dyn Future<Output = BookingResult<u8>> + Send>> {
    if fail {
        return Box::pin(async { Err(BookingError::SoldOut) });
    }
    Box::pin(async { Ok(1) })
}

// Patterns in arguments, unsafe.
struct Point {
    x: i64,
    y: i64,
}

#[track_performance]
fn manhattan((a, b): (i64, i64), Point { x, y }: Point) -> i64 {
    (a - x).abs() + (b - y).abs()
}

#[track_performance]
unsafe fn read_raw(pointer: *const u32) -> u32 {
    *pointer
}

// Arguments of various types.
#[derive(Debug)]
struct Order {
    id: u32,
}

struct Opaque;

#[track_performance]
fn record_args(count: u64, label: &str, order: &Order, _secret: u8, opaque: &Opaque) -> u32 {
    let _ = opaque;
    order.id + u32::try_from(count).unwrap() + u32::try_from(label.len()).unwrap()
}

// Options.
#[track_performance(
    name = "booking",
    dimensions(operation = "reserve", "channel" = "web"),
    level = "debug",
    log = "all",
    skip(password),
    fields(user.id = %user, attempt = 1_u64, note = ?Some("n"), later)
)]
fn with_options(user: &str, password: &str, seats: u8) -> Result<u8, BookingError> {
    let _ = password;
    tracing::Span::current().record("later", "set");
    if seats == 0 {
        Err(BookingError::SoldOut)
    } else {
        Ok(seats)
    }
}

#[track_performance(skip_all, log = "off")]
fn quiet(password: &str) -> Result<(), BookingError> {
    let _ = password;
    Err(BookingError::SoldOut)
}

mod renamed {
    pub use instrument as observability;
}

#[track_performance(crate = crate::renamed::observability)]
fn through_renamed_crate() -> u8 {
    3
}

// Methods.
#[derive(Debug)]
struct Inventory {
    seats: u32,
}

impl Inventory {
    #[track_performance]
    fn new(seats: u32) -> Self {
        Inventory { seats }
    }

    /// Associated function that neither takes `self` nor mentions `Self`: it cannot know its
    /// type and is named like a free function (the impl-block attribute fixes that).
    #[track_performance]
    fn helper(seats: u32) -> u32 {
        seats
    }

    #[track_performance]
    fn available(&self) -> u32 {
        self.seats
    }

    #[track_performance]
    fn take(&mut self, seats: u32) -> Result<&mut u32, BookingError> {
        if seats > self.seats {
            return Err(BookingError::SoldOut);
        }
        self.seats -= seats;
        Ok(&mut self.seats)
    }

    #[track_performance]
    fn close(self) -> u32 {
        self.seats
    }

    #[track_performance]
    fn pinned(self: Pin<&mut Self>) -> u32 {
        self.seats
    }

    #[track_performance]
    async fn refill(&mut self, seats: u32) -> u32 {
        tokio::time::sleep(Duration::from_millis(1)).await;
        self.seats += seats;
        self.seats
    }
}

struct Repo<T> {
    items: Vec<T>,
}

impl<T: Clone> Repo<T> {
    #[track_performance]
    fn first(&self) -> Option<T> {
        self.items.first().cloned()
    }
}

trait Store {
    fn save(&self, key: &str) -> Result<(), BookingError>;

    #[track_performance]
    fn describe(&self) -> String {
        "store".to_string()
    }
}

impl Store for Inventory {
    #[track_performance]
    fn save(&self, key: &str) -> Result<(), BookingError> {
        if key.is_empty() {
            Err(BookingError::SoldOut)
        } else {
            Ok(())
        }
    }
}

impl Store for Repo<u8> {
    fn save(&self, _key: &str) -> Result<(), BookingError> {
        Ok(())
    }
}

// The attribute on an impl block: every method, named after the type spelled there.
struct Shop;

#[track_performance(dimensions(team = "shop"))]
impl Shop {
    const fn constant() -> u8 {
        1
    }

    fn open(hour: u8) -> bool {
        hour >= 8
    }

    fn sell(&self, items: u32) -> Result<u32, BookingError> {
        if items == 0 {
            Err(BookingError::SoldOut)
        } else {
            Ok(items)
        }
    }

    #[track_performance(name = "shop_close", log = "all")]
    fn close(&self) {}

    async fn restock(&self) -> u32 {
        5
    }
}

// #[async_trait], in each order.
#[async_trait::async_trait]
trait Booking {
    async fn book(&self, seats: u32) -> Result<u32, BookingError>;
    async fn cancel(&self, id: u32) -> u32;
}

struct MethodLevel;

#[async_trait::async_trait]
impl Booking for MethodLevel {
    #[track_performance]
    async fn book(&self, seats: u32) -> Result<u32, BookingError> {
        tokio::time::sleep(Duration::from_millis(15)).await;
        if seats > 4 {
            return Err(BookingError::SoldOut);
        }
        Ok(seats)
    }

    #[track_performance]
    async fn cancel(&self, id: u32) -> u32 {
        id
    }
}

struct TrackFirst;

#[track_performance]
#[async_trait::async_trait]
impl Booking for TrackFirst {
    async fn book(&self, seats: u32) -> Result<u32, BookingError> {
        tokio::time::sleep(Duration::from_millis(15)).await;
        if seats > 4 {
            Err(BookingError::SoldOut)
        } else {
            Ok(seats)
        }
    }

    async fn cancel(&self, id: u32) -> u32 {
        id
    }
}

struct AsyncTraitFirst;

#[async_trait::async_trait]
#[track_performance]
impl Booking for AsyncTraitFirst {
    async fn book(&self, seats: u32) -> Result<u32, BookingError> {
        tokio::time::sleep(Duration::from_millis(15)).await;
        if seats > 4 {
            Err(BookingError::SoldOut)
        } else {
            Ok(seats)
        }
    }

    async fn cancel(&self, id: u32) -> u32 {
        id
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn free_function_success_and_error_counts() {
    let cap = capture(|| {
        for seats in [1, 2, 3, 5, 9] {
            let _ = reserve_ticket(seats);
        }
    });
    assert_eq!(
        cap.outcomes("reserve_ticket"),
        counts(&[("success", 3), ("error", 2)])
    );
    for closed in cap.tracked() {
        assert_eq!(closed.name, "reserve_ticket");
        assert_eq!(closed.target, module_path!());
        assert_eq!(closed.level, Level::INFO);
        assert!(closed.latency() >= 0.0 && closed.latency() < 1_000.0);
        match closed.get("outcome").as_str() {
            Some("error") => assert_eq!(closed.get("error_type"), "SoldOut"),
            _ => assert_eq!(closed.get("error_type"), &Value::Null),
        }
        assert!(
            closed.get("seats").is_u64(),
            "arguments recorded: {closed:?}"
        );
    }
}

#[test]
fn return_value_is_unchanged() {
    let cap = capture(|| {
        assert_eq!(reserve_ticket(2), Ok(20));
        assert_eq!(reserve_ticket(7), Err(BookingError::SoldOut));
    });
    assert_eq!(cap.tracked().len(), 2);
}

#[test]
fn works_without_any_subscriber() {
    assert_eq!(reserve_ticket(1), Ok(10));
    assert_eq!(block_on(parse_async("4")), Ok(4));
}

#[test]
fn question_mark_and_early_return_are_recorded_once() {
    let cap = capture(|| {
        assert!(parse_seats("x").is_err());
        assert_eq!(parse_seats(" 3 "), Ok(3));
        assert!(early_return(true).is_err());
        assert_eq!(early_return(false), Ok("fine"));
    });
    assert_eq!(
        cap.outcomes("parse_seats"),
        counts(&[("success", 1), ("error", 1)])
    );
    assert_eq!(
        cap.outcomes("early_return"),
        counts(&[("success", 1), ("error", 1)])
    );
    let errors: Vec<_> = cap
        .tracked()
        .into_iter()
        .filter(|c| c.get("outcome") == "error")
        .map(|c| c.get("error_type").clone())
        .collect();
    assert_eq!(errors, [json!("std::num::ParseIntError"), json!("SoldOut")]);
}

#[test]
fn result_aliases_are_detected_by_type() {
    let cap = capture(|| {
        let _ = read_config(true);
        let _ = read_config(false);
        let _ = load(true);
        let _ = load(false);
        let _ = boxed_error(true);
        let _ = string_error(true);
    });
    assert_eq!(
        cap.outcomes("read_config"),
        counts(&[("success", 1), ("error", 1)])
    );
    assert_eq!(
        cap.outcomes("load"),
        counts(&[("success", 1), ("error", 1)])
    );
    let error_types: BTreeMap<String, Value> = cap
        .tracked()
        .into_iter()
        .filter(|c| c.get("outcome") == "error")
        .map(|c| {
            (
                c.get("function").as_str().unwrap().to_string(),
                c.get("error_type").clone(),
            )
        })
        .collect();
    // The error behind the alias or box, by the documented rule (`tracked::error_type`): a
    // standard-library error by name; a message-only error (`anyhow!`, a boxed `&str`) has no
    // type to name; a non-`Error` error type by its own name.
    assert_eq!(error_types["read_config"], "std::io::Error");
    assert_eq!(error_types["load"], "Error");
    assert_eq!(error_types["boxed_error"], "Error");
    assert_eq!(error_types["string_error"], "String");

    // The completion lines carry the error itself (or its text).
    let lines: BTreeMap<String, Logged> = cap
        .completions()
        .into_iter()
        .map(|e| (e.fields["function"].as_str().unwrap().to_string(), e))
        .collect();
    assert_eq!(
        lines["read_config"].fields["error"],
        json!({"error": "no config"})
    );
    assert_eq!(
        lines["load"].fields["error"],
        json!({"error": "nothing to load"})
    );
    assert_eq!(
        lines["boxed_error"].fields["error"],
        json!({"error": "boxed failure"})
    );
    assert_eq!(
        lines["string_error"].fields["error_message"],
        "plain text failure"
    );
}

#[test]
fn non_result_returns_are_successes() {
    let cap = capture(|| {
        assert_eq!(not_a_result(1), 2);
        returns_unit();
    });
    assert_eq!(cap.outcomes("not_a_result"), counts(&[("success", 1)]));
    assert_eq!(cap.outcomes("returns_unit"), counts(&[("success", 1)]));
}

#[test]
fn latency_is_measured() {
    let cap = capture(|| sleepy(25));
    let latency = cap.one().latency();
    assert!(
        (25.0..5_000.0).contains(&latency),
        "latency {latency} ms for a 25 ms call"
    );
}

#[test]
fn panics_are_recorded_and_keep_unwinding() {
    let cap = capture(|| {
        expect_panic(|| {
            let _ = explode(true);
        });
        let _ = explode(false);
    });
    assert_eq!(
        cap.outcomes("explode"),
        counts(&[("success", 1), ("panic", 1)])
    );
    let panicked = cap
        .tracked()
        .into_iter()
        .find(|c| c.get("outcome") == "panic")
        .unwrap();
    assert_eq!(panicked.get("error_type"), "panic");
    assert!(panicked.latency() >= 0.0);
    let line = cap.completions().pop().unwrap();
    assert_eq!(line.level, Level::ERROR);
    assert_eq!(line.fields["message"], "explode panicked");
    assert_eq!(line.fields["outcome"], "panic");
}

#[test]
fn diverging_function_records_its_panic() {
    let cap = capture(|| expect_panic(|| never_returns()));
    assert_eq!(cap.outcomes("never_returns"), counts(&[("panic", 1)]));
}

#[test]
fn async_success_error_and_latency_over_awaits() {
    let cap = capture(|| {
        tokio_run(async {
            assert_eq!(reserve_async(2).await, Ok(2));
            assert!(reserve_async(8).await.is_err());
        });
    });
    assert_eq!(
        cap.outcomes("reserve_async"),
        counts(&[("success", 1), ("error", 1)])
    );
    for closed in cap.tracked() {
        assert!(
            closed.latency() >= 20.0,
            "async latency covers the awaits: {closed:?}"
        );
    }
}

#[test]
fn async_question_mark() {
    let cap = capture(|| {
        assert!(block_on(parse_async("x")).is_err());
        assert_eq!(block_on(parse_async("5")), Ok(5));
    });
    assert_eq!(
        cap.outcomes("parse_async"),
        counts(&[("success", 1), ("error", 1)])
    );
}

#[test]
fn dropping_a_started_future_is_cancelled() {
    let cap = capture(|| {
        tokio_run(async {
            let timed_out =
                tokio::time::timeout(Duration::from_millis(10), never_completes()).await;
            assert!(timed_out.is_err());
            let timed_out =
                tokio::time::timeout(Duration::from_millis(5), fetch(1_000, false)).await;
            assert!(timed_out.is_err());
        });
    });
    assert_eq!(cap.outcomes("never_completes"), counts(&[("cancelled", 1)]));
    assert_eq!(cap.outcomes("fetch"), counts(&[("cancelled", 1)]));
    for closed in cap.tracked() {
        assert_eq!(closed.get("error_type"), &Value::Null);
        assert!(closed.latency() >= 5.0, "{closed:?}");
    }
    // Cancellations are not errors: no completion line with the default `log = "errors"`.
    assert!(cap.completions().is_empty());
}

#[test]
fn a_future_never_polled_is_not_a_call() {
    let cap = capture(|| drop(never_completes()));
    assert!(cap.tracked().is_empty());
}

#[test]
fn async_panic_is_a_panic_even_when_the_executor_catches_it() {
    let cap = capture(|| {
        tokio_run(async {
            // tokio catches the panic and drops the future afterwards, outside the unwinding.
            let hook = panic::take_hook();
            panic::set_hook(Box::new(|_| {}));
            let result = tokio::spawn(panics_async()).await;
            panic::set_hook(hook);
            assert!(result.unwrap_err().is_panic());
        });
    });
    assert_eq!(cap.outcomes("panics_async"), counts(&[("panic", 1)]));
    assert_eq!(cap.one().get("error_type"), "panic");
}

#[test]
fn async_panic_under_block_on() {
    let cap = capture(|| {
        expect_panic(|| {
            tokio_run(panics_async());
        });
    });
    assert_eq!(cap.outcomes("panics_async"), counts(&[("panic", 1)]));
}

#[test]
fn async_borrowing_arguments() {
    let cap = capture(|| {
        let items = [3, 9, 4];
        assert_eq!(block_on(borrows_async(&items)), Some(&9));
    });
    assert_eq!(cap.outcomes("borrows_async"), counts(&[("success", 1)]));
}

#[test]
fn events_inside_the_call_are_inside_the_span() {
    #[track_performance]
    fn logs_inside() {
        tracing::info!("working");
    }
    #[track_performance]
    async fn logs_inside_async() {
        tokio::task::yield_now().await;
        tracing::info!("working async");
    }
    let cap = capture(|| {
        logs_inside();
        tokio_run(logs_inside_async());
    });
    let functions: Vec<_> = cap
        .events()
        .into_iter()
        .filter(|e| !e.fields.contains_key("outcome"))
        .map(|e| e.in_function)
        .collect();
    assert_eq!(
        functions,
        [Some(json!("logs_inside")), Some(json!("logs_inside_async"))]
    );
}

#[test]
fn generics_and_where_clauses() {
    let cap = capture(|| {
        assert_eq!(largest(&[1, 5, 2]), Some(&5));
        assert_eq!(largest::<u8>(&[]), None);
        assert!(convert::<u8, BookingError>(Err(BookingError::SoldOut)).is_err());
        assert_eq!(convert::<u8, io::Error>(Ok(1)).unwrap(), 1);
        assert_eq!(block_on(generic_async("x")), Ok("x"));
    });
    assert_eq!(cap.outcomes("largest"), counts(&[("success", 2)]));
    assert_eq!(
        cap.outcomes("convert"),
        counts(&[("success", 1), ("error", 1)])
    );
    assert_eq!(cap.outcomes("generic_async"), counts(&[("success", 1)]));
    let items = cap
        .tracked()
        .into_iter()
        .find(|c| c.get("function") == "largest")
        .unwrap();
    assert_eq!(items.get("items"), "[1, 5, 2]");
}

#[test]
fn impl_trait_returns() {
    let cap = capture(|| {
        assert_eq!(evens(7).collect::<Vec<_>>(), [0, 2, 4, 6]);
        tokio_run(async {
            assert_eq!(fetch(20, false).await, Ok(7));
            assert!(fetch(1, true).await.is_err());
        });
        assert!(block_on(boxed_future(true)).is_err());
        assert_eq!(block_on(boxed_future(false)), Ok(1));
    });
    assert_eq!(cap.outcomes("evens"), counts(&[("success", 1)]));
    assert_eq!(
        cap.outcomes("fetch"),
        counts(&[("success", 1), ("error", 1)])
    );
    assert_eq!(
        cap.outcomes("boxed_future"),
        counts(&[("success", 1), ("error", 1)])
    );
    let slow_fetch = cap
        .tracked()
        .into_iter()
        .find(|c| c.get("function") == "fetch" && c.get("outcome") == "success")
        .unwrap();
    assert!(
        slow_fetch.latency() >= 20.0,
        "an impl Future is timed until it completes: {slow_fetch:?}"
    );
}

#[test]
fn patterns_in_arguments_record_their_bindings() {
    let cap = capture(|| assert_eq!(manhattan((1, 2), Point { x: 4, y: -2 }), 7));
    let closed = cap.one();
    assert_eq!(closed.get("outcome"), "success");
    assert_eq!(
        [
            closed.get("a"),
            closed.get("b"),
            closed.get("x"),
            closed.get("y")
        ],
        [&json!(1), &json!(2), &json!(4), &json!(-2)]
    );
}

#[test]
fn unsafe_functions() {
    let value = 42_u32;
    let cap = capture(|| assert_eq!(unsafe { read_raw(&raw const value) }, 42));
    assert_eq!(cap.outcomes("read_raw"), counts(&[("success", 1)]));
}

#[test]
fn arguments_are_recorded_by_type() {
    let cap = capture(|| assert_eq!(record_args(2, "ab", &Order { id: 7 }, 1, &Opaque), 11));
    let closed = cap.one();
    assert_eq!(closed.get("count"), 2);
    assert_eq!(closed.get("label"), "ab");
    assert_eq!(closed.get("order"), "Order { id: 7 }");
    assert!(
        !closed.fields.contains_key("_secret"),
        "underscore arguments are not recorded"
    );
    assert!(
        !closed.fields.contains_key("opaque"),
        "non-Debug arguments are not recorded"
    );
}

#[test]
fn options_name_dimensions_level_skip_fields() {
    let cap = capture(|| {
        let _ = with_options("u-1", "hunter2", 2);
        let _ = with_options("u-2", "hunter2", 0);
    });
    assert_eq!(
        cap.outcomes("booking"),
        counts(&[("success", 1), ("error", 1)])
    );
    let closed = &cap.tracked()[0];
    assert_eq!(closed.name, "with_options");
    assert_eq!(closed.level, Level::DEBUG);
    assert_eq!(closed.get("dimension.operation"), "reserve");
    assert_eq!(closed.get("dimension.channel"), "web");
    assert_eq!(closed.get("user.id"), "u-1");
    assert_eq!(closed.get("attempt"), 1);
    assert_eq!(closed.get("note"), "Some(\"n\")");
    assert_eq!(closed.get("later"), "set");
    assert_eq!(closed.get("seats"), 2);
    assert!(!closed.fields.contains_key("password"));
    assert_eq!(closed.get("user"), "u-1");

    // log = "all": a line for the success at the span's level, for the error at WARN.
    let lines = cap.completions();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].level, Level::DEBUG);
    assert_eq!(lines[0].fields["message"], "booking completed");
    assert_eq!(lines[0].fields["outcome"], "success");
    assert!(lines[0].fields["latency_ms"].is_f64());
    assert_eq!(lines[0].in_function, Some(json!("booking")));
    assert_eq!(lines[1].level, Level::WARN);
    assert_eq!(lines[1].fields["message"], "booking failed");
    assert_eq!(lines[1].fields["error_type"], "SoldOut");
    assert_eq!(lines[1].fields["error"], json!({"error": "sold out"}));
    assert_eq!(lines[1].target, module_path!());
}

#[test]
fn default_logging_is_errors_only_at_warn() {
    let cap = capture(|| {
        let _ = reserve_ticket(1);
        let _ = reserve_ticket(9);
    });
    let lines = cap.completions();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let line = &lines[0];
    assert_eq!(line.level, Level::WARN);
    assert_eq!(line.target, module_path!());
    assert_eq!(line.fields["message"], "reserve_ticket failed");
    assert_eq!(line.fields["function"], "reserve_ticket");
    assert_eq!(line.fields["outcome"], "error");
    assert_eq!(line.fields["error_type"], "SoldOut");
    assert!(line.fields["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(line.in_function, Some(json!("reserve_ticket")));
}

#[test]
fn skip_all_and_log_off() {
    let cap = capture(|| assert!(quiet("hunter2").is_err()));
    let closed = cap.one();
    assert_eq!(closed.get("outcome"), "error");
    assert!(!closed.fields.contains_key("password"));
    assert!(cap.events().is_empty());
}

#[test]
fn renamed_crate_path() {
    let cap = capture(|| assert_eq!(through_renamed_crate(), 3));
    assert_eq!(
        cap.outcomes("through_renamed_crate"),
        counts(&[("success", 1)])
    );
}

#[test]
fn methods_with_every_receiver() {
    let cap = capture(|| {
        let mut inventory = Inventory::new(10);
        assert_eq!(Inventory::helper(1), 1);
        assert_eq!(inventory.available(), 10);
        *inventory.take(3).unwrap() += 0;
        assert!(inventory.take(100).is_err());
        assert_eq!(Pin::new(&mut inventory).pinned(), 7);
        assert_eq!(tokio_run(inventory.refill(1)), 8);
        assert_eq!(inventory.close(), 8);
    });
    assert_eq!(cap.outcomes("Inventory::new"), counts(&[("success", 1)]));
    assert_eq!(cap.outcomes("helper"), counts(&[("success", 1)]));
    assert_eq!(
        cap.outcomes("Inventory::available"),
        counts(&[("success", 1)])
    );
    assert_eq!(
        cap.outcomes("Inventory::take"),
        counts(&[("success", 1), ("error", 1)])
    );
    assert_eq!(cap.outcomes("Inventory::pinned"), counts(&[("success", 1)]));
    assert_eq!(cap.outcomes("Inventory::refill"), counts(&[("success", 1)]));
    assert_eq!(cap.outcomes("Inventory::close"), counts(&[("success", 1)]));
    let take = cap
        .tracked()
        .into_iter()
        .find(|c| c.get("function") == "Inventory::take")
        .unwrap();
    assert_eq!(take.name, "take");
    assert!(
        !take.fields.contains_key("self"),
        "receivers are not recorded"
    );
}

#[test]
fn method_names_have_no_generic_arguments() {
    let cap = capture(|| {
        let _ = Repo { items: vec![1_u8] }.first();
        let _ = Repo {
            items: vec!["a".to_string()],
        }
        .first();
    });
    assert_eq!(cap.outcomes("Repo::first"), counts(&[("success", 2)]));
}

#[test]
fn trait_methods_are_named_for_the_implementing_type() {
    let cap = capture(|| {
        let inventory = Inventory { seats: 1 };
        let repo = Repo { items: vec![1_u8] };
        let _ = inventory.save("k");
        let _ = inventory.save("");
        // A default method, one call site shared by both types.
        let _ = inventory.describe();
        let _ = repo.describe();
        let _ = inventory.describe();
    });
    assert_eq!(
        cap.outcomes("Inventory::save"),
        counts(&[("success", 1), ("error", 1)])
    );
    assert_eq!(
        cap.outcomes("Inventory::describe"),
        counts(&[("success", 2)])
    );
    assert_eq!(cap.outcomes("Repo::describe"), counts(&[("success", 1)]));
}

#[test]
fn impl_block_attribute_tracks_every_method() {
    let cap = capture(|| {
        assert_eq!(Shop::constant(), 1);
        assert!(Shop::open(9));
        let _ = Shop.sell(1);
        let _ = Shop.sell(0);
        Shop.close();
        assert_eq!(block_on(Shop.restock()), 5);
    });
    assert_eq!(cap.outcomes("Shop::open"), counts(&[("success", 1)]));
    assert_eq!(
        cap.outcomes("Shop::sell"),
        counts(&[("success", 1), ("error", 1)])
    );
    assert_eq!(cap.outcomes("shop_close"), counts(&[("success", 1)]));
    assert_eq!(cap.outcomes("Shop::restock"), counts(&[("success", 1)]));
    assert!(
        cap.outcomes("Shop::constant").is_empty(),
        "const fns are left alone"
    );
    for closed in cap.tracked() {
        assert_eq!(closed.get("dimension.team"), "shop", "{closed:?}");
    }
    // The method's own options win: log = "all" on `close` only.
    let close = cap
        .completions()
        .into_iter()
        .find(|l| l.fields["function"] == "shop_close")
        .unwrap();
    assert_eq!(close.fields["message"], "shop_close completed");
}

#[test]
fn async_trait_in_either_attribute_order() {
    let cap = capture(|| {
        tokio_run(async {
            let booking: [Box<dyn Booking + Send + Sync>; 3] = [
                Box::new(MethodLevel),
                Box::new(TrackFirst),
                Box::new(AsyncTraitFirst),
            ];
            for b in &booking {
                assert_eq!(b.book(2).await, Ok(2));
                assert!(b.book(9).await.is_err());
                assert_eq!(b.cancel(4).await, 4);
            }
        });
    });
    for ty in ["MethodLevel", "TrackFirst", "AsyncTraitFirst"] {
        assert_eq!(
            cap.outcomes(&format!("{ty}::book")),
            counts(&[("success", 1), ("error", 1)]),
            "{ty}"
        );
        assert_eq!(
            cap.outcomes(&format!("{ty}::cancel")),
            counts(&[("success", 1)]),
            "{ty}"
        );
    }
    for closed in cap.tracked() {
        if closed.get("function").as_str().unwrap().ends_with("::book") {
            assert!(closed.latency() >= 15.0, "timed over the await: {closed:?}");
            assert!(closed.get("seats").is_u64(), "{closed:?}");
        }
    }
}

#[test]
fn async_trait_cancellation() {
    let cap = capture(|| {
        tokio_run(async {
            let timed_out =
                tokio::time::timeout(Duration::from_millis(2), MethodLevel.book(1)).await;
            assert!(timed_out.is_err());
        });
    });
    assert_eq!(
        cap.outcomes("MethodLevel::book"),
        counts(&[("cancelled", 1)])
    );
}

#[test]
fn every_call_is_recorded_exactly_once_across_threads() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let dispatch = tracing::Dispatch::new(subscriber);
    std::thread::scope(|scope| {
        for t in 0..4_u32 {
            let dispatch = dispatch.clone();
            scope.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for i in 0..250_u32 {
                        let _ = reserve_ticket((i + t) % 6);
                    }
                });
            });
        }
    });
    let outcomes = capture.outcomes("reserve_ticket");
    // (i + t) % 6 over 1000 calls: values 5 fail (and none above 5 occur) → 1/6 of the calls.
    let errors: usize = (0..4_u32)
        .map(|t| (0..250_u32).filter(|i| (i + t) % 6 > 4).count())
        .sum();
    assert_eq!(
        outcomes,
        counts(&[("success", 1000 - errors), ("error", errors)])
    );
}

/// Metrics never depend on the log level: with the log layer at `warn`, every tracked call is
/// still seen — with its outcome and latency — by a layer that wants it (as the EMF layer does),
/// and only the `WARN` completion line reaches the log.
#[test]
fn calls_are_counted_when_the_log_level_is_warn() {
    use instrument::instrument_core::config::{Config, Settings};
    use instrument::JsonLogLayer;

    let lines = Lines::default();
    let mut settings = Settings::default();
    settings.log_level = Some("warn".into());
    let config = Config::resolve(&settings, |_| None).unwrap();
    let log = JsonLogLayer::from_config(&config)
        .with_writer(lines.clone())
        .with_filter(config.log_filter());
    let metrics = Capture::default();
    let subscriber = tracing_subscriber::registry().with(log).with(
        metrics
            .clone()
            .with_filter(tracing_subscriber::filter::LevelFilter::TRACE),
    );
    tracing::subscriber::with_default(subscriber, || {
        for seats in 0..10 {
            let _ = reserve_ticket(seats);
        }
        tokio_run(async {
            for seats in 0..4 {
                let _ = reserve_async(seats * 2).await;
            }
        });
    });
    assert_eq!(
        metrics.outcomes("reserve_ticket"),
        counts(&[("success", 5), ("error", 5)])
    );
    assert_eq!(
        metrics.outcomes("reserve_async"),
        counts(&[("success", 3), ("error", 1)])
    );
    for closed in metrics.tracked() {
        assert!(closed.latency() >= 0.0);
    }
    // The log only has the WARN completion lines of the errors.
    let lines = parsed(&lines);
    assert_eq!(lines.len(), 6, "{lines:#?}");
    for line in &lines {
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["outcome"], "error");
        assert_eq!(line["error_type"], "SoldOut");
    }
}

/// The completion line through the real JSON log layer, as Insights will see it.
#[test]
fn completion_line_through_the_json_log_layer() {
    let lines = Lines::default();
    let (subscriber, _guard) = instrument::builder()
        .writer(lines.clone())
        .env_lookup(|_| None)
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        let _ = reserve_ticket(1);
        let _ = reserve_ticket(9);
        let _ = load(true);
    });
    let lines = parsed(&lines);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let line = &lines[0];
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["message"], "reserve_ticket failed");
    assert_eq!(line["function"], "reserve_ticket");
    assert_eq!(line["outcome"], "error");
    assert_eq!(line["error_type"], "SoldOut");
    assert!(line["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(line["span"], "reserve_ticket");
    assert_eq!(line["seats"], 9);
    assert_eq!(line["error"]["message"], "sold out");
    assert_eq!(lines[1]["error"]["message"], "nothing to load");
}

/// JSON lines in memory: the `MakeWriter` instrument ships for tests.
type Lines = instrument::testing::LogBuffer;

fn parsed(lines: &Lines) -> Vec<Value> {
    {
        lines
            .contents()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
            .collect()
    }
}
