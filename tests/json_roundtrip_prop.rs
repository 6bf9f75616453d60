//! Property: whatever the field names and values, every event becomes exactly one valid JSON
//! line, without duplicate keys, on which every recorded value can be found again under the key
//! the log line contract (instrument_core::keys) says.
//!
//! Field names in `tracing` are `&'static str` taken from callsite metadata, so the callsites
//! here are built at run time (a leaked `Callsite` and `Metadata` per generated event or span).

mod support;

use std::collections::BTreeSet;
use std::error::Error;
use std::fmt;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{json, Map, Value};
use tracing_core::callsite::{Callsite, Identifier};
use tracing_core::field::{Field, FieldSet, Value as TracingValue, ValueSet};
use tracing_core::metadata::Kind;
use tracing_core::subscriber::Interest;
use tracing_core::{Event, Level, Metadata};
use tracing_subscriber::layer::SubscriberExt;

use support::{parse_strict, pluck, Capture};

// ---------------------------------------------------------------------------------------------
// Dynamic callsites

struct DynCallsite(OnceLock<&'static Metadata<'static>>);

impl Callsite for DynCallsite {
    fn set_interest(&self, _: Interest) {}
    fn metadata(&self) -> &Metadata<'_> {
        self.0
            .get()
            .expect("metadata is set right after the callsite is leaked")
    }
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

/// A leaked callsite and its metadata, with exactly these field names (duplicates kept).
fn dyn_metadata(
    name: &str,
    target: &str,
    level: Level,
    fields: &[(String, Val)],
    kind: Kind,
) -> &'static Metadata<'static> {
    let callsite: &'static DynCallsite = Box::leak(Box::new(DynCallsite(OnceLock::new())));
    let names: Vec<&'static str> = fields.iter().map(|(n, _)| leak(n)).collect();
    let meta: &'static Metadata<'static> = Box::leak(Box::new(Metadata::new(
        leak(name),
        leak(target),
        level,
        Some(file!()),
        Some(line!()),
        Some(module_path!()),
        FieldSet::new(Box::leak(names.into_boxed_slice()), Identifier(callsite)),
        kind,
    )));
    assert!(callsite.0.set(meta).is_ok());
    meta
}

/// Calls `f` with a `ValueSet` of `values` for the fields of `meta`, one to one. `ValueSet` wants
/// a fixed-size array, hence one arm per supported length.
fn with_value_set<R>(
    meta: &'static Metadata<'static>,
    values: &[Option<&dyn TracingValue>],
    f: impl FnOnce(&ValueSet<'_>) -> R,
) -> R {
    let fields: Vec<Field> = meta.fields().iter().collect();
    assert_eq!(fields.len(), values.len());
    macro_rules! arms {
        ($($n:literal)*) => {
            match values.len() {
                $($n => {
                    let array: [(&Field, Option<&dyn TracingValue>); $n] =
                        std::array::from_fn(|i| (&fields[i], values[i]));
                    f(&meta.fields().value_set(&array))
                })*
                n => panic!("{n} fields: add an arm"),
            }
        };
    }
    arms!(0 1 2 3 4 5 6 7 8)
}

// ---------------------------------------------------------------------------------------------
// Generated values

/// A generated field value.
#[derive(Clone, Debug)]
enum Val {
    /// Declared in the callsite but not recorded (`tracing::field::Empty`).
    Empty,
    Str(String),
    /// A `Debug` value whose `Debug` output is exactly this text.
    Dbg(String),
    F64(f64),
    I64(i64),
    U64(u64),
    I128(i128),
    U128(u128),
    Bool(bool),
    /// A `&dyn Error` with this message and optionally a source with that message.
    Err(String, Option<String>),
}

struct Raw(String);

impl fmt::Debug for Raw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug)]
struct TestError {
    message: String,
    source: Option<Box<TestError>>,
}

impl fmt::Display for TestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for TestError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

