//! The options of `#[track_performance(...)]`, parsed with every error collected.

use std::collections::BTreeSet;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Path, Token};

use crate::objective::Objective;
use crate::suggest::suggest;
use crate::values::{parse_dimensions, parse_fields};

/// Field names the tracked span declares itself (`instrument_vocab::field::RESERVED`).
pub use instrument_vocab::field::RESERVED as RESERVED_FIELDS;

/// The span's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `"trace"`.
    Trace,
    /// `"debug"`.
    Debug,
    /// `"info"` (the default).
    Info,
    /// `"warn"`.
    Warn,
    /// `"error"`.
    Error,
}

impl Level {
    /// The `tracing::Level` constant's name: `INFO`.
    ///
    /// ```
    /// assert_eq!(instrument_attr::Level::Warn.ident().to_string(), "WARN");
    /// ```
    #[must_use]
    pub fn ident(self) -> Ident {
        let name = match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        };
        Ident::new(name, Span::call_site())
    }
}

/// `log = "..."`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogMode {
    /// `"off"`: no completion line.
    Off,
    /// `"errors"` (the default): a line for an `Err` or a panic.
    Errors,
    /// `"all"`: a line for every call.
    All,
}

/// One `dimensions(key = "value")` entry.
#[derive(Clone)]
pub struct Dimension {
    /// The dimension's name.
    pub key: String,
    /// Where the name is written.
    pub key_span: Span,
    /// Its value.
    pub value: LitStr,
}

/// How a `fields(...)` value is recorded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Sigil {
    /// `name = value`: recorded as a value.
    Value,
    /// `name = ?value`: recorded with `Debug`.
    Debug,
    /// `name = %value`: recorded with `Display`.
    Display,
}

/// One `fields(name = value)` entry; a name alone declares an empty field.
#[derive(Clone)]
pub struct Field {
    /// The field's name (`user.id`).
    pub name: String,
    /// Where the name is written.
    pub name_span: Span,
    /// How and what it records; `None` for a name alone.
    pub value: Option<(Sigil, Expr)>,
}

/// The parsed options. `None`/empty means "not given" so that method options can be merged over
/// the options of an `impl` block.
///
/// ```
/// use instrument_attr::{Options, Target};
///
/// let args = quote::quote!(name = "booking", objective(success = 99.9), dimensions(tier = "gold"));
/// let (options, errors) = Options::parse(args, Target::Function);
/// assert!(errors.is_none());
/// assert_eq!(options.name.unwrap().value(), "booking");
/// assert_eq!(options.objective.unwrap().success, Some(99.9));
/// assert_eq!(options.dimensions.unwrap()[0].key, "tier");
/// ```
#[derive(Clone, Default)]
pub struct Options {
    /// `name = "..."`: the metric base name.
    pub name: Option<LitStr>,
    /// `dimensions(k = "v", ...)`.
    pub dimensions: Option<Vec<Dimension>>,
    /// `level = "..."`: the span's level.
    pub level: Option<Level>,
    /// `log = "..."`: which completion lines are written.
    pub log: Option<LogMode>,
    /// `skip(a, b)`: arguments not recorded.
    pub skip: Option<Vec<Ident>>,
    /// `skip_all`: where it is written.
    pub skip_all: Option<Span>,
    /// `fields(...)`: more span fields.
    pub fields: Option<Vec<Field>>,
    /// `crate = path`: the path of the instrument crate.
    pub krate: Option<Path>,
    /// `objective(...)`: the call's service-level objective (no effect at run time).
    pub objective: Option<Objective>,
}

/// Every option's name, in the order error messages list them.
pub const OPTIONS: [&str; 9] = [
    "name",
    "dimensions",
    "level",
    "log",
    "skip",
    "skip_all",
    "fields",
    "crate",
    "objective",
];

/// Where the attribute sits, for options that only make sense on functions.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// On a function or method.
    Function,
    /// On an `impl` block: options for every function in it.
    Impl,
}

