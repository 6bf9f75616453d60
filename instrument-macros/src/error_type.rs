//! `#[derive(ErrorType)]`: each enum variant named by its own name, a struct by the type's,
//! `#[error_type = "..."]` on a variant or on the type naming it otherwise.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Expr, ExprLit, Fields, Lit, LitStr, Meta, Path};

/// The expansion of `#[derive(ErrorType)]` on `input`.
pub(crate) fn derive(input: TokenStream) -> TokenStream {
    match syn::parse2::<DeriveInput>(input).and_then(|input| expand(&input)) {
        Ok(tokens) => tokens,
        Err(e) => e.to_compile_error(),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let krate = crate_path(&input.attrs)?;
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let own = name_attr(&input.attrs)?;
    let body = match &input.data {
        Data::Enum(data) => {
            if let Some(name) = &own {
                return Err(syn::Error::new(
                    name.span(),
                    "#[error_type = \"...\"] on an enum would name every variant alike: put it \
                     on the variants it should rename",
                ));
            }
            let arms = data
                .variants
                .iter()
                .map(|v| {
                    let name = name_attr(&v.attrs)?
                        .unwrap_or_else(|| LitStr::new(&v.ident.to_string(), v.ident.span()));
                    check(&name)?;
                    let variant = &v.ident;
                    let pattern = match &v.fields {
                        Fields::Named(_) => quote!(Self::#variant { .. }),
                        Fields::Unnamed(_) => quote!(Self::#variant(..)),
                        Fields::Unit => quote!(Self::#variant),
                    };
                    Ok(quote!(#pattern => #name,))
                })
                .collect::<syn::Result<Vec<_>>>()?;
            if arms.is_empty() {
                quote!(match *self {})
            } else {
                quote!(match self { #(#arms)* })
            }
        }
        Data::Struct(_) => {
            let name = own.unwrap_or_else(|| LitStr::new(&ident.to_string(), ident.span()));
            check(&name)?;
            quote!(#name)
        }
        Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span,
                "#[derive(ErrorType)] supports enums and structs",
            ))
        }
    };
    Ok(quote! {
        impl #impl_generics #krate::ErrorType for #ident #ty_generics #where_clause {
            fn error_type(&self) -> &'static str {
                #body
            }
        }
    })
}

/// `#[error_type = "Name"]`, if present.
fn name_attr(attrs: &[Attribute]) -> syn::Result<Option<LitStr>> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("error_type")) {
        let Meta::NameValue(nv) = &attr.meta else {
            return Err(syn::Error::new(
                attr.span(),
                "expected #[error_type = \"Name\"]",
            ));
        };
        let Expr::Lit(ExprLit {
            lit: Lit::Str(name),
            ..
        }) = &nv.value
        else {
            return Err(syn::Error::new(
                nv.value.span(),
                "expected a string literal: #[error_type = \"Name\"]",
            ));
        };
        if found.is_some() {
            return Err(syn::Error::new(attr.span(), "duplicate #[error_type]"));
        }
        found = Some(name.clone());
    }
    Ok(found)
}

/// A name must be a short identifier-like word: it becomes a `CloudWatch` dimension value.
fn check(name: &LitStr) -> syn::Result<()> {
    let value = name.value();
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'));
    if ok {
        Ok(())
    } else {
        Err(syn::Error::new(
            name.span(),
            "an error type name is 1 to 64 letters, digits, `_`, `-`, `.` or `:` (it becomes \
             the `error_type` dimension value)",
        ))
    }
}

/// `#[instrument(crate = path)]` for a re-exported facade; `::instrument` otherwise.
fn crate_path(attrs: &[Attribute]) -> syn::Result<TokenStream> {
    for attr in attrs.iter().filter(|a| a.path().is_ident("instrument")) {
        let mut path = None;
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                path = Some(meta.value()?.parse::<Path>()?);
                Ok(())
            } else {
                Err(meta.error("expected `crate = path`"))
            }
        })?;
        if let Some(path) = path {
            return Ok(quote!(#path));
        }
    }
    Ok(quote!(::instrument))
}
