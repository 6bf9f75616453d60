//! One schema per callsite: what every layer needs to know about a span or event callsite,
//! computed once per process and shared.
//!
//! A callsite's facts depend only on its metadata (name, kind, field names), which is
//! `'static`, so they are worked out the first time any layer meets the callsite and kept in
//! one process-wide table keyed by the callsite's [`Identifier`] (the address of a `'static`
//! callsite: never reused). Each thread keeps one small direct-mapped front cache of it.
//!
//! The schema holds:
//! * the callsite's [`Kind`]: a tracked call (`#[track_performance]`), `lambda_runtime`'s
//!   invocation span, another span that starts an invocation, or plain;
//! * each field's [`Role`] for metrics, by [`Field::index`](tracing_core::field::Field::index):
//!   a metric, unit, resolution, dimension, property, a tracked-call field, or nothing;
//! * what follows from those: whether the metrics layer wants the callsite at all, whether a
//!   tracked call carries nothing but its own fields, and how a deferred call treats it;
//! * its [`index`](Schema::index), a dense number by which a consumer keeps what it resolved
//!   for the callsite (its handles) in a [`PerCallsite`] table: resolved once, found with no
//!   lookup. A tracked call's `DeferredSite` holds its schema the same way.
//!
//! ```
//! use instrument_core::callsite::{self, Role};
//! use instrument_vocab::metric::Prefix;
//!
//! tracing::subscriber::with_default(tracing_subscriber::registry(), || {
//!     let span = tracing::info_span!("checkout", counter.orders = 1, dimension.route = "/buy", user = 7);
//!     let schema = callsite::schema(span.metadata().unwrap());
//!     assert!(schema.metrics);
//!     assert_eq!(schema.roles[0], Role::Metric(Prefix::Counter, "orders"));
//!     assert_eq!(schema.roles[1], Role::Dimension("route"));
//!     assert_eq!(schema.roles[2], Role::Other);
//! });
//! ```

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{OnceLock, RwLock};

use instrument_vocab::metric::{self, Prefix};
use instrument_vocab::{context, field};
use tracing_core::callsite::Identifier;
use tracing_core::field::Field;
use tracing_core::Metadata;

use crate::log::field_info::{FieldInfo, KeyRuleSlot};
use crate::redact::{KeyMatch, Redactor};

mod handles;

pub use handles::PerCallsite;

/// What a callsite is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A `#[track_performance]` span: it has the tracked fields (`function`, `outcome`,
    /// `latency_ms`).
    Tracked,
    /// `lambda_runtime`'s invocation span (`requestId`, `xrayTraceId`).
    LambdaRuntime,
    /// Another span that starts a Lambda invocation (it has a `function_request_id` field).
    Invocation,
    /// An `instrument::append_keys!` event: its fields are kept on the request's span (the
    /// outermost context span), not logged as a line.
    AppendKeys,
    /// Anything else.
    Plain,
}

