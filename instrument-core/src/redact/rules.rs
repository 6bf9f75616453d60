//! The built-in value rules: for each, a candidate regex, and a validator that checks what a regex
//! cannot (boundaries, checksums, number ranges, context) and narrows the match to the part to
//! redact.

use std::net::Ipv6Addr;
use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;

use super::checksum;

/// A built-in value rule. The discriminant is the rule's bit in prefilter masks; the order is the
/// tie-break priority (earlier wins when two matches cover the same text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    Pem = 0,
    UrlCredentials,
    Jwt,
    AwsSecretAccessKey,
    AwsAccessKeyId,
    Bearer,
    Iban,
    Card,
    Email,
    Ssn,
    Phone,
    Ipv6,
    Ipv4,
}

pub(crate) const ALL: [Builtin; 13] = [
    Builtin::Pem,
    Builtin::UrlCredentials,
    Builtin::Jwt,
    Builtin::AwsSecretAccessKey,
    Builtin::AwsAccessKeyId,
    Builtin::Bearer,
    Builtin::Iban,
    Builtin::Card,
    Builtin::Email,
    Builtin::Ssn,
    Builtin::Phone,
    Builtin::Ipv6,
    Builtin::Ipv4,
];

impl Builtin {
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Builtin::Pem => "pem",
            Builtin::UrlCredentials => "url_credentials",
            Builtin::Jwt => "jwt",
            Builtin::AwsSecretAccessKey => "aws_secret_access_key",
            Builtin::AwsAccessKeyId => "aws_access_key_id",
            Builtin::Bearer => "bearer",
            Builtin::Iban => "iban",
            Builtin::Card => "card",
            Builtin::Email => "email",
            Builtin::Ssn => "ssn",
            Builtin::Phone => "phone",
            Builtin::Ipv6 => "ipv6",
            Builtin::Ipv4 => "ipv4",
        }
    }

    pub(crate) fn by_name(name: &str) -> Option<Builtin> {
        ALL.iter().copied().find(|b| b.name() == name)
    }

    #[inline]
    pub(crate) const fn bit(self) -> u32 {
        1 << self as u32
    }

    /// Higher wins when two matches cover the same text. Custom rules sit above all built-ins,
    /// key rules below.
    pub(crate) const fn priority(self) -> u8 {
        100 - self as u8
    }

    /// The candidate regex. ASCII boundaries are checked by the validators (the `regex` crate has
    /// no look-around), which keeps every pattern DFA-friendly.
    pub(crate) const fn pattern(self) -> &'static str {
        match self {
            Builtin::Pem => r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----",
            Builtin::UrlCredentials => r#"[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#"'<>\[\]]+@"#,
            Builtin::Jwt => {
                r"eyJ[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)?"
            }
            Builtin::AwsSecretAccessKey => {
                r#"(?:[Ss]ecret|SECRET)[_\-]?(?:(?:[Aa]ccess|ACCESS)[_\-]?)?(?:[Kk]ey|KEY)["'\\]{0,2}\s{0,3}(?::=|=>|[:=>])\s{0,3}["'\\]{0,2}[A-Za-z0-9/+]{40}"#
            }
            Builtin::AwsAccessKeyId => {
                r"(?:A3T[A-Z0-9]|AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|ABIA|ACCA)[A-Z0-9]{16}"
            }
            Builtin::Bearer => r"(?:[Bb]earer|BEARER)[ \t]+[A-Za-z0-9\-._~+/]+=*",
            Builtin::Iban => r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){8,32}",
            Builtin::Card => r"[0-9](?:[ \-]?[0-9]){12,}",
            Builtin::Email => {
                r"[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?)*\.\p{L}{2,}"
            }
            Builtin::Ssn => {
                r"(?i:ssn|social[ _\-]?security(?:[ _\-]?(?:number|no))?)[^0-9A-Za-z\r\n]{0,4}[0-9]{3}[ \-]?[0-9]{2}[ \-]?[0-9]{4}|[0-9]{3}[ \-][0-9]{2}[ \-][0-9]{4}"
            }
            Builtin::Phone => concat!(
                // international: +CC and groups, an optional (0) trunk
                r"\+[0-9]{1,4}(?:[ .\-]?(?:\([0-9]{1,4}\)|[0-9]{1,6})){1,8}",
                // North America: (415) 555-2671, 415-555-2671, 415.555.2671, 1-415-555-2671
                r"|(?:1[ .\-]?)?(?:\([2-9][0-9]{2}\)[ .\-]?|[2-9][0-9]{2}[.\-])[2-9][0-9]{2}[ .\-][0-9]{4}",
                // France: 01 23 45 67 89
                r"|0[1-9](?:[ .\-][0-9]{2}){4}",
                // trunk-0 national numbers with separators: 020 7946 0958, 030 12345678
                r"|0[1-9][0-9]{1,4}[ \-][0-9]{2,4}(?:[ \-]?[0-9]{2,4}){1,2}",
            ),
            Builtin::Ipv6 => r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.[0-9]{1,3}){0,3}",
            Builtin::Ipv4 => r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}",
        }
    }

    /// The compiled candidate regex, shared by every redactor.
    pub(crate) fn regex(self) -> &'static Regex {
        static COMPILED: OnceLock<Vec<Regex>> = OnceLock::new();
        &COMPILED.get_or_init(|| {
            ALL.iter()
                .map(|b| Regex::new(b.pattern()).expect("built-in redaction patterns compile"))
                .collect()
        })[self as usize]
    }

    /// Runs the regex over `text` and calls `emit` with the span to redact of every validated
    /// match.
    pub(crate) fn find(self, text: &str, emit: &mut dyn FnMut(Range<usize>)) {
        let b = text.as_bytes();
        let regex = self.regex();
        if self == Builtin::Card {
            // The card validator tries every range of groups of a digit run itself.
            for m in regex.find_iter(text) {
                card(b, m.range(), emit);
            }
            return;
        }
        let mut pos = 0;
        while pos < text.len() {
            let Some(m) = regex.find_at(text, pos) else {
                break;
            };
            let r = m.range();
            match self.validate(text, r.clone()) {
                Some(span) => {
                    // Go on after what was redacted, not after the candidate: a greedy candidate
                    // may have run into the next match (two grouped IBANs in a row).
                    pos = span.end.max(r.start + 1);
                    emit(span);
                }
                // A rejected candidate of a short, bounded rule may hide a valid one starting
                // inside it (`010-01-0001 200-200-0000`): look again one character later.
                None if self.restarts_inside() => {
                    pos = r.start + 1;
                    while !text.is_char_boundary(pos) {
                        pos += 1;
                    }
                }
                None => pos = r.end.max(r.start + 1),
            }
        }
    }

    /// Rules whose candidates are short or start with a literal, so that a restart after a
    /// rejection costs little. An `email` or `url_credentials` rejection (a URL's userinfo) must
    /// not be retried inside.
    const fn restarts_inside(self) -> bool {
        !matches!(self, Builtin::Email | Builtin::UrlCredentials)
    }

    fn validate(self, text: &str, r: Range<usize>) -> Option<Range<usize>> {
        let b = text.as_bytes();
        match self {
            Builtin::Pem => pem(b, r),
            Builtin::UrlCredentials => url_credentials(b, r),
            Builtin::Jwt => {
                (!prev(b, r.start).is_some_and(|c| is_word(c) || c == b'-')).then_some(r)
            }
            Builtin::AwsSecretAccessKey => aws_secret(b, r),
            Builtin::AwsAccessKeyId => (!prev(b, r.start)
                .is_some_and(|c| c.is_ascii_alphanumeric())
                && !next(b, r.end).is_some_and(|c| c.is_ascii_alphanumeric()))
            .then_some(r),
            Builtin::Bearer => bearer(b, r),
            Builtin::Iban => iban(b, r),
            Builtin::Card => None, // multi-span: see `card`
            Builtin::Email => email(b, r),
            Builtin::Ssn => ssn(b, r),
            Builtin::Phone => phone(b, r),
            Builtin::Ipv6 => ipv6(text, r),
            Builtin::Ipv4 => ipv4(b, r),
        }
    }

    /// Feeds the canonical form of a matched value to `out` (for stable hashes): digits of cards,
    /// SSNs and phone numbers, uppercase IBANs without spaces, lowercase emails.
    pub(crate) fn canonical(self, value: &str, out: &mut dyn FnMut(&[u8])) {
        match self {
            Builtin::Card | Builtin::Ssn | Builtin::Phone => {
                for d in value.bytes().filter(u8::is_ascii_digit) {
                    out(&[d]);
                }
            }
            Builtin::Iban => {
                for c in value.bytes().filter(u8::is_ascii_alphanumeric) {
                    out(&[c.to_ascii_uppercase()]);
                }
            }
            Builtin::Email | Builtin::Ipv6 => {
                let mut buf = [0u8; 4];
                for c in value.chars().flat_map(char::to_lowercase) {
                    out(c.encode_utf8(&mut buf).as_bytes());
                }
            }
            _ => out(value.as_bytes()),
        }
    }
}

