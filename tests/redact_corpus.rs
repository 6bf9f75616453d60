//! The labelled PII corpus (`tests/data/pii/`, see its README): per-class recall must be 100 %,
//! false positives 0 %. Prints the per-class table. `corpus.jsonl` is the original corpus,
//! `precision.jsonl` the cases of code, configuration, odd layouts and vendor secrets.

use std::collections::BTreeMap;
use std::io::Write;

use instrument::redact::Redactor;
use serde_json::Value;

const CORPUS: &str = concat!(
    include_str!("data/pii/corpus.jsonl"),
    include_str!("data/pii/precision.jsonl")
);

#[derive(Default)]
struct Class {
    /// PII values of this class in the corpus, and how many were removed.
    values: usize,
    caught: usize,
    /// Negative lines altered by a marker of this rule, and lines where this class's redaction
    /// took words around the value with it.
    false_positives: usize,
    collateral: usize,
}

/// The words of `text` (runs of letters and digits).
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

#[test]
fn corpus_recall_and_false_positives() {
    let redactor = Redactor::default();
    let mut classes: BTreeMap<String, Class> = BTreeMap::new();
    let mut negatives = 0usize;
    let mut failures = Vec::new();

    for (n, line) in CORPUS
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let entry: Value = serde_json::from_str(line).expect("corpus line is JSON");
        let text = entry["text"].as_str().expect("text");
        let pii = entry["pii"].as_array().expect("pii");
        let out = redactor.redact(text);

        if pii.is_empty() {
            negatives += 1;
            if out != text {
                // Attribute the false positive to the rule whose marker appeared.
                let rule = out
                    .split("[REDACTED:")
                    .nth(1)
                    .and_then(|s| s.split(']').next())
                    .unwrap_or("?")
                    .to_string();
                classes.entry(rule).or_default().false_positives += 1;
                failures.push(format!(
                    "line {}: negative changed: {text:?} -> {out:?}",
                    n + 1
                ));
            }
            continue;
        }

        // The words that are not part of any PII value must survive.
        let mut rest = text.to_string();
        for p in pii {
            rest = rest.replace(p["value"].as_str().expect("value"), " ");
        }
        let lost: Vec<&str> = words(&rest).filter(|w| !out.contains(w)).collect();

        for p in pii {
            let class = p["class"].as_str().expect("class");
            let value = p["value"].as_str().expect("value");
            let c = classes.entry(class.to_string()).or_default();
            c.values += 1;
            if out.contains(value) {
                failures.push(format!(
                    "line {}: {class} {value:?} survived in {out:?}",
                    n + 1
                ));
            } else {
                c.caught += 1;
            }
            if !lost.is_empty() {
                c.collateral += 1;
            }
        }
        if !lost.is_empty() {
            failures.push(format!(
                "line {}: words {lost:?} lost: {text:?} -> {out:?}",
                n + 1
            ));
        }
    }

    let mut table = String::new();
    table.push_str(&format!(
        "\nPII corpus: {} lines, {} negatives\n{:<24} {:>6} {:>6} {:>8} {:>9} {:>10}\n",
        CORPUS.lines().count(),
        negatives,
        "class",
        "values",
        "caught",
        "recall",
        "FP rate",
        "collateral"
    ));
    for (name, c) in &classes {
        let recall = if c.values == 0 {
            "-".to_string()
        } else {
            format!("{:.1}%", 100.0 * c.caught as f64 / c.values as f64)
        };
        table.push_str(&format!(
            "{:<24} {:>6} {:>6} {:>8} {:>8.1}% {:>10}\n",
            name,
            c.values,
            c.caught,
            recall,
            100.0 * c.false_positives as f64 / negatives.max(1) as f64,
            c.collateral
        ));
    }
    // Straight to stdout, past the test harness's capture, so CI logs show the table.
    let _ = std::io::stdout().write_all(table.as_bytes());

    assert!(
        classes.len() >= 13,
        "every corpus class is present: {table}"
    );
    assert!(
        failures.is_empty(),
        "{} corpus failures:\n{}\n{table}",
        failures.len(),
        failures.join("\n")
    );
}
