//! Property test over the labelled corpus (`tests/data/pii/`): lines with and without PII,
//! concatenated in random order with random separators (none among them), are redacted
//! idempotently and lose every planted value, under every method. Values next to each other are
//! the case of issue 20: a match must free its neighbour in one pass.

use std::sync::OnceLock;

use instrument::redact::{Method, RedactConfig, Redactor};
use proptest::prelude::*;
use serde_json::Value;

const CORPUS: &str = concat!(
    include_str!("data/pii/corpus.jsonl"),
    include_str!("data/pii/precision.jsonl")
);

/// A corpus line: its text and the values that must not survive.
struct Entry {
    text: String,
    values: Vec<String>,
}

fn corpus() -> &'static [Entry] {
    static ENTRIES: OnceLock<Vec<Entry>> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        CORPUS
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let entry: Value = serde_json::from_str(line).expect("corpus line is JSON");
                Entry {
                    text: entry["text"].as_str().expect("text").to_string(),
                    values: entry["pii"]
                        .as_array()
                        .expect("pii")
                        .iter()
                        .map(|p| p["value"].as_str().expect("value").to_string())
                        .collect(),
                }
            })
            .collect()
    })
}

/// Every value rule replaced (the default), masked, and hashed; key rules too.
fn redactors() -> &'static [(&'static str, Redactor)] {
    static REDACTORS: OnceLock<Vec<(&'static str, Redactor)>> = OnceLock::new();
    REDACTORS.get_or_init(|| {
        let mut masked = RedactConfig::default();
        let mut hashed = RedactConfig::default().hash_key("concat");
        let plain = Redactor::default();
        for (rule, _) in plain.rules() {
            masked = masked.method(rule, Method::mask(4));
            hashed = hashed.method(rule, Method::Hash);
        }
        for (rule, _) in plain.key_rules() {
            masked = masked.key_method(rule, Method::mask(3));
            hashed = hashed.key_method(rule, Method::Hash);
        }
        vec![
            ("replace", plain),
            ("mask", Redactor::new(&masked).expect("valid config")),
            ("hash", Redactor::new(&hashed).expect("valid config")),
        ]
    })
}

const SEPARATORS: [&str; 12] = [
    "", "", "", " ", ", ", "; ", "\t", "\n", " | ", "\"", "'", "&",
];

/// The pieces joined. A piece whose meaning is its lines (a table, a YAML block, a key) stands
/// on lines of its own, and so does one that opens with a bracket: after a bare value it would
/// read as a wrapper (`password=Secret { … }`, `Some(…)`). Without a separator, two pieces can
/// glue into a different text (`…6.18.3` then `4111…`: no card; `…password=x` then `abc`: a
/// longer value): where the replacing redactor does not see in the glued pair what it sees in
/// each piece alone, the pieces are joined by a space instead.
fn join(pieces: &[(usize, usize)]) -> String {
    let plain = &redactors()[0].1;
    let mut text = String::new();
    let mut last: Option<&str> = None;
    for &(i, sep) in pieces {
        let piece = &corpus()[i].text;
        let mut sep = SEPARATORS[sep];
        if let Some(prev) = last {
            if prev.contains('\n') || piece.contains('\n') || piece.starts_with(['{', '(']) {
                sep = "\n";
            } else if sep.is_empty() {
                let glued = format!("{prev}{piece}");
                if plain.redact(&glued) != plain.redact(prev).into_owned() + &plain.redact(piece) {
                    sep = " ";
                }
            }
            text.push_str(sep);
        }
        text.push_str(piece);
        last = Some(piece);
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn concatenated_corpus_lines_lose_every_value(
        pieces in prop::collection::vec((0..corpus().len(), 0..SEPARATORS.len()), 1..7),
    ) {
        let text = join(&pieces);
        for (name, r) in redactors() {
            let once = r.redact(&text);
            for &(i, _) in &pieces {
                for value in &corpus()[i].values {
                    prop_assert!(
                        !once.contains(value.as_str()),
                        "{}: {:?} survived in {:?} -> {:?}", name, value, text, once
                    );
                }
            }
            let twice = r.redact(&once);
            prop_assert_eq!(&once, &twice, "{}: not idempotent on {:?}", name, text);
        }
    }
}
