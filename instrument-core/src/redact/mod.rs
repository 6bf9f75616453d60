//! PII redaction: the [`Redactor`] that removes personal data and secrets from log text before it
//! leaves the process.
//!
//! ```
//! use instrument_core::redact::Redactor;
//!
//! let r = Redactor::default();
//! assert_eq!(
//!     r.redact("user bob@example.com paid with 4111 1111 1111 1111 from 203.0.113.9"),
//!     "user [REDACTED:email] paid with [REDACTED:card] from [REDACTED:ipv4]"
//! );
//! // Nothing to redact: the input comes back borrowed, nothing is allocated.
//! assert!(matches!(r.redact("reserved 2 seats"), std::borrow::Cow::Borrowed(_)));
//! ```
//!
//! # Rules
//!
//! **Value rules** find PII by what it looks like, and *validate* each candidate so that order
//! numbers, UUIDs, hashes, timestamps and versions stay readable:
//!
//! | rule | finds | validated by |
//! |---|---|---|
//! | `email` | `alice@example.com` (Unicode too) | not a URL's `user:password@host` |
//! | `card` | 13–19 digits, with or without ` `/`-` groups | network IIN prefix and length, **Luhn** |
//! | `iban` | `DE89 3704 0044 0532 0130 00`, compact or grouped | country length table, **mod-97** |
//! | `ssn` | `078-05-1120`, `078 05 1120`; nine digits after an `SSN` label | SSA ranges (no 000/666/9xx area, 00 group, 0000 serial) |
//! | `phone` | E.164 `+44 20 7946 0958`, `(415) 555-2671`, `415-555-2671`, `01 23 45 67 89`, `020 7946 0958` | digit counts, NANP area/exchange, consistent separators; not the later groups of a Luhn-invalid card-shaped reference |
//! | `ipv4` | `203.0.113.9` | octets ≤ 255, not inside versions/OIDs; `0.0.0.0`, `127.x`, broadcast kept |
//! | `ipv6` | `2001:db8::1`, `::ffff:192.0.2.1` | parses; not `std::fmt`-like paths; `::`, `::1` kept |
//! | `jwt` | `eyJ….eyJ….sig` (JWS and JWE) | |
//! | `bearer` | the token after `Bearer` | token-shaped, or after an `Authorization` header name |
//! | `aws_access_key_id` | `AKIA…`, `ASIA…` and the other IAM prefixes, 20 characters | word boundaries |
//! | `aws_secret_access_key` | 40 characters after `aws_secret_access_key`, `SecretAccessKey`, … (and `=`, `:` or blanks), or after its key ID (`AKIA…:secret`) | mixed-case base64, not a hex digest |
//! | `pem` | `-----BEGIN … PRIVATE KEY-----` through its `END` line (to the end of the text if cut off) | |
//! | `url_credentials` | the password of `scheme://user:password@host` (a long user-only userinfo too) | |
//!
//! **Key rules** redact a whole value because of its *name*, whatever the value looks like:
//! `password`, `secret`, `private_key`, `token`, `authorization`, `cookie`, `api_key`, `ssn`,
//! `card_number` (each a set of case-insensitive globs, e.g. `*password*`, `*token`, `*_pan`).
//! They apply to field names ([`Redactor::key_rule`]) and, inside text, to `key=value`,
//! `key: value`, `"key":"value"` and `Debug` output such as `Login { password: "…" }`.
//!
//! Custom rules (named regexes) and custom key rules come from [`RedactConfig`], which serde
//! loads from any format; a bad regex is a [`RedactError`] when the redactor is built.
//!
//! # Methods
//!
//! Per rule: [`Method::Replace`] (`[REDACTED:email]`, the default), [`Method::Mask`]
//! (`**** **** **** 1111`), [`Method::Hash`] (`[HASH:email:5f2b…]`, a keyed HMAC-SHA256 pseudonym
//! that is stable across lines, so one user can be followed without the value).
//!
//! # Guarantees
//!
//! * Text without PII is scanned once by a byte-class prefilter and returned as
//!   [`Cow::Borrowed`]: no allocation. Only the rules the prefilter finds plausible run their
//!   regex.
//! * All matches are found in the *input* and resolved before anything is replaced; a marker
//!   (`[REDACTED:…]`, `[HASH:…]`) or an already masked value is never matched again, and no
//!   match runs into a marker (replacing it would break the marker).
//! * A match frees its neighbours: a value glued to a match is judged as if the match were
//!   already its marker (`4111111111111111+442079460958` is a card and a phone number, and so is
//!   the masked `************1111+44…` never left behind), under every method. One call finds
//!   everything a second would: `redact(redact(x)) == redact(x)`.
//! * Overlapping matches merge: a byte covered by any match is redacted.
//! * No input makes it panic.

