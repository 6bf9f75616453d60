//! The options of `#[track_performance(...)]`, parsed with every error collected.

use std::collections::BTreeSet;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Path, Token};

/// Field names the tracked span declares itself.
pub(crate) use instrument_vocab::field::RESERVED as RESERVED_FIELDS;

/// The span's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub(crate) fn ident(self) -> Ident {
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
pub(crate) enum LogMode {
    Off,
    Errors,
    All,
}

/// One `dimensions(key = "value")` entry.
#[derive(Clone)]
pub(crate) struct Dimension {
    pub(crate) key: String,
    pub(crate) key_span: Span,
    pub(crate) value: LitStr,
}

/// How a `fields(...)` value is recorded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sigil {
    Value,
    Debug,
    Display,
}

/// One `fields(name = value)` entry; a name alone declares an empty field.
#[derive(Clone)]
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) name_span: Span,
    pub(crate) value: Option<(Sigil, Expr)>,
}

/// The parsed options. `None`/empty means "not given" so that method options can be merged over
/// the options of an `impl` block.
#[derive(Clone, Default)]
pub(crate) struct Options {
    pub(crate) name: Option<LitStr>,
    pub(crate) dimensions: Option<Vec<Dimension>>,
    pub(crate) level: Option<Level>,
    pub(crate) log: Option<LogMode>,
    pub(crate) skip: Option<Vec<Ident>>,
    pub(crate) skip_all: Option<Span>,
    pub(crate) fields: Option<Vec<Field>>,
    pub(crate) krate: Option<Path>,
}

const OPTIONS: [&str; 8] = [
    "name",
    "dimensions",
    "level",
    "log",
    "skip",
    "skip_all",
    "fields",
    "crate",
];

/// Where the attribute sits, for options that only make sense on functions.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Function,
    Impl,
}

impl Options {
    /// Parses `args`; returns what could be parsed and every error found.
    pub(crate) fn parse(args: TokenStream, target: Target) -> (Options, Option<syn::Error>) {
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

    /// These options with `inner`'s (a method's) taking precedence.
    pub(crate) fn merged(&self, inner: &Options) -> Options {
        Options {
            name: inner.name.clone().or_else(|| self.name.clone()),
            dimensions: merge_dimensions(self.dimensions.as_ref(), inner.dimensions.as_ref()),
            level: inner.level.or(self.level),
            log: inner.log.or(self.log),
            skip: inner.skip.clone().or_else(|| self.skip.clone()),
            skip_all: inner.skip_all.or(self.skip_all),
            fields: inner.fields.clone().or_else(|| self.fields.clone()),
            krate: inner.krate.clone().or_else(|| self.krate.clone()),
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
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, err: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }

    pub(crate) fn into_error(self) -> Option<syn::Error> {
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

fn parse_dimensions(input: ParseStream<'_>) -> syn::Result<Vec<Dimension>> {
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
        if dimensions.iter().any(|d| d.key == key) {
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

fn parse_fields(input: ParseStream<'_>) -> syn::Result<Vec<Field>> {
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

/// The closest option name, for typos.
fn suggest(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    let aliases: [(&str, &str); 6] = [
        ("dimension", "dimensions"),
        ("dims", "dimensions"),
        ("field", "fields"),
        ("metric", "name"),
        ("skipall", "skip_all"),
        ("logs", "log"),
    ];
    if let Some((_, to)) = aliases.iter().find(|(from, _)| *from == name) {
        return Some(to);
    }
    OPTIONS
        .iter()
        .map(|option| (distance(&name, option), *option))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, option)| option)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

impl ToTokens for Level {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.ident().to_tokens(tokens);
    }
}
