//! The built-in value rules: for each, a candidate regex, and a validator that checks what a regex
//! cannot (boundaries, checksums, number ranges, context) and narrows the match to the part to
//! redact.

use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;

use super::candidates::*;
use super::scanners;

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
    BasicAuth,
}

pub(crate) const ALL: [Builtin; 14] = [
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
    Builtin::BasicAuth,
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
            Builtin::BasicAuth => "basic_auth",
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

    /// The group the rule belongs to: `pii` (personal data) or `secrets`.
    pub(crate) const fn group(self) -> &'static str {
        match self {
            Builtin::Iban
            | Builtin::Card
            | Builtin::Email
            | Builtin::Ssn
            | Builtin::Phone
            | Builtin::Ipv6
            | Builtin::Ipv4 => "pii",
            _ => "secrets",
        }
    }

    /// The candidate regex. ASCII boundaries are checked by the validators (the `regex` crate has
    /// no look-around), which keeps every pattern DFA-friendly.
    pub(crate) const fn pattern(self) -> &'static str {
        match self {
            Builtin::Pem => r"-{4,5} ?BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)? ?-{4,5}",
            Builtin::UrlCredentials => r#"[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#"'<>\[\]]+@"#,
            Builtin::Jwt => {
                r"e(?:yJ|yA|w[o0k][A-Z]|w[o0k][A-Za-z0-9_\-][A-Z])[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)?"
            }
            // After a secret-key name and `=`, `:`, `=>` or blanks (`aws configure set
            // aws_secret_access_key …`), or after its access key ID (`AKIA…:secret`, the
            // console's credentials CSV `AKIA…,secret`, `AKIA… secret`).
            Builtin::AwsSecretAccessKey => {
                r#"(?:(?:[Ss]ecret|SECRET)[_\-]?(?:(?:[Aa]ccess|ACCESS)[_\-]?)?(?:[Kk]ey|KEY)["'\\]{0,2}(?:\s{0,3}(?::=|=>|[:=>])\s{0,3}|[ \t]{1,3})["'\\]{0,2}|(?:A3T[A-Z0-9]|AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|ABIA|ACCA)[A-Z0-9]{16}(?:[ \t]{1,3}|[ \t]{0,2}[:,;|][ \t]{0,2}))[A-Za-z0-9/+]{40}"#
            }
            Builtin::AwsAccessKeyId => {
                r"(?:A3T[A-Z0-9]|AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|ABIA|ACCA)[A-Z0-9]{16}"
            }
            Builtin::Bearer => r"(?:[Bb]earer|BEARER)[ \t]+[A-Za-z0-9\-._~+/]+=*",
            Builtin::Iban => r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){8,32}",
            Builtin::Card => r"[0-9](?:[ \t\-]{0,3}[0-9]){12,}",
            Builtin::Email => {
                r"[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?)*\.(?:[Xx][Nn]--[A-Za-z0-9\-]{2,59}|\p{L}{2,})"
            }
            Builtin::Ssn => {
                r"(?i:ssn|social[ _\-]?security(?:[ _\-]?(?:number|num|no))?)(?:[^0-9A-Za-z\r\n]{1,3}(?i:is|was|reads|of|on|file|number|num|no|nr)){0,3}[^0-9A-Za-z\r\n]{0,4}[0-9]{3}[ \-]?[0-9]{2}[ \-]?[0-9]{4}|[0-9]{3}[ \-][0-9]{2}[ \-][0-9]{4}"
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
                // two-digit area code and a seven-digit number: 09-7625400
                r"|0[1-9][0-9]{0,3}[ \-/][0-9]{5,8}",
                // the area code in parentheses: (02) 9876 5432, (030) 1234567
                r"|\(0[1-9][0-9]{0,3}\)[ \-]?[0-9]{3,8}(?:[ \-][0-9]{3,4})?",
            ),
            Builtin::Ipv6 => r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.[0-9]{1,3}){0,3}",
            Builtin::Ipv4 => r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}",
            Builtin::BasicAuth => r"(?:[Bb]asic|BASIC)[ \t]+[A-Za-z0-9+/]{4,}={0,2}",
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
    /// match. No candidate starts before `from` or after `until` (the prefilter's first and
    /// last triggers of the rule).
    pub(crate) fn find(
        self,
        text: &str,
        from: usize,
        until: usize,
        emit: &mut dyn FnMut(Range<usize>),
    ) {
        let b = text.as_bytes();
        let regex = self.regex();
        let mut from = from.min(text.len());
        while !text.is_char_boundary(from) {
            from -= 1;
        }
        if self == Builtin::Card {
            // The candidate regex, `[0-9](?:[ \t\-]{0,3}[0-9]){12,}`, is a run of digits with
            // gaps of at most three separators: read here without the regex engine. The card
            // validator tries every range of groups of a run itself.
            let end = until.min(b.len().saturating_sub(1));
            let mut pos = from;
            while pos <= end {
                let Some(start) = b[pos..].iter().position(u8::is_ascii_digit) else {
                    break;
                };
                let start = pos + start;
                if start > until {
                    break;
                }
                let (mut last, mut digits, mut k) = (start, 1, start + 1);
                loop {
                    let mut gap = k;
                    while gap < b.len() && gap - k < 3 && matches!(b[gap], b' ' | b'\t' | b'-') {
                        gap += 1;
                    }
                    if gap < b.len() && b[gap].is_ascii_digit() {
                        last = gap;
                        digits += 1;
                        k = gap + 1;
                    } else {
                        break;
                    }
                }
                if digits >= 13 {
                    card(b, start..last + 1, emit);
                }
                pos = last + 1;
            }
            return;
        }
        let mut pos = from;
        while pos <= until && pos < text.len() {
            let found = scanners::leftmost(self, b, pos)
                .unwrap_or_else(|| regex.find_at(text, pos).map(|m| m.range()));
            let Some(r) = found else {
                break;
            };
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
                    // Where the rule's validator refuses a start after a letter or digit, no
                    // candidate can start inside a word: skip to its end.
                    if self.starts_after_word_boundary() {
                        while pos < b.len() && b[pos - 1].is_ascii_alphanumeric() {
                            pos += 1;
                        }
                    }
                    // No phone number starts inside an IBAN-shaped token: skip past it.
                    if self == Builtin::Phone {
                        if let Some(end) = iban_shaped_end(b, r.start).filter(|&e| e < b.len()) {
                            pos = pos.max(end);
                        }
                    }
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

    /// Rules whose validator refuses every candidate that starts right after an ASCII letter or
    /// digit (`ssn` accepts a glued label, `aws_secret_access_key` a camel-case name).
    const fn starts_after_word_boundary(self) -> bool {
        matches!(
            self,
            Builtin::Jwt
                | Builtin::AwsAccessKeyId
                | Builtin::Bearer
                | Builtin::Iban
                | Builtin::Phone
                | Builtin::Ipv6
                | Builtin::Ipv4
                | Builtin::BasicAuth
        )
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
            Builtin::BasicAuth => basic_auth(b, r),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(rule: Builtin, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        rule.find(text, 0, text.len(), &mut |r| out.push(text[r].to_string()));
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
        // The tail of a card-shaped reference whose Luhn check failed is no phone number.
        for text in ["ref 4758 0286 9654 2927 ok", "id 3782 822463 10004"] {
            assert!(spans(Builtin::Phone, text).is_empty(), "{text}");
        }
        assert_eq!(
            spans(Builtin::Phone, "room 1234 call 0176 12345678"),
            ["0176 12345678"]
        );
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
        for text in [
            "aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "credentials AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "AKIAIOSFODNN7EXAMPLE,wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "ASIAIOSFODNN7EXAMPLE \twJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY ok",
        ] {
            assert_eq!(
                spans(Builtin::AwsSecretAccessKey, text),
                ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
                "{text}"
            );
        }
        // After a key ID too, a hex digest or a longer run is no secret key.
        for text in [
            "AKIAIOSFODNN7EXAMPLE:3f786850e387550fdab836ed7e6dc881de23001b",
            "AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYx",
            "AKIAIOSFODNN7EXAMPLE/wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "xAKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "the secret key rotationschedulewasupdatedforproductionaccounts",
            "secret key 3f786850e387550fdab836ed7e6dc881de23001b",
        ] {
            assert!(
                spans(Builtin::AwsSecretAccessKey, text).is_empty(),
                "{text}"
            );
        }
    }
}
