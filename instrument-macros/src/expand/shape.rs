//! Reading a signature: which shape the function has, and its future's output type.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::visit_mut::VisitMut;
use syn::{
    Block, Expr, ExprAsync, ExprCall, GenericArgument, PathArguments, ReturnType, Signature, Stmt,
    Type, TypeParamBound,
};

/// What the function returns, which decides how the call is timed.
pub(super) enum Shape {
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

pub(super) fn shape(sig: &Signature) -> Shape {
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
pub(super) fn future_output<'a>(
    bounds: impl IntoIterator<Item = &'a TypeParamBound>,
) -> Option<Type> {
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
pub(super) fn single_type_arg<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
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
pub(super) fn boxed_future_output(ty: &Type) -> Option<Type> {
    let boxed = single_type_arg(ty, "Pin")?;
    let Type::TraitObject(object) = single_type_arg(boxed, "Box")? else {
        return None;
    };
    future_output(&object.bounds)
}

/// `Box::pin(async move { .. })` as the whole body: the `Box::pin` path and the async block.
pub(super) fn boxed_async_block(block: &Block) -> Option<(TokenStream, ExprAsync)> {
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
pub(super) fn erase_impl_trait(ty: &Type) -> Type {
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
