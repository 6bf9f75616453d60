//! Vendor secret formats as data: tokens that announce themselves by a literal prefix, checked
//! against the shape their vendor documents (alphabet, length, layout, checksum), so that
//! look-alikes (placeholders, truncated or over-long strings, a wrong GitHub checksum) stay.
//!
//! The built-in formats are the [`VENDOR_TOKENS`] table, the `vendor_secrets` group; more come
//! from [`RedactConfig::tokens`](super::RedactConfig::tokens) as [`TokenRuleConfig`]s. All of them
//! are found by one literal scan, run only when the prefilter saw one of the prefixes.

use std::ops::Range;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::candidates::{next, prev};
use super::checksum;
use super::method::Method;

/// The characters of a token's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Alphabet {
    /// `0-9 A-Z a-z`.
    #[default]
    Base62,
    /// `0-9 A-Z a-z _ -`.
    Base64Url,
    /// `0-9 A-Z a-z + /`, and up to two `=` of padding at the end.
    Base64,
    /// `0-9 a-f`.
    HexLower,
    /// `0-9 A-Z`.
    UpperAlnum,
    /// `0-9 A-Z a-z -` (Slack tokens).
    AlnumDash,
    /// Base64 with URL escapes (`%2B`, `%2F`, `%3D`): SAS signatures.
    UrlBase64,
}

impl Alphabet {
    #[inline]
    fn contains(self, c: u8) -> bool {
        match self {
            Alphabet::Base62 => c.is_ascii_alphanumeric(),
            Alphabet::Base64Url => c.is_ascii_alphanumeric() || c == b'_' || c == b'-',
            Alphabet::Base64 => c.is_ascii_alphanumeric() || c == b'+' || c == b'/',
            Alphabet::HexLower => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
            Alphabet::UpperAlnum => c.is_ascii_uppercase() || c.is_ascii_digit(),
            Alphabet::AlnumDash => c.is_ascii_alphanumeric() || c == b'-',
            Alphabet::UrlBase64 => c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'%'),
        }
    }

    /// Padding allowed at the end of the body.
    fn padding(self) -> usize {
        match self {
            Alphabet::Base64 | Alphabet::UrlBase64 => 2,
            _ => 0,
        }
    }
}

/// A checksum built into a vendor's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Checksum {
    /// The body's last 6 characters are the CRC32 of the characters before them, in base62
    /// (`0-9A-Za-z`): GitHub's and npm's token format.
    Crc32Base62,
}

/// A custom vendor token rule: literal prefixes, then a body of an alphabet and a length.
///
/// ```
/// use instrument_core::redact::{Alphabet, RedactConfig, Redactor};
///
/// let config: RedactConfig = serde_json::from_str(r#"{
///     "tokens": { "acme_key": { "prefixes": ["acme_"], "alphabet": "base62", "length": [32, 32] } }
/// }"#).unwrap();
/// let r = Redactor::new(&config).unwrap();
/// assert_eq!(r.redact("key acme_0123456789abcdefghijABCDEFGHIJxy ok"), "key [REDACTED:acme_key] ok");
/// assert_eq!(r.redact("key acme_tooshort ok"), "key acme_tooshort ok");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenRuleConfig {
    /// `false` turns the rule off. Default: on.
    pub enabled: Option<bool>,
    /// How matches are rewritten. Default: [`Method::Replace`].
    pub method: Option<Method>,
    /// The literal prefixes (case-sensitive). At least one, none empty.
    pub prefixes: Vec<String>,
    /// The characters of the body after the prefix.
    pub alphabet: Alphabet,
    /// The body's length, `[min, max]` (padding not counted).
    pub length: [usize; 2],
    /// A checksum the body must pass.
    pub checksum: Option<Checksum>,
    /// Redact only the body and keep the prefix readable (for a prefix that is a key, such as
    /// `AccountKey=`).
    pub keep_prefix: bool,
}

impl Default for TokenRuleConfig {
    fn default() -> Self {
        TokenRuleConfig {
            enabled: None,
            method: None,
            prefixes: Vec::new(),
            alphabet: Alphabet::Base62,
            length: [16, 256],
            checksum: None,
            keep_prefix: false,
        }
    }
}

