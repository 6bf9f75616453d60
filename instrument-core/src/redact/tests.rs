use super::replace::mask;
use super::*;

const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Redactor>();
};

#[test]
fn masks() {
    let mut out = String::new();
    mask("4111 1111 1111 1111", 4, &mut |s| out.push_str(s));
    assert_eq!(out, "**** **** **** 1111");
    out.clear();
    mask("hunter2", 4, &mut |s| out.push_str(s));
    assert_eq!(out, "*******");
    assert!(already_masked("*******", 4));
    assert!(already_masked("**** **** **** 1111", 4));
    assert!(!already_masked("ab*cd", 4));
    // A `*` then letters is not what `mask` writes: it shows letters only when it hides more.
    assert!(!already_masked("*AA!AA", 4));
    assert!(!already_masked("**ab", 4));
    assert!(already_masked("***ab", 4));
    // Whatever `mask` writes is recognised, for every keep and length.
    for keep in 0..6 {
        for len in 0..20 {
            let value: String = "ab*-cd9!ef ghXY12*34".chars().take(len).collect();
            out.clear();
            mask(&value, keep, &mut |s| out.push_str(s));
            if out.contains('*') {
                assert!(
                    already_masked(&out, keep),
                    "{value:?} -> {out:?}, keep {keep}"
                );
            }
        }
    }
    let long = "x".repeat(1000);
    out.clear();
    mask(&long, 4, &mut |s| out.push_str(s));
    assert_eq!(out, format!("{}xxxx", "*".repeat(996)));
}

#[test]
fn hashes_are_stable_and_canonical() {
    let config = RedactConfig::default()
        .method("card", Method::Hash)
        .method("email", Method::Hash)
        .hash_key("k");
    let r = Redactor::new(&config).unwrap();
    let a = r.redact("4111 1111 1111 1111");
    let b = r.redact("4111-1111-1111-1111");
    assert_eq!(a, b);
    assert!(a.starts_with("[HASH:card:") && a.len() == "[HASH:card:]".len() + 16);
    assert_eq!(r.redact("Bob@Example.com"), r.redact("bob@example.com"));
    let other = Redactor::new(&config.clone().hash_key("other")).unwrap();
    assert_ne!(other.redact("bob@example.com"), r.redact("bob@example.com"));
}

#[test]
fn hash_key_errors() {
    let no_key = RedactConfig::default().method("email", Method::Hash);
    assert!(matches!(
        Redactor::new(&no_key),
        Err(RedactError::MissingHashKey { rule }) if rule == "email"
    ));
    let empty = RedactConfig::default().hash_key("");
    assert!(matches!(
        Redactor::new(&empty),
        Err(RedactError::EmptyHashKey)
    ));
    let env =
        RedactConfig::default().with_env(|n| (n == "INSTRUMENT_REDACT_HASH_KEY").then(String::new));
    assert!(matches!(
        Redactor::new(&env),
        Err(RedactError::EmptyHashKey)
    ));
}

#[test]
fn config_errors() {
    let unknown = RedactConfig::default().disable("emial");
    let err = Redactor::new(&unknown).unwrap_err();
    assert!(matches!(err, RedactError::UnknownRule { .. }));
    assert!(err.to_string().contains("email"), "{err}");
    let builtin = RedactConfig::default().custom_rule("email", "x", Method::Replace);
    assert!(matches!(
        Redactor::new(&builtin),
        Err(RedactError::BuiltinPattern { .. })
    ));
    let empty = RedactConfig::default().custom_rule("opt", "a*", Method::Replace);
    assert!(matches!(
        Redactor::new(&empty),
        Err(RedactError::EmptyMatch { .. })
    ));
    let name = RedactConfig::default().custom_rule("Bad Name", "x", Method::Replace);
    assert!(matches!(
        Redactor::new(&name),
        Err(RedactError::InvalidName { .. })
    ));
    let key = RedactConfig::default().key_method("pin", Method::Replace);
    assert!(matches!(
        Redactor::new(&key),
        Err(RedactError::UnknownKeyRule { .. })
    ));
    let glob = RedactConfig::default().key_rule("pin", &[" "], Method::Replace);
    assert!(matches!(
        Redactor::new(&glob),
        Err(RedactError::EmptyGlob { .. })
    ));
}

#[test]
fn env() {
    let config = RedactConfig::default().with_env(|n| match n {
        "INSTRUMENT_REDACT_DISABLE" => Some("ipv4, ipv6".into()),
        "INSTRUMENT_REDACT_KEYS" => Some("pin,*_pin".into()),
        "INSTRUMENT_REDACT_HASH_KEY" => Some("k".into()),
        _ => None,
    });
    let r = Redactor::new(&config).unwrap();
    assert_eq!(
        r.redact("from 10.1.2.3 card_pin=1234"),
        "from 10.1.2.3 card_pin=[REDACTED:sensitive]"
    );
    assert!(r.key_rule("pin").is_some());
}

#[test]
fn custom_value_group() {
    let config = RedactConfig::default().custom_rule(
        "member",
        r"member (?P<value>M[0-9]{6})",
        Method::Replace,
    );
    let r = Redactor::new(&config).unwrap();
    assert_eq!(r.redact("member M123456 ok"), "member [REDACTED:member] ok");
}

#[test]
fn keyed() {
    let r =
        Redactor::new(&RedactConfig::default().key_method("password", Method::mask(2))).unwrap();
    let k = r.key_rule("PASSWORD").unwrap();
    assert_eq!(r.key_rule_name(k), "password");
    assert_eq!(r.redact_keyed(k, "correct horse"), "******* ***se");
    let t = r.key_rule("accessToken").unwrap();
    assert!(matches!(
        r.redact_keyed(t, "abc"),
        Cow::Borrowed("[REDACTED:token]")
    ));
    assert_eq!(r.redact_keyed(KeyMatch { index: 999 }, "x"), "[REDACTED]");
}

#[test]
fn disabled() {
    let r = Redactor::disabled();
    assert!(!r.is_active());
    assert!(matches!(
        r.redact("bob@example.com password=x"),
        Cow::Borrowed(_)
    ));
    assert!(r.key_rule("password").is_none());
}

#[test]
fn prefilter_never_changes_results() {
    // With every rule forced on, the result must equal the prefiltered one.
    let r = Redactor::default();
    let samples = [
        "a 4111 1111 1111 1111 b",
        "ssn 078-05-1120 and 078 05 1120, SSN: 078051120",
        "call +1 415 555 2671 or (415) 555-2671 or 415.555.2671",
        "GB82 WEST 1234 5698 7654 32 and DE89370400440532013000",
        "2001:db8::1 and 1:2:3:4:5:6:7:8 and ::ffff:192.0.2.1 std::fmt",
        "10.0.0.1, 1.2.3.4.5",
        "Authorization: Bearer abcdefgh12345678 and SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AKIAIOSFODNN7EXAMPLE",
        "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----",
    ];
    for s in samples {
        let out = r.redact_unfiltered(s);
        assert_eq!(r.redact(s), out, "{s}");
    }
}