/// A `Val` in a form `tracing` can record.
enum Owned {
    None,
    Str(String),
    Dbg(tracing_core::field::DebugValue<Raw>),
    F64(f64),
    I64(i64),
    U64(u64),
    I128(i128),
    U128(u128),
    Bool(bool),
    Err(Box<dyn Error + 'static>),
}

impl Owned {
    fn new(v: &Val) -> Owned {
        match v {
            Val::Empty => Owned::None,
            Val::Str(s) => Owned::Str(s.clone()),
            Val::Dbg(s) => Owned::Dbg(tracing_core::field::debug(Raw(s.clone()))),
            Val::F64(x) => Owned::F64(*x),
            Val::I64(x) => Owned::I64(*x),
            Val::U64(x) => Owned::U64(*x),
            Val::I128(x) => Owned::I128(*x),
            Val::U128(x) => Owned::U128(*x),
            Val::Bool(x) => Owned::Bool(*x),
            Val::Err(m, s) => Owned::Err(Box::new(TestError {
                message: m.clone(),
                source: s.as_ref().map(|s| {
                    Box::new(TestError {
                        message: s.clone(),
                        source: None,
                    })
                }),
            })),
        }
    }

    fn as_value(&self) -> Option<&dyn TracingValue> {
        Some(match self {
            Owned::None => return None,
            Owned::Str(v) => v,
            Owned::Dbg(v) => v,
            Owned::F64(v) => v,
            Owned::I64(v) => v,
            Owned::U64(v) => v,
            Owned::I128(v) => v,
            Owned::U128(v) => v,
            Owned::Bool(v) => v,
            Owned::Err(v) => v,
        })
    }
}

/// Names that collide with the contract's keys, with each other once renamed or suffixed, and
/// with the `log` bridge's and `lambda_runtime`'s names.
const NAME_POOL: &[&str] = &[
    "level",
    "message",
    "timestamp",
    "target",
    "error",
    "span",
    "spans",
    "service",
    "environment",
    "location",
    "cold_start",
    "function_name",
    "function_version",
    "function_memory_size",
    "field_level",
    "field_message",
    "field_error",
    "field_level_2",
    "correlation_id",
    "function_request_id",
    "xray_trace_id",
    "function_arn",
    "a",
    "a_2",
    "a_3",
    "b",
    "",
    "log.target",
    "requestId",
    "Level",
    "message ",
];

fn weird_char() -> impl Strategy<Value = char> {
    prop_oneof![
        Just('"'),
        Just('\\'),
        (0u8..0x20).prop_map(char::from),
        Just('\u{7f}'),
        Just('\u{2028}'),
        Just('\u{2029}'),
        Just('\u{feff}'),
        Just('é'),
        Just('🦀'),
        Just('a'),
        Just('_'),
        any::<char>(),
    ]
}

fn weird_string(max_len: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(weird_char(), 0..max_len).prop_map(String::from_iter)
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(NAME_POOL).prop_map(str::to_owned),
        2 => weird_string(8),
        1 => any::<String>(),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        40 => weird_string(24),
        8 => prop::sample::select(
            &[r"\ud800", r"\udc00\ud800", r"\u0000", r#""\""#, "", "null", r#"{"a":1}"#][..]
        )
        .prop_map(str::to_owned),
        8 => any::<String>(),
        // About one value in 60: a 100 KB string full of characters that need escaping.
        1 => (weird_char(), weird_char()).prop_map(|(a, b)| {
            let unit = format!("{a}\"{b}\\\n");
            unit.repeat(100 * 1024 / unit.len() + 1)
        }),
    ]
}

fn f64s() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => any::<f64>(),
        1 => prop::sample::select(vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            1e21,
            1e-7,
            0.1,
        ]),
    ]
}

fn val() -> impl Strategy<Value = Val> {
    prop_oneof![
        1 => Just(Val::Empty),
        6 => text().prop_map(Val::Str),
        2 => text().prop_map(Val::Dbg),
        2 => f64s().prop_map(Val::F64),
        2 => prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX)].prop_map(Val::I64),
        2 => prop_oneof![any::<u64>(), Just(u64::MAX), Just(0)].prop_map(Val::U64),
        2 => prop_oneof![any::<i128>(), Just(i128::MIN), Just(i128::MAX)].prop_map(Val::I128),
        2 => prop_oneof![any::<u128>(), Just(u128::MAX), Just(0)].prop_map(Val::U128),
        1 => any::<bool>().prop_map(Val::Bool),
        1 => (text(), prop::option::of(text())).prop_map(|(m, s)| Val::Err(m, s)),
    ]
}

