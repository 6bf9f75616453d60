//! Building a [`Redactor`] from a [`RedactConfig`]: rules checked and compiled once.

use super::config::GROUPS;
use super::vendor::{Shape, VENDOR_TOKENS};
use super::*;

/// Priority of vendor token rules: above the generic built-ins (a `Bearer sk_live_…` is named
/// `stripe_key`), below custom rules.
const VENDOR_PRIORITY: u8 = 110;

/// The group of a key rule (see [`GROUPS`]).
pub(super) fn key_group(name: &str) -> &'static str {
    match name {
        "datadog_api_key" | "new_relic_license_key" => "vendor_secrets",
        _ if BUILTIN_KEY_RULES.iter().any(|(n, _)| *n == name) => "keys",
        _ => "custom",
    }
}

fn is_vendor(name: &str) -> bool {
    VENDOR_TOKENS.iter().any(|t| t.name == name)
}

fn known_rules() -> String {
    let mut names: Vec<&str> = rules::ALL.map(Builtin::name).to_vec();
    for t in VENDOR_TOKENS {
        if !names.contains(&t.name) {
            names.push(t.name);
        }
    }
    names.join(", ")
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

        for name in config.groups.keys() {
            if !GROUPS.contains(&name.as_str()) {
                return Err(RedactError::UnknownGroup {
                    group: name.clone(),
                });
            }
        }
        let group_on = |g: &str| config.groups.get(g).and_then(|c| c.enabled) != Some(false);
        for (name, rc) in &config.rules {
            check_name(name)?;
            let builtin = Builtin::by_name(name).is_some() || is_vendor(name);
            match (builtin, &rc.pattern) {
                (true, Some(_)) => return Err(RedactError::BuiltinPattern { rule: name.clone() }),
                (false, None) => {
                    return Err(RedactError::UnknownRule {
                        rule: name.clone(),
                        known: known_rules(),
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
            if !rc
                .and_then(|r| r.enabled)
                .unwrap_or_else(|| group_on(b.group()))
            {
                continue;
            }
            let method = rc.and_then(|r| r.method).unwrap_or_default();
            needs_key(b.name(), method)?;
            builtin_slot[b as usize] = value_rules.len() as u16;
            builtin_mask |= b.bit();
            value_rules.push(ValueRule::new(
                b.name(),
                method,
                b.priority(),
                Kind::Builtin(b),
            ));
        }
        let mut token_shapes: Vec<(Shape, Vec<String>)> = Vec::new();
        for t in VENDOR_TOKENS {
            let rc = config.rules.get(t.name);
            if !rc
                .and_then(|r| r.enabled)
                .unwrap_or_else(|| group_on("vendor_secrets"))
            {
                continue;
            }
            let method = rc.and_then(|r| r.method).unwrap_or_default();
            needs_key(t.name, method)?;
            let slot = match value_rules.iter().position(|r| r.name == t.name) {
                Some(i) => i,
                None => {
                    value_rules.push(ValueRule::new(t.name, method, VENDOR_PRIORITY, Kind::Token));
                    value_rules.len() - 1
                }
            };
            token_shapes.push((
                Shape {
                    alphabet: t.alphabet,
                    length: t.length,
                    layout: t.layout.to_vec(),
                    digit_first: t.digit_first,
                    checksum: t.checksum,
                    keep_prefix: t.keep_prefix,
                    slot: slot as u16,
                },
                t.prefixes.iter().map(|p| p.to_string()).collect(),
            ));
        }
        let builtin_tokens = !token_shapes.is_empty();
        let mut tokens_always = false;
        for (name, tc) in &config.tokens {
            check_name(name)?;
            if Builtin::by_name(name).is_some() || is_vendor(name) {
                return Err(RedactError::BuiltinPattern { rule: name.clone() });
            }
            let [min, max] = tc.length;
            if tc.prefixes.is_empty()
                || tc.prefixes.iter().any(String::is_empty)
                || min == 0
                || min > max
            {
                return Err(RedactError::InvalidToken { rule: name.clone() });
            }
            if !tc.enabled.unwrap_or_else(|| group_on("custom")) {
                continue;
            }
            let method = tc.method.unwrap_or_default();
            needs_key(name, method)?;
            tokens_always = true;
            value_rules.push(ValueRule::new(name, method, CUSTOM_PRIORITY, Kind::Token));
            token_shapes.push((
                Shape {
                    alphabet: tc.alphabet,
                    length: tc.length,
                    layout: Vec::new(),
                    digit_first: false,
                    checksum: tc.checksum,
                    keep_prefix: tc.keep_prefix,
                    slot: (value_rules.len() - 1) as u16,
                },
                tc.prefixes.clone(),
            ));
        }
        let tokens = TokenScanner::new(token_shapes);
        if builtin_tokens && tokens.is_some() {
            builtin_mask |= prefilter::TOKENS;
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
            if !rc.enabled.unwrap_or_else(|| group_on("custom")) {
                continue;
            }
            let method = rc.method.unwrap_or_default();
            needs_key(name, method)?;
            let group = regex.capture_names().position(|n| n == Some("value"));
            has_custom = true;
            value_rules.push(ValueRule::new(
                name,
                method,
                CUSTOM_PRIORITY,
                Kind::Custom { regex, group },
            ));
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
            if !kc
                .and_then(|k| k.enabled)
                .unwrap_or_else(|| group_on(key_group(&name)))
            {
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
        let only_markers = value_rules
            .iter()
            .map(|r| r.method)
            .chain(key_rules.iter().map(|r| r.method))
            .all(|m| m == Method::Replace);
        Ok(Redactor {
            max_keep,
            only_markers,
            rules: value_rules,
            builtin_slot,
            builtin_mask,
            has_custom,
            tokens,
            tokens_always,
            keys: KeySet::new(key_rules),
            key_values_in_text: config.key_values_in_text,
            mac,
            id: fresh_id(),
        })
    }
}
