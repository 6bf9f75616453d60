//! `key=value` inside text: where a key rule's name stands before a value (`key=value`,
//! `key: value`, `"key":"value"`, `key := value`, `X ::= value`, `$key .= "value"`,
//! `var key string = "value"`, YAML block scalars, XML elements and `<add key="…" value="…"/>`),
//! and the span of that value.

use std::ops::Range;

use super::keys::{KeySet, MAX_KEY};
use super::plausible::plausible_value;

impl KeySet {
    /// At a `=`, `:` or `>` at byte `i` of `b`: if the key before it matches a rule (and the
    /// value after it can be a secret), that rule and the span of the value.
    pub(crate) fn key_value_at(&self, b: &[u8], i: usize) -> Option<(usize, Range<usize>)> {
        let sep = b[i];
        let prev = if i > 0 { b[i - 1] } else { 0 };
        let next = b.get(i + 1).copied().unwrap_or(0);
        let mut v = i + 1;
        // Where the key ends, before the operator.
        let mut op = i;
        match sep {
            b':' => {
                if next == b':' || prev == b':' {
                    return None; // Rust paths, IPv6
                }
                if next == b'=' {
                    v += 1; // :=
                }
            }
            b'=' => {
                if next == b'=' || matches!(prev, b'=' | b'!' | b'<' | b'>') {
                    return None; // comparisons
                }
                match prev {
                    // `:=` is read at its `:`; `::=` (Makefile) here.
                    b':' if i >= 2 && b[i - 2] == b':' => op = i - 2,
                    b':' => return None,
                    // `?=` `+=` (Makefile), `.=` (PHP)
                    b'?' | b'+' | b'.' => op = i - 1,
                    _ => {}
                }
                if next == b'>' {
                    v += 1; // =>
                }
            }
            b'>' => return self.xml_element(b, i),
            b'-' => return self.cli_flag(b, i),
            _ => return None,
        }
        let (j, key_end) = key_before(b, op)?;
        if sep == b':' && j > 0 && b[j - 1] == b':' {
            return None; // a segment of a colon path: `arn:aws:…:secret:db`
        }
        let key = &b[j..key_end];
        let rule = match self.find(key) {
            Some(rule) => rule,
            None if sep == b'=' => self
                .typed_name(b, j)
                .or_else(|| self.xml_attribute(b, j, key))
                .or_else(|| self.sibling_name(b, j, key))?,
            None if sep == b':' => self.sibling_name(b, j, key)?,
            None => return None,
        };
        // The value: forward over spaces.
        let mut spaces = 0;
        while v < b.len() && (b[v] == b' ' || b[v] == b'\t') && spaces < 3 {
            v += 1;
            spaces += 1;
        }
        if sep == b':' {
            if let Some(block) = yaml_block(b, j, v) {
                let span = block?;
                return plausible_value(&b[span.clone()], false).then_some((rule, span));
            }
        }
        let span = value_span(b, v, self.rules[rule].whole_line)?;
        let quoted = span.start > 0 && matches!(b[span.start - 1], b'"' | b'\'');
        if sep == b':' && !quoted && type_annotation(b, span.end) {
            return None; // `token: string = …` is read at its `=`
        }
        plausible_value(&b[span.clone()], quoted).then_some((rule, span))
    }

    /// `var apiToken string = "…"`, `const token: &str = "…"`, `let password: String = …`: at
    /// the `=`, the word before is a type; the name is the word before it.
    fn typed_name(&self, b: &[u8], key_start: usize) -> Option<usize> {
        let mut k = key_start;
        let mut gap = 0;
        while k > 0 && matches!(b[k - 1], b' ' | b'&' | b'*' | b'[' | b']') && gap < 4 {
            k -= 1;
            gap += 1;
        }
        // A declaration has a space before the type (`[]string`, `&str`); `a&state=` has not.
        if gap == 0 || b[k] != b' ' {
            return None;
        }
        if k > 0 && b[k - 1] == b':' {
            k -= 1;
            while k > 0 && b[k - 1] == b' ' {
                k -= 1;
            }
        }
        let end = k;
        while k > 0 && (b[k - 1].is_ascii_alphanumeric() || b[k - 1] == b'_') && end - k <= MAX_KEY
        {
            k -= 1;
        }
        (k < end).then(|| self.find(&b[k..end])).flatten()
    }

