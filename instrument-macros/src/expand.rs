//! Code generation: a tracked function's new body.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{
    Attribute, Block, Expr, ExprAsync, ExprCall, FnArg, GenericArgument, Ident, ImplItem, Item,
    ItemFn, ItemImpl, LitStr, Pat, PathArguments, ReturnType, Signature, Stmt, Type,
    TypeParamBound, Visibility,
};

use instrument_vocab::field;

use crate::attr::{Errors, Level, LogMode, Options, Sigil, Target, RESERVED_FIELDS};

/// `tracing` accepts at most this many fields per span.
const MAX_FIELDS: usize = 32;

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

fn is_track_performance(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "track_performance")
}

/// The implementing type's name when the impl block spells it (`Repo` for `impl<T> Repo<T>`),
/// `None` when only `type_name::<Self>()` can tell (`impl<T: Store> Audit for T`).
fn static_type_name(imp: &ItemImpl) -> Option<String> {
    let mut ty = &*imp.self_ty;
    while let Type::Reference(r) = ty {
        ty = &r.elem;
    }
    let Type::Path(path) = ty else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let ident = &path.path.segments.last()?.ident;
    let generic = imp.generics.type_params().any(|p| p.ident == *ident);
    (!generic).then(|| ident.unraw().to_string())
}

/// A function to track, from a free function or a method.
pub(crate) struct Function {
    attrs: Vec<Attribute>,
    vis: Visibility,
    defaultness: Option<TokenStream>,
    sig: Signature,
    block: Box<Block>,
}

