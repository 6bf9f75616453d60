//! The scalar functions of the query language: string, number, date, IP and general.
//!
//! Every function returns `Null` when a required argument is absent or of the wrong kind,
//! except the presence tests (`ispresent`, `isempty`, `isblank`) and `coalesce`, whose point is
//! absent values. `strcontains` returns `1`/`0` as CloudWatch documents; the `is*` tests
//! return booleans.

use std::net::IpAddr;

use crate::value::Value;

/// A scalar function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Strlen,
    ToUpper,
    ToLower,
    Trim,
    Ltrim,
    Rtrim,
    Concat,
    Substr,
    Replace,
    StrContains,
    Abs,
    Ceil,
    Floor,
    Round,
    Sqrt,
    Log,
    Pow,
    Greatest,
    Least,
    DateFloor,
    DateCeil,
    FromMillis,
    ToMillis,
    IsPresent,
    IsEmpty,
    IsBlank,
    Coalesce,
    IsValidIp,
    IsValidIpV4,
    IsValidIpV6,
    IsIpInSubnet,
    JsonParse,
    JsonStringify,
}

/// Name, function, minimum and maximum argument count (`usize::MAX`: variadic).
pub(crate) const FUNCTIONS: &[(&str, Func, usize, usize)] = &[
    ("strlen", Func::Strlen, 1, 1),
    ("toupper", Func::ToUpper, 1, 1),
    ("tolower", Func::ToLower, 1, 1),
    ("trim", Func::Trim, 1, 1),
    ("ltrim", Func::Ltrim, 1, 1),
    ("rtrim", Func::Rtrim, 1, 1),
    ("concat", Func::Concat, 1, usize::MAX),
    ("substr", Func::Substr, 2, 3),
    ("replace", Func::Replace, 3, 3),
    ("strcontains", Func::StrContains, 2, 2),
    ("abs", Func::Abs, 1, 1),
    ("ceil", Func::Ceil, 1, 1),
    ("floor", Func::Floor, 1, 1),
    ("round", Func::Round, 1, 2),
    ("sqrt", Func::Sqrt, 1, 1),
    ("log", Func::Log, 1, 1),
    ("pow", Func::Pow, 2, 2),
    ("greatest", Func::Greatest, 1, usize::MAX),
    ("least", Func::Least, 1, usize::MAX),
    ("datefloor", Func::DateFloor, 2, 2),
    ("dateceil", Func::DateCeil, 2, 2),
    ("frommillis", Func::FromMillis, 1, 1),
    ("tomillis", Func::ToMillis, 1, 1),
    ("ispresent", Func::IsPresent, 1, 1),
    ("isempty", Func::IsEmpty, 1, 1),
    ("isblank", Func::IsBlank, 1, 1),
    ("coalesce", Func::Coalesce, 1, usize::MAX),
    ("isvalidip", Func::IsValidIp, 1, 1),
    ("isvalidipv4", Func::IsValidIpV4, 1, 1),
    ("isvalidipv6", Func::IsValidIpV6, 1, 1),
    ("isipinsubnet", Func::IsIpInSubnet, 2, 2),
    ("isipv4insubnet", Func::IsIpInSubnet, 2, 2),
    ("isipv6insubnet", Func::IsIpInSubnet, 2, 2),
    ("jsonparse", Func::JsonParse, 1, 1),
    ("jsonstringify", Func::JsonStringify, 1, 1),
];

fn text(v: &Value) -> Option<String> {
    v.to_text().map(|t| t.into_owned())
}

fn num(v: &Value) -> Option<f64> {
    v.as_num()
}

fn time(v: &Value) -> Option<i64> {
    match v {
        Value::Time(t) => Some(*t),
        Value::Str(s) => {
            crate::time::parse_rfc3339(s).or_else(|| s.parse::<f64>().ok().map(|n| n as i64))
        }
        other => other.as_num().map(|n| n as i64),
    }
}

fn in_subnet(ip: IpAddr, cidr: &str) -> Option<bool> {
    let (net, bits) = cidr.split_once('/')?;
    let net: IpAddr = net.trim().parse().ok()?;
    let bits: u32 = bits.trim().parse().ok()?;
    Some(match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    })
}

/// Applies `f` to evaluated arguments (their count was checked when the query was planned).
pub(crate) fn call(f: Func, args: &[Value]) -> Value {
    call_opt(f, args).unwrap_or(Value::Null)
}