#[inline]
fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

#[inline]
fn prev(b: &[u8], i: usize) -> Option<u8> {
    i.checked_sub(1).map(|j| b[j])
}

#[inline]
fn next(b: &[u8], i: usize) -> Option<u8> {
    b.get(i).copied()
}

/// A number may not continue before `start`: no word byte, no `-`/`.`/`/` glued to a digit
/// (a comma separates: `4111111111111111,5555555555554444`).
fn number_starts(b: &[u8], start: usize) -> bool {
    match prev(b, start) {
        None => true,
        Some(c) if is_word(c) => false,
        Some(b'-' | b'.' | b'/') => !prev(b, start - 1).is_some_and(|c| c.is_ascii_digit()),
        Some(_) => true,
    }
}

/// A number may not continue after `end`.
fn number_ends(b: &[u8], end: usize) -> bool {
    match next(b, end) {
        None => true,
        Some(c) if is_word(c) => false,
        Some(b'-' | b'.' | b'/') => !next(b, end + 1).is_some_and(|c| c.is_ascii_digit()),
        Some(_) => true,
    }
}

/// Through the matching `-----END … PRIVATE KEY…-----`, or to the end of the text when the key
/// was cut off.
fn pem(b: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    let end = memchr::memmem::find(&b[r.end..], b"-----END")
        .and_then(|e| {
            let after = r.end + e + 8;
            memchr::memmem::find(&b[after..b.len().min(after + 64)], b"-----")
                .map(|f| after + f + 5)
        })
        .unwrap_or(b.len());
    Some(r.start..end)
}