fn fields(max: usize) -> impl Strategy<Value = Vec<(String, Val)>> {
    prop::collection::vec((name(), val()), 0..=max)
}

#[derive(Clone, Debug)]
struct EventSpec {
    level: Level,
    target: String,
    fields: Vec<(String, Val)>,
}

fn event_spec() -> impl Strategy<Value = EventSpec> {
    let level = prop::sample::select(vec![
        Level::TRACE,
        Level::DEBUG,
        Level::INFO,
        Level::WARN,
        Level::ERROR,
    ]);
    let target = prop_oneof![Just("app::module".to_owned()), weird_string(8)];
    (level, target, fields(8)).prop_map(|(level, target, fields)| EventSpec {
        level,
        target,
        fields,
    })
}

#[derive(Clone, Debug)]
struct SpanSpec {
    name: String,
    fields: Vec<(String, Val)>,
}

fn span_spec() -> impl Strategy<Value = SpanSpec> {
    (weird_string(8), fields(4)).prop_map(|(name, fields)| SpanSpec { name, fields })
}

// ---------------------------------------------------------------------------------------------
// Running and checking

/// Logs `events` inside `spans` (outermost first, each entered) through `JsonLogLayer`; returns
/// each event's output and the number of `write` calls it took.
fn run(spans: &[SpanSpec], events: &[EventSpec]) -> Vec<(Vec<u8>, usize)> {
    let span_metas: Vec<_> = spans
        .iter()
        .map(|s| dyn_metadata(&s.name, "spans", Level::INFO, &s.fields, Kind::SPAN))
        .collect();
    let event_metas: Vec<_> = events
        .iter()
        .map(|e| dyn_metadata("event", &e.target, e.level, &e.fields, Kind::EVENT))
        .collect();
    let capture = Capture::default();
    let layer = instrument_core::JsonLogLayer::new().with_writer(capture.clone());
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let mut entered = Vec::new();
        for (spec, &meta) in spans.iter().zip(&span_metas) {
            let owned: Vec<Owned> = spec.fields.iter().map(|(_, v)| Owned::new(v)).collect();
            let values: Vec<_> = owned.iter().map(Owned::as_value).collect();
            let span = with_value_set(meta, &values, |vs| tracing::Span::new(meta, vs));
            entered.push(span.entered());
        }
        let mut out = Vec::new();
        for (spec, &meta) in events.iter().zip(&event_metas) {
            let owned: Vec<Owned> = spec.fields.iter().map(|(_, v)| Owned::new(v)).collect();
            let values: Vec<_> = owned.iter().map(Owned::as_value).collect();
            with_value_set(meta, &values, |vs| Event::dispatch(meta, vs));
            out.push(capture.take());
        }
        while let Some(span) = entered.pop() {
            drop(span);
        }
        out
    })
}

/// The contract's renaming of user fields named like fixed keys (instrument_core::keys).
fn user_key(name: &str) -> String {
    const FIXED: [&str; 14] = [
        "timestamp",
        "level",
        "message",
        "service",
        "environment",
        "target",
        "location",
        "span",
        "spans",
        "cold_start",
        "function_name",
        "function_version",
        "function_memory_size",
        "error",
    ];
    if FIXED.contains(&name) {
        format!("field_{name}")
    } else {
        name.to_owned()
    }
}

const CONTEXT_KEYS: [&str; 4] = [
    "correlation_id",
    "function_request_id",
    "xray_trace_id",
    "function_arn",
];

/// Whether two floats are equal up to 4 units in the last place. Exact comparison is not
/// possible here: without its `float_roundtrip` feature (not enabled in this workspace)
/// serde_json's float parser is not correctly rounded (off by up to 2 ULP on ryu's shortest
/// output in a 20M-value sample), and `serde_json::Value` offers no access to the raw digits.
fn close(a: f64, b: f64) -> bool {
    a == b || (a.signum() == b.signum() && a.to_bits().abs_diff(b.to_bits()) <= 4)
}

