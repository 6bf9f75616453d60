//! A synchronous call that may defer its span (see `instrument_core::tracked`, module
//! `sync_call`).

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Ident, LitStr};

use crate::attr::Level;

use super::fields::FieldValue;

/// A synchronous call that may defer its span (see `instrument_core::tracked`, module
/// `deferred`): the span's callsite as statics, its arguments copied, and how to render the
/// field values later. `None` when the fields include arbitrary expressions (`fields(...)`).
#[allow(clippy::too_many_arguments)] // the pieces of `Function::expand` it builds on
pub(super) fn deferred_call(
    fields: &[(LitStr, FieldValue)],
    span: &TokenStream,
    private: &TokenStream,
    level: Level,
    span_name: &LitStr,
    site: &TokenStream,
    name_expr: &TokenStream,
    items: &mut TokenStream,
) -> Option<TokenStream> {
    if fields
        .iter()
        .any(|(_, v)| matches!(v, FieldValue::User(..)))
    {
        return None;
    }
    let callsite = Ident::new("__INSTRUMENT_CALLSITE", Span::mixed_site());
    let meta = Ident::new("__INSTRUMENT_META", Span::mixed_site());
    let deferred_site = Ident::new("__INSTRUMENT_DEFERRED", Span::mixed_site());
    let captured = Ident::new("__instrument_captured", Span::mixed_site());
    let function = Ident::new("__instrument_function", Span::mixed_site());
    let render = Ident::new("__instrument_render", Span::mixed_site());
    let fields_var = Ident::new("__instrument_fields", Span::mixed_site());
    let call = Ident::new("__instrument_call", Span::mixed_site());
    let level_ident = level.ident();
    let tracing = quote!(#private::tracing);
    let names = fields.iter().map(|(key, _)| key);
    items.extend(quote! {
        static #callsite: #tracing::callsite::DefaultCallsite =
            #tracing::callsite::DefaultCallsite::new(&#meta);
        static #meta: #tracing::Metadata<'static> = #tracing::Metadata::new(
            #span_name,
            ::core::module_path!(),
            #tracing::Level::#level_ident,
            ::core::option::Option::Some(::core::file!()),
            ::core::option::Option::Some(::core::line!()),
            ::core::option::Option::Some(::core::module_path!()),
            #tracing::field::FieldSet::new(
                &[#(#names),*],
                #tracing::callsite::Identifier(&#callsite),
            ),
            #tracing::metadata::Kind::SPAN,
        );
        static #deferred_site: #private::DeferredSite = #private::DeferredSite::new(&#callsite, #site);
    });
    let args: Vec<&Ident> = fields
        .iter()
        .filter_map(|(_, v)| match v {
            FieldValue::Argument(ident) => Some(ident),
            _ => None,
        })
        .collect();
    let bindings: Vec<Ident> = (0..args.len())
        .map(|i| Ident::new(&format!("__instrument_arg{i}"), Span::mixed_site()))
        .collect();
    let mut next_binding = bindings.iter();
    let value_exprs = fields.iter().map(|(_, value)| match value {
        FieldValue::Function => {
            quote!(::core::option::Option::Some(&#function as &dyn #tracing::Value))
        }
        FieldValue::Empty | FieldValue::User(..) => quote!(::core::option::Option::None),
        FieldValue::Dimension(value) => {
            quote!(::core::option::Option::Some(&#value as &dyn #tracing::Value))
        }
        FieldValue::Argument(_) => {
            let binding = next_binding.next().expect("one binding per argument");
            quote! {
                ::core::option::Option::Some(
                    &(&&&#private::ArgProbe(#private::Captured::get(#binding))).__instrument_arg()
                        as &dyn #tracing::Value
                )
            }
        }
    });
    let indices = (0..args.len()).map(syn::Index::from);
    Some(quote! {
        #[allow(unused_imports)]
        use #private::{
            ArgSkip as _, ArgValue as _, CaptureNone as _, CaptureValue as _,
        };
        // Declared here, initialized only when the call is tracked: the call borrows it.
        let #fields_var;
        let mut #call = if !#deferred_site.enabled() {
            // Nobody wants the call: nothing else happens, not even copying the arguments.
            #private::SyncCall::disabled()
        } else {
            let #captured = (#((&&#private::CopyProbe(&#args)).__instrument_capture(),)*);
            #fields_var = #private::Deferred::new(
                #captured,
                true #(&& #private::Captured::copied(&#captured.#indices))*,
                |#captured: &_,
                 #function: &'static str,
                 #render: &mut dyn ::core::ops::FnMut(&#tracing::field::ValueSet<'_>)| {
                    let (#(#bindings,)*) = #captured;
                    #private::value_set(&#meta, [#(#value_exprs),*], #render);
                },
            );
            if #private::Fields::complete(&#fields_var) {
                #private::SyncCall::deferrable(&#deferred_site, || #name_expr, &#fields_var)
            } else {
                // An argument that is not `Copy`: recorded now, as `span!` does.
                #private::SyncCall::spanned(#span, &#deferred_site, || #name_expr)
            }
        };
    })
}
