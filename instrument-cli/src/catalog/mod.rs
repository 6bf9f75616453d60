//! What a service publishes, read from its sources without running it: every
//! `#[track_performance]` function (with the macro's own option parser and naming rules, from
//! `instrument-attr`), the `counter.`/`histogram.`/`gauge.` fields of events and spans, the HTTP
//! layer's metrics, Lambda's `ColdStart`, the objectives, and the settings the code passes to
//! `instrument::builder()`.
//!
//! ```
//! use instrument_cli::catalog::{Catalog, When};
//!
//! let source = r#"
//!     instrument::objectives!(success = 99.9);
//!
//!     #[instrument::track_performance(dimensions(operation = "reserve"))]
//!     fn reserve(seats: u32) -> Result<u32, SoldOut> {
//!         tracing::info!(counter.seats_reserved = seats, "held");
//!         Ok(seats)
//!     }
//! "#;
//! let catalog = Catalog::from_sources(&[("src/lib.rs".into(), source.into())]).unwrap();
//! let metrics = catalog.metrics();
//! let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
//! assert_eq!(names, ["reserve.success", "reserve.error", "reserve.latency", "seats_reserved"]);
//! assert_eq!(catalog.functions[0].dimensions, [("operation".to_string(), "reserve".to_string())]);
//! assert_eq!(catalog.functions[0].objective(&catalog).unwrap().success, Some(99.9));
//! assert_eq!(metrics[1].when, When::Failure);
//! ```

mod compare;
mod scan;
mod text;

use std::path::{Path, PathBuf};

use instrument_vocab::metric::{self, tracked};
use serde::Serialize;

pub use compare::{captured_in_files, captured_metrics, Captured, Comparison};

/// Where something is written in the sources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file, as given to the scanner.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// An objective's values (see `instrument_attr::Objective`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Slo {
    /// Percent of calls that succeed.
    pub success: Option<f64>,
    /// Milliseconds the latency percentile stays under.
    pub latency_ms: Option<f64>,
    /// The latency percentile, when given (see [`Slo::percentile`]).
    pub percentile: Option<f64>,
}

impl Slo {
    fn from_attr(objective: &instrument_attr::Objective) -> Slo {
        Slo {
            success: objective.success,
            latency_ms: objective.latency_ms,
            percentile: objective.percentile,
        }
    }

    /// The latency percentile: as given, else 99.
    #[must_use]
    pub fn percentile(&self) -> f64 {
        self.percentile
            .unwrap_or(instrument_attr::DEFAULT_PERCENTILE)
    }

    /// `self`'s keys over `defaults`' (a function's over the service's), key by key.
    #[must_use]
    pub fn over(self, defaults: Slo) -> Slo {
        Slo {
            success: self.success.or(defaults.success),
            latency_ms: self.latency_ms.or(defaults.latency_ms),
            percentile: self.percentile.or(defaults.percentile),
        }
    }
}

/// A tracked function.
#[derive(Debug, Clone, Serialize)]
pub struct TrackedFunction {
    /// The metric base name, as the runtime publishes it (`Inventory::reserve`).
    pub name: String,
    /// Where the function is.
    pub location: Location,
    /// `dimensions(k = "v")`, the impl block's merged with the function's.
    pub dimensions: Vec<(String, String)>,
    /// The function's own (or its impl block's) objective, without the service's defaults.
    pub own_objective: Option<Slo>,
    /// Whether the return type can hold an error (`Result` or an alias named `…Result`): else
    /// `.error` is published only when a call panics.
    pub returns_errors: bool,
    /// Whether a call is a future that can be dropped unfinished (`.cancelled`).
    pub cancellable: bool,
    /// A name the sources cannot resolve (a trait's default method: one per implementing type).
    pub note: Option<String>,
}

