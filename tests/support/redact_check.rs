//! The shared assertion of the redaction case tests.

use instrument::redact::Redactor;

/// Each input must become exactly its expected output, and stay so when redacted again; every
/// failure is reported at once.
#[track_caller]
pub(crate) fn check(r: &Redactor, cases: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for (input, expected) in cases {
        let out = r.redact(input);
        if out != *expected {
            failures.push(format!(
                "  {input:?}\n    got      {out:?}\n    expected {expected:?}"
            ));
        }
        // Idempotent, always.
        let again = r.redact(&out);
        if again != out {
            failures.push(format!("  not idempotent: {out:?} -> {again:?}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
