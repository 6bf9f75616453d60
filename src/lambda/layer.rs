//! The tower layer around a Lambda handler: one span per invocation, carrying its context.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::LambdaEvent;
use serde::Serialize;
use tower::{Layer, Service};

use instrument_core::config::{LambdaLayerConfig, Settings};

use super::CorrelationPath;
use crate::ConfigError;

/// Wraps a Lambda handler service so that every invocation runs inside a span that carries
/// its context, and its metrics are flushed in time (see the [module docs](super)).
///
/// ```no_run
/// use instrument::lambda::{CorrelationPath, InvocationLayer};
/// use lambda_runtime::{service_fn, Error, LambdaEvent};
/// use serde_json::Value;
/// use std::time::Duration;
/// use lambda_runtime::tower::Layer;
///
/// async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
///     Ok(event.payload)
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), Error> {
///     let _guard = instrument::init();
///     let layer = InvocationLayer::new()
///         .correlation_paths([CorrelationPath::custom("detail.orderId"), CorrelationPath::EVENTBRIDGE])
///         .flush_margin(Duration::from_millis(300));
///     lambda_runtime::run(layer.layer(service_fn(handler))).await
/// }
/// ```
#[derive(Debug, Clone)]
pub struct InvocationLayer {
    config: Arc<Config>,
}

#[derive(Debug, Clone)]
struct Config {
    paths: Vec<CorrelationPath>,
    flush_margin: Duration,
    memory_metric: bool,
}

impl Default for InvocationLayer {
    fn default() -> Self {
        InvocationLayer::new()
    }
}

impl InvocationLayer {
    /// The default margin before the deadline at which a still-running invocation flushes.
    pub const DEFAULT_FLUSH_MARGIN: Duration = Duration::from_millis(500);

    /// Every [preset](CorrelationPath::PRESETS) correlation path and a flush margin of
    /// [`DEFAULT_FLUSH_MARGIN`](Self::DEFAULT_FLUSH_MARGIN), unless the configuration's Lambda
    /// section says otherwise: `INSTRUMENT_CORRELATION_PATHS` (comma-separated presets and
    /// paths, e.g. `detail.orderId,eventbridge`) and `INSTRUMENT_LAMBDA_FLUSH_MARGIN_MS`. The
    /// section is the installed configuration's (what `init`/`install` resolved, so a bad
    /// value has stopped `try_init` already), else the environment's; there, an invalid value
    /// is reported on stderr and ignored (a function must start), and
    /// [`from_env`](Self::from_env) returns it as an error instead. The builder methods
    /// override both.
    pub fn new() -> Self {
        Self::from_env().unwrap_or_else(|err| {
            // No subscriber may be installed yet: say it where Lambda shows it anyway.
            eprintln!("instrument: {err}; using the default");
            Self::defaults()
        })
    }

    /// Like [`new`](Self::new), with an invalid environment value as an error that names it.
    ///
    /// ```
    /// # fn main() -> Result<(), instrument::ConfigError> {
    /// let layer = instrument::lambda::InvocationLayer::from_env()?;
    /// # let _ = layer; Ok(()) }
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        match crate::builder::installed_config() {
            Some(config) => Ok(Self::from_section(config.lambda_layer.clone())),
            None => Self::from_lookup(&|name| std::env::var(name).ok()),
        }
    }

    fn defaults() -> Self {
        Self::from_section(LambdaLayerConfig::default())
    }

    /// The layer of the configuration's Lambda section (see
    /// [`instrument_core::config::table`]).
    fn from_section(section: LambdaLayerConfig) -> Self {
        let paths = match section.correlation_paths {
            // The section's parser accepts only what `CorrelationPath` parses.
            Some(paths) => paths
                .iter()
                .map(|p| {
                    p.parse()
                        .unwrap_or_else(|_| CorrelationPath::custom(p.as_str()))
                })
                .collect(),
            None => CorrelationPath::PRESETS.to_vec(),
        };
        InvocationLayer {
            config: Arc::new(Config {
                paths,
                flush_margin: section.flush_margin,
                memory_metric: section.memory_metric,
            }),
        }
    }

    /// The configuration from `var` (the environment, or a test's map).
    fn from_lookup(var: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        LambdaLayerConfig::resolve(&Settings::default(), var).map(Self::from_section)
    }

    fn config_mut(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// Where to look for the correlation ID in the event, first match wins (replaces the
    /// presets). With none found, the invocation gets a fresh UUID v4.
    pub fn correlation_paths(mut self, paths: impl IntoIterator<Item = CorrelationPath>) -> Self {
        self.config_mut().paths = paths.into_iter().collect();
        self
    }

    /// How long before the invocation's deadline a still-running invocation logs an `ERROR`
    /// line (which also writes its buffered log lines) and flushes its metrics, so that an
    /// invocation Lambda is about to stop still reports what it recorded.
    pub fn flush_margin(mut self, margin: Duration) -> Self {
        self.config_mut().flush_margin = margin;
        self
    }

    /// Whether each invocation also publishes the process's peak memory as the gauge
    /// `max_memory_used_mb` (unit Megabytes, in the invocation's EMF document; default off,
    /// `INSTRUMENT_LAMBDA_MEMORY_METRIC`). The invocation's end line carries it as a field
    /// either way.
    pub fn memory_metric(mut self, on: bool) -> Self {
        self.config_mut().memory_metric = on;
        self
    }
}

impl<S> Layer<S> for InvocationLayer {
    type Service = InvocationService<S>;

    fn layer(&self, inner: S) -> InvocationService<S> {
        InvocationService {
            inner,
            config: self.config.clone(),
        }
    }
}

/// A Lambda handler service wrapped by [`InvocationLayer`].
#[derive(Debug, Clone)]
pub struct InvocationService<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S, T> Service<LambdaEvent<T>> for InvocationService<S>
where
    S: Service<LambdaEvent<T>>,
    S::Error: std::fmt::Debug,
    T: Serialize,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = InvocationFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, event: LambdaEvent<T>) -> Self::Future {
        let correlation_id = self.correlation_id(&event.payload);
        let ctx = &event.context;
        // The invocation's own X-Ray header is the span's parent, and its `Sampled` decides.
        #[cfg(feature = "otel")]
        let remote = crate::otel::enter_invocation(ctx.xray_trace_id.as_deref());
        let span = match &ctx.xray_trace_id {
            Some(trace_id) => tracing::info_span!(
                "lambda_invocation",
                function_request_id = ctx.request_id.as_str(),
                xray_trace_id = trace_id.as_str(),
                function_arn = ctx.invoked_function_arn.as_str(),
                correlation_id = correlation_id.as_str(),
            ),
            None => tracing::info_span!(
                "lambda_invocation",
                function_request_id = ctx.request_id.as_str(),
                function_arn = ctx.invoked_function_arn.as_str(),
                correlation_id = correlation_id.as_str(),
            ),
        };
        #[cfg(feature = "otel")]
        drop(remote);
        let timer = flush_delay(ctx.deadline, self.config.flush_margin)
            .map(|delay| Box::pin(tokio::time::sleep(delay)));
        let deadline = ctx.deadline;
        // Inside `lambda_runtime::run`, the runtime's own span is current here, and the runtime
        // logs a failed invocation's error inside it; otherwise this layer logs it.
        let log_errors = tracing::Span::current()
            .metadata()
            .is_none_or(|m| m.name() != instrument_core::lambda::RUNTIME_INVOKE_SPAN);
        if !log_errors {
            // The runtime logs a failed invocation's error in its own span, outside this
            // layer's: the invocation's correlation ID and ARN are appended to the runtime's
            // span so that its lines carry them too (it has the request and trace IDs).
            crate::append_keys!(
                correlation_id = correlation_id.as_str(),
                function_arn = ctx.invoked_function_arn.as_str(),
            );
        }
        let future = {
            // Spans the handler creates while being called belong to the invocation too.
            let _entered = span.enter();
            self.inner.call(event)
        };
        InvocationFuture {
            inner: future,
            span,
            timer,
            deadline,
            log_errors,
            started: Instant::now(),
            memory_metric: self.config.memory_metric,
        }
    }
}

