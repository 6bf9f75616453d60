//! An alarm evaluated locally on captured EMF documents, as CloudWatch would evaluate it:
//! each metric's statistic per period (series matched by namespace, name and exact dimension
//! set), the metric math on those series, then "M out of N" over the latest periods with
//! missing data treated as the alarm says. `instrument alarms --check app.log` prints it.
//!
//! ```
//! use instrument_cli::generate::evaluate::{evaluate, State};
//! use instrument_cli::generate::{Alarm, AlarmTarget, MetricRef};
//! use instrument_query::emf::Datapoint;
//!
//! let metric = MetricRef { namespace: "N".into(), name: "pay.latency".into(), dimensions: vec![] };
//! let alarm = Alarm {
//!     name: "slow".into(), description: String::new(), comparison: "GreaterThanThreshold",
//!     threshold: 100.0, evaluation_periods: 2, datapoints_to_alarm: 2,
//!     treat_missing_data: "notBreaching",
//!     target: AlarmTarget::Metric { metric, period: 60, statistic: "p99".into() },
//! };
//! let point = |minute: i64, ms: f64| Datapoint {
//!     namespace: "N".into(), metric: "pay.latency".into(), unit: None, storage_resolution: 60,
//!     dimensions: vec![], timestamp_ms: minute * 60_000, values: vec![ms],
//! };
//! assert_eq!(evaluate(&alarm, &[point(0, 150.0), point(1, 180.0)]).state, State::Alarm);
//! assert_eq!(evaluate(&alarm, &[point(0, 150.0), point(1, 20.0)]).state, State::Ok);
//! ```

use std::collections::{BTreeMap, BTreeSet};

use instrument_query::emf::Datapoint;

use super::{Alarm, AlarmTarget, MetricRef};

/// An alarm's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Fewer breaching periods than `DatapointsToAlarm`.
    Ok,
    /// At least `DatapointsToAlarm` breaching periods among the last `EvaluationPeriods`.
    Alarm,
    /// No datapoint at all.
    InsufficientData,
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The state.
    pub state: State,
    /// The alarm's series: period start (epoch ms) and value, for every period with data.
    pub series: Vec<(i64, f64)>,
    /// How many of the evaluated periods breach.
    pub breaching: u32,
}

/// Evaluates `alarm` on `points` (from `instrument_query::emf::extract`), at the end of the
/// latest period with data.
#[must_use]
pub fn evaluate(alarm: &Alarm, points: &[Datapoint]) -> Evaluation {
    let (series, period) = match &alarm.target {
        AlarmTarget::Metric {
            metric,
            period,
            statistic,
        } => (
            statistic_series(points, metric, *period, statistic),
            *period,
        ),
        AlarmTarget::Math(queries) => {
            let mut ids: BTreeMap<String, Series> = BTreeMap::new();
            let mut period = 60;
            for q in queries {
                if let Some((metric, p, stat)) = &q.metric {
                    period = *p;
                    ids.insert(q.id.clone(), statistic_series(points, metric, *p, stat));
                }
            }
            let all: BTreeSet<i64> = ids.values().flat_map(|s| s.keys().copied()).collect();
            let mut result = Series::new();
            for q in queries.iter().filter(|q| q.return_data) {
                if let Some(expression) = &q.expression {
                    result = match Expr::parse(expression) {
                        Some(e) => e.eval(&ids, &all).into_series(&all),
                        None => Series::new(),
                    };
                } else if let Some(s) = ids.get(&q.id) {
                    result = s.clone();
                }
            }
            (result, period)
        }
    };
    let series: Vec<(i64, f64)> = series.into_iter().filter(|(_, v)| v.is_finite()).collect();
    let Some(&(last, _)) = series.last() else {
        return Evaluation {
            state: if alarm.treat_missing_data == "breaching" {
                State::Alarm
            } else {
                State::InsufficientData
            },
            series,
            breaching: 0,
        };
    };
    let step = i64::from(period) * 1000;
    let mut breaching = 0;
    for n in 0..i64::from(alarm.evaluation_periods) {
        let at = last - n * step;
        match series.iter().find(|(t, _)| *t == at) {
            Some((_, v)) => breaching += u32::from(breaches(alarm, *v)),
            None => breaching += u32::from(alarm.treat_missing_data == "breaching"),
        }
    }
    Evaluation {
        state: if breaching >= alarm.datapoints_to_alarm {
            State::Alarm
        } else {
            State::Ok
        },
        series,
        breaching,
    }
}

