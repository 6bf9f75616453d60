//! The catalog's reading of sources: the macro's naming rules and option merging (shared code,
//! `instrument-attr`), metric fields and their units, the builder's settings, integrations, and
//! errors with file and line.

use instrument_cli::catalog::{Catalog, CatalogError, Kind, When};

fn catalog(source: &str) -> Catalog {
    Catalog::from_sources(&[("src/lib.rs".into(), source.into())]).unwrap()
}

fn error(source: &str) -> (usize, String) {
    match Catalog::from_sources(&[("src/lib.rs".into(), source.into())]) {
        Err(CatalogError::Source { location, message }) => {
            assert_eq!(location.file.to_str(), Some("src/lib.rs"));
            (location.line, message)
        }
        other => panic!("expected a source error, got {other:?}"),
    }
}

fn names(c: &Catalog) -> Vec<String> {
    c.functions.iter().map(|f| f.name.clone()).collect()
}

#[test]
fn impl_blocks_methods_and_names_follow_the_macro() {
    let c = catalog(
        r#"
        struct Shop;
        #[instrument::track_performance(dimensions(team = "shop"), objective(success = 99.0))]
        impl Shop {
            fn open(hour: u8) -> bool { hour > 8 }
            #[instrument::track_performance(dimensions(tier = "gold"), objective(latency_ms = 5))]
            fn close(&self) {}
            const fn size() -> u32 { 1 }
        }
        struct Repo<T>(T);
        impl<T> Repo<T> {
            #[track_performance]
            fn get(&self) -> Option<&T> { Some(&self.0) }
            #[track_performance]
            fn helper(x: u32) -> u32 { x }
            fn untracked(&self) {}
        }
        impl<T: Store> Audit for T {
            #[track_performance]
            fn audit(&self) {}
        }
        trait Named {
            #[track_performance]
            fn describe(&self) -> String { String::new() }
        }
        #[track_performance(name = "booking")]
        fn reserve() {}
        mod inner {
            #[instrument::track_performance]
            pub async fn nested() -> std::io::Result<()> { Ok(()) }
        }
        "#,
    );
    assert_eq!(
        names(&c),
        [
            "Shop::open",
            "Shop::close",
            "Repo::get",
            "helper",
            "Self::audit",
            "Self::describe",
            "booking",
            "nested"
        ]
    );
    let close = &c.functions[1];
    assert_eq!(
        close.dimensions,
        [
            ("team".into(), "shop".into()),
            ("tier".into(), "gold".into())
        ]
    );
    let slo = close.objective(&c).unwrap();
    assert_eq!(
        (slo.success, slo.latency_ms, slo.percentile()),
        (Some(99.0), Some(5.0), 99.0)
    );
    assert!(c.functions[4].note.is_some() && c.functions[5].note.is_some());
    // Names the sources cannot know are not promised as metrics.
    let metrics: Vec<String> = c.metrics().into_iter().map(|m| m.name).collect();
    assert!(
        !metrics.iter().any(|m| m.starts_with("Self::")),
        "{metrics:?}"
    );
    // `Result` aliases count as errors; an async call can be cancelled.
    let nested = c.functions.iter().find(|f| f.name == "nested").unwrap();
    assert!(nested.returns_errors && nested.cancellable);
    let when: Vec<(String, When)> = c
        .metrics()
        .into_iter()
        .filter(|m| m.name.starts_with("Shop::open"))
        .map(|m| (m.name, m.when))
        .collect();
    assert_eq!(
        when[1],
        ("Shop::open.error".into(), When::Panic),
        "bool holds no error"
    );
}

