//! Precision on code, configuration and odd layouts (issue 18): for every group of misses and
//! false positives, the cases that must be redacted and their look-alikes that must stay.

use std::borrow::Cow;

use instrument::redact::Redactor;

#[path = "support/redact_check.rs"]
mod redact_check;

/// Each input must become exactly its expected output under the default rules.
#[track_caller]
fn check(cases: &[(&str, &str)]) {
    redact_check::check(&Redactor::default(), cases);
}

/// Each text must come back unchanged (and borrowed).
#[track_caller]
fn unchanged(texts: &[&str]) {
    let r = Redactor::default();
    let changed: Vec<String> = texts
        .iter()
        .filter_map(|t| match r.redact(t) {
            Cow::Borrowed(_) => None,
            Cow::Owned(out) => Some(format!("  {t:?}\n    -> {out:?}")),
        })
        .collect();
    assert!(
        changed.is_empty(),
        "look-alikes changed:\n{}",
        changed.join("\n")
    );
}

#[test]
fn ipv4_with_a_cidr_suffix() {
    check(&[
        ("allow 192.168.1.0/24 only", "allow [REDACTED:ipv4]/24 only"),
        ("route 10.0.0.0/8,", "route [REDACTED:ipv4]/8,"),
        (
            "\"cidr\": \"172.16.4.0/22\"",
            "\"cidr\": \"[REDACTED:ipv4]/22\"",
        ),
        (
            "--source-range=203.0.113.0/32)",
            "--source-range=[REDACTED:ipv4]/32)",
        ),
        ("peer 198.51.100.7/0.", "peer [REDACTED:ipv4]/0."),
    ]);
    unchanged(&[
        "path /v1/192.168.1.1/345 and 10.0.0.1/33x",
        "ratio 10.0.0.1/3.5 and 1.2.3.4.5/24",
        "loopback 127.0.0.1/8 and 0.0.0.0/0",
    ]);
}

#[test]
fn yaml_block_scalars() {
    check(&[
        (
            "token: |\n  ghx-abc123-def456\nregion: eu-west-1",
            "token: |\n  [REDACTED:token]\nregion: eu-west-1",
        ),
        (
            "auth:\n  password: >-\n    correct horse\n    battery staple\n  user: bob",
            "auth:\n  password: >-\n    [REDACTED:password]\n  user: bob",
        ),
        (
            "- name: db\n  secret: |+\n    s3cr3t-v4lue\n\n- name: cache",
            "- name: db\n  secret: |+\n    [REDACTED:secret]\n\n- name: cache",
        ),
    ]);
    unchanged(&[
        "description: |\n  The token rotates daily.\nname: x",
        "token_count: |\n  42\n",
        "password: |\nnext: value",
    ]);
}

#[test]
fn xml_elements_and_attributes() {
    check(&[
        (
            "<password>hunter2</password>",
            "<password>[REDACTED:password]</password>",
        ),
        (
            "<Credentials><ApiKey> 9f8e7d6c5b4a </ApiKey></Credentials>",
            "<Credentials><ApiKey> [REDACTED:api_key] </ApiKey></Credentials>",
        ),
        (
            "<db:password><![CDATA[p@ss<word>]]></db:password>",
            "<db:password><![CDATA[[REDACTED:password]]]></db:password>",
        ),
        (
            r#"<add key="StoragePassword" value="Tr0ub4dor&amp;3"/>"#,
            r#"<add key="StoragePassword" value="[REDACTED:password]"/>"#,
        ),
        (
            r#"<property name="jdbc.password" value='s3cret'/>"#,
            r#"<property name="jdbc.password" value='[REDACTED:password]'/>"#,
        ),
        (
            r#"<user name="bob" password="hunter2"/>"#,
            r#"<user name="bob" password="[REDACTED:password]"/>"#,
        ),
    ]);
    unchanged(&[
        "<password><hash>abc</hash></password>",
        "<tokenCount>42</tokenCount>",
        r#"<add key="PasswordLength" value="12"/>"#,
        r#"<add key="Region" value="eu-west-1"/>"#,
        "<secret-name>db-creds</secret-name>",
        "a -> b => c >= d",
    ]);
}