impl TrackedFunction {
    /// The objective in force: the function's keys over the service's `objectives!`.
    #[must_use]
    pub fn objective(&self, catalog: &Catalog) -> Option<Slo> {
        match (self.own_objective, catalog.objective) {
            (None, None) => None,
            (Some(own), Some(defaults)) => Some(own.over(defaults)),
            (Some(slo), None) | (None, Some(slo)) => Some(slo),
        }
    }
}

/// What a metric measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Summed per period.
    Counter,
    /// Every value kept (percentiles).
    Histogram,
    /// The last value.
    Gauge,
}

/// When a metric gets a value: what a capture that lacks it says about the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// Every completed call or request.
    EveryCall,
    /// A call that succeeded.
    Success,
    /// A call that returned an error or panicked.
    Failure,
    /// Only a panicking call (the return type holds no error).
    Panic,
    /// An async call dropped before it completed.
    Cancelled,
    /// A request answered with a 4xx status.
    ClientError,
    /// A request answered with a 5xx status (or none).
    ServerError,
    /// A cold Lambda invocation.
    ColdStart,
    /// The event or span that carries the field.
    Event,
}

impl When {
    /// Whether a run that did not go this way (no failure, panic, cancellation, cold start, …)
    /// explains the metric's absence from a capture.
    #[must_use]
    pub fn is_conditional(self) -> bool {
        !matches!(self, When::EveryCall | When::Success | When::Event)
    }

    /// A few words for people.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            When::EveryCall => "every call",
            When::Success => "each success",
            When::Failure => "each error or panic",
            When::Panic => "each panic",
            When::Cancelled => "each cancelled call",
            When::ClientError => "each 4xx response",
            When::ServerError => "each 5xx response",
            When::ColdStart => "each cold start",
            When::Event => "each event with the field",
        }
    }
}

/// Who publishes a metric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A tracked function (by base name).
    Function(String),
    /// A metric field of an event or span.
    Field(Location),
    /// The HTTP layer (`instrument::http::RequestLayer`).
    Http,
    /// The Lambda integration.
    Lambda,
}

/// One metric the service publishes, as CloudWatch will list it.
#[derive(Debug, Clone, Serialize)]
pub struct Metric {
    /// The metric name.
    pub name: String,
    /// The EMF unit (`Count`, `Milliseconds`, `None`, …).
    pub unit: String,
    /// How values combine.
    pub kind: Kind,
    /// The dimension sets beyond the service's default dimensions (`service`, `environment`):
    /// one entry per set published; with [`exact_dimensions`](Self::exact_dimensions), the
    /// whole sets.
    pub dimension_sets: Vec<Vec<String>>,
    /// Whether `dimension_sets` are the whole sets, not sets beyond the default dimensions
    /// (`ColdStart`: `function_name` and `service`, as Powertools publishes it).
    pub exact_dimensions: bool,
    /// When it gets a value.
    pub when: When,
    /// Who publishes it.
    pub origin: Origin,
}

/// A metric field of an event or span (`counter.seats_reserved = n`).
#[derive(Debug, Clone, Serialize)]
pub struct FieldMetric {
    /// The metric name (`seats_reserved`).
    pub name: String,
    /// Counter, histogram or gauge.
    pub kind: Kind,
    /// `unit.<name> = "…"` in the same event, else the name's suffix, else the kind's default.
    pub unit: String,
    /// `dimension.<k>` fields of the same event, and the enclosing tracked function's
    /// `dimensions(...)`.
    pub dimensions: Vec<String>,
    /// Where it is written.
    pub location: Location,
}

/// A setting the code passes to `instrument::builder()` as a literal.
#[derive(Debug, Clone, Serialize)]
pub struct CodeSetting {
    /// The value.
    pub value: String,
    /// Where.
    pub location: Location,
}

/// What the sources say about the service's settings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CodeSettings {
    /// `.namespace("…")`.
    pub namespace: Option<CodeSetting>,
    /// `.service("…")`.
    pub service: Option<CodeSetting>,
    /// `.environment("…")`.
    pub environment: Option<CodeSetting>,
    /// `.environment_var("…")`: the environment comes from that variable at run time.
    pub environment_var: Option<CodeSetting>,
}

