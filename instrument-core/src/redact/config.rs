//! Redaction rules as data: the serde-loadable [`RedactConfig`] and the [`RedactError`] a bad
//! configuration is reported as.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::method::Method;
use super::vendor::TokenRuleConfig;
use crate::config::{table, RedactionConfig, Settings};

/// Settings of one value rule: a built-in one by its name, or a custom one with a `pattern`.
///
/// ```
/// use instrument_core::redact::RuleConfig;
/// let custom: RuleConfig = serde_json::from_str(r#"{"pattern": "BK-[0-9]{8}"}"#).unwrap();
/// assert_eq!(custom.pattern.as_deref(), Some("BK-[0-9]{8}"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleConfig {
    /// `false` turns the rule off. Default: on.
    pub enabled: Option<bool>,
    /// How matches are rewritten. Default: [`Method::Replace`].
    pub method: Option<Method>,
    /// A regular expression (Rust `regex` syntax) for a custom rule. If it has a capture group
    /// named `value`, only that group is redacted (`user=(?P<value>\w+)` keeps `user=`).
    /// Built-in rules cannot take a pattern.
    pub pattern: Option<String>,
}

/// Settings of one key rule: a built-in one by its name, or a custom one with `globs`.
///
/// A key rule redacts the whole value of a field whose *name* matches one of its globs, and
/// (unless [`RedactConfig::key_values_in_text`] is off) the value after `name=`, `name: `,
/// `"name":` inside text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeyRuleConfig {
    /// `false` turns the rule off. Default: on.
    pub enabled: Option<bool>,
    /// How values are rewritten. Default: [`Method::Replace`].
    pub method: Option<Method>,
    /// Glob patterns over field names (`*` any run, `?` one character), case-insensitive.
    /// Names and globs are compared in snake case: `apiKey`, `API-KEY` and `api.key` are all
    /// `api_key`. For a built-in rule, given globs replace the built-in ones.
    pub globs: Option<Vec<String>>,
}

/// The rule groups, each of which can be turned off at once (`INSTRUMENT_REDACT_DISABLE=vendor_secrets`,
/// or `"groups": {"vendor_secrets": {"enabled": false}}`): `pii` (email, card, iban, ssn, phone,
/// ipv4, ipv6), `secrets` (pem, url_credentials, jwt, AWS keys, bearer, basic_auth),
/// `vendor_secrets` (vendor token formats and vendor key names), `keys` (the other key rules),
/// `custom` (rules from `rules` with a `pattern` and from `tokens`).
///
/// ```
/// use instrument_core::redact::GROUPS;
/// assert!(GROUPS.contains(&"vendor_secrets"));
/// ```
pub const GROUPS: [&str; 5] = ["pii", "secrets", "vendor_secrets", "keys", "custom"];

/// Settings of a rule group (see [`GROUPS`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupConfig {
    /// `false` turns every rule of the group off, but those turned on one by one. Default: on.
    pub enabled: Option<bool>,
}

/// The whole redaction configuration. `RedactConfig::default()` turns every built-in rule on with
/// [`Method::Replace`].
///
/// Loadable with serde from any format (unknown fields are errors, so typos are caught):
///
/// ```
/// use instrument_core::redact::{RedactConfig, Redactor};
///
/// let config: RedactConfig = serde_json::from_str(r#"{
///     "rules": {
///         "ipv4": { "enabled": false },
///         "card": { "method": { "mask": { "keep": 4 } } },
///         "email": { "method": "hash" },
///         "booking_ref": { "pattern": "BK-[0-9]{8}" }
///     },
///     "keys": { "pin": { "globs": ["pin", "*_pin"] } },
///     "hash_key": "a-long-random-secret"
/// }"#).unwrap();
/// let redactor = Redactor::new(&config).unwrap();
/// assert_eq!(redactor.redact("ref BK-12345678 from 10.0.0.1"),
///            "ref [REDACTED:booking_ref] from 10.0.0.1");
/// assert_eq!(redactor.redact("card_pin=1234"), "card_pin=[REDACTED:pin]");
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedactConfig {
    /// Value rules by name: overrides of built-in rules, and custom rules (with a `pattern`).
    pub rules: BTreeMap<String, RuleConfig>,
    /// Key rules by name: overrides of built-in key rules, and custom ones (with `globs`).
    pub keys: BTreeMap<String, KeyRuleConfig>,
    /// Custom vendor token rules by name (prefixes and shape). Built-in ones are overridden in
    /// `rules` by name (`github_token`, …).
    pub tokens: BTreeMap<String, TokenRuleConfig>,
    /// Rule groups by name (see [`GROUPS`]): `{"vendor_secrets": {"enabled": false}}`.
    pub groups: BTreeMap<String, GroupConfig>,
    /// Apply key rules to `key=value`, `key: value` and `"key":"value"` inside text (messages,
    /// `Debug` output). Default: on.
    pub key_values_in_text: bool,
    /// The HMAC key of [`Method::Hash`]; also read from `INSTRUMENT_REDACT_HASH_KEY` by
    /// [`RedactConfig::with_env`]. Must not be empty.
    pub hash_key: Option<String>,
}

