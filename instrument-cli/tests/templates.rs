//! The generated templates, checked as AWS and Terraform would read them: every dashboard body
//! against the structure AWS documents for `PutDashboard` (widgets on the 24-column grid, metric
//! arrays, metric math referring to existing ids, log widgets with a parsable query, variables),
//! every CloudFormation template (YAML and JSON) with `cfn-lint`, and the Terraform JSON against
//! the AWS provider's resource types and arguments.
//!
//! `cfn-lint` comes from the venv `scripts/test.sh` sets up (`$CARGO_TARGET_DIR/cloudwatch-venv`,
//! pinned there), from `INSTRUMENT_TEST_CFN_LINT`, or from PATH. Without it, plain `cargo test`
//! skips that part with a notice; under `INSTRUMENT_TEST_REQUIRE_CLOUDWATCH=1` (set by the
//! script) its absence is a failure.

#[path = "../../tests/support/run_example.rs"]
mod run_example;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use instrument_cli::catalog::Catalog;
use instrument_cli::generate::evaluate::referenced_ids;
use instrument_cli::generate::{cloudformation, plan, terraform, to_yaml, Parts, Plan};
use instrument_cli::settings::{Overrides, ServiceSettings};
use serde_json::Value;

fn example_plan(example: &str, overrides: Overrides) -> (Catalog, Plan) {
    let source = run_example::workspace().join(format!("examples/{example}.rs"));
    let catalog = Catalog::scan(&[source]).unwrap();
    let settings = ServiceSettings::resolve(&catalog, &overrides, |_| None).unwrap();
    let plan = plan(&catalog, &settings, Parts::ALL).unwrap();
    (catalog, plan)
}

fn plans() -> Vec<(&'static str, Catalog, Plan)> {
    let booking = example_plan(
        "booking",
        Overrides {
            environments: vec!["dev,prod".into()],
            region: Some("eu-west-1".into()),
            log_groups: vec!["/aws/lambda/booking".into()],
            alarm_topic: Some("arn:aws:sns:eu-west-1:123456789012:oncall".into()),
            ..Overrides::default()
        },
    );
    let axum = example_plan(
        "axum_service",
        Overrides {
            region: Some("us-east-1".into()),
            ..Overrides::default()
        },
    );
    vec![
        ("booking", booking.0, booking.1),
        ("axum_service", axum.0, axum.1),
    ]
}

// ---------------------------------------------------------------- dashboard body structure

const STATS: [&str; 5] = ["Sum", "Average", "Minimum", "Maximum", "SampleCount"];

fn valid_stat(stat: &str) -> bool {
    STATS.contains(&stat)
        || stat
            .strip_prefix('p')
            .and_then(|p| p.parse::<f64>().ok())
            .is_some_and(|p| (0.0..=100.0).contains(&p))
}

