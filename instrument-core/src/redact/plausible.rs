//! Whether a name or a value that a key rule met is plausibly a secret: a name only *about* a
//! secret (`credentials_id`, `public_token`) and a value that is no secret (a reference, code, a
//! constant's name, a placeholder) are left alone.

/// Last words of a name that make it *about* a secret rather than the secret itself:
/// `credentials_id`, `secret_name`, `password_length`, `token_url`, `cookie_domain`.
fn descriptor_suffix(word: &[u8]) -> bool {
    matches!(
        word,
        b"id"
            | b"ids"
            | b"name"
            | b"names"
            | b"length"
            | b"len"
            | b"size"
            | b"count"
            | b"variable"
            | b"var"
            | b"vars"
            | b"type"
            | b"types"
            | b"file"
            | b"path"
            | b"dir"
            | b"field"
            | b"prefix"
            | b"suffix"
            | b"hint"
            | b"policy"
            | b"ttl"
            | b"expiry"
            | b"expires"
            | b"expiration"
            | b"timeout"
            | b"url"
            | b"uri"
            | b"endpoint"
            | b"arn"
            | b"ref"
            | b"version"
            | b"enabled"
            | b"required"
            | b"header"
            | b"param"
            | b"label"
            | b"regex"
            | b"pattern"
            | b"format"
            | b"kind"
            | b"mode"
            | b"min"
            | b"max"
            | b"provider"
            | b"source"
            | b"store"
            | b"manager"
            | b"rotation"
            | b"created"
            | b"updated"
            | b"at"
            | b"env"
            | b"location"
            | b"domain"
            | b"secure"
            | b"samesite"
            | b"same_site"
            | b"http_only"
            | b"httponly"
            | b"changed"
            | b"reset"
            | b"valid"
            | b"validity"
            | b"strength"
            | b"scope"
            | b"scopes"
            | b"usage"
            | b"index"
            | b"exists"
            | b"placeholder"
            | b"template"
    )
}

/// Words of a name before which a secret word only describes a setting
/// (`key_vault_to_store_secrets`).
const PREPOSITIONS: &[&[u8]] = &[
    b"to", b"for", b"from", b"with", b"into", b"of", b"by", b"using",
];

/// Words that make a name a secret's name.
const SECRET_WORDS: &[&[u8]] = &[
    b"password",
    b"passwd",
    b"pwd",
    b"passphrase",
    b"secret",
    b"secrets",
    b"token",
    b"credential",
    b"credentials",
    b"api",
    b"auth",
    b"authorization",
    b"cookie",
    b"apikey",
    b"private",
    b"ssn",
    b"pan",
    b"cvv",
    b"cvc",
];

