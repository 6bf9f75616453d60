//! Checking a rule's regex candidate: word and number boundaries, checksums (Luhn, mod-97),
//! and the shape of each kind of value, so that look-alikes stay readable.

use std::net::Ipv6Addr;
use std::ops::Range;

use super::checksum;

/// The first `needle` in a short `hay`: cheaper than building a `memmem` searcher for the few
/// bytes a candidate spans.
#[inline]
pub(super) fn find_short(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The last `needle` in a short `hay`.
#[inline]
pub(super) fn rfind_short(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

#[inline]
pub(super) fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

#[inline]
pub(super) fn prev(b: &[u8], i: usize) -> Option<u8> {
    i.checked_sub(1).map(|j| b[j])
}

#[inline]
pub(super) fn next(b: &[u8], i: usize) -> Option<u8> {
    b.get(i).copied()
}

/// A number may not continue before `start`: no word byte, no `-`/`.`/`/` glued to a digit
/// (a comma separates: `4111111111111111,5555555555554444`).
pub(super) fn number_starts(b: &[u8], start: usize) -> bool {
    match prev(b, start) {
        None => true,
        Some(c) if is_word(c) => false,
        Some(b'-' | b'.' | b'/') => !prev(b, start - 1).is_some_and(|c| c.is_ascii_digit()),
        Some(_) => true,
    }
}

/// A number may not continue after `end`.
pub(super) fn number_ends(b: &[u8], end: usize) -> bool {
    match next(b, end) {
        None => true,
        Some(c) if is_word(c) => false,
        Some(b'-' | b'.' | b'/') => !next(b, end + 1).is_some_and(|c| c.is_ascii_digit()),
        Some(_) => true,
    }
}

/// Through the matching `-----END … PRIVATE KEY…-----` (`---- END … ----` in SSH2 files), or to
/// the end of the text when the key was cut off.
pub(super) fn pem(b: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    let end = memchr::memmem::find_iter(&b[r.end..], b"END ")
        .map(|e| r.end + e)
        .find(|&e| b[..e].ends_with(b"-----") || b[..e].ends_with(b"---- "))
        .and_then(|e| {
            let after = e + 4;
            let window = &b[after..b.len().min(after + 64)];
            let dashes = memchr::memmem::find(window, b"----")?;
            let mut end = after + dashes + 4;
            if b.get(end) == Some(&b'-') {
                end += 1;
            }
            Some(end)
        })
        .unwrap_or(b.len());
    Some(r.start..end)
}

/// The base64 after `Basic` when it decodes to `user:password`.
pub(super) fn basic_auth(b: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    if prev(b, r.start).is_some_and(|c| c.is_ascii_alphanumeric())
        || next(b, r.end).is_some_and(|c| c.is_ascii_alphanumeric() || c == b'/' || c == b'+')
    {
        return None;
    }
    let mut t = r.start + 5;
    while b[t] == b' ' || b[t] == b'\t' {
        t += 1;
    }
    let mut out = [0u8; 256];
    let n = checksum::base64_decode(&b[t..r.end], &mut out)?;
    let decoded = std::str::from_utf8(&out[..n]).ok()?;
    let colon = decoded.find(':')?;
    (colon > 0 && decoded.chars().all(|c| !c.is_control())).then_some(t..r.end)
}

/// Whether the digit group at `start` is one of the space-separated upper-case groups of an
/// IBAN-shaped token (`DK51 0040 0440 1162 43`, `NL91 ABNA 0417 1643 01` with a wrong check
/// digit): its groups belong to that structured token, not to a phone number or a card. The
/// token is as long as its country's IBANs (see [`iban_shaped_end`]).
pub(super) fn in_iban_shaped_run(b: &[u8], start: usize) -> bool {
    iban_shaped_end(b, start).is_some_and(|end| end > start)
}

/// When the group at `start` is in a run of space-separated groups that opens with an IBAN
/// head (country, check digits): where the IBAN-shaped token ends, after as many letters and
/// digits as its country's IBANs have (the end of the run when it is shorter). The groups after
/// it (`DE89 3704 0044 0532 0130 00 4111 1111 1111 1111`) are not its.
pub(super) fn iban_shaped_end(b: &[u8], start: usize) -> Option<usize> {
    let group_byte = |c: u8| c.is_ascii_digit() || c.is_ascii_uppercase();
    let mut k = start;
    for _ in 0..10 {
        while k > 0 && group_byte(b[k - 1]) {
            k -= 1;
        }
        let g = &b[k..];
        if g.len() >= 4
            && g[0].is_ascii_uppercase()
            && g[1].is_ascii_uppercase()
            && g[2].is_ascii_digit()
            && g[3].is_ascii_digit()
            && !(k > 0 && b[k - 1].is_ascii_alphanumeric())
        {
            if let Some(len) = checksum::iban_length([g[0], g[1]]) {
                let mut n = 0;
                let mut end = k;
                while end < b.len() && n < len && (group_byte(b[end]) || b[end] == b' ') {
                    n += usize::from(b[end] != b' ');
                    end += 1;
                }
                return Some(if n == len { end } else { usize::MAX });
            }
        }
        if k >= 2 && b[k - 1] == b' ' && group_byte(b[k - 2]) {
            k -= 1;
        } else {
            return None;
        }
    }
    None
}

/// The password of `scheme://user:password@host`, or a long user-only userinfo (a token).
pub(super) fn url_credentials(b: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    let ui_start = r.start + find_short(&b[r.clone()], b"://")? + 3;
    let ui_end = r.end - 1; // the '@'
    let ui = &b[ui_start..ui_end];
    match memchr::memchr(b':', ui) {
        Some(c) if ui_start + c + 1 < ui_end => Some(ui_start + c + 1..ui_end),
        Some(_) => None,
        None if ui.len() >= 16 => Some(ui_start..ui_end),
        None => None,
    }
}

/// The 40-character secret after a secret-key name or after its access key ID.
pub(super) fn aws_secret(b: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    let v = r.end - 40..r.end;
    // After its key ID (the match starts with the ID's `A`): an ID glued to a letter or digit
    // is none, as for the key ID rule.
    if b[r.start] == b'A' && prev(b, r.start).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    // Exactly 40: no base64 character follows. (A `=` may: 40 characters are whole base64
    // quanta, so `…=` is no longer padded string.)
    if next(b, r.end).is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'+')) {
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
pub(super) fn bearer(b: &[u8], r: Range<usize>) -> Option<Range<usize>> {
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
pub(super) fn iban(b: &[u8], r: Range<usize>) -> Option<Range<usize>> {
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
pub(super) fn card(b: &[u8], r: Range<usize>, emit: &mut dyn FnMut(Range<usize>)) {
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
        while k < r.end && !b[k].is_ascii_digit() {
            k += 1; // the separators
        }
    }
    let mut groups = &groups[..g];
    // A run that starts inside an IBAN-shaped token holds no card but in the groups after it
    // (the card regex's run spans both).
    if let Some(e) = groups.first().and_then(|&(s, _)| iban_shaped_end(b, s)) {
        groups = &groups[groups.partition_point(|&(s, _)| s < e)..];
    }
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
pub(super) fn email(b: &[u8], r: Range<usize>) -> Option<Range<usize>> {
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
    // The userinfo of scheme://user:pass@host or scheme://user@host, whatever the password
    // holds (`app:$ecret@host`, `svc:pa!ss@host`): no `/` between `://` and the `@`.
    let token_start = b[..start]
        .iter()
        .rposition(|c| c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'<' | b'('))
        .map_or(0, |p| p + 1);
    if let Some(s) = rfind_short(&b[token_start..start], b"://") {
        if !b[token_start + s + 3..start].contains(&b'/') {
            return None;
        }
    }
    Some(start..r.end)
}

/// `123-45-6789` (or with spaces), or nine digits after an `SSN` label; SSA ranges.
pub(super) fn ssn(b: &[u8], r: Range<usize>) -> Option<Range<usize>> {
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
    // A label glued to a word (`classn 123-45-6789`) is no label, nor is the rule name inside a
    // marker (`[REDACTED:ssn])777077177`): judge the number alone.
    let in_marker = b[..r.start].ends_with(b"[REDACTED:") || b[..r.start].ends_with(b"[HASH:");
    let labelled = !b[r.start].is_ascii_digit()
        && !in_marker
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
pub(super) fn phone(b: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    let start_ok = match b[r.start] {
        b'+' => !prev(b, r.start).is_some_and(|c| is_word(c) || c == b'+'),
        _ => number_starts(b, r.start) && prev(b, r.start) != Some(b'+'),
    };
    if !start_ok || in_iban_shaped_run(b, r.start) {
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
            let trunk = usize::from(find_short(&b[r.clone()], b"(0)").is_some());
            (7 + trunk, 15 + trunk)
        }
        // Trunk-0 national numbers have 9 (`09-7625400`) to 12 digits (`0176 12345678`).
        b'0' | b'(' => (9, 12),
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
    // From the second group on of a card-shaped number (`4758 0286 9654 2927`, 13 to 19 digits
    // in groups after a 4-digit one) whose Luhn check failed: a reference, no phone number.
    if s[0].is_ascii_digit() && after_card_group(b, r.start) && (13..=19).contains(&(4 + n)) {
        return None;
    }
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

/// Whether a 4-digit group and one space stand right before `start`, the group opening a run of
/// digit groups (not the last group of a card or an IPv6 address before it).
fn after_card_group(b: &[u8], start: usize) -> bool {
    if start < 5 || b[start - 1] != b' ' || !b[start - 5..start - 1].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let group = start - 5;
    match prev(b, group) {
        None => true,
        Some(c) if c.is_ascii_whitespace() => {
            !prev(b, group - 1).is_some_and(|c| c.is_ascii_digit())
        }
        Some(c) => matches!(c, b'"' | b'\'' | b'(' | b'[' | b'{' | b'='),
    }
}

/// A parseable IPv6 address other than `::` and `::1`, not glued to a word or a path.
pub(super) fn ipv6(text: &str, r: Range<usize>) -> Option<Range<usize>> {
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

/// A CIDR prefix length after an address: `/0` to `/32`, then the end of the number.
fn cidr_suffix(b: &[u8], end: usize) -> bool {
    if next(b, end) != Some(b'/') {
        return false;
    }
    let digits = b[end + 1..]
        .iter()
        .take(3)
        .take_while(|c| c.is_ascii_digit())
        .count();
    let len = b[end + 1..end + 1 + digits]
        .iter()
        .fold(0u32, |a, &c| a * 10 + u32::from(c - b'0'));
    (1..=2).contains(&digits) && len <= 32 && number_ends(b, end + 1 + digits)
}

/// `::` and `::1` say nothing about anyone.
pub(super) fn ipv6_worth(addr: Ipv6Addr) -> bool {
    !addr.is_unspecified() && !addr.is_loopback()
}

/// Four octets ≤ 255, not part of a longer dotted number (a version, an OID); not `0.0.0.0`,
/// loopback or broadcast, which say nothing about anyone.
pub(super) fn ipv4(b: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    if !number_starts(b, r.start) || !(number_ends(b, r.end) || cidr_suffix(b, r.end)) {
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
