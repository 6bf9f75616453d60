//! What the line writer derives from a field's name: computed once per callsite field, held by
//! the callsite's schema ([`crate::callsite::Schema`]), found by `Field::index()`.
//!
//! Everything here depends only on the field's `'static` name (its context role, the key it is
//! written under, its rendering and Bloom bits), except the redactor's key rule for the name,
//! which the schema keeps per field for the redactor that asked last ([`KeyRuleSlot`]).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::json;
use crate::keys::{self, ContextKey};
use crate::redact::{KeyMatch, Redactor};

/// Everything about a field name the log layer needs per value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldInfo {
    /// The context key the name sets (`correlation_id`, …).
    pub(crate) context: Option<ContextKey>,
    /// The key it is written under (`field_<name>` for reserved names).
    pub(crate) key: &'static str,
    /// `,"key":`, rendered once per process.
    pub(crate) rendered: &'static [u8],
    /// Bloom bit of the name.
    pub(crate) bit: u64,
    /// Bloom bit of `key`.
    pub(crate) key_bit: u64,
    /// A metric's bookkeeping (`unit.<m>`, `resolution.<m>`): never written into a line.
    pub(crate) hidden: bool,
}

impl FieldInfo {
    /// The facts of a field named `name`.
    pub(crate) fn of(name: &'static str) -> Self {
        let key = keys::user_key(name);
        let bit = keys::bit(name);
        FieldInfo {
            context: keys::context_key(name),
            key,
            rendered: interned_key(key),
            bit,
            key_bit: if std::ptr::eq(key, name) {
                bit
            } else {
                keys::bit(key)
            },
            hidden: matches!(
                instrument_vocab::metric::prefix(name),
                Some((
                    instrument_vocab::metric::Prefix::Unit
                        | instrument_vocab::metric::Prefix::Resolution,
                    _
                ))
            ),
        }
    }
}

/// A redactor's key-rule verdict for one field name, for the redactor that asked last: its
/// process-unique id (never an address, which a later redactor could reuse) and the verdict,
/// in one atomic word. Another redactor finds a different id and computes its own verdict.
#[derive(Debug, Default)]
pub(crate) struct KeyRuleSlot(AtomicU64);

/// Bits of the verdict: the match's bits plus one, 0 for none.
const VERDICT_BITS: u32 = 17;

impl KeyRuleSlot {
    /// `redactor`'s key rule for the field `name`.
    #[inline]
    pub(crate) fn get(&self, name: &'static str, redactor: &Redactor) -> Option<KeyMatch> {
        let id = redactor.id();
        let word = self.0.load(Ordering::Relaxed);
        if word >> VERDICT_BITS == id {
            let verdict = word & ((1 << VERDICT_BITS) - 1);
            #[allow(clippy::cast_possible_truncation)] // below 2^17 by construction
            return (verdict != 0).then(|| KeyMatch::from_bits((verdict - 1) as u16));
        }
        let found = redactor.key_rule(name);
        let verdict = found.map_or(0, |m| u64::from(m.to_bits()) + 1);
        // Ids above 2^47 (never in practice) are simply not cached.
        if id < 1 << (64 - VERDICT_BITS) {
            self.0
                .store(id << VERDICT_BITS | verdict, Ordering::Relaxed);
        }
        found
    }
}

/// `,"key":` for a `'static` key name, rendered once per process. The renderings are leaked on
/// purpose: one per distinct key name, of which a program has finitely many.
pub(crate) fn interned_key(key: &'static str) -> &'static [u8] {
    type Interned = std::collections::HashMap<(usize, usize), &'static [u8]>;
    static INTERNED: std::sync::OnceLock<std::sync::Mutex<Interned>> = std::sync::OnceLock::new();
    let id = (key.as_ptr() as usize, key.len());
    let mut interned = INTERNED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    interned.entry(id).or_insert_with(|| {
        let mut rendered = Vec::with_capacity(key.len() + 4);
        rendered.push(b',');
        json::write_str(&mut rendered, key);
        rendered.push(b':');
        Box::leak(rendered.into_boxed_slice())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_follow_the_name() {
        assert_eq!(FieldInfo::of("level").key, "field_level");
        assert_eq!(FieldInfo::of("level").rendered, b",\"field_level\":");
        assert_eq!(FieldInfo::of("user").key, "user");
        assert_eq!(
            FieldInfo::of("correlation_id").context,
            Some(ContextKey::CorrelationId)
        );
    }

    #[test]
    fn the_slot_answers_as_the_redactor_does() {
        let redactor = Redactor::default();
        let slot = KeyRuleSlot::default();
        for _ in 0..2 {
            assert_eq!(
                slot.get("password", &redactor),
                redactor.key_rule("password")
            );
            assert!(slot.get("password", &redactor).is_some());
        }
        let other = KeyRuleSlot::default();
        assert!(other.get("user", &redactor).is_none());
        assert!(other.get("user", &redactor).is_none());
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
        let slot = KeyRuleSlot::default();
        // One variable, so both redactors live at the same address, one after the other.
        let mut redactor = Redactor::new(&without_password).unwrap();
        let at = std::ptr::from_ref(&redactor) as usize;
        assert!(slot.get("password", &redactor).is_none());
        redactor = Redactor::default();
        assert_eq!(std::ptr::from_ref(&redactor) as usize, at);
        assert!(
            slot.get("password", &redactor).is_some(),
            "the second redactor's key rule for `password` applies"
        );
    }
}
