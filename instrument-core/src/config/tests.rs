//! Resolution: precedence, defaults, and the errors a bad value of any setting gives.

use super::*;
use std::collections::HashMap;

fn resolve(settings: &Settings, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::resolve(settings, |k| map.get(k).cloned())
}

#[test]
fn defaults() {
    let c = resolve(&Settings::default(), &[]).unwrap();
    assert_eq!(c.service, None);
    assert_eq!(c.namespace, None);
    assert_eq!(c.environment, None);
    assert_eq!(c.log_directives, "info");
    assert_eq!(c.metrics, MetricsDestination::Stdout);
    assert_eq!(c.metrics_flush_interval, Duration::from_secs(60));
    assert!(c.redact);
    assert!(!c.log_location);
    assert_eq!(c.agent_endpoint, "tcp://127.0.0.1:25888");
    assert!(c.lambda.is_none());
}

#[test]
fn precedence_code_over_instrument_over_powertools() {
    let vars = [
        ("INSTRUMENT_SERVICE", "from-instrument"),
        ("POWERTOOLS_SERVICE_NAME", "from-powertools"),
        ("POWERTOOLS_METRICS_NAMESPACE", "PtNs"),
        ("INSTRUMENT_LOG_LEVEL", "warn"),
        ("RUST_LOG", "trace"),
        ("POWERTOOLS_LOG_LEVEL", "DEBUG"),
    ];
    let c = resolve(&Settings::default(), &vars).unwrap();
    assert_eq!(c.service.as_deref(), Some("from-instrument"));
    assert_eq!(c.namespace.as_deref(), Some("PtNs"));
    assert_eq!(c.log_directives, "warn");

    let code = Settings {
        service: Some("from-code".into()),
        log_level: Some("error".into()),
        ..Settings::default()
    };
    let c = resolve(&code, &vars).unwrap();
    assert_eq!(c.service.as_deref(), Some("from-code"));
    assert_eq!(c.log_directives, "error");
    assert_eq!(c.log_directives_source, Source::Code("log_level"));

    let c = resolve(&Settings::default(), &vars[1..]).unwrap();
    assert_eq!(c.service.as_deref(), Some("from-powertools"));
    assert_eq!(c.log_directives, "warn");
    let c = resolve(&Settings::default(), &vars[4..]).unwrap();
    assert_eq!(
        c.log_directives, "trace",
        "RUST_LOG outranks POWERTOOLS_LOG_LEVEL"
    );
    let c = resolve(&Settings::default(), &vars[5..]).unwrap();
    assert_eq!(c.log_directives, "debug");
}

#[test]
fn environment_from_a_named_variable() {
    let vars = [
        ("INSTRUMENT_ENVIRONMENT_VAR", "PAVI_ENVIRONMENT"),
        ("PAVI_ENVIRONMENT", "staging"),
    ];
    let c = resolve(&Settings::default(), &vars).unwrap();
    assert_eq!(c.environment.as_deref(), Some("staging"));
    let mut with_direct = vars.to_vec();
    with_direct.push(("INSTRUMENT_ENVIRONMENT", "prod"));
    let c = resolve(&Settings::default(), &with_direct).unwrap();
    assert_eq!(c.environment.as_deref(), Some("prod"));
    let code = Settings {
        environment_var: Some("TEAM_ENV".into()),
        ..Settings::default()
    };
    let c = resolve(&code, &[("TEAM_ENV", "dev"), ("PAVI_ENVIRONMENT", "x")]).unwrap();
    assert_eq!(c.environment.as_deref(), Some("dev"));
    let err = resolve(
        &Settings::default(),
        &[("INSTRUMENT_ENVIRONMENT_VAR", "not a name")],
    )
    .unwrap_err();
    assert_eq!(
        err.origin,
        Source::Variable("INSTRUMENT_ENVIRONMENT_VAR".into())
    );
}

