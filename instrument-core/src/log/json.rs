//! Minimal, allocation-free JSON writing into a reusable byte buffer.
//!
//! The log layer writes every line by hand into a thread-local `Vec<u8>` rather than building a
//! `serde_json::Value`: escaping is table driven (as in `serde_json`), numbers go through `itoa` and
//! `ryu`, and `Debug`/`Display` output is escaped while it is being formatted, so no intermediate
//! `String` is ever allocated.

use std::fmt;

/// Escape classes, indexed by byte: 0 = copy as is, otherwise the escape to write.
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = b'u';
        i += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` to `out` with JSON string escaping applied (without the surrounding quotes).
///
/// ```
/// let mut out = Vec::new();
/// instrument_core::json::escape_into(&mut out, "a \"quoted\"\nline");
/// assert_eq!(out, br#"a \"quoted\"\nline"#);
/// ```
#[inline]
pub fn escape_into(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    match first_candidate(bytes) {
        None => out.extend_from_slice(bytes),
        Some(i) => {
            out.extend_from_slice(&bytes[..i]);
            escape_from(out, &bytes[i..]);
        }
    }
}

/// Where escaping might start: `None` when no byte of `bytes` needs it (the usual case, decided
/// eight bytes at a time, the last partial word by an overlapping load), else a position at or
/// before the first byte that does.
#[inline]
fn first_candidate(bytes: &[u8]) -> Option<usize> {
    let n = bytes.len();
    if n < 8 {
        return bytes.iter().position(|&b| ESCAPE[b as usize] != 0);
    }
    let mut i = 0;
    while i + 8 <= n {
        if may_need_escape(word_at(bytes, i)) {
            return Some(i);
        }
        i += 8;
    }
    if i < n && may_need_escape(word_at(bytes, n - 8)) {
        return Some(n - 8);
    }
    None
}

#[inline]
fn word_at(bytes: &[u8], i: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[i..i + 8]);
    u64::from_le_bytes(word)
}

/// The escaping loop proper, for text known to need (or likely to need) escaping.
fn escape_from(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time while none of them needs escaping.
        if i + 8 <= bytes.len() && !may_need_escape(word_at(bytes, i)) {
            i += 8;
            continue;
        }
        let b = bytes[i];
        let esc = ESCAPE[b as usize];
        if esc != 0 {
            if start < i {
                out.extend_from_slice(&bytes[start..i]);
            }
            match esc {
                b'u' => out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(b >> 4) as usize],
                    HEX[(b & 0xf) as usize],
                ]),
                other => out.extend_from_slice(&[b'\\', other]),
            }
            start = i + 1;
        }
        i += 1;
    }
    if start < bytes.len() {
        out.extend_from_slice(&bytes[start..]);
    }
}

/// Whether any byte of `w` may be a control character, `"` or `\\` (the classic SWAR zero-byte
/// test: it can report a false positive next to a true hit, never a false negative).
#[inline]
fn may_need_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    let quote = w ^ (ONES * u64::from(b'"'));
    let quote = quote.wrapping_sub(ONES) & !quote & HIGH;
    let backslash = w ^ (ONES * u64::from(b'\\'));
    let backslash = backslash.wrapping_sub(ONES) & !backslash & HIGH;
    (control | quote | backslash) != 0
}

/// Appends `s` as a quoted JSON string.
#[inline]
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    escape_into(out, s);
    out.push(b'"');
}

/// Appends `"key":` (the key escaped), preceded by a comma unless the buffer is right after `{`.
#[inline]
pub fn write_key(out: &mut Vec<u8>, key: &str) {
    if out.last() != Some(&b'{') {
        out.push(b',');
    }
    write_str(out, key);
    out.push(b':');
}

/// Appends a signed integer.
#[inline]
pub fn write_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Appends an unsigned integer.
#[inline]
pub fn write_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Appends a 128-bit signed integer (JSON numbers have no size limit; `serde_json` parses them
/// with its `arbitrary_precision` or as `f64`).
#[inline]
pub fn write_i128(out: &mut Vec<u8>, v: i128) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Appends a 128-bit unsigned integer.
#[inline]
pub fn write_u128(out: &mut Vec<u8>, v: u128) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Appends a float. JSON has no NaN or infinity: those are written as the strings `"NaN"`,
/// `"inf"` and `"-inf"`, so the line stays valid and the value is not lost.
#[inline]
pub fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    } else if v.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if v > 0.0 {
        out.extend_from_slice(b"\"inf\"");
    } else {
        out.extend_from_slice(b"\"-inf\"");
    }
}

