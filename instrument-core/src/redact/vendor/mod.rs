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

mod formats;
pub(crate) use formats::VENDOR_TOKENS;

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
