//! Key rules: field names (and `key=value` keys inside text) whose value is sensitive whatever it
//! looks like.
//!
//! Names are compared in a normal form — ASCII lowercase snake case, `-`, `.` and spaces read as
//! `_`, camelCase split — so `apiKey`, `API_KEY`, `x-api-key` and `http.header.api_key` all meet
//! the glob `*api_key*`.

use std::ops::Range;

use smallvec::SmallVec;

use super::method::Method;

/// The built-in key rules: name and globs (over normalised names).
pub(crate) const BUILTIN_KEY_RULES: &[(&str, &[&str])] = &[
    (
        "password",
        &["*password*", "*passwd*", "pwd", "*_pwd", "*passphrase*"],
    ),
    ("secret", &["*secret*", "*credential*"]),
    ("private_key", &["*private_key*", "*privatekey*"]),
    ("token", &["*token"]),
    ("authorization", &["*authorization", "auth", "*_auth"]),
    ("cookie", &["*cookie*"]),
    ("api_key", &["*api_key*", "*apikey*"]),
    ("ssn", &["ssn", "*_ssn", "*social_security*"]),
    (
        "card_number",
        &[
            "*card_number*",
            "*cardnumber*",
            "*card_no",
            "pan",
            "*_pan",
            "cvv",
            "*_cvv",
            "cvv2",
            "cvc",
            "*_cvc",
        ],
    ),
];

/// A normalised name, on the stack for any realistic length.
pub(crate) type NormName = SmallVec<[u8; 64]>;

/// Appends the normal form of `name` to `out`. `*` and `?` pass through (for globs).
pub(crate) fn normalize(name: &[u8], out: &mut NormName) {
    let mut last_sep = true; // no leading `_` from a leading separator... unless repeated below
    for (i, &b) in name.iter().enumerate() {
        match b {
            b'A'..=b'Z' => {
                if i > 0 && !last_sep {
                    let prev = name[i - 1];
                    let next_lower = name.get(i + 1).is_some_and(u8::is_ascii_lowercase);
                    if prev.is_ascii_lowercase()
                        || prev.is_ascii_digit()
                        || (prev.is_ascii_uppercase() && next_lower)
                    {
                        out.push(b'_');
                    }
                }
                out.push(b.to_ascii_lowercase());
                last_sep = false;
            }
            b'_' | b'-' | b'.' | b' ' => {
                if !last_sep || out.is_empty() {
                    out.push(b'_');
                }
                last_sep = true;
            }
            _ => {
                out.push(b);
                last_sep = false;
            }
        }
    }
}

/// The set of ASCII letters (case-folded) in `name`, one bit each. Normalising never changes it,
/// so a glob whose letters are not all in a name's set cannot match that name.
#[inline]
pub(crate) fn letters(name: &[u8]) -> u32 {
    name.iter().fold(0u32, |m, &b| {
        let l = b.to_ascii_lowercase();
        if l.is_ascii_lowercase() {
            m | 1 << (l - b'a')
        } else {
            m
        }
    })
}

/// A glob over normalised names: `*` any run, `?` any one byte.
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    pat: Box<[u8]>,
    /// Bytes a name needs at least (the non-`*` ones).
    min_len: usize,
    /// [`letters`] of the pattern.
    letters: u32,
}

impl Glob {
    pub(crate) fn new(glob: &str) -> Glob {
        let mut norm = NormName::new();
        normalize(glob.trim().as_bytes(), &mut norm);
        let min_len = norm.iter().filter(|&&b| b != b'*').count();
        Glob {
            letters: letters(&norm),
            pat: norm.into_vec().into_boxed_slice(),
            min_len,
        }
    }

