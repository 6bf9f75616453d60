//! Dashboards, alarms and saved Logs Insights queries generated from a [`Catalog`] and the
//! [`ServiceSettings`], as the CloudWatch API takes them ([`Plan`]); rendered as
//! CloudFormation ([`cloudformation`]), Terraform JSON ([`terraform`]) or the raw API payloads
//! ([`Plan::to_api_json`]).
//!
//! ```
//! use instrument_cli::catalog::Catalog;
//! use instrument_cli::generate::{plan, Parts};
//! use instrument_cli::settings::{Overrides, ServiceSettings};
//!
//! let code = r#"
//!     #[instrument::track_performance(objective(success = 99.9, latency_ms = 250))]
//!     fn pay(order: u64) -> Result<(), Declined> { Ok(()) }
//! "#;
//! let catalog = Catalog::from_sources(&[("src/lib.rs".into(), code.into())]).unwrap();
//! let overrides = Overrides {
//!     namespace: Some("Ticketing".into()),
//!     service: Some("booking".into()),
//!     environments: vec!["dev,prod".into()],
//!     region: Some("eu-west-1".into()),
//!     ..Overrides::default()
//! };
//! let settings = ServiceSettings::resolve(&catalog, &overrides, |_| None).unwrap();
//! let plan = plan(&catalog, &settings, Parts::ALL).unwrap();
//! assert_eq!(plan.dashboards.len(), 1);
//! // Per environment: the error rate over 0.1 % and the p99 latency over 250 ms.
//! let names: Vec<&str> = plan.alarms.iter().map(|a| a.name.as_str()).collect();
//! assert_eq!(names, ["booking-dev-pay-error-rate", "booking-dev-pay-latency-p99",
//!                    "booking-prod-pay-error-rate", "booking-prod-pay-latency-p99"]);
//! assert!((plan.alarms[0].threshold - 0.1).abs() < 1e-9);
//! ```

mod alarms;
pub mod cloudformation;
mod dashboard;
pub mod evaluate;
mod queries;
pub mod terraform;
mod yaml;

use serde_json::{json, Value};

use crate::catalog::Catalog;
use crate::settings::ServiceSettings;

pub use yaml::to_yaml;

/// Which kinds of resources to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    /// The dashboard.
    pub dashboard: bool,
    /// The alarms.
    pub alarms: bool,
    /// The saved queries.
    pub queries: bool,
}

impl Parts {
    /// Everything.
    pub const ALL: Parts = Parts {
        dashboard: true,
        alarms: true,
        queries: true,
    };
}

/// A metric as CloudWatch names it.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRef {
    /// The namespace.
    pub namespace: String,
    /// The metric name.
    pub name: String,
    /// Dimension names and values, exactly the published set.
    pub dimensions: Vec<(String, String)>,
}

impl MetricRef {
    fn api_json(&self) -> Value {
        json!({
            "Namespace": self.namespace,
            "MetricName": self.name,
            "Dimensions": self.dimensions.iter()
                .map(|(k, v)| json!({"Name": k, "Value": v}))
                .collect::<Vec<_>>(),
        })
    }
}

/// One query of a metric-math alarm: a metric's statistic, or an expression over other ids.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricQuery {
    /// The id expressions refer to.
    pub id: String,
    /// A metric math expression.
    pub expression: Option<String>,
    /// A metric, its period (seconds) and statistic.
    pub metric: Option<(MetricRef, u32, String)>,
    /// The label.
    pub label: Option<String>,
    /// Whether this is the alarm's series (exactly one per alarm).
    pub return_data: bool,
}

/// What an alarm watches.
#[derive(Debug, Clone, PartialEq)]
pub enum AlarmTarget {
    /// One metric's statistic (`p99`, `Sum`, …) per period.
    Metric {
        /// The metric.
        metric: MetricRef,
        /// Seconds.
        period: u32,
        /// An extended statistic (`p99`).
        statistic: String,
    },
    /// Metric math.
    Math(Vec<MetricQuery>),
}

/// A `PutMetricAlarm` request.
#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    /// The alarm's name.
    pub name: String,
    /// What it means and what to do.
    pub description: String,
    /// `GreaterThanThreshold`.
    pub comparison: &'static str,
    /// The threshold.
    pub threshold: f64,
    /// The periods evaluated.
    pub evaluation_periods: u32,
    /// How many of them must breach.
    pub datapoints_to_alarm: u32,
    /// `notBreaching`: a period without calls is not an outage.
    pub treat_missing_data: &'static str,
    /// The metric or the math.
    pub target: AlarmTarget,
}