fn valid_id(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks `body` against the dashboard body structure; returns the metric names it graphs.
fn check_dashboard_body(body: &Value) -> BTreeSet<String> {
    let keys: BTreeSet<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert!(
        keys.is_subset(&BTreeSet::from([
            "widgets",
            "variables",
            "start",
            "end",
            "periodOverride"
        ])),
        "{keys:?}"
    );
    let widgets = body["widgets"].as_array().expect("widgets is an array");
    assert!(!widgets.is_empty());
    let mut cells: BTreeSet<(u64, u64)> = BTreeSet::new();
    let mut graphed = BTreeSet::new();
    for widget in widgets {
        let kind = widget["type"].as_str().unwrap();
        assert!(
            ["metric", "text", "log", "alarm", "explorer"].contains(&kind),
            "{kind}"
        );
        let (x, y) = (widget["x"].as_u64().unwrap(), widget["y"].as_u64().unwrap());
        let (w, h) = (
            widget["width"].as_u64().unwrap(),
            widget["height"].as_u64().unwrap(),
        );
        assert!(
            (1..=24).contains(&w) && (1..=1000).contains(&h) && x + w <= 24,
            "{widget}"
        );
        for cx in x..x + w {
            for cy in y..y + h {
                assert!(cells.insert((cx, cy)), "widgets overlap at ({cx}, {cy})");
            }
        }
        let p = &widget["properties"];
        match kind {
            "text" => assert!(p["markdown"].as_str().is_some_and(|m| !m.is_empty())),
            "log" => {
                assert!(p["region"].is_string());
                assert!(
                    ["table", "timeSeries", "bar", "pie"].contains(&p["view"].as_str().unwrap())
                );
                let query = p["query"].as_str().unwrap();
                let mut rest = query;
                let mut sources = 0;
                while let Some(after) = rest.trim_start().strip_prefix("SOURCE '") {
                    let end = after.find('\'').unwrap();
                    rest = after[end + 1..].trim_start().strip_prefix('|').unwrap();
                    sources += 1;
                }
                assert!(sources > 0, "a log widget names its log groups: {query}");
                instrument_query::LogsQuery::new(rest)
                    .unwrap_or_else(|e| panic!("the log widget's query does not parse: {e}"));
            }
            "metric" => graphed.extend(check_metric_widget(p)),
            _ => {}
        }
    }
    if let Some(variables) = body.get("variables") {
        for v in variables.as_array().unwrap() {
            assert!(["property", "pattern"].contains(&v["type"].as_str().unwrap()));
            assert!(["input", "select", "radio"].contains(&v["inputType"].as_str().unwrap()));
            assert!(v["id"].is_string() && v["label"].is_string());
            if v["type"] == "property" {
                assert!(v["property"].is_string());
            }
            let values: Vec<&Value> = v["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| &x["value"])
                .collect();
            assert!(values.contains(&&v["defaultValue"]), "{v}");
        }
    }
    graphed
}

fn check_metric_widget(p: &Value) -> BTreeSet<String> {
    assert!(p["region"].is_string());
    assert!(
        ["timeSeries", "singleValue", "gauge", "bar", "pie", "table"]
            .contains(&p["view"].as_str().unwrap())
    );
    if let Some(stat) = p.get("stat") {
        assert!(valid_stat(stat.as_str().unwrap()), "{stat}");
    }
    assert_eq!(p["period"].as_u64().unwrap() % 60, 0);
    let rows = p["metrics"]
        .as_array()
        .expect("metrics is an array of arrays");
    assert!(!rows.is_empty() && rows.len() <= 500);
    let mut ids = Vec::new();
    let mut expressions = Vec::new();
    let mut graphed = BTreeSet::new();
    let mut previous: Option<&Vec<Value>> = None;
    for row in rows {
        let row = row.as_array().expect("each metric is an array");
        let (names, options) = match row.last() {
            Some(Value::Object(o)) => (&row[..row.len() - 1], Some(o)),
            _ => (&row[..], None),
        };
        if let Some(options) = options {
            for key in options.keys() {
                assert!(
                    [
                        "id",
                        "label",
                        "stat",
                        "period",
                        "yAxis",
                        "color",
                        "visible",
                        "region",
                        "expression"
                    ]
                    .contains(&key.as_str()),
                    "unknown metric option {key}"
                );
            }
            if let Some(id) = options.get("id") {
                let id = id.as_str().unwrap();
                assert!(valid_id(id), "invalid id {id}");
                assert!(!ids.contains(&id.to_owned()), "duplicate id {id}");
                ids.push(id.to_owned());
            }
            if let Some(stat) = options.get("stat") {
                assert!(valid_stat(stat.as_str().unwrap()));
            }
            if let Some(e) = options.get("expression") {
                assert!(names.is_empty(), "an expression row has no metric");
                assert!(options.contains_key("id"), "an expression has an id");
                expressions.push(e.as_str().unwrap().to_owned());
                continue;
            }
        }
        // [namespace, metric name, (dimension name, value)*], "." repeating the row above.
        assert!(names.len() >= 2 && names.len() % 2 == 0, "{row:?}");
        assert!(names.len() <= 2 + 2 * 30);
        for (i, n) in names.iter().enumerate() {
            let n = n.as_str().expect("names and values are strings");
            if n == "." {
                assert!(
                    previous.is_some_and(|p| p.len() > i),
                    "`.` with nothing above"
                );
            } else {
                assert!(!n.is_empty());
            }
        }
        let name = match names[1].as_str().unwrap() {
            "." => previous.unwrap()[1].as_str().unwrap(),
            n => n,
        };
        graphed.insert(name.to_owned());
        previous = Some(row);
    }
    for e in &expressions {
        if e.starts_with("SEARCH(") {
            assert!(e.ends_with(')') && e.contains("MetricName=\""), "{e}");
            continue;
        }
        let referenced = referenced_ids(e);
        assert!(!referenced.is_empty(), "{e}");
        for id in referenced {
            assert!(
                ids.contains(&id),
                "the expression {e} refers to `{id}`, which no metric has"
            );
        }
    }
    graphed
}

#[test]
fn dashboard_bodies_have_the_documented_structure_and_graph_declared_metrics() {
    for (name, catalog, plan) in plans() {
        let declared: BTreeSet<String> = catalog.metrics().into_iter().map(|m| m.name).collect();
        assert_eq!(plan.dashboards.len(), 1);
        let graphed = check_dashboard_body(&plan.dashboards[0].body);
        // A renamed function cannot leave an empty widget: every graphed name is declared, and
        // every tracked function is graphed.
        assert!(graphed.is_subset(&declared), "{name}: {graphed:?}");
        for f in &catalog.functions {
            assert!(
                graphed.contains(&format!("{}.latency", f.name)),
                "{name}: {}",
                f.name
            );
        }
    }
}

#[test]
fn booking_dashboard_has_an_environment_selector_and_recent_errors() {
    let (_, _, plan) = plans().into_iter().next().unwrap();
    let body = &plan.dashboards[0].body;
    assert_eq!(body["variables"][0]["property"], "environment");
    assert_eq!(body["variables"][0]["defaultValue"], "dev");
    let kinds: Vec<&str> = body["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["type"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"log"));
    // The alarms: two per function and environment (every function has both objectives).
    assert_eq!(plan.alarms.len(), 3 * 2 * 2);
    let reserve = plan
        .alarms
        .iter()
        .find(|a| a.name == "booking-prod-Inventory-reserve-latency-p99")
        .unwrap();
    assert_eq!(reserve.threshold, 25.0);
    let pay = plan
        .alarms
        .iter()
        .find(|a| a.name == "booking-dev-pay-error-rate")
        .unwrap();
    assert!(
        (pay.threshold - 0.5).abs() < 1e-9,
        "the service's objective: 99.5 %"
    );
}

// ---------------------------------------------------------------- Terraform JSON

fn allowed(kind: &str) -> (&'static [&'static str], &'static [&'static str]) {
    // (arguments, required), from the AWS provider's documentation of each resource.
    match kind {
        "aws_cloudwatch_dashboard" => (
            &["dashboard_name", "dashboard_body"],
            &["dashboard_name", "dashboard_body"],
        ),
        "aws_cloudwatch_metric_alarm" => (
            &[
                "alarm_name",
                "comparison_operator",
                "evaluation_periods",
                "metric_name",
                "namespace",
                "period",
                "statistic",
                "threshold",
                "threshold_metric_id",
                "actions_enabled",
                "alarm_actions",
                "alarm_description",
                "datapoints_to_alarm",
                "dimensions",
                "insufficient_data_actions",
                "ok_actions",
                "unit",
                "extended_statistic",
                "treat_missing_data",
                "evaluate_low_sample_count_percentiles",
                "metric_query",
                "tags",
                "region",
            ],
            &["alarm_name", "comparison_operator", "evaluation_periods"],
        ),
        "aws_cloudwatch_query_definition" => (
            &["name", "query_string", "log_group_names", "region"],
            &["name", "query_string"],
        ),
        other => panic!("not a resource type of the AWS provider this generator uses: {other}"),
    }
}

fn check_terraform(config: &Value) {
    let top: BTreeSet<&str> = config
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert!(
        top.is_subset(&BTreeSet::from(["terraform", "variable", "resource"])),
        "{top:?}"
    );
    assert_eq!(
        config["terraform"]["required_providers"]["aws"]["source"],
        "hashicorp/aws"
    );
    let variables: BTreeSet<String> = config
        .get("variable")
        .and_then(Value::as_object)
        .map(|v| v.keys().cloned().collect())
        .unwrap_or_default();
    for (kind, blocks) in config["resource"].as_object().unwrap() {
        let (args, required) = allowed(kind);
        for (name, block) in blocks.as_object().unwrap() {
            assert!(
                name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
                "invalid resource name {name}"
            );
            let block = block.as_object().unwrap();
            for key in block.keys() {
                assert!(
                    args.contains(&key.as_str()),
                    "{kind}.{name}: unknown argument {key}"
                );
            }
            for key in required {
                assert!(block.contains_key(*key), "{kind}.{name}: missing {key}");
            }
            check_interpolations(&Value::Object(block.clone()), &variables);
            match kind.as_str() {
                "aws_cloudwatch_dashboard" => {
                    let body: Value =
                        serde_json::from_str(block["dashboard_body"].as_str().unwrap()).unwrap();
                    check_dashboard_body(&body);
                }
                "aws_cloudwatch_metric_alarm" => check_alarm_block(kind, name, block),
                _ => {}
            }
        }
    }
}

fn check_alarm_block(kind: &str, name: &str, block: &serde_json::Map<String, Value>) {
    let has = |k: &str| block.contains_key(k);
    assert!(
        has("metric_query") != has("metric_name"),
        "{kind}.{name}: metric_query xor metric_name"
    );
    assert!(!(has("statistic") && has("extended_statistic")));
    assert!([
        "GreaterThanOrEqualToThreshold",
        "GreaterThanThreshold",
        "LessThanThreshold",
        "LessThanOrEqualToThreshold"
    ]
    .contains(&block["comparison_operator"].as_str().unwrap()));
    assert!(["missing", "ignore", "breaching", "notBreaching"]
        .contains(&block["treat_missing_data"].as_str().unwrap()));
    assert!(block["threshold"].is_number() && block["evaluation_periods"].is_u64());
    if let Some(queries) = block.get("metric_query") {
        let queries = queries.as_array().expect("metric_query blocks are a list");
        let ids: Vec<&str> = queries.iter().map(|q| q["id"].as_str().unwrap()).collect();
        assert_eq!(
            queries.iter().filter(|q| q["return_data"] == true).count(),
            1
        );
        for q in queries {
            for key in q.as_object().unwrap().keys() {
                assert!(
                    [
                        "id",
                        "account_id",
                        "expression",
                        "label",
                        "metric",
                        "period",
                        "return_data"
                    ]
                    .contains(&key.as_str()),
                    "{key}"
                );
            }
            if let Some(m) = q.get("metric") {
                for key in m.as_object().unwrap().keys() {
                    assert!(
                        [
                            "metric_name",
                            "namespace",
                            "period",
                            "stat",
                            "unit",
                            "dimensions"
                        ]
                        .contains(&key.as_str()),
                        "{key}"
                    );
                }
                assert!(
                    m["metric_name"].is_string()
                        && m["period"].is_u64()
                        && valid_stat(m["stat"].as_str().unwrap())
                );
                assert!(m["dimensions"]
                    .as_object()
                    .unwrap()
                    .values()
                    .all(Value::is_string));
            }
            if let Some(e) = q.get("expression") {
                for id in referenced_ids(e.as_str().unwrap()) {
                    assert!(
                        ids.contains(&id.as_str()),
                        "{kind}.{name}: {e} refers to {id}"
                    );
                }
            }
        }
    }
}

/// Every `${...}` is a reference to a declared variable; literal text is escaped (`$${`).
fn check_interpolations(value: &Value, variables: &BTreeSet<String>) {
    match value {
        Value::String(s) => {
            let mut rest = s.as_str();
            while let Some(at) = rest.find("${") {
                if at > 0 && rest[..at].ends_with('$') {
                    rest = &rest[at + 2..];
                    continue;
                }
                let end = rest[at..].find('}').unwrap();
                let reference = &rest[at + 2..at + end];
                let var = reference
                    .strip_prefix("var.")
                    .unwrap_or_else(|| panic!("unexpected interpolation ${{{reference}}}"));
                assert!(variables.contains(var), "undeclared variable {var}");
                rest = &rest[at + end..];
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| check_interpolations(v, variables)),
        Value::Object(map) => map
            .values()
            .for_each(|v| check_interpolations(v, variables)),
        _ => {}
    }
}

#[test]
fn terraform_json_uses_the_aws_providers_resources_and_arguments() {
    for (_, _, plan) in plans() {
        let config = terraform::configuration(&plan);
        // What a *.tf.json file holds: it round-trips as JSON.
        let text = serde_json::to_string_pretty(&config).unwrap();
        check_terraform(&serde_json::from_str(&text).unwrap());
    }
}

// ---------------------------------------------------------------- CloudFormation, cfn-lint

fn cfn_lint() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("INSTRUMENT_TEST_CFN_LINT") {
        return Some(PathBuf::from(path));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| {
            if t.is_absolute() {
                t
            } else {
                run_example::workspace().join(t)
            }
        })
        .unwrap_or_else(|| run_example::workspace().join("target"));
    let venv = target.join("cloudwatch-venv/bin/cfn-lint");
    if venv.is_file() {
        return Some(venv);
    }
    Command::new("cfn-lint")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| PathBuf::from("cfn-lint"))
}