fn breaches(alarm: &Alarm, value: f64) -> bool {
    match alarm.comparison {
        "GreaterThanThreshold" => value > alarm.threshold,
        "GreaterThanOrEqualToThreshold" => value >= alarm.threshold,
        "LessThanThreshold" => value < alarm.threshold,
        _ => value <= alarm.threshold,
    }
}

/// Period start (epoch ms) → value.
type Series = BTreeMap<i64, f64>;

/// One metric's statistic per period: `Sum`, `SampleCount`, `Average`, `Minimum`, `Maximum`
/// or `pNN` (nearest rank over the raw values EMF carries).
fn statistic_series(points: &[Datapoint], metric: &MetricRef, period: u32, stat: &str) -> Series {
    let wanted: BTreeSet<(&str, &str)> = metric
        .dimensions
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let step = i64::from(period) * 1000;
    let mut values: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for p in points {
        let dims: BTreeSet<(&str, &str)> = p
            .dimensions
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if p.namespace == metric.namespace && p.metric == metric.name && dims == wanted {
            let start = p.timestamp_ms.div_euclid(step) * step;
            values.entry(start).or_default().extend(&p.values);
        }
    }
    values
        .into_iter()
        .filter_map(|(t, mut v)| {
            if v.is_empty() {
                return None;
            }
            v.sort_by(f64::total_cmp);
            let n = v.len() as f64;
            let value = match stat {
                "Sum" => v.iter().sum(),
                "SampleCount" => n,
                "Average" => v.iter().sum::<f64>() / n,
                "Minimum" => v[0],
                "Maximum" => v[v.len() - 1],
                p => {
                    let q: f64 = p.strip_prefix('p')?.parse().ok()?;
                    let rank = ((q / 100.0 * n).ceil() as usize).clamp(1, v.len());
                    v[rank - 1]
                }
            };
            Some((t, value))
        })
        .collect()
}

/// The metric math the generated alarms use: numbers, ids, `+ - * /`, parentheses, `FILL`.
#[derive(Debug, Clone)]
enum Expr {
    Number(f64),
    Id(String),
    Fill(Box<Expr>, f64),
    Binary(char, Box<Expr>, Box<Expr>),
}

enum Val {
    Scalar(f64),
    Series(Series),
}

impl Val {
    fn into_series(self, all: &BTreeSet<i64>) -> Series {
        match self {
            Val::Series(s) => s,
            Val::Scalar(v) => all.iter().map(|t| (*t, v)).collect(),
        }
    }
}

impl Expr {
    fn parse(text: &str) -> Option<Expr> {
        let tokens = tokenize(text)?;
        let mut pos = 0;
        let e = sum(&tokens, &mut pos)?;
        (pos == tokens.len()).then_some(e)
    }