    /// `<add key="DbPassword" value="…"/>`, `<property name="password" value="…"/>`: a `value`
    /// attribute whose sibling `key`/`name` attribute names a secret.
    fn xml_attribute(&self, b: &[u8], key_start: usize, key: &[u8]) -> Option<usize> {
        if !key.eq_ignore_ascii_case(b"value") {
            return None;
        }
        let from = key_start.saturating_sub(256);
        let lt = from
            + b[from..key_start]
                .iter()
                .rposition(|&c| c == b'<' || c == b'>')?;
        if b[lt] != b'<' {
            return None;
        }
        let tag = &b[lt..key_start];
        for attr in [&b"key="[..], b"name=", b"Key=", b"Name="] {
            let Some(at) = memchr::memmem::find(tag, attr) else {
                continue;
            };
            let q = *tag.get(at + attr.len())?;
            if q != b'"' && q != b'\'' {
                continue;
            }
            let start = at + attr.len() + 1;
            let len = memchr::memchr(q, &tag[start..])?;
            return self.find(&tag[start..start + len]);
        }
        None
    }

    /// At the second `-` of `--password hunter2` (or `--api-key 'x'`): the value after a flag
    /// that names a secret. `--password=x` is read at its `=`.
    fn cli_flag(&self, b: &[u8], i: usize) -> Option<(usize, Range<usize>)> {
        if i >= 2 && !b[i - 2].is_ascii_whitespace() && !matches!(b[i - 2], b'"' | b'\'') {
            return None;
        }
        let start = i + 1;
        let mut end = start;
        while end < b.len() && (b[end].is_ascii_alphanumeric() || matches!(b[end], b'-' | b'_')) {
            end += 1;
        }
        if end == start || end - start > MAX_KEY || b.get(end) != Some(&b' ') {
            return None;
        }
        let rule = self.find(&b[start..end])?;
        let mut v = end;
        while v < b.len() && b[v] == b' ' {
            v += 1;
        }
        if v >= b.len() || b[v] == b'-' {
            return None; // the next flag: this one takes no value
        }
        let span = value_span(b, v, false)?;
        let quoted = span.start > 0 && matches!(b[span.start - 1], b'"' | b'\'');
        plausible_value(&b[span.clone()], quoted).then_some((rule, span))
    }

    /// A `value` whose sibling `name` names a secret: Kubernetes and ECS environment lists
    /// (`- name: DB_PASSWORD` / `value: "…"`, `{"name": "API_TOKEN", "value": "…"}`),
    /// CloudFormation `Name`/`Value` pairs.
    fn sibling_name(&self, b: &[u8], key_start: usize, key: &[u8]) -> Option<usize> {
        if !key.eq_ignore_ascii_case(b"value") {
            return None;
        }
        let from = key_start.saturating_sub(200);
        // Not past the end of an earlier object, element or list item.
        let window_start = b[from..key_start]
            .iter()
            .rposition(|&c| matches!(c, b'}' | b'>' | b']'))
            .map_or(from, |p| from + p + 1);
        let window = &b[window_start..key_start];
        let at = window
            .windows(4)
            .rposition(|w| w.eq_ignore_ascii_case(b"name"))?;
        if at > 0 && (window[at - 1].is_ascii_alphanumeric() || window[at - 1] == b'_') {
            return None; // `username`, `secretKeyRef: name`
        }
        let mut k = at + 4;
        if k < window.len() && matches!(window[k], b'"' | b'\'') {
            k += 1;
        }
        while k < window.len() && window[k] == b' ' {
            k += 1;
        }
        if k >= window.len() || !matches!(window[k], b':' | b'=') {
            return None;
        }
        k += 1;
        while k < window.len() && matches!(window[k], b' ' | b'"' | b'\'') {
            k += 1;
        }
        let end = k + window[k..]
            .iter()
            .position(|&c| !(is_key_byte(c)))
            .unwrap_or(window.len() - k);
        (end > k).then(|| self.find(&window[k..end])).flatten()
    }

