//! The new body of one tracked function, per shape.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, Block, Ident, ItemFn, LitStr, ReturnType, Signature, Visibility};

use crate::attr::{base_name, BaseName, Level, LogMode, Options};

use super::completion::site;
use super::deferred::deferred_call;
use super::fields::{span_fields, span_macro_fields};
use super::shape::{boxed_async_block, erase_impl_trait, shape, Shape};

/// A function to track, from a free function or a method.
pub(crate) struct Function {
    pub(super) attrs: Vec<Attribute>,
    pub(super) vis: Visibility,
    pub(super) defaultness: Option<TokenStream>,
    pub(super) sig: Signature,
    pub(super) block: Box<Block>,
}

impl Function {
    pub(crate) fn from_item(item: ItemFn) -> Self {
        Function {
            attrs: item.attrs,
            vis: item.vis,
            defaultness: None,
            sig: item.sig,
            block: item.block,
        }
    }

    /// The tracked function. `type_name` is the `Type` of `Type::method` when an impl block
    /// spelled it.
    #[allow(clippy::too_many_lines)] // one match arm per shape, kept side by side
    pub(crate) fn expand(
        self,
        options: &Options,
        type_name: Option<&str>,
    ) -> syn::Result<TokenStream> {
        let Function {
            attrs,
            vis,
            defaultness,
            sig,
            block,
        } = self;
        if let Some(constness) = &sig.constness {
            return Err(syn::Error::new(
                constness.span,
                "#[track_performance] cannot track a `const fn`: it reads a clock and records \
                 to a span, which const evaluation cannot do; remove `const` or the attribute",
            ));
        }
        if let Some(variadic) = &sig.variadic {
            return Err(syn::Error::new(
                variadic.dots.spans[0],
                "#[track_performance] does not support variadic functions",
            ));
        }
        let krate = options
            .krate
            .as_ref()
            .map_or_else(|| quote!(::instrument), ToTokens::to_token_stream);
        let private = quote!(#krate::__private);
        let level = options.level.unwrap_or(Level::Info);
        let log = options.log.unwrap_or(LogMode::Errors);
        let ident = &sig.ident;
        let method = ident.unraw().to_string();

        // The `function` field.
        let mut items = TokenStream::new();
        let name_expr = match base_name(options, type_name, &sig) {
            BaseName::Given(name) => name.to_token_stream(),
            BaseName::Spelled(name) | BaseName::Function(name) => {
                LitStr::new(&name, ident.span()).into_token_stream()
            }
            BaseName::SelfType(_) => {
                let cache = Ident::new("__INSTRUMENT_NAME", Span::mixed_site());
                items.extend(quote! {
                    static #cache: #private::MethodName = #private::MethodName::new(#method);
                });
                quote!(#cache.get(::core::any::type_name::<Self>()))
            }
        };

        let span_field_list = span_fields(&sig, options)?;
        let fields = span_macro_fields(&span_field_list, &private, &name_expr);
        let level_ident = level.ident();
        let span_name = LitStr::new(&method, ident.span());
        let span = quote! {{
            #[allow(unused_imports)]
            use #private::{ArgSkip as _, ArgValue as _};
            #private::tracing::span!(
                target: ::core::module_path!(),
                #private::tracing::Level::#level_ident,
                #span_name,
                #fields
            )
        }};
        let site = site(&private, log, level, &mut items);

        let call = Ident::new("__instrument_call", Span::mixed_site());
        let result = Ident::new("__instrument_result", Span::mixed_site());
        let future = Ident::new("__instrument_future", Span::mixed_site());
        let probe = quote! {
            || {
                #[allow(unused_imports)]
                use #private::{
                    ProbeAnyError as _, ProbeAsDynError as _, ProbeAsDynSendError as _,
                    ProbeDebugError as _, ProbeDisplayError as _, ProbeErrorType as _,
                    ProbeNoErrorType as _, ProbeNotResult as _, ProbeOkOther as _,
                    ProbeOkOutcome as _, ProbeStdError as _, ProbeTrackOutcome as _,
                };
                (&&&&&&&&#private::Probe(&#result)).__instrument_outcome()
                    .or_ok((&&#private::OkProbe(&#result)).__instrument_ok_outcome())
                    .named((&&#private::NameProbe(&#result)).__instrument_error_type())
            }
        };
        let span_var = Ident::new("__instrument_span", Span::mixed_site());
        // The span stays in its own local and the guard borrows it: a disabled call moves nothing.
        let declare_span = quote!(let #span_var = #span;);
        let start = quote!(&#span_var, #site, || #name_expr);
        let start_owned = quote!(#span, #site, || #name_expr);

        let (outer_attrs, inner_attrs): (Vec<_>, Vec<_>) = attrs
            .into_iter()
            .partition(|a| matches!(a.style, syn::AttrStyle::Outer));
        let return_type = match &sig.output {
            ReturnType::Default => syn::parse_quote!(()),
            ReturnType::Type(_, ty) => (**ty).clone(),
        };
        let body = match shape(&sig) {
            Shape::Sync => {
                let ret = erase_impl_trait(&return_type);
                let deferred = (log != LogMode::All)
                    .then(|| {
                        deferred_call(
                            &span_field_list,
                            &span,
                            &private,
                            level,
                            &span_name,
                            &site,
                            &name_expr,
                            &mut items,
                        )
                    })
                    .flatten();
                if let Some(start_call) = deferred {
                    // The call runs the body: a deferred call's frame lives exactly as long.
                    quote! {
                        #start_call
                        #[allow(clippy::let_unit_value)]
                        let #result = #call.run::<#ret, _>(move || #block);
                        #call.finish(#probe);
                        #result
                    }
                } else {
                    quote! {
                        #declare_span
                        let #call = #private::Call::start_entered(#start);
                        #[allow(clippy::let_unit_value)]
                        let #result = #private::invoke::<#ret, _>(move || #block);
                        #call.finish(#probe);
                        #result
                    }
                }
            }
            Shape::Never => quote! {
                #declare_span
                let #call = #private::Call::start_entered(#start);
                #block
            },
            Shape::Async => {
                let ret = erase_impl_trait(&return_type);
                // Fixes the async block's output type before its body is checked (so `?` and
                // `.into()` infer as in the original function); spanned at the return type so
                // that type errors say "return type inferred to be `R` here" at the user's `R`.
                let return_span = match &sig.output {
                    ReturnType::Type(_, ty) => ty.span(),
                    ReturnType::Default => ident.span(),
                };
                let ret_var = Ident::new(
                    "__instrument_return",
                    Span::mixed_site().located_at(return_span),
                );
                let fake_return = quote_spanned! {return_span=>
                    #[allow(unreachable_code, clippy::diverging_sub_expression)]
                    if let ::core::option::Option::Some(#ret_var) =
                        ::core::option::Option::None::<#ret>
                    {
                        return #ret_var;
                    }
                };
                quote! {
                    #declare_span
                    let mut #call = #private::Call::start(#start);
                    let #future = async move {
                        #fake_return
                        #block
                    };
                    #[allow(clippy::let_unit_value)]
                    let #result: #ret = #call.run(::core::pin::pin!(#future)).await;
                    #call.finish(#probe);
                    #result
                }
            }
            Shape::ImplFuture(output) => {
                let output = erase_impl_trait(&output);
                quote! {
                    let mut #call = #private::Call::start(#start_owned);
                    let #future = #call.in_scope(move || #block);
                    async move {
                        #[allow(clippy::let_unit_value)]
                        let #result: #output = #call.run(::core::pin::pin!(#future)).await;
                        #call.finish(#probe);
                        #result
                    }
                }
            }
            Shape::Boxed(output) => {
                let output = erase_impl_trait(&output);
                let finish = |inner: &TokenStream| {
                    quote! {
                        async move {
                            #[allow(clippy::let_unit_value)]
                            let #result: #output = #call.run(::core::pin::pin!(#inner)).await;
                            #call.finish(#probe);
                            #result
                        }
                    }
                };
                if let Some((box_pin, async_block)) = boxed_async_block(&block) {
                    // `Box::pin(async move { .. })`, as `#[async_trait]` writes it: wrap the
                    // async block inside the same box.
                    let wrapped = finish(&async_block.into_token_stream());
                    quote! {
                        let mut #call = #private::Call::start(#start_owned);
                        #box_pin(#wrapped)
                    }
                } else {
                    let ret = erase_impl_trait(&return_type);
                    let wrapped = finish(&future.to_token_stream());
                    quote! {
                        let mut #call = #private::Call::start(#start_owned);
                        let #future = #call.in_scope::<#ret, _>(move || #block);
                        ::std::boxed::Box::pin(#wrapped)
                    }
                }
            }
        };

        let body = quote! {
            {
                #(#inner_attrs)*
                #items
                #body
            }
        };
        Ok(quote! {
            #(#outer_attrs)*
            #vis #defaultness #sig #body
        })
    }
}