fn call_opt(f: Func, args: &[Value]) -> Option<Value> {
    let a0 = &args[0];
    Some(match f {
        Func::Strlen => Value::Num(text(a0)?.chars().count() as f64),
        Func::ToUpper => Value::Str(text(a0)?.to_uppercase()),
        Func::ToLower => Value::Str(text(a0)?.to_lowercase()),
        Func::Trim => Value::Str(text(a0)?.trim().to_owned()),
        Func::Ltrim => Value::Str(text(a0)?.trim_start().to_owned()),
        Func::Rtrim => Value::Str(text(a0)?.trim_end().to_owned()),
        Func::Concat => Value::Str(args.iter().filter_map(text).collect()),
        Func::Substr => {
            let s = text(a0)?;
            let start = num(&args[1])?.max(0.0) as usize;
            let chars = s.chars().skip(start);
            match args.get(2) {
                Some(len) => Value::Str(chars.take(num(len)?.max(0.0) as usize).collect()),
                None => Value::Str(chars.collect()),
            }
        }
        Func::Replace => Value::Str(text(a0)?.replace(&text(&args[1])?, &text(&args[2])?)),
        Func::StrContains => Value::Num(f64::from(u8::from(text(a0)?.contains(&text(&args[1])?)))),
        Func::Abs => Value::Num(num(a0)?.abs()),
        Func::Ceil => Value::Num(num(a0)?.ceil()),
        Func::Floor => Value::Num(num(a0)?.floor()),
        Func::Round => {
            let scale = 10f64.powi(args.get(1).map_or(Some(0.0), num)? as i32);
            Value::Num((num(a0)? * scale).round() / scale)
        }
        Func::Sqrt => Value::Num(num(a0)?.sqrt()),
        Func::Log => Value::Num(num(a0)?.ln()),
        Func::Pow => Value::Num(num(a0)?.powf(num(&args[1])?)),
        Func::Greatest | Func::Least => {
            let mut best: Option<&Value> = None;
            for v in args.iter().filter(|v| !v.is_null()) {
                best = Some(match best {
                    None => v,
                    Some(b) => {
                        let ord = v.sort_cmp(b);
                        let better = if f == Func::Greatest {
                            ord.is_gt()
                        } else {
                            ord.is_lt()
                        };
                        if better {
                            v
                        } else {
                            b
                        }
                    }
                });
            }
            best?.clone()
        }
        Func::DateFloor | Func::DateCeil => {
            let t = time(a0)?;
            let Value::Num(period) = &args[1] else {
                return None;
            };
            let period = *period as i64;
            if period <= 0 {
                return None;
            }
            let floor = t.div_euclid(period) * period;
            Value::Time(if f == Func::DateCeil && floor != t {
                floor + period
            } else {
                floor
            })
        }
        Func::FromMillis => Value::Time(num(a0)? as i64),
        Func::ToMillis => Value::Num(time(a0)? as f64),
        Func::IsPresent => Value::Bool(!a0.is_null()),
        Func::IsEmpty => Value::Bool(match a0 {
            Value::Null => true,
            Value::Str(s) => s.is_empty(),
            _ => false,
        }),
        Func::IsBlank => Value::Bool(match a0 {
            Value::Null => true,
            Value::Str(s) => s.trim().is_empty(),
            _ => false,
        }),
        Func::Coalesce => args.iter().find(|v| !v.is_null())?.clone(),
        Func::IsValidIp => Value::Bool(text(a0)?.parse::<IpAddr>().is_ok()),
        Func::IsValidIpV4 => Value::Bool(text(a0)?.parse::<std::net::Ipv4Addr>().is_ok()),
        Func::IsValidIpV6 => Value::Bool(text(a0)?.parse::<std::net::Ipv6Addr>().is_ok()),
        Func::IsIpInSubnet => {
            let ip: IpAddr = text(a0)?.parse().ok()?;
            Value::Bool(in_subnet(ip, &text(&args[1])?)?)
        }
        Func::JsonParse => match serde_json::from_str::<serde_json::Value>(&text(a0)?).ok()? {
            json @ (serde_json::Value::Object(_) | serde_json::Value::Array(_)) => {
                Value::Json(json)
            }
            scalar => crate::extract::from_json(scalar),
        },
        Func::JsonStringify => Value::Str(a0.to_json().to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::Str(x.into())
    }
    fn n(x: f64) -> Value {
        Value::Num(x)
    }

    #[test]
    fn string_functions() {
        assert_eq!(call(Func::Strlen, &[s("héllo")]), n(5.0));
        assert_eq!(call(Func::ToUpper, &[s("aB")]), s("AB"));
        assert_eq!(call(Func::ToLower, &[s("aB")]), s("ab"));
        assert_eq!(call(Func::Trim, &[s("  a ")]), s("a"));
        assert_eq!(call(Func::Ltrim, &[s("  a ")]), s("a "));
        assert_eq!(call(Func::Rtrim, &[s("  a ")]), s("  a"));
        assert_eq!(
            call(Func::Concat, &[s("a"), n(1.0), Value::Null, s("b")]),
            s("a1b")
        );
        assert_eq!(call(Func::Substr, &[s("abcdef"), n(2.0)]), s("cdef"));
        assert_eq!(call(Func::Substr, &[s("abcdef"), n(1.0), n(3.0)]), s("bcd"));
        assert_eq!(
            call(Func::Replace, &[s("a-b-c"), s("-"), s("+")]),
            s("a+b+c")
        );
        assert_eq!(call(Func::StrContains, &[s("abc"), s("b")]), n(1.0));
        assert_eq!(call(Func::StrContains, &[s("abc"), s("x")]), n(0.0));
        assert_eq!(call(Func::Strlen, &[Value::Null]), Value::Null);
    }

    #[test]
    fn number_functions() {
        assert_eq!(call(Func::Abs, &[n(-2.5)]), n(2.5));
        assert_eq!(call(Func::Ceil, &[n(2.1)]), n(3.0));
        assert_eq!(call(Func::Floor, &[n(2.9)]), n(2.0));
        assert_eq!(call(Func::Round, &[n(2.345), n(2.0)]), n(2.35));
        assert_eq!(call(Func::Sqrt, &[n(9.0)]), n(3.0));
        assert_eq!(call(Func::Pow, &[n(2.0), n(10.0)]), n(1024.0));
        assert_eq!(call(Func::Log, &[n(1.0)]), n(0.0));
        assert_eq!(
            call(Func::Greatest, &[n(1.0), Value::Null, n(7.0), n(3.0)]),
            n(7.0)
        );
        assert_eq!(call(Func::Least, &[n(4.0), n(2.0), n(3.0)]), n(2.0));
        assert_eq!(call(Func::Abs, &[s("x")]), Value::Null);
    }

    #[test]
    fn date_functions() {
        let t = Value::Time(3_725_123); // 01:02:05.123
        assert_eq!(
            call(Func::DateFloor, &[t.clone(), n(3_600_000.0)]),
            Value::Time(3_600_000)
        );
        assert_eq!(
            call(Func::DateCeil, &[t.clone(), n(3_600_000.0)]),
            Value::Time(7_200_000)
        );
        assert_eq!(
            call(Func::DateCeil, &[Value::Time(3_600_000), n(3_600_000.0)]),
            Value::Time(3_600_000)
        );
        assert_eq!(call(Func::FromMillis, &[n(1500.0)]), Value::Time(1500));
        assert_eq!(call(Func::ToMillis, &[t]), n(3_725_123.0));
        assert_eq!(
            call(Func::ToMillis, &[s("1970-01-01T00:00:02Z")]),
            n(2000.0)
        );
    }

    #[test]
    fn general_and_ip_functions() {
        assert_eq!(call(Func::IsPresent, &[Value::Null]), Value::Bool(false));
        assert_eq!(call(Func::IsPresent, &[s("")]), Value::Bool(true));
        assert_eq!(call(Func::IsEmpty, &[s("")]), Value::Bool(true));
        assert_eq!(call(Func::IsEmpty, &[s(" ")]), Value::Bool(false));
        assert_eq!(call(Func::IsBlank, &[s(" \t")]), Value::Bool(true));
        assert_eq!(call(Func::IsBlank, &[n(0.0)]), Value::Bool(false));
        assert_eq!(call(Func::Coalesce, &[Value::Null, s("b"), s("c")]), s("b"));
        assert_eq!(call(Func::IsValidIp, &[s("10.0.0.1")]), Value::Bool(true));
        assert_eq!(call(Func::IsValidIp, &[s("::1")]), Value::Bool(true));
        assert_eq!(
            call(Func::IsValidIp, &[s("10.0.0.256")]),
            Value::Bool(false)
        );
        assert_eq!(call(Func::IsValidIpV4, &[s("::1")]), Value::Bool(false));
        assert_eq!(call(Func::IsValidIpV6, &[s("::1")]), Value::Bool(true));
        assert_eq!(
            call(Func::IsIpInSubnet, &[s("10.1.2.3"), s("10.0.0.0/8")]),
            Value::Bool(true)
        );
        assert_eq!(
            call(Func::IsIpInSubnet, &[s("11.1.2.3"), s("10.0.0.0/8")]),
            Value::Bool(false)
        );
    }
}
