//! The prefilter: one pass over the bytes that says which built-in rules *could* match, so that
//! text without PII is scanned once and only the regexes of plausible rules ever run. Literal
//! anchors (`eyJ`, `-----BEGIN`, `Bearer`, `secret`) are checked at their rarest byte in the same
//! pass.
//!
//! Every condition here is *necessary* for its rule's validated match (tests check that the
//! prefilter never changes a result); none is sufficient.

use super::keys::MARKERS;
use super::replace::marker_len;
use super::rules::Builtin;
use super::vendor;

/// The most bytes an SSN label (`social security number is`, `SSN on file:`) can take before
/// its digits.
const SSN_LABEL: usize = 128;

/// The flag of the vendor token scan (above every built-in rule's bit).
pub(crate) const TOKENS: u32 = 1 << 31;

/// Per built-in rule, the first and the last position at which one of its candidates can start
/// (`usize::MAX` and 0 when none can).
pub(crate) type Bounds = [(usize, usize); super::rules::ALL.len()];

/// Bounds that no trigger has set yet.
pub(crate) const NO_BOUNDS: Bounds = [(usize::MAX, 0); super::rules::ALL.len()];

const C_DIGIT: u8 = 1;
const C_AT: u8 = 2;
const C_PLUS_PAREN: u8 = 3;
const C_COLON: u8 = 4;
const C_EQ: u8 = 5;
const C_UPPER: u8 = 6;
const C_LOWER_B: u8 = 7;
const C_LOWER_C: u8 = 8;
const C_SEP: u8 = 9;
const C_GT: u8 = 10;
const C_NL: u8 = 12;

/// Byte classes; 0 is "nothing starts here".
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match b {
            b'0'..=b'9' => C_DIGIT,
            b'@' => C_AT,
            b'+' | b'(' => C_PLUS_PAREN,
            b':' => C_COLON,
            b'=' => C_EQ,
            b'A'..=b'Z' => C_UPPER,
            b'b' => C_LOWER_B,
            b'c' => C_LOWER_C,
            b'_' | b'-' => C_SEP,
            b'>' => C_GT,
            b'\n' => C_NL,
            _ => 0,
        };
        i += 1;
    }
    t
};

