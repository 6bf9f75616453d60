//! The completion log line of a tracked call (`log = "errors"`, the default, or `"all"`).

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Ident;

use instrument_vocab::field;

use crate::attr::{Level, LogMode};

/// The site static: completion logging decided at compile time, with the log events' call sites
/// in the user's module (so their target is the user's module).
pub(super) fn site(
    private: &TokenStream,
    log: LogMode,
    level: Level,
    items: &mut TokenStream,
) -> TokenStream {
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
