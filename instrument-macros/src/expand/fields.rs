//! The span's field list, in the order the runtime relies on.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;
use syn::{Expr, FnArg, Ident, LitStr, Pat, Signature};

use crate::attr::{Errors, Options, Sigil, RESERVED_FIELDS};
use instrument_vocab::field;

/// `tracing` accepts at most this many fields per span.
pub(super) const MAX_FIELDS: usize = 32;

/// What one span field records.
pub(super) enum FieldValue {
    /// The `function` name.
    Function,
    /// Recorded later (`outcome`, `latency_ms`, `error_type`) or never (`fields(name)`).
    Empty,
    /// A `dimensions(key = "value")` entry.
    Dimension(LitStr),
    /// An argument, recorded by type ([`ArgProbe`]).
    Argument(Ident),
    /// A `fields(name = value)` entry.
    User(Sigil, Expr),
}

/// The span's fields, in the order the runtime relies on: `function`, `outcome`, `latency_ms`,
/// `error_type`, then dimensions, arguments and `fields(...)`.
pub(super) fn span_fields(
    sig: &Signature,
    options: &Options,
) -> syn::Result<Vec<(LitStr, FieldValue)>> {
    let site = sig.ident.span();
    let mut fields = vec![
        (LitStr::new(field::FUNCTION, site), FieldValue::Function),
        (LitStr::new(field::OUTCOME, site), FieldValue::Empty),
        (LitStr::new(field::LATENCY_MS, site), FieldValue::Empty),
        (LitStr::new(field::ERROR_TYPE, site), FieldValue::Empty),
    ];
    let mut errors = Errors::default();
    let user_fields = options.fields.as_deref().unwrap_or_default();

    for dimension in options.dimensions.as_deref().unwrap_or_default() {
        let key = LitStr::new(&format!("dimension.{}", dimension.key), dimension.key_span);
        if user_fields.iter().any(|f| f.name == key.value()) {
            errors.push(syn::Error::new(
                dimension.key_span,
                format!("dimension `{}` is also set in fields(...)", dimension.key),
            ));
        }
        fields.push((key, FieldValue::Dimension(dimension.value.clone())));
    }

    let args = arguments(sig);
    for skipped in options.skip.as_deref().unwrap_or_default() {
        let known = skipped == "self" || args.iter().any(|a| a.ident == *skipped);
        if !known {
            errors.push(syn::Error::new(
                skipped.span(),
                format!("skip: this function has no argument `{skipped}`"),
            ));
        }
    }
    if options.skip_all.is_none() {
        for arg in &args {
            let name = arg.ident.unraw().to_string();
            let skipped = options
                .skip
                .as_deref()
                .unwrap_or_default()
                .contains(&arg.ident);
            if skipped || name.starts_with('_') || user_fields.iter().any(|f| f.name == name) {
                continue;
            }
            if RESERVED_FIELDS.contains(&name.as_str()) {
                errors.push(syn::Error::new(
                    arg.ident.span(),
                    format!(
                        "argument `{name}` would be recorded as the span field `{name}`, which \
                         #[track_performance] records itself: add `skip({name})`"
                    ),
                ));
                continue;
            }
            let key = LitStr::new(&name, arg.ident.span());
            fields.push((key, FieldValue::Argument(arg.ident.clone())));
        }
    }

    for field in user_fields {
        let key = LitStr::new(&field.name, field.name_span);
        fields.push(match &field.value {
            None => (key, FieldValue::Empty),
            Some((sigil, value)) => (key, FieldValue::User(*sigil, value.clone())),
        });
    }
    if fields.len() > MAX_FIELDS {
        errors.push(syn::Error::new(
            sig.ident.span(),
            format!(
                "this span would have {} fields, more than the {MAX_FIELDS} tracing \
                 allows: skip some arguments (`skip(...)`, `skip_all`) or drop some fields",
                fields.len()
            ),
        ));
    }
    match errors.into_error() {
        Some(err) => Err(err),
        None => Ok(fields),
    }
}

/// The fields as `span!` arguments.
pub(super) fn span_macro_fields(
    fields: &[(LitStr, FieldValue)],
    private: &TokenStream,
    name_expr: &TokenStream,
) -> TokenStream {
    let empty = quote!(#private::tracing::field::Empty);
    let mut tokens = TokenStream::new();
    for (key, value) in fields {
        tokens.extend(match value {
            FieldValue::Function => quote!(#key = #name_expr,),
            FieldValue::Empty => quote!(#key = #empty,),
            FieldValue::Dimension(value) => quote!(#key = #value,),
            FieldValue::Argument(ident) => quote! {
                #key = (&&&#private::ArgProbe(&#ident)).__instrument_arg(),
            },
            FieldValue::User(Sigil::Value, value) => quote!(#key = #value,),
            FieldValue::User(Sigil::Debug, value) => quote!(#key = ?#value,),
            FieldValue::User(Sigil::Display, value) => quote!(#key = %#value,),
        });
    }
    tokens
}

/// A binding introduced by the function's parameters.
pub(super) struct Argument {
    ident: Ident,
}

/// Every identifier the parameters bind, patterns included (`(a, b): (u8, u8)` binds `a`, `b`).
pub(super) fn arguments(sig: &Signature) -> Vec<Argument> {
    fn walk(pat: &Pat, out: &mut Vec<Argument>) {
        match pat {
            Pat::Ident(p) => {
                out.push(Argument {
                    ident: p.ident.clone(),
                });
                if let Some((_, sub)) = &p.subpat {
                    walk(sub, out);
                }
            }
            Pat::Tuple(p) => p.elems.iter().for_each(|e| walk(e, out)),
            Pat::TupleStruct(p) => p.elems.iter().for_each(|e| walk(e, out)),
            Pat::Struct(p) => p.fields.iter().for_each(|f| walk(&f.pat, out)),
            Pat::Slice(p) => p.elems.iter().for_each(|e| walk(e, out)),
            Pat::Reference(p) => walk(&p.pat, out),
            Pat::Paren(p) => walk(&p.pat, out),
            Pat::Type(p) => walk(&p.pat, out),
            Pat::Or(p) => {
                if let Some(first) = p.cases.first() {
                    walk(first, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for input in &sig.inputs {
        if let FnArg::Typed(typed) = input {
            walk(&typed.pat, &mut out);
        }
    }
    out
}
