//! The parsed form of a Logs Insights query.
//!
//! ```
//! use instrument_query::ast::{Command, Expr};
//! let q = instrument_query::parse("filter level = 'ERROR' | limit 5").unwrap();
//! assert!(matches!(&q.commands[0], Command::Filter(Expr::Binary(..))));
//! assert_eq!(q.commands[1], Command::Limit(5));
//! ```

/// A parsed query: its commands in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The commands, in pipeline order.
    pub commands: Vec<Command>,
}

/// An expression with the name its result column gets (`expr as name`, else the text as written).
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    /// The expression.
    pub expr: Expr,
    /// The output column name.
    pub name: String,
}

/// One sort key.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    /// What to sort by.
    pub expr: Expr,
    /// Descending (`desc`) or ascending (`asc`, the default: CloudWatch's documentation names no
    /// default, this engine follows SQL).
    pub descending: bool,
}

/// The pattern of a `parse` command.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsePattern {
    /// A glob with `*` wildcards; each `*` is captured into the next of `names`.
    Glob {
        /// The literal pieces between the `*`s (one more than the wildcards).
        pieces: Vec<String>,
        /// The fields the wildcards fill (`as a, b, c`).
        names: Vec<String>,
    },
    /// A regular expression; its named groups `(?<name>...)` become fields.
    Regex(String),
}

/// A query command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `fields a, b + 1 as c`: computes fields (and selects the displayed ones unless `display` follows).
    Fields(Vec<Named>),
    /// `display a, b`: the columns of the result.
    Display(Vec<Named>),
    /// `filter <condition>`.
    Filter(Expr),
    /// `stats <aggregations> by <groups>`.
    Stats {
        /// The aggregate expressions (may combine aggregates: `sum(x) / count(*)`).
        aggregates: Vec<Named>,
        /// The grouping expressions (`bin(5m)`, fields).
        by: Vec<Named>,
    },
    /// `sort a desc, b asc`.
    Sort(Vec<SortKey>),
    /// `limit n`.
    Limit(usize),
    /// `parse <field> <pattern> [as names]`.
    Parse {
        /// The field the pattern is applied to (`@message` by default).
        field: Expr,
        /// The pattern.
        pattern: ParsePattern,
    },
    /// `dedup a, b`: keeps the first row of each distinct combination.
    Dedup(Vec<Expr>),
    /// `unnest <field> into <name>`: one row per element of a JSON array.
    Unnest {
        /// The list field.
        field: Expr,
        /// The name each element gets.
        into: String,
    },
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `^`
    Pow,
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `and`
    And,
    /// `or`
    Or,
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A field by name (`latency_ms`, `@timestamp`, `error.message`).
    Field(String),
    /// A number.
    Num(f64),
    /// A string.
    Str(String),
    /// A duration literal in milliseconds (`5m`), as used by `bin` and `datefloor`.
    Duration(i64),
    /// A regular expression literal `/.../`.
    Regex(String),
    /// `*` (only as the argument of `count(*)`).
    Star,
    /// A list `[a, b]` (for `in`).
    List(Vec<Expr>),
    /// `not e`.
    Not(Box<Expr>),
    /// `-e`.
    Neg(Box<Expr>),
    /// `a <op> b`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `e like pattern` / `e not like pattern` / `e =~ pattern` (pattern: string or regex).
    Like {
        /// The value tested.
        expr: Box<Expr>,
        /// A string (substring match) or `/regex/`.
        pattern: Box<Expr>,
        /// `not like` / `!=~`.
        negated: bool,
    },
    /// `e in [..]` / `e not in [..]`.
    In {
        /// The value tested.
        expr: Box<Expr>,
        /// The candidates.
        list: Vec<Expr>,
        /// `not in`.
        negated: bool,
    },
    /// `name(args)`: a function or (inside `stats`) an aggregation.
    Call {
        /// The function name, lower-cased.
        name: String,
        /// The arguments.
        args: Vec<Expr>,
        /// The name's character offset in the query (for errors).
        offset: usize,
    },
}