    /// At the `>` of `<password>hunter2</password>`: the element's text when its tag names a
    /// secret.
    fn xml_element(&self, b: &[u8], i: usize) -> Option<(usize, Range<usize>)> {
        if i == 0 || matches!(b[i - 1], b'/' | b'-' | b'=' | b'?') {
            return None;
        }
        let from = i.saturating_sub(256);
        let lt = from + b[from..i].iter().rposition(|&c| c == b'<' || c == b'>')?;
        if b[lt] != b'<' {
            return None;
        }
        let name_start = lt + 1;
        let mut name_end = name_start;
        while name_end < i && (is_key_byte(b[name_end]) || b[name_end] == b':') {
            name_end += 1;
        }
        if name_end == name_start || !(name_end == i || b[name_end] == b' ') {
            return None;
        }
        // `ns:password` is `password`.
        let name = &b[name_start..name_end];
        let local = name.rsplit(|&c| c == b':').next().unwrap_or(name);
        let rule = self.find(local)?;
        let mut start = i + 1;
        let (mut end, cdata) = if b[start..].starts_with(b"<![CDATA[") {
            start += 9;
            (start + memchr::memmem::find(&b[start..], b"]]>")?, true)
        } else {
            (start + memchr::memchr(b'<', &b[start..])?, false)
        };
        if !cdata && b.get(end + 1) != Some(&b'/') {
            return None; // nested elements, not a value
        }
        while start < end && b[start].is_ascii_whitespace() {
            start += 1;
        }
        while end > start && b[end - 1].is_ascii_whitespace() {
            end -= 1;
        }
        (start < end && plausible_value(&b[start..end], true)).then_some((rule, start..end))
    }
}

/// The key that ends at `op` (the operator's first byte): back over spaces, an optional
/// (escaped) closing quote, then key bytes. `(start, end)`.
fn key_before(b: &[u8], op: usize) -> Option<(usize, usize)> {
    let mut j = op;
    let mut spaces = 0;
    while j > 0 && b[j - 1] == b' ' && spaces < 2 {
        j -= 1;
        spaces += 1;
    }
    if j > 0 && (b[j - 1] == b'"' || b[j - 1] == b'\'') {
        j -= 1;
        if j > 0 && b[j - 1] == b'\\' {
            j -= 1;
        }
    }
    let key_end = j;
    while j > 0 && is_key_byte(b[j - 1]) {
        j -= 1;
        if key_end - j > MAX_KEY {
            return None;
        }
    }
    (j < key_end).then_some((j, key_end))
}

/// After a bare word: ` = ` follows (a type annotation, `token: string = …`).
fn type_annotation(b: &[u8], end: usize) -> bool {
    let mut k = end;
    while k < b.len() && b[k] == b' ' {
        k += 1;
    }
    b.get(k) == Some(&b'=') && !matches!(b.get(k + 1), Some(b'=' | b'>'))
}