    /// Iterative wildcard matching with single-star backtracking: O(n·m) worst case, linear for
    /// the usual `*word*` globs.
    pub(crate) fn matches(&self, name: &[u8]) -> bool {
        if name.len() < self.min_len {
            return false;
        }
        let p = &self.pat;
        let (mut pi, mut ni) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while ni < name.len() {
            if pi < p.len() && (p[pi] == b'?' || p[pi] == name[ni]) {
                pi += 1;
                ni += 1;
            } else if pi < p.len() && p[pi] == b'*' {
                star = Some((pi, ni));
                pi += 1;
            } else if let Some((sp, sn)) = star {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|&b| b == b'*')
    }
}

/// One key rule, compiled.
#[derive(Debug, Clone)]
pub(crate) struct KeyRule {
    pub(crate) name: String,
    pub(crate) globs: Vec<Glob>,
    pub(crate) method: Method,
    /// `[REDACTED:<name>]`, borrowed by [`Method::Replace`] results.
    pub(crate) replacement: String,
    /// An unquoted value runs to the end of the line (`cookie: a=1; sid=…`), not to the next
    /// `;` or space.
    pub(crate) whole_line: bool,
}

/// The enabled key rules.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeySet {
    pub(crate) rules: Vec<KeyRule>,
    /// The shortest name any glob can match: shorter keys are rejected without normalising.
    min_len: usize,
    /// The [`letters`] of every glob, flat, for a quick rejection.
    letters: Vec<u32>,
}

/// Keys longer than this inside text are not considered (field names are never this long).
const MAX_KEY: usize = 96;

