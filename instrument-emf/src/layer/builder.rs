//! Configuring and building an [`EmfLayer`].

use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use instrument_core::lambda::{ColdStart, InitializationType, LambdaEnvironment};
use instrument_core::redact::Redactor;
use tracing_core::Subscriber;
use tracing_subscriber::filter::Filtered;
use tracing_subscriber::layer::Layer;
use tracing_subscriber::registry::LookupSpan;

use super::state::{EmfState, Exporting, Output};
use super::{EmfHandle, EmfLayer, MetricsFilter};
use crate::aggregator::{Aggregator, ContextDef, Rollups};
use crate::encoder::Encoder;
use crate::export::{EmfExporter, Exporter};
use crate::sink::Sink;

/// Configures an [`EmfLayer`].
///
/// ```
/// use instrument_emf::{EmfLayer, MemorySink};
/// let sink = MemorySink::default();
/// let layer = EmfLayer::builder(sink.clone())
///     .namespace("Ticketing")
///     .dimension("service", "booking")
///     .build_unfiltered();
/// # let _ = layer;
/// ```
#[must_use]
pub struct EmfLayerBuilder {
    output: Output,
    namespace: String,
    dimensions: Vec<(String, String)>,
    error_type_dimension: bool,
    max_error_types: usize,
    max_contexts: usize,
    shard_value_limit: usize,
    lambda: Option<LambdaEnvironment>,
    cold_start: Option<Arc<ColdStart>>,
    cold_start_dimensions: Option<Vec<(String, String)>>,
    rollups: Vec<Vec<String>>,
    flush_interval: Option<Duration>,
    redactor: Option<Arc<Redactor>>,
}

impl EmfLayerBuilder {
    /// Redacts PII in dimension and property values (once per distinct combination).
    pub fn redactor(mut self, redactor: Option<Arc<Redactor>>) -> Self {
        self.redactor = redactor.filter(|r| r.is_active());
        self
    }

    /// Flushes every `interval` on a background thread, started when the first metric is
    /// recorded (so building the layer stays cheap, and a process that records nothing runs no
    /// thread). [`EmfHandle::shutdown`] stops it. Not for Lambda, which flushes per invocation.
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = Some(interval);
        self
    }

    /// The CloudWatch namespace (default `instrument`).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// The `ColdStart` metric's dimensions besides `function_name` (Powertools publishes it
    /// with `function_name` and `service`); `None` (the default) for every dimension of
    /// [`dimension`](Self::dimension).
    pub fn cold_start_dimensions(mut self, dimensions: Option<Vec<(String, String)>>) -> Self {
        self.cold_start_dimensions = dimensions;
        self
    }

    /// The dimension sets every metric is also published under, beyond its own full set: each
    /// is the default dimensions ([`dimension`](Self::dimension)) plus those of the listed
    /// dimensions the metric has. `[[]]` publishes every metric under the default dimensions
    /// alone too (a service-wide total next to the per-route series); `[[], ["route"]]` also
    /// per route. Values are aggregated and written once, whatever the number of sets. None by
    /// default here (the facade's default is `[[]]`).
    ///
    /// ```
    /// use instrument_emf::{EmfLayer, MemorySink};
    /// use tracing_subscriber::prelude::*;
    /// let sink = MemorySink::default();
    /// let layer = EmfLayer::builder(sink.clone())
    ///     .dimension("service", "api")
    ///     .rollups(vec![vec![], vec!["route".to_string()]])
    ///     .build_unfiltered();
    /// let handle = layer.handle();
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::info!(dimension.route = "/book", dimension.method = "GET", counter.requests = 1);
    /// });
    /// handle.flush();
    /// let doc: serde_json::Value = serde_json::from_slice(&sink.documents()[0]).unwrap();
    /// assert_eq!(
    ///     doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
    ///     serde_json::json!([["service", "route", "method"], ["service"], ["service", "route"]])
    /// );
    /// ```
    pub fn rollups(mut self, sets: Vec<Vec<String>>) -> Self {
        self.rollups = sets;
        self
    }

    /// A dimension on every metric (e.g. `service`, `environment`).
    pub fn dimension(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.dimensions.push((name.into(), value.into()));
        self
    }

    /// Whether `<name>.error` carries an `error_type` dimension (default on). It is also
    /// published without it, so the total stays one metric.
    pub fn error_type_dimension(mut self, on: bool) -> Self {
        self.error_type_dimension = on;
        self
    }

    /// How many distinct `error_type` values become dimensions; later ones are published as
    /// `other` (default 25), bounding cardinality.
    pub fn max_error_types(mut self, n: usize) -> Self {
        self.max_error_types = n;
        self
    }

    /// How many distinct dimension combinations may be live at once (default 10,000); metrics
    /// in further combinations are recorded without their span's dimensions, and counted as
    /// dropped (`too_many_combinations`).
    pub fn max_combinations(mut self, n: usize) -> Self {
        self.max_contexts = n.max(2);
        self
    }

    /// How many values one thread may buffer before it flushes them itself (default 10,000):
    /// the bound on memory between flushes.
    pub fn max_buffered_values(mut self, n: usize) -> Self {
        self.shard_value_limit = n.max(1);
        self
    }

    /// The Lambda environment: adds `function_name` to the `ColdStart` metric and decides cold
    /// starts from the initialisation type.
    pub fn lambda(mut self, lambda: Option<LambdaEnvironment>) -> Self {
        self.lambda = lambda;
        self
    }

    /// Shares the cold-start tracker with the log layer.
    pub fn cold_start(mut self, cold_start: Arc<ColdStart>) -> Self {
        self.cold_start = Some(cold_start);
        self
    }

    /// Builds the layer, behind the [`MetricsFilter`] that shows it only the spans and events
    /// that carry metrics, dimensions or invocation context (so the rest cost it nothing, and
    /// callsites no layer wants stay disabled). `layer.inner().handle()` flushes it.
    pub fn build<S>(self) -> Filtered<EmfLayer, MetricsFilter, S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        self.build_unfiltered()
            .with_filter(MetricsFilter::default())
    }

    /// Builds the bare layer, which sees every span and event it is given.
    pub fn build_unfiltered(self) -> EmfLayer {
        let rollups = Rollups {
            defaults: self
                .dimensions
                .iter()
                .map(|(n, _)| n.as_str().into())
                .collect(),
            sets: self
                .rollups
                .iter()
                .map(|set| set.iter().map(|d| d.as_str().into()).collect())
                .collect(),
        };
        let aggregator =
            Aggregator::new(self.max_contexts, self.shard_value_limit).with_rollups(rollups);
        let root_def = ContextDef {
            dims: self
                .dimensions
                .iter()
                .map(|(n, v)| (n.as_str().into(), v.as_str().into()))
                .collect(),
            ..ContextDef::default()
        };
        let cold_start = self.cold_start.unwrap_or_else(|| {
            let init = self
                .lambda
                .as_ref()
                .map_or(InitializationType::OnDemand, |l| {
                    l.initialization_type.clone()
                });
            Arc::new(ColdStart::new(&init))
        });
        // An invalid (or unset) namespace is replaced by `instrument`, the same for every
        // exporter.
        let encoder = Encoder::owned(self.namespace);
        let exporting = match self.output {
            Output::Sink(sink) => Exporting::Emf(EmfExporter::with_encoder(encoder, sink)),
            Output::Exporter(exporter) => Exporting::Other {
                namespace: encoder.namespace().to_string(),
                exporter,
            },
        };
        EmfLayer {
            shared: Arc::new(EmfState {
                aggregator,
                exporting,
                dropped: Box::default(),
                root: OnceLock::new(),
                cold: OnceLock::new(),
                cold_def: self.cold_start_dimensions.map(|dims| ContextDef {
                    dims: dims
                        .iter()
                        .map(|(n, v)| (n.as_str().into(), v.as_str().into()))
                        .collect(),
                    ..ContextDef::default()
                }),
                root_def,
                function_name: self.lambda.map(|l| l.function_name),
                cold_start,
                error_type_dimension: self.error_type_dimension,
                max_error_types: self.max_error_types,
                error_types: RwLock::default(),
                flush_lock: Mutex::new(()),
                flush_interval: self.flush_interval,
                flusher: Mutex::new(None),
                flusher_started: std::sync::atomic::AtomicBool::new(false),
                redactor: self.redactor,
                handles: Box::default(),
            }),
        }
    }
}