/// One built-in vendor format, with examples that must be redacted and look-alikes that must
/// stay (checked by this module's tests, listed in the README).
#[derive(Debug)]
// The examples are read by the tests only.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct VendorToken {
    pub(crate) name: &'static str,
    pub(crate) prefixes: &'static [&'static str],
    pub(crate) alphabet: Alphabet,
    pub(crate) length: [usize; 2],
    /// Separators inside the body at these offsets (`SG.` keys: `.` after 22 characters).
    pub(crate) layout: &'static [(usize, u8)],
    /// The body starts with a digit (Slack: `xoxb-<team number>-…`).
    pub(crate) digit_first: bool,
    pub(crate) checksum: Option<Checksum>,
    pub(crate) keep_prefix: bool,
    pub(crate) examples: &'static [&'static str],
    pub(crate) look_alikes: &'static [&'static str],
}

const fn token(
    name: &'static str,
    prefixes: &'static [&'static str],
    alphabet: Alphabet,
    length: [usize; 2],
) -> VendorToken {
    VendorToken {
        name,
        prefixes,
        alphabet,
        length,
        layout: &[],
        digit_first: false,
        checksum: None,
        keep_prefix: false,
        examples: &[],
        look_alikes: &[],
    }
}

/// The built-in vendor formats (the `vendor_secrets` group), each with the shape its vendor
/// documents.
pub(crate) const VENDOR_TOKENS: &[VendorToken] = &[
    VendorToken {
        // 30 random base62 characters and a 6-character CRC32 (GitHub, April 2021 format).
        checksum: Some(Checksum::Crc32Base62),
        examples: &[
            "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",
            "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",
            "ghs_wLKHr0rMTtJhsEK7GjFRYOYkmnPRZB1tFGSM",
        ],
        look_alikes: &[
            "ghp_lhQCvpm8FOFlEsD4qmq5ShuHRWYl393GJdmD",
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "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A",
        ],
        ..token(
            "github_token",
            &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
            Alphabet::Base62,
            [36, 36],
        )
    },
    VendorToken {
        // Fine-grained personal access tokens: 22 characters, `_`, 59 characters.
        layout: &[(22, b'_')],
        examples: &[
            "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",
        ],
        look_alikes: &["github_pat_short_token", "github_pat_settings_page"],
        ..token("github_token", &["github_pat_"], Alphabet::Base62, [81, 81])
    },
    VendorToken {
        examples: &[
            "glpat-xK9pQ2mW7vR4tY8zN3bL",
            "glpat-Ab3dE5gH7jK9mN1pQ3sT.01.0w1x2y3z4",
        ],
        look_alikes: &["glpat-example", "glpat-xxxxxxxxxxxxxxxxxxxx"],
        ..token(
            "gitlab_token",
            &["glpat-", "gldt-", "glrt-", "glptt-", "gloas-", "glcbt-"],
            Alphabet::Base64Url,
            [20, 120],
        )
    },
    VendorToken {
        examples: &[
            "xoxb-2644826410-4902184729152-Hx8fK2pQ9mZ4vR7tW1yB3nLs",
            "xoxp-1234567890-1234567890-1234567890-0123456789abcdef0123456789abcdef",
        ],
        // The body starts with the team's number.
        digit_first: true,
        look_alikes: &[
            "xoxb-your-token-here",
            "xoxb-your-slack-bot-token-goes-here",
            "xoxb-XXXXXXXXXXXX-XXXXXXXXXXXX-XXXXXXXXXXXXXXXXXXXXXXXX",
        ],
        ..token(
            "slack_token",
            &[
                "xoxb-", "xoxp-", "xoxa-", "xoxo-", "xoxr-", "xoxs-", "xoxe-", "xoxe.xoxp-",
            ],
            Alphabet::AlnumDash,
            [20, 250],
        )
    },
    VendorToken {
        // The webhook path after the host: T<team>/B<channel>/<24-character secret>.
        keep_prefix: true,
        examples: &["https://hooks.slack.com/services/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"],
        look_alikes: &["https://hooks.slack.com/services/", "https://hooks.slack.com/services/help"],
        ..token(
            "slack_webhook",
            &[
                "://hooks.slack.com/services/",
                "://hooks.slack.com/workflows/",
                "://hooks.slack.com/triggers/",
            ],
            Alphabet::Base64,
            [30, 120],
        )
    },
    VendorToken {
        examples: &[
            "sk_live_51HqZ2bK9pQ2mW7vR4tY8zN3bL6sJdF0",
            "rk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        ],
        look_alikes: &["sk_live_", "sk_live_key", "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"],
        ..token(
            "stripe_key",
            &["sk_live_", "rk_live_", "sk_test_", "rk_test_"],
            Alphabet::Base62,
            [24, 247],
        )
    },
    VendorToken {
        examples: &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        look_alikes: &["whsec_placeholder", "whsec_..."],
        ..token(
            "stripe_webhook_secret",
            &["whsec_"],
            Alphabet::Base64,
            [32, 64],
        )
    },
    VendorToken {
        // 39 characters in all.
        examples: &["AIzaEgtSUJwW5BUEQ8XS-F2Xs8cUuA-7N2EoNaf"],
        look_alikes: &["AIzaEgtSUJwW5BUEQ8XS-F2Xs8cUuA-7N2EoN", "AIzaHelloWorld"],
        ..token("google_api_key", &["AIza"], Alphabet::Base64Url, [35, 35])
    },
    VendorToken {
        // Project, service-account and admin keys.
        examples: &[
            "sk-proj-2aQiZ6odrUlAJvABNMWj0dbPtbTW7YRogqm2-f9PrBOsJxUT-gAAK6SrFSXTkXvk42JD0zJbkmMg7gaUiASFCK-62_4f16U3UARKwIPpjCraTh_7ZdZfiKs5",
            "sk-svcacct-Ab3dE5gH7jK9mN1pQ3sT5vX7zB9dF1hJ3lN5pR7tV9xZ1bD3fH5jL",
        ],
        look_alikes: &["sk-proj-example", "sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
        ..token(
            "openai_api_key",
            &["sk-proj-", "sk-svcacct-", "sk-admin-"],
            Alphabet::Base64Url,
            [40, 250],
        )
    },
    VendorToken {
        // The legacy format: `sk-` and 48 base62 characters.
        examples: &["sk-fIwn76YOzYL0IRWHaiXS24fEz0zlyAirTzRSxjvvU2Nt6iBS"],
        look_alikes: &["sk-learn", "sk-fIwn76YOzYL0IRWHaiXS24fEz0zlyAirTzRSxjvvU2Nt6iB"],
        ..token("openai_api_key", &["sk-"], Alphabet::Base62, [48, 48])
    },
    VendorToken {
        examples: &[
            "sk-ant-api03-nViTQlISvY00bI3fGZJlBKuVr4lnPH7lCj7OulCU_WZN6cyAckYUibJBFrOcqD5Jc2vI1r-FJ8hSh6LKbyBcvMEy0iwd6AA",
        ],
        look_alikes: &["sk-ant-api03-", "sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
        ..token("anthropic_api_key", &["sk-ant-"], Alphabet::Base64Url, [40, 200])
    },
    VendorToken {
        // Same format and checksum as GitHub's.
        checksum: Some(Checksum::Crc32Base62),
        examples: &["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"],
        look_alikes: &["npm_iAGEKg6TmLqI2vYZ10QIEfFjEjFfpP0mkXpL", "npm_install_deps"],
        ..token("npm_token", &["npm_"], Alphabet::Base62, [36, 36])
    },
    VendorToken {
        // A macaroon: `pypi-AgEIcHlwaS5vcmc…` (base64 of `pypi.org`).
        examples: &[
            "pypi-AgEIcHlwaS5vcmcNPMFAXWog-oCGh5ut-ut4_wHdNc_hKyRSTk8sWGzXLmQNWupZy4zMQRhfEZmZtgKH8jQ5x",
        ],
        look_alikes: &[
            "pypi-simple-index",
            "pypi-AgEIcHlwaS5vcmc",
            "pypi-simple-index-mirror-for-internal-packages-and-more-of-them",
        ],
        ..token("pypi_token", &["pypi-AgE"], Alphabet::Base64Url, [44, 300])
    },
    VendorToken {
        // `SG.`, 22 characters, `.`, 43 characters.
        layout: &[(22, b'.')],
        examples: &["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"],
        look_alikes: &["SG.ip1OORAdluvbaqXprA0ZCR", "SG.example.com"],
        ..token("sendgrid_api_key", &["SG."], Alphabet::Base64Url, [65, 65])
    },
    VendorToken {
        // API key SIDs (`SK`) and account SIDs (`AC`): 32 lowercase hex digits.
        examples: &["SK2f7d2cb191a5b734575a1d8c4f6b4428", "ACd5b8c1628f9edede5ffb155b81f64157"],
        look_alikes: &["SK2f7d2cb191a5b734575a1d8c4f6b44", "ACCOUNT0123456789abcdef0123456789"],
        ..token("twilio_key", &["SK", "AC"], Alphabet::HexLower, [32, 32])
    },
    VendorToken {
        // 64 random bytes, base64: 86 characters and `==`.
        keep_prefix: true,
        examples: &[
            "AccountKey=F6k+9Ay4PH3MrzWQHVBeisYil/HSB9ijUtRQb3SzeKAExtSzceqPthEuRMPPQHKTD8V11UoJ7tA+UD7Ky9sHNX==",
        ],
        look_alikes: &["AccountKey=", "AccountKey=<your-key>"],
        ..token(
            "azure_storage_key",
            &["AccountKey=", "accountkey="],
            Alphabet::Base64,
            [86, 88],
        )
    },
    VendorToken {
        // Service Bus, Event Hubs, IoT Hub: 32 random bytes, base64.
        keep_prefix: true,
        examples: &["SharedAccessKey=T9Sz2MYFkCi2RH2TOUTxKweOcyXFP+n8MPskMCIC00A="],
        look_alikes: &["SharedAccessKeyName=RootManageSharedAccessKey"],
        ..token(
            "azure_storage_key",
            &["SharedAccessKey="],
            Alphabet::Base64,
            [43, 44],
        )
    },
    VendorToken {
        // The signature of a shared access signature URL (HMAC-SHA256, base64, URL-escaped).
        keep_prefix: true,
        examples: &["sig=S8wWq61FtmsKbSyRoWWR9TzcHMg2QwdXXzWB1W25eA4%3D"],
        look_alikes: &["sig=abc", "sig=true"],
        ..token("azure_sas_signature", &["sig="], Alphabet::UrlBase64, [40, 132])
    },
    VendorToken {
        // User keys `NRAK-` (27 characters), insert keys `NRII-`, browser keys `NRJS-`.
        examples: &["NRAK-9CB62HYVE61HRLDUC8TN0LMI436"],
        look_alikes: &["NRAK-EXAMPLE", "NRAK-"],
        ..token(
            "new_relic_key",
            &["NRAK-", "NRII-", "NRJS-", "NRIQ-"],
            Alphabet::Base64Url,
            [19, 40],
        )
    },
    VendorToken {
        // STS session tokens: base64 of a binary blob that starts the same for every token.
        examples: &[
            "IQoJb3JpZ2luX2VjEHYaCXVzLWVhc3QtMSJHMEUCIQD7Kx7pQ2mW9vR4tY8zN3bL6sJdF0hG5cV1aE2iO9uT3yQIgVx8pR4tY8zN3bL6sJdF0hG5cV1aE2iO9uT3yR8wQ7eK4jH6gF5dS2aZ1xC3vB4nM5lP6oI7",
            "FwoGZXIvYXdzEJr//////////wEaDM3bL6sJdF0hG5cV1aE2iO9uT3yR8wQ7eK4jH6gF5dS2aZ1xC3vB4nM5lP6oI7uY8tR9eW0qA1sD2fG3hJ4kL5zX6cV7bN8mQ9",
        ],
        look_alikes: &["IQoJb3JpZ2luX2Vj", "FwoGZXIvYXdzEJr"],
        ..token(
            "aws_session_token",
            &["IQoJb3JpZ2luX2Vj", "FwoGZXIvYXdz", "FQoGZXIvYXdz", "AQoDYXdz"],
            Alphabet::Base64,
            [80, 2000],
        )
    },
];

/// A compiled token shape.
#[derive(Debug, Clone)]
pub(crate) struct Shape {
    pub(crate) alphabet: Alphabet,
    pub(crate) length: [usize; 2],
    pub(crate) layout: Vec<(usize, u8)>,
    pub(crate) digit_first: bool,
    pub(crate) checksum: Option<Checksum>,
    pub(crate) keep_prefix: bool,
    /// The value rule (`Redactor::rules` index) a match is reported as.
    pub(crate) slot: u16,
}

/// Every enabled token rule, found by one literal scan.
#[derive(Debug, Clone)]
pub(crate) struct TokenScanner {
    regex: Regex,
    /// Per prefix, the shape it announces: longest prefixes first, the order of the regex.
    prefixes: Vec<(Box<[u8]>, usize)>,
    shapes: Vec<Shape>,
}

impl TokenScanner {
    /// `rules`: each shape with its prefixes. `None` when there is nothing to scan for.
    pub(crate) fn new(rules: Vec<(Shape, Vec<String>)>) -> Option<TokenScanner> {
        let mut prefixes = Vec::new();
        let mut shapes = Vec::new();
        for (shape, ps) in rules {
            for p in ps {
                prefixes.push((p.into_bytes().into_boxed_slice(), shapes.len()));
            }
            shapes.push(shape);
        }
        if prefixes.is_empty() {
            return None;
        }
        prefixes.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        prefixes.dedup_by(|a, b| a.0 == b.0);
        let alternation = prefixes
            .iter()
            .map(|(p, _)| regex::escape(std::str::from_utf8(p).unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("|");
        let regex = Regex::new(&alternation).ok()?;
        Some(TokenScanner {
            regex,
            prefixes,
            shapes,
        })
    }

    /// Calls `emit(slot, span)` for every token in `text`.
    pub(crate) fn find(&self, text: &str, emit: &mut dyn FnMut(u16, Range<usize>)) {
        let b = text.as_bytes();
        let mut pos = 0;
        while let Some(m) = self.regex.find_at(text, pos) {
            let r = m.range();
            let found = self
                .prefixes
                .iter()
                .find(|(p, _)| **p == b[r.clone()])
                .map(|&(_, s)| &self.shapes[s]);
            let span = found.and_then(|s| body(b, r.clone(), s).map(|span| (s.slot, span)));
            match span {
                Some((slot, span)) => {
                    pos = span.end.max(r.end);
                    emit(slot, span);
                }
                None => pos = r.start + 1,
            }
            while pos < text.len() && !text.is_char_boundary(pos) {
                pos += 1;
            }
            if pos >= text.len() {
                break;
            }
        }
    }
}

/// The span to redact of a token whose prefix is at `p`, if its body has the shape.
fn body(b: &[u8], p: Range<usize>, shape: &Shape) -> Option<Range<usize>> {
    // A prefix that starts with a letter or digit starts a word.
    if b[p.start].is_ascii_alphanumeric()
        && prev(b, p.start).is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    let [min, max] = shape.length;
    let start = p.end;
    let mut k = start;
    let mut len = 0usize;
    let mut layout = shape.layout.iter().peekable();
    while k < b.len() && len <= max {
        let c = b[k];
        if let Some(&&(at, sep)) = layout.peek() {
            if len == at {
                if c != sep {
                    return None;
                }
                layout.next();
                k += 1;
                continue;
            }
        }
        if !shape.alphabet.contains(c) {
            break;
        }
        k += 1;
        len += 1;
    }
    if len < min || len > max || layout.next().is_some() {
        return None;
    }
    let mut end = k;
    let pad = shape.alphabet.padding();
    while end < b.len() && end - k < pad && b[end] == b'=' {
        end += 1;
    }
    // A longer word is not this token.
    if next(b, end).is_some_and(|c| {
        c.is_ascii_alphanumeric() || (c == b'_' && shape.alphabet == Alphabet::Base64Url)
    }) {
        return None;
    }
    let bytes = &b[start..k];
    if !varied(bytes) || (shape.digit_first && !b[start].is_ascii_digit()) {
        return None;
    }
    if let Some(Checksum::Crc32Base62) = shape.checksum {
        if !checksum::crc32_base62(bytes) {
            return None;
        }
    }
    Some(if shape.keep_prefix {
        start..end
    } else {
        p.start..end
    })
}

/// Not a placeholder: enough different characters (`xxxx…`, `XXXX-XXXX…`, `0000…` are not
/// secrets).
fn varied(bytes: &[u8]) -> bool {
    let mut seen = [0u64; 2];
    let mut distinct = 0;
    for &c in bytes {
        let (w, bit) = (usize::from(c >> 6) & 1, 1u64 << (c & 63));
        if seen[w] & bit == 0 {
            seen[w] |= bit;
            distinct += 1;
        }
    }
    distinct >= (bytes.len() / 4).clamp(1, 8)
}

/// The head of every built-in prefix (its bytes before the first `_`, `-` or `=`) that the
/// prefilter checks at those separators; prefixes without a separator are checked at their
/// uppercase first letter.
pub(crate) fn head_before_separator(head: &[u8]) -> bool {
    matches!(
        head,
        b"ghp"
            | b"gho"
            | b"ghu"
            | b"ghs"
            | b"ghr"
            | b"github"
            | b"glpat"
            | b"gldt"
            | b"glrt"
            | b"glptt"
            | b"gloas"
            | b"glcbt"
            | b"xoxb"
            | b"xoxp"
            | b"xoxa"
            | b"xoxo"
            | b"xoxr"
            | b"xoxs"
            | b"xoxe"
            | b"sk"
            | b"rk"
            | b"whsec"
            | b"npm"
            | b"pypi"
            | b"NRAK"
            | b"NRII"
            | b"NRJS"
            | b"NRIQ"
            | b"AccountKey"
            | b"accountkey"
            | b"SharedAccessKey"
            | b"sig"
    )
}

/// At an uppercase letter: whether a built-in prefix without an early separator starts here.
#[inline]
pub(crate) fn upper_prefix_at(b: &[u8], i: usize) -> bool {
    let rest = &b[i + 1..];
    match b[i] {
        b'A' => {
            rest.starts_with(b"Iza")
                || rest.starts_with(b"QoDYXdz")
                || (rest.first() == Some(&b'C') && rest.get(1).is_some_and(u8::is_ascii_hexdigit))
        }
        b'S' => {
            (rest.first() == Some(&b'K') && rest.get(1).is_some_and(u8::is_ascii_hexdigit))
                || rest.starts_with(b"G.")
        }
        b'F' => rest.starts_with(b"woGZXIvYXdz") || rest.starts_with(b"QoGZXIvYXdz"),
        b'I' => rest.starts_with(b"QoJb3JpZ2luX2Vj"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Redactor;

    #[test]
    fn every_format_redacts_its_examples_and_keeps_its_look_alikes() {
        let r = Redactor::default();
        for t in VENDOR_TOKENS {
            assert!(
                !t.examples.is_empty() && !t.look_alikes.is_empty(),
                "{}",
                t.name
            );
            for ex in t.examples {
                for text in [
                    format!("key {ex} ok"),
                    format!("\"{ex}\""),
                    format!("x={ex}"),
                ] {
                    let out = r.redact(&text);
                    let body = if t.keep_prefix {
                        let p = t.prefixes.iter().find(|p| ex.contains(*p)).unwrap();
                        &ex[ex.find(p).unwrap() + p.len()..]
                    } else {
                        ex
                    };
                    assert!(!out.contains(body), "{}: {text:?} -> {out:?}", t.name);
                    assert!(
                        out.contains(&format!("[REDACTED:{}]", t.name)),
                        "{}: {text:?} -> {out:?}",
                        t.name
                    );
                }
            }
            for la in t.look_alikes {
                let text = format!("see {la} here");
                let out = r.redact(&text);
                assert!(
                    !out.contains(&format!("[REDACTED:{}]", t.name)),
                    "{}: {text:?} -> {out:?}",
                    t.name
                );
            }
        }
    }

    #[test]
    fn prefilter_sees_every_prefix() {
        for t in VENDOR_TOKENS {
            for p in t.prefixes {
                // A prefix and the start of a body of any alphabet.
                let text = format!(" {p}a0");
                let flags = super::super::prefilter::scan(text.as_bytes(), false, |_| {}, None);
                assert!(
                    flags & super::super::prefilter::TOKENS != 0,
                    "prefilter misses {p:?}"
                );
            }
        }
    }
}