impl Options {
    /// Parses `args`; returns what could be parsed and every error found.
    #[must_use]
    pub fn parse(args: TokenStream, target: Target) -> (Options, Option<syn::Error>) {
        if let Err(err) = crate::size::check(&args) {
            return (Options::default(), Some(err));
        }
        let mut options = Options::default();
        let mut errors = Errors::default();
        let parser = |input: ParseStream<'_>| {
            parse_options(input, &mut options, &mut errors, target);
            Ok(())
        };
        if let Err(err) = parser.parse2(args) {
            errors.push(err);
        }
        (options, errors.into_error())
    }

    /// These options with `inner`'s (a method's) taking precedence; objectives merge per key.
    ///
    /// ```
    /// use instrument_attr::{Options, Target};
    /// let (outer, _) = Options::parse(quote::quote!(log = "all", objective(success = 99.0)), Target::Impl);
    /// let (inner, _) = Options::parse(quote::quote!(objective(latency_ms = 250)), Target::Function);
    /// let merged = outer.merged(&inner);
    /// let objective = merged.objective.unwrap();
    /// assert_eq!((objective.success, objective.latency_ms), (Some(99.0), Some(250.0)));
    /// ```
    #[must_use]
    pub fn merged(&self, inner: &Options) -> Options {
        Options {
            name: inner.name.clone().or_else(|| self.name.clone()),
            dimensions: merge_dimensions(self.dimensions.as_ref(), inner.dimensions.as_ref()),
            level: inner.level.or(self.level),
            log: inner.log.or(self.log),
            skip: inner.skip.clone().or_else(|| self.skip.clone()),
            skip_all: inner.skip_all.or(self.skip_all),
            fields: inner.fields.clone().or_else(|| self.fields.clone()),
            krate: inner.krate.clone().or_else(|| self.krate.clone()),
            objective: Objective::merge(self.objective.as_ref(), inner.objective.as_ref()),
        }
    }
}

/// An impl block's dimensions plus a method's; the method's value wins for the same key.
fn merge_dimensions(
    outer: Option<&Vec<Dimension>>,
    inner: Option<&Vec<Dimension>>,
) -> Option<Vec<Dimension>> {
    match (outer, inner) {
        (None, None) => None,
        (Some(d), None) | (None, Some(d)) => Some(d.clone()),
        (Some(outer), Some(inner)) => {
            let mut all: Vec<Dimension> = outer
                .iter()
                .filter(|d| inner.iter().all(|i| i.key != d.key))
                .cloned()
                .collect();
            all.extend(inner.iter().cloned());
            Some(all)
        }
    }
}

/// Errors collected while parsing, reported together.
///
/// ```
/// let mut errors = instrument_attr::Errors::default();
/// errors.push(syn::Error::new(proc_macro2::Span::call_site(), "one"));
/// errors.push(syn::Error::new(proc_macro2::Span::call_site(), "two"));
/// assert_eq!(errors.into_error().unwrap().into_iter().count(), 2);
/// ```
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    /// Adds an error.
    pub fn push(&mut self, err: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }

    /// All errors as one (`None` when there were none).
    #[must_use]
    pub fn into_error(self) -> Option<syn::Error> {
        self.0
    }
}

fn parse_options(
    input: ParseStream<'_>,
    options: &mut Options,
    errors: &mut Errors,
    target: Target,
) {
    let mut seen = BTreeSet::new();
    while !input.is_empty() {
        if let Err(err) = parse_option(input, options, &mut seen, target) {
            errors.push(err);
            skip_to_comma(input);
        }
        if input.is_empty() {
            break;
        }
        if let Err(err) = input.parse::<Token![,]>() {
            errors.push(syn::Error::new(
                err.span(),
                "expected `,` between #[track_performance] options",
            ));
            skip_to_comma(input);
            let _ = input.parse::<Token![,]>();
        }
    }
}

/// Error recovery: drops everything up to the next `,` of this option list.
fn skip_to_comma(input: ParseStream<'_>) {
    while !input.is_empty() && !input.peek(Token![,]) {
        let _ = input.parse::<proc_macro2::TokenTree>();
    }
}

