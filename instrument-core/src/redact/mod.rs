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
//! | `phone` | E.164 `+44 20 7946 0958`, `(415) 555-2671`, `415-555-2671`, `01 23 45 67 89`, `020 7946 0958` | digit counts, NANP area/exchange, consistent separators |
//! | `ipv4` | `203.0.113.9` | octets ≤ 255, not inside versions/OIDs; `0.0.0.0`, `127.x`, broadcast kept |
//! | `ipv6` | `2001:db8::1`, `::ffff:192.0.2.1` | parses; not `std::fmt`-like paths; `::`, `::1` kept |
//! | `jwt` | `eyJ….eyJ….sig` (JWS and JWE) | |
//! | `bearer` | the token after `Bearer` | token-shaped, or after an `Authorization` header name |
//! | `aws_access_key_id` | `AKIA…`, `ASIA…` and the other IAM prefixes, 20 characters | word boundaries |
//! | `aws_secret_access_key` | 40 characters after `aws_secret_access_key`, `SecretAccessKey`, … | mixed-case base64, not a hex digest |
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
//!   (`[REDACTED:…]`, `[HASH:…]`) or an already masked value is never matched again. When
//!   something was redacted, the result is scanned again until stable (a replacement can free a
//!   neighbour from a glued context: `+0480893::48`), so `redact(redact(x)) == redact(x)`.
//! * Overlapping matches merge: a byte covered by any match is redacted.
//! * No input makes it panic.

mod checksum;
mod config;
mod keys;
mod prefilter;
#[doc(hidden)]
pub mod reference;
mod rules;

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::OnceLock;

use hmac::{Hmac, Mac};
use regex::Regex;
use sha2::Sha256;
use smallvec::SmallVec;

pub use config::{KeyRuleConfig, Method, RedactConfig, RedactError, RuleConfig};

use config::check_name;
use keys::{Glob, KeyRule, KeySet, BUILTIN_KEY_RULES, MARKERS};
use rules::Builtin;

type HmacSha256 = Hmac<Sha256>;

/// Priority of custom value rules (above every built-in) and of key rules (below).
const CUSTOM_PRIORITY: u8 = 120;
const KEY_PRIORITY: u8 = 50;

/// Passes over a redacted text to reach a fixpoint (see `Redactor::settle`); one is enough for
/// anything but adversarial custom rules.
const MAX_EXTRA_PASSES: usize = 3;

/// Hex digits of the truncated HMAC in `[HASH:<rule>:<hex>]`.
const HASH_HEX: usize = 16;

/// A field name matched by a key rule: the result of [`Redactor::key_rule`], cheap to copy and to
/// cache per callsite. Only meaningful for the redactor that returned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyMatch {
    index: u16,
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
    /// The largest `keep` of any [`Method::Mask`] rule: a value that already looks masked by
    /// it is left alone, so masking is idempotent whichever rule masked first.
    max_keep: Option<usize>,
    keys: KeySet,
    key_values_in_text: bool,
    mac: Option<HmacSha256>,
}

#[derive(Clone)]
struct ValueRule {
    name: String,
    replacement: String,
    method: Method,
    priority: u8,
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Builtin(Builtin),
    Custom {
        regex: Regex,
        /// The `value` capture group, when the pattern has one.
        group: Option<usize>,
    },
}

/// Which rule a match belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Value(u16),
    Key(u16),
}

#[derive(Debug, Clone, Copy)]
struct Hit {
    start: usize,
    end: usize,
    who: Who,
}