#[test]
fn bad_values_name_the_variable_and_what_is_accepted() {
    let cases = [
        ("INSTRUMENT_LOG_LEVEL", "loud", "trace, debug"),
        ("INSTRUMENT_LOG_LEVEL", "info,x=loud", "directives"),
        ("POWERTOOLS_LOG_LEVEL", "verbose", "warn"),
        ("AWS_LAMBDA_LOG_LEVEL", "chatty", "error"),
        (
            "INSTRUMENT_METRICS",
            "prometheus",
            "stdout, agent, cloudwatch, off",
        ),
        ("INSTRUMENT_METRICS_FLUSH_INTERVAL", "soon", "seconds"),
        ("INSTRUMENT_METRICS_FLUSH_INTERVAL", "0", "greater than 0"),
        ("INSTRUMENT_METRICS_FLUSH_INTERVAL", "NaN", "seconds"),
        ("INSTRUMENT_REDACT", "maybe", "on or off"),
        ("INSTRUMENT_LOG_LOCATION", "2", "on or off"),
        ("AWS_EMF_AGENT_ENDPOINT", "http://x:1", "tcp://"),
        ("INSTRUMENT_LOG_SAMPLE_RATE", "2", "0.0 to 1.0"),
        ("POWERTOOLS_LOGGER_SAMPLE_RATE", "often", "0.0 to 1.0"),
        ("INSTRUMENT_LOG_BUFFER", "sometimes", "on or off"),
    ];
    for (var, value, expected) in cases {
        let err = resolve(&Settings::default(), &[(var, value)]).unwrap_err();
        assert_eq!(err.origin, Source::Variable(var.into()), "{var}");
        assert_eq!(err.value, value);
        let msg = err.to_string();
        assert!(msg.contains(var) && msg.contains(value), "{msg}");
        assert!(msg.contains(expected), "{msg} should mention {expected}");
    }
    let code = Settings {
        log_level: Some("shouty".into()),
        ..Settings::default()
    };
    let err = resolve(&code, &[]).unwrap_err();
    assert_eq!(err.origin, Source::Code("log_level"));
    assert!(err.to_string().contains("builder setting `log_level`"));
}

#[test]
fn directives_and_aliases() {
    let c = resolve(
        &Settings::default(),
        &[("INSTRUMENT_LOG_LEVEL", "WARNING,booking=Debug")],
    )
    .unwrap();
    assert_eq!(c.log_directives, "warn,booking=debug");
    let c = resolve(
        &Settings::default(),
        &[("POWERTOOLS_LOG_LEVEL", "CRITICAL")],
    )
    .unwrap();
    assert_eq!(c.log_directives, "error");
    // RUST_LOG keeps EnvFilter's own meaning: a lone word is a target.
    let c = resolve(&Settings::default(), &[("RUST_LOG", "my_crate")]).unwrap();
    assert_eq!(c.log_directives, "my_crate");
}

#[test]
fn lambda_log_level_is_a_cap() {
    let c = resolve(
        &Settings::default(),
        &[
            ("AWS_LAMBDA_LOG_LEVEL", "WARN"),
            ("INSTRUMENT_LOG_LEVEL", "debug"),
        ],
    )
    .unwrap();
    assert_eq!(c.lambda_log_cap, Some(LevelFilter::WARN));
    assert_eq!(c.log_directives, "debug");
}

#[test]
fn sampling_and_buffering() {
    let c = resolve(&Settings::default(), &[]).unwrap();
    assert_eq!(c.log_sample_rate, 0.0);
    assert_eq!(c.log_buffer, None);
    assert_eq!(c.invocation_log_level(), LevelFilter::OFF);

    let c = resolve(
        &Settings::default(),
        &[
            ("POWERTOOLS_LOGGER_SAMPLE_RATE", "0.25"),
            ("INSTRUMENT_LOG_BUFFER", "on"),
            ("INSTRUMENT_LOG_BUFFER_MAX_BYTES", "4096"),
            ("INSTRUMENT_LOG_BUFFER_LEVEL", "trace"),
        ],
    )
    .unwrap();
    assert_eq!(c.log_sample_rate, 0.25);
    assert_eq!(
        c.log_buffer,
        Some(LogBuffering {
            max_bytes: 4096,
            level: LevelFilter::TRACE
        })
    );
    assert_eq!(c.invocation_log_level(), LevelFilter::TRACE);

    let err = resolve(
        &Settings::default(),
        &[
            ("INSTRUMENT_LOG_BUFFER", "on"),
            ("INSTRUMENT_LOG_BUFFER_MAX_BYTES", "0"),
        ],
    )
    .unwrap_err();
    assert_eq!(
        err.origin,
        Source::Variable("INSTRUMENT_LOG_BUFFER_MAX_BYTES".into())
    );
    let code = Settings {
        log_sample_rate: Some(1.5),
        ..Settings::default()
    };
    assert_eq!(
        resolve(&code, &[]).unwrap_err().origin,
        Source::Code("log_sample_rate")
    );
}

