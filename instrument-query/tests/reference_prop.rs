//! Property: for random logs and random `filter` + `stats` queries, the engine's result equals
//! a straightforward reference evaluation written here (three-valued logic for absent fields,
//! nearest-rank percentiles, groups in order of first appearance).

use instrument_query::{Input, LogsQuery, Options, Value};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Line {
    minute: u32,
    f: Option<&'static str>,
    x: Option<i64>,
    s: Option<&'static str>,
}

impl Line {
    fn json(&self) -> String {
        let mut parts = vec![format!(
            "\"timestamp\":\"2026-12-04T10:{:02}:00.000Z\"",
            self.minute
        )];
        if let Some(f) = self.f {
            parts.push(format!("\"f\":\"{f}\""));
        }
        if let Some(x) = self.x {
            parts.push(format!("\"x\":{x}"));
        }
        if let Some(s) = self.s {
            parts.push(format!("\"s\":\"{s}\""));
        }
        format!("{{{}}}", parts.join(","))
    }
}

#[derive(Debug, Clone)]
enum Cond {
    Cmp(&'static str, i64),
    FEq(&'static str),
    Like(&'static str),
    In(Vec<&'static str>),
    Present,
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
}

impl Cond {
    fn text(&self) -> String {
        match self {
            Cond::Cmp(op, k) => format!("x {op} {k}"),
            Cond::FEq(v) => format!("f = '{v}'"),
            Cond::Like(v) => format!("s like '{v}'"),
            Cond::In(vs) => format!(
                "f in [{}]",
                vs.iter()
                    .map(|v| format!("'{v}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Cond::Present => "ispresent(x)".into(),
            Cond::Not(c) => format!("not ({})", c.text()),
            Cond::And(a, b) => format!("({}) and ({})", a.text(), b.text()),
            Cond::Or(a, b) => format!("({}) or ({})", a.text(), b.text()),
        }
    }

    /// Three-valued: `None` when a field is absent.
    fn eval(&self, l: &Line) -> Option<bool> {
        match self {
            Cond::Cmp(op, k) => {
                let x = l.x?;
                Some(match *op {
                    "=" => x == *k,
                    "!=" => x != *k,
                    "<" => x < *k,
                    "<=" => x <= *k,
                    ">" => x > *k,
                    _ => x >= *k,
                })
            }
            Cond::FEq(v) => Some(l.f? == *v),
            Cond::Like(v) => Some(l.s?.contains(v)),
            Cond::In(vs) => Some(vs.contains(&l.f?)),
            Cond::Present => Some(l.x.is_some()),
            Cond::Not(c) => c.eval(l).map(|b| !b),
            Cond::And(a, b) => match (a.eval(l), b.eval(l)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Cond::Or(a, b) => match (a.eval(l), b.eval(l)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
        }
    }
}

fn cond() -> impl Strategy<Value = Cond> {
    let leaf = prop_oneof![
        (
            prop::sample::select(vec!["=", "!=", "<", "<=", ">", ">="]),
            -3i64..12
        )
            .prop_map(|(op, k)| Cond::Cmp(op, k)),
        prop::sample::select(vec!["a", "b", "c"]).prop_map(Cond::FEq),
        prop::sample::select(vec!["o", "ar", "x"]).prop_map(Cond::Like),
        prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 1..3).prop_map(Cond::In),
        Just(Cond::Present),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|c| Cond::Not(Box::new(c))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Cond::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Cond::Or(Box::new(a), Box::new(b))),
        ]
    })
}

fn line() -> impl Strategy<Value = Line> {
    (
        0u32..60,
        prop::option::of(prop::sample::select(vec!["a", "b", "c"])),
        prop::option::of(-5i64..15),
        prop::option::of(prop::sample::select(vec!["foo", "bar", "baz", "qux"])),
    )
        .prop_map(|(minute, f, x, s)| Line { minute, f, x, s })
}

#[derive(Debug, Clone, Copy)]
enum Agg {
    CountStar,
    Count,
    Sum,
    Min,
    Max,
    Avg,
    Pct(u8),
}

impl Agg {
    fn text(self) -> String {
        match self {
            Agg::CountStar => "count(*)".into(),
            Agg::Count => "count(x)".into(),
            Agg::Sum => "sum(x)".into(),
            Agg::Min => "min(x)".into(),
            Agg::Max => "max(x)".into(),
            Agg::Avg => "avg(x)".into(),
            Agg::Pct(p) => format!("pct(x, {p})"),
        }
    }

    fn eval(self, rows: &[&Line]) -> Option<f64> {
        let xs: Vec<f64> = rows.iter().filter_map(|l| l.x.map(|x| x as f64)).collect();
        let some = |v: f64| if xs.is_empty() { None } else { Some(v) };
        match self {
            Agg::CountStar => Some(rows.len() as f64),
            Agg::Count => Some(xs.len() as f64),
            Agg::Sum => some(xs.iter().sum()),
            Agg::Min => some(xs.iter().copied().fold(f64::MAX, f64::min)),
            Agg::Max => some(xs.iter().copied().fold(f64::MIN, f64::max)),
            Agg::Avg => some(xs.iter().sum::<f64>() / xs.len() as f64),
            Agg::Pct(p) => {
                let mut v = xs.clone();
                v.sort_by(f64::total_cmp);
                let rank = ((f64::from(p) / 100.0) * v.len() as f64)
                    .ceil()
                    .clamp(1.0, v.len().max(1) as f64) as usize;
                v.get(rank - 1).copied()
            }
        }
    }
}

fn agg() -> impl Strategy<Value = Agg> {
    prop_oneof![
        Just(Agg::CountStar),
        Just(Agg::Count),
        Just(Agg::Sum),
        Just(Agg::Min),
        Just(Agg::Max),
        Just(Agg::Avg),
        (0u8..=100).prop_map(Agg::Pct),
    ]
}

#[derive(Debug, Clone, Copy)]
enum By {
    Nothing,
    F,
    Bin,
    FAndBin,
}

fn key(by: By, l: &Line) -> Vec<Option<String>> {
    let bin = || Some(format!("10:{:02}", l.minute / 5 * 5));
    match by {
        By::Nothing => vec![],
        By::F => vec![l.f.map(str::to_owned)],
        By::Bin => vec![bin()],
        By::FAndBin => vec![l.f.map(str::to_owned), bin()],
    }
}

fn engine_key(row: &[Value], by: By) -> Vec<Option<String>> {
    let n = match by {
        By::Nothing => 0,
        By::F | By::Bin => 1,
        By::FAndBin => 2,
    };
    row[..n]
        .iter()
        .map(|v| match v {
            Value::Null => None,
            Value::Time(t) => Some(format!("10:{:02}", (t / 60_000) % 60)),
            other => Some(other.to_string()),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn filter_and_stats_match_the_reference(
        lines in prop::collection::vec(line(), 0..60),
        c in cond(),
        aggs in prop::collection::vec(agg(), 1..4),
        by in prop_oneof![Just(By::Nothing), Just(By::F), Just(By::Bin), Just(By::FAndBin)],
        threads in 1usize..4,
    ) {
        let text: String = lines.iter().map(|l| l.json() + "\n").collect();
        let by_text = match by {
            By::Nothing => "",
            By::F => " by f",
            By::Bin => " by bin(5m)",
            By::FAndBin => " by f, bin(5m)",
        };
        let names: Vec<String> = aggs.iter().enumerate().map(|(i, a)| format!("{} as a{i}", a.text())).collect();
        let query = format!("filter {} | stats {}{by_text}", c.text(), names.join(", "));
        let table = LogsQuery::new(&query)
            .unwrap()
            .run(&[Input::bytes("p", &text)], &Options { threads: Some(threads), ..Options::default() })
            .unwrap();

        // Reference: groups in order of first appearance among the kept lines.
        let kept: Vec<&Line> = lines.iter().filter(|l| c.eval(l) == Some(true)).collect();
        let mut groups: Vec<(Vec<Option<String>>, Vec<&Line>)> = Vec::new();
        for l in &kept {
            let k = key(by, l);
            match groups.iter_mut().find(|(g, _)| *g == k) {
                Some((_, rows)) => rows.push(l),
                None => groups.push((k, vec![l])),
            }
        }
        prop_assert_eq!(table.rows.len(), groups.len(), "{}", query);
        for (row, (k, rows)) in table.rows.iter().zip(&groups) {
            prop_assert_eq!(&engine_key(row, by), k, "{}", query);
            let offset = k.len();
            for (i, a) in aggs.iter().enumerate() {
                let want = a.eval(rows);
                let got = match &row[offset + i] {
                    Value::Null => None,
                    Value::Num(n) => Some(*n),
                    other => panic!("{other:?}"),
                };
                match (want, got) {
                    (Some(w), Some(g)) => prop_assert!((w - g).abs() < 1e-9, "{}: {:?} {} vs {}", query, a, w, g),
                    _ => prop_assert_eq!(want, got, "{}: {:?}", query, a),
                }
            }
        }
    }
}
