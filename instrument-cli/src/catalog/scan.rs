//! Reading one source file into the catalog: a `syn` visitor over its items, and a token walk
//! over the macros `syn` leaves unparsed (tracing's events and spans, `objectives!`).

use std::path::Path;
use std::str::FromStr;

use instrument_attr::{
    base_name, is_track_performance, static_type_name, Objective, Options, Target,
};
use instrument_vocab::metric::{prefix, Prefix};
use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit::{self, Visit};
use syn::{Attribute, ExprMethodCall, ImplItem, ItemFn, ItemImpl, Macro, Signature};

use super::{
    Catalog, CatalogError, CodeSetting, FieldMetric, Kind, Location, Slo, TrackedFunction,
};

/// tracing's macros that take fields.
const TRACING_MACROS: [&str; 12] = [
    "trace",
    "debug",
    "info",
    "warn",
    "error",
    "event",
    "span",
    "trace_span",
    "debug_span",
    "info_span",
    "warn_span",
    "error_span",
];

pub(super) fn scan_file(
    file: &Path,
    text: &str,
    catalog: &mut Catalog,
) -> Result<(), CatalogError> {
    let location = |span: Span| Location {
        file: file.to_path_buf(),
        line: span.start().line,
    };
    let parsed = syn::parse_file(text).map_err(|err| CatalogError::Source {
        location: location(err.span()),
        message: format!("this file does not parse: {err}"),
    })?;
    let tokens = TokenStream::from_str(text).map_err(|err| CatalogError::Source {
        location: location(err.span()),
        message: format!("this file does not parse: {err}"),
    })?;
    detect_integrations(tokens, catalog);
    let mut scanner = Scanner {
        file,
        catalog,
        tracked_dims: Vec::new(),
        error: None,
    };
    scanner.visit_file(&parsed);
    match scanner.error {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// The HTTP layer (`RequestLayer`) and Lambda (`lambda_runtime`, `instrument::lambda`, or a
/// span named like lambda_runtime's invocation span) anywhere in the file.
fn detect_integrations(tokens: TokenStream, catalog: &mut Catalog) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, tt) in tokens.iter().enumerate() {
        match tt {
            TokenTree::Group(g) => detect_integrations(g.stream(), catalog),
            TokenTree::Ident(ident) => {
                if ident == "RequestLayer" {
                    catalog.http = true;
                }
                if ident == "lambda_runtime" {
                    catalog.lambda = true;
                }
                let path_to_lambda = ident == "instrument"
                    && matches!(tokens.get(i + 3), Some(TokenTree::Ident(next)) if next == "lambda")
                    && matches!(tokens.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':');
                if path_to_lambda {
                    catalog.lambda = true;
                }
            }
            TokenTree::Literal(lit) => {
                if let Ok(syn::Lit::Str(s)) = syn::parse2::<syn::Lit>(lit.to_token_stream()) {
                    if s.value() == instrument_vocab::context::LAMBDA_RUNTIME_SPAN {
                        catalog.lambda = true;
                    }
                }
            }
            TokenTree::Punct(_) => {}
        }
    }
}

struct Scanner<'a> {
    file: &'a Path,
    catalog: &'a mut Catalog,
    /// The dimensions of the tracked functions being walked, innermost last.
    tracked_dims: Vec<Vec<String>>,
    error: Option<CatalogError>,
}

