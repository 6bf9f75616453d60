//! Fuzzes the PII redactor: no input may panic it, redaction is idempotent, the prefilter never
//! changes a result, the streaming and allocating forms agree, and a borrowed result is the
//! input itself.
//!
//! The first input byte picks a configuration (replace; mask; hash; vendor tokens masked and a
//! custom token rule with the `pii` group off); the rest is the text.

#![no_main]

use std::borrow::Cow;
use std::sync::OnceLock;

use instrument_core::redact::{Alphabet, Method, RedactConfig, Redactor, TokenRuleConfig};
use libfuzzer_sys::fuzz_target;

fn redactors() -> &'static [Redactor; 4] {
    static R: OnceLock<[Redactor; 4]> = OnceLock::new();
    R.get_or_init(|| {
        let masked = RedactConfig::default()
            .method("card", Method::mask(4))
            .method("iban", Method::mask(4))
            .method("phone", Method::mask(2))
            .key_method("password", Method::mask(3));
        let hashed = RedactConfig::default()
            .method("email", Method::Hash)
            .method("ipv4", Method::Hash)
            .key_method("token", Method::Hash)
            .custom_rule("booking", r"BK-[0-9]{6}", Method::Hash)
            .hash_key("fuzz-key");
        let mut vendor = RedactConfig::default()
            .disable("pii")
            .method("github_token", Method::mask(4))
            .method("slack_token", Method::Hash)
            .key_method("datadog_api_key", Method::mask(2))
            .hash_key("fuzz-key");
        vendor.tokens.insert(
            "acme".to_string(),
            TokenRuleConfig {
                prefixes: vec!["acme_".to_string(), "ac-".to_string()],
                alphabet: Alphabet::HexLower,
                length: [8, 40],
                ..TokenRuleConfig::default()
            },
        );
        [
            Redactor::default(),
            Redactor::new(&masked).expect("valid config"),
            Redactor::new(&hashed).expect("valid config"),
            Redactor::new(&vendor).expect("valid config"),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let r = &redactors()[usize::from(pick) % 4];
    let text = String::from_utf8_lossy(rest);

    let once = r.redact(&text);
    if let Cow::Borrowed(b) = &once {
        assert_eq!(*b, &*text);
    }
    let twice = r.redact(&once);
    assert_eq!(once, twice, "not idempotent on {text:?}");
    assert_eq!(
        once,
        r.redact_unfiltered(&text),
        "prefilter changed {text:?}"
    );

    let mut streamed = String::new();
    r.redact_with(&text, |s| streamed.push_str(s));
    assert_eq!(streamed, once);

    if let Some(k) = r.key_rule(&text) {
        let _ = r.redact_keyed(k, &text);
    }
});
