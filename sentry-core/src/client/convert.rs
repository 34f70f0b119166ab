//! Building protocol events from what users hand in: facade events, messages and errors.

use std::borrow::Cow;
use std::error::Error;

use sentry_minimal::Level;

use crate::limits::{ELLIPSIS, MAX_EVENT_BYTES};
use crate::protocol::{Context, Event, Exception, Mechanism};

/// A message event.
///
/// No event may be larger than [`MAX_EVENT_BYTES`], so a longer message is not copied in full:
/// it keeps its first [`MAX_EVENT_BYTES`] bytes (on a character boundary) and an ellipsis; the
/// pipeline then cuts it to `max_value_length`.
pub(crate) fn event_from_message(message: &str, level: Level) -> Event {
    let message = if message.len() > MAX_EVENT_BYTES {
        let mut end = MAX_EVENT_BYTES;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let mut kept = String::with_capacity(end + ELLIPSIS.len_utf8());
        kept.push_str(&message[..end]);
        kept.push(ELLIPSIS);
        kept
    } else {
        message.to_owned()
    };
    Event {
        message: Some(message),
        level,
        ..Event::default()
    }
}

/// An error event with the whole `source()` chain, root cause first (the order Sentry expects),
/// the outermost error last with `mechanism: {type: "generic", handled: true}`.
///
/// `type_name` is the outermost error's `std::any::type_name`, when the caller knew it. Other
/// errors in the chain are trait objects: the standard library's error types are recognized
/// by their `TypeId` (an `io::Error` is `Error` in `std::io::error`, not the `Os` or `Custom`
/// its `Debug` output starts with); for any other, the type is read from the start of its
/// `Debug` output (`MyError { .. }` → `MyError`), falling back to `Error`.
pub(crate) fn event_from_error(error: &(dyn Error + 'static), type_name: Option<&str>) -> Event {
    // Sized first: an exception is about 400 bytes, and a vector grown from nothing would
    // allocate room for four (past the allocator's per-thread cache) for the common single one.
    let depth = std::iter::successors(Some(error), |&err| err.source())
        .take(64)
        .count();
    let mut chain: Vec<Exception> = Vec::with_capacity(depth);
    let mut next: Option<&(dyn Error + 'static)> = Some(error);
    let mut first = true;
    // A cycle in `source()` would loop forever; Sentry shows at most a handful anyway.
    while let Some(err) = next.take() {
        if chain.len() >= 64 {
            break;
        }
        let (ty, module) = match (first, type_name) {
            (true, Some(name)) => split_type_name(name),
            _ => match std_type_name(err) {
                Some(name) => split_type_name(name),
                None => (type_from_debug(err), None),
            },
        };
        chain.push(Exception {
            ty,
            module,
            value: Some(err.to_string()),
            ..Exception::default()
        });
        first = false;
        next = err.source();
    }
    chain.reverse();
    if let Some(outermost) = chain.last_mut() {
        outermost.mechanism = Some(Mechanism {
            ty: "generic".into(),
            handled: Some(true),
            ..Mechanism::default()
        });
    }
    Event {
        exception: chain,
        level: Level::Error,
        ..Event::default()
    }
}

/// `core::num::error::ParseIntError` → (`ParseIntError`, `core::num::error`); generic arguments
/// stay with the type: `my::Wrapper<my::Inner>` → (`Wrapper<my::Inner>`, `my`).
pub(crate) fn split_type_name(name: &str) -> (String, Option<String>) {
    let path_end = name.find('<').unwrap_or(name.len());
    // The last `::` of the path, found by its second byte (a substring search sets up a
    // searcher for every error).
    let path = &name.as_bytes()[..path_end];
    let separator = path
        .iter()
        .rposition(|&b| b == b':')
        .filter(|&i| i > 0 && path[i - 1] == b':');
    match separator {
        Some(i) => (name[i + 1..].to_owned(), Some(name[..i - 1].to_owned())),
        None => (name.to_owned(), None),
    }
}

/// The type name of `err` if it is one of the standard library's (non-generic) error types.
fn std_type_name(err: &(dyn Error + 'static)) -> Option<&'static str> {
    macro_rules! find {
        ($($ty:ty),* $(,)?) => {
            $(
                if err.is::<$ty>() {
                    return Some(std::any::type_name::<$ty>());
                }
            )*
        };
    }
    find!(
        std::io::Error,
        std::fmt::Error,
        std::num::ParseIntError,
        std::num::ParseFloatError,
        std::num::TryFromIntError,
        std::str::Utf8Error,
        std::str::ParseBoolError,
        std::string::FromUtf8Error,
        std::string::FromUtf16Error,
        std::char::ParseCharError,
        std::char::CharTryFromError,
        std::char::TryFromCharError,
        std::net::AddrParseError,
        std::time::SystemTimeError,
        std::time::TryFromFloatSecsError,
        std::sync::mpsc::RecvError,
        std::sync::mpsc::RecvTimeoutError,
        std::sync::mpsc::TryRecvError,
        std::array::TryFromSliceError,
        std::ffi::NulError,
        std::ffi::IntoStringError,
        std::ffi::FromBytesWithNulError,
        std::ffi::FromBytesUntilNulError,
        std::env::VarError,
        std::env::JoinPathsError,
        std::cell::BorrowError,
        std::cell::BorrowMutError,
        std::alloc::LayoutError,
        std::path::StripPrefixError,
        std::collections::TryReserveError,
        std::thread::AccessError,
    );
    None
}

fn type_from_debug(err: &dyn Error) -> String {
    let debug = format!("{err:?}");
    let ident: String = debug
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if ident.is_empty() || ident.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        "Error".to_owned()
    } else {
        ident
    }
}

/// Converts an event built through the facade.
pub(crate) fn event_from_facade(event: sentry_minimal::Event) -> Event {
    let mut out = Event {
        level: event.level.unwrap_or(Level::Error),
        message: event.message,
        logger: event.logger,
        transaction: event.transaction,
        extra: event.extra,
        fingerprint: event.fingerprint.into_iter().map(Cow::Owned).collect(),
        ..Event::default()
    };
    out.tags = event
        .tags
        .into_iter()
        .map(|(k, v)| (Cow::Owned(k), Cow::Owned(v)))
        .collect();
    out.contexts = event
        .contexts
        .into_iter()
        .map(|(k, v)| (Cow::Owned(k), Context::Other(v)))
        .collect();
    out.exception = event
        .exceptions
        .into_iter()
        .map(|e| Exception {
            ty: e.ty,
            value: e.value,
            module: e.module,
            ..Exception::default()
        })
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt;

    #[derive(Debug)]
    struct Outer(std::num::ParseIntError);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("could not read the port")
        }
    }
    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn error_chain_is_root_cause_first() {
        let inner = "x".parse::<u16>().unwrap_err();
        let err = Outer(inner);
        let event = event_from_error(&err, Some(std::any::type_name::<Outer>()));
        let types: Vec<_> = event.exception.iter().map(|e| e.ty.as_str()).collect();
        assert_eq!(types, ["ParseIntError", "Outer"]);
        assert_eq!(
            event.exception[1].value.as_deref(),
            Some("could not read the port")
        );
        let mechanism = event.exception[1].mechanism.as_ref().unwrap();
        assert_eq!(mechanism.ty, "generic");
        assert_eq!(mechanism.handled, Some(true));
        assert!(event.exception[0].mechanism.is_none());
        assert_eq!(event.level, Level::Error);
    }

    #[derive(Debug)]
    struct Wrapped(std::io::Error);
    impl fmt::Display for Wrapped {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("could not read the configuration")
        }
    }
    impl Error for Wrapped {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    /// An `io::Error`'s `Debug` output starts with its representation (`Os`, `Custom`,
    /// `Kind`): the standard library's error types are named by their type instead.
    #[test]
    fn standard_errors_in_a_chain_are_named_by_their_type() {
        let os = std::fs::read("/nonexistent/sentry-test").unwrap_err();
        let custom = std::io::Error::other("disk on fire");
        let kind = std::io::Error::from(std::io::ErrorKind::TimedOut);
        for io in [os, custom, kind] {
            let event = event_from_error(&Wrapped(io), None);
            let root = &event.exception[0];
            assert_eq!(root.ty, "Error");
            assert_eq!(root.module.as_deref(), Some("std::io::error"));
            // The outermost, a type of the application's, is read from `Debug`.
            assert_eq!(event.exception[1].ty, "Wrapped");
        }
        let utf8 = String::from_utf8(vec![0xff]).unwrap_err();
        let event = event_from_error(&utf8, None);
        assert_eq!(event.exception[0].ty, "FromUtf8Error");
        assert_eq!(event.exception[0].module.as_deref(), Some("alloc::string"));
    }

    #[test]
    fn huge_messages_are_not_copied_in_full() {
        let message = "é".repeat(MAX_EVENT_BYTES); // two bytes each
        let event = event_from_message(&message, Level::Info);
        let kept = event.message.unwrap();
        assert_eq!(kept.len(), MAX_EVENT_BYTES + ELLIPSIS.len_utf8());
        assert!(kept.ends_with("é…"));
        let short = event_from_message("short", Level::Info);
        assert_eq!(short.message.as_deref(), Some("short"));
    }

    #[test]
    fn type_names_split_module() {
        assert_eq!(
            split_type_name("core::num::error::ParseIntError"),
            (
                "ParseIntError".to_owned(),
                Some("core::num::error".to_owned())
            )
        );
        assert_eq!(
            split_type_name("a::W<b::C>"),
            ("W<b::C>".to_owned(), Some("a".to_owned()))
        );
        assert_eq!(split_type_name("Plain"), ("Plain".to_owned(), None));
        assert_eq!(split_type_name("W<a::B>"), ("W<a::B>".to_owned(), None));
        assert_eq!(
            split_type_name("::Rooted"),
            ("Rooted".to_owned(), Some(String::new()))
        );
        let boxed: Box<dyn Error> = "plain".into();
        assert_eq!(type_from_debug(boxed.as_ref()), "Error");
    }
}
