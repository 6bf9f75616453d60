//! Lazy field extraction from a JSON log line: only the fields a query references are
//! materialised; everything else is skipped by the parser without building values.
//!
//! Discovery follows Logs Insights' rules for JSON events: nested objects are flattened with `.`
//! (`error.message`), array elements by index (`spans.0`), and a key that itself contains dots
//! (`counter.orders`) is found by the same dotted name. A field that holds an object or an
//! array is also available whole, as JSON (so `unnest spans into s` works).

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::value::Value;

#[derive(Debug)]
struct Node {
    children: Vec<(String, usize)>,
    slot: Option<usize>,
    /// A slot that gets this field as a time (`@timestamp` from `timestamp`), parsed straight
    /// from the text without copying it.
    time_slot: Option<usize>,
}

/// Extracts a fixed set of dotted paths into slots of a row.
#[derive(Debug)]
pub(crate) struct Extractor {
    nodes: Vec<Node>,
}

impl Extractor {
    /// An extractor filling `slot` with the value at each dotted `path`, and `time.1` with the
    /// value at `time.0` as a time (RFC 3339 text or epoch milliseconds).
    pub(crate) fn new<'a>(
        paths: impl IntoIterator<Item = (&'a str, usize)>,
        time: Option<(&'a str, usize)>,
    ) -> Extractor {
        let mut nodes = vec![Node {
            children: Vec::new(),
            slot: None,
            time_slot: None,
        }];
        let paths = paths.into_iter().map(|(p, s)| (p, s, false));
        for (path, slot, is_time) in paths.chain(time.map(|(p, s)| (p, s, true))) {
            let mut at = 0;
            for segment in path.split('.') {
                at = match nodes[at].children.iter().find(|(s, _)| s == segment) {
                    Some((_, next)) => *next,
                    None => {
                        nodes.push(Node {
                            children: Vec::new(),
                            slot: None,
                            time_slot: None,
                        });
                        let next = nodes.len() - 1;
                        nodes[at].children.push((segment.to_owned(), next));
                        next
                    }
                };
            }
            if is_time {
                nodes[at].time_slot = Some(slot);
            } else {
                nodes[at].slot = Some(slot);
            }
        }
        Extractor { nodes }
    }

    /// Whether any JSON field is wanted at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.nodes[0].children.is_empty()
    }

    fn walk(&self, from: usize, key: &str) -> Option<usize> {
        let child = |at: usize, segment: &str| {
            self.nodes[at]
                .children
                .iter()
                .find(|(s, _)| s == segment)
                .map(|(_, next)| *next)
        };
        // Most keys hold no dot: one lookup, no splitting.
        if memchr::memchr(b'.', key.as_bytes()).is_none() {
            return child(from, key);
        }
        key.split('.').try_fold(from, child)
    }

    /// Fills the wanted slots of `row` from `line`. Returns `false` (and leaves the slots `Null`)
    /// when the line is not a JSON object.
    pub(crate) fn extract(&self, line: &[u8], row: &mut [Value]) -> bool {
        let start = line.iter().position(|b| !b.is_ascii_whitespace());
        if start.map(|i| line[i]) != Some(b'{') {
            return false;
        }
        let mut de = serde_json::Deserializer::from_slice(line);
        let ok = At {
            ex: self,
            node: 0,
            row: &mut *row,
        }
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .is_ok();
        if !ok {
            self.clear(row);
        }
        ok
    }

    fn clear(&self, row: &mut [Value]) {
        for node in &self.nodes {
            for slot in node.slot.into_iter().chain(node.time_slot) {
                row[slot] = Value::Null;
            }
        }
    }

    fn fill_from_json(&self, node: usize, json: &serde_json::Value, row: &mut [Value]) {
        for (segment, child) in &self.nodes[node].children {
            let inner = match json {
                serde_json::Value::Object(map) => map.get(segment.as_str()),
                serde_json::Value::Array(items) => {
                    segment.parse::<usize>().ok().and_then(|i| items.get(i))
                }
                _ => None,
            };
            if let Some(inner) = inner {
                if let Some(slot) = self.nodes[*child].slot {
                    row[slot] = from_json(inner.clone());
                }
                if let Some(slot) = self.nodes[*child].time_slot {
                    row[slot] = time_of(inner);
                }
                self.fill_from_json(*child, inner, row);
            }
        }
    }
}

/// A JSON value as a time: RFC 3339 text or epoch milliseconds.
fn time_of(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::String(s) => parse_time(s),
        serde_json::Value::Number(n) => n.as_f64().map_or(Value::Null, |ms| Value::Time(ms as i64)),
        _ => Value::Null,
    }
}

fn parse_time(s: &str) -> Value {
    crate::time::parse_rfc3339(s).map_or(Value::Null, Value::Time)
}

/// Converts a parsed JSON value into a query value.
pub(crate) fn from_json(json: serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => n.as_f64().map_or(Value::Null, Value::Num),
        serde_json::Value::String(s) => Value::Str(s),
        other => Value::Json(other),
    }
}

/// The value at a node: a wanted field is materialised; a node on the way to wanted fields is
/// walked (as a visitor) without building anything else.
struct At<'a> {
    ex: &'a Extractor,
    node: usize,
    row: &'a mut [Value],
}