/// A YAML block scalar (`token: |`, `key: >-`) whose key starts at `key_start` and whose
/// indicator is at `v`: the indented lines after it (`Some(None)` when there are none).
fn yaml_block(b: &[u8], key_start: usize, v: usize) -> Option<Option<Range<usize>>> {
    if !matches!(b.get(v), Some(b'|' | b'>')) {
        return None;
    }
    let mut k = v + 1;
    while k < b.len() && matches!(b[k], b'-' | b'+' | b'0'..=b'9' | b' ') {
        k += 1;
    }
    if k < b.len() && b[k] == b'\r' {
        k += 1;
    }
    if b.get(k) != Some(&b'\n') {
        return None;
    }
    let line_start = b[..key_start]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |p| p + 1);
    let indent = b[line_start..key_start]
        .iter()
        .take_while(|&&c| c == b' ' || c == b'-')
        .count();
    let mut start = None;
    let mut end = k;
    let mut line = k + 1;
    while line < b.len() {
        let line_end = memchr::memchr(b'\n', &b[line..]).map_or(b.len(), |e| line + e);
        let text = &b[line..line_end];
        let lead = text
            .iter()
            .take_while(|&&c| c == b' ' || c == b'\t')
            .count();
        let blank = text[lead..].iter().all(|c| c.is_ascii_whitespace());
        if !blank {
            if lead <= indent {
                break;
            }
            start.get_or_insert(line + lead);
            end = line_end;
            while end > line && b[end - 1] == b'\r' {
                end -= 1;
            }
        }
        line = line_end + 1;
    }
    Some(start.map(|s| s..end))
}

/// Bytes of a key inside text.
#[inline]
fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Bytes that end an unquoted value.
#[inline]
pub(super) fn ends_bare(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b',' | b';' | b'&' | b')' | b']' | b'}' | b'"' | b'\'' | b'<' | b'>'
        )
}

/// Authorization schemes: `Authorization: Bearer xyz` redacts `xyz` and keeps the scheme.
const SCHEMES: &[&[u8]] = &[
    b"bearer",
    b"basic",
    b"digest",
    b"negotiate",
    b"token",
    b"ntlm",
    b"aws4-hmac-sha256",
];

/// The span of the value starting at `v` (quoted, bracketed, wrapped or bare); `None` if empty.
fn value_span(b: &[u8], v: usize, whole_line: bool) -> Option<Range<usize>> {
    let n = b.len();
    if v >= n {
        return None;
    }
    let non_empty = |r: Range<usize>| (r.start < r.end).then_some(r);
    match b[v] {
        b'\\' if b.get(v + 1) == Some(&b'"') => {
            // A JSON/Debug string inside an escaped string: \"value\"
            let start = v + 2;
            let end = memchr::memmem::find(&b[start..], b"\\\"").map_or(n, |e| start + e);
            non_empty(start..end)
        }
        q @ (b'"' | b'\'') => {
            let start = v + 1;
            let mut k = start;
            while k < n && b[k] != q {
                k += if b[k] == b'\\' { 2 } else { 1 };
            }
            non_empty(start..k.min(n))
        }
        open @ (b'{' | b'[' | b'(') => {
            let start = v + 1;
            non_empty(start..balanced_end(b, start, open))
        }
        _ => {
            // A wrapper, named like a type: Some("x"), Secret("x"), Token { .. }. A value
            // followed by a bracket (`5WBCrmuIQm {…}`, `hunter2(415) 555-2671`) is no wrapper.
            let mut k = v;
            while k < n && (b[k].is_ascii_alphanumeric() || b[k] == b'_') {
                k += 1;
            }
            if k > v && k < n && type_name(&b[v..k]) {
                if b[k] == b'(' {
                    return value_span(b, k + 1, whole_line);
                }
                if b[k] == b' ' && b.get(k + 1) == Some(&b'{') {
                    return non_empty(k + 2..balanced_end(b, k + 2, b'{'));
                }
            }
            if whole_line {
                let end = b[v..]
                    .iter()
                    .position(|&c| matches!(c, b'\n' | b'\r' | b'"' | b'\''))
                    .map_or(b.len(), |e| v + e);
                return non_empty(v..end);
            }
            let end = bare_end(b, v);
            // A scheme word then the credential.
            if end < n
                && b[end] == b' '
                && SCHEMES.iter().any(|s| b[v..end].eq_ignore_ascii_case(s))
                && b.get(end + 1).is_some_and(|&c| !ends_bare(c) && c != b'-')
            {
                return non_empty(end + 1..bare_end(b, end + 1));
            }
            non_empty(v..end)
        }
    }
}

