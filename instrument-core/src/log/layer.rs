//! [`JsonLogLayer`]: one flat JSON object per event, one line, one write.

use std::cell::RefCell;
use std::io;
use std::sync::Arc;

use tracing_core::{span, Event, Level, LevelFilter, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::buffer::{InvocationLog, InvocationLogging, Verbose};
use crate::callsite::Kind as CallsiteKind;
use crate::config::{Config, LogBuffering};
use crate::json;
use crate::keys::CONTEXT_KEYS;
use crate::lambda::{self, ColdStart, InitializationType, LambdaEnvironment};
use crate::log::fields::{self, KeySet, RecordFields, SpanFields, Tracked};
use crate::redact::Redactor;
use crate::timestamp;
use crate::writer::WriteErrors;

/// A `tracing_subscriber` layer that writes each event as one flat JSON object on one line,
/// following the log line contract (see the crate documentation and [`crate::keys`]).
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use tracing_subscriber::prelude::*;
/// use instrument_core::JsonLogLayer;
///
/// #[derive(Clone, Default)]
/// struct Buf(Arc<Mutex<Vec<u8>>>);
/// impl std::io::Write for Buf {
///     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().write(b) }
///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// }
///
/// let buf = Buf::default();
/// let sink = buf.clone();
/// let layer = JsonLogLayer::new().with_writer(move || sink.clone()).with_service("booking");
/// let subscriber = tracing_subscriber::registry().with(layer);
/// tracing::subscriber::with_default(subscriber, || {
///     let span = tracing::info_span!("request", correlation_id = "c-1", route = "/book");
///     let _entered = span.enter();
///     tracing::info!(seats = 2, "reserved");
/// });
/// let line: serde_json::Value = serde_json::from_slice(&buf.0.lock().unwrap()).unwrap();
/// assert_eq!(line["message"], "reserved");
/// assert_eq!(line["service"], "booking");
/// assert_eq!(line["correlation_id"], "c-1");
/// assert_eq!(line["route"], "/book");
/// assert_eq!(line["seats"], 2);
/// ```
pub struct JsonLogLayer<W = fn() -> io::Stdout> {
    pub(super) make_writer: W,
    pub(super) service: Option<String>,
    pub(super) environment: Option<String>,
    pub(super) lambda: Option<LambdaEnvironment>,
    /// `,"service":…,"environment":…`, rendered once.
    pub(super) static_fields: Box<[u8]>,
    /// `,"function_name":…,"function_version":…,"function_memory_size":…`, rendered once.
    pub(super) lambda_fields: Box<[u8]>,
    pub(super) cold_start: Arc<ColdStart>,
    pub(super) location: bool,
    pub(super) errors: Arc<WriteErrors>,
    pub(super) redactor: Option<Arc<Redactor>>,
    /// Per-invocation sampling and buffering of verbose lines, when on.
    pub(super) invocation_logging: Option<InvocationLogging>,
    /// Whether an event with only metric fields and no message writes a line.
    pub(super) metric_event_lines: bool,
    /// Whether lines carry the innermost traced span's `trace_id` and `span_id`.
    pub(super) trace_ids: bool,
}

impl<W> std::fmt::Debug for JsonLogLayer<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLogLayer")
            .field("service", &self.service)
            .field("environment", &self.environment)
            .field("lambda", &self.lambda)
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl Default for JsonLogLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl JsonLogLayer {
    /// A layer writing to stdout, with no service or environment, outside Lambda.
    pub fn new() -> Self {
        JsonLogLayer {
            make_writer: io::stdout,
            service: None,
            environment: None,
            lambda: None,
            static_fields: Box::default(),
            lambda_fields: Box::default(),
            cold_start: Arc::new(ColdStart::new(&InitializationType::OnDemand)),
            location: false,
            errors: Arc::new(WriteErrors::new("log")),
            redactor: None,
            invocation_logging: None,
            metric_event_lines: false,
            trace_ids: false,
        }
    }

    /// A stdout layer configured from `config` (service, environment, location, Lambda).
    pub fn from_config(config: &Config) -> Self {
        let init = config
            .lambda
            .as_ref()
            .map_or(InitializationType::OnDemand, |l| {
                l.initialization_type.clone()
            });
        JsonLogLayer {
            make_writer: io::stdout as fn() -> io::Stdout,
            service: config.service.clone(),
            environment: config.environment.clone(),
            lambda: config.lambda.clone(),
            static_fields: Box::default(),
            lambda_fields: Box::default(),
            cold_start: Arc::new(ColdStart::new(&init)),
            location: config.log_location,
            errors: Arc::new(WriteErrors::new("log")),
            redactor: None,
            invocation_logging: InvocationLogging::new(config.log_sample_rate, config.log_buffer),
            metric_event_lines: config.log_metric_events,
            trace_ids: false,
        }
        .render()
    }
}

impl<W> JsonLogLayer<W> {
    /// Writes lines to `make_writer` (any `tracing_subscriber` [`MakeWriter`]) instead of stdout.
    /// Each line is handed to the writer in a single `write_all` call.
    pub fn with_writer<W2>(self, make_writer: W2) -> JsonLogLayer<W2>
    where
        W2: for<'w> MakeWriter<'w> + 'static,
    {
        JsonLogLayer {
            make_writer,
            service: self.service,
            environment: self.environment,
            lambda: self.lambda,
            static_fields: self.static_fields,
            lambda_fields: self.lambda_fields,
            cold_start: self.cold_start,
            location: self.location,
            errors: self.errors,
            redactor: self.redactor,
            invocation_logging: self.invocation_logging,
            metric_event_lines: self.metric_event_lines,
            trace_ids: self.trace_ids,
        }
    }

    /// Whether an event with only metric fields and no message (`info!(counter.orders = 1)`)
    /// also writes a log line (default: no, the metric is all it says;
    /// `INSTRUMENT_LOG_METRIC_EVENTS=on`).
    ///
    /// ```
    /// use instrument_core::JsonLogLayer;
    /// let layer = JsonLogLayer::new().with_metric_event_lines(true);
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn with_metric_event_lines(mut self, on: bool) -> Self {
        self.metric_event_lines = on;
        self
    }

    /// Per-invocation log sampling and buffering (see [`crate::buffer`]): `sample_rate` of
    /// the Lambda invocations log at `DEBUG`, and with `buffer` the verbose lines of the others
    /// are kept per invocation and written only if it fails. Pair it with a filter that lets
    /// those lines through ([`LogFilter::with_invocation_level`](crate::LogFilter::with_invocation_level));
    /// [`from_config`](JsonLogLayer::from_config) and `Config::log_filter` do both.
    ///
    /// ```
    /// use instrument_core::{config::LogBuffering, JsonLogLayer};
    /// use tracing_core::LevelFilter;
    /// let layer = JsonLogLayer::new().with_invocation_logging(
    ///     0.1,
    ///     Some(LogBuffering { max_bytes: 20_480, level: LevelFilter::DEBUG }),
    /// );
    /// # let _ = layer;
    /// ```
    pub fn with_invocation_logging(
        mut self,
        sample_rate: f64,
        buffer: Option<LogBuffering>,
    ) -> Self {
        self.invocation_logging = InvocationLogging::new(sample_rate, buffer);
        self
    }

    /// Adds `"service": name` to every line.
    pub fn with_service(mut self, name: impl Into<String>) -> Self {
        self.service = Some(name.into());
        self.render()
    }

    /// Adds `"environment": name` to every line.
    pub fn with_environment(mut self, name: impl Into<String>) -> Self {
        self.environment = Some(name.into());
        self.render()
    }

    /// Redacts PII with `redactor` in messages, string, `Debug` and error values, span fields
    /// (once, when recorded) and the whole value of fields whose name a key rule matches.
    /// `None` (the default of a bare layer) writes values as they are.
    ///
    /// ```
    /// use instrument_core::{redact::Redactor, JsonLogLayer};
    /// let layer = JsonLogLayer::new().with_redactor(Some(Redactor::default().into()));
    /// # let _ = layer;
    /// ```
    pub fn with_redactor(mut self, redactor: Option<Arc<Redactor>>) -> Self {
        self.redactor = redactor.filter(|r| r.is_active());
        self
    }

    /// Adds `"trace_id"` and `"span_id"` to every line inside a span of a sampled trace: the
    /// innermost such span's [`TraceIds`](crate::context::TraceIds), which a trace layer (the
    /// `instrument` crate's, feature `otel`) keeps in the span's extensions.
    ///
    /// ```
    /// let _layer = instrument_core::JsonLogLayer::new().with_trace_ids(true);
    /// ```
    pub fn with_trace_ids(mut self, on: bool) -> Self {
        self.trace_ids = on;
        self
    }

    /// Adds `"location": "file:line"` to every line.
    pub fn with_location(mut self, on: bool) -> Self {
        self.location = on;
        self
    }

    /// Sets the Lambda environment: its function fields go on lines inside invocations, and
    /// its initialisation type decides cold starts.
    pub fn with_lambda(mut self, lambda: Option<LambdaEnvironment>) -> Self {
        let init = lambda.as_ref().map_or(InitializationType::OnDemand, |l| {
            l.initialization_type.clone()
        });
        self.cold_start = Arc::new(ColdStart::new(&init));
        self.lambda = lambda;
        self.render()
    }

    /// Shares `cold_start` with other layers (the EMF layer emits the `ColdStart` metric for the
    /// same invocation the log lines call cold).
    pub fn with_cold_start(mut self, cold_start: Arc<ColdStart>) -> Self {
        self.cold_start = cold_start;
        self
    }

    /// The cold-start tracker this layer uses.
    pub fn cold_start(&self) -> Arc<ColdStart> {
        self.cold_start.clone()
    }

    /// The counter of lines that could not be written.
    pub fn write_errors(&self) -> Arc<WriteErrors> {
        self.errors.clone()
    }

    fn render(mut self) -> Self {
        let mut fields = Vec::new();
        for (key, value) in [
            ("service", &self.service),
            ("environment", &self.environment),
        ] {
            if let Some(value) = value {
                fields.push(b',');
                json::write_str(&mut fields, key);
                fields.push(b':');
                json::write_str(&mut fields, value);
            }
        }
        self.static_fields = fields.into_boxed_slice();
        let mut fields = Vec::new();
        if let Some(l) = &self.lambda {
            fields.extend_from_slice(b",\"function_name\":");
            json::write_str(&mut fields, &l.function_name);
            if let Some(v) = &l.function_version {
                fields.extend_from_slice(b",\"function_version\":");
                json::write_str(&mut fields, v);
            }
            if let Some(m) = l.function_memory_size {
                fields.extend_from_slice(b",\"function_memory_size\":");
                json::write_u64(&mut fields, m.into());
            }
        }
        self.lambda_fields = fields.into_boxed_slice();
        self
    }

    fn record_span<S>(&self, span: &SpanRef<'_, S>, values: &dyn RecordFields, later: bool)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let meta = span.metadata();
        let schema = crate::callsite::schema(meta);
        let tracked = match (schema.is_tracked(), later) {
            (false, _) => Tracked::No,
            (true, false) => Tracked::Opening,
            // A later record of a tracked call's span: its completion.
            (true, true) => Tracked::Completion,
        };
        if tracked == Tracked::Completion && fields::only_completion_fields(values) {
            return;
        }
        // The values are formatted (user `Debug` and `Display` code) with the span's extensions
        // unlocked: a panic there runs the panic hook, whose log line reads this span's fields,
        // and would wait forever for a lock its own thread holds. So the fields are taken out
        // (an empty value left in place, nothing allocated), recorded, and put back.
        // A new span has no fields yet: it is recorded first and stored in one step.
        let mut taken = if later {
            span.extensions_mut()
                .get_mut::<SpanFields>()
                .map(std::mem::take)
                .unwrap_or_default()
        } else {
            SpanFields::default()
        };
        taken.record(values, schema, self.redactor.as_deref(), tracked);
        let done = taken.invocation.is_some() || !lambda::is_invocation_callsite(meta);
        let mut extensions = span.extensions_mut();
        match extensions.get_mut::<SpanFields>() {
            Some(fields) => *fields = taken,
            None => extensions.insert(taken),
        }
        if done {
            return;
        }
        drop(extensions);
        let Some(invocation) = lambda::invocation(span, &self.cold_start) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(fields) = extensions.get_mut::<SpanFields>() {
            fields.invocation = Some(invocation.cold_start);
        }
        if let Some(logging) = &self.invocation_logging {
            if extensions.get_mut::<InvocationLog>().is_none() {
                extensions.insert(logging.start());
            }
        }
    }
}

/// Takes a formatted line instead of the writer (to buffer it).
type KeepLine<'a> = &'a mut dyn FnMut(&[u8]);

/// Per-thread buffers, reused for every line.
#[derive(Default)]
pub(super) struct Scratch {
    pub(super) line: Vec<u8>,
    pub(super) keys: KeySet,
    pub(super) names: KeySet,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl<S, W> Layer<S> for JsonLogLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            self.record_span(&span, attrs, false);
        }
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            self.record_span(&span, values, true);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let schema = crate::callsite::schema(event.metadata());
        if schema.kind == CallsiteKind::AppendKeys {
            return self.append_keys(event, schema, &ctx);
        }
        if schema.metric_only && !self.metric_event_lines {
            return;
        }
        if let Some(logging) = &self.invocation_logging {
            let verbose = crate::filter::take_invocation_mark(event.metadata());
            if verbose {
                return self.verbose_event(event, &ctx, logging);
            }
            if *event.metadata().level() == Level::ERROR {
                self.flush_invocation_buffer(event, &ctx);
            }
        }
        self.write_event(event, &ctx, None);
    }
}

