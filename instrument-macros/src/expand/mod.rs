//! Code generation: a tracked function's new body.
//!
//! | module | what it generates |
//! |---|---|
//! | `function` | the new body of one function, per shape (sync, async, `impl Future`, boxed) |
//! | `fields` | the span's field list: the tracked fields, dimensions, arguments, `fields(...)` |
//! | `deferred` | a synchronous call that may defer its span: callsite statics, copied arguments |
//! | `completion` | the completion log line's function (`log = "errors"` or `"all"`) |
//! | `shape` | reading a signature: which shape, the future's output type |

mod completion;
mod deferred;
mod fields;
mod function;
mod shape;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{ImplItem, Item, ItemImpl, LitStr};

use crate::attr::{is_track_performance, static_type_name, Errors, Options, Target};

use function::Function;

/// The attribute's entry point: options and item in, expanded item out. Never fails: errors
/// become `compile_error!`s next to the unchanged item, so the rest of the crate still
/// type-checks against the original signature.
pub(crate) fn track_performance(args: TokenStream, item: TokenStream) -> TokenStream {
    match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(function)) => {
            let (options, errors) = Options::parse(args, Target::Function);
            if let Some(err) = errors {
                return with_errors(&err, item);
            }
            let function = Function::from_item(function);
            match function.expand(&options, None) {
                Ok(tokens) => tokens,
                Err(err) => with_errors(&err, item),
            }
        }
        Ok(Item::Impl(imp)) => {
            let (options, errors) = Options::parse(args, Target::Impl);
            if let Some(err) = errors {
                return with_errors(&err, item);
            }
            match expand_impl(imp, &options) {
                Ok(tokens) => tokens,
                Err(err) => with_errors(&err, item),
            }
        }
        Ok(other) => {
            let (_, errors) = Options::parse(args, Target::Function);
            let mut err = match syn::parse2::<syn::TraitItemFn>(item.clone()) {
                Ok(declaration) if declaration.default.is_none() => no_body(&declaration),
                _ => not_a_function(&other),
            };
            if let Some(more) = errors {
                err.combine(more);
            }
            with_errors(&err, item)
        }
        Err(_) => {
            // A function without a body (in a trait), or a body that does not parse: in the
            // latter case the item goes out unchanged so that rustc reports the user's own
            // syntax error, not ours.
            let (_, errors) = Options::parse(args, Target::Function);
            let mut errors = errors.map_or_else(Errors::default, |err| {
                let mut errors = Errors::default();
                errors.push(err);
                errors
            });
            if let Ok(declaration) = syn::parse2::<syn::TraitItemFn>(item.clone()) {
                if declaration.default.is_none() {
                    errors.push(no_body(&declaration));
                }
            }
            match errors.into_error() {
                Some(err) => with_errors(&err, item),
                None => item,
            }
        }
    }
}

/// The error for a trait method declaration, at its name.
fn no_body(declaration: &syn::TraitItemFn) -> syn::Error {
    syn::Error::new(
        declaration.sig.ident.span(),
        "#[track_performance] needs a function body: put it on the implementations of this \
         trait method (or on their impl blocks)",
    )
}

fn with_errors(err: &syn::Error, item: TokenStream) -> TokenStream {
    let mut tokens = err.to_compile_error();
    tokens.extend(item);
    tokens
}

/// The error for an item that is neither a function nor an impl block, at its keyword.
fn not_a_function(item: &Item) -> syn::Error {
    let (what, span) = match item {
        Item::Struct(i) => ("a struct", i.struct_token.span),
        Item::Enum(i) => ("an enum", i.enum_token.span),
        Item::Union(i) => ("a union", i.union_token.span),
        Item::Const(i) => ("a const", i.const_token.span),
        Item::Static(i) => ("a static", i.static_token.span),
        Item::Mod(i) => ("a module", i.mod_token.span),
        Item::Trait(i) => ("a trait", i.trait_token.span),
        Item::Type(i) => ("a type alias", i.type_token.span),
        Item::Use(i) => ("a use declaration", i.use_token.span),
        Item::ForeignMod(i) => ("an extern block", i.abi.extern_token.span),
        Item::Macro(i) => ("a macro invocation", i.mac.path.span()),
        other => ("this item", other.span()),
    };
    syn::Error::new(
        span,
        format!("#[track_performance] goes on a function or an impl block, not on {what}"),
    )
}

