//! Metrics whose names or dimension values are only known at run time, into the same EMF
//! documents as span and event metrics: the same aggregator, the same default dimensions and
//! rollups, the same cardinality bound (a combination over it records nothing and is counted
//! in `instrument.dropped`).
//!
//! A handle is resolved once, against the current subscriber's metrics layer, when it is
//! made (as `metrics` handles are): keep it where the name is fixed, and a counter's `add` is
//! one atomic add. Made outside instrument's subscriber, a handle records nothing.
//!
//! ```
//! use instrument::metrics::{self, Unit};
//!
//! let capture = instrument::testing::Capture::with(|b| b.service("booking"));
//! capture.run(|| {
//!     let attempts = metrics::counter("booking.attempts"); // resolved once
//!     for _ in 0..3 {
//!         attempts.add(1);
//!     }
//!     let venue = "opera";
//!     metrics::counter_with("seats.sold", &[("venue", venue)]).add(2); // looked up per call
//!     metrics::histogram("payload", Unit::Bytes).record(512.0);
//!     metrics::gauge("queue.depth", Unit::Count).set(7.0);
//! });
//! assert_eq!(capture.metric_sum("booking.attempts"), 3.0);
//! assert_eq!(capture.metric_sum("seats.sold"), 2.0);
//! assert_eq!(capture.metric_values("payload"), [512.0]);
//! assert_eq!(capture.metric_values("queue.depth"), [7.0]);
//! ```
//!
//! With the cargo feature `metrics`, [`Recorder`] is a `metrics`-crate recorder, so
//! `metrics::counter!`, `histogram!` and `gauge!` from any dependency land in the same
//! documents (labels become dimensions); `init()` installs it as the global recorder when
//! none is set.

pub use instrument_emf::Unit;
use instrument_emf::{EmfHandle, EmfLayer, RuntimeCounter, RuntimeValues};

/// The metrics layer of the current subscriber, if it is instrument's.
fn current() -> Option<EmfHandle> {
    tracing::dispatcher::get_default(|dispatch| {
        dispatch.downcast_ref::<EmfLayer>().map(EmfLayer::handle)
    })
}

/// A counter: summed per flush window.
#[derive(Clone, Debug, Default)]
pub struct Counter(RuntimeCounter);

impl Counter {
    /// Adds `n`.
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.add(n);
    }
}

/// A histogram: every value kept (CloudWatch computes the percentiles).
#[derive(Clone, Debug, Default)]
pub struct Histogram(RuntimeValues);

impl Histogram {
    /// Records `value`.
    #[inline]
    pub fn record(&self, value: f64) {
        self.0.record(value);
    }
}

/// A gauge: its last value per flush window.
#[derive(Clone, Debug, Default)]
pub struct Gauge(RuntimeValues);

impl Gauge {
    /// Sets the value.
    #[inline]
    pub fn set(&self, value: f64) {
        self.0.record(value);
    }
}

/// A counter named `name` (unit `Count`, or from the name's suffix: `_ms`, `_bytes`, …).
#[must_use]
pub fn counter(name: &str) -> Counter {
    counter_with(name, &[])
}

/// A counter named `name` with per-call `dimensions` (besides the default ones).
#[must_use]
pub fn counter_with(name: &str, dimensions: &[(&str, &str)]) -> Counter {
    Counter(
        tracing::dispatcher::get_default(|dispatch| {
            dispatch
                .downcast_ref::<EmfLayer>()
                .map(|layer| layer.counter(name, dimensions))
        })
        .unwrap_or_default(),
    )
}

/// A histogram named `name` in `unit`.
#[must_use]
pub fn histogram(name: &str, unit: Unit) -> Histogram {
    histogram_with(name, unit, &[])
}

/// A histogram named `name` in `unit` with per-call `dimensions`.
#[must_use]
pub fn histogram_with(name: &str, unit: Unit, dimensions: &[(&str, &str)]) -> Histogram {
    Histogram(
        current()
            .map(|h| h.histogram(name, unit, dimensions))
            .unwrap_or_default(),
    )
}

