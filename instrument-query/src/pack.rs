//! The saved-query pack: Logs Insights queries for this library's log contract, each a file
//! under `queries/` embedded in the binary. Queries may hold `{{name}}` placeholders, filled
//! with [`SavedQuery::render`].

use crate::error::{Error, Result};

/// A saved query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SavedQuery {
    /// The name (`errors-by-function`).
    pub name: &'static str,
    /// The text, with its leading `#` comment lines (CloudWatch accepts them).
    pub text: &'static str,
}

macro_rules! pack {
    ($($name:literal),* $(,)?) => {
        /// Every saved query.
        pub const PACK: &[SavedQuery] = &[$(SavedQuery { name: $name, text: include_str!(concat!("../queries/", $name, ".insights")) }),*];
    };
}

pack!(
    "errors-by-function",
    "slowest-functions",
    "http-error-rate",
    "slowest-routes",
    "correlation-id",
    "cold-starts",
    "lambda-deadline",
    "redactions",
);

impl SavedQuery {
    /// The first comment line: what the query answers.
    ///
    /// ```
    /// let q = instrument_query::pack::find("errors-by-function").unwrap();
    /// assert_eq!(q.summary(), "Errors by tracked function and error type.");
    /// ```
    pub fn summary(&self) -> &'static str {
        self.text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix('#'))
            .map_or("", str::trim)
    }

    /// The placeholders (`{{name}}`) the query needs.
    ///
    /// ```
    /// let q = instrument_query::pack::find("correlation-id").unwrap();
    /// assert_eq!(q.placeholders(), vec!["correlation_id"]);
    /// ```
    pub fn placeholders(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut rest = self.text;
        while let Some(start) = rest.find("{{") {
            let Some(end) = rest[start..].find("}}") else {
                break;
            };
            let name = &rest[start + 2..start + end];
            if !out.contains(&name) {
                out.push(name);
            }
            rest = &rest[start + end + 2..];
        }
        out
    }

    /// The text with every placeholder filled from `params` (`name`, value); an error names a
    /// missing one. Values are escaped for a double-quoted string.
    ///
    /// ```
    /// let q = instrument_query::pack::find("correlation-id").unwrap();
    /// let text = q.render(&[("correlation_id".into(), "trip-42".into())]).unwrap();
    /// assert!(text.contains(r#"correlation_id = "trip-42""#));
    /// assert!(q.render(&[]).is_err());
    /// ```
    pub fn render(&self, params: &[(String, String)]) -> Result<String> {
        let mut text = self.text.to_owned();
        for name in self.placeholders() {
            let Some((_, value)) = params.iter().find(|(k, _)| k == name) else {
                return Err(Error::MissingParam {
                    query: self.name.to_owned(),
                    param: name.to_owned(),
                });
            };
            let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
            text = text.replace(&format!("{{{{{name}}}}}"), &escaped);
        }
        Ok(text)
    }
}

/// The saved query called `name`.
///
/// ```
/// assert!(instrument_query::pack::find("slowest-functions").is_ok());
/// assert!(instrument_query::pack::find("nope").is_err());
/// ```
pub fn find(name: &str) -> Result<&'static SavedQuery> {
    PACK.iter()
        .find(|q| q.name == name)
        .ok_or_else(|| Error::UnknownSaved(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_saved_query_parses_and_plans() {
        for q in PACK {
            let params: Vec<(String, String)> = q
                .placeholders()
                .iter()
                .map(|p| (p.to_string(), "x".to_string()))
                .collect();
            let text = q.render(&params).unwrap();
            crate::LogsQuery::new(&text).unwrap_or_else(|e| panic!("{}: {e}", q.name));
            assert!(!q.summary().is_empty(), "{}", q.name);
        }
    }
}