/// Whether `got`, the value of `key` on `line`, is `want` as the contract writes it.
fn value_matches(want: &Val, got: &Value, line: &[u8], key: &str) -> bool {
    match want {
        Val::Empty => false,
        Val::Str(s) | Val::Dbg(s) => got.as_str() == Some(s),
        Val::Bool(b) => got.as_bool() == Some(*b),
        Val::I64(v) => got.as_i64() == Some(*v),
        Val::U64(v) => got.as_u64() == Some(*v),
        // serde_json::Value holds integers beyond 64 bits as f64: read them from the text.
        Val::I128(v) => got.is_number() && pluck::<i128>(line, key) == Ok(Some(*v)),
        Val::U128(v) => got.is_number() && pluck::<u128>(line, key) == Ok(Some(*v)),
        Val::F64(v) if v.is_nan() => got.as_str() == Some("NaN"),
        Val::F64(v) if v.is_infinite() => {
            got.as_str() == Some(if *v > 0.0 { "inf" } else { "-inf" })
        }
        Val::F64(v) => got.as_f64().is_some_and(|g| close(g, *v)),
        Val::Err(m, s) => {
            *got == json!({"type": "TestError", "message": m, "chain": s.iter().collect::<Vec<_>>()})
        }
    }
}

/// Whether `got` is the `message` string for `want`: the text itself for strings and `Debug`
/// values, and the value's usual text form for anything else, since `message` is always a string.
fn message_matches(want: &Val, got: &Value) -> bool {
    let Some(s) = got.as_str() else {
        return false;
    };
    match want {
        Val::Empty => false,
        Val::Str(x) | Val::Dbg(x) => s == x,
        Val::Bool(v) => s == v.to_string(),
        Val::I64(v) => s == v.to_string(),
        Val::U64(v) => s == v.to_string(),
        Val::I128(v) => s == v.to_string(),
        Val::U128(v) => s == v.to_string(),
        Val::F64(v) if v.is_nan() => s == "NaN",
        Val::F64(v) if v.is_infinite() => s == if *v > 0.0 { "inf" } else { "-inf" },
        Val::F64(v) => s.parse::<f64>().is_ok_and(|g| close(g, *v)),
        Val::Err(m, _) => s == m,
    }
}

/// Finds a one-to-one assignment of `items` to keys (Kuhn's augmenting paths); `owner[k]` is the
/// item assigned to key `k`.
fn assign(candidates: &[Vec<usize>], keys: usize) -> Result<Vec<Option<usize>>, usize> {
    fn augment(
        i: usize,
        candidates: &[Vec<usize>],
        seen: &mut [bool],
        owner: &mut [Option<usize>],
    ) -> bool {
        for &k in &candidates[i] {
            if seen[k] {
                continue;
            }
            seen[k] = true;
            if owner[k].is_none_or(|j| augment(j, candidates, seen, owner)) {
                owner[k] = Some(i);
                return true;
            }
        }
        false
    }
    let mut owner = vec![None; keys];
    for i in 0..candidates.len() {
        if !augment(i, candidates, &mut vec![false; keys], &mut owner) {
            return Err(i);
        }
    }
    Ok(owner)
}

/// Whether `key` is `base` or `base_N` with N ≥ 2 (the contract's suffix for taken keys).
fn is_key_for(key: &str, base: &str) -> bool {
    key == base
        || key
            .strip_prefix(base)
            .and_then(|rest| rest.strip_prefix('_'))
            .is_some_and(|n| {
                n.bytes().all(|b| b.is_ascii_digit()) && !n.starts_with('0') && n.len() > 1
                    || matches!(n, "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9")
            })
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => "INFO",
        Level::WARN => "WARN",
        _ => "ERROR",
    }
}

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)*) => {
        if !$cond {
            return Err(format!($($fmt)*));
        }
    };
}

