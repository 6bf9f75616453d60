//! A naive redactor for benchmarks: one typical regex per rule, applied in turn with
//! `replace_all`, no prefilter, no validation. Not public API.

use std::borrow::Cow;

use regex::Regex;

/// The per-rule regexes as one would write them without a prefilter, each applied in turn.
#[derive(Debug, Clone)]
pub struct NaiveRedactor {
    rules: Vec<(String, Regex)>,
}

const NAIVE: &[(&str, &str)] = &[
    (
        "pem",
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
    ),
    (
        "url_credentials",
        r"[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:@/]+:[^\s@/]+@",
    ),
    ("jwt", r"eyJ[\w-]+\.[\w-]+\.[\w-]*"),
    (
        "aws_secret_access_key",
        r"(?i)secret_?(?:access_?)?key\W{0,4}[A-Za-z0-9/+]{40}",
    ),
    (
        "aws_access_key_id",
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|ABIA|ACCA)[A-Z0-9]{16}\b",
    ),
    ("bearer", r"(?i)bearer\s+[\w\-.~+/]+=*"),
    ("iban", r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,30}\b"),
    ("card", r"\b(?:\d[ -]?){12,18}\d\b"),
    ("email", r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,}"),
    ("ssn", r"\b\d{3}-\d{2}-\d{4}\b"),
    (
        "phone",
        r"\+\d[\d .\-]{6,18}\d|\(\d{3}\) ?\d{3}-\d{4}|\b\d{3}[.\-]\d{3}[.\-]\d{4}\b",
    ),
    (
        "ipv6",
        r"(?i)\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|\b(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}:?){0,6}",
    ),
    ("ipv4", r"\b(?:\d{1,3}\.){3}\d{1,3}\b"),
    (
        "key_value",
        r#"(?i)\b(?:password|passwd|pwd|secret|token|authorization|cookie|api_?key|private_?key|ssn|card_?number)\b["']?\s*[:=]\s*["']?[^\s"',;&]+"#,
    ),
];

impl Default for NaiveRedactor {
    fn default() -> Self {
        NaiveRedactor::new()
    }
}

impl NaiveRedactor {
    /// Compiles the naive rule set.
    pub fn new() -> NaiveRedactor {
        NaiveRedactor {
            rules: NAIVE
                .iter()
                .map(|(name, re)| {
                    (
                        format!("[REDACTED:{name}]"),
                        Regex::new(re).expect("naive patterns compile"),
                    )
                })
                .collect(),
        }
    }

    /// Applies every rule's regex in turn.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut current = Cow::Borrowed(text);
        for (replacement, regex) in &self.rules {
            let replaced = match regex.replace_all(&current, replacement.as_str()) {
                Cow::Borrowed(_) => None,
                Cow::Owned(s) => Some(s),
            };
            if let Some(s) = replaced {
                current = Cow::Owned(s);
            }
        }
        current
    }
}