impl KeySet {
    pub(crate) fn new(rules: Vec<KeyRule>) -> KeySet {
        let min_len = rules
            .iter()
            .flat_map(|r| r.globs.iter().map(|g| g.min_len))
            .min()
            .unwrap_or(usize::MAX);
        let letters = rules
            .iter()
            .flat_map(|r| r.globs.iter().map(|g| g.letters))
            .collect();
        KeySet {
            rules,
            min_len,
            letters,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The first rule matching a raw (not yet normalised) name.
    pub(crate) fn find(&self, name: &[u8]) -> Option<usize> {
        if self.rules.is_empty() || name.len() < self.min_len.min(3) {
            return None;
        }
        // Most names (`id`, `user`, `arn`) lack the letters of every glob: no normalising.
        let have = letters(name);
        if !self.letters.iter().any(|&need| need & !have == 0) {
            return None;
        }
        let mut norm = NormName::new();
        normalize(name, &mut norm);
        if norm.len() < self.min_len {
            return None;
        }
        self.rules.iter().position(|r| {
            r.globs
                .iter()
                .any(|g| g.letters & !have == 0 && g.matches(&norm))
        })
    }

    /// At a `=` or `:` at byte `i` of `b`: if the key before it matches a rule, that rule and the
    /// span of the value after it.
    pub(crate) fn key_value_at(&self, b: &[u8], i: usize) -> Option<(usize, Range<usize>)> {
        let sep = b[i];
        let prev = if i > 0 { b[i - 1] } else { 0 };
        let next = b.get(i + 1).copied().unwrap_or(0);
        let mut v = i + 1;
        match sep {
            b':' => {
                if next == b':' || prev == b':' {
                    return None; // Rust paths, IPv6
                }
                if next == b'=' {
                    v += 1; // :=
                }
            }
            b'=' => {
                if next == b'=' || matches!(prev, b'=' | b'!' | b'<' | b'>' | b':') {
                    return None; // comparisons
                }
                if next == b'>' {
                    v += 1; // =>
                }
            }
            _ => return None,
        }
        // The key: back over spaces, an optional (escaped) closing quote, then key bytes.
        let mut j = i;
        let mut spaces = 0;
        while j > 0 && b[j - 1] == b' ' && spaces < 2 {
            j -= 1;
            spaces += 1;
        }
        if j > 0 && (b[j - 1] == b'"' || b[j - 1] == b'\'') {
            j -= 1;
            if j > 0 && b[j - 1] == b'\\' {
                j -= 1;
            }
        }
        let key_end = j;
        while j > 0 && is_key_byte(b[j - 1]) {
            j -= 1;
            if key_end - j > MAX_KEY {
                return None;
            }
        }
        let key = &b[j..key_end];
        if key.is_empty() {
            return None;
        }
        let rule = self.find(key)?;
        // The value: forward over spaces.
        let mut spaces = 0;
        while v < b.len() && (b[v] == b' ' || b[v] == b'\t') && spaces < 3 {
            v += 1;
            spaces += 1;
        }
        value_span(b, v, self.rules[rule].whole_line).map(|span| (rule, span))
    }
}

/// Bytes of a key inside text.
#[inline]
fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Bytes that end an unquoted value.
#[inline]
fn ends_bare(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b',' | b';' | b'&' | b')' | b']' | b'}' | b'"' | b'\'' | b'<' | b'>'
        )
}

/// Authorization schemes: `Authorization: Bearer xyz` redacts `xyz` and keeps the scheme.
const SCHEMES: &[&[u8]] = &[
    b"bearer",
    b"basic",
    b"digest",
    b"negotiate",
    b"token",
    b"ntlm",
    b"aws4-hmac-sha256",
];

/// Marker prefixes written by the redactor; matches inside an exact marker are dropped.
pub(crate) const MARKERS: [&[u8]; 2] = [b"[REDACTED:", b"[HASH:"];

/// The span of the value starting at `v` (quoted, bracketed, wrapped or bare); `None` if empty.
fn value_span(b: &[u8], v: usize, whole_line: bool) -> Option<Range<usize>> {
    let n = b.len();
    if v >= n {
        return None;
    }
    let non_empty = |r: Range<usize>| (r.start < r.end).then_some(r);
    match b[v] {
        b'\\' if b.get(v + 1) == Some(&b'"') => {
            // A JSON/Debug string inside an escaped string: \"value\"
            let start = v + 2;
            let end = memchr::memmem::find(&b[start..], b"\\\"").map_or(n, |e| start + e);
            non_empty(start..end)
        }
        q @ (b'"' | b'\'') => {
            let start = v + 1;
            let mut k = start;
            while k < n && b[k] != q {
                k += if b[k] == b'\\' { 2 } else { 1 };
            }
            non_empty(start..k.min(n))
        }
        open @ (b'{' | b'[' | b'(') => {
            let start = v + 1;
            non_empty(start..balanced_end(b, start, open))
        }
        _ => {
            // A wrapper: Some("x"), Secret("x"), Token { .. }
            let mut k = v;
            while k < n && (b[k].is_ascii_alphanumeric() || b[k] == b'_') {
                k += 1;
            }
            if k > v && k < n {
                if b[k] == b'(' {
                    return value_span(b, k + 1, whole_line);
                }
                if b[k] == b' ' && b.get(k + 1) == Some(&b'{') {
                    return non_empty(k + 2..balanced_end(b, k + 2, b'{'));
                }
            }
            if whole_line {
                let end = b[v..]
                    .iter()
                    .position(|&c| matches!(c, b'\n' | b'\r' | b'"' | b'\''))
                    .map_or(b.len(), |e| v + e);
                return non_empty(v..end);
            }
            let end = bare_end(b, v);
            // A scheme word then the credential.
            if end < n
                && b[end] == b' '
                && SCHEMES.iter().any(|s| b[v..end].eq_ignore_ascii_case(s))
                && b.get(end + 1).is_some_and(|&c| !ends_bare(c))
            {
                return non_empty(end + 1..bare_end(b, end + 1));
            }
            non_empty(v..end)
        }
    }
}

/// End of an unquoted value starting at `v`: at a terminator, or at an escape sequence of an
/// enclosing escaped string (`\"`, `\n`).
fn bare_end(b: &[u8], v: usize) -> usize {
    let mut k = v;
    while k < b.len() {
        let c = b[k];
        if ends_bare(c)
            || (c == b'\\' && matches!(b.get(k + 1), Some(b'"' | b'\'' | b'n' | b'r' | b't')))
        {
            break;
        }
        k += 1;
    }
    k
}

/// The index of the bracket closing `open` (whose contents start at `start`), skipping quoted
/// strings; the end of the text if it is never closed.
fn balanced_end(b: &[u8], start: usize, open: u8) -> usize {
    let close = match open {
        b'{' => b'}',
        b'[' => b']',
        _ => b')',
    };
    let mut depth = 1usize;
    let mut k = start;
    while k < b.len() {
        match b[k] {
            c if c == open => depth += 1,
            c if c == close => {
                depth -= 1;
                if depth == 0 {
                    return k;
                }
            }
            q @ (b'"' | b'\'') => {
                k += 1;
                while k < b.len() && b[k] != q {
                    k += if b[k] == b'\\' { 2 } else { 1 };
                }
            }
            b'\\' => k += 1,
            _ => {}
        }
        k += 1;
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        let mut out = NormName::new();
        normalize(s.as_bytes(), &mut out);
        String::from_utf8(out.into_vec()).unwrap()
    }

    #[test]
    fn normal_form() {
        assert_eq!(norm("apiKey"), "api_key");
        assert_eq!(norm("APIKey"), "api_key");
        assert_eq!(norm("X-Api-Key"), "x_api_key");
        assert_eq!(
            norm("http.request.header.authorization"),
            "http_request_header_authorization"
        );
        assert_eq!(norm("SecretAccessKey"), "secret_access_key");
        assert_eq!(norm("PASSWORD"), "password");
        assert_eq!(norm("user__name"), "user_name");
        assert_eq!(norm("s3Key"), "s3_key");
        assert_eq!(norm("*Token"), "*token");
    }

    #[test]
    fn globs() {
        let g = Glob::new("*token");
        assert!(g.matches(b"token"));
        assert!(g.matches(b"access_token"));
        assert!(!g.matches(b"token_count"));
        assert!(!g.matches(b"max_tokens"));
        let g = Glob::new("*pass*word*");
        assert!(g.matches(b"my_pass_the_word_x"));
        let g = Glob::new("c?v");
        assert!(g.matches(b"cvv"));
        assert!(!g.matches(b"cvvv"));
    }

    fn set() -> KeySet {
        KeySet::new(
            BUILTIN_KEY_RULES
                .iter()
                .map(|(name, globs)| KeyRule {
                    name: name.to_string(),
                    globs: globs.iter().map(|g| Glob::new(g)).collect(),
                    method: Method::Replace,
                    replacement: format!("[REDACTED:{name}]"),
                    whole_line: *name == "cookie",
                })
                .collect(),
        )
    }

    fn kv(text: &str) -> Option<(&'static str, &str)> {
        let s = set();
        let b = text.as_bytes();
        (0..b.len())
            .filter(|&i| b[i] == b'=' || b[i] == b':')
            .find_map(|i| s.key_value_at(b, i))
            .map(|(r, span)| (BUILTIN_KEY_RULES[r].0, &text[span]))
    }

    #[test]
    fn key_values_in_text() {
        assert_eq!(
            kv("login password=hunter2 ok"),
            Some(("password", "hunter2"))
        );
        assert_eq!(
            kv(r#"{"apiKey":"k-123","x":1}"#),
            Some(("api_key", "k-123"))
        );
        assert_eq!(
            kv(r#"Login { user: "bob", password: "a b\"c" }"#),
            Some(("password", r#"a b\"c"#))
        );
        assert_eq!(
            kv("Authorization: Bearer abc.def"),
            Some(("authorization", "abc.def"))
        );
        assert_eq!(kv("pwd => Some(\"x\")"), Some(("password", "x")));
        assert_eq!(kv("creds: Secret { inner: \"x\" } tail"), None);
        assert_eq!(
            kv("credentials: Creds { inner: \"x\" } tail"),
            Some(("secret", " inner: \"x\" "))
        );
        assert_eq!(kv(r#"body="{\"token\":\"abc\"}""#), Some(("token", "abc")));
        assert_eq!(kv("token_count=5 max_tokens: 7"), None);
        assert_eq!(kv("password == other"), None);
        // Exact markers are recognised by the redactor, which drops matches inside them.
        assert_eq!(
            kv("password=[REDACTED:password]"),
            Some(("password", "REDACTED:password"))
        );
        assert_eq!(kv("std::token::x"), None);
        assert_eq!(
            kv("Cookie: a=1; sid=s3cr3t\nnext"),
            Some(("cookie", "a=1; sid=s3cr3t"))
        );
    }
}
