//! `--apply` end to end (feature `apply`): the `instrument` binary puts the booking example's
//! dashboard, alarms and saved queries into a CloudWatch-compatible server (moto behind
//! `tests/support/cw_adapter.py`, started by `bash scripts/test.sh`; plain `cargo test` skips
//! with a notice), through the AWS SDK's standard configuration chain (`AWS_ENDPOINT_URL`,
//! test credentials); `GetDashboard`, `DescribeAlarms` and `DescribeQueryDefinitions` read back
//! exactly the generated payloads, and a second `--apply` changes nothing and duplicates
//! nothing.
#![cfg(feature = "apply")]

#[path = "../../instrument-emf/tests/cloudwatch_support/mod.rs"]
mod cloudwatch_support;
#[path = "../../tests/support/run_example.rs"]
mod run_example;

use std::process::{Command, Output};

use aws_sdk_cloudwatch::types::{MetricAlarm, MetricDataQuery};
use cloudwatch_support as cw;
use serde_json::{json, Value};

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:oncall";

fn instrument(args: &[&str], endpoint: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_instrument"));
    command.args(args);
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            command.env_remove(key);
        }
    }
    let home = std::env::temp_dir().join(format!("instrument-apply-home-{}", std::process::id()));
    command
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true");
    if let Some(url) = endpoint {
        command
            .env("AWS_ENDPOINT_URL", url)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing");
    }
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An alarm as DescribeAlarms lists it, in the shape of the PutMetricAlarm payload.
fn described(alarm: &MetricAlarm) -> Value {
    let metric = |m: Option<&aws_sdk_cloudwatch::types::Metric>| {
        let m = m.expect("a metric");
        json!({
            "Namespace": m.namespace(),
            "MetricName": m.metric_name(),
            "Dimensions": m.dimensions().iter()
                .map(|d| json!({"Name": d.name(), "Value": d.value()}))
                .collect::<Vec<_>>(),
        })
    };
    let query = |q: &MetricDataQuery| {
        let mut v = json!({"Id": q.id(), "ReturnData": q.return_data()});
        if let Some(e) = q.expression() {
            v["Expression"] = json!(e);
        }
        if let Some(l) = q.label() {
            v["Label"] = json!(l);
        }
        if let Some(s) = q.metric_stat() {
            v["MetricStat"] =
                json!({"Metric": metric(s.metric()), "Period": s.period(), "Stat": s.stat()});
        }
        v
    };
    let mut v = json!({
        "AlarmName": alarm.alarm_name(),
        "AlarmDescription": alarm.alarm_description(),
        "ComparisonOperator": alarm.comparison_operator().map(|c| c.as_str()),
        "Threshold": alarm.threshold(),
        "EvaluationPeriods": alarm.evaluation_periods(),
        "DatapointsToAlarm": alarm.datapoints_to_alarm(),
        "TreatMissingData": alarm.treat_missing_data(),
        "ActionsEnabled": alarm.actions_enabled(),
        "AlarmActions": alarm.alarm_actions(),
        "OKActions": alarm.ok_actions(),
    });
    if alarm.metrics().is_empty() {
        v["Namespace"] = json!(alarm.namespace());
        v["MetricName"] = json!(alarm.metric_name());
        v["Dimensions"] = json!(alarm
            .dimensions()
            .iter()
            .map(|d| json!({"Name": d.name(), "Value": d.value()}))
            .collect::<Vec<_>>());
        v["Period"] = json!(alarm.period());
        v["ExtendedStatistic"] = json!(alarm.extended_statistic());
    } else {
        v["Metrics"] = alarm.metrics().iter().map(query).collect();
    }
    v
}

fn logs_client(server: &cw::Server) -> aws_sdk_cloudwatchlogs::Client {
    use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(server.region.clone()))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .endpoint_url(&server.url)
        .build();
    aws_sdk_cloudwatchlogs::Client::from_conf(config)
}