/// The password of `scheme://user:password@host`, or a long user-only userinfo (a token).
fn url_credentials(b: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    let ui_start = r.start + memchr::memmem::find(&b[r.clone()], b"://")? + 3;
    let ui_end = r.end - 1; // the '@'
    let ui = &b[ui_start..ui_end];
    match memchr::memchr(b':', ui) {
        Some(c) if ui_start + c + 1 < ui_end => Some(ui_start + c + 1..ui_end),
        Some(_) => None,
        None if ui.len() >= 16 => Some(ui_start..ui_end),
        None => None,
    }
}

/// The 40-character secret after a secret-key name.
fn aws_secret(b: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    let v = r.end - 40..r.end;
    if next(b, r.end).is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'+' | b'='))
    {
        return None;
    }
    let s = &b[v.clone()];
    let all_hex = s.iter().all(u8::is_ascii_hexdigit);
    let kinds = [
        s.iter().any(u8::is_ascii_uppercase),
        s.iter().any(u8::is_ascii_lowercase),
        s.iter().any(u8::is_ascii_digit),
    ];
    (!all_hex && kinds.iter().filter(|&&k| k).count() >= 2).then_some(v)
}

/// The token after `Bearer`: token-shaped, or anything after an `Authorization` header name.
fn bearer(b: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    if prev(b, r.start).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let mut t = r.start + 6;
    while t < r.end && (b[t] == b' ' || b[t] == b'\t') {
        t += 1;
    }
    let token = &b[t..r.end];
    let header = {
        let from = r.start.saturating_sub(24);
        let before = &b[from..r.start];
        before
            .windows(13)
            .any(|w| w.eq_ignore_ascii_case(b"authorization"))
    };
    let tokenish = token.len() >= 24
        || (token.len() >= 8
            && token[1..]
                .iter()
                .any(|c| !c.is_ascii_lowercase() || c.is_ascii_digit()));
    (header || tokenish).then_some(t..r.end)
}