#[test]
fn go_php_makefile_and_numbered_names() {
    check(&[
        (
            "var apiToken string = \"tk-93jf8a7d\"",
            "var apiToken string = \"[REDACTED:token]\"",
        ),
        (
            "const dbPassword: string = 'pa55word';",
            "const dbPassword: string = '[REDACTED:password]';",
        ),
        (
            "let secret: &str = \"s3cr3t-value\";",
            "let secret: &str = \"[REDACTED:secret]\";",
        ),
        (
            "$password .= 'tail42';",
            "$password .= '[REDACTED:password]';",
        ),
        ("API_TOKEN ::= tk83hf72ja", "API_TOKEN ::= [REDACTED:token]"),
        (
            "DB_PASSWORD ?= changeme1",
            "DB_PASSWORD ?= [REDACTED:password]",
        ),
        ("SECRET += abc123def", "SECRET += [REDACTED:secret]"),
        (
            "some_api_token_123 = \"zz9plural-alpha\"",
            "some_api_token_123 = \"[REDACTED:token]\"",
        ),
        ("password2=hunter3", "password2=[REDACTED:password]"),
        ("TOKEN_V2: a8f7e6d5c4", "TOKEN_V2: [REDACTED:token]"),
    ]);
    unchanged(&[
        "var count int = 5",
        "const tokenCount: number = 3;",
        "$total .= 'x';",
        "CFLAGS += -O2",
        "if (a != b && c <= d) x = 1",
        "GET /cb?code=abc&state=xyz",
        "token count = 5",
    ]);
}

#[test]
fn key_names_about_secrets_are_not_secrets() {
    unchanged(&[
        "credentialsId: 'github-creds'",
        "jobCredentialsId = \"jenkins-deploy\"",
        "CREDENTIALS_ID = \"K8S_CRED\"",
        "publicToken: pk_4f8a9b2c",
        "secret_length = X25519.secret_length",
        "LLM_SECRET_NAME = \"NEXUS-GPT4-API-KEY\"",
        "keyVaultToStoreSecrets: kv-prod-eu",
        "passwordVariable: 'PASSWORD'",
        "JFROG_SECRET = $(cat /run/secrets/jfrog)",
        "implementation 'io.jsonwebtoken:jjwt-jackson-0.11.2'",
        "DB_PASSWORD=${DB_PASSWORD}",
        "password: '{{ vault_db_password }}'",
        "token: !Ref GitHubToken",
        "api_key = os.getenv(\"API_KEY\")",
        "self.password = config.password",
        "secret: null",
        "password_min_length: 12",
        "tokenUrl: https://auth.example.com/oauth/token",
        "cookie_domain=.example.com",
        "password: '********'",
        "client_secret: <your-client-secret>",
        "DB_PASSWORD_FILE=/run/secrets/db",
        "secretName: db-credentials",
        "token_type=Bearer",
    ]);
    // The same names with a real value are still redacted.
    check(&[
        (
            "credentials: 'gh-9f8e7d6c'",
            "credentials: '[REDACTED:secret]'",
        ),
        ("accessToken: tk_4f8a9b2c", "accessToken: [REDACTED:token]"),
        ("DB_PASSWORD=Xk9#mP2$", "DB_PASSWORD=[REDACTED:password]"),
        (
            "JFROG_SECRET = AKCp8jQ7xV3nR9",
            "JFROG_SECRET = [REDACTED:secret]",
        ),
        ("password: 'hunter2'", "password: '[REDACTED:password]'"),
        (
            "client_secret=X7KQ-2MPL-9VZT",
            "client_secret=[REDACTED:secret]",
        ),
    ]);
}