impl Default for RedactConfig {
    fn default() -> Self {
        RedactConfig {
            rules: BTreeMap::new(),
            keys: BTreeMap::new(),
            tokens: BTreeMap::new(),
            groups: BTreeMap::new(),
            key_values_in_text: true,
            hash_key: None,
        }
    }
}

impl fmt::Debug for RedactConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedactConfig")
            .field("rules", &self.rules)
            .field("keys", &self.keys)
            .field("tokens", &self.tokens)
            .field("groups", &self.groups)
            .field("key_values_in_text", &self.key_values_in_text)
            .field("hash_key", &self.hash_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl RedactConfig {
    /// Turns a rule group (see [`GROUPS`]) or a rule (value rule or, if no value rule has that
    /// name, key rule) off.
    ///
    /// ```
    /// use instrument_core::redact::{RedactConfig, Redactor};
    /// let r = Redactor::new(&RedactConfig::default().disable("vendor_secrets")).unwrap();
    /// assert_eq!(r.redact("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"), "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");
    /// ```
    pub fn disable(mut self, rule: &str) -> Self {
        if GROUPS.contains(&rule) {
            self.groups.entry(rule.to_string()).or_default().enabled = Some(false);
        } else if super::rules::Builtin::by_name(rule).is_none()
            && !super::vendor::VENDOR_TOKENS.iter().any(|t| t.name == rule)
            && super::keys::BUILTIN_KEY_RULES
                .iter()
                .any(|(n, _)| *n == rule)
        {
            self.keys.entry(rule.to_string()).or_default().enabled = Some(false);
        } else {
            self.rules.entry(rule.to_string()).or_default().enabled = Some(false);
        }
        self
    }

    /// Sets the method of a value rule.
    pub fn method(mut self, rule: &str, method: Method) -> Self {
        self.rules.entry(rule.to_string()).or_default().method = Some(method);
        self
    }

    /// Sets the method of a key rule.
    pub fn key_method(mut self, rule: &str, method: Method) -> Self {
        self.keys.entry(rule.to_string()).or_default().method = Some(method);
        self
    }

    /// Adds a custom value rule.
    pub fn custom_rule(mut self, name: &str, pattern: &str, method: Method) -> Self {
        self.rules.insert(
            name.to_string(),
            RuleConfig {
                enabled: Some(true),
                method: Some(method),
                pattern: Some(pattern.to_string()),
            },
        );
        self
    }

    /// Adds a key rule (or replaces the globs of a built-in one).
    pub fn key_rule(mut self, name: &str, globs: &[&str], method: Method) -> Self {
        self.keys.insert(
            name.to_string(),
            KeyRuleConfig {
                enabled: Some(true),
                method: Some(method),
                globs: Some(globs.iter().map(|g| g.to_string()).collect()),
            },
        );
        self
    }

    /// Sets the key of [`Method::Hash`].
    pub fn hash_key(mut self, key: impl Into<String>) -> Self {
        self.hash_key = Some(key.into());
        self
    }

    /// The environment variables [`with_env`](Self::with_env) reads: when none is set, it
    /// changes nothing.
    ///
    /// ```
    /// use instrument_core::redact::RedactConfig;
    /// assert!(RedactConfig::ENV_VARIABLES.contains(&"INSTRUMENT_REDACT_KEYS"));
    /// ```
    pub const ENV_VARIABLES: [&'static str; 3] = [HASH_KEY_VAR, DISABLE_VAR, KEYS_VAR];

    /// Fills what code left unset from the environment, `env` being the variable lookup (e.g.
    /// `|n| std::env::var(n).ok()`):
    ///
    /// * `INSTRUMENT_REDACT_HASH_KEY`: the hash key, unless set in code;
    /// * `INSTRUMENT_REDACT_DISABLE`: comma-separated rule names to turn off (`ipv4,ipv6`);
    /// * `INSTRUMENT_REDACT_KEYS`: comma-separated extra key globs (`pin,*_pin`), as a key rule
    ///   named `sensitive`.
    ///
    /// Names are checked when the [`Redactor`](super::Redactor) is built.
    pub fn with_env(self, env: impl Fn(&str) -> Option<String>) -> Self {
        // The section's parsers refuse nothing: resolving it cannot fail.
        let mut section = RedactionConfig::resolve(&Settings::default(), &env).unwrap_or_default();
        if section.hash_key.is_none() {
            // An empty variable is kept as empty so that building reports it.
            section.hash_key = env(HASH_KEY_VAR);
        }
        self.with_environment(&section)
    }

    /// Applies what the environment adds (resolved with the rest of the
    /// [`Config`](crate::config::Config)): the hash key unless set in code, the rules to turn
    /// off, the extra key globs.
    ///
    /// ```
    /// use instrument_core::config::{Config, Settings};
    /// use instrument_core::redact::RedactConfig;
    /// let config = Config::resolve(&Settings::default(), |name| {
    ///     (name == "INSTRUMENT_REDACT_DISABLE").then(|| "ipv4".to_string())
    /// })
    /// .unwrap();
    /// let rules = RedactConfig::default().with_environment(&config.redaction);
    /// assert_eq!(rules.rules["ipv4"].enabled, Some(false));
    /// ```
    pub fn with_environment(mut self, section: &RedactionConfig) -> Self {
        if self.hash_key.is_none() {
            self.hash_key = section.hash_key.clone();
        }
        for name in &section.disable {
            self = self.disable(name);
        }
        if !section.keys.is_empty() {
            let rule = self.keys.entry("sensitive".to_string()).or_default();
            rule.globs
                .get_or_insert_with(Vec::new)
                .extend(section.keys.iter().cloned());
        }
        self
    }
}

const HASH_KEY_VAR: &str = table::REDACT_HASH_KEY.variables[0].name;
const DISABLE_VAR: &str = table::REDACT_DISABLE.variables[0].name;
const KEYS_VAR: &str = table::REDACT_KEYS.variables[0].name;

/// A redaction configuration that cannot be used. Reported when the
/// [`Redactor`](super::Redactor) is built (at `try_init()`), never as a panic later.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedactError {
    /// A custom rule's regular expression does not compile.
    #[error("redaction rule `{rule}`: invalid regular expression: {source}")]
    InvalidPattern {
        /// The rule's name.
        rule: String,
        /// Why it does not compile.
        #[source]
        source: regex::Error,
    },
    /// A custom rule's regular expression matches the empty string, which would redact nothing
    /// everywhere.
    #[error("redaction rule `{rule}`: the pattern matches the empty string")]
    EmptyMatch {
        /// The rule's name.
        rule: String,
    },
    /// A name in `rules` is neither a built-in rule nor a custom one with a `pattern`.
    #[error(
        "unknown redaction rule `{rule}`: built-in rules are {known}; a custom rule needs a `pattern`"
    )]
    UnknownRule {
        /// The name as given.
        rule: String,
        /// The built-in rule names.
        known: String,
    },
    /// A name in `groups` is not a rule group.
    #[error("unknown redaction rule group `{group}`: the groups are pii, secrets, vendor_secrets, keys, custom")]
    UnknownGroup {
        /// The name as given.
        group: String,
    },
    /// A custom token rule without prefixes, with an empty prefix, or with `length` min > max.
    #[error("token rule `{rule}`: give at least one non-empty prefix and a length [min, max] with 1 <= min <= max")]
    InvalidToken {
        /// The rule's name.
        rule: String,
    },
    /// A name in `keys` is neither a built-in key rule nor a custom one with `globs`.
    #[error(
        "unknown key rule `{rule}`: built-in key rules are {known}; a custom key rule needs `globs`"
    )]
    UnknownKeyRule {
        /// The name as given.
        rule: String,
        /// The built-in key rule names.
        known: String,
    },
    /// A `pattern` was given for a built-in rule, whose detector is code.
    #[error("redaction rule `{rule}` is built in and takes no `pattern`: give the custom rule another name")]
    BuiltinPattern {
        /// The rule's name.
        rule: String,
    },
    /// A rule name that would not survive in `[REDACTED:<name>]` markers.
    #[error("invalid redaction rule name `{name}`: use 1 to 64 characters from a-z, 0-9 and _")]
    InvalidName {
        /// The name as given.
        name: String,
    },
    /// A key rule glob is empty.
    #[error("key rule `{rule}`: globs must not be empty")]
    EmptyGlob {
        /// The rule's name.
        rule: String,
    },
    /// More rules than a redactor holds (65 535 value rules, 65 535 key rules).
    #[error("too many redaction rules: {count}")]
    TooManyRules {
        /// How many were configured.
        count: usize,
    },
    /// The hash key is set but empty.
    #[error(
        "the redaction hash key (INSTRUMENT_REDACT_HASH_KEY) is empty: use a long random secret"
    )]
    EmptyHashKey,
    /// A rule uses [`Method::Hash`] but no hash key is configured.
    #[error("redaction rule `{rule}` uses the hash method but no hash key is configured (set INSTRUMENT_REDACT_HASH_KEY)")]
    MissingHashKey {
        /// The rule's name.
        rule: String,
    },
}

/// Rule names become part of markers (`[REDACTED:name]`), so they are kept to `[a-z0-9_]{1,64}`.
pub(crate) fn check_name(name: &str) -> Result<(), RedactError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(RedactError::InvalidName {
            name: name.to_string(),
        })
    }
}
