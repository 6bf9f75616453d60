//! `instrument`: run CloudWatch Logs Insights and Metrics Insights queries on local log files,
//! check the EMF documents in them, and generate (and apply) a service's dashboards, alarms and
//! saved queries from its sources, before anything reaches AWS.

#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use instrument_cli::catalog::{captured_in_files, Catalog, Comparison};
use instrument_cli::generate::evaluate::{evaluate, State};
use instrument_cli::generate::{cloudformation, plan, terraform, to_yaml, Parts, Plan};
use instrument_cli::settings::{Overrides, ServiceSettings};
use instrument_query::output::{self, Format};
use instrument_query::{emf_check, metrics_sql, pack, Input, LogsQuery, Options};

/// Query the JSON logs and EMF metrics of an instrument service locally, with the same query text
/// CloudWatch runs; list what the service publishes and generate its CloudWatch dashboard,
/// alarms and saved queries from its sources.
#[derive(Debug, Parser)]
#[command(name = "instrument", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a Logs Insights query over JSON-lines files (stdin when no file is given).
    ///
    /// Examples:
    ///   instrument query 'filter level = "ERROR" | stats count(*) by function' app.log
    ///   cargo run | instrument query 'stats pct(latency_ms, 95) by bin(5m)'
    ///   instrument query --saved errors-by-function app.log
    ///   instrument query --saved correlation-id --param correlation_id=trip-42 --print
    #[command(verbatim_doc_comment)]
    Query(QueryArgs),
    /// Run a Metrics Insights query (SQL) over the EMF documents in log files.
    ///
    /// Examples:
    ///   instrument metrics 'SELECT AVG("pay.latency") FROM "Ticketing" GROUP BY service' app.log
    ///   instrument metrics 'SELECT SUM("http_request.success") FROM SCHEMA("Ticketing", route, method, service) GROUP BY route' app.log
    #[command(verbatim_doc_comment)]
    Metrics(MetricsArgs),
    /// Embedded Metric Format tools.
    #[command(subcommand)]
    Emf(EmfCommand),
    /// List what a service publishes, read from its sources: tracked functions, metric names
    /// (exactly as CloudWatch will list them), dimensions, units, objectives.
    ///
    /// Examples:
    ///   instrument catalog                               # the crate in the current directory
    ///   instrument catalog path/to/crate --format json
    ///   instrument catalog . --compare app.log           # vs the EMF documents of a captured log
    #[command(verbatim_doc_comment)]
    Catalog(CatalogArgs),
    /// Generate the service's CloudWatch dashboard: calls, errors, error rate and p50/p95/p99
    /// latency per tracked function, HTTP routes, cold starts, metric fields, recent errors.
    ///
    /// Examples:
    ///   instrument dashboard --environment dev,prod > dashboard.yaml
    ///   instrument dashboard --format terraform --output dashboard.tf.json
    ///   instrument dashboard --apply                     # PutDashboard (feature `apply`)
    #[command(verbatim_doc_comment)]
    Dashboard(GenerateArgs),
    /// Generate alarms from the objectives in the code: per tracked function and environment,
    /// the error rate over 100 - success % and the latency percentile over latency_ms.
    ///
    /// Examples:
    ///   instrument alarms --environment prod --alarm-topic arn:aws:sns:eu-west-1:123456789012:oncall
    ///   instrument alarms --check app.log                # evaluate them on a captured log
    #[command(verbatim_doc_comment)]
    Alarms(AlarmsArgs),
    /// Generate the saved Logs Insights queries (the query pack) for the service's log groups.
    ///
    /// Example:
    ///   instrument queries --log-group /aws/lambda/booking --apply
    #[command(verbatim_doc_comment)]
    Queries(GenerateArgs),
    /// Generate the dashboard, the alarms and the saved queries together (one template).
    ///
    /// Example:
    ///   instrument generate --environment dev,prod --log-group /aws/lambda/booking > ops.yaml
    #[command(verbatim_doc_comment)]
    Generate(GenerateArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CatalogFormat {
    /// For people.
    Text,
    /// The whole catalog as one JSON object.
    Json,
}

#[derive(Debug, Args)]
struct CatalogArgs {
    /// Crate directories (their src/) or .rs files [default: .].
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: CatalogFormat,
    /// Compare with the metrics in these captured logs (their EMF documents): declared but never
    /// emitted, emitted but undeclared.
    #[arg(long, value_name = "LOG")]
    compare: Vec<PathBuf>,
    /// With --compare: exit with status 1 on a difference (metrics only published on errors,
    /// panics, cancellations or cold starts are not differences).
    #[arg(long, requires = "compare")]
    strict: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TemplateFormat {
    /// A CloudFormation template in YAML.
    Cloudformation,
    /// A CloudFormation template in JSON.
    CloudformationJson,
    /// Terraform JSON (write it to a *.tf.json file).
    Terraform,
    /// The CloudWatch API requests' inputs (PutDashboard, PutMetricAlarm, PutQueryDefinition).
    Api,
}

#[derive(Debug, Args)]
struct GenerateArgs {
    /// Crate directories (their src/) or .rs files [default: .].
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "cloudformation")]
    format: TemplateFormat,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The metric namespace [default: the code's instrument::builder().namespace("…")].
    #[arg(long)]
    namespace: Option<String>,
    /// The service dimension's value [default: the code's .service("…")].
    #[arg(long)]
    service: Option<String>,
    /// The environments (the environment dimension's values): alarms for each, a dashboard
    /// selector [default: the code's .environment("…"), else none].
    #[arg(long, value_name = "NAME[,NAME]")]
    environment: Vec<String>,
    /// The AWS region of the widgets and of --apply [default: AWS_REGION].
    #[arg(long)]
    region: Option<String>,
    /// Log groups for the recent-errors widget and the saved queries.
    #[arg(long, value_name = "NAME")]
    log_group: Vec<String>,
    /// The ARN of the SNS topic the alarms notify (a template parameter's default).
    #[arg(long, value_name = "ARN")]
    alarm_topic: Option<String>,
    /// The prefix of every generated name [default: the service, else the namespace].
    #[arg(long)]
    name: Option<String>,
    /// Create or update the resources in CloudWatch (AWS SDK, standard credentials chain)
    /// instead of printing them. Needs the cargo feature `apply`.
    #[arg(long, conflicts_with = "output")]
    apply: bool,
}

#[derive(Debug, Args)]
struct AlarmsArgs {
    #[command(flatten)]
    generate: GenerateArgs,
    /// Evaluate the alarms on the EMF documents of captured logs and print each one's state,
    /// instead of generating them. Exits with status 1 when one would be in ALARM.
    #[arg(long, value_name = "LOG", conflicts_with = "apply")]
    check: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutputFormat {
    /// Aligned columns (the default on a terminal).
    Table,
    /// One JSON object per row (the default when piped).
    Json,
    /// CSV with a header row.
    Csv,
}

#[derive(Debug, Args)]
struct Common {
    /// Output format [default: table on a terminal, json otherwise].
    #[arg(long, value_enum)]
    format: Option<OutputFormat>,
}

impl Common {
    fn format(&self) -> Format {
        match self.format {
            Some(OutputFormat::Table) => Format::Table,
            Some(OutputFormat::Json) => Format::Json,
            Some(OutputFormat::Csv) => Format::Csv,
            None if std::io::stdout().is_terminal() => Format::Table,
            None => Format::Json,
        }
    }
}

#[derive(Debug, Args)]
struct QueryArgs {
    /// The query, e.g. 'fields @timestamp, message | filter level = "ERROR"' (with --saved, the
    /// first file).
    #[arg(required_unless_present_any = ["saved", "list"])]
    query: Option<String>,
    /// Log files (JSON lines; other lines are @message-only events). Reads stdin when empty.
    files: Vec<PathBuf>,
    /// Run a query of the saved-query pack instead (see --list).
    #[arg(long, value_name = "NAME")]
    saved: Option<String>,
    /// Fill a {{placeholder}} of a saved query: --param correlation_id=trip-42.
    #[arg(long, value_name = "NAME=VALUE", value_parser = parse_param)]
    param: Vec<(String, String)>,
    /// Print the query text (to paste into the CloudWatch console) instead of running it.
    #[arg(long)]
    print: bool,
    /// List the saved-query pack.
    #[arg(long, exclusive = true)]
    list: bool,
    /// The value of @log (the log group).
    #[arg(long, value_name = "NAME")]
    log_group: Option<String>,
    /// The value of @logStream [default: the file name, or "stdin"].
    #[arg(long, value_name = "NAME")]
    log_stream: Option<String>,
    /// Worker threads [default: one per core].
    #[arg(long)]
    threads: Option<usize>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct MetricsArgs {
    /// The Metrics Insights query: SELECT FUNC(metric) FROM "Namespace" | SCHEMA(...) [WHERE ...] [GROUP BY ...] [ORDER BY ...] [LIMIT n].
    sql: String,
    /// Log files holding EMF documents (stdin when empty).
    files: Vec<PathBuf>,
    /// One row per series and period of this many seconds (as a dashboard graphs it), instead
    /// of one value per series over the whole input.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u32).range(1..))]
    period: Option<u32>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Subcommand)]
enum EmfCommand {
    /// Report, per EMF document, what CloudWatch would extract and every reason a metric would
    /// be dropped or the document rejected. Exits with status 1 on any problem.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Log files (stdin when empty). Lines without `_aws` are ignored unless they look like
    /// a broken EMF document.
    files: Vec<PathBuf>,
    /// Check timestamps against this time (RFC 3339 or epoch ms) instead of now: for logs
    /// captured earlier (CloudWatch accepts 14 days past to 2 hours future).
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Print only problems, not what each valid document yields.
    #[arg(long, short)]
    quiet: bool,
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected NAME=VALUE, got {s:?}"))
}

fn inputs(files: &[PathBuf]) -> Vec<Input> {
    if files.is_empty() {
        vec![Input::Stdin]
    } else {
        files.iter().cloned().map(Input::Path).collect()
    }
}

fn run(cli: Cli) -> Result<bool, Box<dyn std::error::Error>> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cli.command {
        Command::Query(args) => {
            if args.list {
                let width = pack::PACK.iter().map(|q| q.name.len()).max().unwrap_or(0);
                for q in pack::PACK {
                    writeln!(out, "{:width$}  {}", q.name, q.summary())?;
                }
                return Ok(true);
            }
            let mut files = args.files.clone();
            let text = match (&args.saved, &args.query) {
                (Some(name), first) => {
                    files.splice(0..0, first.iter().map(PathBuf::from));
                    pack::find(name)?.render(&args.param)?
                }
                (None, Some(q)) => q.clone(),
                (None, None) => unreachable!("clap requires a query"),
            };
            let query = LogsQuery::new(&text)?;
            if args.print {
                write!(out, "{text}")?;
                if !text.ends_with('\n') {
                    writeln!(out)?;
                }
                return Ok(true);
            }
            let options = Options {
                log_group: args.log_group,
                log_stream: args.log_stream,
                threads: args.threads,
            };
            let table = query.run(&inputs(&files), &options)?;
            output::write(&table, args.common.format(), &mut out)?;
            Ok(true)
        }
        Command::Metrics(args) => {
            let query = metrics_sql::MetricsQuery::new(&args.sql)?;
            let period = args.period.map(|p| i64::from(p) * 1000);
            let table = query.run_period(&inputs(&args.files), period)?;
            output::write(&table, args.common.format(), &mut out)?;
            Ok(true)
        }
        Command::Emf(EmfCommand::Check(args)) => {
            let now = match &args.now {
                None => None,
                Some(t) => Some(
                    instrument_query::time::parse_rfc3339(t)
                        .or_else(|| t.parse().ok())
                        .ok_or_else(|| {
                            format!("--now: expected RFC 3339 or epoch milliseconds, got {t:?}")
                        })?,
                ),
            };
            let report = emf_check::check(
                &inputs(&args.files),
                &emf_check::CheckOptions { now_ms: now },
            )?;
            report.write(&mut out, !args.quiet)?;
            Ok(report.is_ok())
        }
        Command::Catalog(args) => {
            let catalog = Catalog::scan(&paths(&args.paths))?;
            match args.format {
                CatalogFormat::Text => write!(out, "{}", catalog.to_text())?,
                CatalogFormat::Json => {
                    let mut value = serde_json::to_value(&catalog)?;
                    value["metrics"] = serde_json::to_value(catalog.metrics())?;
                    serde_json::to_writer_pretty(&mut out, &value)?;
                    writeln!(out)?;
                }
            }
            if args.compare.is_empty() {
                return Ok(true);
            }
            let captured = captured_in_files(&args.compare)?;
            let comparison = Comparison::new(&catalog, &captured);
            match args.format {
                CatalogFormat::Text => write!(out, "\n{}", comparison.to_text())?,
                CatalogFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &comparison)?;
                    writeln!(out)?;
                }
            }
            Ok(!args.strict || comparison.is_clean())
        }
        Command::Dashboard(args) => generate(
            &args,
            Parts {
                dashboard: true,
                alarms: false,
                queries: false,
            },
            &mut out,
        ),
        Command::Queries(args) => generate(
            &args,
            Parts {
                dashboard: false,
                alarms: false,
                queries: true,
            },
            &mut out,
        ),
        Command::Generate(args) => generate(&args, Parts::ALL, &mut out),
        Command::Alarms(args) => {
            let parts = Parts {
                dashboard: false,
                alarms: true,
                queries: false,
            };
            if args.check.is_empty() {
                return generate(&args.generate, parts, &mut out);
            }
            // Evaluated locally: the region names nothing, so none is needed.
            let mut generate = args.generate;
            if generate.region.is_none() && std::env::var_os("AWS_REGION").is_none() {
                generate.region = Some("local".to_owned());
            }
            let (plan, _) = plan_for(&generate, parts)?;
            let mut points = Vec::new();
            for path in &args.check {
                points.extend(captured_points(path)?);
            }
            let mut all_ok = true;
            for alarm in &plan.alarms {
                let evaluation = evaluate(alarm, &points);
                let state = match evaluation.state {
                    State::Ok => "OK",
                    State::Alarm => "ALARM",
                    State::InsufficientData => "INSUFFICIENT_DATA",
                };
                all_ok &= evaluation.state != State::Alarm;
                let last = evaluation
                    .series
                    .last()
                    .map_or_else(|| "no data".to_owned(), |(_, v)| format!("latest {v:.3}"));
                writeln!(
                    out,
                    "{state:<17} {}  ({last}, threshold {}, {} of {} periods breaching)",
                    alarm.name, alarm.threshold, evaluation.breaching, alarm.evaluation_periods
                )?;
            }
            Ok(all_ok)
        }
    }
}