#[test]
fn cards_with_wide_or_mixed_separators() {
    check(&[
        (
            "card 4111  1111  1111  1111 end",
            "card [REDACTED:card] end",
        ),
        ("card 5555-5555 5555-4444.", "card [REDACTED:card]."),
        ("| 3782   822463   10005 |", "| [REDACTED:card] |"),
        ("pan\t6011\t1111\t1111\t1117", "pan\t[REDACTED:card]"),
        ("4000 -0566- 5566 5556", "[REDACTED:card]"),
        ("JCB 3530  1113  3330  0000", "JCB [REDACTED:card]"),
    ]);
    unchanged(&[
        "qty  4111  1111  1111  1112",
        "cols 12    34    56    78    90    12    34",
        "order 4111   1111   1111",
    ]);
}

#[test]
fn digit_groups_inside_an_iban_are_neither_phone_nor_card() {
    unchanged(&[
        "DK51 0040 0440 1162 43",
        "RS35 2600 0560 1001 6113 70",
        "IBAN: NL91 ABNA 0417 1643 01",
        "FR14 2004 1010 0505 0001 3M02 607",
    ]);
    check(&[
        (
            "DK51 0040 0440 1162 43 and call 020 7946 0958",
            "DK51 0040 0440 1162 43 and call [REDACTED:phone]",
        ),
        ("DK50 0040 0440 1162 43", "[REDACTED:iban]"),
        ("RS35 2600 0560 1001 6113 79", "[REDACTED:iban]"),
    ]);
}

#[test]
fn sts_jwt_idn_ssn_and_national_phones() {
    check(&[
        (
            "aws_session_token = IQoJb3JpZ2luX2VjEHYaCXVzLWVhc3QtMSJHMEUCIQD7Kx7pQ2mW9vR4tY8zN3bL6sJdF0hG5cV1aE2iO9uT3yQIgVx8pR4tY8zN3bL6sJdF0hG5c",
            "aws_session_token = [REDACTED:aws_session_token]",
        ),
        (
            "| SessionToken | FwoGZXIvYXdzEJr//////////wEaDM3bL6sJdF0hG5cV1aE2iO9uT3yR8wQ7eK4jH6gF5dS2aZ1xC3vB4nM5lP6oI7uY8tR9eW0qA1sD2fG3hJ4kL5zX6cV7bN8mQ9 |",
            "| SessionToken | [REDACTED:aws_session_token] |",
        ),
        (
            "jwt ewogICJhbGciOiAiSFMyNTYiLAogICJ0eXAiOiAiSldUIgp9.ewogICJzdWIiOiAiMTIzIgp9.c2lnbmF0dXJlX2J5dGVz ok",
            "jwt [REDACTED:jwt] ok",
        ),
        (
            "id_token=eyAiYWxnIjogIlJTMjU2IiB9.eyAic3ViIjogIjEiIH0.c2ln",
            "id_token=[REDACTED:jwt]",
        ),
        ("mail a@xn--d1acufc.xn--p1ai now", "mail [REDACTED:email] now"),
        ("to ivan@пример.рф", "to [REDACTED:email]"),
        (
            "my social security number is 078051121",
            "my social security number is [REDACTED:ssn]",
        ),
        ("SSN on file: 078-05-1121.", "SSN on file: [REDACTED:ssn]."),
        ("social security no. 219 09 9999", "social security no. [REDACTED:ssn]"),
        ("call 09-7625400 today", "call [REDACTED:phone] today"),
        ("tel 03-5550123", "tel [REDACTED:phone]"),
        ("Festnetz 089 1234567", "Festnetz [REDACTED:phone]"),
        ("mobil 0176 12345678.", "mobil [REDACTED:phone]."),
        ("office (02) 9876 5432", "office [REDACTED:phone]"),
        ("Tel. (030) 1234567", "Tel. [REDACTED:phone]"),
        ("call 07700 900123", "call [REDACTED:phone]"),
    ]);
    unchanged(&[
        "session IQoJb3JpZ2luX2Vj truncated",
        "header eyJub3QiOiJhIGp3dCJ9 alone",
        "ewogICJ9 is base64 of a brace",
        "xn--p1ai is a TLD",
        "my social security office is 12 miles away",
        "ssn count 078051121x",
        "on 09-2024 and 2024-09-12",
        "build 05-12345",
        "see (0) items and (01) 23",
    ]);
}

