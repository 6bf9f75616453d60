//! Lambda context without a Lambda dependency: the function's static environment, cold-start
//! detection, and recognition of the span `lambda_runtime` opens for each invocation.

use std::sync::atomic::{AtomicBool, Ordering};

use tracing_core::{Metadata, Subscriber};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

/// Name of the span `lambda_runtime` opens around each invocation (fields `requestId`,
/// `xrayTraceId`).
pub const RUNTIME_INVOKE_SPAN: &str = instrument_vocab::context::LAMBDA_RUNTIME_SPAN;

/// How Lambda initialised this execution environment (`AWS_LAMBDA_INITIALIZATION_TYPE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitializationType {
    /// `on-demand`: the first invocation pays for the initialisation, a cold start. Also assumed
    /// when the variable is absent (older runtimes, local emulators), as Powertools does.
    OnDemand,
    /// `provisioned-concurrency`: initialised ahead of any invocation; never a cold start.
    ProvisionedConcurrency,
    /// `snap-start`: restored from a snapshot; never a cold start.
    SnapStart,
    /// Any other value Lambda may introduce; treated as not cold.
    Other(String),
}

impl InitializationType {
    fn parse(value: Option<String>) -> Self {
        match value.as_deref() {
            None | Some("on-demand") => InitializationType::OnDemand,
            Some("provisioned-concurrency") => InitializationType::ProvisionedConcurrency,
            Some("snap-start") => InitializationType::SnapStart,
            Some(other) => InitializationType::Other(other.to_string()),
        }
    }
}

/// The function's static environment, read once from `AWS_LAMBDA_*` variables.
///
/// ```
/// use instrument_core::lambda::{InitializationType, LambdaEnvironment};
/// let env = LambdaEnvironment::from_lookup(&|name: &str| match name {
///     "AWS_LAMBDA_FUNCTION_NAME" => Some("booking".to_string()),
///     "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => Some("512".to_string()),
///     _ => None,
/// })
/// .unwrap();
/// assert_eq!(env.function_name, "booking");
/// assert_eq!(env.function_memory_size, Some(512));
/// assert_eq!(env.initialization_type, InitializationType::OnDemand);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LambdaEnvironment {
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    pub function_name: String,
    /// `AWS_LAMBDA_FUNCTION_VERSION`.
    pub function_version: Option<String>,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` in MB (ignored if not a number: Lambda always sets a
    /// number, and a broken value must not stop the function).
    pub function_memory_size: Option<u32>,
    /// `AWS_LAMBDA_INITIALIZATION_TYPE`.
    pub initialization_type: InitializationType,
}

impl LambdaEnvironment {
    /// Reads the environment through `var`; `None` outside Lambda (no `AWS_LAMBDA_FUNCTION_NAME`).
    /// The variables are those of [`config::table`](crate::config::table)'s Lambda section.
    pub fn from_lookup(var: &dyn Fn(&str) -> Option<String>) -> Option<LambdaEnvironment> {
        use crate::config::{table, Settings};
        // None of these can be set in code, and none of their parsers refuses a value.
        let settings = Settings::default();
        let text = |setting: &table::Text| setting.value(&settings, var).ok().flatten();
        Some(LambdaEnvironment {
            function_name: text(&table::LAMBDA_FUNCTION_NAME)?,
            function_version: text(&table::LAMBDA_FUNCTION_VERSION),
            function_memory_size: table::LAMBDA_FUNCTION_MEMORY_SIZE
                .value(&settings, var)
                .ok()
                .flatten()
                .flatten(),
            initialization_type: InitializationType::parse(text(
                &table::LAMBDA_INITIALIZATION_TYPE,
            )),
        })
    }
}

/// Hands out the cold-start flag: `true` exactly once, to the first invocation of an on-demand
/// environment; `false` to every other invocation and to every invocation of a provisioned or
/// SnapStart environment.
///
/// ```
/// use instrument_core::lambda::{ColdStart, InitializationType};
/// let cold = ColdStart::new(&InitializationType::OnDemand);
/// assert!(cold.take());
/// assert!(!cold.take());
/// assert!(!ColdStart::new(&InitializationType::SnapStart).take());
/// ```
#[derive(Debug)]
pub struct ColdStart(AtomicBool);

impl ColdStart {
    /// A tracker for an environment initialised as `init`.
    pub fn new(init: &InitializationType) -> Self {
        ColdStart(AtomicBool::new(*init == InitializationType::OnDemand))
    }

    /// Whether the invocation that calls this is the cold one. Safe under concurrent invocations:
    /// exactly one caller ever gets `true`.
    pub fn take(&self) -> bool {
        // A plain load first keeps the steady state free of contended writes.
        self.0.load(Ordering::Relaxed) && self.0.swap(false, Ordering::AcqRel)
    }
}

/// Marker in the extensions of the outermost span of a Lambda invocation, shared by every layer
/// so that they all agree on which invocation was the cold one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invocation {
    /// Whether this invocation is the environment's cold start.
    pub cold_start: bool,
}

/// Whether spans of this callsite start an invocation: `lambda_runtime`'s span, or any span with
/// a `function_request_id` field (instrument's own invocation scope).
pub fn is_invocation_callsite(meta: &Metadata<'_>) -> bool {
    crate::callsite::schema(meta).invocation
}

/// Decides, once per span and for all layers, whether `span` is the outermost span of an
/// invocation and whether that invocation is cold. `None` for a span that does not start an
/// invocation or sits inside one already.
pub fn invocation<S>(span: &SpanRef<'_, S>, cold_start: &ColdStart) -> Option<Invocation>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if !is_invocation_callsite(span.metadata()) {
        return None;
    }
    if let Some(decided) = span.extensions().get::<Invocation>() {
        return Some(*decided);
    }
    let nested = span
        .scope()
        .skip(1)
        .any(|s| s.extensions().get::<Invocation>().is_some());
    if nested {
        return None;
    }
    let decided = Invocation {
        cold_start: cold_start.take(),
    };
    span.extensions_mut().insert(decided);
    Some(decided)
}