/// The byte-class pass. Returns the plausible rules; calls `kv(i)` at every `=`, `:`, `>`, `\n`
/// and the second `-` of `--` (a possible `key=value`, `<key>value`, table header,
/// `--key value`) when `want_kv`.
///
/// With `bounds`, also records per built-in rule the first and last positions at which a
/// candidate of that rule can start (from its first and last triggers): the rule's search runs
/// between them.
#[inline]
pub(crate) fn scan(
    b: &[u8],
    want_kv: bool,
    mut kv: impl FnMut(usize),
    mut bounds: Option<&mut Bounds>,
) -> u32 {
    let n = b.len();
    let mut flags = 0u32;
    // Sets a rule's flag; a candidate triggered here starts between `from` and `at`.
    let mut set = |flags: &mut u32, rule: Builtin, from: usize, at: usize| {
        *flags |= rule.bit();
        if let Some(bounds) = bounds.as_deref_mut() {
            let (first, last) = &mut bounds[rule as usize];
            *first = (*first).min(from);
            *last = (*last).max(at);
        }
    };
    let mut ipv6_checked_to = 0usize;
    let mut scheme_seen = false;
    let mut i = 0;
    while i < n {
        // Skip uninteresting bytes four at a time: most of any text.
        while i + 4 <= n
            && (CLASS[b[i] as usize]
                | CLASS[b[i + 1] as usize]
                | CLASS[b[i + 2] as usize]
                | CLASS[b[i + 3] as usize])
                == 0
        {
            i += 4;
        }
        while i < n && CLASS[b[i] as usize] == 0 {
            i += 1;
        }
        if i >= n {
            break;
        }
        match CLASS[b[i] as usize] {
            C_DIGIT => {
                let (end, f) = digit_run(b, i);
                for rule in [Builtin::Card, Builtin::Phone, Builtin::Ssn, Builtin::Ipv4] {
                    if f & rule.bit() != 0 {
                        // A phone number may open with `(` or `+` (and `1-` is digits); an SSN
                        // with its label (`social security number is …`).
                        let back = match rule {
                            Builtin::Phone => 2,
                            Builtin::Ssn => SSN_LABEL,
                            _ => 0,
                        };
                        set(&mut flags, rule, i.saturating_sub(back), end);
                    }
                }
                i = end;
                continue;
            }
            C_AT => {
                set(&mut flags, Builtin::Email, 0, i);
                // Credentials in a URL need its `://` before the `@`.
                if scheme_seen {
                    set(&mut flags, Builtin::UrlCredentials, 0, i);
                }
            }
            C_PLUS_PAREN => {
                // `+` and a digit (E.164), or `(415)`
                let plausible = if b[i] == b'+' {
                    b.get(i + 1).is_some_and(u8::is_ascii_digit)
                } else {
                    (i + 4 < n
                        && b[i + 1..i + 4].iter().all(u8::is_ascii_digit)
                        && b[i + 4] == b')')
                        || (b.get(i + 1) == Some(&b'0')
                            && b.get(i + 2).is_some_and(u8::is_ascii_digit))
                };
                if plausible {
                    // `1 (415) 555-2671` starts before its `(`.
                    set(&mut flags, Builtin::Phone, i.saturating_sub(2), i);
                }
            }
            C_COLON => {
                if b[i + 1..].starts_with(b"//") {
                    scheme_seen = true;
                }
                if b[i + 1..].starts_with(b"//hooks.slack.com/") {
                    flags |= TOKENS;
                }
                if i >= ipv6_checked_to {
                    let (from, to, plausible) = ipv6_at(b, i);
                    ipv6_checked_to = to;
                    if plausible {
                        set(&mut flags, Builtin::Ipv6, from, to);
                    }
                }
                if want_kv {
                    kv(i);
                }
            }
            C_EQ => {
                if head_before(b, i) {
                    flags |= TOKENS;
                }
                if want_kv {
                    kv(i);
                }
            }
            C_SEP => {
                if head_before(b, i) {
                    flags |= TOKENS;
                }
                // `--password hunter2`: a command-line flag and its value.
                if want_kv && b[i] == b'-' && i > 0 && b[i - 1] == b'-' {
                    kv(i);
                }
            }
            C_GT | C_NL => {
                if want_kv {
                    kv(i);
                }
            }
            C_LOWER_B => {
                if b.get(i + 1) == Some(&b'e') && b[i + 1..].starts_with(b"earer") {
                    set(&mut flags, Builtin::Bearer, i, i);
                }
                if b[i + 1..].starts_with(b"asic") {
                    set(&mut flags, Builtin::BasicAuth, i, i);
                }
            }
            C_LOWER_C => {
                // `secret`, anchored at its rarer `c`.
                if i >= 2 && b[i - 1] == b'e' && b[i - 2] == b's' && b[i + 1..].starts_with(b"ret")
                {
                    set(&mut flags, Builtin::AwsSecretAccessKey, i - 2, i);
                }
            }
            _ => {
                // C_UPPER: IBAN country + check digits, AWS key ID prefixes, and the literals
                // of the JWT, PEM, bearer and secret-key patterns.
                let rest = &b[i + 1..];
                if i >= 1 && b[i - 1] == b'[' && matches!(b[i], b'R' | b'H') {
                    // Inside an exact marker nothing is redacted (the redactor drops matches
                    // there): skip it.
                    let marker = &b[i - 1..];
                    let len = if marker.starts_with(MARKERS[0]) {
                        marker_len(marker, MARKERS[0].len(), false)
                    } else if marker.starts_with(MARKERS[1]) {
                        marker_len(marker, MARKERS[1].len(), true)
                    } else {
                        None
                    };
                    if let Some(len) = len {
                        i += len - 1;
                        continue;
                    }
                }
                // A JWT whose header is pretty-printed JSON has an upper-case 4th or 5th
                // character: `ewogI…`, `ewoJ…`, `ew0K…`.
                let pretty = |k: usize| {
                    i >= k
                        && b[i - k] == b'e'
                        && b[i - k + 1] == b'w'
                        && matches!(b[i - k + 2], b'o' | b'0' | b'k')
                };
                if pretty(3) || pretty(4) {
                    set(&mut flags, Builtin::Jwt, i.saturating_sub(4), i);
                }
                // Inside a word (base64, hex, a camel-case name) only a JWT header and a
                // camel-case `…SecretAccessKey` start; every other candidate starting with an
                // upper-case letter is refused by its validator when glued to a letter or digit.
                let glued = i > 0 && b[i - 1].is_ascii_alphanumeric();
                match b[i] {
                    b'J' | b'A' if i >= 2 && &b[i - 2..i] == b"ey" => {
                        set(&mut flags, Builtin::Jwt, i - 2, i)
                    }
                    b'S' if rest.starts_with(b"ecret") || rest.starts_with(b"ECRET") => {
                        set(&mut flags, Builtin::AwsSecretAccessKey, i, i)
                    }
                    _ if glued => {}
                    b'B' if rest.starts_with(b"asic") || rest.starts_with(b"ASIC") => {
                        set(&mut flags, Builtin::BasicAuth, i, i)
                    }
                    // `-----BEGIN`, `---- BEGIN`
                    b'B' if rest.starts_with(b"EGIN") => {
                        set(&mut flags, Builtin::Pem, i.saturating_sub(6), i)
                    }
                    b'B' if rest.starts_with(b"earer") || rest.starts_with(b"EARER") => {
                        set(&mut flags, Builtin::Bearer, i, i)
                    }
                    _ => {}
                }
                // Vendor tokens, IBANs and access key IDs do not start glued either.
                if !glued && vendor::upper_prefix_at(b, i) {
                    flags |= TOKENS;
                }
                if i + 4 <= n && !glued {
                    let w = &b[i..i + 4];
                    if w[1].is_ascii_uppercase() && w[2].is_ascii_digit() && w[3].is_ascii_digit() {
                        set(&mut flags, Builtin::Iban, i, i);
                    }
                    if w[0] == b'A'
                        && i + 20 <= n
                        && w[1..]
                            .iter()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                    {
                        set(&mut flags, Builtin::AwsAccessKeyId, i, i);
                        // A secret key can follow its key ID (`AKIA…:secret`).
                        set(&mut flags, Builtin::AwsSecretAccessKey, i, i);
                    }
                }
            }
        }
        i += 1;
    }
    flags
}

