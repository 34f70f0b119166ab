//! Function names and file paths: demangling, hash suffixes, module paths, relative file names.

use std::borrow::Cow;

/// Demangles a symbol name without the hash suffix (`_ZN3app4main17h0123456789abcdefE` →
/// `app::main`). Names that are not Rust-mangled are returned with a trailing `::h{16 hex}`
/// hash removed, if any.
///
/// # Examples
///
/// ```
/// use sentry_backtrace::demangle;
///
/// assert_eq!(demangle("_ZN7my_util5parse17h0123456789abcdefE"), "my_util::parse");
/// assert_eq!(demangle("my_util::parse::h0123456789abcdef"), "my_util::parse");
/// assert_eq!(demangle("__libc_start_main"), "__libc_start_main");
/// ```
pub fn demangle(name: &str) -> String {
    match rustc_demangle::try_demangle(name) {
        Ok(demangled) => format!("{demangled:#}"),
        Err(_) => strip_hash(name).to_owned(),
    }
}

/// Removes a trailing `::h` + 16 hex digits (the legacy mangling hash) from a function name.
pub(crate) fn strip_hash(name: &str) -> &str {
    if let Some(idx) = name.rfind("::h") {
        let hash = &name[idx + 3..];
        if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return &name[..idx];
        }
    }
    name
}

/// The path of a function with generic arguments removed and a qualified self type
/// (`<a::B as c::D>::f`) replaced by the type's path (`a::B::f`), for prefix matching.
///
/// # Examples
///
/// ```
/// use sentry_backtrace::normalize_path;
///
/// assert_eq!(normalize_path("<my_app::Config as core::fmt::Display>::fmt"), "my_app::Config::fmt");
/// assert_eq!(normalize_path("alloc::vec::Vec<T,A>::push"), "alloc::vec::Vec::push");
/// assert_eq!(
///     normalize_path("core::slice::index::<impl core::ops::index::Index<I> for [T]>::index"),
///     "core::slice::index::index"
/// );
/// ```
pub fn normalize_path(function: &str) -> Cow<'_, str> {
    if !function.contains('<') {
        return Cow::Borrowed(function);
    }
    let mut out = String::with_capacity(function.len());
    let mut rest = function;
    if rest.starts_with('<') {
        if let Some(close) = matching_close(rest) {
            let inner = &rest[1..close];
            let self_ty = split_top_level_as(inner);
            if !self_ty.starts_with("impl ") {
                out.push_str(&normalize_path(self_ty));
            }
            rest = &rest[close + 1..];
        }
    }
    out.push_str(&strip_generics(rest));
    while out.contains("::::") {
        out = out.replace("::::", "::");
    }
    let trimmed = out.trim_start_matches("::").trim_end_matches("::");
    Cow::Owned(trimmed.to_owned())
}

