//! `instrument`: run CloudWatch Logs Insights and Metrics Insights queries on local log files,
//! and check the EMF documents in them, before anything reaches AWS.

#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use instrument_query::output::{self, Format};
use instrument_query::{emf_check, metrics_sql, pack, Input, LogsQuery, Options};

/// Query the JSON logs and EMF metrics of an instrument service locally, with the same query text
/// CloudWatch runs.
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
    }
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