/// Everything a service publishes, from its sources.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Catalog {
    /// The files read.
    pub files: Vec<PathBuf>,
    /// The tracked functions, in source order.
    pub functions: Vec<TrackedFunction>,
    /// The metric fields of events and spans, in source order.
    pub fields: Vec<FieldMetric>,
    /// Whether the HTTP layer is used.
    pub http: bool,
    /// Whether Lambda invocations are handled (the Lambda integration, `lambda_runtime`, or its
    /// invocation span).
    pub lambda: bool,
    /// `instrument::objectives!(...)`: the service's default objective.
    pub objective: Option<Slo>,
    /// The builder's literal settings.
    pub settings: CodeSettings,
}

/// Why a catalog could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A source file does not parse, or an attribute's options are invalid.
    #[error("{location}: {message}")]
    Source {
        /// Where.
        location: Location,
        /// What rustc (or the macro) would say.
        message: String,
    },
    /// No Rust source was found.
    #[error("no .rs file under {0} (give a crate directory or .rs files)")]
    Empty(PathBuf),
}

impl Catalog {
    /// Reads the catalog of the crates or files at `paths`: a directory with a `Cargo.toml`
    /// contributes its `src/`, another directory every `.rs` file below it (`target/` and
    /// hidden directories excluded), a file itself.
    ///
    /// # Errors
    ///
    /// An unreadable path, a file that does not parse (with file and line), invalid attribute
    /// options, or no `.rs` file at all.
    pub fn scan(paths: &[PathBuf]) -> Result<Catalog, CatalogError> {
        let mut files = Vec::new();
        for path in paths {
            let before = files.len();
            collect(path, &mut files)?;
            if files.len() == before {
                return Err(CatalogError::Empty(path.clone()));
            }
        }
        let mut sources = Vec::with_capacity(files.len());
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|source| CatalogError::Io {
                path: file.clone(),
                source,
            })?;
            sources.push((file, text));
        }
        Catalog::from_sources(&sources)
    }

    /// The catalog of sources given as (file name, text).
    ///
    /// # Errors
    ///
    /// As [`Catalog::scan`].
    pub fn from_sources(sources: &[(PathBuf, String)]) -> Result<Catalog, CatalogError> {
        let mut catalog = Catalog::default();
        for (file, text) in sources {
            scan::scan_file(file, text, &mut catalog)?;
            catalog.files.push(file.clone());
        }
        Ok(catalog)
    }

    /// Every metric the service publishes: per tracked function `.success`, `.error`,
    /// `.latency` (and `.cancelled` for async ones), the metric fields (each name once), the
    /// HTTP layer's and `ColdStart`. Functions whose name only the run time knows (a trait's
    /// default method, a blanket impl) are listed in [`Catalog::functions`] with a note, not
    /// here.
    #[must_use]
    pub fn metrics(&self) -> Vec<Metric> {
        let mut out: Vec<Metric> = Vec::new();
        // A name only the run time knows (see `TrackedFunction::note`) is not promised.
        for f in self.functions.iter().filter(|f| f.note.is_none()) {
            let dims: Vec<String> = f.dimensions.iter().map(|(k, _)| k.clone()).collect();
            let with_error_type = {
                let mut d = dims.clone();
                d.push(instrument_vocab::field::ERROR_TYPE.to_owned());
                d
            };
            let origin = Origin::Function(f.name.clone());
            let mut push = |suffix: &str, unit: &str, kind, sets: Vec<Vec<String>>, when| {
                out.push(Metric {
                    name: tracked::name(&f.name, suffix),
                    unit: unit.to_owned(),
                    kind,
                    dimension_sets: sets,
                    exact_dimensions: false,
                    when,
                    origin: origin.clone(),
                });
            };
            push(
                tracked::SUCCESS,
                "Count",
                Kind::Counter,
                vec![dims.clone()],
                When::Success,
            );
            let failure = if f.returns_errors {
                When::Failure
            } else {
                When::Panic
            };
            push(
                tracked::ERROR,
                "Count",
                Kind::Counter,
                vec![with_error_type, dims.clone()],
                failure,
            );
            push(
                tracked::LATENCY,
                "Milliseconds",
                Kind::Histogram,
                vec![dims.clone()],
                When::EveryCall,
            );
            if f.cancellable {
                push(
                    tracked::CANCELLED,
                    "Count",
                    Kind::Counter,
                    vec![dims],
                    When::Cancelled,
                );
            }
        }
        for field in &self.fields {
            if let Some(existing) = out.iter_mut().find(|m| m.name == field.name) {
                if !existing.dimension_sets.contains(&field.dimensions) {
                    existing.dimension_sets.push(field.dimensions.clone());
                }
                continue;
            }
            out.push(Metric {
                name: field.name.clone(),
                unit: field.unit.clone(),
                kind: field.kind,
                dimension_sets: vec![field.dimensions.clone()],
                exact_dimensions: false,
                when: When::Event,
                origin: Origin::Field(field.location.clone()),
            });
        }
        if self.http {
            let dims = vec![vec![
                metric::http::ROUTE.to_owned(),
                metric::http::METHOD.to_owned(),
            ]];
            for (name, unit, kind, when) in [
                (metric::http::SUCCESS, "Count", Kind::Counter, When::Success),
                (
                    metric::http::CLIENT_ERROR,
                    "Count",
                    Kind::Counter,
                    When::ClientError,
                ),
                (
                    metric::http::SERVER_ERROR,
                    "Count",
                    Kind::Counter,
                    When::ServerError,
                ),
                (
                    metric::http::LATENCY,
                    "Milliseconds",
                    Kind::Histogram,
                    When::EveryCall,
                ),
            ] {
                out.push(Metric {
                    name: name.to_owned(),
                    unit: unit.to_owned(),
                    kind,
                    dimension_sets: dims.clone(),
                    exact_dimensions: false,
                    when,
                    origin: Origin::Http,
                });
            }
        }
        // The runtime's default rollup (`INSTRUMENT_ROLLUPS=[]`): every metric is also
        // published under the default dimensions alone.
        for m in out.iter_mut().filter(|m| !m.exact_dimensions) {
            if !m.dimension_sets.iter().any(Vec::is_empty) {
                m.dimension_sets.push(Vec::new());
            }
        }
        if self.lambda {
            out.push(Metric {
                name: metric::COLD_START.to_owned(),
                unit: "Count".to_owned(),
                kind: Kind::Counter,
                // Powertools' `[function_name, service]` (`INSTRUMENT_COLD_START_DIMENSIONS`),
                // `function_name` only where AWS_LAMBDA_FUNCTION_NAME is set (in Lambda).
                dimension_sets: vec![
                    vec![
                        metric::FUNCTION_NAME_DIMENSION.to_owned(),
                        metric::SERVICE_DIMENSION.to_owned(),
                    ],
                    vec![metric::SERVICE_DIMENSION.to_owned()],
                ],
                exact_dimensions: true,
                when: When::ColdStart,
                origin: Origin::Lambda,
            });
        }
        out
    }

    /// The catalog as text for people (see `instrument catalog`).
    #[must_use]
    pub fn to_text(&self) -> String {
        text::render(self)
    }
}

/// Every `.rs` file `path` stands for, sorted.
fn collect(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), CatalogError> {
    let io = |source| CatalogError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_file() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let root = if path.join("Cargo.toml").is_file() && path.join("src").is_dir() {
        path.join("src")
    } else {
        path.to_path_buf()
    };
    let mut found = Vec::new();
    walk(&root, &mut found)?;
    found.sort();
    files.extend(found);
    Ok(())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), CatalogError> {
    let entries = std::fs::read_dir(dir).map_err(|source| CatalogError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| CatalogError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                walk(&path, out)?;
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
    Ok(())
}