#[test]
fn metric_fields_units_and_dimensions() {
    let c = catalog(
        r#"
        #[instrument::track_performance(dimensions(operation = "upload"))]
        fn upload(n: u64, queue: &str) {
            tracing::info!("histogram.payload_bytes" = n, "uploaded");
            tracing::event!(tracing::Level::INFO, counter.orders = 1, unit.orders = "Count", dimension.region = "eu");
        }
        fn elsewhere(d: u64) {
            let _span = tracing::info_span!("work", gauge.queue_depth = d, unit.queue_depth = "Percent").entered();
            tracing::debug!(monotonic_counter.retries = 1, latency_ms = 3, note = "counter.fake = 1");
            let _ = a == b; // not a field
        }
        "#,
    );
    let fields: Vec<(&str, Kind, &str, Vec<String>)> = c
        .fields
        .iter()
        .map(|f| {
            (
                f.name.as_str(),
                f.kind,
                f.unit.as_str(),
                f.dimensions.clone(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            (
                "payload_bytes",
                Kind::Histogram,
                "Bytes",
                vec!["operation".to_string()]
            ),
            (
                "orders",
                Kind::Counter,
                "Count",
                vec!["operation".to_string(), "region".to_string()]
            ),
            ("queue_depth", Kind::Gauge, "Percent", vec![]),
            ("retries", Kind::Counter, "Count", vec![]),
        ]
    );
}

#[test]
fn builder_settings_objectives_and_integrations() {
    let c = catalog(
        r#"
        instrument::objectives!(success = 99.5, latency_ms = 300, percentile = 95);
        fn main() {
            let _guard = instrument::builder()
                .service("video-api")
                .namespace("Media")
                .environment_var("PAVI_ENVIRONMENT")
                .install();
            let other = Config::default().service("not-instrument");
            let app = Router::new().layer(instrument::http::RequestLayer::new());
            lambda_runtime::run(service_fn(handler));
        }
        #[instrument::track_performance(objective(latency_ms = 40))]
        fn transcode() {}
        "#,
    );
    let s = &c.settings;
    assert_eq!(s.service.as_ref().unwrap().value, "video-api");
    assert_eq!(s.namespace.as_ref().unwrap().value, "Media");
    assert_eq!(
        s.environment_var.as_ref().unwrap().value,
        "PAVI_ENVIRONMENT"
    );
    assert_eq!(s.service.as_ref().unwrap().location.line, 5);
    assert!(s.environment.is_none());
    assert!(c.http && c.lambda);
    let slo = c.functions[0].objective(&c).unwrap();
    assert_eq!(
        (slo.success, slo.latency_ms, slo.percentile()),
        (Some(99.5), Some(40.0), 95.0)
    );
    let names: Vec<String> = c.metrics().into_iter().map(|m| m.name).collect();
    assert!(names.contains(&"http_request.server_error".to_string()));
    assert!(names.contains(&"ColdStart".to_string()));

    // The environment comes from a variable at run time: the generators need its values.
    use instrument_cli::settings::{Overrides, ServiceSettings, SettingsError};
    let region = Overrides {
        region: Some("eu-west-1".into()),
        ..Overrides::default()
    };
    let err = ServiceSettings::resolve(&c, &region, |_| None).unwrap_err();
    assert!(
        matches!(err, SettingsError::EnvironmentAtRunTime { .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("$PAVI_ENVIRONMENT at run time (src/lib.rs:7)"),
        "{err}"
    );
    let given = Overrides {
        environments: vec!["staging".into()],
        ..region
    };
    let settings = ServiceSettings::resolve(&c, &given, |_| None).unwrap();
    assert_eq!(settings.environments, ["staging"]);
}

#[test]
fn errors_name_the_file_and_line() {
    let (line, message) = error("fn ok() {}\n\nfn broken( {\n");
    assert_eq!(line, 3, "{message}");
    assert!(message.contains("does not parse"), "{message}");

    let (line, message) = error("\n#[instrument::track_performance(nmae = \"x\")]\nfn f() {}\n");
    assert_eq!(line, 2);
    assert!(
        message.contains("unknown #[track_performance] option `nmae`"),
        "{message}"
    );

    let (line, message) =
        error("\n\n#[track_performance(dimensions(error_type = \"gateway\"))]\nfn f() {}\n");
    assert_eq!(line, 3);
    assert!(
        message.contains("`error_type` is a field #[track_performance] records itself"),
        "{message}"
    );

    let (_, message) = error(
        "instrument::objectives!(success = 99.0);\ninstrument::objectives!(success = 98.0);\n",
    );
    assert!(
        message.contains("a second instrument::objectives!"),
        "{message}"
    );

    let (line, message) = error("\n\ninstrument::objectives!(success = 101);\n");
    assert_eq!(line, 3);
    assert!(message.contains("between 0 and 100"), "{message}");
}
