//! The metric base name of a tracked function: `reserve_ticket`, `Inventory::reserve`, or
//! `name = "…"`. The macro generates it from [`base_name`]; the CLI's catalog lists it from the
//! same function, so both agree on every name.

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{ItemImpl, LitStr, Signature, Type};

use crate::options::Options;

/// Where a tracked function's metric base name comes from.
#[derive(Clone)]
pub enum BaseName<'a> {
    /// `name = "…"`, as written.
    Given(&'a LitStr),
    /// `Type::method`, with the type an enclosing `#[track_performance]` impl block spells.
    Spelled(String),
    /// `Type::method` with the type known only at run time (`type_name::<Self>()` without
    /// module path and generic arguments): a method that takes `self` or mentions `Self`.
    /// Holds the method's name.
    SelfType(String),
    /// A free function (or an associated function that cannot name its type): its name.
    Function(String),
}

impl PartialEq for BaseName<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (BaseName::Given(a), BaseName::Given(b)) => a.value() == b.value(),
            (BaseName::Spelled(a), BaseName::Spelled(b))
            | (BaseName::SelfType(a), BaseName::SelfType(b))
            | (BaseName::Function(a), BaseName::Function(b)) => a == b,
            _ => false,
        }
    }
}

impl std::fmt::Debug for BaseName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BaseName::Given(name) => f.debug_tuple("Given").field(&name.value()).finish(),
            BaseName::Spelled(name) => f.debug_tuple("Spelled").field(name).finish(),
            BaseName::SelfType(name) => f.debug_tuple("SelfType").field(name).finish(),
            BaseName::Function(name) => f.debug_tuple("Function").field(name).finish(),
        }
    }
}

impl BaseName<'_> {
    /// The name the runtime will publish, given the implementing type's name for
    /// [`BaseName::SelfType`] (the last segment of the `impl`'s self type, as
    /// [`static_type_name`] reads it; `None` leaves `Self` in the name).
    ///
    /// ```
    /// use instrument_attr::{base_name, Options};
    /// let sig: syn::Signature = syn::parse_quote!(fn take(&mut self, seats: u32));
    /// let options = Options::default();
    /// let name = base_name(&options, None, &sig);
    /// assert_eq!(name.resolve(Some("Inventory")), "Inventory::take");
    /// assert_eq!(name.resolve(None), "Self::take");
    /// ```
    #[must_use]
    pub fn resolve(&self, self_type: Option<&str>) -> String {
        match self {
            BaseName::Given(name) => name.value(),
            BaseName::Spelled(name) | BaseName::Function(name) => name.clone(),
            BaseName::SelfType(method) => format!("{}::{method}", self_type.unwrap_or("Self")),
        }
    }
}

/// The base name of a tracked function: `options.name`, else `Type::method` when the impl
/// block spelled `type_name`, else `Type::method` from `Self` when the signature has a receiver
/// or mentions `Self`, else the function's name.
///
/// ```
/// use instrument_attr::{base_name, BaseName, Options, Target};
/// let sig: syn::Signature = syn::parse_quote!(fn open(hour: u8) -> bool);
/// assert_eq!(base_name(&Options::default(), Some("Shop"), &sig), BaseName::Spelled("Shop::open".into()));
/// assert_eq!(base_name(&Options::default(), None, &sig), BaseName::Function("open".into()));
/// let (named, _) = Options::parse(quote::quote!(name = "opening"), Target::Function);
/// assert_eq!(base_name(&named, None, &sig).resolve(None), "opening");
/// ```
#[must_use]
pub fn base_name<'a>(
    options: &'a Options,
    type_name: Option<&str>,
    sig: &Signature,
) -> BaseName<'a> {
    let method = sig.ident.unraw().to_string();
    if let Some(name) = &options.name {
        BaseName::Given(name)
    } else if let Some(type_name) = type_name {
        BaseName::Spelled(format!("{type_name}::{method}"))
    } else if sig.receiver().is_some() || mentions_self(sig) {
        BaseName::SelfType(method)
    } else {
        BaseName::Function(method)
    }
}

/// Whether the signature names `Self` (so it is an associated function and `Self` is in scope).
///
/// ```
/// let sig: syn::Signature = syn::parse_quote!(fn new(seats: u32) -> Self);
/// assert!(instrument_attr::mentions_self(&sig));
/// ```
#[must_use]
pub fn mentions_self(sig: &Signature) -> bool {
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

/// The implementing type's name when the impl block spells it (`Repo` for `impl<T> Repo<T>`),
/// `None` when only `type_name::<Self>()` can tell (`impl<T: Store> Audit for T`).
///
/// ```
/// let imp: syn::ItemImpl = syn::parse_quote!(impl<T> Repo<T> {});
/// assert_eq!(instrument_attr::static_type_name(&imp).as_deref(), Some("Repo"));
/// let blanket: syn::ItemImpl = syn::parse_quote!(impl<T: Store> Audit for T {});
/// assert_eq!(instrument_attr::static_type_name(&blanket), None);
/// ```
#[must_use]
pub fn static_type_name(imp: &ItemImpl) -> Option<String> {
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

/// Whether an attribute is `#[track_performance]` (by its last path segment, so
/// `#[instrument::track_performance]` and a renamed import's path both count).
///
/// ```
/// let attr: syn::Attribute = syn::parse_quote!(#[instrument::track_performance(log = "all")]);
/// assert!(instrument_attr::is_track_performance(&attr));
/// ```
#[must_use]
pub fn is_track_performance(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "track_performance")
}
