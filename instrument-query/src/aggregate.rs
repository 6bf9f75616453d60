//! The aggregation functions of `stats`, as mergeable states (each worker thread aggregates its
//! chunks, then the states merge).
//!
//! - `count(*)`/`count()` counts rows, `count(f)` rows where `f` is present;
//!   `count_distinct(f)` is exact (CloudWatch's is approximate).
//! - `sum`, `avg`, `min`, `max`, `stddev` use the values that are numbers (or strings holding
//!   numbers); `min`/`max` of non-numeric strings compare them as text. `stddev` is the sample
//!   standard deviation (n − 1), `0` for a single value.
//! - `pct(f, p)` is exact (nearest rank: the smallest value with at least `p` % of the values at
//!   or below it) while a group holds at most 10,000 values; past that it switches to a
//!   logarithmic sketch with at most 0.5 % relative error, so memory stays bounded by the
//!   number of groups, not the size of the input. `median(f)` is `pct(f, 50)`.
//! - `earliest(f)`/`latest(f)`: the value of `f` in the row with the smallest/largest
//!   `@timestamp` among rows where `f` is present (ties: the first/last row in input order).

use std::collections::{HashMap, HashSet};

use crate::value::Value;

/// The aggregation function names.
pub(crate) const NAMES: &[&str] = &[
    "count",
    "count_distinct",
    "sum",
    "avg",
    "min",
    "max",
    "pct",
    "percentile",
    "median",
    "stddev",
    "earliest",
    "latest",
];

/// Whether `name` is an aggregation function.
pub(crate) fn is_aggregate(name: &str) -> bool {
    NAMES.contains(&name)
}

/// Which aggregation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    CountStar,
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    Pct(f64),
    Stddev,
    Earliest,
    Latest,
}

const EXACT_LIMIT: usize = 10_000;
const ALPHA: f64 = 0.005;

/// A logarithmic quantile sketch: relative error at most `ALPHA`.
#[derive(Debug, Clone, Default)]
struct Sketch {
    positive: HashMap<i32, u64>,
    negative: HashMap<i32, u64>,
    zeros: u64,
    count: u64,
}

impl Sketch {
    fn gamma() -> f64 {
        (1.0 + ALPHA) / (1.0 - ALPHA)
    }

    fn add(&mut self, x: f64) {
        self.count += 1;
        if x == 0.0 {
            self.zeros += 1;
            return;
        }
        let key = (x.abs().ln() / Self::gamma().ln()).ceil() as i32;
        let map = if x > 0.0 {
            &mut self.positive
        } else {
            &mut self.negative
        };
        *map.entry(key).or_default() += 1;
    }

    fn merge(&mut self, other: &Sketch) {
        for (k, c) in &other.positive {
            *self.positive.entry(*k).or_default() += c;
        }
        for (k, c) in &other.negative {
            *self.negative.entry(*k).or_default() += c;
        }
        self.zeros += other.zeros;
        self.count += other.count;
    }

    fn value(key: i32) -> f64 {
        let g = Self::gamma();
        2.0 * g.powi(key) / (g + 1.0)
    }

    fn quantile(&self, rank: u64) -> f64 {
        let mut seen = 0;
        let mut neg: Vec<_> = self.negative.iter().collect();
        neg.sort_by(|a, b| b.0.cmp(a.0));
        for (k, c) in neg {
            seen += c;
            if seen >= rank {
                return -Self::value(*k);
            }
        }
        seen += self.zeros;
        if seen >= rank {
            return 0.0;
        }
        let mut pos: Vec<_> = self.positive.iter().collect();
        pos.sort_by_key(|(k, _)| **k);
        for (k, c) in pos {
            seen += c;
            if seen >= rank {
                return Self::value(*k);
            }
        }
        0.0
    }
}

/// Values for a percentile: exact up to a bound, then a sketch.
#[derive(Debug, Clone, Default)]
pub(crate) struct Quantiles {
    exact: Vec<f64>,
    sketch: Option<Sketch>,
}

impl Quantiles {
    fn add(&mut self, x: f64) {
        match &mut self.sketch {
            Some(s) => s.add(x),
            None => {
                self.exact.push(x);
                if self.exact.len() > EXACT_LIMIT {
                    let mut s = Sketch::default();
                    self.exact.drain(..).for_each(|x| s.add(x));
                    self.sketch = Some(s);
                }
            }
        }
    }

    fn merge(&mut self, other: Quantiles) {
        match other.sketch {
            Some(s) => {
                let mut mine = self.sketch.take().unwrap_or_default();
                self.exact.drain(..).for_each(|x| mine.add(x));
                mine.merge(&s);
                self.sketch = Some(mine);
            }
            None => other.exact.into_iter().for_each(|x| self.add(x)),
        }
    }

