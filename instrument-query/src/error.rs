//! The crate's error type.

use std::fmt;

/// Where in a query something went wrong: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Position {
    /// The position of character offset `offset` (in characters) of `text`.
    ///
    /// ```
    /// let p = instrument_query::Position::of("ab\ncd", 4);
    /// assert_eq!((p.line, p.column), (2, 2));
    /// ```
    pub fn of(text: &str, offset: usize) -> Position {
        let mut line = 1;
        let mut column = 1;
        for c in text.chars().take(offset) {
            if c == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        Position { line, column }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 1 {
            write!(f, "line {}, column {}", self.line, self.column)
        } else {
            write!(f, "column {}", self.column)
        }
    }
}

/// Everything that can go wrong while parsing or running a query.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The query text does not parse: what was expected, after which token, and where.
    #[error("expected {expected}{} at {position}", after.as_ref().map(|a| format!(" after `{a}`")).unwrap_or_default())]
    Parse {
        /// What the parser expected, e.g. "a value".
        expected: String,
        /// The token right before the problem, if any.
        after: Option<String>,
        /// Where the problem is.
        position: Position,
    },
    /// The query parses but cannot run (unknown function, wrong number of arguments, ...).
    #[error("{message} at {position}")]
    Invalid {
        /// What is wrong.
        message: String,
        /// Where.
        position: Position,
    },
    /// A regular expression in the query does not compile.
    #[error("invalid regular expression /{pattern}/: {source}")]
    Regex {
        /// The pattern as written.
        pattern: String,
        /// The regex crate's error.
        #[source]
        source: Box<regex::Error>,
    },
    /// Reading the input failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The file (or `<stdin>`).
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No saved query has this name.
    #[error("no saved query named {0:?} (see `instrument query --list`)")]
    UnknownSaved(String),
    /// A saved query's placeholder has no value.
    #[error("saved query {query:?} needs a value for {{{{{param}}}}}: pass --param {param}=VALUE")]
    MissingParam {
        /// The saved query.
        query: String,
        /// The placeholder.
        param: String,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
