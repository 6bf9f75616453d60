//! `--apply` (cargo feature `apply`): creates or updates the [`Plan`]'s dashboards
//! (`PutDashboard`), alarms (`PutMetricAlarm`) and saved queries (`PutQueryDefinition`) with the
//! AWS SDK and its standard configuration chain (environment, profile, SSO, web identity,
//! container and instance credentials; `AWS_ENDPOINT_URL` for another endpoint).
//!
//! Idempotent: dashboards and alarms are replaced by name, and a saved query whose name
//! already exists is updated in place (its id from `DescribeQueryDefinitions`), never
//! duplicated.

use std::io::Write;

use aws_config::BehaviorVersion;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, Metric, MetricDataQuery, MetricStat,
};
use serde_json::Value;

use crate::generate::{Alarm, AlarmTarget, MetricRef, Plan};

/// What `--apply` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Dashboards put.
    pub dashboards: usize,
    /// Alarms put.
    pub alarms: usize,
    /// Saved queries created.
    pub queries_created: usize,
    /// Saved queries updated in place.
    pub queries_updated: usize,
}

/// Why `--apply` failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The standard chain found no credentials.
    #[error(
        "no AWS credentials: the standard chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, \
         AWS_PROFILE and ~/.aws, SSO, web identity, container or instance credentials) found \
         none{0}; set one of them, e.g. AWS_PROFILE, or run `aws sso login`"
    )]
    NoCredentials(String),
    /// A request failed.
    #[error("{operation} {name}: {message}")]
    Request {
        /// The API operation.
        operation: &'static str,
        /// The resource's name.
        name: String,
        /// The error, with the service's message.
        message: String,
    },
    /// The runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// Applies `plan` in `region`, writing one progress line per request to `progress`.
///
/// # Errors
///
/// No credentials, or the first failed request (later ones are not sent).
pub fn apply(plan: &Plan, region: &str, progress: &mut dyn Write) -> Result<Applied, ApplyError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(apply_async(plan, region, progress))
}

fn failed(operation: &'static str, name: &str, err: impl std::fmt::Display) -> ApplyError {
    ApplyError::Request {
        operation,
        name: name.to_owned(),
        message: err.to_string(),
    }
}

/// The SDK's error with the service's own message (`DisplayErrorContext` walks the sources).
fn sdk_error(err: impl std::error::Error) -> String {
    aws_sdk_cloudwatch::error::DisplayErrorContext(err).to_string()
}

async fn apply_async(
    plan: &Plan,
    region: &str,
    progress: &mut dyn Write,
) -> Result<Applied, ApplyError> {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .load()
        .await;
    {
        use aws_sdk_cloudwatch::config::ProvideCredentials as _;
        let provider = config
            .credentials_provider()
            .ok_or_else(|| ApplyError::NoCredentials(String::new()))?;
        provider
            .provide_credentials()
            .await
            .map_err(|e| ApplyError::NoCredentials(credentials_error(&e)))?;
    }
    let _ = writeln!(
        progress,
        "applying to CloudWatch in {region}: {} dashboard(s), {} alarm(s), {} saved query(ies)",
        plan.dashboards.len(),
        plan.alarms.len(),
        plan.queries.len()
    );
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let mut applied = Applied::default();
    let total = plan.dashboards.len() + plan.alarms.len() + plan.queries.len();
    let mut step = 0;
    let mut report = |progress: &mut dyn Write, what: String| {
        step += 1;
        let _ = writeln!(progress, "[{step}/{total}] {what}");
    };

    for d in &plan.dashboards {
        let out = cloudwatch
            .put_dashboard()
            .dashboard_name(&d.name)
            .dashboard_body(d.body.to_string())
            .send()
            .await
            .map_err(|e| failed("PutDashboard", &d.name, sdk_error(e)))?;
        let problems: Vec<String> = out
            .dashboard_validation_messages()
            .iter()
            .map(|m| {
                format!(
                    "{} {}",
                    m.data_path().unwrap_or(""),
                    m.message().unwrap_or("")
                )
            })
            .collect();
        if !problems.is_empty() {
            return Err(failed("PutDashboard", &d.name, problems.join("; ")));
        }
        applied.dashboards += 1;
        report(progress, format!("PutDashboard {} ok", d.name));
    }

    for a in &plan.alarms {
        put_alarm(&cloudwatch, a, plan.alarm_topic.as_deref()).await?;
        applied.alarms += 1;
        report(progress, format!("PutMetricAlarm {} ok", a.name));
    }

    for q in &plan.queries {
        let existing = logs
            .describe_query_definitions()
            .query_definition_name_prefix(&q.name)
            .max_results(1000)
            .send()
            .await
            .map_err(|e| failed("DescribeQueryDefinitions", &q.name, sdk_error(e)))?;
        let id = existing
            .query_definitions()
            .iter()
            .find(|d| d.name() == Some(q.name.as_str()))
            .and_then(|d| d.query_definition_id().map(str::to_owned));
        let updating = id.is_some();
        logs.put_query_definition()
            .name(&q.name)
            .query_string(&q.query)
            .set_log_group_names((!q.log_groups.is_empty()).then(|| q.log_groups.clone()))
            .set_query_definition_id(id)
            .send()
            .await
            .map_err(|e| failed("PutQueryDefinition", &q.name, sdk_error(e)))?;
        if updating {
            applied.queries_updated += 1;
        } else {
            applied.queries_created += 1;
        }
        let verb = if updating { "updated" } else { "created" };
        report(progress, format!("PutQueryDefinition {} {verb}", q.name));
    }
    Ok(applied)
}