#[test]
fn private_keys_of_every_type() {
    for kind in [
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "DSA PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "PRIVATE KEY",
        "PGP PRIVATE KEY BLOCK",
    ] {
        let text = format!("key:\n-----BEGIN {kind}-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END {kind}-----\nnext");
        assert_eq!(
            Redactor::default().redact(&text),
            "key:\n[REDACTED:pem]\nnext",
            "{kind}"
        );
    }
    check(&[(
        "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nP2/56wAAAi4AAAA3aWYtbW9kbntzaWdu\n---- END SSH2 ENCRYPTED PRIVATE KEY ----",
        "[REDACTED:pem]",
    )]);
    unchanged(&[
        "-----BEGIN PUBLIC KEY-----\nMFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf\n-----END PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----\nMIIBOgIBAAJBAKj34Gkx\n-----END CERTIFICATE-----",
        "the private key is stored in KMS",
    ]);
}

#[test]
fn basic_auth_and_connection_strings() {
    check(&[
        (
            "curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZA=='",
            "curl -H 'Authorization: Basic [REDACTED:basic_auth]'",
        ),
        (
            "sent header basic YWRtaW46czNjcjN0 to proxy",
            "sent header basic [REDACTED:basic_auth] to proxy",
        ),
        (
            "mongodb+srv://app:Sup3rS3cret@cluster0.mongodb.net/db",
            "mongodb+srv://app:[REDACTED:url_credentials]@cluster0.mongodb.net/db",
        ),
        (
            "jdbc:postgresql://db:5432/app?user=svc&password=pg-Pa55&ssl=true",
            "jdbc:postgresql://db:5432/app?user=svc&password=[REDACTED:password]&ssl=true",
        ),
        (
            "Server=tcp:db;Database=app;User Id=sa;Password=Tr1cky!;Encrypt=True",
            "Server=tcp:db;Database=app;User Id=sa;Password=[REDACTED:password];Encrypt=True",
        ),
    ]);
    unchanged(&[
        "Basic authentication is disabled",
        "basic YWJjZGVm is not user:pass",
        "Basic plan costs 10 EUR",
        "postgres://db.internal:5432/app",
    ]);
}

#[test]
fn csv_and_tsv_columns() {
    check(&[
        (
            "user,password,email\nbob,hunter2,x\nalice,\"s3 cr3t\",y",
            "user,password,email\nbob,[REDACTED:password],x\nalice,\"[REDACTED:password]\",y",
        ),
        (
            "id\tapi_key\tregion\n1\tk-93jd82\teu\n2\tk-1mx02z\tus\n\nnext paragraph",
            "id\tapi_key\tregion\n1\t[REDACTED:api_key]\teu\n2\t[REDACTED:api_key]\tus\n\nnext paragraph",
        ),
        (
            "name;Token;active\r\nsvc;tk_82jd7s;true\r\n",
            "name;Token;active\r\nsvc;[REDACTED:token];true\r\n",
        ),
    ]);
    unchanged(&[
        "user,token_count,email_domain\nbob,5,example.org",
        "a,b,c\n1,2,3",
        "password,hint\n,none",
        "Passwords, tokens and keys are rotated daily.\nSee the runbook.",
    ]);
}

