//! The lists of `dimensions(...)` and `fields(...)`.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Token};

use crate::options::{Dimension, Errors, Field, Sigil, RESERVED_FIELDS};

/// A field or dimension key: `ident`, `dotted.ident` or `"string"`.
fn parse_key(input: ParseStream<'_>, dotted: bool) -> syn::Result<(String, Span)> {
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        if lit.value().is_empty() {
            return Err(syn::Error::new(lit.span(), "a name must not be empty"));
        }
        return Ok((lit.value(), lit.span()));
    }
    let first = input.call(Ident::parse_any)?;
    let mut name = first.unraw().to_string();
    let mut span = first.span();
    while dotted && input.peek(Token![.]) {
        input.parse::<Token![.]>()?;
        let next = input.call(Ident::parse_any)?;
        name.push('.');
        name.push_str(&next.unraw().to_string());
        span = span.join(next.span()).unwrap_or(span);
    }
    Ok((name, span))
}

pub(crate) fn parse_dimensions(input: ParseStream<'_>) -> syn::Result<Vec<Dimension>> {
    let mut dimensions: Vec<Dimension> = Vec::new();
    let mut errors = Errors::default();
    while !input.is_empty() {
        let (key, key_span) = parse_key(input, false)?;
        if !input.peek(Token![=]) {
            return Err(syn::Error::new(
                key_span,
                format!("expected `{key} = \"value\"`: a dimension needs a string value"),
            ));
        }
        input.parse::<Token![=]>()?;
        let value: Expr = input.parse()?;
        let value = match value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => s,
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "a dimension value is a string literal (dimensions are per function; for \
                     a value known at run time, use `fields(dimension.<name> = value)`)",
                ))
            }
        };
        let text = value.value();
        if text.is_empty() || text.len() > 1024 {
            errors.push(syn::Error::new(
                value.span(),
                "a dimension value has 1 to 1024 characters",
            ));
        }
        if RESERVED_FIELDS.contains(&key.as_str()) {
            errors.push(syn::Error::new(
                key_span,
                format!(
                    "`{key}` is a field #[track_performance] records itself: a dimension by \
                     that name would be overwritten; pick another name"
                ),
            ));
        } else if dimensions.iter().any(|d| d.key == key) {
            errors.push(syn::Error::new(
                key_span,
                format!("duplicate dimension `{key}`"),
            ));
        }
        dimensions.push(Dimension {
            key,
            key_span,
            value,
        });
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    match errors.into_error() {
        Some(err) => Err(err),
        None => Ok(dimensions),
    }
}

pub(crate) fn parse_fields(input: ParseStream<'_>) -> syn::Result<Vec<Field>> {
    let mut fields: Vec<Field> = Vec::new();
    let mut errors = Errors::default();
    while !input.is_empty() {
        let (name, name_span) = parse_key(input, true)?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            let sigil = if input.peek(Token![?]) {
                input.parse::<Token![?]>()?;
                Sigil::Debug
            } else if input.peek(Token![%]) {
                input.parse::<Token![%]>()?;
                Sigil::Display
            } else {
                Sigil::Value
            };
            Some((sigil, input.parse::<Expr>()?))
        } else {
            None
        };
        if RESERVED_FIELDS.contains(&name.as_str()) {
            errors.push(syn::Error::new(
                name_span,
                format!(
                    "`{name}` is a field #[track_performance] records itself; pick another name"
                ),
            ));
        } else if fields.iter().any(|f| f.name == name) {
            errors.push(syn::Error::new(
                name_span,
                format!("duplicate field `{name}`"),
            ));
        }
        fields.push(Field {
            name,
            name_span,
            value,
        });
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    match errors.into_error() {
        Some(err) => Err(err),
        None => Ok(fields),
    }
}