impl<W> JsonLogLayer<W>
where
    W: for<'w> MakeWriter<'w> + 'static,
{
    /// Formats `event` and writes it, or hands the line to `keep` instead when given.
    fn write_event<S>(
        &self,
        event: &Event<'_>,
        ctx: &Context<'_, S>,
        mut keep: Option<KeepLine<'_>>,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let mut write = |s: &mut Scratch| {
            self.format(s, event, ctx);
            match keep.as_mut() {
                Some(keep) => keep(&s.line),
                None => self
                    .errors
                    .write_line(self.make_writer.make_writer_for(event.metadata()), &s.line),
            }
        };
        // A `Debug` impl that logs while being formatted, or an event from a thread-local
        // destructor, gets a fresh buffer instead of a panic.
        let reused = SCRATCH.try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut s) => {
                write(&mut s);
                true
            }
            Err(_) => false,
        });
        if reused != Ok(true) {
            write(&mut Scratch::default());
        }
    }

    /// Keeps the fields of an `append_keys!` event on the request's span: the outermost span
    /// around it that carries request context (the Lambda invocation, the HTTP request), else
    /// the event's own span. Every later line inside that span carries them (inner spans' and
    /// events' fields of the same name win), the runtime's and instrument's own lines
    /// included, until the span closes. Outside any span there is nowhere to keep them.
    fn append_keys<S>(
        &self,
        event: &Event<'_>,
        schema: &'static crate::callsite::Schema,
        ctx: &Context<'_, S>,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        let mut leaf = None;
        let mut request = None;
        for span in scope {
            if crate::callsite::schema(span.metadata()).context {
                request = Some(span);
            } else if leaf.is_none() && request.is_none() {
                leaf = Some(span);
            }
        }
        let Some(span) = request.or(leaf) else {
            return;
        };
        // As in `record_span`: the values are formatted with the extensions unlocked.
        let mut taken = span
            .extensions_mut()
            .get_mut::<SpanFields>()
            .map(std::mem::take)
            .unwrap_or_default();
        taken.record(event, schema, self.redactor.as_deref(), Tracked::No);
        let mut extensions = span.extensions_mut();
        match extensions.get_mut::<SpanFields>() {
            Some(fields) => *fields = taken,
            None => extensions.insert(taken),
        }
    }

    /// The outermost invocation span around `event` that holds per-invocation log state.
    fn invocation_span<'a, S>(event: &Event<'_>, ctx: &'a Context<'_, S>) -> Option<SpanRef<'a, S>>
    where
        S: Subscriber + for<'l> LookupSpan<'l>,
    {
        ctx.event_scope(event)?
            .from_root()
            .find(|span| span.extensions().get::<InvocationLog>().is_some())
    }

    /// A line more verbose than the log level, let through for sampling or buffering: written
    /// if its invocation is sampled (or has failed), buffered if buffering is on, else dropped.
    /// Outside invocations (initialisation included) it is dropped.
    fn verbose_event<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>, logging: &InvocationLogging)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(span) = Self::invocation_span(event, ctx) else {
            return;
        };
        let level = LevelFilter::from_level(*event.metadata().level());
        let fate = span
            .extensions()
            .get::<InvocationLog>()
            .map_or(Verbose::Drop, |log| log.verbose(level, logging));
        match fate {
            Verbose::Drop => {}
            Verbose::Write => self.write_event(event, ctx, None),
            Verbose::Buffer => {
                let max_bytes = logging.buffer.map_or(0, |b| b.max_bytes);
                self.write_event(
                    event,
                    ctx,
                    Some(&mut |line: &[u8]| {
                        if let Some(log) = span.extensions_mut().get_mut::<InvocationLog>() {
                            log.push(line, max_bytes);
                        }
                    }),
                );
            }
        }
    }

    /// An `ERROR` line inside an invocation: first the lines its buffer kept (after a warning
    /// if some were evicted).
    fn flush_invocation_buffer<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(span) = Self::invocation_span(event, ctx) else {
            return;
        };
        let taken = span
            .extensions_mut()
            .get_mut::<InvocationLog>()
            .and_then(InvocationLog::take);
        let Some((lines, evicted)) = taken else {
            return;
        };
        if evicted > 0 {
            let mut line = Vec::with_capacity(256);
            line.extend_from_slice(b"{\"timestamp\":\"");
            timestamp::write_now(&mut line);
            line.extend_from_slice(b"\",\"level\":\"WARN\",\"target\":\"instrument\"");
            line.extend_from_slice(&self.static_fields);
            line.extend_from_slice(
                b",\"message\":\"the invocation's log buffer was full: its oldest lines were \
                  evicted; raise INSTRUMENT_LOG_BUFFER_MAX_BYTES to keep more\",\"evicted_lines\":",
            );
            json::write_u64(&mut line, evicted);
            for key in CONTEXT_KEYS {
                let value = span.scope().find_map(|s| {
                    s.extensions()
                        .get::<SpanFields>()
                        .and_then(|f| f.context(key).map(<[u8]>::to_vec))
                });
                if let Some(value) = value {
                    json::write_key(&mut line, key.name());
                    line.extend_from_slice(&value);
                }
            }
            line.extend_from_slice(b"}\n");
            self.errors
                .write_line(self.make_writer.make_writer_for(event.metadata()), &line);
        }
        for line in lines {
            self.errors
                .write_line(self.make_writer.make_writer_for(event.metadata()), &line);
        }
    }
}
