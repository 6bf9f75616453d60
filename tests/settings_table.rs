//! The configuration table in the README and in the crate docs is rendered from the settings'
//! declarations (`instrument_core::config::table`); these tests fail when they disagree, and
//! no variable the library reads is left out of the table or named anywhere else.
//!
//! To regenerate the README block and the docs' tables after changing a declaration:
//!
//! ```sh
//! INSTRUMENT_BLESS=1 cargo test --test settings_table
//! ```

use std::path::{Path, PathBuf};

use instrument::instrument_core::config::{docs, table::TABLE};

const START: &str = "<!-- settings-table:start -->";
const END: &str = "<!-- settings-table:end -->";
const REGENERATE: &str = "INSTRUMENT_BLESS=1 cargo test --test settings_table";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compares `path` with `expected`, or rewrites it when blessing.
fn check_file(path: &Path, expected: &str) {
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    if actual == expected {
        return;
    }
    if std::env::var_os("INSTRUMENT_BLESS").is_some() {
        std::fs::write(path, expected).expect("rewrite the generated table");
        return;
    }
    panic!(
        "{} differs from the settings' declarations (instrument-core/src/config/table.rs); \
         regenerate it with `{REGENERATE}`",
        path.display()
    );
}

#[test]
fn readme_table_is_the_declarations() {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let start = readme
        .find(START)
        .expect("README.md has the settings-table start marker");
    let end = readme
        .find(END)
        .expect("README.md has the settings-table end marker");
    assert!(start < end, "the markers are in order");
    let expected = format!(
        "{}{START}\n{}{}",
        &readme[..start],
        docs::markdown(),
        &readme[end..]
    );
    check_file(&path, &expected);
}

#[test]
fn crate_docs_tables_are_the_declarations() {
    let table = docs::markdown();
    check_file(&root().join("src/settings.md"), &table);
    check_file(
        &root().join("instrument-core/src/config/settings.md"),
        &table,
    );
}

/// Every `"INSTRUMENT_…"`, `"POWERTOOLS_…"` and `"AWS_…"` string literal in the library's
/// non-test sources, with the file it is in.
fn variable_literals() -> Vec<(String, PathBuf)> {
    fn walk(dir: &Path, found: &mut Vec<(String, PathBuf)>) {
        for entry in std::fs::read_dir(dir).expect("source folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs")
                && path.file_name().is_some_and(|n| n != "tests.rs")
            {
                let text = std::fs::read_to_string(&path).expect("source file");
                // Unit tests sit at the end of a file, after `#[cfg(test)]`.
                let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
                for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                    for (i, _) in line.match_indices('"') {
                        let rest = &line[i + 1..];
                        let name: String = rest
                            .chars()
                            .take_while(|c| {
                                c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_'
                            })
                            .collect();
                        let is_variable = ["INSTRUMENT_", "POWERTOOLS_", "AWS_"]
                            .iter()
                            .any(|p| name.starts_with(p));
                        if is_variable && rest[name.len()..].starts_with('"') {
                            found.push((name, path.clone()));
                        }
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    for dir in [
        "src",
        "instrument-core/src",
        "instrument-emf/src",
        "instrument-macros/src",
    ] {
        walk(&root().join(dir), &mut found);
    }
    found
}

#[test]
fn every_variable_is_declared_once_and_named_only_in_the_table() {
    let declared: Vec<&str> = TABLE.iter().flat_map(|s| s.variables()).collect();
    for (i, name) in declared.iter().enumerate() {
        assert!(
            !declared[..i].contains(name),
            "{name} is declared by two settings"
        );
    }
    let table_file = root().join("instrument-core/src/config/table.rs");
    let literals = variable_literals();
    for (name, file) in &literals {
        assert!(
            declared.contains(&name.as_str()),
            "{} reads {name}, which no setting declares",
            file.display()
        );
        assert_eq!(
            file,
            &table_file,
            "{name} is named in {}: read it through its setting in the table",
            file.display()
        );
    }
    for name in declared.iter().filter(|n| n.contains('_')) {
        let count = literals.iter().filter(|(n, _)| n == name).count();
        let shared_prefix = ["INSTRUMENT_", "POWERTOOLS_", "AWS_"]
            .iter()
            .any(|p| name.starts_with(p));
        if shared_prefix {
            assert_eq!(count, 1, "{name} is named {count} times in the table");
        }
    }
}

#[test]
fn every_setting_has_its_words() {
    for setting in TABLE {
        assert!(!setting.variables().is_empty(), "{}", setting.name());
        assert!(!setting.doc().is_empty(), "{}", setting.name());
        assert!(!setting.default_text().is_empty(), "{}", setting.name());
        assert_ne!(
            setting.default_agrees(),
            Some(false),
            "{}: the default in words is not the default value",
            setting.name()
        );
    }
}