/// A gauge named `name` in `unit`.
#[must_use]
pub fn gauge(name: &str, unit: Unit) -> Gauge {
    gauge_with(name, unit, &[])
}

/// A gauge named `name` in `unit` with per-call `dimensions`.
#[must_use]
pub fn gauge_with(name: &str, unit: Unit, dimensions: &[(&str, &str)]) -> Gauge {
    Gauge(
        current()
            .map(|h| h.gauge(name, unit, dimensions))
            .unwrap_or_default(),
    )
}

#[cfg(feature = "metrics")]
pub use recorder::Recorder;

#[cfg(feature = "metrics")]
mod recorder {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex, RwLock};

    use instrument_emf::{EmfHandle, RuntimeCounter, RuntimeValues, Unit};
    use metrics::{
        CounterFn, GaugeFn, HistogramFn, Key, KeyName, Metadata, SharedString, Unit as MUnit,
    };

    /// A `metrics`-crate recorder into instrument's metrics layer: `metrics::counter!`,
    /// `histogram!` and `gauge!` (from your code or any dependency) land in the same EMF
    /// documents as everything else, labels as dimensions, units from `describe_*!`.
    ///
    /// ```
    /// let capture = instrument::testing::Capture::new();
    /// let recorder = capture.run(instrument::metrics::Recorder::current).unwrap();
    /// metrics::with_local_recorder(&recorder, || {
    ///     metrics::counter!("cache.hits", "cache" => "sessions").increment(3);
    ///     metrics::histogram!("db.query_ms").record(4.5);
    /// });
    /// assert_eq!(capture.metric_sum("cache.hits"), 3.0);
    /// assert_eq!(capture.metric_values("db.query_ms"), [4.5]);
    /// ```
    #[derive(Clone, Debug)]
    pub struct Recorder {
        handle: EmfHandle,
        units: Arc<Mutex<HashMap<String, Unit>>>,
        /// Handles by key, as `metrics-util`'s registry keeps them: `counter!` registers on
        /// every call, and a gauge's `increment` needs the value the last handle left.
        registry: Arc<Registry>,
    }

    #[derive(Debug, Default)]
    struct Registry {
        counters: RwLock<HashMap<Key, metrics::Counter>>,
        gauges: RwLock<HashMap<Key, metrics::Gauge>>,
        histograms: RwLock<HashMap<Key, metrics::Histogram>>,
    }

    /// The handle of `key` in `map`, made by `make` the first time.
    fn cached<H: Clone>(map: &RwLock<HashMap<Key, H>>, key: &Key, make: impl FnOnce() -> H) -> H {
        if let Some(h) = map.read().unwrap_or_else(|e| e.into_inner()).get(key) {
            return h.clone();
        }
        map.write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.clone())
            .or_insert_with(make)
            .clone()
    }

    impl Recorder {
        /// The recorder of the current subscriber's metrics layer, if it is instrument's.
        #[must_use]
        pub fn current() -> Option<Recorder> {
            super::current().map(|handle| Recorder {
                handle,
                units: Arc::default(),
                registry: Arc::default(),
            })
        }

        fn unit(&self, name: &str, default: Unit) -> Unit {
            let units = self.units.lock().unwrap_or_else(|e| e.into_inner());
            units.get(name).copied().unwrap_or(default)
        }

        fn describe(&self, key: &KeyName, unit: Option<MUnit>) {
            if let Some(unit) = unit.and_then(emf_unit) {
                let mut units = self.units.lock().unwrap_or_else(|e| e.into_inner());
                units.insert(key.as_str().to_string(), unit);
            }
        }
    }

    fn labels(key: &Key) -> Vec<(&str, &str)> {
        key.labels().map(|l| (l.key(), l.value())).collect()
    }

    /// The EMF unit of a `metrics` unit.
    fn emf_unit(unit: MUnit) -> Option<Unit> {
        Unit::parse(match unit {
            MUnit::Count => "Count",
            MUnit::Percent => "Percent",
            MUnit::Seconds => "Seconds",
            MUnit::Milliseconds => "Milliseconds",
            MUnit::Microseconds => "Microseconds",
            MUnit::Nanoseconds => return None,
            MUnit::Tebibytes => "Terabytes",
            MUnit::Gibibytes => "Gigabytes",
            MUnit::Mebibytes => "Megabytes",
            MUnit::Kibibytes => "Kilobytes",
            MUnit::Bytes => "Bytes",
            MUnit::TerabitsPerSecond => "Terabits/Second",
            MUnit::GigabitsPerSecond => "Gigabits/Second",
            MUnit::MegabitsPerSecond => "Megabits/Second",
            MUnit::KilobitsPerSecond => "Kilobits/Second",
            MUnit::BitsPerSecond => "Bits/Second",
            MUnit::CountPerSecond => "Count/Second",
        })
    }

    impl metrics::Recorder for Recorder {
        fn describe_counter(&self, key: KeyName, unit: Option<MUnit>, _: SharedString) {
            self.describe(&key, unit);
        }

        fn describe_gauge(&self, key: KeyName, unit: Option<MUnit>, _: SharedString) {
            self.describe(&key, unit);
        }

        fn describe_histogram(&self, key: KeyName, unit: Option<MUnit>, _: SharedString) {
            self.describe(&key, unit);
        }

        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> metrics::Counter {
            cached(&self.registry.counters, key, || {
                let counter = self.handle.counter(key.name(), &labels(key));
                metrics::Counter::from_arc(Arc::new(CounterCell(counter)))
            })
        }

        fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> metrics::Gauge {
            cached(&self.registry.gauges, key, || {
                let unit = self.unit(key.name(), Unit::None);
                let values = self.handle.gauge(key.name(), unit, &labels(key));
                metrics::Gauge::from_arc(Arc::new(GaugeCell {
                    values,
                    value: AtomicU64::new(0f64.to_bits()),
                }))
            })
        }

        fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> metrics::Histogram {
            cached(&self.registry.histograms, key, || {
                let name = key.name();
                let unit = self.unit(name, Unit::from_name_suffix(name).unwrap_or(Unit::None));
                let values = self.handle.histogram(name, unit, &labels(key));
                metrics::Histogram::from_arc(Arc::new(HistogramCell(values)))
            })
        }
    }

    struct CounterCell(RuntimeCounter);

    impl CounterFn for CounterCell {
        fn increment(&self, value: u64) {
            self.0.add(value);
        }

        fn absolute(&self, _value: u64) {
            // A counter set to an absolute total has no sum per window: not published.
        }
    }

    struct HistogramCell(RuntimeValues);

    impl HistogramFn for HistogramCell {
        fn record(&self, value: f64) {
            self.0.record(value);
        }
    }

    /// A gauge's current value (for `increment`/`decrement`), published as its last value.
    struct GaugeCell {
        values: RuntimeValues,
        value: AtomicU64,
    }

    impl GaugeCell {
        fn update(&self, f: impl Fn(f64) -> f64) {
            let mut now = self.value.load(Ordering::Relaxed);
            loop {
                let next = f(f64::from_bits(now)).to_bits();
                match self.value.compare_exchange_weak(
                    now,
                    next,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        self.values.record(f64::from_bits(next));
                        return;
                    }
                    Err(actual) => now = actual,
                }
            }
        }
    }

    impl GaugeFn for GaugeCell {
        fn increment(&self, value: f64) {
            self.update(|v| v + value);
        }

        fn decrement(&self, value: f64) {
            self.update(|v| v - value);
        }

        fn set(&self, value: f64) {
            self.update(|_| value);
        }
    }
}
