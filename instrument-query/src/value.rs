//! The values a query computes with.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// A field or expression value.
#[derive(Debug, Clone, Default)]
pub enum Value {
    /// Absent (a missing field, or the result of an operation on one).
    #[default]
    Null,
    /// A boolean (JSON `true`/`false`, comparison results); `1`/`0` in arithmetic.
    Bool(bool),
    /// A number.
    Num(f64),
    /// A string.
    Str(String),
    /// A point in time, epoch milliseconds (`@timestamp`, `bin(..)`, date functions).
    Time(i64),
    /// A JSON object or array (a field that holds structure, e.g. `spans`; see `unnest`).
    Json(serde_json::Value),
}

impl Value {
    /// Whether the value is absent.
    ///
    /// ```
    /// assert!(instrument_query::Value::Null.is_null());
    /// ```
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as a number, if it is one (strings that parse as numbers count; booleans are 1/0;
    /// times are epoch milliseconds).
    ///
    /// ```
    /// use instrument_query::Value;
    /// assert_eq!(Value::Str("2.5".into()).as_num(), Some(2.5));
    /// assert_eq!(Value::Str("x".into()).as_num(), None);
    /// ```
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            Value::Time(t) => Some(*t as f64),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// Whether the value counts as true in `filter` (true, a non-zero number, a non-empty string).
    pub(crate) fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Num(n) => *n != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Time(_) | Value::Json(_) => true,
        }
    }

    /// The value as text (what string functions and `like` see).
    pub(crate) fn to_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        use std::borrow::Cow;
        match self {
            Value::Null => None,
            Value::Str(s) => Some(Cow::Borrowed(s)),
            other => Some(Cow::Owned(other.to_string())),
        }
    }

    /// Compares two values for `=`/`<`/sorting: numbers numerically (a string that parses as a
    /// number compares as one), strings lexically; `None` when either is absent or they cannot
    /// be compared.
    pub(crate) fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Null, _) | (_, Value::Null) => None,
            (Value::Str(a), Value::Str(b)) => Some(a.as_str().cmp(b.as_str())),
            (Value::Time(a), Value::Time(b)) => Some(a.cmp(b)),
            (Value::Bool(a), Value::Str(s)) | (Value::Str(s), Value::Bool(a))
                if matches!(s.as_str(), "true" | "false") =>
            {
                let ord = a.cmp(&(s == "true"));
                Some(if matches!(self, Value::Str(_)) {
                    ord.reverse()
                } else {
                    ord
                })
            }
            (Value::Json(a), Value::Json(b)) => Some(a.to_string().cmp(&b.to_string())),
            (Value::Time(t), Value::Str(s)) => crate::time::parse_rfc3339(s)
                .map(|s| t.cmp(&s))
                .or_else(|| self.as_num()?.partial_cmp(&other.as_num()?)),
            (Value::Str(s), Value::Time(t)) => crate::time::parse_rfc3339(s)
                .map(|s| s.cmp(t))
                .or_else(|| self.as_num()?.partial_cmp(&other.as_num()?)),
            _ => self.as_num()?.partial_cmp(&other.as_num()?),
        }
    }

    /// The order of `sort`, CloudWatch's natural sort: non-number values before number values;
    /// numbers numerically; other text in chunks of digits and non-digits, digit chunks by
    /// length then value, other chunks by Unicode order. Absent values are handled by the caller
    /// (they always sort last).
    pub(crate) fn sort_cmp(&self, other: &Value) -> Ordering {
        fn number(v: &Value) -> Option<f64> {
            match v {
                Value::Num(n) => Some(*n),
                Value::Bool(b) => Some(f64::from(u8::from(*b))),
                Value::Time(t) => Some(*t as f64),
                Value::Str(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                    s.parse().ok()
                }
                _ => None,
            }
        }
        match (self, other) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Null, _) => Ordering::Greater,
            (_, Value::Null) => Ordering::Less,
            _ => match (number(self), number(other)) {
                (Some(a), Some(b)) => a
                    .total_cmp(&b)
                    .then_with(|| self.to_string().cmp(&other.to_string())),
                (Some(_), None) => Ordering::Greater,
                (None, Some(_)) => Ordering::Less,
                (None, None) => natural(&self.to_string(), &other.to_string()),
            },
        }
    }

    /// The value as JSON (for `--format json`): times as the console's text, absent as null.
    ///
    /// ```
    /// use instrument_query::Value;
    /// assert_eq!(Value::Num(2.0).to_json(), serde_json::json!(2));
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Num(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => (*n as i64).into(),
            Value::Num(n) => {
                serde_json::Number::from_f64(*n).map_or(serde_json::Value::Null, Into::into)
            }
            Value::Str(s) => s.clone().into(),
            Value::Time(t) => crate::time::format_millis(*t).into(),
            Value::Json(j) => j.clone(),
        }
    }
}

