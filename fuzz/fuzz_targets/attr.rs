//! Fuzzes the `#[track_performance(...)]` attribute parser (`instrument-attr`, shared by the
//! macro and the CLI's catalog) and the `objective(...)` parser through `syn`: arbitrary text
//! that lexes as a token stream must parse to options and errors, never a panic, for a
//! function and for an impl block; every error carries a message.

#![no_main]

use std::str::FromStr;

use instrument_attr::{Objective, Options, Target};
use libfuzzer_sys::fuzz_target;
use proc_macro2::TokenStream;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // `proc_macro2`'s lexer must not panic either; text that does not lex is no input here.
    let Ok(tokens) = TokenStream::from_str(text) else {
        return;
    };
    for target in [Target::Function, Target::Impl] {
        let (_options, errors) = Options::parse(tokens.clone(), target);
        if let Some(errors) = errors {
            for error in errors {
                assert!(!error.to_string().is_empty(), "an error without a message");
            }
        }
    }
    if let Err(error) = Objective::parse(tokens) {
        assert!(!error.to_string().is_empty(), "an error without a message");
    }
});
