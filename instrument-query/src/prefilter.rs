//! Skipping lines without parsing them: when a query starts with a `filter` that can only be
//! true if some fields are present (`latency_ms > 1`, `ispresent(x) and ...`), a line whose
//! bytes do not even contain such a field's key cannot pass, and is skipped before any JSON
//! parsing. The test is a necessary condition only (a line that mentions the key elsewhere is
//! parsed as usual), and lines with `\u` escapes, which could spell a key differently, are
//! always parsed — so results are exactly those of the full evaluation.

use memchr::memmem::Finder;

use crate::ast::BinOp;
use crate::eval::{CExpr, Matcher, Schema};
use crate::functions::Func;

/// Slots whose absence makes `e` absent.
fn nullable(e: &CExpr, out: &mut Vec<usize>) {
    match e {
        CExpr::Slot(i) | CExpr::Path(i, _) => out.push(*i),
        CExpr::Neg(a) => nullable(a, out),
        CExpr::Bin(
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem | BinOp::Pow,
            a,
            b,
        ) => {
            nullable(a, out);
            nullable(b, out);
        }
        _ => {}
    }
}

/// Slots whose absence makes `e` not true.
fn strict(e: &CExpr) -> Vec<usize> {
    let mut out = Vec::new();
    match e {
        CExpr::Slot(i) | CExpr::Path(i, _) => out.push(*i),
        CExpr::Bin(BinOp::And, a, b) => {
            out = strict(a);
            out.extend(strict(b));
        }
        CExpr::Bin(BinOp::Or, a, b) => {
            let right = strict(b);
            out = strict(a)
                .into_iter()
                .filter(|s| right.contains(s))
                .collect();
        }
        CExpr::Bin(BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge, a, b) => {
            nullable(a, &mut out);
            nullable(b, &mut out);
        }
        CExpr::Like { expr, matcher, .. } => {
            nullable(expr, &mut out);
            if let Matcher::Dynamic(p) = matcher {
                nullable(p, &mut out);
            }
        }
        CExpr::In { expr, .. } => nullable(expr, &mut out),
        CExpr::Call(Func::IsPresent, args) => {
            if let [CExpr::Slot(i)] = args.as_slice() {
                out.push(*i);
            }
        }
        _ => {}
    }
    out
}

/// What a line's bytes must contain to be worth parsing.
#[derive(Debug, Default)]
pub(crate) struct Prefilter {
    needles: Vec<Finder<'static>>,
    escape: Option<Finder<'static>>,
}

impl Prefilter {
    /// The prefilter for a query whose first streaming stage is `filter` (if any).
    pub(crate) fn new(filter: Option<&CExpr>, schema: &Schema) -> Prefilter {
        let Some(filter) = filter else {
            return Prefilter::default();
        };
        let mut needles: Vec<Vec<u8>> = Vec::new();
        for slot in strict(filter) {
            if !schema.is_source(slot) {
                continue;
            }
            let name = &schema.names[slot];
            if name.starts_with(['@', '#']) || name.contains(['"', '\\']) {
                continue;
            }
            // The key's last named segment, then its closing quote: `latency_ms"` is in both
            // `"latency_ms":` and a flat dotted key such as `"timing.latency_ms":`.
            let Some(segment) = name
                .rsplit('.')
                .find(|s| !s.is_empty() && !s.bytes().all(|b| b.is_ascii_digit()))
            else {
                continue;
            };
            let needle = format!("{segment}\"").into_bytes();
            if !needles.contains(&needle) {
                needles.push(needle);
            }
        }
        Prefilter {
            escape: (!needles.is_empty()).then(|| Finder::new(b"\\u").into_owned()),
            needles: needles
                .iter()
                .map(|n| Finder::new(n).into_owned())
                .collect(),
        }
    }

    /// Whether `line` may pass the filter (`false`: it certainly does not).
    pub(crate) fn may_match(&self, line: &[u8]) -> bool {
        if self.needles.is_empty() || self.escape.as_ref().is_some_and(|e| e.find(line).is_some()) {
            return true;
        }
        self.needles.iter().all(|n| n.find(line).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefilter(query: &str) -> (Prefilter, Vec<String>) {
        let q = crate::parser::parse(query).unwrap();
        let plan = crate::plan::plan(&q, query).unwrap();
        let needles = plan
            .prefilter
            .needles
            .iter()
            .map(|n| String::from_utf8(n.needle().to_vec()).unwrap())
            .collect();
        (plan.prefilter, needles)
    }

    #[test]
    fn needles_come_from_fields_the_filter_needs() {
        assert_eq!(
            prefilter("filter latency_ms > 1 | stats count(*)").1,
            ["latency_ms\""]
        );
        assert_eq!(
            prefilter("filter ispresent(a) and (b = 1 or b = 2)").1,
            ["a\"", "b\""]
        );
        assert_eq!(prefilter("filter a = 1 or b = 2").1, Vec::<String>::new());
        assert_eq!(prefilter("filter not (a = 1)").1, Vec::<String>::new());
        assert_eq!(
            prefilter("filter error.message like /x/ and spans.0 = 'a'").1,
            ["message\"", "spans\""]
        );
        assert_eq!(
            prefilter("filter coalesce(a, 1) = 1").1,
            Vec::<String>::new()
        );
        assert_eq!(
            prefilter("filter @message like /x/").1,
            Vec::<String>::new()
        );
        assert_eq!(
            prefilter("fields a + 1 as b | filter b > 1").1,
            Vec::<String>::new()
        );
        assert_eq!(prefilter("filter a * 2 + 1 > b").1, ["a\"", "b\""]);
    }

    #[test]
    fn lines_are_skipped_only_without_the_key() {
        let (p, _) = prefilter("filter latency_ms > 1");
        assert!(p.may_match(br#"{"latency_ms":3}"#));
        assert!(p.may_match(br#"{"http.latency_ms":3}"#));
        assert!(!p.may_match(br#"{"latency":3}"#));
        assert!(!p.may_match(b"plain text"));
        assert!(
            p.may_match(br#"{"latency\u005fms":3}"#),
            "escapes are parsed"
        );
    }
}