/// Exactly the country's IBAN length, mod-97 valid.
fn iban(b: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    if prev(b, r.start).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let len = checksum::iban_length([b[r.start], b[r.start + 1]])?;
    let mut compact = [0u8; 34];
    let mut n = 0;
    let mut end = r.start;
    for (k, &c) in b[r.clone()].iter().enumerate() {
        if c == b' ' {
            continue;
        }
        compact[n] = c;
        n += 1;
        if n == len {
            end = r.start + k + 1;
            break;
        }
    }
    if n < len || next(b, end).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    checksum::iban_mod97(&compact[..n]).then_some(r.start..end)
}

/// Every card inside a run of digit groups: 13–19 digits, an IIN, Luhn. A run may hold more than
/// a card (`12 4111 1111 1111 1111`), so ranges of whole groups are tried, longest first.
fn card(b: &[u8], r: Range<usize>, emit: &mut dyn FnMut(Range<usize>)) {
    let mut groups: [(usize, usize); 24] = [(0, 0); 24];
    let mut g = 0;
    let mut k = r.start;
    while k < r.end && g < groups.len() {
        let s = k;
        while k < r.end && b[k].is_ascii_digit() {
            k += 1;
        }
        groups[g] = (s, k);
        g += 1;
        k += 1; // the separator
    }
    let groups = &groups[..g];
    let mut first = 0;
    'outer: while first < groups.len() {
        if first == 0 && !number_starts(b, groups[0].0) {
            first += 1;
            continue;
        }
        let mut digits = 0;
        let mut last = first;
        while last < groups.len() && digits + (groups[last].1 - groups[last].0) <= 19 {
            digits += groups[last].1 - groups[last].0;
            last += 1;
        }
        // groups[first..last] is the longest range of at most 19 digits; shrink from the right.
        while last > first {
            let range = &groups[first..last];
            let n: usize = range.iter().map(|(s, e)| e - s).sum();
            let end = range[range.len() - 1].1;
            // Groups of 3 to 8 digits; the last may be shorter (`4000 0000 0000 6`).
            let shaped = range.len() == 1
                || (range[..range.len() - 1]
                    .iter()
                    .all(|(s, e)| (3..=8).contains(&(e - s)))
                    && range[range.len() - 1].1 - range[range.len() - 1].0 <= 8);
            if n >= 13 && shaped && (last < groups.len() || number_ends(b, end)) {
                let mut ds = [0u8; 19];
                let mut m = 0;
                for &(s, e) in range {
                    ds[m..m + (e - s)].copy_from_slice(&b[s..e]);
                    m += e - s;
                }
                if checksum::card_iin(&ds[..m]) && checksum::luhn(ds[..m].iter().copied()) {
                    emit(range[0].0..end);
                    first = last;
                    continue 'outer;
                }
            }
            last -= 1;
        }
        first += 1;
    }
}