    /// The `p`-th percentile (nearest rank).
    pub(crate) fn percentile(&mut self, p: f64) -> Option<f64> {
        let n = self
            .sketch
            .as_ref()
            .map_or(self.exact.len() as u64, |s| s.count);
        if n == 0 {
            return None;
        }
        let rank = ((p / 100.0) * n as f64).ceil().clamp(1.0, n as f64) as u64;
        match &self.sketch {
            Some(s) => Some(s.quantile(rank)),
            None => {
                let i = rank as usize - 1;
                let (_, v, _) = self.exact.select_nth_unstable_by(i, f64::total_cmp);
                Some(*v)
            }
        }
    }
}

/// The running state of one aggregation in one group.
#[derive(Debug, Clone)]
pub(crate) enum State {
    Count(u64),
    Distinct(HashSet<Value>),
    Sum {
        sum: f64,
        n: u64,
    },
    Min(Value),
    Max(Value),
    Pct(Quantiles, f64),
    Stddev {
        n: u64,
        mean: f64,
        m2: f64,
    },
    Pick {
        at: Option<(i64, u64)>,
        value: Value,
        latest: bool,
    },
}

impl State {
    pub(crate) fn new(kind: Kind) -> State {
        match kind {
            Kind::CountStar | Kind::Count => State::Count(0),
            Kind::CountDistinct => State::Distinct(HashSet::new()),
            Kind::Sum | Kind::Avg => State::Sum { sum: 0.0, n: 0 },
            Kind::Min => State::Min(Value::Null),
            Kind::Max => State::Max(Value::Null),
            Kind::Pct(p) => State::Pct(Quantiles::default(), p),
            Kind::Stddev => State::Stddev {
                n: 0,
                mean: 0.0,
                m2: 0.0,
            },
            Kind::Earliest | Kind::Latest => State::Pick {
                at: None,
                value: Value::Null,
                latest: kind == Kind::Latest,
            },
        }
    }

    /// Adds a row's value (`time`: its `@timestamp`, `seq`: its input position).
    pub(crate) fn add(&mut self, kind: Kind, v: &Value, time: i64, seq: u64) {
        if kind == Kind::CountStar {
            if let State::Count(n) = self {
                *n += 1;
            }
            return;
        }
        if v.is_null() {
            return;
        }
        match self {
            State::Count(n) => *n += 1,
            State::Distinct(set) => {
                if !set.contains(v) {
                    set.insert(v.clone());
                }
            }
            State::Sum { sum, n } => {
                if let Some(x) = v.as_num() {
                    *sum += x;
                    *n += 1;
                }
            }
            State::Min(best) | State::Max(best) => {
                let v = v.as_num().map_or_else(|| v.clone(), Value::Num);
                let want_less = kind == Kind::Min;
                if best.is_null()
                    || (v.sort_cmp(best).is_lt() == want_less && v.sort_cmp(best).is_ne())
                {
                    *best = v;
                }
            }
            State::Pct(q, _) => {
                if let Some(x) = v.as_num() {
                    q.add(x);
                }
            }
            State::Stddev { n, mean, m2 } => {
                if let Some(x) = v.as_num() {
                    *n += 1;
                    let d = x - *mean;
                    *mean += d / *n as f64;
                    *m2 += d * (x - *mean);
                }
            }
            State::Pick { at, value, latest } => {
                let key = (time, seq);
                let better = match at {
                    None => true,
                    Some(old) => (key > *old) == *latest && key != *old,
                };
                if better {
                    *at = Some(key);
                    *value = v.clone();
                }
            }
        }
    }

    /// Merges another worker's state of the same aggregation.
    pub(crate) fn merge(&mut self, kind: Kind, other: State) {
        match (self, other) {
            (State::Count(a), State::Count(b)) => *a += b,
            (State::Distinct(a), State::Distinct(b)) => a.extend(b),
            (State::Sum { sum, n }, State::Sum { sum: s2, n: n2 }) => {
                *sum += s2;
                *n += n2;
            }
            (me @ (State::Min(_) | State::Max(_)), State::Min(v) | State::Max(v)) => {
                me.add(kind, &v, 0, 0)
            }
            (State::Pct(a, _), State::Pct(b, _)) => a.merge(b),
            (
                State::Stddev { n, mean, m2 },
                State::Stddev {
                    n: n2,
                    mean: mean2,
                    m2: m22,
                },
            ) => {
                if n2 == 0 {
                    return;
                }
                let total = *n + n2;
                let d = mean2 - *mean;
                *m2 += m22 + d * d * (*n as f64) * (n2 as f64) / total as f64;
                *mean += d * n2 as f64 / total as f64;
                *n = total;
            }
            (
                me @ State::Pick { .. },
                State::Pick {
                    at: Some((t, s)),
                    value,
                    ..
                },
            ) => me.add(kind, &value, t, s),
            _ => {}
        }
    }

