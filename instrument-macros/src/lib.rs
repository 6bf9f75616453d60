//! Procedural macros of [`instrument`](https://github.com/instrument-rs/instrument): `#[track_performance]`.
//!
//! Use it through the facade, `#[instrument::track_performance]`; its documentation is there.
#![warn(missing_docs, rust_2018_idioms, unreachable_pub, clippy::pedantic)]
#![cfg_attr(docsrs, feature(doc_cfg))]

use proc_macro::TokenStream;

/// The options parser and naming rules, shared with the `instrument` CLI.
use instrument_attr as attr;
mod error_type;
mod expand;

/// Tracks every call of a function: success, error and latency.
///
/// ```
/// use instrument::track_performance;
///
/// #[derive(Debug)]
/// struct SoldOut;
/// # impl std::fmt::Display for SoldOut {
/// #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("sold out") }
/// # }
/// # impl std::error::Error for SoldOut {}
///
/// #[track_performance]
/// fn reserve_ticket(seats: u32) -> Result<u32, SoldOut> {
///     if seats > 4 { Err(SoldOut) } else { Ok(seats) }
/// }
///
/// struct Inventory { seats: u32 }
///
/// impl Inventory {
///     #[track_performance(dimensions(operation = "take"), log = "all")]
///     async fn take(&mut self, seats: u32) -> Result<u32, SoldOut> {
///         self.seats = self.seats.checked_sub(seats).ok_or(SoldOut)?;
///         Ok(self.seats)
///     }
/// }
///
/// assert!(reserve_ticket(2).is_ok());
/// let mut inventory = Inventory { seats: 3 };
/// assert!(futures::executor::block_on(inventory.take(5)).is_err());
/// ```
///
/// Each call opens a span named after the function, and records when it ends how it ended and
/// how long it took. The EMF layer turns that into the metrics `<name>.success` or
/// `<name>.error` (count) and `<name>.latency` (milliseconds); the JSON log layer flattens the
/// span's fields into every line logged inside the call.
///
/// Under the pipeline `instrument::init()` installs, a synchronous call without `fields(...)` or
/// `log = "all"` defers its span: if nothing inside the call logs, opens a span or looks at the
/// current span, its metrics are recorded without the span ever being opened; otherwise the
/// span is opened, as it would have been at the start, the moment something could observe it.
/// Either way the logs and metrics are the same (see `instrument_core::tracked`, "Deferred
/// spans").
///
/// # What is recorded
///
/// The span (target: the function's module, level: `INFO` unless `level = "…"`) has these
/// fields:
///
/// | field | value |
/// |---|---|
/// | `function` | the metric base name, below |
/// | `outcome` | `success`, `error`, `panic` or `cancelled` |
/// | `latency_ms` | the call's duration in milliseconds, `f64`, from a monotonic clock |
/// | `error_type` | on `error`, what went wrong: the enum variant (`SoldOut`), the concrete error behind a `Box<dyn Error>` or `anyhow::Error`, an `ErrorType`'s own name, a status (`503`) (see `instrument_core::tracked::error_type`); `panic` on panic |
/// | `dimension.<k>` | one per `dimensions(k = "v")` |
/// | numeric and `bool` arguments | see below |
/// | `fields(…)` | as given |
///
/// `outcome`, `latency_ms` and `error_type` are recorded exactly once, before the span closes,
/// whichever way the call ends: `return`, `?`, a panic unwinding through it (`panic`, counted as
/// an error; the panic goes on), or an async call's future dropped before it completed
/// (`cancelled`, neither a success nor an error).
///
/// **Errors are detected by type**, not by how the return type is spelled: `Result<T, E>`,
/// `io::Result<T>`, `anyhow::Result<T>` and any other alias of `Result` are an `error` when they
/// hold `Err`. Anything else is a `success`. In generic code the decision uses what the bounds
/// say: a `fn f<R>() -> R` is always a success.
///
/// # Names
///
/// * Free functions: the function's name, `reserve_ticket`.
/// * Methods and associated functions that take `self` or mention `Self` in their signature:
///   `Type::method`, from `std::any::type_name::<Self>()` without module path and generic
///   arguments (`Repo::get` for every `Repo<T>`), computed once per call site. In a trait impl
///   this is the implementing type (`Inventory::save`), and a trait's default method is named
///   for each implementing type.
/// * **Limitation:** an associated function that neither takes `self` nor mentions `Self` (say
///   `fn helper(x: u32) -> u32` inside an `impl`) cannot know its type and is named like a free
///   function (`helper`). Put the attribute on the `impl` block, which spells the type, or give
///   a `name`.
/// * `name = "booking"` replaces the name.
///
/// # What is timed
///
/// | function | from | to |
/// |---|---|---|
/// | `fn` | the call | the return (or the panic) |
/// | `async fn` | the first poll (a future never polled is not a call) | completion, or the drop of the unfinished future |
/// | `fn … -> impl Future<Output = R>` | the call | the returned future's completion, or its drop |
/// | `fn … -> Pin<Box<dyn Future<Output = R> + …>>`, including `#[async_trait]` methods | the call | the future's completion, or its drop |
/// | `fn … -> impl Iterator` and other `impl Trait` | the call | the return: the value is built, not consumed, inside the call |
/// | `fn … -> !` | the call | the panic (the only way out that can be recorded) |
///
/// A future type behind an alias (`BoxFuture<'a, T>`) or an `impl Future + Unpin` is timed like
/// a plain function (its construction only): write the type out, or make the function `async`.
///
/// # Options
///
/// ```
/// # use instrument::track_performance;
/// # #[derive(Debug)] struct SoldOut;
/// #[track_performance(
///     name = "booking",                              // the metric base name
///     dimensions(operation = "reserve", tier = "gold"), // `dimension.<k>` fields: metric dimensions
///     level = "debug",                               // the span's level: trace|debug|info|warn|error
///     log = "all",                                   // completion lines: off|errors (default)|all
///     skip(password),                                // arguments not to record; or `skip_all`
///     fields(user.id = %user, attempt = 1, note),    // more fields, as in #[tracing::instrument]
///     objective(success = 99.9, latency_ms = 250),   // for `instrument alarms`; no run-time effect
///     crate = ::instrument,                          // the path of this crate, if renamed
/// )]
/// fn reserve(user: &str, password: &str, seats: u32) -> Result<u32, SoldOut> {
/// #   let _ = password;
///     Ok(seats)
/// }
/// # reserve("u", "p", 1).unwrap();
/// ```
///
/// Options are checked at compile time; an unknown or duplicate option, a value of the wrong
/// kind, an argument, field or dimension named like one of the span's own fields (`function`,
/// `outcome`, `latency_ms`, `error_type`) is an error at the offending token, all reported
/// together. `dimensions` take string literals (they are per
/// function); a dimension known at run time is a field: `fields(dimension.region = %region)`.
///
/// # Objectives
///
/// `objective(success = 99.9, latency_ms = 250, percentile = 99)` states what the function
/// promises: at least `success` % of calls succeed, and the `percentile`th percentile (99 by
/// default) of its latency stays under `latency_ms`. Either key may be left out. It changes
/// nothing at run time: `instrument alarms` reads it from the sources and sets each alarm's
/// threshold from it. A method's keys win over its impl block's, which win over the crate's
/// [`objectives!`](macro@objectives).
///
/// # Arguments
///
/// Numeric and `bool` arguments are recorded as span fields, as their value; **other arguments
/// (`&str`, `String`, structures) are not recorded unless asked for**, because a span's fields
/// are copied into every line logged inside the call and a string argument is often a payload
/// (a prompt, a request body, an email address). Ask with `fields(...)`:
/// `fields(route = %route)` (`Display`), `fields(order = ?order)` (`Debug`). (Unlike
/// `#[tracing::instrument]`, which records every argument with `Debug`.) Receivers (`self`)
/// are never recorded, nor are arguments whose name starts with `_`; patterns record the names
/// they bind (`(a, b): (u32, u32)` records `a` and `b`). A `fields(...)` entry of the same name
/// replaces the argument.
///
/// ```
/// # use instrument::track_performance;
/// #[track_performance(fields(model = %model))]
/// fn generate(model: &str, prompt: &str, max_tokens: u32) -> String {
///     // Lines logged here carry `model` and `max_tokens`, never the prompt.
///     format!("{model}: {}", &prompt[..max_tokens.min(3) as usize])
/// }
/// # assert_eq!(generate("m1", "hello", 2), "m1: he");
/// ```
///
/// # The completion log line
///
/// With `log = "errors"` (the default), a call that returns `Err` writes one `WARN` event
/// `"<name> failed"`, and a call that panics one `ERROR` event `"<name> panicked"`, inside the
/// span, with `function`, `outcome`, `latency_ms`, `error_type` and the error: `error` for error
/// types implementing `std::error::Error` (directly or through `AsRef`, like `anyhow::Error` and
/// `Box<dyn Error>`), else `error_message` (its `Display`, else `Debug`, text). `Err` is a `WARN`,
/// not an `ERROR`, because a returned error is often an expected outcome (sold out, not found);
/// alarm on the `<name>.error` metric instead. `log = "all"` also writes `"<name> completed"`
/// and `"<name> cancelled"` at the span's level; `log = "off"` writes nothing.
///
/// # Impl blocks
///
/// On an `impl` block the attribute tracks every function in it, named `Type::function` from the
/// type the block spells (associated functions without `self` included). A function's own
/// `#[track_performance(...)]` inside the block refines the block's options (its `name`
/// replaces the whole name). `const fn`s in the block are left as they are.
///
/// ```
/// # use instrument::track_performance;
/// struct Shop;
///
/// #[track_performance(dimensions(team = "shop"))]
/// impl Shop {
///     fn open(hour: u8) -> bool { hour >= 8 }                     // "Shop::open"
///     #[track_performance(log = "all")]
///     fn close(&self) {}                                          // "Shop::close"
///     const fn size() -> u32 { 1 }                                // not tracked
/// }
/// # assert!(Shop::open(9));
/// ```
///
/// It works with `#[async_trait]` in either order, on the impl block or on its methods.
///
/// # Cost
///
/// When no layer wants the span (metrics off and its level filtered out of the logs), a call
/// costs about what a disabled `tracing` span costs: no clock read, no allocation, nothing
/// recorded. Otherwise: the span, two reads of the monotonic clock, one `record` of the outcome
/// fields, and what the layers do with them.
///
/// # Not supported
///
/// `const fn` (a compile error), variadic functions, more than 32 span fields (tracing's limit),
/// and `#[track_caller]` (a synchronous body runs in a closure, which does not forward the
/// caller's location).
#[proc_macro_attribute]
pub fn track_performance(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::track_performance(args.into(), item.into()).into()
}

