//! The runtime of `stats`: groups keyed by the `by` values, each with one state per
//! aggregation. A row's key is hashed from borrowed values; it is copied only when it starts a
//! new group, so a row of an existing group allocates nothing here.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::Arc;

use smallvec::SmallVec;

use crate::aggregate::State;
use crate::engine::Row;
use crate::plan::StatsPlan;
use crate::value::Value;

/// The state of one `stats` group.
#[derive(Debug, Clone)]
struct Group {
    key: Vec<Value>,
    /// First appearance: the row's input position, then (rows of one line, from `unnest`) the
    /// order the group was created in.
    first: (u64, usize),
    states: Vec<State>,
}

/// A fast, non-cryptographic hasher for group keys (the multiply-rotate scheme of rustc's
/// FxHasher); keys come from the user's own logs, not from an adversary.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().unwrap_or_default()));
        }
        for b in chunks.remainder() {
            self.add(u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl KeyHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

fn hash_key<'a>(key: impl IntoIterator<Item = &'a Value>) -> u64 {
    let mut h = KeyHasher::default();
    for v in key {
        v.hash(&mut h);
    }
    h.finish()
}

/// Aggregation state for one `stats` command.
#[derive(Debug, Clone)]
pub(crate) struct Aggregator {
    plan: Arc<StatsPlan>,
    /// Key hash → indexes into `groups`.
    index: HashMap<u64, SmallVec<[usize; 1]>, BuildHasherDefault<KeyHasher>>,
    groups: Vec<Group>,
}

impl Aggregator {
    pub(crate) fn new(plan: Arc<StatsPlan>) -> Aggregator {
        Aggregator {
            plan,
            index: HashMap::default(),
            groups: Vec::new(),
        }
    }

    /// The group of `key` (hash `hash`), created from `make` when new.
    fn group(
        &mut self,
        hash: u64,
        key: &[&Value],
        make: impl FnOnce(usize) -> Group,
    ) -> &mut Group {
        let candidates = self.index.entry(hash).or_default();
        let found = candidates
            .iter()
            .copied()
            .find(|&i| self.groups[i].key.iter().eq(key.iter().copied()));
        let i = match found {
            Some(i) => i,
            None => {
                let i = self.groups.len();
                self.groups.push(make(i));
                candidates.push(i);
                i
            }
        };
        &mut self.groups[i]
    }

    pub(crate) fn add(&mut self, row: &[Value], seq: u64) {
        let plan = Arc::clone(&self.plan);
        let values: SmallVec<[Cow<'_, Value>; 4]> =
            plan.by.iter().map(|(_, e)| e.eval(row)).collect();
        let key: SmallVec<[&Value; 4]> = values.iter().map(AsRef::as_ref).collect();
        let hash = hash_key(key.iter().copied());
        let group = self.group(hash, &key, |order| Group {
            key: key.iter().map(|v| (*v).clone()).collect(),
            first: (seq, order),
            states: plan
                .aggregates
                .iter()
                .map(|(k, _)| State::new(*k))
                .collect(),
        });
        let time = match plan.timestamp.map(|t| &row[t]) {
            Some(Value::Time(t)) => *t,
            _ => 0,
        };
        for ((kind, e), state) in plan.aggregates.iter().zip(&mut group.states) {
            state.add(*kind, &e.eval(row), time, seq);
        }
    }

    pub(crate) fn merge(&mut self, other: Aggregator) {
        let plan = Arc::clone(&self.plan);
        for theirs in other.groups {
            let hash = hash_key(&theirs.key);
            let key: Vec<&Value> = theirs.key.iter().collect();
            let mut incoming = Some(theirs.clone());
            let mine = self.group(hash, &key, |_| incoming.take().expect("made once"));
            if incoming.is_some() {
                mine.first = mine.first.min(theirs.first);
                for (((kind, _), a), b) in plan
                    .aggregates
                    .iter()
                    .zip(&mut mine.states)
                    .zip(theirs.states)
                {
                    a.merge(*kind, b);
                }
            }
        }
    }

    /// The result rows, in order of first appearance.
    pub(crate) fn finish(self, width: usize) -> Vec<Row> {
        let mut groups = self.groups;
        groups.sort_by_key(|g| g.first);
        groups
            .into_iter()
            .enumerate()
            .map(|(index, mut group)| {
                let mut values = vec![Value::Null; width];
                for ((slot, _), v) in self.plan.by.iter().zip(group.key) {
                    values[*slot] = v;
                }
                for (((kind, _), state), slot) in self
                    .plan
                    .aggregates
                    .iter()
                    .zip(&mut group.states)
                    .zip(&self.plan.aggregate_slots)
                {
                    values[*slot] = state.finish(*kind);
                }
                for (slot, e) in &self.plan.outputs {
                    values[*slot] = e.eval(&values).into_owned();
                }
                Row {
                    seq: index as u64,
                    values,
                }
            })
            .collect()
    }
}