impl<S> InvocationService<S> {
    fn correlation_id<T: Serialize>(&self, payload: &T) -> String {
        let found = if self.config.paths.is_empty() {
            None
        } else {
            serde_json::to_value(payload).ok().and_then(|event| {
                self.config
                    .paths
                    .iter()
                    .find_map(|path| path.extract(&event))
            })
        };
        found.unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
    }
}

/// How long from now until the flush before `deadline_ms` (Unix milliseconds); `None` without
/// a usable deadline.
fn flush_delay(deadline_ms: u64, margin: Duration) -> Option<Duration> {
    if deadline_ms == 0 {
        return None;
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
    let remaining = Duration::from_millis(deadline_ms).checked_sub(now)?;
    Some(remaining.saturating_sub(margin))
}

pin_project_lite::pin_project! {
    /// The future of an [`InvocationService`] call: the handler's, inside the invocation span,
    /// with the deadline flush.
    #[must_use = "futures do nothing unless polled"]
    pub struct InvocationFuture<F> {
        #[pin]
        inner: F,
        // The invocation's span, entered while the handler runs; closed when it answers.
        span: tracing::Span,
        timer: Option<Pin<Box<tokio::time::Sleep>>>,
        deadline: u64,
        log_errors: bool,
        started: Instant,
        memory_metric: bool,
    }
}

impl<F, R, E> Future for InvocationFuture<F>
where
    F: Future<Output = Result<R, E>>,
    E: std::fmt::Debug,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        if let Some(timer) = this.timer.as_mut() {
            if timer.as_mut().poll(cx).is_ready() {
                *this.timer = None;
                let _entered = this.span.enter();
                deadline_reached(*this.deadline);
            }
        }
        let output = {
            let _entered = this.span.enter();
            std::task::ready!(this.inner.as_mut().poll(cx))
        };
        let _entered = this.span.enter();
        if let (Err(error), true) = (&output, *this.log_errors) {
            // An ERROR line inside the invocation: it also writes its buffered lines.
            tracing::error!(target: "instrument::lambda", handler_error = ?error, "the invocation failed");
        }
        invocation_ended(*this.started, output.is_ok(), *this.memory_metric);
        drop(_entered);
        // The invocation is over: its span closes now (unless a task the handler spawned
        // holds it), and its spans are sent before Lambda freezes the environment.
        *this.span = tracing::Span::none();
        #[cfg(feature = "otel")]
        crate::otel::flush_current();
        Poll::Ready(output)
    }
}

