//! Writing a redacted text: the replacement of each match (replace, mask, keyed hash).

use super::*;

impl Redactor {
    pub(super) fn emit(&self, text: &str, hits: &[Hit], sink: &mut dyn FnMut(&str)) {
        let mut pos = 0;
        for h in hits {
            sink(&text[pos..h.start]);
            self.write_replacement(h.who, &text[h.start..h.end], sink);
            pos = h.end;
        }
        sink(&text[pos..]);
    }

    pub(super) fn write_replacement(&self, who: Who, value: &str, sink: &mut dyn FnMut(&str)) {
        let (name, replacement, method, builtin) = match who {
            Who::Value(i) => {
                let r = &self.rules[usize::from(i)];
                let builtin = match r.kind {
                    Kind::Builtin(b) => Some(b),
                    Kind::Custom { .. } | Kind::Token => None,
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

pub(super) const HEX: &[u8; 16] = b"0123456789abcdef";

/// The length of the marker at the start of `b` (`prefix` bytes already checked): exactly
/// `[REDACTED:<name>]` or `[HASH:<name>:<16 hex>]`, so that no other bracketed text shields PII.
pub(super) fn marker_len(b: &[u8], prefix: usize, hash: bool) -> Option<usize> {
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

/// Whether a value is what [`mask`] writes: a mask character first, then at most `keep` letters
/// and digits (separators, and the value's own `*`, anywhere). [`mask`] shows letters or digits
/// only when it hides more than it shows, so a value with no more `*` than visible characters
/// (`*AA!AA`, a password that starts with `*`) was not written by it and is redacted like any
/// other.
pub(super) fn already_masked(value: &str, keep: usize) -> bool {
    let mut seen_alnum = 0usize;
    let mut seen_mask = 0usize;
    for c in value.chars() {
        if c == '*' {
            seen_mask += 1;
        } else if c.is_alphanumeric() {
            if seen_mask == 0 {
                return false;
            }
            seen_alnum += 1;
        }
    }
    seen_mask > 0 && seen_alnum <= keep && (seen_alnum == 0 || seen_mask > seen_alnum)
}

/// Writes `value` with letters and digits replaced by `*`, but the last `keep` of them (all of
/// them when the value has no more than `2 × keep`).
pub(super) fn mask(value: &str, keep: usize, sink: &mut dyn FnMut(&str)) {
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