impl Scanner<'_> {
    fn location(&self, span: Span) -> Location {
        Location {
            file: self.file.to_path_buf(),
            line: span.start().line,
        }
    }

    fn fail(&mut self, span: Span, message: String) {
        if self.error.is_none() {
            self.error = Some(CatalogError::Source {
                location: self.location(span),
                message,
            });
        }
    }

    fn fail_syn(&mut self, err: &syn::Error) {
        let message = err
            .clone()
            .into_iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        self.fail(err.span(), format!("#[track_performance]: {message}"));
    }

    /// The options of a `#[track_performance]` among `attrs`, if any.
    fn options(&mut self, attrs: &[Attribute], target: Target) -> Option<Options> {
        let attr = attrs.iter().find(|a| is_track_performance(a))?;
        let args = match &attr.meta {
            syn::Meta::Path(_) => TokenStream::new(),
            syn::Meta::List(list) => list.tokens.clone(),
            syn::Meta::NameValue(nv) => {
                self.fail(
                    nv.eq_token.span,
                    "expected #[track_performance] or #[track_performance(...)]".into(),
                );
                return None;
            }
        };
        let (options, errors) = Options::parse(args, target);
        if let Some(err) = errors {
            self.fail_syn(&err);
            return None;
        }
        Some(options)
    }

    /// Records a tracked function and walks its body with its dimensions in scope.
    fn tracked(
        &mut self,
        options: &Options,
        prefix: Option<&str>,
        self_type: Option<&str>,
        sig: &Signature,
        note: Option<String>,
        body: impl FnOnce(&mut Self),
    ) {
        let name = base_name(options, prefix, sig).resolve(self_type);
        let dimensions: Vec<(String, String)> = options
            .dimensions
            .iter()
            .flatten()
            .map(|d| (d.key.clone(), d.value.value()))
            .collect();
        let output = sig.output.to_token_stream();
        self.catalog.functions.push(TrackedFunction {
            name,
            location: self.location(sig.ident.span()),
            dimensions: dimensions.clone(),
            own_objective: options.objective.as_ref().map(Slo::from_attr),
            returns_errors: any_ident(&output, |i| i.ends_with("Result")),
            cancellable: sig.asyncness.is_some() || any_ident(&output, |i| i == "Future"),
            note,
        });
        self.tracked_dims
            .push(dimensions.into_iter().map(|(k, _)| k).collect());
        body(self);
        self.tracked_dims.pop();
    }

    fn objectives(&mut self, mac: &Macro) {
        match Objective::parse(mac.tokens.clone()) {
            Ok(objective) => {
                if self.catalog.objective.is_some() {
                    self.fail(
                        span_of(mac),
                        "a second instrument::objectives!: a crate states its objectives once"
                            .into(),
                    );
                } else {
                    self.catalog.objective = Some(Slo::from_attr(&objective));
                }
            }
            Err(err) => {
                let message = err
                    .into_iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ");
                self.fail(span_of(mac), format!("instrument::objectives!: {message}"));
            }
        }
    }

    /// The metric fields of one tracing macro.
    fn metric_fields(&mut self, mac: &Macro) {
        let tokens: Vec<TokenTree> = mac.tokens.clone().into_iter().collect();
        let mut keys: Vec<(String, Option<String>, Span)> = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let at_start = i == 0 || is_punct(&tokens[i - 1], ',');
            if at_start {
                if let Some((key, next)) = field_key(&tokens, i) {
                    let value = literal_value(&tokens, next);
                    keys.push((key, value, tokens[i].span()));
                    i = next;
                    continue;
                }
            }
            i += 1;
        }
        let mut dimensions: Vec<String> = self.tracked_dims.last().cloned().unwrap_or_default();
        for (key, _, _) in &keys {
            if let Some((Prefix::Dimension, name)) = prefix(key) {
                if !dimensions.iter().any(|d| d == name) {
                    dimensions.push(name.to_owned());
                }
            }
        }
        for (key, _, span) in &keys {
            let Some((kind, name)) = prefix(key) else {
                continue;
            };
            let kind = match kind {
                Prefix::Counter => Kind::Counter,
                Prefix::Histogram => Kind::Histogram,
                Prefix::Gauge => Kind::Gauge,
                _ => continue,
            };
            let explicit_unit = keys.iter().find_map(|(k, v, _)| match prefix(k) {
                Some((Prefix::Unit, n)) if n == name => v.clone(),
                _ => None,
            });
            let unit = explicit_unit
                .and_then(|u| instrument_emf::Unit::parse(&u))
                .or_else(|| instrument_emf::Unit::from_name_suffix(name))
                .map_or_else(
                    || {
                        if kind == Kind::Counter {
                            "Count"
                        } else {
                            "None"
                        }
                        .to_owned()
                    },
                    |u| u.as_str().to_owned(),
                );
            let location = self.location(*span);
            self.catalog.fields.push(FieldMetric {
                name: name.to_owned(),
                kind,
                unit,
                dimensions: dimensions.clone(),
                location,
            });
        }
    }

    /// `instrument::builder().service("…")…`: literal settings.
    fn builder_setting(&mut self, call: &ExprMethodCall) {
        let method = call.method.to_string();
        if !matches!(
            method.as_str(),
            "service" | "namespace" | "environment" | "environment_var"
        ) || call.args.len() != 1
            || !rooted_at_builder(&call.receiver)
        {
            return;
        }
        let Some(syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(value),
            ..
        })) = call.args.first()
        else {
            return;
        };
        let setting = CodeSetting {
            value: value.value(),
            location: self.location(value.span()),
        };
        let settings = &mut self.catalog.settings;
        let slot = match method.as_str() {
            "service" => &mut settings.service,
            "namespace" => &mut settings.namespace,
            "environment" => &mut settings.environment,
            _ => &mut settings.environment_var,
        };
        if slot.is_none() {
            *slot = Some(setting);
        }
    }
}