/// The service's default objectives: what every `#[track_performance]` function of the crate
/// promises unless its own `objective(...)` (or its impl block's) says otherwise, key by key.
///
/// ```
/// instrument::objectives!(success = 99.9, latency_ms = 300, percentile = 99);
///
/// #[instrument::track_performance(objective(latency_ms = 50))] // success = 99.9 from above
/// fn lookup(id: u64) -> Option<u64> { Some(id) }
/// # assert_eq!(lookup(1), Some(1));
/// ```
///
/// The keys are those of `objective(...)`: `success` (percent of calls that succeed, between 0
/// and 100), `latency_ms` (milliseconds) and `percentile` (of the latency, 99 by default). They
/// are checked at compile time and change nothing at run time: `instrument alarms` reads them
/// from the sources (one `objectives!` per crate) to set the alarms' thresholds.
#[proc_macro]
pub fn objectives(input: TokenStream) -> TokenStream {
    match attr::Objective::parse(input.into()) {
        Ok(_) => TokenStream::new(),
        Err(err) => err.to_compile_error().into(),
    }
}

/// Implements `instrument::ErrorType`: the `error_type` of a failed tracked call (metric
/// dimension and log key) is the enum variant's name, or the struct's name;
/// `#[error_type = "Name"]` on a variant (or on a struct) names it otherwise.
/// `#[instrument(crate = path)]` points at a re-exported facade.
///
/// ```
/// use instrument::{track_performance, ErrorType};
///
/// #[derive(Debug, ErrorType)]
/// enum BookingError {
///     SoldOut,
///     #[error_type = "PaymentFailed"]
///     CardDeclined { code: u16 },
///     Database(std::io::Error),
/// }
/// # impl std::fmt::Display for BookingError {
/// #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("booking failed") }
/// # }
/// # impl std::error::Error for BookingError {}
///
/// assert_eq!(BookingError::SoldOut.error_type(), "SoldOut");
/// assert_eq!(BookingError::CardDeclined { code: 51 }.error_type(), "PaymentFailed");
///
/// #[track_performance]
/// fn book(seats: u32) -> Result<u32, BookingError> {
///     if seats > 4 { Err(BookingError::SoldOut) } else { Ok(seats) }
/// }
/// # let _ = book(5);
/// ```
#[proc_macro_derive(ErrorType, attributes(error_type, instrument))]
pub fn derive_error_type(item: TokenStream) -> TokenStream {
    error_type::derive(item.into()).into()
}