/// `#[track_performance]` on an impl block: every function in it, named `Type::method`.
fn expand_impl(mut imp: ItemImpl, options: &Options) -> syn::Result<TokenStream> {
    let prefix = options
        .name
        .as_ref()
        .map(LitStr::value)
        .or_else(|| static_type_name(&imp));
    let outer = Options {
        name: None,
        ..options.clone()
    };
    let mut errors = Errors::default();
    for item in &mut imp.items {
        let ImplItem::Fn(method) = item else {
            continue;
        };
        if method.sig.constness.is_some() {
            // A `const fn` cannot be tracked; on an impl block it is left alone.
            continue;
        }
        let mut inner = Options::default();
        let mut attrs = Vec::with_capacity(method.attrs.len());
        for attr in method.attrs.drain(..) {
            if is_track_performance(&attr) {
                let args = match &attr.meta {
                    syn::Meta::Path(_) => TokenStream::new(),
                    syn::Meta::List(list) => list.tokens.clone(),
                    syn::Meta::NameValue(nv) => {
                        errors.push(syn::Error::new(
                            nv.eq_token.span,
                            "expected #[track_performance] or #[track_performance(...)]",
                        ));
                        continue;
                    }
                };
                let (parsed, err) = Options::parse(args, Target::Function);
                if let Some(err) = err {
                    errors.push(err);
                }
                inner = parsed;
            } else {
                attrs.push(attr);
            }
        }
        method.attrs = attrs;
        let function = Function {
            attrs: std::mem::take(&mut method.attrs),
            vis: method.vis.clone(),
            defaultness: method.defaultness.map(ToTokens::into_token_stream),
            sig: method.sig.clone(),
            block: Box::new(method.block.clone()),
        };
        match function.expand(&outer.merged(&inner), prefix.as_deref()) {
            Ok(tokens) => *item = ImplItem::Verbatim(tokens),
            Err(err) => errors.push(err),
        }
    }
    match errors.into_error() {
        Some(err) => Err(err),
        None => Ok(imp.into_token_stream()),
    }
}

#[cfg(test)]
mod snapshots {
    //! What the attribute generates, pretty-printed and compared with the committed files in
    //! `tests/expand/`, so that reviewers can read it. `UPDATE_SNAPSHOTS=1` rewrites them.

    use std::path::PathBuf;

    use quote::quote;

    fn check(name: &str, args: proc_macro2::TokenStream, item: proc_macro2::TokenStream) {
        let expanded = super::track_performance(args, item);
        let file: syn::File = syn::parse2(expanded).expect("the expansion parses as a file");
        let text = prettyplease::unparse(&file);
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/expand")
            .join(format!("{name}.expanded.rs"));
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &text).unwrap();
            return;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            expected == text,
            "the expansion of `{name}` changed; run with UPDATE_SNAPSHOTS=1 and review the diff \
             of {}:\n{text}",
            path.display()
        );
    }

    #[test]
    fn sync_function() {
        check(
            "sync",
            quote!(dimensions(operation = "reserve")),
            quote! {
                /// Reserves seats.
                pub fn reserve_ticket(seats: u32) -> Result<Ticket, BookingError> {
                    let ticket = book(seats)?;
                    Ok(ticket)
                }
            },
        );
    }

    #[test]
    fn async_function() {
        check(
            "async",
            quote!(log = "all"),
            quote! {
                async fn reserve_ticket(cmd: Reserve) -> Result<Ticket, BookingError> {
                    let ticket = repo.insert(&cmd).await?;
                    Ok(ticket)
                }
            },
        );
    }

    #[test]
    fn method() {
        check(
            "method",
            quote!(),
            quote! {
                fn take(&mut self, seats: u32) -> Result<&mut u32, SoldOut> {
                    self.seats = self.seats.checked_sub(seats).ok_or(SoldOut)?;
                    Ok(&mut self.seats)
                }
            },
        );
    }
}
