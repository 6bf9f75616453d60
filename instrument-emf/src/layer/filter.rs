//! The EMF layer's per-layer filter: it wants the callsites whose schema says the metrics
//! layer reads them, at any level.

use tracing_core::subscriber::Interest;
use tracing_core::Metadata;
use tracing_subscriber::layer::{Context as LayerContext, Filter};

use instrument_core::callsite;

/// The per-layer filter of [`EmfLayer`](super::EmfLayer): spans and events with metric, dimension, tracked-call
/// or invocation fields, at any level. Metrics never depend on the log level.
#[derive(Debug, Clone, Copy)]
pub struct MetricsFilter {
    on: bool,
}

impl Default for MetricsFilter {
    fn default() -> Self {
        MetricsFilter { on: true }
    }
}

impl MetricsFilter {
    /// A filter letting nothing through: metrics off, at no cost to any callsite (a callsite
    /// no layer wants stays disabled, unlike with an absent `Option` layer).
    pub fn off() -> Self {
        MetricsFilter { on: false }
    }
}

impl<S> Filter<S> for MetricsFilter {
    fn enabled(&self, meta: &Metadata<'_>, _cx: &LayerContext<'_, S>) -> bool {
        self.on && callsite::schema(meta).metrics
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.on && callsite::schema(meta).metrics {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<tracing_core::LevelFilter> {
        if self.on {
            None
        } else {
            Some(tracing_core::LevelFilter::OFF)
        }
    }
}