/// What the server holds under `name`: (dashboard bodies, alarms, saved queries).
fn read_back(server: &cw::Server, name: &str) -> (Vec<Value>, Vec<Value>, Vec<Value>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let cloudwatch = cw::client(server);
        let listed = cloudwatch.list_dashboards().dashboard_name_prefix(name).send().await.unwrap();
        let mut dashboards = Vec::new();
        for entry in listed.dashboard_entries() {
            let got = cloudwatch
                .get_dashboard()
                .dashboard_name(entry.dashboard_name().unwrap())
                .send()
                .await
                .unwrap();
            dashboards.push(json!({
                "DashboardName": got.dashboard_name(),
                "DashboardBody": serde_json::from_str::<Value>(got.dashboard_body().unwrap()).unwrap(),
            }));
        }
        let alarms = cloudwatch
            .describe_alarms()
            .alarm_name_prefix(name)
            .max_records(100)
            .send()
            .await
            .unwrap();
        let alarms = alarms.metric_alarms().iter().map(described).collect();
        let queries = logs_client(server)
            .describe_query_definitions()
            .query_definition_name_prefix(name)
            .max_results(1000)
            .send()
            .await
            .unwrap();
        let queries = queries
            .query_definitions()
            .iter()
            .map(|q| json!({"name": q.name(), "queryString": q.query_string(), "logGroupNames": q.log_group_names()}))
            .collect();
        (dashboards, alarms, queries)
    })
}

fn sorted_by(mut items: Vec<Value>, key: &str) -> Vec<Value> {
    items.sort_by(|a, b| a[key].as_str().cmp(&b[key].as_str()));
    items
}

#[test]
fn apply_puts_exactly_what_is_generated_and_a_second_apply_changes_nothing() {
    let Some(server) = cw::server() else { return };
    let name = cw::unique("booking");
    let source = run_example::workspace().join("examples/booking.rs");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "generate",
            source.to_str().unwrap(),
            "--environment",
            "dev,prod",
            "--log-group",
            "/aws/lambda/booking",
            "--region",
            &server.region,
            "--name",
            &name,
            "--alarm-topic",
            TOPIC,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |extra: &[&str], endpoint| {
        let a = args(extra);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        instrument(&refs, endpoint)
    };

    let generated = run(&["--format", "api"], None);
    assert!(generated.status.success(), "{}", text(&generated.stderr));
    let expected: Value = serde_json::from_slice(&generated.stdout).unwrap();
    let expected_dashboards: Vec<Value> = expected["PutDashboard"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| json!({
            "DashboardName": d["DashboardName"],
            "DashboardBody": serde_json::from_str::<Value>(d["DashboardBody"].as_str().unwrap()).unwrap(),
        }))
        .collect();
    let expected_alarms = sorted_by(
        expected["PutMetricAlarm"].as_array().unwrap().clone(),
        "AlarmName",
    );
    let expected_queries = sorted_by(
        expected["PutQueryDefinition"].as_array().unwrap().clone(),
        "name",
    );
    assert_eq!(expected_alarms.len(), 12);
    assert_eq!(expected_queries.len(), instrument_query::pack::PACK.len());

    for round in 1..=2 {
        let applied = run(&["--apply"], Some(server.url.as_str()));
        let stderr = text(&applied.stderr);
        assert!(applied.status.success(), "apply #{round}: {stderr}");
        let total = 1 + expected_alarms.len() + expected_queries.len();
        assert!(
            stderr.contains(&format!("[1/{total}] PutDashboard {name} ok")),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("[{total}/{total}] PutQueryDefinition")),
            "{stderr}"
        );
        let verb = if round == 1 { "created" } else { "updated" };
        assert_eq!(
            stderr
                .lines()
                .filter(|l| l.contains("] PutQueryDefinition") && l.ends_with(verb))
                .count(),
            expected_queries.len(),
            "apply #{round}: every saved query {verb}: {stderr}"
        );

        let (dashboards, alarms, queries) = read_back(&server, &name);
        assert_eq!(dashboards, expected_dashboards, "apply #{round}");
        assert_eq!(
            sorted_by(alarms, "AlarmName"),
            expected_alarms,
            "apply #{round}"
        );
        assert_eq!(
            sorted_by(queries, "name"),
            expected_queries,
            "apply #{round}"
        );
    }
}

#[test]
fn apply_without_credentials_fails_with_a_clear_message() {
    let source = run_example::workspace().join("examples/booking.rs");
    let out = instrument(
        &[
            "dashboard",
            source.to_str().unwrap(),
            "--region",
            "us-east-1",
            "--apply",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("error: no AWS credentials"), "{stderr}");
}