impl<'ast> Visit<'ast> for Scanner<'_> {
    fn visit_item_fn(&mut self, node: &'ast ItemFn) {
        match self.options(&node.attrs, Target::Function) {
            Some(options) => {
                self.tracked(&options, None, None, &node.sig, None, |s| {
                    visit::visit_block(s, &node.block);
                });
            }
            None => visit::visit_item_fn(self, node),
        }
    }

    fn visit_item_impl(&mut self, node: &'ast ItemImpl) {
        let type_name = static_type_name(node);
        let outer = self.options(&node.attrs, Target::Impl);
        let prefix = outer
            .as_ref()
            .and_then(|o| o.name.as_ref().map(syn::LitStr::value))
            .or_else(|| outer.as_ref().and(type_name.clone()));
        let outer = outer.map(|o| Options { name: None, ..o });
        for item in &node.items {
            let ImplItem::Fn(method) = item else {
                visit::visit_impl_item(self, item);
                continue;
            };
            let inner = self.options(&method.attrs, Target::Function);
            let options = match (&outer, inner) {
                (Some(outer), _) if method.sig.constness.is_some() => {
                    let _ = outer;
                    None
                }
                (Some(outer), inner) => Some(outer.merged(&inner.unwrap_or_default())),
                (None, inner) => inner,
            };
            match options {
                Some(options) => {
                    let prefix = if outer.is_some() {
                        prefix.as_deref()
                    } else {
                        None
                    };
                    let self_type = type_name.clone();
                    let note = self_type.is_none().then(|| {
                        "the impl's type is generic: the name is `<its type>::method` at run time"
                            .to_owned()
                    });
                    self.tracked(
                        &options,
                        prefix,
                        self_type.as_deref(),
                        &method.sig,
                        note,
                        |s| {
                            visit::visit_block(s, &method.block);
                        },
                    );
                }
                None => visit::visit_impl_item_fn(self, method),
            }
        }
    }

    fn visit_trait_item_fn(&mut self, node: &'ast syn::TraitItemFn) {
        match (self.options(&node.attrs, Target::Function), &node.default) {
            (Some(options), Some(block)) => {
                let note = Some(
                    "a trait's default method: named `<implementing type>::method` at run time"
                        .to_owned(),
                );
                self.tracked(&options, None, None, &node.sig, note, |s| {
                    visit::visit_block(s, block);
                });
            }
            _ => visit::visit_trait_item_fn(self, node),
        }
    }

    fn visit_expr_method_call(&mut self, node: &'ast ExprMethodCall) {
        self.builder_setting(node);
        visit::visit_expr_method_call(self, node);
    }

    fn visit_macro(&mut self, node: &'ast Macro) {
        let Some(last) = node.path.segments.last() else {
            return;
        };
        let name = last.ident.to_string();
        if name == "objectives" {
            self.objectives(node);
        } else if TRACING_MACROS.contains(&name.as_str()) {
            self.metric_fields(node);
        }
        visit::visit_macro(self, node);
    }
}

fn span_of(mac: &Macro) -> Span {
    mac.path
        .segments
        .last()
        .map_or_else(Span::call_site, |s| s.ident.span())
}

/// Whether a method chain starts at `instrument::builder()` (or a `builder()` imported from it).
fn rooted_at_builder(mut expr: &syn::Expr) -> bool {
    loop {
        match expr {
            syn::Expr::MethodCall(call) => expr = &call.receiver,
            syn::Expr::Call(call) => {
                let syn::Expr::Path(path) = &*call.func else {
                    return false;
                };
                let segments = &path.path.segments;
                return segments.last().is_some_and(|s| s.ident == "builder")
                    && (segments.len() == 1 || segments.iter().any(|s| s.ident == "instrument"));
            }
            syn::Expr::Paren(p) => expr = &p.expr,
            _ => return false,
        }
    }
}

fn any_ident(tokens: &TokenStream, f: impl Fn(&str) -> bool + Copy) -> bool {
    tokens.clone().into_iter().any(|tt| match tt {
        TokenTree::Ident(i) => f(&i.to_string()),
        TokenTree::Group(g) => any_ident(&g.stream(), f),
        _ => false,
    })
}

fn is_punct(tt: &TokenTree, c: char) -> bool {
    matches!(tt, TokenTree::Punct(p) if p.as_char() == c)
}

/// A field key at `i` (`a.b.c =` or `"a.b" =`): the key and the index after `=`.
fn field_key(tokens: &[TokenTree], i: usize) -> Option<(String, usize)> {
    let (key, mut j) = match &tokens[i] {
        TokenTree::Literal(lit) => match syn::parse2::<syn::Lit>(lit.to_token_stream()) {
            Ok(syn::Lit::Str(s)) => (s.value(), i + 1),
            _ => return None,
        },
        TokenTree::Ident(first) => {
            let mut key = first.to_string();
            let mut j = i + 1;
            while j + 1 < tokens.len() && is_punct(&tokens[j], '.') {
                let TokenTree::Ident(next) = &tokens[j + 1] else {
                    return None;
                };
                key.push('.');
                key.push_str(&next.to_string());
                j += 2;
            }
            (key, j)
        }
        _ => return None,
    };
    let TokenTree::Punct(eq) = tokens.get(j)? else {
        return None;
    };
    if eq.as_char() != '=' || eq.spacing() != proc_macro2::Spacing::Alone {
        return None;
    }
    j += 1;
    Some((key, j))
}

/// The string literal a field's value is, if it is one (`unit.x = "Bytes"`).
fn literal_value(tokens: &[TokenTree], i: usize) -> Option<String> {
    let value = match tokens.get(i)? {
        TokenTree::Group(g) if g.delimiter() == Delimiter::None => g.stream().into_iter().next()?,
        other => other.clone(),
    };
    let end = tokens.get(i + 1).is_none_or(|t| is_punct(t, ','));
    match syn::parse2::<syn::Lit>(value.to_token_stream()) {
        Ok(syn::Lit::Str(s)) if end => Some(s.value()),
        _ => None,
    }
}
