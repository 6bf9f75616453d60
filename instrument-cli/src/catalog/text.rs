//! The catalog as text for people.

use std::fmt::Write as _;

use super::{Catalog, CodeSetting};

pub(super) fn render(catalog: &Catalog) -> String {
    let mut out = String::new();
    let setting = |s: &Option<CodeSetting>| {
        s.as_ref().map_or_else(
            || "(not set in code)".to_owned(),
            |s| format!("{} ({})", s.value, s.location),
        )
    };
    let _ = writeln!(out, "namespace    {}", setting(&catalog.settings.namespace));
    let _ = writeln!(out, "service      {}", setting(&catalog.settings.service));
    let _ = write!(
        out,
        "environment  {}",
        setting(&catalog.settings.environment)
    );
    if let Some(var) = &catalog.settings.environment_var {
        let _ = write!(out, "; read from ${} ({})", var.value, var.location);
    }
    let _ = writeln!(out);
    if let Some(slo) = &catalog.objective {
        let _ = writeln!(out, "objectives   {}", slo_text(Some(*slo)));
    }
    let _ = writeln!(out, "\ntracked functions ({})", catalog.functions.len());
    for f in &catalog.functions {
        let dims: Vec<String> = f
            .dimensions
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = writeln!(
            out,
            "  {:<32} {}{}{}",
            f.name,
            f.location,
            if dims.is_empty() {
                String::new()
            } else {
                format!("  dimensions {}", dims.join(", "))
            },
            match f.objective(catalog) {
                Some(slo) => format!("  objective {}", slo_text(Some(slo))),
                None => String::new(),
            }
        );
        if let Some(note) = &f.note {
            let _ = writeln!(out, "    note: {note}");
        }
    }
    let metrics = catalog.metrics();
    let _ = writeln!(out, "\nmetrics ({})", metrics.len());
    let header = "DIMENSIONS (beyond service, environment)";
    let rows: Vec<(&str, &str, String, &str)> = metrics
        .iter()
        .map(|m| {
            let sets: Vec<String> = m
                .dimension_sets
                .iter()
                .map(|s| match (s.is_empty(), m.exact_dimensions) {
                    (true, _) => "-".to_owned(),
                    // The whole set, not beyond service and environment.
                    (false, true) => format!("={}", s.join(",")),
                    (false, false) => s.join(","),
                })
                .collect();
            (
                m.name.as_str(),
                m.unit.as_str(),
                sets.join(" | "),
                m.when.describe(),
            )
        })
        .collect();
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(4);
    let dims = rows
        .iter()
        .map(|r| r.2.len())
        .max()
        .unwrap_or(0)
        .max(header.len());
    let _ = writeln!(
        out,
        "  {:<width$}  {:<12}  {header:<dims$}  WHEN",
        "NAME", "UNIT"
    );
    for (name, unit, sets, when) in rows {
        let _ = writeln!(out, "  {name:<width$}  {unit:<12}  {sets:<dims$}  {when}");
    }
    out
}

fn slo_text(slo: Option<super::Slo>) -> String {
    let Some(slo) = slo else {
        return "-".to_owned();
    };
    let mut parts = Vec::new();
    if let Some(s) = slo.success {
        parts.push(format!("success >= {s}%"));
    }
    if let Some(l) = slo.latency_ms {
        parts.push(format!("p{} <= {l} ms", slo.percentile()));
    }
    parts.join(", ")
}