/// Why the chain found nothing, in one line: "not loaded" is the normal case (no source was
/// configured) and says nothing more; another error (an expired SSO token, a bad profile) does.
fn credentials_error(err: &aws_credential_types::provider::error::CredentialsError) -> String {
    use aws_credential_types::provider::error::CredentialsError;
    match err {
        CredentialsError::CredentialsNotLoaded(_) => String::new(),
        other => format!(" ({})", sdk_error(other).lines().next().unwrap_or_default()),
    }
}

fn metric(m: &MetricRef) -> Result<Metric, String> {
    let dimensions = m
        .dimensions
        .iter()
        .map(|(k, v)| Dimension::builder().name(k).value(v).build())
        .collect();
    Ok(Metric::builder()
        .namespace(&m.namespace)
        .metric_name(&m.name)
        .set_dimensions(Some(dimensions))
        .build())
}

async fn put_alarm(
    client: &aws_sdk_cloudwatch::Client,
    alarm: &Alarm,
    topic: Option<&str>,
) -> Result<(), ApplyError> {
    let fail = |e: String| failed("PutMetricAlarm", &alarm.name, e);
    let actions: Vec<String> = topic.iter().map(|t| (*t).to_owned()).collect();
    let mut request = client
        .put_metric_alarm()
        .alarm_name(&alarm.name)
        .alarm_description(&alarm.description)
        .comparison_operator(ComparisonOperator::from(alarm.comparison))
        .threshold(alarm.threshold)
        .evaluation_periods(to_i32(alarm.evaluation_periods))
        .datapoints_to_alarm(to_i32(alarm.datapoints_to_alarm))
        .treat_missing_data(alarm.treat_missing_data)
        .actions_enabled(true)
        .set_alarm_actions(Some(actions.clone()))
        .set_ok_actions(Some(actions));
    match &alarm.target {
        AlarmTarget::Metric {
            metric: m,
            period,
            statistic,
        } => {
            let m = metric(m).map_err(fail)?;
            request = request
                .namespace(m.namespace().unwrap_or_default())
                .metric_name(m.metric_name().unwrap_or_default())
                .set_dimensions(Some(m.dimensions().to_vec()))
                .period(to_i32(*period))
                .extended_statistic(statistic);
        }
        AlarmTarget::Math(queries) => {
            for q in queries {
                let stat = match &q.metric {
                    None => None,
                    Some((m, period, stat)) => Some(
                        MetricStat::builder()
                            .metric(metric(m).map_err(fail)?)
                            .period(to_i32(*period))
                            .stat(stat)
                            .build(),
                    ),
                };
                let query = MetricDataQuery::builder()
                    .id(&q.id)
                    .set_expression(q.expression.clone())
                    .set_label(q.label.clone())
                    .set_metric_stat(stat)
                    .return_data(q.return_data)
                    .build();
                request = request.metrics(query);
            }
        }
    }
    request.send().await.map_err(|e| fail(sdk_error(e)))?;
    Ok(())
}

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The alarm as the API would list it: used by tests to compare `DescribeAlarms` with what
/// was generated.
#[must_use]
pub fn expected_alarm(alarm: &Alarm, topic: Option<&str>) -> Value {
    let actions: Vec<Value> = topic
        .iter()
        .map(|t| Value::String((*t).to_owned()))
        .collect();
    alarm.to_api_json(&actions)
}