    /// The aggregation's result.
    pub(crate) fn finish(&mut self, kind: Kind) -> Value {
        match self {
            State::Count(n) => Value::Num(*n as f64),
            State::Distinct(set) => Value::Num(set.len() as f64),
            State::Sum { sum, n } => match kind {
                Kind::Avg if *n == 0 => Value::Null,
                Kind::Avg => Value::Num(*sum / *n as f64),
                _ if *n == 0 => Value::Null,
                _ => Value::Num(*sum),
            },
            State::Min(v) | State::Max(v) => v.clone(),
            State::Pct(q, p) => q.percentile(*p).map_or(Value::Null, Value::Num),
            State::Stddev { n, m2, .. } => match *n {
                0 => Value::Null,
                1 => Value::Num(0.0),
                n => Value::Num((*m2 / (n - 1) as f64).sqrt()),
            },
            State::Pick { value, .. } => value.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: Kind, values: &[Value]) -> Value {
        let mut s = State::new(kind);
        for (i, v) in values.iter().enumerate() {
            s.add(kind, v, i as i64, i as u64);
        }
        s.finish(kind)
    }

    fn nums(xs: &[f64]) -> Vec<Value> {
        xs.iter().map(|x| Value::Num(*x)).collect()
    }

    #[test]
    fn each_aggregation() {
        let v = {
            let mut v = nums(&[4.0, 1.0, 3.0, 2.0, 4.0]);
            v.push(Value::Null);
            v
        };
        assert_eq!(run(Kind::CountStar, &v), Value::Num(6.0));
        assert_eq!(run(Kind::Count, &v), Value::Num(5.0));
        assert_eq!(run(Kind::CountDistinct, &v), Value::Num(4.0));
        assert_eq!(run(Kind::Sum, &v), Value::Num(14.0));
        assert_eq!(run(Kind::Avg, &v), Value::Num(2.8));
        assert_eq!(run(Kind::Min, &v), Value::Num(1.0));
        assert_eq!(run(Kind::Max, &v), Value::Num(4.0));
        assert_eq!(run(Kind::Pct(50.0), &v), Value::Num(3.0));
        assert_eq!(run(Kind::Pct(100.0), &v), Value::Num(4.0));
        assert_eq!(run(Kind::Pct(0.0), &v), Value::Num(1.0));
        let Value::Num(sd) = run(Kind::Stddev, &v) else {
            panic!()
        };
        assert!((sd - 1.3038404810405297).abs() < 1e-12, "{sd}");
        assert_eq!(run(Kind::Earliest, &v), Value::Num(4.0));
        assert_eq!(run(Kind::Latest, &v), Value::Num(4.0));
        assert_eq!(run(Kind::Latest, &nums(&[1.0, 2.0])), Value::Num(2.0));
        assert_eq!(run(Kind::Avg, &[]), Value::Null);
        assert_eq!(
            run(Kind::Min, &[Value::Str("b".into()), Value::Str("a".into())]),
            Value::Str("a".into())
        );
    }

    #[test]
    fn merging_equals_one_pass() {
        let all: Vec<f64> = (0..1000).map(|i| ((i * 7919) % 1013) as f64).collect();
        for kind in [
            Kind::Sum,
            Kind::Avg,
            Kind::Min,
            Kind::Max,
            Kind::Pct(95.0),
            Kind::Stddev,
            Kind::Earliest,
            Kind::Latest,
            Kind::CountDistinct,
        ] {
            let whole = run(kind, &nums(&all));
            let (mut a, mut b) = (State::new(kind), State::new(kind));
            for (i, x) in all.iter().enumerate() {
                let s = if i % 3 == 0 { &mut a } else { &mut b };
                s.add(kind, &Value::Num(*x), i as i64, i as u64);
            }
            a.merge(kind, b);
            let merged = a.finish(kind);
            match (&whole, &merged) {
                (Value::Num(x), Value::Num(y)) => assert!(
                    (x - y).abs() < 1e-9 * x.abs().max(1.0),
                    "{kind:?}: {x} vs {y}"
                ),
                _ => assert_eq!(whole, merged, "{kind:?}"),
            }
        }
    }

    #[test]
    fn the_sketch_stays_within_its_error_bound() {
        let mut q = Quantiles::default();
        let values: Vec<f64> = (1..=100_000).map(|i| i as f64 * 0.37).collect();
        for x in &values {
            q.add(*x);
        }
        assert!(q.sketch.is_some());
        for p in [50.0, 95.0, 99.0] {
            let exact = values[((p / 100.0) * values.len() as f64).ceil() as usize - 1];
            let approx = q.percentile(p).unwrap();
            assert!(
                (approx - exact).abs() / exact <= ALPHA + 1e-9,
                "p{p}: {approx} vs {exact}"
            );
        }
    }
}