/// Natural order of two texts (see [`Value::sort_cmp`]).
fn natural(a: &str, b: &str) -> Ordering {
    fn chunks(s: &str) -> impl Iterator<Item = &str> {
        let mut rest = s;
        std::iter::from_fn(move || {
            let first = rest.chars().next()?;
            let digit = first.is_ascii_digit();
            let end = rest
                .char_indices()
                .find(|(_, c)| c.is_ascii_digit() != digit)
                .map_or(rest.len(), |(i, _)| i);
            let (chunk, tail) = rest.split_at(end);
            rest = tail;
            Some(chunk)
        })
    }
    let (mut x, mut y) = (chunks(a), chunks(b));
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) => {
                let digits = |c: &str| c.bytes().all(|b| b.is_ascii_digit());
                let o = if digits(p) && digits(q) {
                    p.len().cmp(&q.len()).then_with(|| p.cmp(q))
                } else {
                    p.cmp(q)
                };
                if o.is_ne() {
                    return o;
                }
            }
        }
    }
}

impl fmt::Display for Value {
    /// Numbers print without a trailing `.0` when whole; times as `2026-11-22 11:25:06.123`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Num(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => write!(f, "{}", *n as i64),
            Value::Num(n) => write!(f, "{n}"),
            Value::Str(s) => f.write_str(s),
            Value::Time(t) => f.write_str(&crate::time::format_millis(*t)),
            Value::Json(j) => write!(f, "{j}"),
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Num(a), Value::Num(b)) => a == b || (a.is_nan() && b.is_nan()),
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Time(a), Value::Time(b)) => a == b,
            (Value::Json(a), Value::Json(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Value::Null => {}
            Value::Bool(b) => b.hash(state),
            Value::Num(n) => (if *n == 0.0 { 0.0f64 } else { *n }).to_bits().hash(state),
            Value::Str(s) => s.hash(state),
            Value::Time(t) => t.hash(state),
            Value::Json(j) => j.to_string().hash(state),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_follow_types() {
        assert_eq!(
            Value::Num(10.0).compare(&Value::Str("9".into())),
            Some(Ordering::Greater)
        );
        assert_eq!(
            Value::Str("10".into()).compare(&Value::Str("9".into())),
            Some(Ordering::Less)
        );
        assert_eq!(Value::Null.compare(&Value::Num(1.0)), None);
        assert_eq!(
            Value::Bool(true).compare(&Value::Num(1.0)),
            Some(Ordering::Equal)
        );
        assert_eq!(
            Value::Bool(true).compare(&Value::Str("true".into())),
            Some(Ordering::Equal)
        );
        assert_eq!(Value::Null.sort_cmp(&Value::Num(1.0)), Ordering::Greater);
        assert_eq!(
            Value::Num(1.0).sort_cmp(&Value::Str("a".into())),
            Ordering::Greater
        );
    }

    #[test]
    fn natural_sort_matches_the_documented_example() {
        // CloudWatch's documentation of `sort`, ascending.
        let expected = [
            "!:",
            "#",
            "*%04",
            "0#",
            "5A",
            "111A",
            "2345_",
            "@",
            "@_",
            "A",
            "A9876fghj",
            "a12345hfh",
            "0",
            "01",
            "1",
            "2",
            "3",
        ];
        let mut values: Vec<Value> = expected
            .iter()
            .rev()
            .map(|s| Value::Str((*s).into()))
            .collect();
        values.sort_by(Value::sort_cmp);
        let got: Vec<String> = values.iter().map(ToString::to_string).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn display_and_json() {
        assert_eq!(Value::Num(3.0).to_string(), "3");
        assert_eq!(Value::Num(2.5).to_string(), "2.5");
        assert_eq!(
            Value::Time(0).to_json(),
            serde_json::json!("1970-01-01 00:00:00.000")
        );
    }
}