#[test]
fn empty_variables_count_as_unset() {
    let c = resolve(
        &Settings::default(),
        &[
            ("INSTRUMENT_SERVICE", ""),
            ("POWERTOOLS_SERVICE_NAME", "pt"),
        ],
    )
    .unwrap();
    assert_eq!(c.service.as_deref(), Some("pt"));
}

#[test]
fn switches_and_intervals() {
    let c = resolve(
        &Settings::default(),
        &[
            ("INSTRUMENT_REDACT", "OFF"),
            ("INSTRUMENT_LOG_LOCATION", "true"),
            ("INSTRUMENT_METRICS", "Agent"),
            ("INSTRUMENT_METRICS_FLUSH_INTERVAL", "0.5"),
            ("AWS_EMF_AGENT_ENDPOINT", "udp://127.0.0.1:25888"),
        ],
    )
    .unwrap();
    assert!(!c.redact);
    assert!(c.log_location);
    assert_eq!(c.metrics, MetricsDestination::Agent);
    assert_eq!(c.metrics_flush_interval, Duration::from_millis(500));
    assert_eq!(c.agent_endpoint, "udp://127.0.0.1:25888");
}

/// Every setting whose parser refuses anything: its declared bad value, given alone to each of
/// its variables that uses the setting's own parser, fails resolution with an error naming the
/// variable, the value and exactly what the declaration accepts.
#[test]
fn a_bad_value_of_every_setting_names_variable_value_and_accepted() {
    let mut checked = 0;
    for setting in table::TABLE {
        let Some(bad) = setting.invalid() else {
            continue;
        };
        let variables = setting.variables();
        let own = setting.accepted(variables[0]);
        for var in variables.iter().filter(|v| setting.accepted(v) == own) {
            let err = resolve(&Settings::default(), &[(var, bad)])
                .expect_err(&format!("{var}={bad} must be refused"));
            assert_eq!(err.origin, Source::Variable(var.to_string()), "{var}");
            assert_eq!(err.value, bad, "{var}");
            assert!(
                err.expected.starts_with(own),
                "{var}: {:?} should be the declared {own:?}",
                err.expected
            );
            let msg = err.to_string();
            assert!(
                msg.contains(var) && msg.contains(bad) && msg.contains(own),
                "{msg}"
            );
            assert_eq!(
                setting.check(var, bad),
                Err(err),
                "{var}: check and resolve agree"
            );
            checked += 1;
        }
    }
    assert!(checked >= 17, "only {checked} variables checked");
}

/// A setting that declares no bad value takes anything: its parser never refuses.
#[test]
fn settings_without_a_bad_value_accept_anything() {
    for setting in table::TABLE.iter().filter(|s| s.invalid().is_none()) {
        for var in setting.variables() {
            for odd in ["x", "not a number", " , ,", "0", "é\u{1}", "a..b"] {
                assert_eq!(setting.check(var, odd), Ok(()), "{var}={odd:?}");
                resolve(&Settings::default(), &[(var, odd)]).unwrap();
            }
        }
    }
}

#[test]
fn the_table_covers_every_section_and_code_setting() {
    for section in Section::ALL {
        assert!(
            table::TABLE.iter().any(|s| s.section() == section),
            "{section:?} is empty"
        );
    }
    let code: Vec<&str> = table::TABLE
        .iter()
        .filter(|s| s.in_code())
        .map(|s| s.name())
        .collect();
    // Every `Settings` field is a declared setting.
    let fields = format!("{:?}", Settings::default());
    let field_count = fields.matches(": None").count();
    assert_eq!(code.len(), field_count, "{code:?} vs {fields}");
    for name in &code {
        assert!(fields.contains(&format!("{name}: None")), "{name}");
    }
}