type Hits = SmallVec<[Hit; 8]>;

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
    /// Builds a redactor from a configuration, checking every name, pattern, glob and the hash
    /// key.
    ///
    /// ```
    /// use instrument_core::redact::{RedactConfig, RedactError, Redactor};
    ///
    /// let bad = RedactConfig::default().custom_rule("order", "ORD-[0-9", Default::default());
    /// assert!(matches!(Redactor::new(&bad), Err(RedactError::InvalidPattern { .. })));
    /// ```
    pub fn new(config: &RedactConfig) -> Result<Redactor, RedactError> {
        let mac = match &config.hash_key {
            Some(k) if k.is_empty() => return Err(RedactError::EmptyHashKey),
            Some(k) => Some(
                HmacSha256::new_from_slice(k.as_bytes()).map_err(|_| RedactError::EmptyHashKey)?,
            ),
            None => None,
        };
        let needs_key = |name: &str, method: Method| match (method, &mac) {
            (Method::Hash, None) => Err(RedactError::MissingHashKey {
                rule: name.to_string(),
            }),
            _ => Ok(()),
        };

        for (name, rc) in &config.rules {
            check_name(name)?;
            match (Builtin::by_name(name), &rc.pattern) {
                (Some(_), Some(_)) => {
                    return Err(RedactError::BuiltinPattern { rule: name.clone() })
                }
                (None, None) => {
                    return Err(RedactError::UnknownRule {
                        rule: name.clone(),
                        known: rules::ALL.map(Builtin::name).join(", "),
                    })
                }
                _ => {}
            }
        }

        let mut value_rules = Vec::new();
        let mut builtin_slot = [u16::MAX; rules::ALL.len()];
        let mut builtin_mask = 0u32;
        for b in rules::ALL {
            let rc = config.rules.get(b.name());
            if rc.and_then(|r| r.enabled) == Some(false) {
                continue;
            }
            let method = rc.and_then(|r| r.method).unwrap_or_default();
            needs_key(b.name(), method)?;
            builtin_slot[b as usize] = value_rules.len() as u16;
            builtin_mask |= b.bit();
            value_rules.push(ValueRule {
                name: b.name().to_string(),
                replacement: format!("[REDACTED:{}]", b.name()),
                method,
                priority: b.priority(),
                kind: Kind::Builtin(b),
            });
        }
        let mut has_custom = false;
        for (name, rc) in &config.rules {
            let Some(pattern) = &rc.pattern else { continue };
            let regex = regex::RegexBuilder::new(pattern)
                .size_limit(1 << 22)
                .build()
                .map_err(|source| RedactError::InvalidPattern {
                    rule: name.clone(),
                    source,
                })?;
            if regex.is_match("") {
                return Err(RedactError::EmptyMatch { rule: name.clone() });
            }
            if rc.enabled == Some(false) {
                continue;
            }
            let method = rc.method.unwrap_or_default();
            needs_key(name, method)?;
            let group = regex.capture_names().position(|n| n == Some("value"));
            has_custom = true;
            value_rules.push(ValueRule {
                name: name.clone(),
                replacement: format!("[REDACTED:{name}]"),
                method,
                priority: CUSTOM_PRIORITY,
                kind: Kind::Custom { regex, group },
            });
        }

        let mut key_rules = Vec::new();
        for (name, kc) in &config.keys {
            check_name(name)?;
            let builtin = BUILTIN_KEY_RULES.iter().any(|(n, _)| n == name);
            if !builtin && kc.globs.is_none() {
                return Err(RedactError::UnknownKeyRule {
                    rule: name.clone(),
                    known: BUILTIN_KEY_RULES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            if kc.globs.iter().flatten().any(|g| g.trim().is_empty()) {
                return Err(RedactError::EmptyGlob { rule: name.clone() });
            }
        }
        let builtin_keys = BUILTIN_KEY_RULES.iter().map(|(name, globs)| {
            let kc = config.keys.get(*name);
            let globs = match kc.and_then(|k| k.globs.as_ref()) {
                Some(g) => g.iter().map(|g| Glob::new(g)).collect(),
                None => globs.iter().map(|g| Glob::new(g)).collect(),
            };
            (name.to_string(), kc, globs)
        });
        let custom_keys = config
            .keys
            .iter()
            .filter(|(n, _)| !BUILTIN_KEY_RULES.iter().any(|(b, _)| b == n))
            .map(|(name, kc)| {
                let globs = kc.globs.iter().flatten().map(|g| Glob::new(g)).collect();
                (name.clone(), Some(kc), globs)
            });
        for (name, kc, globs) in builtin_keys.chain(custom_keys) {
            if kc.and_then(|k| k.enabled) == Some(false) {
                continue;
            }
            let method = kc.and_then(|k| k.method).unwrap_or_default();
            needs_key(&name, method)?;
            key_rules.push(KeyRule {
                replacement: format!("[REDACTED:{name}]"),
                whole_line: name == "cookie",
                name,
                globs,
                method,
            });
        }

        for count in [value_rules.len(), key_rules.len()] {
            if count >= usize::from(u16::MAX) {
                return Err(RedactError::TooManyRules { count });
            }
        }
        let max_keep = value_rules
            .iter()
            .map(|r| r.method)
            .chain(key_rules.iter().map(|r| r.method))
            .filter_map(|m| match m {
                Method::Mask { keep } => Some(keep),
                _ => None,
            })
            .max();
        Ok(Redactor {
            max_keep,
            rules: value_rules,
            builtin_slot,
            builtin_mask,
            has_custom,
            keys: KeySet::new(key_rules),
            key_values_in_text: config.key_values_in_text,
            mac,
        })
    }

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
            max_keep: None,
            keys: KeySet::default(),
            key_values_in_text: false,
            mac: None,
        }
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
        let hits = self.find(text);
        if hits.is_empty() {
            return Cow::Borrowed(text);
        }
        Cow::Owned(self.settle(text, &hits, Redactor::find))
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
        let hits = self.find(text);
        if hits.is_empty() {
            sink(text);
            return false;
        }
        sink(&self.settle(text, &hits, Redactor::find));
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
        self.settle(text, &hits, Redactor::find_unfiltered)
    }

    fn find_unfiltered(&self, text: &str) -> Hits {
        let mut hits = Hits::new();
        let b = text.as_bytes();
        if self.key_values_in_text {
            for i in 0..b.len() {
                if b[i] == b'=' || b[i] == b':' {
                    if let Some((rule, span)) = self.keys.key_value_at(b, i) {
                        push(&mut hits, text, span, Who::Key(rule as u16));
                    }
                }
            }
        }
        self.run_rules(text, self.builtin_mask, &mut hits);
        if !hits.is_empty() {
            self.resolve(text, &mut hits);
        }
        hits
    }

    /// Writes `text` with `hits` replaced, then scans the result again until nothing more
    /// matches. A replacement changes the context of its neighbours: in `+0480893::48` the `::48`
    /// is glued to a digit and no address, but after `[REDACTED:phone]::48` it stands alone. The
    /// fixpoint makes `redact(redact(x)) == redact(x)`. The extra scan only happens when
    /// something was redacted, and markers trigger no rule, so it is cheap.
    fn settle(&self, text: &str, hits: &[Hit], find: impl Fn(&Redactor, &str) -> Hits) -> String {
        let mut out = String::with_capacity(text.len() + 16 * hits.len());
        self.emit(text, hits, &mut |s| out.push_str(s));
        for _ in 0..MAX_EXTRA_PASSES {
            let more = find(self, &out);
            if more.is_empty() {
                break;
            }
            let mut next = String::with_capacity(out.len() + 16 * more.len());
            self.emit(&out, &more, &mut |s| next.push_str(s));
            out = next;
        }
        out
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

    /// All validated, merged matches of `text`, in order.
    /// Whether the prefilter alone rules out every match: no enabled built-in rule is
    /// plausible, no `key=value` pair names a key rule, and there is no custom rule. The common
    /// case for log text, decided in one pass with no hit list built.
    #[inline]
    fn surely_clean(&self, text: &str) -> bool {
        if self.has_custom {
            return false;
        }
        let b = text.as_bytes();
        let want_kv = self.key_values_in_text && !self.keys.is_empty();
        if self.builtin_mask == 0 && !want_kv {
            return true;
        }
        let keys = &self.keys;
        let mut key_value = false;
        let flags = prefilter::scan(b, want_kv, |i| {
            key_value = key_value || keys.key_value_at(b, i).is_some();
        });
        flags & self.builtin_mask == 0 && !key_value
    }

    fn find(&self, text: &str) -> Hits {
        let mut hits = Hits::new();
        let b = text.as_bytes();
        let want_kv = self.key_values_in_text && !self.keys.is_empty();
        let mut flags = 0;
        if self.builtin_mask != 0 || want_kv {
            let keys = &self.keys;
            flags = prefilter::scan(b, want_kv, |i| {
                if let Some((rule, span)) = keys.key_value_at(b, i) {
                    push(&mut hits, text, span, Who::Key(rule as u16));
                }
            });
        }
        self.run_rules(text, flags & self.builtin_mask, &mut hits);
        if !hits.is_empty() {
            self.resolve(text, &mut hits);
        }
        hits
    }

    /// Runs the regex and validator of every built-in rule in `todo` and of every custom rule.
    fn run_rules(&self, text: &str, mut todo: u32, hits: &mut Hits) {
        while todo != 0 {
            let bit = todo.trailing_zeros() as usize;
            todo &= todo - 1;
            let slot = self.builtin_slot[bit];
            if let Some(ValueRule {
                kind: Kind::Builtin(b),
                ..
            }) = self.rules.get(usize::from(slot))
            {
                b.find(text, &mut |r| push(hits, text, r, Who::Value(slot)));
            }
        }
        if self.has_custom {
            for (i, rule) in self.rules.iter().enumerate() {
                if let Kind::Custom { regex, group } = &rule.kind {
                    let who = Who::Value(i as u16);
                    match group {
                        None => {
                            for m in regex.find_iter(text) {
                                push(hits, text, m.range(), who);
                            }
                        }
                        Some(g) => {
                            for c in regex.captures_iter(text) {
                                if let Some(m) = c.get(*g) {
                                    push(hits, text, m.range(), who);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    fn priority(&self, who: Who) -> u8 {
        match who {
            Who::Value(i) => self.rules[usize::from(i)].priority,
            Who::Key(_) => KEY_PRIORITY,
        }
    }

    /// Drops matches inside existing markers and values already masked, then merges overlapping
    /// matches: the match covering the whole overlap with the highest priority wins, else the
    /// highest-priority match is applied to the whole overlap (never leak a byte).
    fn resolve(&self, text: &str, hits: &mut Hits) {
        let b = text.as_bytes();
        let mut markers: SmallVec<[Range<usize>; 4]> = SmallVec::new();
        for (k, m) in MARKERS.iter().enumerate() {
            for s in memchr::memmem::find_iter(b, m) {
                if let Some(len) = marker_len(&b[s..], m.len(), k == 1) {
                    markers.push(s..s + len);
                }
            }
        }
        hits.retain(|h| {
            let inside = markers.iter().any(|m| m.start <= h.start && h.end <= m.end);
            let masked = self
                .max_keep
                .is_some_and(|keep| already_masked(&text[h.start..h.end], keep));
            !inside && !masked
        });
        hits.sort_unstable_by(|x, y| x.start.cmp(&y.start).then(y.end.cmp(&x.end)));
        let mut out = 0;
        let mut i = 0;
        while i < hits.len() {
            let start = hits[i].start;
            let mut end = hits[i].end;
            let mut j = i + 1;
            while j < hits.len() && hits[j].start < end {
                end = end.max(hits[j].end);
                j += 1;
            }
            let cluster = &hits[i..j];
            let covering = cluster
                .iter()
                .filter(|h| h.start == start && h.end == end)
                .max_by_key(|h| self.priority(h.who));
            let best = covering
                .or_else(|| cluster.iter().max_by_key(|h| self.priority(h.who)))
                .map_or(hits[i].who, |h| h.who);
            hits[out] = Hit {
                start,
                end,
                who: best,
            };
            out += 1;
            i = j;
        }
        hits.truncate(out);
    }

    fn emit(&self, text: &str, hits: &[Hit], sink: &mut dyn FnMut(&str)) {
        let mut pos = 0;
        for h in hits {
            sink(&text[pos..h.start]);
            self.write_replacement(h.who, &text[h.start..h.end], sink);
            pos = h.end;
        }
        sink(&text[pos..]);
    }

    fn write_replacement(&self, who: Who, value: &str, sink: &mut dyn FnMut(&str)) {
        let (name, replacement, method, builtin) = match who {
            Who::Value(i) => {
                let r = &self.rules[usize::from(i)];
                let builtin = match r.kind {
                    Kind::Builtin(b) => Some(b),
                    Kind::Custom { .. } => None,
                };
                (&r.name, &r.replacement, r.method, builtin)
            }
            Who::Key(i) => {
                let r = &self.keys.rules[usize::from(i)];
                (&r.name, &r.replacement, r.method, None)
            }
        };
        match (method, &self.mac) {
            (Method::Mask { keep }, _) => mask(value, keep, sink),
            (Method::Hash, Some(mac)) => {
                let mut mac = mac.clone();
                match builtin {
                    Some(b) => b.canonical(value, &mut |bytes| mac.update(bytes)),
                    None => mac.update(value.as_bytes()),
                }
                let digest = mac.finalize().into_bytes();
                let mut hex = [0u8; HASH_HEX];
                for (k, byte) in digest.iter().take(HASH_HEX / 2).enumerate() {
                    hex[2 * k] = HEX[usize::from(byte >> 4)];
                    hex[2 * k + 1] = HEX[usize::from(byte & 0xf)];
                }
                sink("[HASH:");
                sink(name);
                sink(":");
                sink(std::str::from_utf8(&hex).unwrap_or_default());
                sink("]");
            }
            _ => sink(replacement),
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The length of the marker at the start of `b` (`prefix` bytes already checked): exactly
/// `[REDACTED:<name>]` or `[HASH:<name>:<16 hex>]`, so that no other bracketed text shields PII.
fn marker_len(b: &[u8], prefix: usize, hash: bool) -> Option<usize> {
    let is_name = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_';
    let name = b[prefix..].iter().take_while(|c| is_name(c)).count();
    if name == 0 || name > 64 {
        return None;
    }
    let mut k = prefix + name;
    if hash {
        if b.get(k) != Some(&b':') {
            return None;
        }
        k += 1;
        let hex = b[k..]
            .iter()
            .take_while(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(*c))
            .count();
        if hex != HASH_HEX {
            return None;
        }
        k += hex;
    }
    (b.get(k) == Some(&b']')).then_some(k + 1)
}

/// Adds a match, widened to character boundaries; empty spans are ignored.
fn push(hits: &mut Hits, text: &str, span: Range<usize>, who: Who) {
    let (mut start, mut end) = (span.start.min(text.len()), span.end.min(text.len()));
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    if start < end {
        hits.push(Hit { start, end, who });
    }
}

/// Whether a value is what [`mask`] writes: mask characters first, then at most `keep` letters
/// and digits (separators anywhere).
fn already_masked(value: &str, keep: usize) -> bool {
    let mut seen_alnum = 0usize;
    let mut seen_mask = false;
    for c in value.chars() {
        if c == '*' {
            if seen_alnum > 0 {
                return false;
            }
            seen_mask = true;
        } else if c.is_alphanumeric() {
            if !seen_mask {
                return false;
            }
            seen_alnum += 1;
        }
    }
    seen_mask && seen_alnum <= keep
}

/// Writes `value` with letters and digits replaced by `*`, but the last `keep` of them (all of
/// them when the value has no more than `2 × keep`).
fn mask(value: &str, keep: usize, sink: &mut dyn FnMut(&str)) {
    let alnum = value.chars().filter(|c| c.is_alphanumeric()).count();
    let keep = if alnum > keep.saturating_mul(2) {
        keep
    } else {
        0
    };
    let hide = alnum - keep;
    let mut buf = [0u8; 128];
    let mut len = 0;
    let mut seen = 0;
    for c in value.chars() {
        let c = if c.is_alphanumeric() {
            seen += 1;
            if seen <= hide {
                '*'
            } else {
                c
            }
        } else {
            c
        };
        if len + 4 > buf.len() {
            sink(std::str::from_utf8(&buf[..len]).unwrap_or_default());
            len = 0;
        }
        len += c.encode_utf8(&mut buf[len..]).len();
    }
    sink(std::str::from_utf8(&buf[..len]).unwrap_or_default());
}

#[cfg(test)]
mod tests {
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
        let env = RedactConfig::default()
            .with_env(|n| (n == "INSTRUMENT_REDACT_HASH_KEY").then(String::new));
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
        let r = Redactor::new(&RedactConfig::default().key_method("password", Method::mask(2)))
            .unwrap();
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
}
