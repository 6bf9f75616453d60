//! The service's settings the generators need: the catalog's literal `instrument::builder()`
//! settings, overridden by the command line (and the region by the AWS environment).

use serde::Serialize;

use crate::catalog::Catalog;

/// What the command line gives.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--namespace`.
    pub namespace: Option<String>,
    /// `--service`.
    pub service: Option<String>,
    /// `--environment` (repeatable).
    pub environments: Vec<String>,
    /// `--region`.
    pub region: Option<String>,
    /// `--log-group` (repeatable).
    pub log_groups: Vec<String>,
    /// `--alarm-topic`: an SNS topic ARN.
    pub alarm_topic: Option<String>,
    /// `--name`: the prefix of dashboard, alarm and query names.
    pub name: Option<String>,
}

/// The resolved settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceSettings {
    /// The metric namespace.
    pub namespace: String,
    /// The `service` dimension's value (absent: no such dimension).
    pub service: Option<String>,
    /// The `environment` dimension's values (empty: no such dimension).
    pub environments: Vec<String>,
    /// The AWS region of dashboards' widgets and of `--apply`.
    pub region: String,
    /// The log groups of the Logs Insights widget and saved queries.
    pub log_groups: Vec<String>,
    /// The SNS topic alarms notify.
    pub alarm_topic: Option<String>,
    /// The prefix of every generated name.
    pub name: String,
}

/// Why settings could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// No namespace anywhere.
    #[error(
        "no metric namespace: the sources do not call instrument::builder().namespace(\"…\") \
         with a literal; pass --namespace (the value of INSTRUMENT_NAMESPACE at run time)"
    )]
    MissingNamespace,
    /// No region anywhere.
    #[error("no AWS region: pass --region, or set AWS_REGION")]
    MissingRegion,
    /// The code reads the environment from a variable at run time, and no `--environment`.
    #[error(
        "the environment dimension's value comes from ${variable} at run time ({location}): \
         pass the values it takes with --environment (e.g. --environment dev,prod)"
    )]
    EnvironmentAtRunTime {
        /// The variable.
        variable: String,
        /// Where the code names it.
        location: String,
    },
    /// A value CloudWatch would reject.
    #[error("{0}")]
    Invalid(String),
}

impl ServiceSettings {
    /// Resolves: the command line, else the code's literal, else (region) `AWS_REGION` /
    /// `AWS_DEFAULT_REGION` from `env`.
    ///
    /// ```
    /// use instrument_cli::catalog::Catalog;
    /// use instrument_cli::settings::{Overrides, ServiceSettings, SettingsError};
    ///
    /// let code = r#"fn main() { let _g = instrument::builder().service("booking").namespace("Ticketing").install(); }"#;
    /// let catalog = Catalog::from_sources(&[("main.rs".into(), code.into())]).unwrap();
    /// let env = |k: &str| (k == "AWS_REGION").then(|| "eu-west-1".to_string());
    /// let overrides = Overrides { environments: vec!["prod".into()], ..Overrides::default() };
    /// let settings = ServiceSettings::resolve(&catalog, &overrides, env).unwrap();
    /// assert_eq!((settings.namespace.as_str(), settings.region.as_str()), ("Ticketing", "eu-west-1"));
    /// assert_eq!(settings.service.as_deref(), Some("booking"));
    ///
    /// let bare = Catalog::default();
    /// assert_eq!(ServiceSettings::resolve(&bare, &overrides, env), Err(SettingsError::MissingNamespace));
    /// ```
    ///
    /// # Errors
    ///
    /// No namespace, no region, or a name CloudWatch would reject.
    pub fn resolve(
        catalog: &Catalog,
        overrides: &Overrides,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ServiceSettings, SettingsError> {
        let code = &catalog.settings;
        let namespace = overrides
            .namespace
            .clone()
            .or_else(|| code.namespace.as_ref().map(|s| s.value.clone()))
            .ok_or(SettingsError::MissingNamespace)?;
        let service = overrides
            .service
            .clone()
            .or_else(|| code.service.as_ref().map(|s| s.value.clone()));
        let mut environments: Vec<String> = Vec::new();
        for e in &overrides.environments {
            for e in e.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                if !environments.iter().any(|x| x == e) {
                    environments.push(e.to_owned());
                }
            }
        }
        if environments.is_empty() {
            environments.extend(code.environment.as_ref().map(|s| s.value.clone()));
        }
        if environments.is_empty() {
            if let Some(var) = &code.environment_var {
                return Err(SettingsError::EnvironmentAtRunTime {
                    variable: var.value.clone(),
                    location: var.location.to_string(),
                });
            }
        }
        let region = overrides
            .region
            .clone()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .filter(|r| !r.trim().is_empty())
            .ok_or(SettingsError::MissingRegion)?;
        let name = overrides
            .name
            .clone()
            .or_else(|| service.clone())
            .unwrap_or_else(|| namespace.clone());
        let valid = |s: &str| {
            !s.is_empty()
                && s.len() <= 200
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        };
        if !valid(&name) {
            return Err(SettingsError::Invalid(format!(
                "the name {name:?} (from --name, the service or the namespace) is not a valid \
                 dashboard name: use letters, digits, `-` and `_` (pass --name)"
            )));
        }
        if namespace.is_empty() || namespace.len() > 255 || namespace.starts_with(':') {
            return Err(SettingsError::Invalid(format!(
                "the namespace {namespace:?} is not a valid CloudWatch namespace"
            )));
        }
        Ok(ServiceSettings {
            namespace,
            service,
            environments,
            region,
            log_groups: overrides.log_groups.clone(),
            alarm_topic: overrides.alarm_topic.clone(),
            name,
        })
    }

    /// The default dimensions of every metric for one environment: `service` and
    /// `environment`, where configured.
    #[must_use]
    pub fn default_dimensions(&self, environment: Option<&str>) -> Vec<(String, String)> {
        let mut dims = Vec::new();
        if let Some(service) = &self.service {
            dims.push((
                instrument_vocab::metric::SERVICE_DIMENSION.to_owned(),
                service.clone(),
            ));
        }
        if let Some(environment) = environment {
            dims.push((
                instrument_vocab::metric::ENVIRONMENT_DIMENSION.to_owned(),
                environment.to_owned(),
            ));
        }
        dims
    }

    /// The environments to generate alarms for: each configured one, or one pass without an
    /// environment dimension.
    #[must_use]
    pub fn environment_passes(&self) -> Vec<Option<&str>> {
        if self.environments.is_empty() {
            vec![None]
        } else {
            self.environments.iter().map(|e| Some(e.as_str())).collect()
        }
    }
}
