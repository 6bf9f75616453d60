//! `emf check`: per EMF document in a log stream, what CloudWatch would extract and every
//! reason it would drop a metric or reject the document, with line numbers.
//!
//! The rules are `instrument_emf::validate::document`: the rules the encoder enforces, one rule
//! set (`instrument-emf`'s `limits`), including those the published schema does not encode
//! (dimension values of printable ASCII with a non-whitespace character, names without control
//! characters). With [`CheckOptions::now_ms`] the timestamp window (14 days past, 2 hours
//! future) is checked against that time instead of the clock, for captured logs.

use std::io::{self, Write};

use serde_json::{Map, Value as Json};

use crate::emf::{extract, is_candidate, Datapoint};
use crate::error::Result;
use crate::input::{lines, read_chunks, Input};

/// How to check.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Check `_aws.Timestamp` against this time (epoch ms) instead of now.
    pub now_ms: Option<i64>,
}

/// The verdict on one EMF document.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentReport {
    /// The stream (file name or `stdin`).
    pub stream: String,
    /// The 1-based line number in the stream.
    pub line: u64,
    /// Every problem; empty when CloudWatch accepts the document.
    pub problems: Vec<String>,
    /// What CloudWatch extracts (empty when the document is rejected).
    pub extracted: Vec<Datapoint>,
}

/// The verdicts on every EMF document of the input.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// One entry per EMF document, in input order.
    pub documents: Vec<DocumentReport>,
}

const PAST_MS: i64 = 14 * 86_400_000;
const FUTURE_MS: i64 = 2 * 3_600_000;

/// Problems of one document (one line).
///
/// ```
/// use instrument_query::emf_check::{check_document, CheckOptions};
/// let doc = br#"{"_aws":{"Timestamp":1000,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["d"]],"Metrics":[{"Name":"m","Unit":"Parsecs"}]}]},"d":"x","m":1}"#;
/// let problems = check_document(doc, &CheckOptions { now_ms: Some(1000) });
/// assert_eq!(problems, vec!["metric \"m\" has an invalid Unit \"Parsecs\"".to_string()]);
/// ```
pub fn check_document(line: &[u8], options: &CheckOptions) -> Vec<String> {
    let mut problems = instrument_emf::validate::document(line);
    let parsed: Option<Map<String, Json>> = serde_json::from_slice(line).ok();
    if let Some(now) = options.now_ms {
        problems.retain(|p| {
            !(p.starts_with("_aws.Timestamp ")
                && p.ends_with("outside 14 days past / 2 hours future"))
        });
        let ts = parsed
            .as_ref()
            .and_then(|r| r.get("_aws")?.get("Timestamp")?.as_i64());
        if let Some(ts) = ts {
            if ts + PAST_MS < now || ts > now + FUTURE_MS {
                problems.push(format!(
                    "_aws.Timestamp {ts} is outside 14 days past / 2 hours future of {now}"
                ));
            }
        }
    }
    problems
}

