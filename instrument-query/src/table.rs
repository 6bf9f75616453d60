//! A query result.

use crate::value::Value;

/// The result of a query: column names and rows of values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// Column names, as CloudWatch shows them (`count(*)`, or the `as` name).
    pub columns: Vec<String>,
    /// The rows; each has one value per column.
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    /// The value of column `name` in row `row`, if both exist.
    ///
    /// ```
    /// use instrument_query::{Table, Value};
    /// let t = Table { columns: vec!["n".into()], rows: vec![vec![Value::Num(1.0)]] };
    /// assert_eq!(t.get(0, "n"), Some(&Value::Num(1.0)));
    /// assert_eq!(t.get(0, "m"), None);
    /// ```
    pub fn get(&self, row: usize, name: &str) -> Option<&Value> {
        let col = self.columns.iter().position(|c| c == name)?;
        self.rows.get(row)?.get(col)
    }

    /// The values of column `name`, one per row.
    ///
    /// ```
    /// use instrument_query::{Table, Value};
    /// let t = Table { columns: vec!["n".into()], rows: vec![vec![Value::Num(1.0)], vec![Value::Null]] };
    /// assert_eq!(t.column("n"), vec![Value::Num(1.0), Value::Null]);
    /// ```
    pub fn column(&self, name: &str) -> Vec<Value> {
        let Some(col) = self.columns.iter().position(|c| c == name) else {
            return Vec::new();
        };
        self.rows.iter().map(|r| r[col].clone()).collect()
    }
}