/// What the function returns, which decides how the call is timed.
enum Shape {
    /// A plain function: the call.
    Sync,
    /// `-> !`: only a panic can end it.
    Never,
    /// `async fn`: from the first poll to completion.
    Async,
    /// `-> impl Future<Output = R>`: from the call to the future's completion.
    ImplFuture(Type),
    /// `-> Pin<Box<dyn Future<Output = R>>>` (`#[async_trait]`): from the call to completion.
    Boxed(Type),
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
        let name_expr = if let Some(name) = &options.name {
            name.to_token_stream()
        } else if let Some(type_name) = type_name {
            LitStr::new(&format!("{type_name}::{method}"), ident.span()).into_token_stream()
        } else if sig.receiver().is_some() || mentions_self(&sig) {
            let cache = Ident::new("__INSTRUMENT_NAME", Span::mixed_site());
            items.extend(quote! {
                static #cache: #private::MethodName = #private::MethodName::new(#method);
            });
            quote!(#cache.get(::core::any::type_name::<Self>()))
        } else {
            LitStr::new(&method, ident.span()).into_token_stream()
        };

        let span_field_list = span_fields(&sig, options)?;
        let fields = span_macro_fields(&span_field_list, &private, &name_expr);
        let level_ident = level.ident();
        let span_name = LitStr::new(&method, ident.span());
        let span = quote! {{
            #[allow(unused_imports)]
            use #private::{ArgDebug as _, ArgSkip as _, ArgValue as _};
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
                    ProbeDebugError as _, ProbeDisplayError as _, ProbeNotResult as _,
                    ProbeStdError as _,
                };
                (&&&&&&&#private::Probe(&#result)).__instrument_outcome()
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

/// The site static: completion logging decided at compile time, with the log events' call sites
/// in the user's module (so their target is the user's module).
fn site(private: &TokenStream, log: LogMode, level: Level, items: &mut TokenStream) -> TokenStream {
    if log == LogMode::Off {
        return quote!(&#private::Site::OFF);
    }
    let emit = Ident::new("__instrument_log", Span::mixed_site());
    let site = Ident::new("__INSTRUMENT_SITE", Span::mixed_site());
    let c = Ident::new("completion", Span::mixed_site());
    let tracing = quote!(#private::tracing);
    let level_ident = level.ident();
    let common = quote! {
        target: ::core::module_path!(),
    };
    let (function, outcome, latency_ms, error_type) = (
        field::FUNCTION,
        field::OUTCOME,
        field::LATENCY_MS,
        field::ERROR_TYPE,
    );
    let fields = quote! {
        #function = #c.function,
        #outcome = #c.outcome.as_str(),
        #latency_ms = #c.latency_ms,
    };
    let successes = if log == LogMode::All {
        quote! {
            #private::Outcome::Success => {
                #tracing::event!(#common #tracing::Level::#level_ident, #fields
                    "{} completed", #c.function);
            }
            #private::Outcome::Cancelled => {
                #tracing::event!(#common #tracing::Level::#level_ident, #fields
                    "{} cancelled", #c.function);
            }
        }
    } else {
        quote!(#private::Outcome::Success | #private::Outcome::Cancelled => {})
    };
    items.extend(quote! {
        fn #emit(#c: &#private::Completion<'_>) {
            match #c.outcome {
                #private::Outcome::Error => {
                    #tracing::event!(#common #tracing::Level::WARN, #fields
                        #error_type = #c.error_type,
                        "error" = #c.error(),
                        "error_message" = #c.error_message(),
                        "{} failed", #c.function);
                }
                #private::Outcome::Panic => {
                    #tracing::event!(#common #tracing::Level::ERROR, #fields
                        #error_type = #c.error_type,
                        "{} panicked", #c.function);
                }
                #successes
            }
        }
        static #site: #private::Site = #private::Site::new(#private::LogMode::#log, #emit);
    });
    quote!(&#site)
}

impl ToTokens for LogMode {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let name = match self {
            LogMode::Off => "Off",
            LogMode::Errors => "Errors",
            LogMode::All => "All",
        };
        Ident::new(name, Span::call_site()).to_tokens(tokens);
    }
}

/// What one span field records.
enum FieldValue {
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
fn span_fields(sig: &Signature, options: &Options) -> syn::Result<Vec<(LitStr, FieldValue)>> {
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
fn span_macro_fields(
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

/// A synchronous call that may defer its span (see `instrument_core::tracked`, module
/// `deferred`): the span's callsite as statics, its arguments copied, and how to render the
/// field values later. `None` when the fields include arbitrary expressions (`fields(...)`).
#[allow(clippy::too_many_arguments)] // the pieces of `Function::expand` it builds on
fn deferred_call(
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
            ArgDebug as _, ArgSkip as _, ArgValue as _, CaptureNone as _, CaptureValue as _,
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

/// A binding introduced by the function's parameters.
struct Argument {
    ident: Ident,
}

/// Every identifier the parameters bind, patterns included (`(a, b): (u8, u8)` binds `a`, `b`).
fn arguments(sig: &Signature) -> Vec<Argument> {
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

/// Whether the signature names `Self` (so it is an associated function and `Self` is in scope).
fn mentions_self(sig: &Signature) -> bool {
    fn walk(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|tt| match tt {
            TokenTree::Ident(ident) => ident == "Self",
            TokenTree::Group(group) => walk(group.stream()),
            _ => false,
        })
    }
    walk(sig.inputs.to_token_stream())
        || walk(sig.output.to_token_stream())
        || walk(sig.generics.to_token_stream())
        || walk(sig.generics.where_clause.to_token_stream())
}

fn shape(sig: &Signature) -> Shape {
    if sig.asyncness.is_some() {
        return Shape::Async;
    }
    let ReturnType::Type(_, ty) = &sig.output else {
        return Shape::Sync;
    };
    if matches!(**ty, Type::Never(_)) {
        return Shape::Never;
    }
    if let Type::ImplTrait(imp) = &**ty {
        let unpin = imp.bounds.iter().any(|b| {
            matches!(b, TypeParamBound::Trait(t)
                if t.path.segments.last().is_some_and(|s| s.ident == "Unpin"))
        });
        if let (Some(output), false) = (future_output(&imp.bounds), unpin) {
            return Shape::ImplFuture(output);
        }
    }
    if let Some(output) = boxed_future_output(ty) {
        return Shape::Boxed(output);
    }
    Shape::Sync
}

/// `R` of a `Future<Output = R>` bound.
fn future_output<'a>(bounds: impl IntoIterator<Item = &'a TypeParamBound>) -> Option<Type> {
    bounds.into_iter().find_map(|bound| {
        let TypeParamBound::Trait(t) = bound else {
            return None;
        };
        let last = t.path.segments.last()?;
        if last.ident != "Future" {
            return None;
        }
        let PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        args.args.iter().find_map(|arg| match arg {
            GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(assoc.ty.clone()),
            _ => None,
        })
    })
}

/// The only type argument of a path type whose last segment is `name`.
fn single_type_arg<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    let first = types.next()?;
    types.next().is_none().then_some(first)
}

/// `R` of `Pin<Box<dyn Future<Output = R> + ..>>`.
fn boxed_future_output(ty: &Type) -> Option<Type> {
    let boxed = single_type_arg(ty, "Pin")?;
    let Type::TraitObject(object) = single_type_arg(boxed, "Box")? else {
        return None;
    };
    future_output(&object.bounds)
}

/// `Box::pin(async move { .. })` as the whole body: the `Box::pin` path and the async block.
fn boxed_async_block(block: &Block) -> Option<(TokenStream, ExprAsync)> {
    let [Stmt::Expr(Expr::Call(ExprCall { func, args, .. }), None)] = block.stmts.as_slice() else {
        return None;
    };
    let Expr::Path(path) = &**func else {
        return None;
    };
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if !segments.ends_with(&["Box".to_string(), "pin".to_string()]) || args.len() != 1 {
        return None;
    }
    let Expr::Async(async_block) = &args[0] else {
        return None;
    };
    Some((func.to_token_stream(), async_block.clone()))
}

/// The return type with every `impl Trait` replaced by `_`, usable as a type annotation or
/// turbofish inside the body.
fn erase_impl_trait(ty: &Type) -> Type {
    struct Erase;
    impl VisitMut for Erase {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::ImplTrait(imp) = ty {
                *ty = Type::Infer(syn::TypeInfer {
                    underscore_token: syn::Token![_](imp.impl_token.span),
                });
                return;
            }
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
    let mut ty = ty.clone();
    Erase.visit_type_mut(&mut ty);
    ty
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