/// The index of the `>` closing the `<` at the start of `s`.
fn matching_close(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'<' => depth += 1,
            b'>' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `a::B<T> as c::D` → `a::B<T>` (the ` as ` outside generic brackets).
fn split_top_level_as(inner: &str) -> &str {
    let mut depth = 0usize;
    let bytes = inner.as_bytes();
    for i in 0..bytes.len() {
        match bytes[i] {
            b'<' => depth += 1,
            b'>' => depth = depth.saturating_sub(1),
            b' ' if depth == 0 && inner[i..].starts_with(" as ") => return &inner[..i],
            _ => {}
        }
    }
    inner
}

/// Removes every `<…>` group.
fn strip_generics(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// `true` for path segments that are not items of their own: closures and shims.
fn is_anonymous_segment(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// The module of a function: its normalized path without closures and the function's own
/// name (`my_app::net::connect::{{closure}}` → `my_app::net`). `None` for names without a
/// path (C functions, `main`).
///
/// # Examples
///
/// ```
/// use sentry_backtrace::module_of;
///
/// assert_eq!(module_of("my_app::net::connect::{{closure}}").as_deref(), Some("my_app::net"));
/// assert_eq!(module_of("<my_app::Db as core::ops::drop::Drop>::drop").as_deref(), Some("my_app::Db"));
/// assert_eq!(module_of("__libc_start_main"), None);
/// ```
pub fn module_of(function: &str) -> Option<String> {
    let path = normalize_path(function);
    let mut segments: Vec<&str> = path.split("::").collect();
    while segments.last().is_some_and(|s| is_anonymous_segment(s)) {
        segments.pop();
    }
    segments.pop();
    let segments: Vec<&str> = segments
        .into_iter()
        .filter(|s| !s.is_empty() && !is_anonymous_segment(s))
        .collect();
    if segments.is_empty() {
        None
    } else {
        Some(segments.join("::"))
    }
}

/// The crate of a function: the first segment of its normalized path, if it has a path.
pub(crate) fn crate_of(path: &str) -> Option<&str> {
    let (first, _) = path.split_once("::")?;
    (!first.is_empty()).then_some(first)
}

/// Directory names that start the source tree of a crate.
const SOURCE_ROOTS: &[&str] = &["src", "tests", "examples", "benches", "build"];

/// A short, machine-independent file name for an absolute source path: from the crate's
/// directory on (`/home/me/app/src/net/mod.rs` → `app/src/net/mod.rs`,
/// `/rustc/<hash>/library/std/src/panicking.rs` → `std/src/panicking.rs`,
/// `…/registry/src/index.crates.io-…/tokio-1.40.0/src/task.rs` → `tokio-1.40.0/src/task.rs`).
///
/// # Examples
///
/// ```
/// use sentry_backtrace::short_filename;
///
/// assert_eq!(short_filename("/home/me/app/src/net/mod.rs"), "app/src/net/mod.rs");
/// assert_eq!(short_filename("/work/ws/tests/tests/panic.rs"), "tests/tests/panic.rs");
/// assert_eq!(short_filename("src/main.rs"), "src/main.rs");
/// ```
pub fn short_filename(abs_path: &str) -> String {
    let normalized = abs_path.replace('\\', "/");
    let segments: Vec<&str> = normalized.split('/').collect();
    let root = segments
        .iter()
        .enumerate()
        .rev()
        .find(|(i, s)| *i > 0 && SOURCE_ROOTS.contains(s))
        .map(|(i, _)| i);
    match root {
        Some(i) if i >= 1 && !segments[i - 1].is_empty() => segments[i - 1..].join("/"),
        Some(i) => segments[i..].join("/"),
        None => segments
            .iter()
            .rev()
            .take(2)
            .rev()
            .copied()
            .collect::<Vec<_>>()
            .join("/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demangles_both_schemes() {
        assert_eq!(
            demangle("_ZN4core3ops8function6FnOnce9call_once17h0123456789abcdefE"),
            "core::ops::function::FnOnce::call_once"
        );
        // v0 mangling of `app::main`.
        assert_eq!(demangle("_RNvCs1234_3app4main"), "app::main");
        assert_eq!(strip_hash("a::b::hzzzz"), "a::b::hzzzz");
    }

    #[test]
    fn modules() {
        assert_eq!(module_of("main"), None);
        assert_eq!(module_of("app::main").as_deref(), Some("app"));
        assert_eq!(
            module_of("app::main::{{closure}}::{{closure}}").as_deref(),
            Some("app")
        );
        assert_eq!(
            module_of("app::run::{closure#0}").as_deref(),
            Some("app"),
            "v0 closures"
        );
        assert_eq!(
            module_of("<alloc::boxed::Box<F,A> as core::ops::function::Fn<Args>>::call").as_deref(),
            Some("alloc::boxed::Box")
        );
        assert_eq!(
            normalize_path("<<a::B as c::D>::E as f::G>::h"),
            "a::B::E::h",
            "nested qualified paths stay readable"
        );
    }

    #[test]
    fn filenames() {
        assert_eq!(
            short_filename("/rustc/abc/library/std/src/panicking.rs"),
            "std/src/panicking.rs"
        );
        assert_eq!(
            short_filename(
                "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/tokio-1.40.0/src/task.rs"
            ),
            "tokio-1.40.0/src/task.rs"
        );
        assert_eq!(
            short_filename("C:\\ws\\app\\src\\main.rs"),
            "app/src/main.rs"
        );
        assert_eq!(short_filename("/usr/include/stdio.h"), "include/stdio.h");
    }
}
