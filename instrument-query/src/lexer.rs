//! Splits a Logs Insights query into tokens, each with its character offset.
//!
//! `#` starts a comment that runs to the end of the line. A `/` starts a regular expression
//! where a value is expected (after `like`, `=~`, `parse <field>`, `(`, `,`, `[`, an operator
//! or `filter`), and is division elsewhere.

use crate::error::{Error, Position, Result};

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A word: command, keyword, function or field name (`@timestamp`, `error.message`, `spans.0`).
    Ident(String),
    /// A field name in backticks.
    Quoted(String),
    /// A string literal.
    Str(String),
    /// A number literal.
    Num(f64),
    /// A number with a time unit, in milliseconds (`5m`, `1h`, `30s`).
    Duration(i64),
    /// `/regex/` (without the slashes, flags after the closing slash not supported).
    Regex(String),
    /// An operator or punctuation: `| , ( ) [ ] = != < <= > >= =~ !=~ + - * / % ^`.
    Op(&'static str),
}

impl Tok {
    /// The token as it would appear in a query (for error messages).
    pub(crate) fn text(&self) -> String {
        match self {
            Tok::Ident(s) => s.clone(),
            Tok::Quoted(s) => format!("`{s}`"),
            Tok::Str(s) => format!("{s:?}"),
            Tok::Num(n) => n.to_string(),
            Tok::Duration(ms) => format!("{ms}ms"),
            Tok::Regex(r) => format!("/{r}/"),
            Tok::Op(o) => (*o).to_owned(),
        }
    }
}

/// A token and its character offset in the query.
#[derive(Debug, Clone)]
pub(crate) struct Spanned {
    pub(crate) tok: Tok,
    pub(crate) offset: usize,
    pub(crate) end: usize,
}

const OPS: [&str; 19] = [
    "!=~", "!=", "<=", ">=", "=~", "|", ",", "(", ")", "[", "]", "=", "<", ">", "+", "-", "*", "%",
    "^",
];

fn unit_ms(unit: &str) -> Option<i64> {
    Some(match unit.to_ascii_lowercase().as_str() {
        "ms" => 1,
        "s" | "sec" | "second" | "seconds" => 1_000,
        "m" | "min" | "minute" | "minutes" => 60_000,
        "h" | "hr" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        "w" | "week" | "weeks" => 7 * 86_400_000,
        "mo" | "month" | "months" => 30 * 86_400_000,
        "q" | "quarter" | "quarters" => 91 * 86_400_000,
        "y" | "year" | "years" => 365 * 86_400_000,
        _ => return None,
    })
}

fn regex_allowed(prev: &[Spanned]) -> bool {
    match prev.last().map(|s| &s.tok) {
        None => true,
        Some(Tok::Op(op)) => *op != ")" && *op != "]",
        Some(Tok::Ident(w)) => {
            let w = w.to_ascii_lowercase();
            if matches!(
                w.as_str(),
                "like" | "filter" | "and" | "or" | "not" | "in" | "parse"
            ) {
                return true;
            }
            // `parse <field> /re/`
            prev.len() >= 2
                && matches!(&prev[prev.len() - 2].tok, Tok::Ident(p) if p.eq_ignore_ascii_case("parse"))
        }
        Some(Tok::Quoted(_)) => {
            prev.len() >= 2
                && matches!(&prev[prev.len() - 2].tok, Tok::Ident(p) if p.eq_ignore_ascii_case("parse"))
        }
        _ => false,
    }
}

/// How a quoted text escapes its quote character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escapes {
    /// `\'`, `\n`, `\t` (Logs Insights strings; none inside backticks).
    Backslash,
    /// `''` (SQL).
    Doubled,
}

/// Reads the quoted text starting at `chars[start]` (the quote): its content and the index
/// after the closing quote, or `None` when it is not closed.
pub(crate) fn scan_quoted(
    chars: &[char],
    start: usize,
    escapes: Escapes,
) -> Option<(String, usize)> {
    let quote = chars[start];
    let mut i = start + 1;
    let mut text = String::new();
    loop {
        let c = *chars.get(i)?;
        if c == quote && escapes == Escapes::Doubled && chars.get(i + 1) == Some(&quote) {
            text.push(quote);
            i += 2;
        } else if c == quote {
            return Some((text, i + 1));
        } else if c == '\\' && escapes == Escapes::Backslash && quote != '`' {
            text.push(match chars.get(i + 1).copied().unwrap_or('\\') {
                'n' => '\n',
                't' => '\t',
                other => other,
            });
            i += 2;
        } else {
            text.push(c);
            i += 1;
        }
    }
}

fn error(query: &str, offset: usize, expected: &str, after: Option<String>) -> Error {
    Error::Parse {
        expected: expected.to_owned(),
        after,
        position: Position::of(query, offset),
    }
}