#[allow(clippy::too_many_lines)] // one arm per option
fn parse_option(
    input: ParseStream<'_>,
    options: &mut Options,
    seen: &mut BTreeSet<String>,
    target: Target,
) -> syn::Result<()> {
    let key = if input.peek(Token![crate]) {
        let token: Token![crate] = input.parse()?;
        Ident::new("crate", token.span)
    } else {
        input.call(Ident::parse_any).map_err(|err| {
            syn::Error::new(
                err.span(),
                format!(
                    "expected a #[track_performance] option: one of {}",
                    OPTIONS.join(", ")
                ),
            )
        })?
    };
    let name = key.to_string();
    if !OPTIONS.contains(&name.as_str()) {
        let mut message = format!(
            "unknown #[track_performance] option `{name}`; expected one of: {}",
            OPTIONS.join(", ")
        );
        if let Some(suggestion) = suggest(&name) {
            message = format!("{message} (did you mean `{suggestion}`?)");
        }
        return Err(syn::Error::new(key.span(), message));
    }
    if !seen.insert(name.clone()) {
        return Err(syn::Error::new(
            key.span(),
            format!("duplicate #[track_performance] option `{name}`"),
        ));
    }
    if target == Target::Impl && matches!(name.as_str(), "skip" | "fields") {
        return Err(syn::Error::new(
            key.span(),
            format!(
                "`{name}(...)` names arguments of one function: put it on the method's own \
                 #[track_performance(...)], not on the impl block"
            ),
        ));
    }
    match name.as_str() {
        "name" => {
            let value = string_value(input, &key, "name = \"reserve_ticket\"")?;
            check_metric_name(&value)?;
            options.name = Some(value);
        }
        "level" => {
            let value = string_value(input, &key, "level = \"debug\"")?;
            options.level = Some(match value.value().to_ascii_lowercase().as_str() {
                "trace" => Level::Trace,
                "debug" => Level::Debug,
                "info" => Level::Info,
                "warn" => Level::Warn,
                "error" => Level::Error,
                _ => {
                    return Err(syn::Error::new(
                        value.span(),
                        "unknown level: expected \"trace\", \"debug\", \"info\", \"warn\" or \
                         \"error\"",
                    ))
                }
            });
        }
        "log" => {
            let value = string_value(input, &key, "log = \"all\"")?;
            options.log = Some(match value.value().as_str() {
                "off" => LogMode::Off,
                "errors" => LogMode::Errors,
                "all" => LogMode::All,
                _ => {
                    return Err(syn::Error::new(
                        value.span(),
                        "unknown log mode: expected \"off\", \"errors\" or \"all\"",
                    ))
                }
            });
        }
        "skip_all" => {
            if input.peek(Token![=]) || input.peek(syn::token::Paren) {
                return Err(syn::Error::new(
                    input.span(),
                    "`skip_all` takes no value: write `skip_all`",
                ));
            }
            options.skip_all = Some(key.span());
        }
        "skip" => {
            let content = parenthesized(input, &key, "skip(password, body)")?;
            let names = content.parse_terminated(Ident::parse_any, Token![,])?;
            options.skip = Some(names.into_iter().collect());
        }
        "dimensions" => {
            let content = parenthesized(input, &key, "dimensions(operation = \"reserve\")")?;
            options.dimensions = Some(parse_dimensions(&content)?);
        }
        "fields" => {
            let content = parenthesized(input, &key, "fields(user.id = %id, attempt = 1)")?;
            options.fields = Some(parse_fields(&content)?);
        }
        "objective" => {
            let content = parenthesized(
                input,
                &key,
                "objective(success = 99.9, latency_ms = 250, percentile = 99)",
            )?;
            options.objective = Some(Objective::parse_list(&content, key.span())?);
        }
        "crate" => {
            if !input.peek(Token![=]) {
                return Err(syn::Error::new(
                    key.span(),
                    "expected `crate = path`, e.g. `crate = ::my_instrument`",
                ));
            }
            input.parse::<Token![=]>()?;
            let path: Path = input.call(Path::parse_mod_style).map_err(|err| {
                syn::Error::new(
                    err.span(),
                    "expected a path to the instrument crate, e.g. `crate = ::my_instrument`",
                )
            })?;
            options.krate = Some(path);
        }
        _ => unreachable!("checked against OPTIONS"),
    }
    Ok(())
}

/// `= "string"`, with an error naming the expected form otherwise.
fn string_value(input: ParseStream<'_>, key: &Ident, example: &str) -> syn::Result<LitStr> {
    if !input.peek(Token![=]) {
        return Err(syn::Error::new(
            key.span(),
            format!("expected `{key} = \"...\"`, e.g. `{example}`"),
        ));
    }
    input.parse::<Token![=]>()?;
    let value: Expr = input.parse()?;
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s),
        other => Err(syn::Error::new(
            other.span(),
            format!("`{key}` takes a string literal, e.g. `{example}`"),
        )),
    }
}

fn parenthesized<'a>(
    input: ParseStream<'a>,
    key: &Ident,
    example: &str,
) -> syn::Result<syn::parse::ParseBuffer<'a>> {
    if !input.peek(syn::token::Paren) {
        let span = if input.peek(Token![=]) {
            input.span()
        } else {
            key.span()
        };
        return Err(syn::Error::new(
            span,
            format!("`{key}` takes a parenthesized list, e.g. `{example}`"),
        ));
    }
    let content;
    syn::parenthesized!(content in input);
    Ok(content)
}

/// Metric names are 1 to 255 characters; `<name>.success` must fit.
fn check_metric_name(name: &LitStr) -> syn::Result<()> {
    let value = name.value();
    if value.trim().is_empty() {
        return Err(syn::Error::new(name.span(), "`name` must not be empty"));
    }
    if value.len() > 247 {
        return Err(syn::Error::new(
            name.span(),
            "`name` is too long: CloudWatch metric names have at most 255 characters, and \
             `.success`/`.latency` are appended",
        ));
    }
    Ok(())
}

impl ToTokens for Level {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.ident().to_tokens(tokens);
    }
}

/// The `instrument::__private::LogMode` variant's name: `Errors`.
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