    fn eval(&self, ids: &BTreeMap<String, Series>, all: &BTreeSet<i64>) -> Val {
        match self {
            Expr::Number(n) => Val::Scalar(*n),
            Expr::Id(id) => Val::Series(ids.get(id).cloned().unwrap_or_default()),
            Expr::Fill(inner, fill) => {
                let s = inner.eval(ids, all).into_series(all);
                Val::Series(
                    all.iter()
                        .map(|t| (*t, *s.get(t).unwrap_or(fill)))
                        .collect(),
                )
            }
            Expr::Binary(op, a, b) => {
                let f = |x: f64, y: f64| match op {
                    '+' => x + y,
                    '-' => x - y,
                    '*' => x * y,
                    _ => x / y,
                };
                match (a.eval(ids, all), b.eval(ids, all)) {
                    (Val::Scalar(x), Val::Scalar(y)) => Val::Scalar(f(x, y)),
                    (Val::Series(s), Val::Scalar(y)) => {
                        Val::Series(s.into_iter().map(|(t, x)| (t, f(x, y))).collect())
                    }
                    (Val::Scalar(x), Val::Series(s)) => {
                        Val::Series(s.into_iter().map(|(t, y)| (t, f(x, y))).collect())
                    }
                    (Val::Series(s), Val::Series(r)) => Val::Series(
                        s.into_iter()
                            .filter_map(|(t, x)| r.get(&t).map(|y| (t, f(x, *y))))
                            .collect(),
                    ),
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Word(String),
    Punct(char),
}

fn tokenize(text: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            out.push(Token::Number(
                chars[start..i].iter().collect::<String>().parse().ok()?,
            ));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else if "+-*/(),".contains(c) {
            out.push(Token::Punct(c));
            i += 1;
        } else {
            return None;
        }
    }
    Some(out)
}

fn sum(t: &[Token], pos: &mut usize) -> Option<Expr> {
    let mut left = product(t, pos)?;
    while let Some(Token::Punct(op @ ('+' | '-'))) = t.get(*pos) {
        *pos += 1;
        left = Expr::Binary(*op, Box::new(left), Box::new(product(t, pos)?));
    }
    Some(left)
}

fn product(t: &[Token], pos: &mut usize) -> Option<Expr> {
    let mut left = atom(t, pos)?;
    while let Some(Token::Punct(op @ ('*' | '/'))) = t.get(*pos) {
        *pos += 1;
        left = Expr::Binary(*op, Box::new(left), Box::new(atom(t, pos)?));
    }
    Some(left)
}

fn atom(t: &[Token], pos: &mut usize) -> Option<Expr> {
    let token = t.get(*pos)?.clone();
    *pos += 1;
    match token {
        Token::Number(n) => Some(Expr::Number(n)),
        Token::Punct('(') => {
            let e = sum(t, pos)?;
            (t.get(*pos) == Some(&Token::Punct(')'))).then(|| *pos += 1)?;
            Some(e)
        }
        Token::Word(w) if w.eq_ignore_ascii_case("FILL") => {
            (t.get(*pos) == Some(&Token::Punct('('))).then(|| *pos += 1)?;
            let inner = sum(t, pos)?;
            (t.get(*pos) == Some(&Token::Punct(','))).then(|| *pos += 1)?;
            let Some(Token::Number(fill)) = t.get(*pos).cloned() else {
                return None;
            };
            *pos += 1;
            (t.get(*pos) == Some(&Token::Punct(')'))).then(|| *pos += 1)?;
            Some(Expr::Fill(Box::new(inner), fill))
        }
        Token::Word(w) => Some(Expr::Id(w)),
        Token::Punct(_) => None,
    }
}

/// The ids an expression refers to (for checking that each names a query).
///
/// ```
/// let ids = instrument_cli::generate::evaluate::referenced_ids("100 * FILL(e0, 0) / (FILL(e0, 0) + FILL(s0, 0))");
/// assert_eq!(ids, vec!["e0", "s0"]);
/// ```
#[must_use]
pub fn referenced_ids(expression: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for token in tokenize(expression).unwrap_or_default() {
        if let Token::Word(w) = token {
            let function = ["FILL", "SEARCH", "SUM", "AVG", "MAX", "MIN"]
                .iter()
                .any(|f| w.eq_ignore_ascii_case(f));
            if !function && !out.contains(&w) {
                out.push(w);
            }
        }
    }
    out
}