/// At a `_`, `-` or `=`: whether the word before it is the head of a vendor token prefix
/// (`ghp_`, `xoxb-`, `sig=`).
#[inline]
fn head_before(b: &[u8], i: usize) -> bool {
    // The last two bytes of every head: most `_` and `-` are rejected here.
    if i < 2
        || !matches!(
            &b[i - 2..i],
            b"hp"
                | b"ho"
                | b"hu"
                | b"hs"
                | b"hr"
                | b"ub"
                | b"at"
                | b"dt"
                | b"rt"
                | b"tt"
                | b"as"
                | b"bt"
                | b"xb"
                | b"xp"
                | b"xa"
                | b"xo"
                | b"xr"
                | b"xs"
                | b"xe"
                | b"sk"
                | b"rk"
                | b"ec"
                | b"pm"
                | b"pi"
                | b"AK"
                | b"II"
                | b"JS"
                | b"IQ"
                | b"ey"
                | b"ig"
        )
    {
        return false;
    }
    let mut s = i;
    while s > 0 && i - s < 16 && b[s - 1].is_ascii_alphanumeric() {
        s -= 1;
    }
    s < i && vendor::head_before_separator(&b[s..i])
}

/// A run of digit groups joined by ` `, `-`, `.` or `/` (up to three spaces, tabs or dashes in a
/// row): which numeric rules it could hold.
#[inline]
fn digit_run(b: &[u8], start: usize) -> (usize, u32) {
    let n = b.len();
    let mut k = start;
    let mut total = 0usize;
    let mut groups = 0usize;
    // Lengths of the last three groups, newest last (scalars: an array compare here costs a
    // store-forwarding stall per group).
    let (mut l0, mut l1) = (0usize, 0usize);
    let mut dot_chain = 0usize;
    let mut max_dot_chain = 0usize;
    let mut sep = 0u8;
    let mut flags = 0u32;
    // Whether a phone number without `+` or `(` can start in the run: a trunk `0` opening a
    // group, or a North American area code (`415-`, `415.`, `1415-`).
    let mut phone_shaped = false;
    loop {
        let gs = k;
        while k < n && b[k].is_ascii_digit() {
            k += 1;
        }
        let len = k - gs;
        phone_shaped |= b[gs] == b'0'
            || ((len == 3 || (len == 4 && b[gs] == b'1'))
                && k + 1 < n
                && matches!(b[k], b'.' | b'-')
                && b[k + 1].is_ascii_digit());
        total += len;
        groups += 1;
        dot_chain = if sep == b'.' { dot_chain + 1 } else { 1 };
        max_dot_chain = max_dot_chain.max(dot_chain);
        // SSN: 3-2-4, or 9 digits in at most three groups (after an `SSN` label). `l0`/`l1`
        // are 0 before the second/third group, so short runs need no group count.
        if len == 9 || l1 + len == 9 || l0 + l1 + len == 9 {
            flags |= Builtin::Ssn.bit();
        }
        (l0, l1) = (l1, len);
        if k + 1 < n && matches!(b[k], b' ' | b'-' | b'.' | b'/') && b[k + 1].is_ascii_digit() {
            sep = b[k];
            k += 1;
        } else if k < n && matches!(b[k], b' ' | b'-' | b'\t') {
            // Wider gaps (fixed-width columns, text copied from a PDF) join card groups only.
            let mut g = k;
            while g < n && g - k < 3 && matches!(b[g], b' ' | b'-' | b'\t') {
                g += 1;
            }
            if g < n && b[g].is_ascii_digit() {
                sep = b' ';
                k = g;
            } else {
                break;
            }
        } else {
            break;
        }
    }
    if total >= 13 {
        flags |= Builtin::Card.bit();
    }
    // Phone numbers have 10 digits and more, trunk-0 national ones 9 (`09-7625400`); those
    // that open with `+` or `(` are flagged at that byte.
    if phone_shaped && groups >= 2 && (total >= 10 || (total == 9 && b[start] == b'0')) {
        flags |= Builtin::Phone.bit();
    }
    if max_dot_chain >= 4 {
        flags |= Builtin::Ipv4.bit();
    }
    (k, flags)
}

/// At a `:`: whether an IPv6 address could be here (a `::` not inside a path like `std::fmt`, or
/// six or more colons in one hex run), and where the hex/colon run starts and ends.
#[inline]
fn ipv6_at(b: &[u8], i: usize) -> (usize, usize, bool) {
    let hexcolon = |c: u8| c.is_ascii_hexdigit() || c == b':';
    let mut s = i;
    while s > 0 && hexcolon(b[s - 1]) {
        s -= 1;
    }
    let mut e = i;
    while e < b.len() && hexcolon(b[e]) {
        e += 1;
    }
    let glued = s > 0 && (b[s - 1].is_ascii_alphanumeric() || b[s - 1] == b'_');
    if glued || e - s < 3 {
        return (s, e, false);
    }
    let run = &b[s..e];
    let colons = run.iter().filter(|&&c| c == b':').count();
    let plausible = colons >= 6 || run.windows(2).any(|w| w == b"::");
    (s, e, plausible)
}
