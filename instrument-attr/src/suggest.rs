//! "Did you mean": the closest option name to a misspelt one.

use crate::options::OPTIONS;

/// The closest option name, for typos.
pub(crate) fn suggest(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    let aliases: [(&str, &str); 9] = [
        ("objectives", "objective"),
        ("slo", "objective"),
        ("target", "objective"),
        ("dimension", "dimensions"),
        ("dims", "dimensions"),
        ("field", "fields"),
        ("metric", "name"),
        ("skipall", "skip_all"),
        ("logs", "log"),
    ];
    if let Some((_, to)) = aliases.iter().find(|(from, _)| *from == name) {
        return Some(to);
    }
    OPTIONS
        .iter()
        .map(|option| (distance(&name, option), *option))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, option)| option)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}