impl Alarm {
    /// The `PutMetricAlarm` request as JSON (the API's member names), with `actions` as the
    /// alarm and OK actions.
    #[must_use]
    pub fn to_api_json(&self, actions: &[Value]) -> Value {
        let mut v = json!({
            "AlarmName": self.name,
            "AlarmDescription": self.description,
            "ComparisonOperator": self.comparison,
            "Threshold": self.threshold,
            "EvaluationPeriods": self.evaluation_periods,
            "DatapointsToAlarm": self.datapoints_to_alarm,
            "TreatMissingData": self.treat_missing_data,
            "ActionsEnabled": true,
            "AlarmActions": actions,
            "OKActions": actions,
        });
        let obj = v.as_object_mut().expect("an object");
        match &self.target {
            AlarmTarget::Metric {
                metric,
                period,
                statistic,
            } => {
                let m = metric.api_json();
                obj.insert("Namespace".into(), m["Namespace"].clone());
                obj.insert("MetricName".into(), m["MetricName"].clone());
                obj.insert("Dimensions".into(), m["Dimensions"].clone());
                obj.insert("Period".into(), json!(period));
                obj.insert("ExtendedStatistic".into(), json!(statistic));
            }
            AlarmTarget::Math(queries) => {
                let queries: Vec<Value> = queries
                    .iter()
                    .map(|q| {
                        let mut v = json!({"Id": q.id, "ReturnData": q.return_data});
                        let o = v.as_object_mut().expect("an object");
                        if let Some(e) = &q.expression {
                            o.insert("Expression".into(), json!(e));
                        }
                        if let Some(l) = &q.label {
                            o.insert("Label".into(), json!(l));
                        }
                        if let Some((metric, period, stat)) = &q.metric {
                            o.insert(
                                "MetricStat".into(),
                                json!({"Metric": metric.api_json(), "Period": period, "Stat": stat}),
                            );
                        }
                        v
                    })
                    .collect();
                obj.insert("Metrics".into(), Value::Array(queries));
            }
        }
        v
    }
}

/// A dashboard: `PutDashboard`'s name and body.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    /// The dashboard's name.
    pub name: String,
    /// The body (serialized to a string for the API).
    pub body: Value,
}

/// A saved Logs Insights query: `PutQueryDefinition`'s name, text and log groups.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryDefinition {
    /// The name (`/` makes folders in the console).
    pub name: String,
    /// The query text.
    pub query: String,
    /// The log groups it runs on by default.
    pub log_groups: Vec<String>,
}

/// Everything generated, as the CloudWatch API takes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// The dashboards (one).
    pub dashboards: Vec<Dashboard>,
    /// The alarms: per objective and environment.
    pub alarms: Vec<Alarm>,
    /// The saved queries.
    pub queries: Vec<QueryDefinition>,
    /// The SNS topic alarms notify.
    pub alarm_topic: Option<String>,
}

/// Why nothing could be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    /// Alarms were asked for, and no tracked function has an objective.
    #[error(
        "no objectives: no tracked function has objective(...) and the crate has no \
         instrument::objectives!(...), so there is nothing to alarm on (e.g. \
         #[track_performance(objective(success = 99.9, latency_ms = 250))])"
    )]
    NoObjectives,
    /// Nothing to put on a dashboard.
    #[error("the catalog is empty: no tracked function, metric field, HTTP layer or Lambda")]
    EmptyCatalog,
}

/// Generates the parts asked for.
///
/// # Errors
///
/// See [`GenerateError`].
pub fn plan(
    catalog: &Catalog,
    settings: &ServiceSettings,
    parts: Parts,
) -> Result<Plan, GenerateError> {
    let mut plan = Plan {
        alarm_topic: settings.alarm_topic.clone(),
        ..Plan::default()
    };
    if parts.dashboard {
        if catalog.metrics().is_empty() {
            return Err(GenerateError::EmptyCatalog);
        }
        plan.dashboards
            .push(dashboard::dashboard(catalog, settings));
    }
    if parts.alarms {
        plan.alarms = alarms::alarms(catalog, settings);
        if plan.alarms.is_empty() {
            return Err(GenerateError::NoObjectives);
        }
    }
    if parts.queries {
        plan.queries = queries::queries(settings);
    }
    Ok(plan)
}

impl Plan {
    /// The raw API payloads: `{"PutDashboard": [...], "PutMetricAlarm": [...],
    /// "PutQueryDefinition": [...]}`, each entry one request's input.
    #[must_use]
    pub fn to_api_json(&self) -> Value {
        let actions: Vec<Value> = self.alarm_topic.iter().map(|t| json!(t)).collect();
        json!({
            "PutDashboard": self.dashboards.iter().map(|d| json!({
                "DashboardName": d.name,
                "DashboardBody": d.body.to_string(),
            })).collect::<Vec<_>>(),
            "PutMetricAlarm": self.alarms.iter().map(|a| a.to_api_json(&actions)).collect::<Vec<_>>(),
            "PutQueryDefinition": self.queries.iter().map(|q| json!({
                "name": q.name,
                "queryString": q.query,
                "logGroupNames": q.log_groups,
            })).collect::<Vec<_>>(),
        })
    }
}

/// A CloudWatch-safe piece of a name: `Inventory::reserve` → `Inventory-reserve`.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// `99.0` → `"99"`, `99.9` → `"99.9"`.
pub(crate) fn number(n: f64) -> String {
    let text = format!("{n}");
    text.strip_suffix(".0").map_or(text.clone(), str::to_owned)
}

/// `base`, or `base` + `sep` + 2, 3, … : the first key `map` does not hold yet.
pub(crate) fn unique_key(map: &serde_json::Map<String, Value>, base: &str, sep: &str) -> String {
    let mut key = base.to_owned();
    let mut n = 2;
    while map.contains_key(&key) {
        key = format!("{base}{sep}{n}");
        n += 1;
    }
    key
}
