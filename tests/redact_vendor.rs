//! Vendor secret formats (the `vendor_secrets` group): each format in the contexts a token
//! leaks in (log text, JSON, YAML, env files, CLI flags, URLs, headers), its look-alikes, and
//! turning the group or one rule off.

use std::borrow::Cow;

use instrument::redact::{Alphabet, RedactConfig, Redactor, TokenRuleConfig};

/// `(rule, token, look-alikes)`: tokens written for these tests, with each vendor's shape.
const FORMATS: &[(&str, &str, &[&str])] = &[
    (
        "github_token",
        "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",
        &[
            "ghp_lhQCvpm8FOFlEsD4qmq5ShuHRWYl393GJdmc", // checksum off by case
            "ghp_lhQCvpm8FOFlEsD4qmq5ShuHRWYl393GJdm",  // 35 characters
            "ghp_************************************",
        ],
    ),
    ("github_token", "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", &["gho_8ZpkpmVxKGmZR53W1FnTtqavzoXUzI0wDfPG"]),
    ("github_token", "ghs_wLKHr0rMTtJhsEK7GjFRYOYkmnPRZB1tFGSM", &["ghs_example"]),
    (
        "github_token",
        "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",
        &["github_pat_", "github_pat_I3b5KBjXkNVZP5BaGJJ0DJgaXMXqBVzENJE3A1415Yjol2Yl9xUOtFdX0f7wWIVl2Hj7nq8ek1KSYoi7t"],
    ),
    ("gitlab_token", "glpat-Zr7xK2pQ9mW4vN8tL3bY", &["glpat-xxxxxxxxxxxxxxxxxxxx", "glpat-short"]),
    (
        "slack_token",
        "xoxb-2644826410-4902184729152-Hx8fK2pQ9mZ4vR7tW1yB3nLs",
        &[
            "xoxb-your-bot-token",
            "xoxb-your-slack-bot-token-goes-here",
            "xoxb-XXXXXXXXXX-XXXXXXXXXXXXX-XXXXXXXXXXXXXXXXXXXXXXXX",
        ],
    ),
    ("slack_token", "xoxp-1234567890-2345678901-3456789012-0a1b2c3d4e5f60718293a4b5c6d7e8f9", &["xoxp-"]),
    ("stripe_key", "sk_live_51HqZ2bK9pQ2mW7vR4tY8zN3bL6sJdF0", &["sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "sk_live_abc"]),
    ("stripe_key", "rk_live_4eC39HqLyjWDarjtT1zdp7dc", &["rk_live_"]),
    ("stripe_webhook_secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &["whsec_short"]),
    ("google_api_key", "AIzaEgtSUJwW5BUEQ8XS-F2Xs8cUuA-7N2EoNaf", &["AIzaEgtSUJwW5BUEQ8XS-F2Xs8cUuA-7N2EoNafX", "AIzaaaa"]),
    ("openai_api_key", "sk-fIwn76YOzYL0IRWHaiXS24fEz0zlyAirTzRSxjvvU2Nt6iBS", &["sk-fIwn76YOzYL0IRWHaiXS24fEz0zlyAirTzRSxjvv", "sk-learn"]),
    (
        "openai_api_key",
        "sk-proj-2aQiZ6odrUlAJvABNMWj0dbPtbTW7YRogqm2-f9PrBOsJxUT-gAAK6SrFSXTkXvk42JD0zJbkmMg7gaUiASFCK-62_4f16U3UARKwIPpjCraTh_7ZdZfiKs5",
        &["sk-proj-placeholder"],
    ),
    (
        "anthropic_api_key",
        "sk-ant-api03-nViTQlISvY00bI3fGZJlBKuVr4lnPH7lCj7OulCU_WZN6cyAckYUibJBFrOcqD5Jc2vI1r-FJ8hSh6LKbyBcvMEy0iwd6AA",
        &["sk-ant-api03-xxxx"],
    ),
    ("npm_token", "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", &["npm_iAGEKg6TmLqI2vYZ10QIEfFjEjFfpP0mkXpk", "npm_config_cache"]),
    (
        "pypi_token",
        "pypi-AgEIcHlwaS5vcmcNPMFAXWog-oCGh5ut-ut4_wHdNc_hKyRSTk8sWGzXLmQNWupZy4zMQRhfEZmZtgKH8jQ5x",
        &["pypi-mirror-url", "pypi-simple-index-mirror-for-internal-packages-and-more-of-them"],
    ),
    (
        "sendgrid_api_key",
        "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",
        &["SG.ip1OORAdluvbaqXprA0ZCRrX3gWA-P67h0lfGuhIqRodgdoMQIM6sRYLkiD1iqHOF", "SG.gov"],
    ),
    ("twilio_key", "SK2f7d2cb191a5b734575a1d8c4f6b4428", &["SK2F7D2CB191A5B734575A1D8C4F6B4428", "SKU-4411"]),
    ("twilio_key", "ACd5b8c1628f9edede5ffb155b81f64157", &["ACd5b8c1628f9edede5ffb155b81f6415", "ACCEPTED"]),
    ("new_relic_key", "NRAK-9CB62HYVE61HRLDUC8TN0LMI436", &["NRAK-TODO"]),
];

#[test]
fn every_vendor_format_in_every_context() {
    let r = Redactor::default();
    let mut failures = Vec::new();
    for (rule, token, look_alikes) in FORMATS {
        let contexts = [
            format!("leaked {token} in log"),
            format!("{{\"token\":\"{token}\",\"n\":1}}"),
            format!("value: '{token}'\n"),
            format!("export VALUE={token}"),
            format!("cli --value={token} --verbose"),
            format!("[{token}]"),
            format!("({token}),"),
            format!("<v>{token}</v>"),
            token.to_string(),
        ];
        for text in contexts {
            let out = r.redact(&text);
            if out.contains(token) || !out.contains(&format!("[REDACTED:{rule}]")) {
                failures.push(format!("{rule}: {text:?} -> {out:?}"));
            }
        }
        for la in *look_alikes {
            for text in [format!("see {la} here"), format!("id=\"{la}\"")] {
                let out = r.redact(&text);
                if !matches!(out, Cow::Borrowed(_)) {
                    failures.push(format!("{rule} look-alike: {text:?} -> {out:?}"));
                }
            }
        }
        // Glued into a longer word, it is not the token.
        let glued = format!("x{token}");
        if r.redact(&glued).contains(&format!("[REDACTED:{rule}]")) && !token.starts_with("sk-") {
            failures.push(format!("{rule}: glued {glued:?}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn keyed_vendor_secrets_keep_their_key() {
    let r = Redactor::default();
    let cases = [
        (
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=F6k+9Ay4PH3MrzWQHVBeisYil/HSB9ijUtRQb3SzeKAExtSzceqPthEuRMPPQHKTD8V11UoJ7tA+UD7Ky9sHNX==;EndpointSuffix=core.windows.net",
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=[REDACTED:azure_storage_key];EndpointSuffix=core.windows.net",
        ),
        (
            "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=T9Sz2MYFkCi2RH2TOUTxKweOcyXFP+n8MPskMCIC00A=",
            "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=[REDACTED:azure_storage_key]",
        ),
        (
            "GET https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2026-01-01&sp=r&sig=S8wWq61FtmsKbSyRoWWR9TzcHMg2QwdXXzWB1W25eA4%3D&x=1",
            "GET https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2026-01-01&sp=r&sig=[REDACTED:azure_sas_signature]&x=1",
        ),
        (
            "posting to https://hooks.slack.com/services/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 failed",
            "posting to https://hooks.slack.com/services/[REDACTED:slack_webhook] failed",
        ),
        ("DD_API_KEY=0a1b2c3d4e5f60718293a4b5c6d7e8f9", "DD_API_KEY=[REDACTED:datadog_api_key]"),
        (
            "\"dd-application-key\": \"0a1b2c3d4e5f60718293a4b5c6d7e8f901234567\"",
            "\"dd-application-key\": \"[REDACTED:datadog_api_key]\"",
        ),
        (
            "NEW_RELIC_LICENSE_KEY: eu01xx0a1b2c3d4e5f60718293a4b5c6d7e8NRAL",
            "NEW_RELIC_LICENSE_KEY: [REDACTED:new_relic_license_key]",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(r.redact(input), expected);
    }
    for negative in [
        "AccountKey=<storage-key>",
        "sig=abc&sv=2022",
        "https://hooks.slack.com/services/",
        "DD_API_KEY=${DD_API_KEY}",
        "dd_site=datadoghq.eu",
    ] {
        assert_eq!(r.redact(negative), negative);
    }
}

#[test]
fn the_group_and_each_rule_can_be_turned_off() {
    let text = "t 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 s xoxb-2644826410-4902184729152-Hx8fK2pQ9mZ4vR7tW1yB3nLs";
    let off = Redactor::new(&RedactConfig::default().disable("vendor_secrets")).unwrap();
    assert_eq!(off.redact(text), text);
    let env = RedactConfig::default()
        .with_env(|n| (n == "INSTRUMENT_REDACT_DISABLE").then(|| "github_token".to_string()));
    assert_eq!(
        Redactor::new(&env).unwrap().redact(text),
        "t 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 s [REDACTED:slack_token]"
    );
    // A group off, one of its rules back on.
    let config: RedactConfig = serde_json::from_str(
        r#"{"groups": {"vendor_secrets": {"enabled": false}}, "rules": {"slack_token": {"enabled": true}}}"#,
    )
    .unwrap();
    assert_eq!(
        Redactor::new(&config).unwrap().redact(text),
        "t 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 s [REDACTED:slack_token]"
    );
    // Every group by name.
    for group in instrument::redact::GROUPS {
        assert!(
            Redactor::new(&RedactConfig::default().disable(group)).is_ok(),
            "{group}"
        );
    }
    let pii_off = Redactor::new(&RedactConfig::default().disable("pii")).unwrap();
    assert_eq!(
        pii_off.redact("bob@example.com password=x1"),
        "bob@example.com password=[REDACTED:password]"
    );
    let keys_off = Redactor::new(&RedactConfig::default().disable("keys")).unwrap();
    assert_eq!(
        keys_off.redact("password=x1 bob@example.com"),
        "password=x1 [REDACTED:email]"
    );
    assert!(
        serde_json::from_str::<RedactConfig>(r#"{"groups": {"vendor": {}}}"#)
            .map(|c| Redactor::new(&c).is_err())
            .unwrap_or(true)
    );
}

#[test]
fn custom_token_rules_are_data() {
    let mut config = RedactConfig::default();
    config.tokens.insert(
        "acme_key".to_string(),
        TokenRuleConfig {
            prefixes: vec!["acme_live_".to_string()],
            alphabet: Alphabet::HexLower,
            length: [32, 32],
            ..TokenRuleConfig::default()
        },
    );
    let r = Redactor::new(&config).unwrap();
    assert_eq!(
        r.redact("k=acme_live_0a1b2c3d4e5f60718293a4b5c6d7e8f9."),
        "k=[REDACTED:acme_key]."
    );
    assert_eq!(
        r.redact("acme_live_0A1B2C3D4E5F60718293A4B5C6D7E8F9"),
        "acme_live_0A1B2C3D4E5F60718293A4B5C6D7E8F9"
    );
    let mut bad = RedactConfig::default();
    bad.tokens
        .insert("x".to_string(), TokenRuleConfig::default());
    assert!(Redactor::new(&bad).is_err(), "a token rule needs a prefix");
    let mut clash = RedactConfig::default();
    clash.tokens.insert(
        "github_token".to_string(),
        TokenRuleConfig {
            prefixes: vec!["g_".into()],
            ..TokenRuleConfig::default()
        },
    );
    assert!(Redactor::new(&clash).is_err(), "built-in names are taken");
}