impl EmfLayer {
    /// Configures a layer writing to `sink`.
    pub fn builder(sink: impl Sink) -> EmfLayerBuilder {
        Self::builder_for(Output::Sink(Arc::new(sink)))
    }

    /// Configures a layer whose flushes go to `exporter` instead of being encoded as EMF (e.g.
    /// the `cloudwatch-api` feature's `CloudwatchExporter`, which calls PutMetricData).
    ///
    /// ```
    /// use instrument_emf::{EmfExporter, EmfLayer, MemorySink};
    /// let layer = EmfLayer::with_exporter(EmfExporter::new("Shop", MemorySink::default()))
    ///     .namespace("Shop")
    ///     .build_unfiltered();
    /// # let _ = layer;
    /// ```
    pub fn with_exporter(exporter: impl Exporter) -> EmfLayerBuilder {
        Self::builder_for(Output::Exporter(Arc::new(exporter)))
    }

    /// [`builder`](Self::builder) for a sink that is already shared.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use instrument_emf::{EmfLayer, MemorySink, Sink};
    /// let sink: Arc<dyn Sink> = Arc::new(MemorySink::default());
    /// let _layer = EmfLayer::builder_shared(sink).build_unfiltered();
    /// ```
    pub fn builder_shared(sink: Arc<dyn Sink>) -> EmfLayerBuilder {
        Self::builder_for(Output::Sink(sink))
    }

    fn builder_for(output: Output) -> EmfLayerBuilder {
        EmfLayerBuilder {
            output,
            // Empty: `instrument` (see `build_unfiltered`), without allocating it here.
            namespace: String::new(),
            dimensions: Vec::new(),
            error_type_dimension: true,
            max_error_types: 25,
            max_contexts: 10_000,
            shard_value_limit: 10_000,
            lambda: None,
            cold_start: None,
            cold_start_dimensions: None,
            rollups: Vec::new(),
            flush_interval: None,
            redactor: None,
        }
    }

    /// A handle to flush this layer once it is inside a subscriber.
    pub fn handle(&self) -> EmfHandle {
        EmfHandle {
            shared: self.shared.clone(),
        }
    }
}
