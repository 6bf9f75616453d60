//! The settings table in Markdown, rendered from the declarations: the README's configuration
//! table and the crate docs' are this text (`tests/settings_table.rs` checks both).

use std::fmt::Write;

use super::setting::Section;
use super::table::TABLE;

/// The table of every setting: one row each, grouped by section, with its builder setting,
/// its variables (highest precedence first), what it accepts, its default and what it does.
///
/// ```
/// let table = instrument_core::config::docs::markdown();
/// assert!(table.contains("| `service` | `INSTRUMENT_SERVICE`, `POWERTOOLS_SERVICE_NAME` |"));
/// ```
pub fn markdown() -> String {
    let mut out = String::from(
        "| setting (code) | variables, highest precedence first | accepts | default | what it does |\n\
         |---|---|---|---|---|\n",
    );
    for section in Section::ALL {
        let _ = writeln!(out, "| **{}** | | | | |", section.title());
        for setting in TABLE.iter().filter(|s| s.section() == section) {
            let name = if setting.in_code() {
                format!("`{}`", setting.name())
            } else {
                "—".to_string()
            };
            let canonical = setting.variables().first().copied().unwrap_or_default();
            let accepted = setting.accepted(canonical);
            let variables: Vec<String> = setting
                .variables()
                .iter()
                .map(|v| match setting.accepted(v) {
                    own if own != accepted => format!("`{v}` ({})", cell(own)),
                    _ => format!("`{v}`"),
                })
                .collect();
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {} |",
                variables.join(", "),
                cell(accepted),
                cell(setting.default_text()),
                cell(setting.doc()),
            );
        }
    }
    out
}

/// Text safe inside a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}