#[test]
fn the_sections_are_resolved_with_the_rest() {
    let c = resolve(
        &Settings::default(),
        &[
            ("INSTRUMENT_CORRELATION_PATHS", "detail.orderId, sqs"),
            ("INSTRUMENT_LAMBDA_FLUSH_MARGIN_MS", "250"),
            ("INSTRUMENT_CORRELATION_HEADERS", "X-Amzn-Trace-Id"),
            ("INSTRUMENT_REDACT_DISABLE", "ipv4, ipv6"),
            ("INSTRUMENT_REDACT_KEYS", "pin,*_pin"),
            ("INSTRUMENT_REDACT_HASH_KEY", "k"),
            ("INSTRUMENT_FLUSH_ON_SIGTERM", "off"),
        ],
    )
    .unwrap();
    assert_eq!(
        c.lambda_layer.correlation_paths.as_deref(),
        Some(&["detail.orderId".to_string(), "sqs".to_string()][..])
    );
    assert_eq!(c.lambda_layer.flush_margin, Duration::from_millis(250));
    assert_eq!(c.http_layer.correlation_headers, ["x-amzn-trace-id"]);
    assert_eq!(c.redaction.disable, ["ipv4", "ipv6"]);
    assert_eq!(c.redaction.keys, ["pin", "*_pin"]);
    assert_eq!(c.redaction.hash_key.as_deref(), Some("k"));
    assert!(!c.flush_on_sigterm);

    let d = resolve(&Settings::default(), &[]).unwrap();
    assert_eq!(d.lambda_layer, LambdaLayerConfig::default());
    assert_eq!(d.lambda_layer.flush_margin, Duration::from_millis(500));
    assert_eq!(d.http_layer, HttpLayerConfig::default());
    assert!(d.redaction.is_empty());
    assert!(d.flush_on_sigterm);
}

#[test]
fn code_values_are_checked_and_code_wins() {
    let code = Settings {
        metrics_flush_interval: Some(Duration::ZERO),
        ..Settings::default()
    };
    let err = resolve(&code, &[]).unwrap_err();
    assert_eq!(err.origin, Source::Code("metrics_flush_interval"));
    let code = Settings {
        log_buffer: Some(true),
        log_buffer_max_bytes: Some(0),
        ..Settings::default()
    };
    assert_eq!(
        resolve(&code, &[]).unwrap_err().origin,
        Source::Code("log_buffer_max_bytes")
    );
    let code = Settings {
        environment_var: Some("not a name".into()),
        ..Settings::default()
    };
    assert_eq!(
        resolve(&code, &[]).unwrap_err().origin,
        Source::Code("environment_var")
    );
    let mut code = Settings::default();
    assert!(table::FLUSH_ON_SIGTERM.set(&mut code, false));
    assert!(!table::LAMBDA_FUNCTION_NAME.set(&mut code, "f".into()));
    let c = resolve(&code, &[("INSTRUMENT_FLUSH_ON_SIGTERM", "on")]).unwrap();
    assert!(!c.flush_on_sigterm);
    assert!(c.lambda.is_none());
}

#[test]
fn traces_section_precedence_and_errors() {
    // Off by default; an endpoint turns them on; the explicit switch wins over both.
    let c = resolve(&Settings::default(), &[]).unwrap();
    assert!(!c.traces.enabled);
    assert_eq!(c.traces.sample_rate, 0.05);
    let c = resolve(
        &Settings::default(),
        &[
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://a:4318/v1/traces",
            ),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://b:4318"),
            ("INSTRUMENT_TRACE_SAMPLE_RATE", "0.1"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.9"),
        ],
    )
    .unwrap();
    assert!(c.traces.enabled);
    assert_eq!(
        c.traces.endpoint, "http://a:4318/v1/traces",
        "the per-signal variable wins"
    );
    assert_eq!(c.traces.sample_rate, 0.1, "INSTRUMENT_* wins over OTEL_*");
    let c = resolve(
        &Settings::default(),
        &[
            ("INSTRUMENT_TRACES", "on"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.9"),
        ],
    )
    .unwrap();
    assert!(c.traces.enabled);
    assert_eq!(c.traces.endpoint, TracesConfig::DEFAULT_ENDPOINT);
    assert_eq!(c.traces.sample_rate, 0.9);
    let code = Settings {
        traces: Some(false),
        ..Settings::default()
    };
    let c = resolve(&code, &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://b:4318")]).unwrap();
    assert!(!c.traces.enabled, "code wins");

    let err = resolve(
        &Settings::default(),
        &[("INSTRUMENT_TRACE_SAMPLE_RATE", "2")],
    )
    .unwrap_err();
    assert_eq!(
        err.origin,
        Source::Variable("INSTRUMENT_TRACE_SAMPLE_RATE".into())
    );
    let err = resolve(
        &Settings::default(),
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")],
    )
    .unwrap_err();
    assert_eq!(
        err.origin,
        Source::Variable("OTEL_EXPORTER_OTLP_ENDPOINT".into())
    );
}