#[test]
fn cloudformation_templates_pass_cfn_lint() {
    let Some(lint) = cfn_lint() else {
        assert!(
            std::env::var_os("INSTRUMENT_TEST_REQUIRE_CLOUDWATCH").is_none(),
            "cfn-lint is missing, but INSTRUMENT_TEST_REQUIRE_CLOUDWATCH says the test tools \
             must be there: scripts/test.sh installs it into $CARGO_TARGET_DIR/cloudwatch-venv"
        );
        eprintln!("notice: skipping cfn-lint: not installed (bash scripts/test.sh installs it)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("instrument-cfn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (name, _, plan) in plans() {
        let template = cloudformation::template(&plan);
        let yaml = dir.join(format!("{name}.yaml"));
        let json = dir.join(format!("{name}.json"));
        std::fs::write(&yaml, to_yaml(&template)).unwrap();
        std::fs::write(&json, serde_json::to_string_pretty(&template).unwrap()).unwrap();
        files.extend([yaml, json]);
        // The dashboard body inside is the same structure.
        for (_, resource) in template["Resources"].as_object().unwrap() {
            if resource["Type"] == "AWS::CloudWatch::Dashboard" {
                let body = resource["Properties"]["DashboardBody"].as_str().unwrap();
                check_dashboard_body(&serde_json::from_str(body).unwrap());
            }
        }
    }
    let out = Command::new(&lint).arg("--").args(&files).output().unwrap();
    assert!(
        out.status.success(),
        "cfn-lint found problems (exit {:?}):\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_yaml_template_is_the_json_template() {
    // cfn-lint reads both; here the YAML is read back with the JSON template's own values
    // through the venv's Python YAML loader when present, else structurally by line count.
    let Some(lint) = cfn_lint() else { return };
    let python = lint.with_file_name("python");
    if !python.is_file() {
        return;
    }
    for (_, _, plan) in plans() {
        let template = cloudformation::template(&plan);
        let out = Command::new(&python)
            .args([
                "-c",
                "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(to_yaml(&template).as_bytes())?;
                child.wait_with_output()
            })
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let read: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(read, template);
    }
}