/// A CamelCase type name (`Some`, `SecretString`): an upper-case letter first, a lower-case
/// one later, no digit.
fn type_name(name: &[u8]) -> bool {
    name[0].is_ascii_uppercase()
        && name.iter().any(u8::is_ascii_lowercase)
        && !name.iter().any(u8::is_ascii_digit)
}

/// End of an unquoted value starting at `v`: at a terminator, or at an escape sequence of an
/// enclosing escaped string (`\"`, `\n`).
fn bare_end(b: &[u8], v: usize) -> usize {
    let mut k = v;
    while k < b.len() {
        let c = b[k];
        if ends_bare(c)
            || (c == b'\\' && matches!(b.get(k + 1), Some(b'"' | b'\'' | b'n' | b'r' | b't')))
        {
            break;
        }
        k += 1;
    }
    k
}

/// The index of the bracket closing `open` (whose contents start at `start`), skipping quoted
/// strings; the end of the text if it is never closed.
fn balanced_end(b: &[u8], start: usize, open: u8) -> usize {
    let close = match open {
        b'{' => b'}',
        b'[' => b']',
        _ => b')',
    };
    let mut depth = 1usize;
    let mut k = start;
    while k < b.len() {
        match b[k] {
            c if c == open => depth += 1,
            c if c == close => {
                depth -= 1;
                if depth == 0 {
                    return k;
                }
            }
            q @ (b'"' | b'\'') => {
                k += 1;
                while k < b.len() && b[k] != q {
                    k += if b[k] == b'\\' { 2 } else { 1 };
                }
            }
            b'\\' => k += 1,
            _ => {}
        }
        k += 1;
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::keys::{Glob, KeyRule, BUILTIN_KEY_RULES};
    use crate::redact::method::Method;

    fn set() -> KeySet {
        KeySet::new(
            BUILTIN_KEY_RULES
                .iter()
                .map(|(name, globs)| KeyRule {
                    name: name.to_string(),
                    globs: globs.iter().map(|g| Glob::new(g)).collect(),
                    method: Method::Replace,
                    replacement: format!("[REDACTED:{name}]"),
                    whole_line: *name == "cookie",
                })
                .collect(),
        )
    }

    fn kv(text: &str) -> Option<(&'static str, &str)> {
        let s = set();
        let b = text.as_bytes();
        (0..b.len())
            .filter(|&i| b[i] == b'=' || b[i] == b':')
            .find_map(|i| s.key_value_at(b, i))
            .map(|(r, span)| (BUILTIN_KEY_RULES[r].0, &text[span]))
    }

    #[test]
    fn key_values_in_text() {
        assert_eq!(
            kv("login password=hunter2 ok"),
            Some(("password", "hunter2"))
        );
        assert_eq!(
            kv(r#"{"apiKey":"k-123","x":1}"#),
            Some(("api_key", "k-123"))
        );
        assert_eq!(
            kv(r#"Login { user: "bob", password: "a b\"c" }"#),
            Some(("password", r#"a b\"c"#))
        );
        assert_eq!(
            kv("Authorization: Bearer abc.def"),
            Some(("authorization", "abc.def"))
        );
        assert_eq!(kv("pwd => Some(\"x\")"), Some(("password", "x")));
        assert_eq!(kv("creds: Secret { inner: \"x\" } tail"), None);
        assert_eq!(
            kv("credentials: Creds { inner: \"x\" } tail"),
            Some(("secret", " inner: \"x\" "))
        );
        assert_eq!(kv(r#"body="{\"token\":\"abc\"}""#), Some(("token", "abc")));
        assert_eq!(kv("token_count=5 max_tokens: 7"), None);
        assert_eq!(kv("password == other"), None);
        // Exact markers are recognised by the redactor, which drops matches inside them.
        assert_eq!(
            kv("password=[REDACTED:password]"),
            Some(("password", "REDACTED:password"))
        );
        assert_eq!(kv("std::token::x"), None);
        assert_eq!(
            kv("Cookie: a=1; sid=s3cr3t\nnext"),
            Some(("cookie", "a=1; sid=s3cr3t"))
        );
    }
}
