//! Terraform JSON (`*.tf.json`) of a [`Plan`]: `aws_cloudwatch_dashboard`,
//! `aws_cloudwatch_metric_alarm` and `aws_cloudwatch_query_definition` resources of the AWS
//! provider, with the SNS topics as the variable `alarm_topic_arns`.

use serde_json::{json, Map, Value};

use super::{unique_key, AlarmTarget, Plan};

/// The configuration, as JSON.
///
/// ```
/// # use instrument_cli::generate::{terraform, Dashboard, Plan};
/// let plan = Plan { dashboards: vec![Dashboard { name: "booking".into(), body: serde_json::json!({"widgets": []}) }], ..Plan::default() };
/// let config = terraform::configuration(&plan);
/// assert_eq!(config["resource"]["aws_cloudwatch_dashboard"]["booking"]["dashboard_name"], "booking");
/// ```
#[must_use]
pub fn configuration(plan: &Plan) -> Value {
    let mut dashboards = Map::new();
    let mut alarms = Map::new();
    let mut queries = Map::new();
    for d in &plan.dashboards {
        insert(
            &mut dashboards,
            &d.name,
            json!({"dashboard_name": d.name, "dashboard_body": d.body.to_string()}),
        );
    }
    for a in &plan.alarms {
        let mut r = json!({
            "alarm_name": a.name,
            "alarm_description": a.description,
            "comparison_operator": a.comparison,
            "threshold": a.threshold,
            "evaluation_periods": a.evaluation_periods,
            "datapoints_to_alarm": a.datapoints_to_alarm,
            "treat_missing_data": a.treat_missing_data,
            "actions_enabled": true,
            "alarm_actions": "${var.alarm_topic_arns}",
            "ok_actions": "${var.alarm_topic_arns}",
        });
        let dims = |d: &[(String, String)]| -> Value {
            Value::Object(d.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
        };
        match &a.target {
            AlarmTarget::Metric {
                metric,
                period,
                statistic,
            } => {
                r["namespace"] = json!(metric.namespace);
                r["metric_name"] = json!(metric.name);
                r["dimensions"] = dims(&metric.dimensions);
                r["period"] = json!(period);
                r["extended_statistic"] = json!(statistic);
            }
            AlarmTarget::Math(queries) => {
                r["metric_query"] = queries
                    .iter()
                    .map(|q| {
                        let mut b = json!({"id": q.id, "return_data": q.return_data});
                        if let Some(e) = &q.expression {
                            b["expression"] = json!(e);
                        }
                        if let Some(l) = &q.label {
                            b["label"] = json!(l);
                        }
                        if let Some((m, period, stat)) = &q.metric {
                            b["metric"] = json!({
                                "namespace": m.namespace,
                                "metric_name": m.name,
                                "dimensions": dims(&m.dimensions),
                                "period": period,
                                "stat": stat,
                            });
                        }
                        b
                    })
                    .collect();
            }
        }
        insert(&mut alarms, &a.name, r);
    }
    for q in &plan.queries {
        let mut r = json!({"name": q.name, "query_string": q.query});
        if !q.log_groups.is_empty() {
            r["log_group_names"] = json!(q.log_groups);
        }
        insert(&mut queries, &q.name, r);
    }
    let mut resource = Map::new();
    for (kind, blocks) in [
        ("aws_cloudwatch_dashboard", dashboards),
        ("aws_cloudwatch_metric_alarm", alarms),
        ("aws_cloudwatch_query_definition", queries),
    ] {
        if !blocks.is_empty() {
            resource.insert(kind.to_owned(), Value::Object(blocks));
        }
    }
    let mut config = json!({
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": ">= 5.0"}}},
    });
    if !plan.alarms.is_empty() {
        config["variable"] = json!({"alarm_topic_arns": {
            "type": "list(string)",
            "default": plan.alarm_topic.iter().collect::<Vec<_>>(),
            "description": "The SNS topics the alarms notify.",
        }});
    }
    config["resource"] = Value::Object(resource);
    config
}

/// Adds a block under a unique Terraform name; strings are escaped against template
/// interpolation (`${`, `%{`), except the variable references written on purpose.
fn insert(blocks: &mut Map<String, Value>, name: &str, mut value: Value) {
    escape(&mut value);
    let mut base: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !base.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        base.insert(0, '_');
    }
    let id = unique_key(blocks, &base, "_");
    blocks.insert(id, value);
}

fn escape(value: &mut Value) {
    match value {
        Value::String(s) if s != "${var.alarm_topic_arns}" => {
            *s = s.replace("${", "$${").replace("%{", "%%{");
        }
        Value::Array(items) => items.iter_mut().for_each(escape),
        Value::Object(map) => map.values_mut().for_each(escape),
        _ => {}
    }
}