fn paths(given: &[PathBuf]) -> Vec<PathBuf> {
    if given.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        given.to_vec()
    }
}

/// The datapoints CloudWatch would extract from a captured log's EMF documents.
fn captured_points(
    path: &std::path::Path,
) -> Result<Vec<instrument_query::emf::Datapoint>, Box<dyn std::error::Error>> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut points = Vec::new();
    for line in text.split(|b| *b == b'\n') {
        if !instrument_query::emf::is_candidate(line) {
            continue;
        }
        if let Ok(serde_json::Value::Object(doc)) = serde_json::from_slice(line) {
            points.extend(instrument_query::emf::extract(&doc));
        }
    }
    Ok(points)
}

fn plan_for(
    args: &GenerateArgs,
    parts: Parts,
) -> Result<(Plan, ServiceSettings), Box<dyn std::error::Error>> {
    let catalog = Catalog::scan(&paths(&args.paths))?;
    let overrides = Overrides {
        namespace: args.namespace.clone(),
        service: args.service.clone(),
        environments: args.environment.clone(),
        region: args.region.clone(),
        log_groups: args.log_group.clone(),
        alarm_topic: args.alarm_topic.clone(),
        name: args.name.clone(),
    };
    let settings = ServiceSettings::resolve(&catalog, &overrides, |k| std::env::var(k).ok())?;
    Ok((plan(&catalog, &settings, parts)?, settings))
}