mod build;
mod candidates;
mod checksum;
mod columns;
mod config;
mod key_values;
mod keys;
mod matching;
mod method;
mod plausible;
mod prefilter;
#[doc(hidden)]
pub mod reference;
mod replace;
mod rules;
mod scanners;
mod settle;
#[cfg(test)]
mod tests;
mod vendor;

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::OnceLock;

use hmac::{Hmac, Mac};
use regex::Regex;
use sha2::Sha256;
use smallvec::SmallVec;

pub use config::{GroupConfig, KeyRuleConfig, RedactConfig, RedactError, RuleConfig, GROUPS};
pub use method::Method;
pub use vendor::{Alphabet, Checksum, TokenRuleConfig};

use config::check_name;
use keys::{Glob, KeyRule, KeySet, BUILTIN_KEY_RULES, MARKERS};
use matching::{Hit, Hits, Kind, ValueRule, Who};
use replace::{already_masked, marker_len};
use rules::Builtin;
use vendor::TokenScanner;

type HmacSha256 = Hmac<Sha256>;

/// Priority of custom value rules (above every built-in) and of key rules (below).
const CUSTOM_PRIORITY: u8 = 120;
const KEY_PRIORITY: u8 = 50;

/// Scans of a marked text to reach a fixpoint (see the `settle` module). One is enough for real
/// text; a chain of glued values (`534::8+555555555534::8+5555…`) frees one link per scan.
/// Every scan adds bytes no match held before, so chains end; the bound only guards against a
/// masked value that some rule keeps matching.
const MAX_EXTRA_PASSES: usize = 256;

/// Hex digits of the truncated HMAC in `[HASH:<rule>:<hex>]`.
const HASH_HEX: usize = 16;

/// A field name matched by a key rule: the result of [`Redactor::key_rule`], cheap to copy and to
/// cache per callsite. Only meaningful for the redactor that returned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyMatch {
    index: u16,
}

impl KeyMatch {
    /// The match as a number below `u16::MAX`, for a cache (see [`from_bits`](Self::from_bits)).
    pub(crate) fn to_bits(self) -> u16 {
        self.index
    }

    /// The match [`to_bits`](Self::to_bits) gave.
    pub(crate) fn from_bits(bits: u16) -> KeyMatch {
        KeyMatch { index: bits }
    }
}

/// The PII redactor. Build one per process (from [`RedactConfig`]) and share it: it is `Send +
/// Sync`, and every method takes `&self`.
///
/// ```
/// use instrument_core::redact::Redactor;
///
/// let r = Redactor::default();
/// // Values, by what they look like:
/// assert_eq!(r.redact("token eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl"), "token [REDACTED:jwt]");
/// // Keys, by name: a field called `password` …
/// let key = r.key_rule("password").unwrap();
/// assert_eq!(r.redact_keyed(key, "hunter2"), "[REDACTED:password]");
/// // … or `key=value` inside text.
/// assert_eq!(r.redact("login password=hunter2 ok"), "login password=[REDACTED:password] ok");
/// ```
#[derive(Clone)]
pub struct Redactor {
    rules: Vec<ValueRule>,
    /// `rules` index of each built-in rule, `u16::MAX` when disabled.
    builtin_slot: [u16; rules::ALL.len()],
    /// Bits of the enabled built-in rules.
    builtin_mask: u32,
    /// Whether any custom rule is enabled.
    has_custom: bool,
    /// The vendor token rules, found by one literal scan.
    tokens: Option<TokenScanner>,
    /// Whether a custom token rule is enabled (its prefix is unknown to the prefilter).
    tokens_always: bool,
    /// The largest `keep` of any [`Method::Mask`] rule: a value that already looks masked by
    /// it is left alone, so masking is idempotent whichever rule masked first.
    max_keep: Option<usize>,
    /// Whether every rule writes its `[REDACTED:<rule>]` marker ([`Method::Replace`]).
    only_markers: bool,
    keys: KeySet,
    key_values_in_text: bool,
    mac: Option<HmacSha256>,
    /// Unique for the life of the process (clones share it: same rules, same answers): what
    /// per-thread caches of this redactor's verdicts are keyed by. An address could be reused
    /// by a later redactor with other rules.
    id: u64,
}