/// Rules `instrument_emf::validate` does not check (yet).
/// Checks every EMF document in `inputs`.
///
/// ```
/// use instrument_query::{emf_check::{check, CheckOptions}, Input};
/// let log = "{\"level\":\"INFO\"}\n{\"_aws\":{\"CloudWatchMetrics\":[]}}\n";
/// let report = check(&[Input::bytes("app.log", log)], &CheckOptions::default()).unwrap();
/// assert_eq!(report.documents.len(), 1);
/// assert_eq!(report.documents[0].line, 2);
/// assert!(!report.is_ok());
/// ```
pub fn check(inputs: &[Input], options: &CheckOptions) -> Result<Report> {
    let mut report = Report::default();
    read_chunks(inputs, &mut |chunk| {
        for (index, line) in lines(&chunk.data) {
            if !is_candidate(line) {
                continue;
            }
            let problems = check_document(line, options);
            let extracted = if problems.is_empty() {
                serde_json::from_slice::<Map<String, Json>>(line)
                    .map(|root| extract(&root))
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            report.documents.push(DocumentReport {
                stream: chunk.stream.to_string(),
                line: chunk.first_line + index,
                problems,
                extracted,
            });
        }
    })?;
    Ok(report)
}

impl Report {
    /// Whether every document is accepted.
    ///
    /// ```
    /// use instrument_query::{emf_check::{check, CheckOptions}, Input};
    /// let report = check(&[Input::bytes("empty", "")], &CheckOptions::default()).unwrap();
    /// assert!(report.is_ok() && report.documents.is_empty());
    /// ```
    pub fn is_ok(&self) -> bool {
        self.documents.iter().all(|d| d.problems.is_empty())
    }

    /// The number of rejected documents.
    pub fn rejected(&self) -> usize {
        self.documents
            .iter()
            .filter(|d| !d.problems.is_empty())
            .count()
    }

    /// Writes the report: each rejected document with its problems, and (when `verbose`) what
    /// each accepted one yields; then a summary line.
    ///
    /// ```
    /// use instrument_query::{emf_check::{check, CheckOptions}, Input};
    /// let report = check(&[Input::bytes("app.log", "{\"_aws\":1}\n")], &CheckOptions::default()).unwrap();
    /// let mut out = Vec::new();
    /// report.write(&mut out, false).unwrap();
    /// let text = String::from_utf8(out).unwrap();
    /// assert!(text.starts_with("app.log:1: rejected"));
    /// assert!(text.ends_with("1 EMF documents, 0 accepted, 1 rejected\n"));
    /// ```
    pub fn write(&self, out: &mut dyn Write, verbose: bool) -> io::Result<()> {
        for d in &self.documents {
            if d.problems.is_empty() {
                if verbose {
                    let values: usize = d.extracted.iter().map(|p| p.values.len()).sum();
                    writeln!(
                        out,
                        "{}:{}: ok: {} series, {} values",
                        d.stream,
                        d.line,
                        d.extracted.len(),
                        values
                    )?;
                    for p in &d.extracted {
                        let dims: Vec<String> = p
                            .dimensions
                            .iter()
                            .map(|(k, v)| format!("{k}={v}"))
                            .collect();
                        writeln!(
                            out,
                            "    {} / {} [{}] {} × {}",
                            p.namespace,
                            p.metric,
                            dims.join(", "),
                            p.unit.as_deref().unwrap_or("None"),
                            p.values.len()
                        )?;
                    }
                }
            } else {
                writeln!(
                    out,
                    "{}:{}: rejected: no metrics extracted",
                    d.stream, d.line
                )?;
                for p in &d.problems {
                    writeln!(out, "    - {p}")?;
                }
            }
        }
        writeln!(
            out,
            "{} EMF documents, {} accepted, {} rejected",
            self.documents.len(),
            self.documents.len() - self.rejected(),
            self.rejected()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(dims: &str, extra: &str) -> String {
        format!(
            r#"{{"_aws":{{"Timestamp":1000,"CloudWatchMetrics":[{{"Namespace":"N","Dimensions":[{dims}],"Metrics":[{{"Name":"m","Unit":"Count"}}]}}]}},"m":1{extra}}}"#
        )
    }

    fn problems(line: &str) -> Vec<String> {
        check_document(line.as_bytes(), &CheckOptions { now_ms: Some(1000) })
    }

    #[test]
    fn names_and_values_cloudwatch_rejects() {
        assert_eq!(
            problems(&doc(r#"["d"]"#, r#","d":"x""#)),
            Vec::<String>::new()
        );
        let flagged = |line: String, phrase: &str| {
            let found = problems(&line);
            assert!(
                found.iter().any(|p| p.contains(phrase)),
                "{phrase:?} not in {found:?}"
            );
        };
        flagged(
            doc(r#"["d"]"#, r#","d":"caf\u00e9""#),
            "control or non-ASCII characters",
        );
        flagged(doc(r#"["d"]"#, r#","d":"   ""#), "only whitespace");
        flagged(
            doc(r#"["d\u0007"]"#, r#","d\u0007":"x""#),
            "printable ASCII",
        );
    }

    #[test]
    fn timestamps_against_a_given_time() {
        let line = doc(r#"["d"]"#, r#","d":"x""#);
        let day = 86_400_000;
        let at = |now| check_document(line.as_bytes(), &CheckOptions { now_ms: Some(now) });
        assert!(at(1000 + 14 * day).is_empty());
        assert_eq!(at(1001 + 14 * day).len(), 1);
        assert_eq!(at(1000 - 2 * 3_600_000 - 1).len(), 1);
    }
}