/// Appends `true` or `false`.
#[inline]
pub fn write_bool(out: &mut Vec<u8>, v: bool) {
    out.extend_from_slice(if v { b"true" } else { b"false" });
}

/// A `fmt::Write` that escapes what it is given into a byte buffer, so `Debug` and `Display`
/// output becomes a JSON string without an intermediate allocation.
pub(crate) struct EscapingWriter<'a>(pub(crate) &'a mut Vec<u8>);

impl fmt::Write for EscapingWriter<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape_into(self.0, s);
        Ok(())
    }
}

/// Appends `value` formatted with `Debug` as a quoted JSON string.
///
/// A `Debug` impl that returns an error mid-way leaves what it wrote so far, still a valid string.
/// The output is escaped while it is being formatted: no intermediate `String`.
///
/// ```
/// let mut out = Vec::new();
/// instrument_core::json::write_debug(&mut out, &"say \"hi\"");
/// assert_eq!(out, br#""\"say \\\"hi\\\"\"""#);
/// ```
#[inline]
pub fn write_debug(out: &mut Vec<u8>, value: &dyn fmt::Debug) {
    out.push(b'"');
    let _ = fmt::write(&mut EscapingWriter(out), format_args!("{value:?}"));
    out.push(b'"');
}

/// Appends `value` formatted with `Display` as a quoted JSON string, escaped while it is being
/// formatted.
///
/// ```
/// let mut out = Vec::new();
/// instrument_core::json::write_display(&mut out, &format_args!("{}\t{}", 1, 2));
/// assert_eq!(out, br#""1\t2""#);
/// ```
#[inline]
pub fn write_display(out: &mut Vec<u8>, value: &dyn fmt::Display) {
    out.push(b'"');
    let _ = fmt::write(&mut EscapingWriter(out), format_args!("{value}"));
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(s: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, s);
        serde_json::from_slice::<String>(&out).expect("valid JSON string")
    }

    #[test]
    fn escapes_every_control_character_and_round_trips() {
        let all: String = (0u32..0x80).filter_map(char::from_u32).collect();
        assert_eq!(roundtrip(&all), all);
        assert_eq!(roundtrip("é ✓ 🦀 \u{2028}"), "é ✓ 🦀 \u{2028}");
    }

    #[test]
    fn escaping_agrees_with_serde_json_at_every_offset() {
        // Special bytes at every position relative to the 8-byte chunks, in texts of every
        // length around them (short texts and the overlapping last word take other paths).
        for special in ['"', '\\', '\n', '\u{1}', '\u{1f}', 'é', '🦀', '\u{7f}'] {
            for len in 0..=20 {
                for pos in 0..=len {
                    let mut text: String = "abcdefghijklmnopqrstu".chars().take(len).collect();
                    text.insert(pos, special);
                    let mut out = Vec::new();
                    write_str(&mut out, &text);
                    assert_eq!(
                        String::from_utf8(out).unwrap(),
                        serde_json::to_string(&text).unwrap(),
                        "{text:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn non_finite_floats_stay_valid_json() {
        for (v, expect) in [
            (f64::NAN, "NaN"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            let mut out = Vec::new();
            write_f64(&mut out, v);
            assert_eq!(serde_json::from_slice::<String>(&out).unwrap(), expect);
        }
        let mut out = Vec::new();
        write_f64(&mut out, 1.5);
        assert_eq!(serde_json::from_slice::<f64>(&out).unwrap(), 1.5);
    }

    #[test]
    fn keys_get_commas_after_the_first() {
        let mut out = b"{".to_vec();
        write_key(&mut out, "a");
        write_i64(&mut out, -1);
        write_key(&mut out, "b\"");
        write_u128(&mut out, u128::MAX);
        out.push(b'}');
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["a"], -1);
        assert!(v.get("b\"").is_some());
    }
}
