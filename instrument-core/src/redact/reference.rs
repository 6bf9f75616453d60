//! A naive redactor for benchmarks: one typical regex per rule of the same rule set (value
//! rules, vendor token formats, key names), applied in turn with `replace_all`, no prefilter, no
//! validation. Not public API.

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
    ("basic_auth", r"(?i)\bbasic\s+[A-Za-z0-9+/]{8,}={0,2}"),
    (
        "github_token",
        r"\bgh[pousr]_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{82}\b",
    ),
    ("gitlab_token", r"\bgl(?:pat|dt|rt|ptt)-[A-Za-z0-9_\-]{20,}"),
    ("slack_token", r"\bxox[abposre]-[A-Za-z0-9\-]{10,}"),
    (
        "slack_webhook",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/+]+",
    ),
    ("stripe_key", r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{24,}"),
    ("stripe_webhook_secret", r"\bwhsec_[A-Za-z0-9+/]{32,}"),
    ("google_api_key", r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    ("anthropic_api_key", r"\bsk-ant-[A-Za-z0-9_\-]{40,}"),
    (
        "openai_api_key",
        r"\bsk-(?:proj-|svcacct-|admin-)[A-Za-z0-9_\-]{40,}|\bsk-[A-Za-z0-9]{48}\b",
    ),
    ("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("pypi_token", r"\bpypi-[A-Za-z0-9_\-]{50,}"),
    (
        "sendgrid_api_key",
        r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b",
    ),
    ("twilio_key", r"\b(?:SK|AC)[0-9a-f]{32}\b"),
    (
        "azure_storage_key",
        r"(?:AccountKey|SharedAccessKey)=[A-Za-z0-9+/]{43,86}={0,2}",
    ),
    ("azure_sas_signature", r"\bsig=[A-Za-z0-9%+/]{40,}"),
    ("new_relic_key", r"\bNR(?:AK|II|JS|IQ)-[A-Za-z0-9_\-]{19,}"),
    (
        "aws_session_token",
        r"(?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdz|FQoGZXIvYXdz|AQoDYXdz)[A-Za-z0-9+/]{80,}={0,2}",
    ),
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
