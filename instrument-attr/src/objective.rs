//! `objective(success = 99.9, latency_ms = 250, percentile = 99)`: what a tracked call promises.
//! The CLI turns it into alarms; it changes nothing at run time.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, Lit, Token};

use crate::options::Errors;

/// The keys of `objective(...)`.
pub const OBJECTIVE_KEYS: [&str; 3] = ["success", "latency_ms", "percentile"];

/// The percentile a latency objective is about when none is given.
pub const DEFAULT_PERCENTILE: f64 = 99.0;

/// A service-level objective: at least `success` % of calls succeed, and the `percentile`th
/// percentile of latency stays under `latency_ms`. Every key is optional; a function's keys win
/// over its impl block's, which win over the service's (`instrument::objectives!`).
///
/// ```
/// use instrument_attr::Objective;
///
/// let objective = Objective::parse(quote::quote!(success = 99.9, latency_ms = 250)).unwrap();
/// assert_eq!(objective.success, Some(99.9));
/// assert_eq!(objective.latency_ms, Some(250.0));
/// assert_eq!(objective.percentile(), 99.0);
///
/// let err = Objective::parse(quote::quote!(success = 120)).unwrap_err();
/// assert!(err.to_string().contains("between 0 and 100"));
/// ```
#[derive(Debug, Clone)]
pub struct Objective {
    /// The percentage of calls that succeed (`0 < success < 100`).
    pub success: Option<f64>,
    /// The latency, in milliseconds, the percentile stays under.
    pub latency_ms: Option<f64>,
    /// The percentile of `latency_ms` (`0 < percentile < 100`); see [`Objective::percentile`].
    pub percentile: Option<f64>,
    /// Where the objective is written.
    pub span: Span,
}

impl Objective {
    /// Parses the keys of an objective (what is inside `objective(...)`, or
    /// `instrument::objectives!(...)`), with every error reported together.
    ///
    /// # Errors
    ///
    /// Unknown, duplicate or missing keys and values out of range, at the offending tokens.
    pub fn parse(tokens: TokenStream) -> syn::Result<Objective> {
        crate::size::check(&tokens)?;
        let span = tokens
            .clone()
            .into_iter()
            .next()
            .map_or_else(Span::call_site, |t| t.span());
        let parser = |input: ParseStream<'_>| Objective::parse_list(input, span);
        parser.parse2(tokens)
    }

    /// The percentile, 99 when not given.
    #[must_use]
    pub fn percentile(&self) -> f64 {
        self.percentile.unwrap_or(DEFAULT_PERCENTILE)
    }

    /// `outer`'s keys, each replaced by `inner`'s when given.
    #[must_use]
    pub fn merge(outer: Option<&Objective>, inner: Option<&Objective>) -> Option<Objective> {
        match (outer, inner) {
            (None, None) => None,
            (Some(o), None) | (None, Some(o)) => Some(o.clone()),
            (Some(outer), Some(inner)) => Some(Objective {
                success: inner.success.or(outer.success),
                latency_ms: inner.latency_ms.or(outer.latency_ms),
                percentile: inner.percentile.or(outer.percentile),
                span: inner.span,
            }),
        }
    }

