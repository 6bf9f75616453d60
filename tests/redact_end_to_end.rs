//! PII never leaves the process: redaction inside the log path and the EMF layer, as users get
//! it from `builder()`.

use std::fmt;

use instrument::redact::{Method, RedactConfig};
use instrument::testing::Capture;
use serde_json::Value;

const EMAIL: &str = "jane.doe@example.com";
const CARD: &str = "4111 1111 1111 1111";
const IBAN: &str = "DE89 3704 0044 0532 0130 00";
const SSN: &str = "123-45-6789";
const JWT: &str =
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
const PASSWORD: &str = "hunter2-correct-horse";

#[derive(Debug)]
#[allow(dead_code)]
struct Customer {
    name: &'static str,
    contact: Contact,
}

#[derive(Debug)]
#[allow(dead_code)]
struct Contact {
    email: &'static str,
    card: &'static str,
}

#[derive(Debug)]
struct GatewayError {
    source: std::io::Error,
}

impl fmt::Display for GatewayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "charge of card {CARD} failed")
    }
}

impl std::error::Error for GatewayError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

fn secrets() -> [&'static str; 6] {
    [EMAIL, CARD, IBAN, SSN, JWT, PASSWORD]
}

fn assert_clean(line: &Value) {
    let text = line.to_string();
    for secret in secrets() {
        assert!(!text.contains(secret), "{secret} leaked in {text}");
    }
    // Also the card without separators.
    assert!(!text.contains("4111111111111111"), "{text}");
}

fn pii_event() {
    let span = tracing::info_span!("checkout", customer_email = EMAIL, iban = IBAN);
    let _entered = span.enter();
    let err = GatewayError {
        source: std::io::Error::other(format!("issuer rejected {SSN} with token {JWT}")),
    };
    tracing::error!(
        customer = ?Customer { name: "Jane", contact: Contact { email: EMAIL, card: CARD } },
        password = PASSWORD,
        note = %format!("call back on {EMAIL}"),
        card_number = 4111111111111111u64,
        error = &err as &(dyn std::error::Error + 'static),
        "payment by {EMAIL} with card {CARD} failed"
    );
}

#[test]
fn no_pii_survives_in_message_fields_span_fields_debug_and_error_chain() {
    let capture = Capture::new();
    capture.run(pii_event);
    let logs = capture.logs();
    assert_eq!(logs.len(), 1);
    let line = &logs[0];
    assert_clean(line);
    // What is not PII stays readable.
    assert_eq!(
        line["message"],
        "payment by [REDACTED:email] with card [REDACTED:card] failed"
    );
    assert_eq!(line["password"], "[REDACTED:password]");
    assert_eq!(line["customer_email"], "[REDACTED:email]");
    assert!(line["customer"]
        .as_str()
        .unwrap()
        .contains("name: \"Jane\""));
    assert_eq!(
        line["error"]["message"],
        "charge of card [REDACTED:card] failed"
    );
    assert!(line["error"]["chain"][0]
        .as_str()
        .unwrap()
        .starts_with("issuer rejected [REDACTED:ssn]"));
}

#[test]
fn redaction_off_keeps_values_as_they_are() {
    let capture = Capture::with(|b| b.redact(false));
    capture.run(pii_event);
    let text = capture.logs()[0].to_string();
    assert!(text.contains(EMAIL));
}

#[test]
fn masking_and_keyed_hashing_are_configurable() {
    let capture = Capture::with(|b| {
        b.redaction(
            RedactConfig::default()
                .method("card", Method::Mask { keep: 4 })
                .method("email", Method::Hash)
                .hash_key("test-key-please-rotate"),
        )
    });
    capture.run(|| {
        tracing::info!("card {CARD} for {EMAIL}");
        tracing::info!("again {EMAIL}");
    });
    let logs = capture.logs();
    let first = logs[0]["message"].as_str().unwrap();
    assert!(first.contains("1111") && !first.contains(CARD), "{first}");
    assert!(!first.contains(EMAIL));
    // The same email hashes to the same pseudonym on every line.
    let pseudonym = |m: &str| m.split_whitespace().last().unwrap().to_string();
    assert_eq!(
        pseudonym(first),
        pseudonym(logs[1]["message"].as_str().unwrap())
    );
}

#[test]
fn invalid_rules_are_a_clear_error_at_init_not_a_panic() {
    let err = instrument::builder()
        .env_lookup(|_| None)
        .redaction(RedactConfig::default().custom_rule("order_id", "ORD-([", Method::Replace))
        .build()
        .err()
        .expect("a broken regex is refused");
    assert!(matches!(err, instrument::InitError::Redact(_)), "{err}");
    assert!(err.to_string().contains("order_id"), "{err}");

    let err = instrument::builder()
        .env_lookup(|k| (k == "INSTRUMENT_REDACT_HASH_KEY").then(String::new))
        .redaction(RedactConfig::default().method("email", Method::Hash))
        .build()
        .err()
        .expect("an empty hash key is refused");
    assert!(matches!(err, instrument::InitError::Redact(_)), "{err}");
}

#[test]
fn emf_dimension_values_are_redacted_too() {
    let capture = Capture::new();
    capture.run(|| {
        let span = tracing::info_span!("signup", dimension.user = EMAIL);
        let _e = span.enter();
        tracing::info!(counter.signups = 1);
    });
    let docs = capture.emf_documents();
    let doc = docs.iter().find(|d| d.get("signups").is_some()).unwrap();
    assert_eq!(doc["user"], "[REDACTED:email]");
    assert!(!doc.to_string().contains(EMAIL));
}