/// An email, unless it is the `password@host` of a URL's userinfo (then `url_credentials` owns
/// it), an image density suffix (`icon@2x.png`) or a git remote (`git@github.com:org/repo`).
fn email(b: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    let mut start = r.start;
    while b[start] == b'.' {
        start += 1;
    }
    let at = start + memchr::memchr(b'@', &b[start..r.end])?;
    if at == start {
        return None;
    }
    let domain = &b[at + 1..r.end];
    let mut labels = domain.split(|&c| c == b'.');
    let first_label = labels.next().unwrap_or_default();
    let rest: Vec<&[u8]> = labels.collect();
    // An image density suffix is `<digits>x.<image extension>`, nothing else: a domain such as
    // `000x.com` is a real one.
    const IMAGE: [&[u8]; 7] = [b"png", b"jpg", b"jpeg", b"gif", b"webp", b"svg", b"avif"];
    if first_label.len() >= 2
        && first_label.ends_with(b"x")
        && first_label[..first_label.len() - 1]
            .iter()
            .all(u8::is_ascii_digit)
        && rest.len() == 1
        && IMAGE.iter().any(|ext| rest[0].eq_ignore_ascii_case(ext))
    {
        return None; // icon@2x.png
    }
    if &b[start..at] == b"git" && next(b, r.end) == Some(b':') {
        return None; // git@github.com:org/repo.git
    }
    if prev(b, start) == Some(b':') || b[..start].ends_with(b"//") {
        // userinfo of scheme://user:pass@host or scheme://user@host
        let token_start = b[..start]
            .iter()
            .rposition(|c| c.is_ascii_whitespace())
            .map_or(0, |p| p + 1);
        if memchr::memmem::find(&b[token_start..start], b"://").is_some() {
            return None;
        }
    }
    Some(start..r.end)
}

/// `123-45-6789` (or with spaces), or nine digits after an `SSN` label; SSA ranges.
fn ssn(b: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    // The digits are at the end of the match: walk back over 9 digits and separators.
    let mut d = [0u8; 9];
    let mut n = 9;
    let mut seps: [u8; 2] = [0, 0];
    let mut k = r.end;
    while n > 0 {
        k -= 1;
        let c = b[k];
        if c.is_ascii_digit() {
            n -= 1;
            d[n] = c;
        } else if n == 5 {
            seps[1] = c;
        } else if n == 3 {
            seps[0] = c;
        }
    }
    // A label glued to a word (`classn 123-45-6789`) is no label: judge the number alone.
    let labelled = !b[r.start].is_ascii_digit()
        && !prev(b, r.start).is_some_and(|c| c.is_ascii_alphanumeric());
    if !labelled && (seps[0] == 0 || !number_starts(b, k)) {
        return None;
    }
    if seps[0] != seps[1] || !number_ends(b, r.end) {
        return None;
    }
    checksum::ssn_valid(&d).then_some(k..r.end)
}

/// Digit counts per format, boundaries, consistent separators for the French format. A number
/// followed by more digit groups (`+1 415 555 2671 12345`) loses its trailing groups until its
/// digit count fits.
fn phone(b: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    let start_ok = match b[r.start] {
        b'+' => !prev(b, r.start).is_some_and(|c| is_word(c) || c == b'+'),
        _ => number_starts(b, r.start) && prev(b, r.start) != Some(b'+'),
    };
    if !start_ok {
        return None;
    }
    let digits = |end: usize| {
        b[r.start..end]
            .iter()
            .filter(|c| c.is_ascii_digit())
            .count()
    };
    let (min, max) = match b[r.start] {
        b'+' => {
            let trunk = usize::from(memchr::memmem::find(&b[r.clone()], b"(0)").is_some());
            (7 + trunk, 15 + trunk)
        }
        _ => (10, 11),
    };
    // Drop trailing groups while there are too many digits or the last group is glued to a word.
    let mut end = r.end;
    while end > r.start && (digits(end) > max || (end == r.end && !number_ends(b, end))) {
        while end > r.start && b[end - 1].is_ascii_digit() {
            end -= 1;
        }
        while end > r.start && !b[end - 1].is_ascii_digit() {
            end -= 1;
        }
    }
    if end <= r.start + 1 {
        return None;
    }
    let s = &b[r.start..end];
    let n = digits(end);
    let ok = match s[0] {
        b'0' if s.len() == 14 && n == 10 && s[1] != b'0' && !s[2].is_ascii_digit() => {
            // 0X XX XX XX XX: one separator throughout
            s[2] == s[5] && s[5] == s[8] && s[8] == s[11]
        }
        b'0' => n >= min && s.iter().any(|c| !c.is_ascii_digit()),
        _ => n >= min,
    };
    ok.then_some(r.start..end)
}