#[test]
fn command_line_flags() {
    check(&[
        (
            "mysql --user root --password s3cr3t-pw --host db",
            "mysql --user root --password [REDACTED:password] --host db",
        ),
        (
            "docker login --username ci --password 'pa55 word' registry",
            "docker login --username ci --password '[REDACTED:password]' registry",
        ),
        (
            "cli --api-key k-93jd82x0 run",
            "cli --api-key [REDACTED:api_key] run",
        ),
        (
            "--token=tk_82jd7s --verbose",
            "--token=[REDACTED:token] --verbose",
        ),
        (
            "license_key: 0a1b2c3d4e5f60718293a4b5c6d7e8f9NRAL",
            "license_key: [REDACTED:new_relic_license_key]",
        ),
    ]);
    unchanged(&[
        "cmd --password-file /run/secrets/pw",
        "cmd --token --verbose",
        "curl --auth basic -u x",
        "Authorization: Bearer",
        "cmd --password $DB_PASSWORD",
        "a--token b",
        "--secret-name db-creds",
    ]);
}

#[test]
fn values_named_by_a_sibling_name() {
    check(&[
        (
            "env:\n  - name: DB_HOST\n    value: db.internal\n  - name: DB_PASSWORD\n    value: \"pr0d-pa55!\"",
            "env:\n  - name: DB_HOST\n    value: db.internal\n  - name: DB_PASSWORD\n    value: \"[REDACTED:password]\"",
        ),
        (
            r#"[{"name": "API_KEY", "value": "ak-93jd82x0"}, {"name": "REGION", "value": "eu-west-1"}]"#,
            r#"[{"name": "API_KEY", "value": "[REDACTED:api_key]"}, {"name": "REGION", "value": "eu-west-1"}]"#,
        ),
        (
            r#"{"Name": "github_token", "Value": "tk-83hd72jf"}"#,
            r#"{"Name": "github_token", "Value": "[REDACTED:token]"}"#,
        ),
        (
            "\"passwordHash\": \"$2b$12$KIXQJ6y1xIhQ2nq6Fv8hUe\"",
            "\"passwordHash\": \"[REDACTED:password]\"",
        ),
    ]);
    unchanged(&[
        "- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef:\n      name: db\n      key: password",
        "username: bob\nvalue: 42",
        r#"{"name": "PASSWORD_LENGTH", "value": "12"}"#,
        "- name: API_TOKEN\n  value: $(API_TOKEN)",
    ]);
}

/// Redactors like the fuzz target's: default, masking, hashing, vendor rules with `pii` off.
fn fuzz_like_redactors() -> Vec<Redactor> {
    use instrument::redact::{Method, RedactConfig};
    vec![
        Redactor::default(),
        Redactor::new(
            &RedactConfig::default()
                .method("card", Method::mask(4))
                .method("iban", Method::mask(4))
                .method("phone", Method::mask(2))
                .key_method("password", Method::mask(3)),
        )
        .unwrap(),
        Redactor::new(
            &RedactConfig::default()
                .method("email", Method::Hash)
                .key_method("token", Method::Hash)
                .hash_key("k"),
        )
        .unwrap(),
        Redactor::new(
            &RedactConfig::default()
                .disable("pii")
                .method("github_token", Method::mask(4))
                .key_method("datadog_api_key", Method::mask(2)),
        )
        .unwrap(),
    ]
}

#[test]
fn redacting_twice_changes_nothing_where_a_value_meets_a_match() {
    // Found by the fuzz target: a masked-looking bare value (`\0*cvv=…`) ran into the next
    // key's redacted value, and a bare value ran through `(` into a phone number; the second
    // scan must settle both in the first call.
    let texts = [
        "5.388z/#cvv=\0*cvv=\0\0\u{4}0",
        "cvv=\0*x password=*ab token=x1",
        "password: \"* 1.2.3.4\"",
        "\u{6}\0\0\0\0u(+222222236 =,\u{b}30555/cvv555:5*\u{4}\0\0\u{6}\0\0\0\0u(+222222236 =,\u{b}3055555555*",
        "cvv: 5*u(+14155552671 = x",
        "token: (+14155552671) = y",
        // A chain of glued values: each pass frees the next one.
        "534::8+555555555534::8+55555555555534::888+5555555555534::88+555555555553::8",
    ];
    for r in fuzz_like_redactors() {
        for text in texts {
            let once = r.redact(text);
            assert_eq!(r.redact(&once), once, "{text:?}");
        }
    }
}
