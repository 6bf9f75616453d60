//! Building a [`Redactor`] from a [`RedactConfig`]: rules checked and compiled once.

use super::*;

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
            id: fresh_id(),
        })
    }
}
