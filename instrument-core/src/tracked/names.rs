//! Clean names from `std::any::type_name`: `Inventory::take` for methods, `BookingError` for
//! error types.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

/// The short form of a type name: every path shortened to its last segment, generic arguments
/// kept (and shortened too).
///
/// Used for `error_type`. A plain path (`std::io::error::Error`) is returned as a slice of the
/// input, without allocating; other names are built once per distinct name and then reused.
///
/// ```
/// use instrument_core::tracked::short_type_name;
/// assert_eq!(short_type_name("booking::errors::BookingError"), "BookingError");
/// assert_eq!(
///     short_type_name("alloc::boxed::Box<dyn core::error::Error + core::marker::Send>"),
///     "Box<dyn Error + Send>",
/// );
/// assert_eq!(short_type_name("u32"), "u32");
/// ```
#[must_use]
pub fn short_type_name(type_name: &'static str) -> &'static str {
    if type_name.bytes().all(|b| b == b':' || is_ident(b)) {
        return last_segment(type_name);
    }
    intern(Key::Short(type_name), || shorten(type_name))
}

/// The base name of a type for metric names: no module path, no generic arguments, no leading
/// `&`/`&mut`/`dyn`. `my_crate::repo::Repo<alloc::string::String>` becomes `Repo`.
///
/// ```
/// use instrument_core::tracked::type_base_name;
/// assert_eq!(type_base_name("booking::Repo<alloc::string::String>"), "Repo");
/// assert_eq!(type_base_name("&mut booking::Inventory"), "Inventory");
/// assert_eq!(type_base_name("dyn booking::Store"), "Store");
/// ```
#[must_use]
pub fn type_base_name(type_name: &str) -> &str {
    let mut name = type_name.trim_start();
    loop {
        let before = name;
        for prefix in ["&", "mut ", "*const ", "*mut ", "dyn ", "impl "] {
            name = name.strip_prefix(prefix).unwrap_or(name).trim_start();
        }
        // `&'a T`
        if let Some(rest) = name.strip_prefix('\'') {
            name = rest
                .find(' ')
                .map_or(rest, |space| &rest[space..])
                .trim_start();
        }
        if name == before {
            break;
        }
    }
    if name.starts_with(['(', '[']) {
        return name;
    }
    let end = name.find('<').unwrap_or(name.len());
    last_segment(&name[..end])
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn last_segment(path: &str) -> &str {
    path.rfind("::").map_or(path, |i| &path[i + 2..])
}

/// Shortens every path inside a type name to its last segment.
fn shorten(type_name: &str) -> String {
    let mut out = String::with_capacity(type_name.len());
    // Where the path being read started in `out`.
    let mut segment_start = 0;
    let mut rest = type_name;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("::") {
            let ends_ident = out.as_bytes().last().is_some_and(|&b| is_ident(b));
            if ends_ident {
                out.truncate(segment_start);
            } else {
                out.push_str("::");
            }
            rest = after;
            continue;
        }
        if !(c.is_alphanumeric() || c == '_') {
            segment_start = out.len() + c.len_utf8();
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Short(&'static str),
    Method(&'static str, &'static str),
}

/// Names built at run time, one leaked string per distinct name: bounded by the number of types
/// and tracked methods in the program.
fn intern(key: Key, build: impl FnOnce() -> String) -> &'static str {
    static NAMES: OnceLock<Mutex<HashMap<Key, &'static str>>> = OnceLock::new();
    let names = NAMES.get_or_init(Mutex::default);
    let mut names = names.lock().unwrap_or_else(PoisonError::into_inner);
    names
        .entry(key)
        .or_insert_with(|| Box::leak(build().into_boxed_str()))
}

/// The `function` name of a tracked method, `Type::method`, from `type_name::<Self>()`, cached
/// per call site. Not public API.
///
/// The fast path is one atomic load and a pointer comparison. A call site shared by several
/// `Self` types (a trait's default method) is still named correctly for each, through a global
/// table.
#[doc(hidden)]
#[derive(Debug)]
pub struct MethodName {
    method: &'static str,
    cached: OnceLock<Cached>,
}

#[derive(Debug)]
struct Cached {
    type_name: &'static str,
    base: &'static str,
    name: &'static str,
}

impl MethodName {
    /// A cache for the method `method`.
    #[must_use]
    pub const fn new(method: &'static str) -> Self {
        MethodName {
            method,
            cached: OnceLock::new(),
        }
    }

    /// `Type::method` for `type_name` (`std::any::type_name::<Self>()`).
    #[inline]
    pub fn get(&'static self, type_name: &'static str) -> &'static str {
        if let Some(cached) = self.cached.get() {
            if std::ptr::eq(cached.type_name, type_name) {
                return cached.name;
            }
        }
        self.lookup(type_name)
    }

    #[cold]
    fn lookup(&'static self, type_name: &'static str) -> &'static str {
        let base = type_base_name(type_name);
        if let Some(cached) = self.cached.get() {
            if cached.base == base {
                return cached.name;
            }
        }
        let method = self.method;
        let name = intern(Key::Method(base, method), || format!("{base}::{method}"));
        let _ = self.cached.set(Cached {
            type_name,
            base,
            name,
        });
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names() {
        assert_eq!(short_type_name("Plain"), "Plain");
        assert_eq!(short_type_name("a::b::C<d::E, f::G<h::I>>"), "C<E, G<I>>");
        assert_eq!(short_type_name("&str"), "&str");
        assert_eq!(short_type_name("(a::B, c::D)"), "(B, D)");
        assert_eq!(short_type_name("<a::T as b::Tr>::Out"), "<T as Tr>::Out");
        // Interned: the same &'static str each time.
        assert!(std::ptr::eq(
            short_type_name("x::Y<z::W>"),
            short_type_name("x::Y<z::W>")
        ));
    }

    #[test]
    fn base_names() {
        assert_eq!(type_base_name("a::B"), "B");
        assert_eq!(type_base_name("a::B<c::D<e::F>>"), "B");
        assert_eq!(type_base_name("&'static a::B"), "B");
        assert_eq!(type_base_name("(a::B, c::D)"), "(a::B, c::D)");
        assert_eq!(type_base_name("u8"), "u8");
    }

    #[test]
    fn method_names_follow_self() {
        static NAME: MethodName = MethodName::new("take");
        assert_eq!(NAME.get("shop::Inventory"), "Inventory::take");
        assert_eq!(NAME.get("shop::Inventory"), "Inventory::take");
        assert_eq!(NAME.get("shop::Repo<u8>"), "Repo::take");
        assert_eq!(NAME.get("shop::Repo<u16>"), "Repo::take");
        assert_eq!(NAME.get("shop::Inventory"), "Inventory::take");
    }
}