/// Splits `query` into tokens.
pub(crate) fn tokenize(query: &str) -> Result<Vec<Spanned>> {
    let chars: Vec<char> = query.chars().collect();
    let mut out: Vec<Spanned> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        let tok = if c == '"' || c == '\'' || c == '`' {
            let (text, next) = scan_quoted(&chars, i, Escapes::Backslash)
                .ok_or_else(|| error(query, start, &format!("a closing {c}"), None))?;
            i = next;
            if c == '`' {
                Tok::Quoted(text)
            } else {
                Tok::Str(text)
            }
        } else if c == '/' && regex_allowed(&out) {
            i += 1;
            let mut s = String::new();
            loop {
                match chars.get(i) {
                    None => {
                        return Err(error(
                            query,
                            start,
                            "a closing / of the regular expression",
                            None,
                        ))
                    }
                    Some('\\') if chars.get(i + 1) == Some(&'/') => {
                        s.push('/');
                        i += 2;
                    }
                    Some('\\') => {
                        s.push('\\');
                        if let Some(&n) = chars.get(i + 1) {
                            s.push(n);
                        }
                        i += 2;
                    }
                    Some('/') => {
                        i += 1;
                        break;
                    }
                    Some(&d) => {
                        s.push(d);
                        i += 1;
                    }
                }
            }
            Tok::Regex(s)
        } else if c == '/' {
            i += 1;
            Tok::Op("/")
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len()
                && (chars[i] == 'e' || chars[i] == 'E')
                && chars
                    .get(i + 1)
                    .is_some_and(|d| d.is_ascii_digit() || *d == '-' || *d == '+')
            {
                i += 2;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let number: String = chars[start..i].iter().collect();
            let n: f64 = number
                .parse()
                .map_err(|_| error(query, start, "a number", None))?;
            let unit_start = i;
            while i < chars.len() && chars[i].is_ascii_alphabetic() {
                i += 1;
            }
            if unit_start == i {
                Tok::Num(n)
            } else {
                let unit: String = chars[unit_start..i].iter().collect();
                match unit_ms(&unit) {
                    Some(ms) => Tok::Duration((n * ms as f64) as i64),
                    None => {
                        return Err(error(
                            query,
                            unit_start,
                            "a time unit (ms, s, m, h, d, w, mo, q, y)",
                            Some(number),
                        ))
                    }
                }
            }
        } else if c.is_alphabetic() || c == '_' || c == '@' || c == '$' {
            while i < chars.len()
                && (chars[i].is_alphanumeric()
                    || matches!(chars[i], '_' | '@' | '$')
                    || (chars[i] == '.'
                        && chars
                            .get(i + 1)
                            .is_some_and(|d| d.is_alphanumeric() || *d == '_' || *d == '@')))
            {
                i += 1;
            }
            Tok::Ident(chars[start..i].iter().collect())
        } else {
            let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
            match OPS.iter().find(|op| rest.starts_with(**op)) {
                Some(op) => {
                    i += op.chars().count();
                    Tok::Op(op)
                }
                None => {
                    return Err(error(
                        query,
                        start,
                        "an operator, a value or a field name",
                        out.last().map(|s| s.tok.text()),
                    ))
                }
            }
        };
        out.push(Spanned {
            tok,
            offset: start,
            end: i,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(q: &str) -> Vec<Tok> {
        tokenize(q).unwrap().into_iter().map(|s| s.tok).collect()
    }

    #[test]
    fn words_numbers_durations_and_comments() {
        assert_eq!(
            toks("stats count(*) by bin(5m) # per five minutes\n| limit 2"),
            vec![
                Tok::Ident("stats".into()),
                Tok::Ident("count".into()),
                Tok::Op("("),
                Tok::Op("*"),
                Tok::Op(")"),
                Tok::Ident("by".into()),
                Tok::Ident("bin".into()),
                Tok::Op("("),
                Tok::Duration(300_000),
                Tok::Op(")"),
                Tok::Op("|"),
                Tok::Ident("limit".into()),
                Tok::Num(2.0),
            ]
        );
    }

    #[test]
    fn regex_versus_division() {
        assert_eq!(
            toks("filter @message like /a\\/b/ | fields x / 2"),
            vec![
                Tok::Ident("filter".into()),
                Tok::Ident("@message".into()),
                Tok::Ident("like".into()),
                Tok::Regex("a/b".into()),
                Tok::Op("|"),
                Tok::Ident("fields".into()),
                Tok::Ident("x".into()),
                Tok::Op("/"),
                Tok::Num(2.0),
            ]
        );
    }

    #[test]
    fn dotted_paths_strings_and_backticks() {
        assert_eq!(
            toks("error.message = 'a\\'b' and `my field` != \"x\""),
            vec![
                Tok::Ident("error.message".into()),
                Tok::Op("="),
                Tok::Str("a'b".into()),
                Tok::Ident("and".into()),
                Tok::Quoted("my field".into()),
                Tok::Op("!="),
                Tok::Str("x".into()),
            ]
        );
        assert_eq!(toks("spans.0")[0], Tok::Ident("spans.0".into()));
    }

    #[test]
    fn unterminated_string_reports_its_column() {
        let err = tokenize("filter x = 'abc").unwrap_err().to_string();
        assert_eq!(err, "expected a closing ' at column 12");
    }
}