/// A parseable IPv6 address other than `::` and `::1`, not glued to a word or a path.
fn ipv6(text: &str, r: Range<usize>) -> Option<Range<usize>> {
    let b = text.as_bytes();
    if prev(b, r.start).is_some_and(|c| is_word(c) || c == b':' || c == b'.')
        || next(b, r.end).is_some_and(is_word)
    {
        return None;
    }
    // A colon may follow an address (`2001:db8::1: timeout`, `::ffff:192.0.2.1:80`): the
    // candidate then ends with it, or stops before it.
    let addr: Ipv6Addr = match text[r.clone()].parse() {
        Ok(a) => a,
        Err(_) if b[r.end - 1] == b':' => {
            let a = text[r.start..r.end - 1].parse().ok()?;
            return ipv6_worth(a).then_some(r.start..r.end - 1);
        }
        Err(_) => return None,
    };
    ipv6_worth(addr).then_some(r)
}

/// `::` and `::1` say nothing about anyone.
fn ipv6_worth(addr: Ipv6Addr) -> bool {
    !addr.is_unspecified() && !addr.is_loopback()
}

/// Four octets ≤ 255, not part of a longer dotted number (a version, an OID); not `0.0.0.0`,
/// loopback or broadcast, which say nothing about anyone.
fn ipv4(b: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    if !number_starts(b, r.start) || !number_ends(b, r.end) {
        return None;
    }
    let mut octets = [0u32; 4];
    for (o, part) in octets.iter_mut().zip(b[r.clone()].split(|&c| c == b'.')) {
        *o = part.iter().fold(0, |a, &c| a * 10 + u32::from(c - b'0'));
        if *o > 255 {
            return None;
        }
    }
    let boring = octets == [0, 0, 0, 0] || octets[0] == 127 || octets == [255, 255, 255, 255];
    (!boring).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(rule: Builtin, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        rule.find(text, &mut |r| out.push(text[r].to_string()));
        out
    }

    #[test]
    fn patterns_compile() {
        for b in ALL {
            let _ = b.regex();
            assert!(!b.regex().is_match(""), "{}", b.name());
            assert_eq!(Builtin::by_name(b.name()), Some(b));
        }
    }

    #[test]
    fn cards() {
        assert_eq!(
            spans(Builtin::Card, "pay 4111 1111 1111 1111 now"),
            ["4111 1111 1111 1111"]
        );
        assert_eq!(
            spans(Builtin::Card, "x 12 4111-1111-1111-1111 22"),
            ["4111-1111-1111-1111"]
        );
        assert_eq!(
            spans(Builtin::Card, "4111111111111111 5555555555554444"),
            ["4111111111111111", "5555555555554444"]
        );
        assert!(spans(Builtin::Card, "order 4111111111111112").is_empty());
        assert!(spans(Builtin::Card, "v1.4111111111111111").is_empty());
        assert!(spans(Builtin::Card, "id94111111111111111").is_empty());
    }

    #[test]
    fn others() {
        assert_eq!(
            spans(Builtin::Iban, "IBAN DE89370400440532013000 EUR"),
            ["DE89370400440532013000"]
        );
        assert_eq!(
            spans(Builtin::Iban, "GB82 WEST 1234 5698 7654 32."),
            ["GB82 WEST 1234 5698 7654 32"]
        );
        assert!(spans(Builtin::Iban, "DE89370400440532013001").is_empty());
        assert_eq!(
            spans(
                Builtin::Iban,
                "DE89 3704 0044 0532 0130 00 GB82 WEST 1234 5698 7654 32"
            ),
            ["DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32"]
        );
        assert_eq!(spans(Builtin::Ssn, "ssn 078-05-1120."), ["078-05-1120"]);
        assert_eq!(spans(Builtin::Ssn, "SSN: 078051120"), ["078051120"]);
        assert!(spans(Builtin::Ssn, "078-05 1120").is_empty());
        assert_eq!(spans(Builtin::Ssn, "Xssn 078-05-1120"), ["078-05-1120"]);
        assert!(spans(Builtin::Ssn, "Xssn 078051120").is_empty());
        assert!(spans(Builtin::Ssn, "000-05-1120").is_empty());
        assert_eq!(
            spans(Builtin::Phone, "call (415) 555-2671."),
            ["(415) 555-2671"]
        );
        assert_eq!(
            spans(Builtin::Phone, "call +44 (0)20 7946 0958"),
            ["+44 (0)20 7946 0958"]
        );
        assert_eq!(
            spans(Builtin::Phone, "tel 01 23 45 67 89"),
            ["01 23 45 67 89"]
        );
        assert!(spans(Builtin::Phone, "on 01-02-2026 10:00").is_empty());
        assert_eq!(
            spans(Builtin::Phone, "+1 415 555 2671 12345"),
            ["+1 415 555 2671"]
        );
        assert_eq!(spans(Builtin::Phone, "020 7946 0958 12"), ["020 7946 0958"]);
        assert_eq!(
            spans(Builtin::Phone, "+1 415 555 2671 0a"),
            ["+1 415 555 2671"]
        );
        assert!(spans(Builtin::Phone, "+14155552671x").is_empty());
        assert_eq!(
            spans(Builtin::Ipv6, "from [2001:db8::1]:443"),
            ["2001:db8::1"]
        );
        assert!(spans(Builtin::Ipv6, "std::fmt::Debug at 11:29:00 ::1").is_empty());
        assert_eq!(
            spans(Builtin::Ipv6, "to 2001:db8::1: timeout"),
            ["2001:db8::1"]
        );
        assert_eq!(
            spans(Builtin::Ipv6, "to ::ffff:192.0.2.1:80"),
            ["::ffff:192.0.2.1"]
        );
        assert_eq!(spans(Builtin::Ipv4, "from 10.1.2.3:80"), ["10.1.2.3"]);
        assert!(spans(Builtin::Ipv4, "oid 1.3.6.1.4.1 127.0.0.1 v1.2.3.4").is_empty());
        assert_eq!(
            spans(Builtin::UrlCredentials, "https://u:p@ss@h.example/x"),
            ["p@ss"]
        );
        assert!(spans(Builtin::UrlCredentials, "ssh://git@github.com/x").is_empty());
        assert_eq!(
            spans(Builtin::Email, "https://u:pw@db.example.com/x"),
            Vec::<String>::new()
        );
        assert_eq!(
            spans(Builtin::Email, "mail ..bob@example.com."),
            ["bob@example.com"]
        );
        assert!(spans(Builtin::Email, "icon@2x.png git@github.com:org/repo.git").is_empty());
        assert!(spans(Builtin::Bearer, "the bearer of this card").is_empty());
        assert_eq!(
            spans(Builtin::Bearer, "Bearer\tbearer AAAAAAAAAAAAAAB1"),
            ["AAAAAAAAAAAAAAB1"]
        );
        assert_eq!(
            spans(Builtin::Bearer, "Authorization: Bearer abcdef"),
            ["abcdef"]
        );
        assert_eq!(
            spans(
                Builtin::AwsSecretAccessKey,
                "SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'"
            ),
            ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"]
        );
        assert!(spans(
            Builtin::AwsSecretAccessKey,
            "secret_key=3f786850e387550fdab836ed7e6dc881de23001b"
        )
        .is_empty());
    }
}