fn generate(
    args: &GenerateArgs,
    parts: Parts,
    out: &mut dyn Write,
) -> Result<bool, Box<dyn std::error::Error>> {
    let (plan, settings) = plan_for(args, parts)?;
    if args.apply {
        return apply(&plan, &settings);
    }
    let text = match args.format {
        TemplateFormat::Cloudformation => to_yaml(&cloudformation::template(&plan)),
        TemplateFormat::CloudformationJson => {
            serde_json::to_string_pretty(&cloudformation::template(&plan))? + "\n"
        }
        TemplateFormat::Terraform => {
            serde_json::to_string_pretty(&terraform::configuration(&plan))? + "\n"
        }
        TemplateFormat::Api => serde_json::to_string_pretty(&plan.to_api_json())? + "\n",
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        None => out.write_all(text.as_bytes())?,
    }
    Ok(true)
}

#[cfg(feature = "apply")]
fn apply(plan: &Plan, settings: &ServiceSettings) -> Result<bool, Box<dyn std::error::Error>> {
    let stderr = std::io::stderr();
    let mut progress = stderr.lock();
    let applied = instrument_cli::apply::apply(plan, &settings.region, &mut progress)?;
    writeln!(
        progress,
        "done: {} dashboard(s) and {} alarm(s) put, {} saved query(ies) created, {} updated",
        applied.dashboards, applied.alarms, applied.queries_created, applied.queries_updated
    )?;
    Ok(true)
}

#[cfg(not(feature = "apply"))]
fn apply(_: &Plan, _: &ServiceSettings) -> Result<bool, Box<dyn std::error::Error>> {
    Err(
        "--apply needs the AWS SDK, which this build of instrument leaves out: install it with \
         `cargo install instrument-cli --features apply` (or print the template and deploy it)"
            .into(),
    )
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = std::io::stdout().flush();
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn params_split_on_the_first_equals_sign() {
        assert_eq!(parse_param("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert!(parse_param("ab").is_err());
    }
}
