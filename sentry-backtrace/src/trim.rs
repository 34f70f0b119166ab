//! Removing the SDK's own capture path and the panic machinery from the top of a stack.

use sentry_core::protocol::Frame;

use crate::in_app::{is_runtime_function, is_sdk_crate};
use crate::names::{crate_of, normalize_path};

/// Crates whose frames on top of a stack are machinery, not the code that failed.
const MACHINERY_CRATES: &[&str] = &[
    "std",
    "core",
    "alloc",
    "backtrace",
    "panic_unwind",
    "panic_abort",
    "__rustc",
    "addr2line",
    "gimli",
    "object",
    "rustc_demangle",
];

/// Where a panic happened (`Location::caller`), to cut its stack exactly there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanicLocation {
    /// The file as the compiler recorded it (usually relative to the workspace root).
    pub file: String,
    /// The 1-based line.
    pub line: u32,
}

/// `true` for frames of the SDK, the unwinder, the panic runtime and the standard library:
/// what sits between the code that failed and the point where the stack was captured.
fn is_machinery(frame: &Frame) -> bool {
    let Some(function) = frame.function.as_deref() else {
        // Unknown code might be the application's: never trim through it.
        return false;
    };
    let path = normalize_path(function);
    match crate_of(&path) {
        Some(krate) => is_sdk_crate(krate) || MACHINERY_CRATES.contains(&krate),
        None => is_runtime_function(&path),
    }
}

/// `true` if `frame` is at `location`.
fn is_at(frame: &Frame, location: &PanicLocation) -> bool {
    if frame.lineno != Some(u64::from(location.line)) {
        return false;
    }
    let file = location.file.replace('\\', "/");
    [frame.abs_path.as_deref(), frame.filename.as_deref()]
        .into_iter()
        .flatten()
        .any(|path| {
            let path = path.replace('\\', "/");
            path == file
                || path.ends_with(&format!("/{}", file.trim_start_matches("./")))
                || file.ends_with(&format!("/{path}"))
        })
}

/// Trims the innermost end (the end of `frames`, which are ordered caller → callee) so the
/// last frame is the code that failed:
///
/// - with a panic `location`, everything after the innermost frame at that file and line;
/// - otherwise (or when no frame matches), every frame after the innermost frame that is not
///   machinery: the SDK's crates, the unwinder, the panic runtime and `std`/`core`/`alloc`.
///
/// A stack with no such frame is left as it is. Returns how many frames were removed.
///
/// # Examples
///
/// ```
/// use sentry_backtrace::trim_stack;
/// use sentry_core::protocol::Frame;
///
/// let frame = |f: &str| Frame { function: Some(f.into()), ..Frame::default() };
/// let mut frames = vec![
///     frame("my_app::main"),
///     frame("my_app::load"),
///     frame("sentry_core::api::capture_error"),
///     frame("std::thread::local::LocalKey<T>::with"),
///     frame("sentry_backtrace::capture::RawStack::capture"),
///     frame("backtrace::backtrace::trace"),
/// ];
/// assert_eq!(trim_stack(&mut frames, None), 4);
/// assert_eq!(frames.last().unwrap().function.as_deref(), Some("my_app::load"));
/// ```
pub fn trim_stack(frames: &mut Vec<Frame>, location: Option<&PanicLocation>) -> usize {
    let keep = location
        .and_then(|loc| frames.iter().rposition(|f| is_at(f, loc)))
        .or_else(|| frames.iter().rposition(|f| !is_machinery(f)));
    match keep {
        Some(last) => {
            let removed = frames.len() - (last + 1);
            frames.truncate(last + 1);
            removed
        }
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(function: &str) -> Frame {
        Frame {
            function: Some(function.into()),
            ..Frame::default()
        }
    }

    #[test]
    fn panic_machinery_is_removed() {
        let mut frames = vec![
            frame("std::rt::lang_start"),
            frame("app::main"),
            frame("core::result::Result<T,E>::unwrap"),
            frame("core::result::unwrap_failed"),
            frame("core::panicking::panic_fmt"),
            frame("rust_begin_unwind"),
            frame("std::panicking::rust_panic_with_hook"),
            frame("<alloc::boxed::Box<F,A> as core::ops::function::Fn<Args>>::call"),
            frame("sentry_panic::panic_handler"),
            frame("sentry_backtrace::capture::RawStack::capture"),
            frame("backtrace::backtrace::libunwind::trace"),
            frame("_Unwind_Backtrace"),
        ];
        assert_eq!(trim_stack(&mut frames, None), 10);
        assert_eq!(frames.len(), 2);
    }

    #[test]
    fn location_wins() {
        let mut at = frame("app::helper");
        at.abs_path = Some("/ws/app/src/lib.rs".into());
        at.lineno = Some(7);
        let mut frames = vec![
            frame("app::main"),
            at,
            frame("serde::x"),
            frame("core::panicking::panic"),
        ];
        let loc = PanicLocation {
            file: "app/src/lib.rs".into(),
            line: 7,
        };
        assert_eq!(trim_stack(&mut frames, Some(&loc)), 2);
        assert_eq!(frames[1].function.as_deref(), Some("app::helper"));
        // A location that matches nothing falls back to the machinery rule.
        let mut frames = vec![
            frame("app::main"),
            frame("serde::x"),
            frame("core::panicking::panic"),
        ];
        let far = PanicLocation {
            file: "elsewhere.rs".into(),
            line: 1,
        };
        assert_eq!(trim_stack(&mut frames, Some(&far)), 1);
    }

    #[test]
    fn unknown_frames_stop_trimming_and_all_machinery_is_kept() {
        let mut frames = vec![
            frame("std::rt::lang_start"),
            Frame::default(),
            frame("std::x"),
        ];
        assert_eq!(trim_stack(&mut frames, None), 1);
        let mut frames = vec![frame("std::rt::lang_start"), frame("core::x")];
        assert_eq!(trim_stack(&mut frames, None), 0);
    }
}
