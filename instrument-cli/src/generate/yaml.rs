//! JSON values written as YAML (block style; strings double-quoted, which YAML reads exactly as
//! JSON escapes them), for CloudFormation templates. No YAML library needed for writing.

use std::fmt::Write as _;

use serde_json::Value;

/// `value` as a YAML document.
///
/// ```
/// let v = serde_json::json!({"Resources": {"A": {"Type": "AWS::X", "List": [1, "two", {"k": true}], "Empty": []}}});
/// let yaml = instrument_cli::generate::to_yaml(&v);
/// assert_eq!(yaml, "Resources:\n  A:\n    Empty: []\n    List:\n      - 1\n      - \"two\"\n      - k: true\n    Type: \"AWS::X\"\n");
/// ```
#[must_use]
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(_) | Value::Array(_) => block(value, 0, &mut out),
        scalar => {
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
    out
}

fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Array(a) if a.is_empty() => "[]".to_owned(),
        Value::Object(o) if o.is_empty() => "{}".to_owned(),
        _ => unreachable!("collections are written as blocks"),
    }
}

fn is_block(value: &Value) -> bool {
    match value {
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => false,
    }
}

fn key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '-')
        && k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && !k.ends_with(':');
    if plain {
        k.to_owned()
    } else {
        Value::String(k.to_owned()).to_string()
    }
}

fn block(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if is_block(v) {
                    let _ = writeln!(out, "{pad}{}:", key(k));
                    block(v, indent + 2, out);
                } else {
                    let _ = writeln!(out, "{pad}{}: {}", key(k), inline(v));
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(map) if !map.is_empty() => {
                        // The first key on the dash's line, the rest aligned under it.
                        let mut nested = String::new();
                        block(item, indent + 2, &mut nested);
                        let _ = write!(out, "{pad}- {}", &nested[indent + 2..]);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        let _ = writeln!(out, "{pad}-");
                        block(item, indent + 2, out);
                    }
                    scalar => {
                        let _ = writeln!(out, "{pad}- {}", inline(scalar));
                    }
                }
            }
        }
        scalar => {
            let _ = writeln!(out, "{pad}{}", inline(scalar));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_lists_and_maps_and_awkward_strings() {
        let v = json!({
            "a b": ["x: y", [1, 2], {"k": {"n": null}, "m": "line\nbreak"}],
            "Fn::If": ["C", "#not a comment", "'quoted'"],
        });
        assert_eq!(
            to_yaml(&v),
            "Fn::If:\n  - \"C\"\n  - \"#not a comment\"\n  - \"'quoted'\"\n\"a b\":\n  - \"x: y\"\n  -\n    - 1\n    - 2\n  - k:\n      n: null\n    m: \"line\\nbreak\"\n"
        );
    }
}