/// Whether a normalised name that a key rule matched is only *about* a secret: a descriptor
/// suffix (`credentials_id`), a `public`/`publishable` prefix (`public_token`), or secret words
/// only after a preposition (`key_vault_to_store_secrets`).
pub(crate) fn describes_a_secret(norm: &[u8]) -> bool {
    let mut words = norm.split(|&c| c == b'_').filter(|w| !w.is_empty());
    let Some(first) = words.next() else {
        return false;
    };
    if matches!(first, b"public" | b"publishable") {
        return true;
    }
    let last = norm
        .rsplit(|&c| c == b'_')
        .find(|w| !w.is_empty())
        .unwrap_or(first);
    if !std::ptr::eq(last, first) && descriptor_suffix(last) {
        return true;
    }
    if !norm
        .split(|&c| c == b'_')
        .any(|w| PREPOSITIONS.contains(&w))
    {
        return false;
    }
    let mut before_preposition = true;
    let mut secret_before = false;
    for w in norm.split(|&c| c == b'_') {
        if PREPOSITIONS.contains(&w) {
            if before_preposition && !secret_before {
                return true;
            }
            before_preposition = false;
        }
        if before_preposition && SECRET_WORDS.iter().any(|s| contains(w, s)) {
            secret_before = true;
        }
    }
    false
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Whether a value after a key rule's name can be a secret. Not:
///
/// * a reference to one: `$DB_PASSWORD`, `${…}`, `$(cat …)`, `%TOKEN%`, `{{ secrets.X }}`,
///   `#{…}`, `<%= … %>`, `!Ref Param`, `arn:aws:secretsmanager:…`, `vault:…`;
/// * code: `X25519.secret_length`, `self.password`, `os.getenv(`, `getPassword()`;
/// * a constant's name: `K8S_CRED`, `'PASSWORD'`, `NEXUS-GPT4-API-KEY`;
/// * a placeholder: `null`, `true`, `none`, `<token>`, `***`, `xxxxxx`, one or two digits, an
///   authentication scheme's name (`basic`, `bearer`).
///
/// `quoted`: the value stood in quotes (a quoted dotted word is data, not code).
pub(crate) fn plausible_value(v: &[u8], quoted: bool) -> bool {
    let v = v.trim_ascii();
    if v.is_empty() {
        return false;
    }
    const REFERENCES: &[&[u8]] = &[
        b"$",
        b"{{",
        b"#{",
        b"<%",
        b"!Ref",
        b"!Sub",
        b"!GetAtt",
        b"!ImportValue",
        b"arn:aws:secretsmanager:",
        b"arn:aws:ssm:",
        b"vault:",
        b"ssm:",
        b"secretsmanager:",
        b"@Microsoft.KeyVault(",
        b"process.env",
        b"os.environ",
        b"ENV[",
    ];
    if matches!(
        v[0],
        b'$' | b'{' | b'#' | b'<' | b'!' | b'a' | b'v' | b's' | b'@' | b'p' | b'o' | b'E'
    ) && REFERENCES.iter().any(|r| v.starts_with(r))
        // `$VAR`, `${…}`, `$(…)`; a `$2b$12$…` hash is no reference.
        && !(v[0] == b'$'
            && v.get(1).is_some_and(|c| {
                !(c.is_ascii_alphabetic() || matches!(c, b'_' | b'{' | b'('))
            }))
    {
        return false;
    }
    if v.len() >= 3 && v[0] == b'%' && v[v.len() - 1] == b'%' {
        return false; // %TOKEN%
    }
    if v.len() >= 3 && v[0] == b'<' && v[v.len() - 1] == b'>' {
        return false; // <your-token>
    }
    const PLACEHOLDERS: &[&[u8]] = &[
        b"null",
        b"none",
        b"nil",
        b"true",
        b"false",
        b"undefined",
        b"n/a",
        b"redacted",
        b"hidden",
        b"masked",
        b"empty",
        b"omitted",
        b"unset",
        b"required",
        b"optional",
        b"string",
        b"str",
        // authentication schemes, not credentials (`--auth basic`, `Authorization: Bearer`)
        b"basic",
        b"bearer",
        b"digest",
        b"negotiate",
        b"ntlm",
        b"oauth",
        b"oauth2",
        b"kerberos",
    ];
    if v.len() <= 9 && PLACEHOLDERS.iter().any(|p| v.eq_ignore_ascii_case(p)) {
        return false;
    }
    if v.len() >= 3 && v.iter().all(|&c| c == v[0]) {
        return false; // ***, xxxxxx
    }
    if v.len() <= 2 && v.iter().all(u8::is_ascii_digit) {
        return false;
    }
    !(code(v, quoted) || constant_name(v))
}

/// `X25519.secret_length`, `self.password`, `config.api_token`, `getPassword()`, `os.Getenv(`.
fn code(v: &[u8], quoted: bool) -> bool {
    let ident = |w: &[u8]| {
        !w.is_empty()
            && (w[0].is_ascii_alphabetic() || w[0] == b'_')
            && w.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
    };
    let (path, call) = match memchr::memchr(b'(', v) {
        Some(p) => (&v[..p], true),
        None => (v, false),
    };
    let segments: smallvec::SmallVec<[&[u8]; 4]> = path.split(|&c| c == b'.').collect();
    if !segments.iter().all(|s| ident(s)) {
        return false;
    }
    if call {
        return !quoted;
    }
    if quoted || segments.len() < 2 {
        return false;
    }
    const OBJECTS: &[&[u8]] = &[
        b"self",
        b"this",
        b"config",
        b"cfg",
        b"conf",
        b"settings",
        b"env",
        b"process",
        b"os",
        b"options",
        b"opts",
        b"params",
        b"props",
        b"secrets",
        b"vars",
        b"context",
        b"ctx",
        b"args",
        b"app",
        b"System",
        b"system",
        b"request",
        b"req",
        b"credentials",
        b"creds",
        b"vault",
        b"Config",
        b"Settings",
        b"Environment",
    ];
    OBJECTS.contains(&segments[0])
        || segments[0][0].is_ascii_uppercase()
        || segments[1..].iter().any(|s| s.contains(&b'_'))
}

/// An upper-case name made of words: `K8S_CRED`, `PASSWORD`, `NEXUS-GPT4-API-KEY`, but not a
/// random upper-case key such as `X7KQ-2MPL-9VZT`.
fn constant_name(v: &[u8]) -> bool {
    if v.len() < 3
        || !v[0].is_ascii_uppercase()
        || !v
            .iter()
            .all(|&c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_' || c == b'-')
    {
        return false;
    }
    let digits = v.iter().filter(|c| c.is_ascii_digit()).count();
    if digits * 4 > v.len() {
        return false;
    }
    let segments = v
        .split(|&c| c == b'_' || c == b'-')
        .filter(|s| !s.is_empty());
    let mut count = 0;
    let mut without_vowel = 0;
    for s in segments {
        count += 1;
        if s.len() >= 4 && !s.iter().any(|c| b"AEIOUY".contains(c)) {
            without_vowel += 1;
        }
    }
    without_vowel <= usize::from(count > 2) && (count >= 2 || digits == 0) && v.len() <= 48
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_about_secrets() {
        for name in [
            "credentials_id",
            "job_credentials_id",
            "public_token",
            "secret_length",
            "llm_secret_name",
            "key_vault_to_store_secrets",
            "password_variable",
            "token_url",
            "cookie_domain",
        ] {
            assert!(describes_a_secret(name.as_bytes()), "{name}");
        }
        for name in [
            "password",
            "client_secret",
            "secret_key",
            "api_token",
            "password_for_db",
            "db_password",
        ] {
            assert!(!describes_a_secret(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn values_that_are_no_secret() {
        for (v, quoted) in [
            ("$(cat /run/secrets/jfrog)", false),
            ("${DB_PASSWORD}", false),
            ("%API_TOKEN%", false),
            ("{{ secrets.TOKEN }}", true),
            ("!Ref DbPassword", false),
            ("X25519.secret_length", false),
            ("self.password", false),
            ("getPassword()", false),
            ("K8S_CRED", true),
            ("PASSWORD", true),
            ("NEXUS-GPT4-API-KEY", true),
            ("null", false),
            ("********", false),
            ("<your-token>", true),
            ("5", false),
        ] {
            assert!(!plausible_value(v.as_bytes(), quoted), "{v}");
        }
        for (v, quoted) in [
            ("hunter2", false),
            ("x", true),
            ("abc", false),
            ("ya29.a0AfH6SM", false),
            ("abc.def", false),
            ("X7KQ-2MPL-9VZT", false),
            ("S3cr3t!", true),
            ("correct-horse-battery", false),
            ("1234", false),
            ("config.value", true),
        ] {
            assert!(plausible_value(v.as_bytes(), quoted), "{v}");
        }
    }
}
