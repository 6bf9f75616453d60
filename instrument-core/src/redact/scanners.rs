//! Candidate scanners for the built-in rules whose regex is a literal head and runs of one
//! character class (access key IDs, `Bearer`/`Basic` credentials, IPv4 addresses): the same
//! leftmost match as the rule's regex (tests compare the two), without a regex search's fixed
//! cost, which on short log lines is most of a search.

use std::ops::Range;

use super::rules::Builtin;

/// The end of a match starting at a position, if one does.
type MatchAt = fn(&[u8], usize) -> Option<usize>;

/// The leftmost match of `rule`'s candidate regex starting at or after `pos`, when the rule has
/// a scanner here (`Some(None)`: no match); `None` when it has none.
pub(super) fn leftmost(rule: Builtin, b: &[u8], pos: usize) -> Option<Option<Range<usize>>> {
    let (first, at): (fn(u8) -> bool, MatchAt) = match rule {
        Builtin::AwsAccessKeyId => (|c| c == b'A', access_key_id_at),
        Builtin::Bearer => (|c| c == b'B' || c == b'b', bearer_at),
        Builtin::BasicAuth => (|c| c == b'B' || c == b'b', basic_at),
        Builtin::Ipv4 => (|c| c.is_ascii_digit(), ipv4_at),
        _ => return None,
    };
    let pos = pos.min(b.len());
    Some(
        (pos..b.len())
            .filter(|&p| first(b[p]))
            .find_map(|p| at(b, p).map(|end| p..end)),
    )
}

/// `(?:A3T[A-Z0-9]|AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|ABIA|ACCA)[A-Z0-9]{16}` at `p`.
fn access_key_id_at(b: &[u8], p: usize) -> Option<usize> {
    const HEADS: [&[u8; 4]; 11] = [
        b"AKIA", b"ASIA", b"AGPA", b"AIDA", b"AROA", b"AIPA", b"ANPA", b"ANVA", b"APKA", b"ABIA",
        b"ACCA",
    ];
    let w = b.get(p..p + 20)?;
    let upper_or_digit = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    let head = (w[..3] == *b"A3T" && upper_or_digit(&w[3])) || HEADS.iter().any(|h| w[..4] == **h);
    (head && w[4..].iter().all(upper_or_digit)).then_some(p + 20)
}

/// A scheme word (`Bearer`, `bearer`, `BEARER`), blanks, then at least `min` characters of
/// `class` and up to `padding` `=`: the end of the match at `p`.
fn scheme_at(
    b: &[u8],
    p: usize,
    words: [&[u8]; 3],
    class: fn(u8) -> bool,
    min: usize,
    padding: usize,
) -> Option<usize> {
    let word = words.iter().find(|w| b[p..].starts_with(w))?;
    let mut k = p + word.len();
    let blanks = b[k..]
        .iter()
        .take_while(|&&c| c == b' ' || c == b'\t')
        .count();
    if blanks == 0 {
        return None;
    }
    k += blanks;
    let body = b[k..].iter().take_while(|&&c| class(c)).count();
    if body < min {
        return None;
    }
    k += body;
    Some(
        k + b[k..]
            .iter()
            .take(padding)
            .take_while(|&&c| c == b'=')
            .count(),
    )
}

/// `(?:[Bb]earer|BEARER)[ \t]+[A-Za-z0-9\-._~+/]+=*` at `p`.
fn bearer_at(b: &[u8], p: usize) -> Option<usize> {
    scheme_at(
        b,
        p,
        [b"Bearer", b"bearer", b"BEARER"],
        |c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/'),
        1,
        usize::MAX,
    )
}

/// `(?:[Bb]asic|BASIC)[ \t]+[A-Za-z0-9+/]{4,}={0,2}` at `p`.
fn basic_at(b: &[u8], p: usize) -> Option<usize> {
    scheme_at(
        b,
        p,
        [b"Basic", b"basic", b"BASIC"],
        |c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/',
        4,
        2,
    )
}

/// `[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}` at `p`. Greedy digits then a dot: after
/// three digits a fourth one fails the match at `p` (fewer digits would leave a digit before the
/// dot), as in the regex.
fn ipv4_at(b: &[u8], p: usize) -> Option<usize> {
    let mut k = p;
    for octet in 0..4 {
        let digits = b[k..]
            .iter()
            .take(3)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        k += digits;
        if octet < 3 {
            if b.get(k) != Some(&b'.') {
                return None;
            }
            k += 1;
        }
    }
    Some(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random texts over an alphabet dense in what the rules look for: each scanner must find
    /// exactly the regex's leftmost match from every position.
    #[test]
    fn scanners_agree_with_the_regexes() {
        let cases: [(Builtin, &[&str]); 4] = [
            (
                Builtin::AwsAccessKeyId,
                &[
                    "A",
                    "AKIA",
                    "A3T",
                    "ASIA",
                    "ACCA",
                    "ANV",
                    "Z",
                    "7",
                    "x",
                    " ",
                    "IOSFODNN7EXAMPLE",
                ],
            ),
            (
                Builtin::Bearer,
                &[
                    "Bearer", "bearer", "BEARER", "Bear", " ", "\t", "=", "a", "Z9", "-._~+/", "é",
                    ",",
                ],
            ),
            (
                Builtin::BasicAuth,
                &[
                    "Basic", "basic", "BASIC", "Bas", " ", "\t", "=", "==", "dXNl", "+/", "x", "é",
                    ":",
                ],
            ),
            (
                Builtin::Ipv4,
                &[
                    "1", "12", "123", "1234", ".", "..", "0", "9", " ", "a", "255.", "10.0.", "é",
                ],
            ),
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for (rule, pieces) in cases {
            for _ in 0..4000 {
                let n = (next() % 12) as usize;
                let text: String = (0..n)
                    .map(|_| pieces[(next() % pieces.len() as u64) as usize])
                    .collect();
                let b = text.as_bytes();
                for pos in (0..=text.len()).filter(|&p| text.is_char_boundary(p)) {
                    let regex = rule.regex().find_at(&text, pos).map(|m| m.range());
                    let ours = leftmost(rule, b, pos).expect("a scanner");
                    assert_eq!(ours, regex, "{rule:?} in {text:?} from {pos}");
                }
            }
        }
    }
}
