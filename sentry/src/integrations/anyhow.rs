//! Capturing `anyhow::Error`s (feature `anyhow`).
//!
//! `anyhow::Error` does not implement `std::error::Error` (it could not, and still convert
//! from every error with `?`), so `sentry::capture_error(&err)` does not compile for one.
//! [`capture_anyhow`] is the way: it sends the whole chain and the backtrace anyhow captured.
//! (`sentry::capture_error(&*err)` compiles too, through the `dyn Error` inside, but sends the
//! stack of the place it was called from, not the one where the error was made.)
//!
//! ```
//! use anyhow::Context;
//! use sentry::integrations::anyhow::{capture_anyhow, event_from_anyhow};
//!
//! fn read_port(text: &str) -> anyhow::Result<u16> {
//!     text.parse::<u16>().context("the port is not a number")
//! }
//!
//! if let Err(err) = read_port("http") {
//!     capture_anyhow(&err);
//!     // What it sends: the root cause first, named by its type.
//!     let event = event_from_anyhow(&err);
//!     let types: Vec<_> = event.exception.iter().map(|e| e.ty.as_str()).collect();
//!     assert_eq!(types, ["ParseIntError", "Error"]);
//! }
//! ```
//!
//! # The event
//!
//! - One exception per error of the chain (`err.chain()`), root cause first and the outermost
//!   error last, as Sentry orders them; each named as [`capture_error`](crate::capture_error)
//!   names the errors of a `source()` chain. The root cause's own type is in the chain, so
//!   errors with different root causes group apart, whatever `context` wraps them (not all
//!   under `anyhow::Error`).
//! - The outermost exception carries the stack where the error was created, from anyhow's own
//!   backtrace when it captured one (`RUST_BACKTRACE=1` or `RUST_LIB_BACKTRACE=1`), with
//!   anyhow's and the standard library's frames trimmed from its top. Without one, the stack
//!   trace integration's stack of the capture site applies, as for any error.
//! - `mechanism: {type: "anyhow", handled: true}`.
//! - The hooks get the error in the [`Hint`] (`hint.error()`: the outermost
//!   error of the chain, to downcast).

use std::backtrace::BacktraceStatus;

use sentry_core::protocol::{Event, Mechanism};
use sentry_core::{EventId, Hint};

/// Captures an `anyhow::Error` with its chain and backtrace; see the [module docs](self).
/// Returns the event's id (nil when nothing was captured).
pub fn capture_anyhow(err: &anyhow::Error) -> EventId {
    if !sentry_core::is_enabled() {
        return EventId::nil();
    }
    let error: &(dyn std::error::Error + Send + Sync + 'static) = &**err;
    sentry_core::capture_event_with_hint(event_from_anyhow(err), &Hint::new().with_error(error))
}

/// The event [`capture_anyhow`] captures, for adding data of your own before
/// [`capture_event`](crate::capture_event).
///
/// # Examples
///
/// ```
/// let err = anyhow::anyhow!("the queue is full").context("could not enqueue the job");
/// let event = sentry::integrations::anyhow::event_from_anyhow(&err);
/// let values: Vec<_> = event.exception.iter().map(|e| e.value.as_deref().unwrap()).collect();
/// assert_eq!(values, ["the queue is full", "could not enqueue the job"]);
/// ```
pub fn event_from_anyhow(err: &anyhow::Error) -> Event {
    let error: &(dyn std::error::Error + Send + Sync + 'static) = &**err;
    let mut event = sentry_core::event_from_error(error);
    if let Some(outermost) = event.exception.last_mut() {
        outermost.mechanism = Some(Mechanism {
            ty: "anyhow".into(),
            handled: Some(true),
            ..Mechanism::default()
        });
        let backtrace = err.backtrace();
        if backtrace.status() == BacktraceStatus::Captured {
            if let Some(mut stack) = sentry_backtrace::parse_std_backtrace(&backtrace.to_string()) {
                trim_creation(&mut stack.frames);
                if !stack.frames.is_empty() {
                    outermost.stacktrace = Some(stack);
                }
            }
        }
    }
    event
}

/// Removes from the innermost end (the end of `frames`) anyhow's frames and the standard
/// library's under them, so the last frame is the code that made the error.
fn trim_creation(frames: &mut Vec<sentry_core::protocol::Frame>) {
    while let Some(last) = frames.last() {
        let machinery = last.function.as_deref().is_some_and(is_anyhow_or_std);
        // Never trim everything: a stack of machinery alone is still where it was made.
        if !machinery || frames.len() == 1 {
            break;
        }
        frames.pop();
    }
}

/// `anyhow::…`, `<anyhow::Error as …>::…`, `<E as anyhow::context::ext::StdError>::ext_context`,
/// `core::…`, `<T as core::convert::Into<U>>::into`, …
fn is_anyhow_or_std(function: &str) -> bool {
    const CRATES: [&str; 4] = ["anyhow", "core", "std", "alloc"];
    let of = |path: &str| {
        let path = path.trim_start_matches('<').trim_start_matches('&');
        let end = path.find("::").unwrap_or(path.len());
        CRATES.contains(&&path[..end])
    };
    if function.contains("anyhow::") {
        return true;
    }
    match function.split_once(" as ") {
        // `<T as core::…>::f`: a generic type (one capitalised word) implementing a std trait.
        Some((ty, rest)) if !ty.trim_start_matches('<').contains("::") => of(rest),
        Some((ty, _)) => of(ty),
        None => of(function),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anyhow_and_std_frames_are_machinery() {
        for f in [
            "anyhow::error::<impl anyhow::Error>::msg",
            "<anyhow::Error as core::convert::From<E>>::from",
            "<core::result::Result<T,E> as anyhow::Context<T,E>>::context",
            "<T as core::convert::Into<U>>::into",
            "core::ops::function::FnOnce::call_once",
            "std::backtrace::Backtrace::capture",
        ] {
            assert!(is_anyhow_or_std(f), "{f}");
        }
        for f in [
            "my_app::config::load",
            "<my_app::Config as core::str::FromStr>::from_str",
            "<T as my_app::Load>::load",
        ] {
            assert!(!is_anyhow_or_std(f), "{f}");
        }
    }
}
