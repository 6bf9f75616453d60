//! Key rules: field names (and `key=value` keys inside text) whose value is sensitive whatever it
//! looks like.
//!
//! Names are compared in a normal form — ASCII lowercase snake case, `-`, `.` and spaces read as
//! `_`, camelCase split — so `apiKey`, `API_KEY`, `x-api-key` and `http.header.api_key` all meet
//! the glob `*api_key*`.

use smallvec::SmallVec;

use super::method::Method;

/// The built-in key rules: name and globs (over normalised names).
pub(crate) const BUILTIN_KEY_RULES: &[(&str, &[&str])] = &[
    // Vendor keys known by their names only (32 or 40 hex digits look like any hash). Listed
    // first: `DD_API_KEY` is a Datadog key before it is an `api_key`.
    (
        "datadog_api_key",
        &[
            "dd_api_key",
            "dd_app_key",
            "dd_application_key",
            "*datadog_api_key",
            "*datadog_app_key",
            "*datadog_application_key",
            "dd_client_token",
        ],
    ),
    (
        "new_relic_license_key",
        &[
            "*new_relic_license_key",
            "*newrelic_license_key",
            "nr_license_key",
            "x_license_key",
            "license_key",
            "*nria_license_key",
            "*new_relic_api_key",
            "*new_relic_insert_key",
            "*new_relic_user_key",
        ],
    ),
    (
        "password",
        &["*password*", "*passwd*", "pwd", "*_pwd", "*passphrase*"],
    ),
    ("secret", &["*secret*", "*credential*"]),
    ("private_key", &["*private_key*", "*privatekey*"]),
    (
        "token",
        &[
            "token",
            "*_token",
            "*accesstoken",
            "*authtoken",
            "*apitoken",
            "*bearertoken",
            "*refreshtoken",
            "*sessiontoken",
            "*idtoken",
            "*oauthtoken",
            "*bottoken",
            "*usertoken",
            "*csrftoken",
            "*xsrftoken",
            "*securitytoken",
        ],
    ),
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

/// Marker prefixes written by the redactor; matches inside an exact marker are dropped.
pub(crate) const MARKERS: [&[u8]; 2] = [b"[REDACTED:", b"[HASH:"];

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
pub(crate) const MAX_KEY: usize = 96;

impl KeySet {
    pub(crate) fn new(rules: Vec<KeyRule>) -> KeySet {
        let min_len = rules
            .iter()
            .flat_map(|r| r.globs.iter().map(|g| g.min_len))
            .min()
            .unwrap_or(usize::MAX);
        // Only the minimal sets matter for "is some glob's set inside the name's": a name with a
        // superset's letters has the subset's too.
        let all: Vec<u32> = rules
            .iter()
            .flat_map(|r| r.globs.iter().map(|g| g.letters))
            .collect();
        let mut letters: Vec<u32> = all
            .iter()
            .copied()
            .filter(|&s| !all.iter().any(|&t| t != s && t & !s == 0))
            .collect();
        letters.sort_unstable();
        letters.dedup();
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
        // A numbered name is its name: `api_token_2`, `password1`.
        while norm.len() > 1
            && (norm[norm.len() - 1].is_ascii_digit() || norm[norm.len() - 1] == b'_')
        {
            norm.pop();
        }
        if norm.ends_with(b"_v") {
            norm.truncate(norm.len() - 2); // `token_v2`
        }
        if norm.len() < self.min_len {
            return None;
        }
        let rule = self.rules.iter().position(|r| {
            r.globs
                .iter()
                .any(|g| g.letters & !have == 0 && g.matches(&norm))
        })?;
        (!super::plausible::describes_a_secret(&norm)).then_some(rule)
    }
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
}
