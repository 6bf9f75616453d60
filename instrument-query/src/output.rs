//! Writing a [`Table`]: an aligned text table, JSON lines, or CSV (RFC 4180).

use std::io::{self, Write};

use crate::table::Table;

/// An output format.
///
/// ```
/// use instrument_query::{output::{write, Format}, Table};
/// let mut out = Vec::new();
/// write(&Table { columns: vec!["n".into()], rows: vec![] }, Format::Json, &mut out).unwrap();
/// assert!(out.is_empty()); // JSON lines: one per row, none here
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Columns aligned with spaces, a header and a rule (the default on a terminal).
    Table,
    /// One JSON object per row, keys in column order; absent values are left out.
    Json,
    /// CSV with a header row; fields quoted when needed.
    Csv,
}

/// Writes `table` to `out` in `format`.
///
/// ```
/// use instrument_query::{output::{write, Format}, Table, Value};
/// let t = Table { columns: vec!["function".into(), "n".into()], rows: vec![vec![Value::Str("pay".into()), Value::Num(2.0)]] };
/// let mut out = Vec::new();
/// write(&t, Format::Csv, &mut out).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), "function,n\npay,2\n");
/// ```
pub fn write(table: &Table, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Table => write_table(table, out),
        Format::Json => {
            for row in &table.rows {
                let mut map = serde_json::Map::new();
                for (c, v) in table.columns.iter().zip(row) {
                    if !v.is_null() {
                        map.insert(c.clone(), v.to_json());
                    }
                }
                serde_json::to_writer(&mut *out, &serde_json::Value::Object(map))?;
                out.write_all(b"\n")?;
            }
            Ok(())
        }
        Format::Csv => {
            let line = |cells: Vec<String>| {
                cells
                    .into_iter()
                    .map(|c| {
                        if c.contains([',', '"', '\n', '\r']) {
                            format!("\"{}\"", c.replace('"', "\"\""))
                        } else {
                            c
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            };
            writeln!(out, "{}", line(table.columns.clone()))?;
            for row in &table.rows {
                writeln!(
                    out,
                    "{}",
                    line(row.iter().map(ToString::to_string).collect())
                )?;
            }
            Ok(())
        }
    }
}

fn write_table(table: &Table, out: &mut dyn Write) -> io::Result<()> {
    let cells: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| v.to_string().replace('\n', "\\n"))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = table.columns.iter().map(|c| c.chars().count()).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let numeric: Vec<bool> = (0..table.columns.len())
        .map(|i| {
            table
                .rows
                .iter()
                .all(|r| matches!(r[i], crate::Value::Num(_) | crate::Value::Null))
                && !table.rows.is_empty()
        })
        .collect();
    let render = |row: &[String]| {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = w - cell.chars().count();
            if numeric[i] {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if i + 1 < row.len() {
                    line.push_str(&" ".repeat(pad));
                }
            }
        }
        line.trim_end().to_owned()
    };
    writeln!(out, "{}", render(&table.columns))?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    writeln!(out, "{}", rule.join("  "))?;
    for row in &cells {
        writeln!(out, "{}", render(row))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;

    fn table() -> Table {
        Table {
            columns: vec!["route".into(), "n".into()],
            rows: vec![
                vec![Value::Str("/bookings".into()), Value::Num(12.0)],
                vec![Value::Str("a,\"b\"".into()), Value::Null],
            ],
        }
    }

    fn render(format: Format) -> String {
        let mut out = Vec::new();
        write(&table(), format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn aligned_table() {
        assert_eq!(
            render(Format::Table),
            "route       n\n---------  --\n/bookings  12\na,\"b\"\n"
        );
    }

    #[test]
    fn json_lines_parse_back() {
        let out = render(Format::Json);
        let rows: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows[0], serde_json::json!({"route": "/bookings", "n": 12}));
        assert_eq!(rows[1], serde_json::json!({"route": "a,\"b\""}));
    }

    #[test]
    fn csv_quotes() {
        assert_eq!(
            render(Format::Csv),
            "route,n\n/bookings,12\n\"a,\"\"b\"\"\",\n"
        );
    }
}