/// Checks one event's output against the contract.
fn check(spans: &[SpanSpec], event: &EventSpec, out: &[u8], writes: usize) -> Result<(), String> {
    ensure!(writes == 1, "{writes} write calls for one event");
    ensure!(
        out.last() == Some(&b'\n') && out.iter().filter(|b| **b == b'\n').count() == 1,
        "not exactly one newline-terminated line: {:?}",
        String::from_utf8_lossy(out)
    );
    let line = &out[..out.len() - 1];
    let map: Map<String, Value> =
        parse_strict(line).map_err(|e| format!("{e}: {}", String::from_utf8_lossy(line)))?;
    let mut accounted: BTreeSet<String> = BTreeSet::new();
    macro_rules! expect {
        ($key:expr, $ok:expr, $what:expr) => {{
            let key: &str = $key;
            ensure!($ok, "{key:?}: expected {}, got {:?}", $what, map.get(key));
            accounted.insert(key.to_owned());
        }};
    }

    let ts = map.get("timestamp").and_then(Value::as_str);
    expect!(
        "timestamp",
        ts.is_some_and(|t| t.len() == 24 && t.ends_with('Z')),
        "RFC 3339 ms"
    );
    let level = map.get("level").and_then(Value::as_str);
    expect!(
        "level",
        level == Some(level_name(&event.level)),
        "the level"
    );
    let target = map.get("target").and_then(Value::as_str);
    expect!("target", target == Some(&event.target), "the target");

    // Event fields, in order: the first error is `error`, the first `message` the message, the
    // rest flattened under their (renamed) name, suffixed `_2`, `_3`, … when taken.
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut shadowing: BTreeSet<&str> = BTreeSet::new();
    let mut has_error = false;
    let mut message = None;
    for (name, v) in &event.fields {
        let key = match v {
            Val::Empty => continue,
            Val::Err(..) if !has_error => {
                has_error = true;
                "error".to_owned()
            }
            _ if name == "message" && message.is_none() => {
                message = Some(v);
                continue;
            }
            _ => {
                let base = user_key(name);
                let key = if taken.contains(&base) {
                    (2..)
                        .map(|n| format!("{base}_{n}"))
                        .find(|k| !taken.contains(k))
                        .unwrap()
                } else {
                    base
                };
                taken.insert(key.clone());
                shadowing.insert(name);
                key
            }
        };
        let got = map.get(&key).unwrap_or(&Value::Null);
        ensure!(
            value_matches(v, got, line, &key),
            "event field {name:?} = {v:?}: expected under {key:?}, got {got:?}"
        );
        accounted.insert(key);
    }
    let got = map.get("message").unwrap_or(&Value::Null);
    match message {
        Some(v) => ensure!(message_matches(v, got), "message {v:?}: got {got:?}"),
        None => ensure!(got == "", "no message field: expected \"\", got {got:?}"),
    }
    accounted.insert("message".to_owned());

    // Spans, innermost first: context keys from the nearest span that has them (unless the event
    // has them); other fields unless an event field or an inner span field has the same name.
    let mut context_found: BTreeSet<&str> = CONTEXT_KEYS
        .into_iter()
        .filter(|k| taken.contains(*k))
        .collect();
    let mut span_items: Vec<(String, &Val)> = Vec::new();
    // A span whose callsite declares `function_request_id` starts a Lambda invocation, even
    // before the value is recorded.
    let invocation = spans
        .iter()
        .any(|s| s.fields.iter().any(|(n, _)| n == "function_request_id"));
    for span in spans.iter().rev() {
        // Within a span a name recorded again replaces the earlier value.
        let mut last: Vec<(&str, &Val)> = Vec::new();
        for (name, v) in &span.fields {
            if matches!(v, Val::Empty) {
                continue;
            }
            last.retain(|(n, _)| *n != name);
            last.push((name, v));
        }
        for (name, v) in last {
            if let Some(ctx) = CONTEXT_KEYS.into_iter().find(|k| *k == name) {
                if context_found.insert(ctx) {
                    let got = map.get(ctx).unwrap_or(&Value::Null);
                    ensure!(
                        value_matches(v, got, line, ctx),
                        "span context {ctx:?} = {v:?}: got {got:?}"
                    );
                    accounted.insert(ctx.to_owned());
                }
            } else if shadowing.insert(name) {
                span_items.push((user_key(name), v));
            }
        }
    }
    if invocation {
        let cold = map.get("cold_start");
        expect!("cold_start", cold.is_some_and(Value::is_boolean), "a bool");
    }
    if let Some(inner) = spans.last() {
        let got = map.get("span").and_then(Value::as_str);
        expect!("span", got == Some(&inner.name), "the innermost span name");
        let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
        let got = map.get("spans");
        expect!(
            "spans",
            got == Some(&json!(names)),
            "the span names, root first"
        );
    }

    // Span fields go under their (renamed) name, suffixed if taken: match them one to one with
    // the keys nothing else explains.
    let rest: Vec<&String> = map.keys().filter(|k| !accounted.contains(*k)).collect();
    let candidates: Vec<Vec<usize>> = span_items
        .iter()
        .map(|(base, v)| {
            (0..rest.len())
                .filter(|&k| {
                    is_key_for(rest[k], base) && value_matches(v, &map[rest[k]], line, rest[k])
                })
                .collect()
        })
        .collect();
    let owner = assign(&candidates, rest.len()).map_err(|i| {
        let (base, v) = &span_items[i];
        format!("span field {base:?} = {v:?} is missing (or shares a key)")
    })?;
    let unexplained: Vec<&&String> = rest
        .iter()
        .zip(&owner)
        .filter(|(_, o)| o.is_none())
        .map(|(k, _)| k)
        .collect();
    ensure!(
        unexplained.is_empty(),
        "keys not explained by any field: {unexplained:?}"
    );
    Ok(())
}

