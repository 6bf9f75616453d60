//! What the line writer derives from a field's name, computed once per thread and name.
//!
//! Field names are `'static` callsite data, so everything that depends only on the name (its
//! context role, the key it is written under, the Bloom bits, the key rule of the redactor) is
//! worked out the first time a thread meets the name and then found with one probe of a
//! direct-mapped table, keyed by the name's address and the redactor's.

use std::cell::RefCell;

use crate::keys::{self, ContextKey};
use crate::redact::{KeyMatch, Redactor};

/// Everything about a field name the log layer needs per value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldInfo {
    /// The context key the name sets (`correlation_id`, …).
    pub(crate) context: Option<ContextKey>,
    /// The key it is written under (`field_<name>` for reserved names).
    pub(crate) key: &'static str,
    /// Bloom bit of the name.
    pub(crate) bit: u64,
    /// Bloom bit of `key`.
    pub(crate) key_bit: u64,
    /// The redactor's key rule for the name (`password`, …), when there is a redactor.
    pub(crate) key_rule: Option<KeyMatch>,
}

impl FieldInfo {
    fn compute(name: &'static str, redactor: Option<&Redactor>) -> Self {
        let key = keys::user_key(name);
        let bit = keys::bit(name);
        FieldInfo {
            context: keys::context_key(name),
            key,
            bit,
            key_bit: if std::ptr::eq(key, name) {
                bit
            } else {
                keys::bit(key)
            },
            key_rule: redactor.and_then(|r| r.key_rule(name)),
        }
    }
}

/// (name address, name length, redactor id) → what was computed for them. Names are `'static`
/// (their addresses are never reused); redactors are keyed by their process-unique id, never by
/// address: a redactor dropped and another built at the same address must not inherit its
/// key-rule verdicts.
type Entry = Option<(usize, usize, u64, FieldInfo)>;

const SLOTS: usize = 256;

thread_local! {
    static CACHE: RefCell<[Entry; SLOTS]> = const { RefCell::new([None; SLOTS]) };
}

/// The [`FieldInfo`] of `name` under `redactor`.
#[inline]
pub(crate) fn field_info(name: &'static str, redactor: Option<&Redactor>) -> FieldInfo {
    let (p, l) = (name.as_ptr() as usize, name.len());
    let r = redactor.map_or(0, Redactor::id);
    let slot = ((p ^ l.rotate_left(40)) as u64 ^ r.rotate_left(20))
        .wrapping_mul(0x9e37_79b9_7f4a_7c15) as usize
        >> (usize::BITS - SLOTS.trailing_zeros());
    CACHE
        .try_with(|cache| {
            let mut cache = cache.borrow_mut();
            let entry = &mut cache[slot];
            match entry {
                Some((ep, el, er, info)) if (*ep, *el, *er) == (p, l, r) => *info,
                _ => {
                    let info = FieldInfo::compute(name, redactor);
                    *entry = Some((p, l, r, info));
                    info
                }
            }
        })
        .unwrap_or_else(|_| FieldInfo::compute(name, redactor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_answers_equal_computed_ones() {
        let redactor = Redactor::default();
        for name in [
            "user",
            "password",
            "level",
            "correlation_id",
            "x-api-key",
            "message",
        ] {
            for r in [None, Some(&redactor)] {
                let cached = field_info(name, r);
                let fresh = FieldInfo::compute(name, r);
                assert_eq!(cached.key, fresh.key, "{name}");
                assert_eq!(cached.bit, fresh.bit, "{name}");
                assert_eq!(cached.key_bit, fresh.key_bit, "{name}");
                assert_eq!(cached.context, fresh.context, "{name}");
                assert_eq!(cached.key_rule, fresh.key_rule, "{name}");
                // Found again, from the table.
                assert_eq!(field_info(name, r).key_rule, fresh.key_rule, "{name}");
            }
        }
        assert_eq!(field_info("level", None).key, "field_level");
        assert!(field_info("password", Some(&redactor)).key_rule.is_some());
        assert!(field_info("password", None).key_rule.is_none());
    }

    /// Issue 13 (7): a redactor built where another one lived must not inherit its verdicts.
    #[test]
    fn verdicts_do_not_leak_between_redactors_at_one_address() {
        use crate::redact::{KeyRuleConfig, RedactConfig};
        let mut without_password = RedactConfig::default();
        without_password.keys.insert(
            "password".into(),
            KeyRuleConfig {
                enabled: Some(false),
                ..KeyRuleConfig::default()
            },
        );
        // One variable, so both redactors live at the same address, one after the other.
        let mut redactor = Redactor::new(&without_password).unwrap();
        let at = std::ptr::from_ref(&redactor) as usize;
        assert!(field_info("password", Some(&redactor)).key_rule.is_none());
        redactor = Redactor::default();
        assert_eq!(std::ptr::from_ref(&redactor) as usize, at);
        assert!(
            field_info("password", Some(&redactor)).key_rule.is_some(),
            "the second redactor's key rule for `password` applies"
        );
    }
}