/// A fresh [`Redactor`] id.
fn fresh_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Default for Redactor {
    /// Every built-in value and key rule, [`Method::Replace`].
    fn default() -> Self {
        static DEFAULT: OnceLock<Redactor> = OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                Redactor::new(&RedactConfig::default())
                    .expect("the default redaction configuration is valid")
            })
            .clone()
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Rules<'a>(&'a Redactor);
        impl fmt::Debug for Rules<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map()
                    .entries(self.0.rules.iter().map(|r| (&r.name, r.method)))
                    .finish()
            }
        }
        struct Keys<'a>(&'a Redactor);
        impl fmt::Debug for Keys<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map()
                    .entries(self.0.keys.rules.iter().map(|r| (&r.name, r.method)))
                    .finish()
            }
        }
        f.debug_struct("Redactor")
            .field("rules", &Rules(self))
            .field("keys", &Keys(self))
            .field("key_values_in_text", &self.key_values_in_text)
            .field("hash_key", &self.mac.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl Redactor {
    /// The default rules plus what the environment says (`INSTRUMENT_REDACT_HASH_KEY`,
    /// `INSTRUMENT_REDACT_DISABLE`, `INSTRUMENT_REDACT_KEYS`; see [`RedactConfig::with_env`]).
    pub fn from_env() -> Result<Redactor, RedactError> {
        Redactor::new(&RedactConfig::default().with_env(|n| std::env::var(n).ok()))
    }

    /// A redactor with no rules: every text comes back borrowed (`INSTRUMENT_REDACT=off`).
    pub fn disabled() -> Redactor {
        Redactor {
            rules: Vec::new(),
            builtin_slot: [u16::MAX; rules::ALL.len()],
            builtin_mask: 0,
            has_custom: false,
            tokens: None,
            tokens_always: false,
            max_keep: None,
            only_markers: true,
            keys: KeySet::default(),
            key_values_in_text: false,
            mac: None,
            id: fresh_id(),
        }
    }

    /// Unique for the life of the process (clones share it). Not public API: the key of
    /// per-thread caches of this redactor's verdicts.
    #[doc(hidden)]
    #[must_use]
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Whether any rule is enabled. A log layer may skip the redactor entirely when not.
    pub fn is_active(&self) -> bool {
        !self.rules.is_empty() || !self.keys.is_empty()
    }

    /// The enabled value rules, in priority order of built-ins then custom rules, with methods.
    pub fn rules(&self) -> impl Iterator<Item = (&str, Method)> + '_ {
        self.rules.iter().map(|r| (r.name.as_str(), r.method))
    }

    /// The enabled key rules with their methods.
    pub fn key_rules(&self) -> impl Iterator<Item = (&str, Method)> + '_ {
        self.keys.rules.iter().map(|r| (r.name.as_str(), r.method))
    }

    /// Redacts `text`. Returns it borrowed, without allocating, when nothing matches.
    ///
    /// ```
    /// # use instrument_core::redact::Redactor;
    /// let r = Redactor::default();
    /// assert_eq!(r.redact("refund to DE89 3704 0044 0532 0130 00."), "refund to [REDACTED:iban].");
    /// assert_eq!(r.redact("order 4111111111111112 shipped"), "order 4111111111111112 shipped"); // Luhn
    /// ```
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let (hits, flags) = self.find_flagged(text);
        if hits.is_empty() {
            return Cow::Borrowed(text);
        }
        Cow::Owned(self.settle(text, hits, flags, Redactor::find))
    }

    /// Appends the redacted `text` to `out`; returns whether anything was redacted. For callers
    /// with a reusable buffer.
    ///
    /// ```
    /// # use instrument_core::redact::Redactor;
    /// let mut buf = String::from("msg=");
    /// assert!(Redactor::default().redact_into("mail bob@example.com", &mut buf));
    /// assert_eq!(buf, "msg=mail [REDACTED:email]");
    /// ```
    pub fn redact_into(&self, text: &str, out: &mut String) -> bool {
        self.redact_with(text, |s| out.push_str(s))
    }

    /// Passes the redacted `text` to `sink` as consecutive pieces (their concatenation is the
    /// result); returns whether anything was redacted. A JSON writer can escape the pieces
    /// straight into its line buffer: when nothing matches, `sink` gets `text` itself, with no
    /// copy and no allocation.
    ///
    /// ```
    /// # use instrument_core::redact::Redactor;
    /// let mut line = String::new();
    /// let changed = Redactor::default().redact_with("ip 203.0.113.9 ok", |s| line.push_str(s));
    /// assert!(changed);
    /// assert_eq!(line, "ip [REDACTED:ipv4] ok");
    /// ```
    pub fn redact_with(&self, text: &str, mut sink: impl FnMut(&str)) -> bool {
        if self.surely_clean(text) {
            sink(text);
            return false;
        }
        let (hits, flags) = self.find_flagged(text);
        if hits.is_empty() {
            sink(text);
            return false;
        }
        sink(&self.settle(text, hits, flags, Redactor::find));
        true
    }

    /// [`Redactor::redact`] without the prefilter: every rule runs on every text. For tests that
    /// check that the prefilter never changes a result. Not public API.
    #[doc(hidden)]
    pub fn redact_unfiltered(&self, text: &str) -> String {
        let hits = self.find_unfiltered(text);
        if hits.is_empty() {
            return text.to_string();
        }
        self.settle(text, hits, u32::MAX, Redactor::find_unfiltered)
    }

    /// Whether `text` holds anything to redact.
    pub fn contains_pii(&self, text: &str) -> bool {
        !self.surely_clean(text) && !self.find(text).is_empty()
    }

    /// The key rule matching a field name (case-insensitive, in snake-case normal form), if any.
    /// Depends only on the name: a log layer computes it once per callsite and field.
    ///
    /// ```
    /// # use instrument_core::redact::Redactor;
    /// let r = Redactor::default();
    /// assert!(r.key_rule("X-Api-Key").is_some());
    /// assert!(r.key_rule("user.password").is_some());
    /// assert!(r.key_rule("token_count").is_none());
    /// ```
    pub fn key_rule(&self, field_name: &str) -> Option<KeyMatch> {
        self.keys
            .find(field_name.as_bytes())
            .map(|i| KeyMatch { index: i as u16 })
    }

    /// The name of a matched key rule (`password`, `token`, …).
    pub fn key_rule_name(&self, key: KeyMatch) -> &str {
        self.keys
            .rules
            .get(usize::from(key.index))
            .map_or("key", |r| r.name.as_str())
    }

    /// The replacement of a whole value under a key rule: borrowed from the redactor for
    /// [`Method::Replace`] (no allocation), computed for mask and hash.
    pub fn redact_keyed<'s>(&'s self, key: KeyMatch, value: &str) -> Cow<'s, str> {
        match self.keys.rules.get(usize::from(key.index)) {
            Some(rule) if rule.method == Method::Replace => Cow::Borrowed(&rule.replacement),
            Some(_) => {
                let mut out = String::new();
                self.redact_keyed_with(key, value, |s| out.push_str(s));
                Cow::Owned(out)
            }
            None => Cow::Borrowed("[REDACTED]"),
        }
    }

    /// Streams the replacement of a whole value under a key rule to `sink`.
    pub fn redact_keyed_with(&self, key: KeyMatch, value: &str, mut sink: impl FnMut(&str)) {
        match self.keys.rules.get(usize::from(key.index)) {
            Some(_) => self.write_replacement(Who::Key(key.index), value, &mut sink),
            None => sink("[REDACTED]"),
        }
    }
}