    pub(crate) fn parse_list(input: ParseStream<'_>, span: Span) -> syn::Result<Objective> {
        let mut objective = Objective {
            success: None,
            latency_ms: None,
            percentile: None,
            span,
        };
        let mut errors = Errors::default();
        let mut seen: Vec<String> = Vec::new();
        while !input.is_empty() {
            if let Err(err) = parse_key_value(input, &mut objective, &mut seen) {
                errors.push(err);
                while !input.is_empty() && !input.peek(Token![,]) {
                    let _ = input.parse::<proc_macro2::TokenTree>();
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        let given = |key: &str| seen.iter().any(|k| k == key);
        if !given("success") && !given("latency_ms") {
            errors.push(syn::Error::new(
                span,
                "an objective needs `success = <percent>` or `latency_ms = <milliseconds>`, \
                 e.g. `objective(success = 99.9, latency_ms = 250)`",
            ));
        } else if !given("latency_ms") && given("percentile") {
            errors.push(syn::Error::new(
                span,
                "`percentile` is the percentile of `latency_ms`: give `latency_ms` too, e.g. \
                 `objective(latency_ms = 250, percentile = 95)`",
            ));
        }
        match errors.into_error() {
            Some(err) => Err(err),
            None => Ok(objective),
        }
    }
}

fn parse_key_value(
    input: ParseStream<'_>,
    objective: &mut Objective,
    seen: &mut Vec<String>,
) -> syn::Result<()> {
    let key = input.call(Ident::parse_any).map_err(|err| {
        syn::Error::new(
            err.span(),
            format!(
                "expected an objective key: one of {}",
                OBJECTIVE_KEYS.join(", ")
            ),
        )
    })?;
    let name = key.to_string();
    let slot = match name.as_str() {
        "success" => &mut objective.success,
        "latency_ms" => &mut objective.latency_ms,
        "percentile" => &mut objective.percentile,
        _ => {
            let hint = match name.as_str() {
                "latency" | "p99" | "latency_p99" | "max_latency_ms" => {
                    " (did you mean `latency_ms`?)"
                }
                "availability" | "success_rate" | "success_pct" => " (did you mean `success`?)",
                "pct" | "quantile" => " (did you mean `percentile`?)",
                _ => "",
            };
            return Err(syn::Error::new(
                key.span(),
                format!(
                    "unknown objective key `{name}`; expected one of: {}{hint}",
                    OBJECTIVE_KEYS.join(", ")
                ),
            ));
        }
    };
    if seen.contains(&name) {
        return Err(syn::Error::new(
            key.span(),
            format!("duplicate objective key `{name}`"),
        ));
    }
    seen.push(name.clone());
    if !input.peek(Token![=]) {
        return Err(syn::Error::new(
            key.span(),
            format!("expected `{name} = <number>`"),
        ));
    }
    input.parse::<Token![=]>()?;
    let value: Expr = input.parse()?;
    let number = match &value {
        Expr::Lit(ExprLit {
            lit: Lit::Float(f), ..
        }) => f.base10_parse::<f64>()?,
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse::<f64>()?,
        Expr::Unary(_) => {
            return Err(syn::Error::new(
                value.span(),
                format!("`{name}` must be positive"),
            ))
        }
        other => {
            return Err(syn::Error::new(
                other.span(),
                format!("`{name}` takes a number literal, e.g. `{}`", example(&name)),
            ))
        }
    };
    let in_range = match name.as_str() {
        "latency_ms" => number > 0.0 && number.is_finite(),
        _ => number > 0.0 && number < 100.0,
    };
    if !in_range {
        let rule = match name.as_str() {
            "success" => {
                "`success` is the percentage of calls that succeed: a number between 0 and 100 \
                 (exclusive), e.g. `success = 99.9`"
            }
            "percentile" => {
                "`percentile` is a number between 0 and 100 (exclusive), e.g. `percentile = 99`"
            }
            _ => "`latency_ms` is a positive number of milliseconds, e.g. `latency_ms = 250`",
        };
        return Err(syn::Error::new(value.span(), rule));
    }
    *slot = Some(number);
    Ok(())
}

fn example(key: &str) -> &'static str {
    match key {
        "success" => "success = 99.9",
        "latency_ms" => "latency_ms = 250",
        _ => "percentile = 99",
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact literals parsed back
mod tests {
    use super::*;
    use quote::quote;

    fn messages(tokens: TokenStream) -> Vec<String> {
        Objective::parse(tokens)
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn every_key_and_the_default_percentile() {
        let o =
            Objective::parse(quote!(success = 99.5, latency_ms = 250.5, percentile = 95)).unwrap();
        assert_eq!(
            (o.success, o.latency_ms, o.percentile()),
            (Some(99.5), Some(250.5), 95.0)
        );
        assert_eq!(
            Objective::parse(quote!(latency_ms = 10))
                .unwrap()
                .percentile(),
            99.0
        );
    }

    #[test]
    fn errors_are_reported_together() {
        let m = messages(quote!(
            success = "99",
            latency = 3,
            percentile = 100,
            success = 1
        ));
        assert_eq!(m.len(), 5, "{m:?}");
        assert!(m[0].contains("number literal"));
        assert!(m[1].contains("did you mean `latency_ms`"));
        assert!(m[2].contains("between 0 and 100"));
        assert!(m[3].contains("duplicate"));
        assert!(m[4].contains("give `latency_ms`"));
    }

    #[test]
    fn an_objective_needs_a_target_and_a_percentile_needs_a_latency() {
        assert!(messages(quote!())[0].contains("needs `success"));
        assert!(messages(quote!(success = 99.0, percentile = 90))[0].contains("give `latency_ms`"));
        assert!(messages(quote!(latency_ms = -5))[0].contains("positive"));
        assert!(messages(quote!(latency_ms = 0))[0].contains("positive"));
    }
}