impl<'de> DeserializeSeed<'de> for At<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let node = &self.ex.nodes[self.node];
        match (node.slot, node.time_slot, node.children.is_empty()) {
            (None, None, _) => d.deserialize_any(self),
            (Some(slot), None, true) => {
                self.row[slot] = d.deserialize_any(ScalarVisitor)?;
                Ok(())
            }
            (None, Some(slot), true) => {
                self.row[slot] = d.deserialize_any(TimeVisitor)?;
                Ok(())
            }
            (slot, time_slot, _) => {
                let json: serde_json::Value = serde::Deserialize::deserialize(d)?;
                self.ex.fill_from_json(self.node, &json, self.row);
                if let Some(t) = time_slot {
                    self.row[t] = time_of(&json);
                }
                if let Some(slot) = slot {
                    self.row[slot] = from_json(json);
                }
                Ok(())
            }
        }
    }
}

impl<'de> Visitor<'de> for At<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(target) = map.next_key_seed(KeySeed {
            ex: self.ex,
            node: self.node,
        })? {
            match target {
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
                Some(t) => map.next_value_seed(At {
                    ex: self.ex,
                    node: t,
                    row: &mut *self.row,
                })?,
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            let target = self.ex.walk(self.node, &index.to_string());
            let more = match target {
                None => seq.next_element::<IgnoredAny>()?.is_some(),
                Some(t) => seq
                    .next_element_seed(At {
                        ex: self.ex,
                        node: t,
                        row: &mut *self.row,
                    })?
                    .is_some(),
            };
            if !more {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// A key: which node it leads to (`None`: not wanted).
struct KeySeed<'a> {
    ex: &'a Extractor,
    node: usize,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.ex.walk(self.node, key))
    }
}

/// A field read as a time, without copying its text.
struct TimeVisitor;

impl<'de> Visitor<'de> for TimeVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a timestamp")
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(parse_time(s))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Time(n))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Time(n as i64))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Time(n as i64))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value::Null)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Num(n as f64))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Num(n as f64))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Num(n))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(s.to_owned()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        let json: serde_json::Value =
            serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(Value::Json(json))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
        let json: serde_json::Value =
            serde::Deserialize::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Value::Json(json))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(paths: &[&str], line: &str) -> Vec<Value> {
        let ex = Extractor::new(paths.iter().copied().zip(0..), None);
        let mut row = vec![Value::Null; paths.len()];
        ex.extract(line.as_bytes(), &mut row);
        row
    }

    #[test]
    fn dotted_paths_arrays_and_dotted_keys() {
        let line = r#"{"a":1,"error":{"message":"boom","chain":["x","y"]},"spans":["s1","s2"],"counter.orders":3,"skip":{"deep":[1,2,{"z":1}]}}"#;
        let row = run(
            &[
                "a",
                "error.message",
                "error.chain.1",
                "spans.0",
                "counter.orders",
                "spans",
                "missing",
            ],
            line,
        );
        assert_eq!(row[0], Value::Num(1.0));
        assert_eq!(row[1], Value::Str("boom".into()));
        assert_eq!(row[2], Value::Str("y".into()));
        assert_eq!(row[3], Value::Str("s1".into()));
        assert_eq!(row[4], Value::Num(3.0));
        assert_eq!(row[5], Value::Json(serde_json::json!(["s1", "s2"])));
        assert_eq!(row[6], Value::Null);
    }

    #[test]
    fn whole_object_and_its_members() {
        let row = run(
            &["error", "error.type"],
            r#"{"error":{"type":"E","message":"m"}}"#,
        );
        assert_eq!(
            row[0],
            Value::Json(serde_json::json!({"type":"E","message":"m"}))
        );
        assert_eq!(row[1], Value::Str("E".into()));
    }

    #[test]
    fn a_time_slot_parses_without_copying_and_beside_the_value() {
        let ex = Extractor::new([("timestamp", 0)], Some(("timestamp", 1)));
        let mut row = vec![Value::Null; 2];
        ex.extract(br#"{"timestamp":"1970-01-01T00:00:01.000Z"}"#, &mut row);
        assert_eq!(
            row,
            vec![
                Value::Str("1970-01-01T00:00:01.000Z".into()),
                Value::Time(1000)
            ]
        );
        let ex = Extractor::new([], Some(("timestamp", 0)));
        let mut row = vec![Value::Null];
        ex.extract(br#"{"timestamp":2500,"x":1}"#, &mut row);
        assert_eq!(row, vec![Value::Time(2500)]);
        ex.extract(br#"{"timestamp":{"a":[1]},"x":1}"#, &mut row);
        assert_eq!(row, vec![Value::Null]);
    }

    #[test]
    fn non_json_and_broken_lines_yield_nothing() {
        assert_eq!(run(&["a"], "plain text a=1"), vec![Value::Null]);
        assert_eq!(run(&["a"], r#"{"a":1,"#), vec![Value::Null]);
        assert_eq!(run(&["a"], r#"[1]"#), vec![Value::Null]);
        assert_eq!(
            run(&["a"], r#"{"a":true,"b":null}"#),
            vec![Value::Bool(true)]
        );
    }
}