/// What one field means to the metrics layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `counter.<name>`, `histogram.<name>` or `gauge.<name>` (the prefix is never `Unit`,
    /// `Resolution` or `Dimension`: those have roles of their own).
    Metric(Prefix, &'static str),
    /// `unit.<name>`: the unit of the metric `<name>`.
    Unit(&'static str),
    /// `resolution.<name>`: the storage resolution of the metric `<name>`.
    Resolution(&'static str),
    /// `dimension.<name>`.
    Dimension(&'static str),
    /// A property of the EMF document (`function_request_id`, `xray_trace_id`), under this name.
    Property(&'static str),
    /// A tracked call's `function`.
    Function,
    /// A tracked call's `outcome`.
    Outcome,
    /// A tracked call's `latency_ms`.
    Latency,
    /// A tracked call's `error_type`.
    ErrorType,
    /// Nothing for metrics.
    Other,
}

/// Everything known about one callsite, decided once. See the [module docs](self).
#[derive(Debug)]
#[non_exhaustive]
pub struct Schema {
    /// What the callsite is.
    pub kind: Kind,
    /// Whether spans of this callsite may start a Lambda invocation.
    pub invocation: bool,
    /// Whether spans of this callsite carry request context (a context key such as
    /// `correlation_id`, or `lambda_runtime`'s invocation span) that the lines inside need;
    /// also true of `append_keys!` events, which add to that context.
    pub context: bool,
    /// Each field's role, by `Field::index()`.
    pub roles: Box<[Role]>,
    /// Whether the metrics layer reads anything of this callsite.
    pub metrics: bool,
    /// A tracked call with no field the metrics layer reads besides its own (the common case).
    pub only_tracked: bool,
    /// An event with no message whose every field is a metric field (`counter.*`,
    /// `histogram.*`, `gauge.*`, `unit.*`, `resolution.*`, `dimension.*`): it says nothing a
    /// log line would add to the metric.
    pub metric_only: bool,
    /// The callsite.
    id: Identifier,
    /// This callsite's number: dense, in the order callsites are first met, never reused.
    index: u32,
    /// Each field's facts for the log line, by `Field::index()`.
    log: Box<[FieldInfo]>,
    /// Each field's key-rule verdict, for the redactor that asked last.
    key_rules: Box<[KeyRuleSlot]>,
}

impl Schema {
    fn of(meta: &Metadata<'_>, index: u32) -> Schema {
        let fields = meta.fields();
        let is_span = meta.is_span();
        let tracked = is_span && field::TRACKED.iter().all(|f| fields.field(f).is_some());
        let lambda_runtime = is_span && meta.name() == context::LAMBDA_RUNTIME_SPAN;
        let invocation =
            is_span && (lambda_runtime || fields.field(context::FUNCTION_REQUEST_ID).is_some());
        let append_keys = meta.is_event() && meta.target() == context::APPEND_KEYS_TARGET;
        let kind = match (tracked, lambda_runtime, invocation) {
            (true, _, _) => Kind::Tracked,
            (_, true, _) => Kind::LambdaRuntime,
            (_, _, true) => Kind::Invocation,
            _ if append_keys => Kind::AppendKeys,
            _ => Kind::Plain,
        };
        let roles: Box<[Role]> = fields
            .iter()
            .map(|f| role(f.name(), tracked, lambda_runtime))
            .collect();
        // Fields the metrics layer reads that are not the tracked call's own.
        let other = fields
            .iter()
            .any(|f| !matches!(role(f.name(), false, false), Role::Other));
        // Appended keys are request context too: the log filter lets them through at any level.
        let context = append_keys
            || is_span
                && (lambda_runtime || fields.iter().any(|f| context::KEYS.contains(&f.name())));
        let metric_only = meta.is_event()
            && !append_keys
            && !fields.is_empty()
            && fields.field("message").is_none()
            && roles.iter().all(|r| {
                matches!(
                    r,
                    Role::Metric(..) | Role::Unit(_) | Role::Resolution(_) | Role::Dimension(_)
                )
            });
        Schema {
            kind,
            invocation,
            context,
            metric_only,
            metrics: !append_keys && (tracked || lambda_runtime || other),
            only_tracked: tracked && !other && !invocation,
            roles,
            id: meta.callsite(),
            index,
            log: fields.iter().map(|f| FieldInfo::of(f.name())).collect(),
            key_rules: fields.iter().map(|_| KeyRuleSlot::default()).collect(),
        }
    }

    /// This callsite's number, dense and process-unique: what [`PerCallsite`] tables are
    /// indexed by.
    #[inline]
    #[must_use]
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Whether this is a tracked call's span.
    #[inline]
    #[must_use]
    pub fn is_tracked(&self) -> bool {
        self.kind == Kind::Tracked
    }

    /// The role of the field at `index` (`Other` past the end).
    #[inline]
    #[must_use]
    pub fn role(&self, index: usize) -> Role {
        self.roles.get(index).copied().unwrap_or(Role::Other)
    }

    /// The log facts of `field` (computed afresh for a field of another callsite).
    #[inline]
    pub(crate) fn log_field(&self, field: &Field) -> FieldInfo {
        match self.log.get(field.index()) {
            Some(info) if field.callsite() == self.id => *info,
            _ => FieldInfo::of(field.name()),
        }
    }

    /// `redactor`'s key rule for `field`.
    #[inline]
    pub(crate) fn key_rule(&self, field: &Field, redactor: &Redactor) -> Option<KeyMatch> {
        match self.key_rules.get(field.index()) {
            Some(slot) if field.callsite() == self.id => slot.get(field.name(), redactor),
            _ => redactor.key_rule(field.name()),
        }
    }

    /// How a deferred call of this callsite is treated: `None` when its span must be opened
    /// (it may start a Lambda invocation), else whether it carries dimensions or properties
    /// for the spans below it.
    #[must_use]
    pub fn defer_class(&self) -> Option<bool> {
        if self.invocation {
            return None;
        }
        Some(!self.only_tracked)
    }
}

/// The role of a field named `name` on a callsite that is a tracked call (`tracked`) or
/// `lambda_runtime`'s span (`lambda_runtime`, whose `requestId` and `xrayTraceId` are the
/// invocation's properties).
fn role(name: &'static str, tracked: bool, lambda_runtime: bool) -> Role {
    if let Some((prefix, rest)) = metric::prefix(name) {
        return match prefix {
            Prefix::Unit => Role::Unit(rest),
            Prefix::Resolution => Role::Resolution(rest),
            Prefix::Dimension => Role::Dimension(rest),
            Prefix::Counter | Prefix::Histogram | Prefix::Gauge => Role::Metric(prefix, rest),
        };
    }
    match (name, tracked, lambda_runtime) {
        (field::FUNCTION, true, _) => Role::Function,
        (field::OUTCOME, true, _) => Role::Outcome,
        (field::LATENCY_MS, true, _) => Role::Latency,
        (field::ERROR_TYPE, true, _) => Role::ErrorType,
        (context::FUNCTION_REQUEST_ID | context::XRAY_TRACE_ID, _, _) => Role::Property(name),
        (_, _, true) => context::from_lambda_runtime(name).map_or(Role::Other, Role::Property),
        _ => Role::Other,
    }
}

/// The process-wide table: one leaked schema per callsite ever met (a program has finitely
/// many callsites).
fn table() -> &'static RwLock<HashMap<Identifier, &'static Schema>> {
    static TABLE: OnceLock<RwLock<HashMap<Identifier, &'static Schema>>> = OnceLock::new();
    TABLE.get_or_init(Default::default)
}

const FRONT: usize = 64;

thread_local! {
    /// This thread's front cache of the table, direct-mapped by the callsite's identifier.
    static FRONT_CACHE: RefCell<[Option<(Identifier, &'static Schema)>; FRONT]> =
        const { RefCell::new([const { None }; FRONT]) };
}

/// The schema of `meta`'s callsite.
#[inline]
#[must_use]
pub fn schema(meta: &Metadata<'_>) -> &'static Schema {
    let id = meta.callsite();
    let mut hasher = crate::hash::FxHasher::default();
    id.hash(&mut hasher);
    let slot = (hasher.finish() >> (u64::BITS - FRONT.trailing_zeros())) as usize;
    FRONT_CACHE
        .try_with(|front| {
            let mut front = front.borrow_mut();
            match &front[slot] {
                Some((cached, schema)) if *cached == id => schema,
                _ => {
                    let schema = shared(meta);
                    front[slot] = Some((id, schema));
                    schema
                }
            }
        })
        .unwrap_or_else(|_| shared(meta))
}

/// The schema of `meta`'s callsite from the process-wide table, made on first use.
#[cold]
fn shared(meta: &Metadata<'_>) -> &'static Schema {
    let id = meta.callsite();
    if let Some(schema) = table()
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&id)
    {
        return schema;
    }
    let mut table = table()
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let index = u32::try_from(table.len()).unwrap_or(u32::MAX);
    table
        .entry(id)
        .or_insert_with(|| Box::leak(Box::new(Schema::of(meta, index))))
}
