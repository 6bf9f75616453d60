//! Validators that turn "looks like" into "is": Luhn, card IIN ranges, IBAN country lengths and
//! ISO 7064 mod-97, US SSN number ranges.

/// Luhn (mod 10) check over ASCII digits; other bytes are ignored.
pub(crate) fn luhn(digits: impl DoubleEndedIterator<Item = u8>) -> bool {
    let mut sum = 0u32;
    let mut count = 0usize;
    for (i, d) in digits.rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
        count += 1;
    }
    count > 0 && sum % 10 == 0
}

/// Whether `digits` (ASCII digits only) starts with an issuer identification number of a payment
/// card network and has a length that network issues: Visa, Mastercard (51–55, 2221–2720), Amex,
/// Discover, Diners, JCB, UnionPay, Maestro, Mir, RuPay, Verve, Troy.
pub(crate) fn card_iin(digits: &[u8]) -> bool {
    let len = digits.len();
    if !(12..=19).contains(&len) {
        return false;
    }
    let prefix = |n: usize| -> u32 {
        digits[..n]
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    match digits[0] {
        b'4' => len >= 13, // Visa 13, 16, 19
        b'5' => len >= 12, // Mastercard 51-55, Maestro 50, 56-59
        b'6' => len >= 12, // Discover, UnionPay, Maestro, RuPay
        b'3' => match prefix(2) {
            34 | 37 => len == 15,                                  // Amex
            30 | 36 | 38 | 39 => len >= 14,                        // Diners
            35 => (3528..=3589).contains(&prefix(4)) && len >= 16, // JCB
            _ => false,
        },
        b'2' => {
            let p4 = prefix(4);
            ((2221..=2720).contains(&p4) && len == 16) // Mastercard 2-series
                || ((2200..=2204).contains(&p4) && len >= 16) // Mir
        }
        _ => false,
    }
}

/// IBAN length by ISO 3166 country code (SWIFT IBAN registry).
const IBAN_LENGTHS: &[(&[u8; 2], u8)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

/// [`IBAN_LENGTHS`] by country code (`AA` at 0, `ZZ` at 675), 0 for no IBANs: the prefilter asks
/// at every upper-case pair followed by two digits.
static IBAN_LENGTH_BY_CODE: [u8; 26 * 26] = {
    let mut t = [0u8; 26 * 26];
    let mut k = 0;
    while k < IBAN_LENGTHS.len() {
        let (c, len) = IBAN_LENGTHS[k];
        t[(c[0] - b'A') as usize * 26 + (c[1] - b'A') as usize] = len;
        k += 1;
    }
    t
};

/// The IBAN length of a country, `None` for a country without IBANs.
#[inline]
pub(crate) fn iban_length(country: [u8; 2]) -> Option<usize> {
    let [a, b] = country;
    if !a.is_ascii_uppercase() || !b.is_ascii_uppercase() {
        return None;
    }
    match IBAN_LENGTH_BY_CODE[usize::from(a - b'A') * 26 + usize::from(b - b'A')] {
        0 => None,
        len => Some(usize::from(len)),
    }
}

/// ISO 7064 mod 97-10 over a compact IBAN (uppercase letters and digits, no separators): move the
/// first four characters to the end, letters count as 10–35, the number mod 97 must be 1.
pub(crate) fn iban_mod97(iban: &[u8]) -> bool {
    if iban.len() < 5 {
        return false;
    }
    let mut rem = 0u32;
    for &b in iban[4..].iter().chain(&iban[..4]) {
        rem = match b {
            b'0'..=b'9' => (rem * 10 + u32::from(b - b'0')) % 97,
            b'A'..=b'Z' => (rem * 100 + u32::from(b - b'A' + 10)) % 97,
            _ => return false,
        };
    }
    rem == 1
}

/// Whether nine SSN digits are in ranges the SSA issues: area 001–899 except 666, group 01–99,
/// serial 0001–9999.
pub(crate) fn ssn_valid(d: &[u8; 9]) -> bool {
    let num = |r: &[u8]| r.iter().fold(0u32, |a, x| a * 10 + u32::from(x - b'0'));
    let area = num(&d[0..3]);
    let group = num(&d[3..5]);
    let serial = num(&d[5..9]);
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

/// CRC-32 (IEEE 802.3, the zlib one), bitwise: only ever run over a few dozen bytes.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// GitHub's and npm's token checksum: the last 6 characters of `body` are the base62
/// (`0-9A-Za-z`) CRC-32 of the characters before them.
pub(crate) fn crc32_base62(body: &[u8]) -> bool {
    if body.len() <= 6 {
        return false;
    }
    let (random, sum) = body.split_at(body.len() - 6);
    let mut value = 0u64;
    for &c in sum {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'Z' => c - b'A' + 10,
            b'a'..=b'z' => c - b'a' + 36,
            _ => return false,
        };
        value = value * 62 + u64::from(digit);
    }
    value == u64::from(crc32(random))
}

/// Decodes standard base64 (padding optional) into `out`; the number of bytes written, `None`
/// if `text` is not base64 or does not fit.
pub(crate) fn base64_decode(text: &[u8], out: &mut [u8]) -> Option<usize> {
    let text = text
        .strip_suffix(b"==")
        .or_else(|| text.strip_suffix(b"="))
        .unwrap_or(text);
    let mut acc = 0u32;
    let mut bits = 0;
    let mut n = 0;
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(n)? = (acc >> bits) as u8;
            n += 1;
        }
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iban_table_is_sorted() {
        assert!(IBAN_LENGTHS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(iban_length(*b"DE"), Some(22));
        assert_eq!(iban_length(*b"NL"), Some(18));
        assert_eq!(iban_length(*b"US"), None);
    }

    #[test]
    fn mod97() {
        assert!(iban_mod97(b"GB82WEST12345698765432"));
        assert!(iban_mod97(b"DE89370400440532013000"));
        assert!(!iban_mod97(b"DE89370400440532013001"));
    }

    #[test]
    fn luhn_and_iin() {
        assert!(luhn(b"4111111111111111".iter().copied()));
        assert!(!luhn(b"4111111111111112".iter().copied()));
        assert!(card_iin(b"4111111111111111"));
        assert!(card_iin(b"378282246310005"));
        assert!(!card_iin(b"1715611095261"));
        assert!(!card_iin(b"7964793175446139"));
    }

    #[test]
    fn github_checksum() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert!(crc32_base62(b"lhQCvpm8FOFlEsD4qmq5ShuHRWYl393GJdmC"));
        assert!(!crc32_base62(b"lhQCvpm8FOFlEsD4qmq5ShuHRWYl393GJdmD"));
        assert!(!crc32_base62(b"abc"));
        let mut out = [0u8; 16];
        let n = base64_decode(b"dXNlcjpwYXNz", &mut out).unwrap();
        assert_eq!(&out[..n], b"user:pass");
        assert!(base64_decode(b"a b", &mut out).is_none());
    }

    #[test]
    fn ssn_ranges() {
        assert!(ssn_valid(b"123456789"));
        assert!(!ssn_valid(b"000456789"));
        assert!(!ssn_valid(b"666456789"));
        assert!(!ssn_valid(b"912456789"));
        assert!(!ssn_valid(b"123006789"));
        assert!(!ssn_valid(b"123450000"));
    }
}
