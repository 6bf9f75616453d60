//! A bound on the size of an attribute's arguments.
//!
//! `syn` parses nested expressions and types by recursion, with stack frames of kilobytes per
//! level in a debug build: a value nested a few hundred deep (`<<<<…`, `((((…))))`) overflows
//! the compiler's stack, a crash rather than an error (the `attr` fuzz target found one).
//! Attributes are short (the longest in this repository has about 60 tokens), so arguments
//! longer than [`MAX_ARGUMENT_TOKENS`] are refused with an error before `syn` sees them.

use proc_macro2::{TokenStream, TokenTree};

/// The most tokens, counted through groups (a group and each token inside it count), that the
/// arguments of `#[track_performance(...)]` may have. Longer expressions belong in the
/// function's body.
///
/// ```
/// use instrument_attr::{Options, Target, MAX_ARGUMENT_TOKENS};
///
/// let long: proc_macro2::TokenStream = format!("dimensions(depth = {}1)", "- ".repeat(MAX_ARGUMENT_TOKENS))
///     .parse()
///     .unwrap();
/// let (_, errors) = Options::parse(long, Target::Function);
/// assert!(errors.unwrap().to_string().contains("at most 128 tokens"));
/// ```
pub const MAX_ARGUMENT_TOKENS: usize = 128;

/// An error at the first token past [`MAX_ARGUMENT_TOKENS`], if `args` has more.
pub(crate) fn check(args: &TokenStream) -> syn::Result<()> {
    let mut count = 0usize;
    let mut streams = vec![args.clone()];
    while let Some(stream) = streams.pop() {
        for token in stream {
            count += 1;
            if count > MAX_ARGUMENT_TOKENS {
                return Err(syn::Error::new(
                    token.span(),
                    format!(
                        "`#[track_performance]` takes at most {MAX_ARGUMENT_TOKENS} tokens of \
                         arguments: compute a long value in the function's body instead"
                    ),
                ));
            }
            if let TokenTree::Group(group) = token {
                streams.push(group.stream());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::{Objective, Options, Target};

    /// The `attr` fuzz target's input: 929 nested `<` overflowed the stack inside `syn`.
    #[test]
    fn deeply_nested_arguments_are_an_error_not_a_crash() {
        let input = format!("dimensions(operation = {}r)", "<".repeat(929));
        // The stack a proc macro gets from rustc (8 MiB); `syn` alone overflowed it at about
        // 340 levels in a debug build.
        let errors = std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(move || {
                let tokens = TokenStream::from_str(&input).unwrap();
                let (_, options) = Options::parse(tokens.clone(), Target::Function);
                let objective = Objective::parse(tokens).err();
                (
                    options.map(|e| e.to_string()),
                    objective.map(|e| e.to_string()),
                )
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(errors.0.unwrap().contains("at most 128 tokens"));
        assert!(errors.1.unwrap().contains("at most 128 tokens"));
    }

    #[test]
    fn arguments_up_to_the_bound_parse() {
        // 10 dimensions of `name = "value"` (3 tokens and a comma each) and an objective.
        let dims: Vec<String> = (0..10).map(|i| format!("d{i} = \"v\"")).collect();
        let text = format!(
            "name = \"booking\", dimensions({}), objective(success = 99.9, latency_ms = 25)",
            dims.join(", ")
        );
        let tokens = TokenStream::from_str(&text).unwrap();
        assert!(check(&tokens).is_ok());
        let (options, errors) = Options::parse(tokens, Target::Function);
        assert!(errors.is_none(), "{errors:?}");
        assert_eq!(options.dimensions.as_ref().map(Vec::len), Some(10));
        let exact = TokenStream::from_str(&vec!["x"; MAX_ARGUMENT_TOKENS].join(" ")).unwrap();
        assert!(check(&exact).is_ok());
        let over = TokenStream::from_str(&vec!["x"; MAX_ARGUMENT_TOKENS + 1].join(" ")).unwrap();
        assert!(check(&over).is_err());
    }
}