/// The invocation's end line: how it ended, how long it took (`duration_ms`, from the layer's
/// call to the handler's answer) and the process's peak memory so far (`max_memory_used_mb`,
/// what Lambda's REPORT line calls Max Memory Used), and with `memory_metric` that memory as
/// a gauge of the invocation's EMF document.
fn invocation_ended(started: Instant, ok: bool, memory_metric: bool) {
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let outcome = if ok { "success" } else { "error" };
    let peak = peak_memory_mb();
    match peak {
        Some(mb) if memory_metric => tracing::info!(
            target: "instrument::lambda",
            outcome,
            duration_ms,
            gauge.max_memory_used_mb = mb,
            unit.max_memory_used_mb = "Megabytes",
            "the invocation ended"
        ),
        _ => tracing::info!(
            target: "instrument::lambda",
            outcome,
            duration_ms,
            max_memory_used_mb = peak,
            "the invocation ended"
        ),
    }
}

/// The process's peak resident memory in MiB, rounded up (`VmHWM` of `/proc/self/status`);
/// `None` where there is no such file (not Linux).
fn peak_memory_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib.div_ceil(1024))
}

/// The invocation is still running just before its deadline: say so (an `ERROR` line, which
/// also writes the invocation's buffered log lines) and flush the metrics recorded so far.
fn deadline_reached(deadline_ms: u64) {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    tracing::error!(
        target: "instrument::lambda",
        remaining_ms = deadline_ms.saturating_sub(now_ms),
        "the invocation is about to time out: flushing its metrics and logs now"
    );
    crate::flush_metrics();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Source;
    use instrument_core::config::table;

    const PATHS_VAR: &str = table::CORRELATION_PATHS.variables[0].name;
    const MARGIN_VAR: &str = table::LAMBDA_FLUSH_MARGIN.variables[0].name;

    #[test]
    fn configuration_from_the_environment() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let layer = InvocationLayer::from_lookup(&env(&[])).unwrap();
        assert_eq!(layer.config.paths, CorrelationPath::PRESETS.to_vec());
        assert_eq!(
            layer.config.flush_margin,
            InvocationLayer::DEFAULT_FLUSH_MARGIN
        );

        let layer = InvocationLayer::from_lookup(&env(&[
            (PATHS_VAR, "detail.orderId, sqs"),
            (MARGIN_VAR, "250"),
        ]))
        .unwrap();
        assert_eq!(
            layer.config.paths,
            [
                CorrelationPath::custom("detail.orderId"),
                CorrelationPath::SQS
            ]
        );
        assert_eq!(layer.config.flush_margin, Duration::from_millis(250));
        // Code wins over the environment.
        let layer = layer.flush_margin(Duration::from_millis(100));
        assert_eq!(layer.config.flush_margin, Duration::from_millis(100));

        let err = InvocationLayer::from_lookup(&env(&[(MARGIN_VAR, "soon")])).unwrap_err();
        assert_eq!(err.origin, Source::Variable(MARGIN_VAR.into()));
        let err = InvocationLayer::from_lookup(&env(&[(PATHS_VAR, "a..b")])).unwrap_err();
        assert_eq!(err.origin, Source::Variable(PATHS_VAR.into()));
        assert!(err.to_string().contains("a..b"), "{err}");
    }

    #[test]
    fn the_declared_accepted_values_name_every_preset() {
        let accepted = table::CORRELATION_PATHS.accepted;
        for preset in CorrelationPath::PRESETS {
            assert!(
                accepted.contains(preset.name()),
                "{} in {accepted}",
                preset.name()
            );
        }
        assert_eq!(
            table::LAMBDA_FLUSH_MARGIN.default_value(),
            Some(InvocationLayer::DEFAULT_FLUSH_MARGIN)
        );
    }

    #[test]
    fn flush_delay_leaves_the_margin() {
        assert_eq!(flush_delay(0, Duration::from_millis(500)), None);
        assert_eq!(flush_delay(1, Duration::from_millis(500)), None, "past");
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let deadline = (now + Duration::from_secs(60)).as_millis() as u64;
        let delay = flush_delay(deadline, Duration::from_secs(1)).unwrap();
        assert!(delay <= Duration::from_secs(59));
        let delay = flush_delay(deadline, Duration::from_secs(120)).unwrap();
        assert_eq!(delay, Duration::ZERO);
    }
}