fn check_all(spans: &[SpanSpec], events: &[EventSpec]) -> Result<(), TestCaseError> {
    let outputs = run(spans, events);
    prop_assert_eq!(outputs.len(), events.len());
    for (event, (out, writes)) in events.iter().zip(&outputs) {
        if let Err(e) = check(spans, event, out, *writes) {
            let shown = String::from_utf8_lossy(out);
            let shown: String = shown.chars().take(2000).collect();
            return Err(TestCaseError::fail(format!("{e}\nline: {shown}")));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_event_is_one_valid_line_that_round_trips(events in prop::collection::vec(event_spec(), 1..=3)) {
        check_all(&[], &events)?;
    }

    #[test]
    fn any_event_inside_spans_is_one_valid_line_that_round_trips(
        spans in prop::collection::vec(span_spec(), 1..=2),
        events in prop::collection::vec(event_spec(), 1..=2),
    ) {
        check_all(&spans, &events)?;
    }
}

// ---------------------------------------------------------------------------------------------
// The minimal inputs the properties above shrink to, as plain tests.

fn lines_of(f: impl FnOnce()) -> Vec<Map<String, Value>> {
    let capture = Capture::default();
    let layer = instrument_core::JsonLogLayer::new().with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), f);
    let (bytes, _) = capture.take();
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| parse_strict(l).unwrap())
        .collect()
}

/// `message` is always a string, even when the `message` field is recorded as a number or bool.
#[test]
fn message_is_a_string_whatever_the_type_of_the_message_field() {
    let lines = lines_of(|| {
        tracing::info!(message = 0);
        tracing::info!(message = 1.5);
        tracing::info!(message = true);
        tracing::info!(message = u128::MAX);
    });
    let messages: Vec<&Value> = lines.iter().map(|l| &l["message"]).collect();
    assert_eq!(
        messages,
        [
            &json!("0"),
            &json!("1.5"),
            &json!("true"),
            &json!(u128::MAX.to_string())
        ]
    );
}

/// Two differently named span fields whose keys only collide after renaming (`level` is kept as
/// `field_level`) are both kept, as for event fields: "Nothing is dropped, no key repeats".
#[test]
fn span_fields_colliding_only_after_renaming_are_all_kept() {
    let lines = lines_of(|| {
        let span = tracing::info_span!("s", level = 1, field_level = 2);
        let _e = span.enter();
        tracing::info!("in one span");
        drop(_e);
        let span = tracing::info_span!("s", field_level = 2);
        let _e = span.enter();
        tracing::info!(level = 1, "event and span");
    });
    for line in &lines {
        let mut values: Vec<&Value> = line
            .iter()
            .filter(|(k, _)| k.starts_with("field_level"))
            .map(|(_, v)| v)
            .collect();
        values.sort_by_key(|v| v.as_i64());
        assert_eq!(values, [&json!(1), &json!(2)], "{line:?}");
    }
}
