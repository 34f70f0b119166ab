//! Stack traces for the Sentry SDK: capture, symbolication, in-app rules, trimming, source
//! context, debug images — and the automatic contexts of every event.
//!
//! # Two halves
//!
//! A stack trace costs two very different things:
//!
//! 1. **Capture** ([`RawStack::capture`]): walking the calling thread's stack and recording
//!    return addresses. A few microseconds; it must happen on the thread that failed.
//! 2. **Completion** ([`resolve_event`]): reading debug information to name functions, files
//!    and lines, trimming the SDK's own frames, marking in-app frames, reading source lines and
//!    listing the loaded images. Much more expensive (the first call parses the binary's DWARF).
//!
//! Events carry only addresses between the two. Completion runs in the integration's
//! `process_event` by default; with [`set_deferred_symbolication`] it moves to the transport
//! worker, which calls [`finalize_event`] right before serializing, so the capturing thread
//! pays for the capture alone.
//!
//! On Linux the symbolizer is the SDK's own (the images of `/proc/self/maps`, `addr2line` over
//! their DWARF and symbol tables), so completing a stack on the worker never holds a lock that
//! application threads need to capture theirs. Other platforms use the `backtrace` crate's
//! resolver.
//!
//! # Integrations
//!
//! - [`StacktraceIntegration`] (`"stacktrace"`): the current stack on the outermost exception
//!   of error events (`capture_error`), on message events with `attach_stacktrace`, and
//!   completion of every captured stack.
//! - [`ContextIntegration`] (`"contexts"`): `os`, `runtime`, `device` and `app` contexts
//!   computed once per process, `server_name` with `send_default_pii`, and the `modules` the
//!   application was built with (see [`set_modules`] and [`cargo_lock_modules!`]).
//!
//! ```
//! use std::sync::Arc;
//! use sentry_backtrace::{ContextIntegration, StacktraceIntegration};
//! use sentry_core::ClientOptions;
//!
//! let options = ClientOptions {
//!     in_app_include: vec!["my_vendored_lib"],
//!     integrations: vec![Arc::new(StacktraceIntegration::new()), Arc::new(ContextIntegration::new())],
//!     ..Default::default()
//! };
//! # let _ = options;
//! ```
//!
//! # Frames
//!
//! Frames are ordered caller → callee (the frame that failed is last). Each carries
//! `instruction_addr`, and when known `symbol_addr`, `image_addr`, `package` (the image file),
//! `function` (demangled, without the `::h…` hash), `raw_function`, `module` (the function's
//! path without its name and closures), `abs_path`, `filename` (from the crate's directory on),
//! `lineno`, `colno`, `in_app` ([`InAppRules`]) and `pre_context`/`context_line`/`post_context`
//! (5 lines each, see [`add_source_context`]).
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod capture;
mod contexts;
mod images;
mod in_app;
mod integration;
mod names;
mod parse;
mod resolve;
mod sort;
mod source;
mod start_frames;
mod symbolize;
mod trim;

pub use capture::{capture_unresolved, RawStack, MAX_FRAMES, MAX_RAW_FRAMES};
pub use contexts::{
    app_context, device_context, os_context, runtime_context, set_modules, ContextIntegration,
    Modules, RUSTC_VERSION,
};
pub use images::{debug_id_from_build_id, debug_images, loaded_images, LoadedImage};
pub use in_app::{InAppRules, DEFAULT_NOT_IN_APP};
pub use integration::StacktraceIntegration;
pub use names::{demangle, module_of, normalize_path, short_filename};
pub use parse::parse_std_backtrace;
pub use resolve::{
    finalize_event, in_sdk_code, is_deferred_symbolication, needs_resolution, resolve_config,
    resolve_event, set_deferred_symbolication, set_panic_location, set_resolve_config,
    ResolveConfig,
};
pub use source::{add_source_context, CONTEXT_LINES, MAX_CACHED_FILES, MAX_FILE_BYTES};
pub use symbolize::{reads_debug_info, symbolize_addresses};
pub use trim::{trim_stack, PanicLocation};

/// Captures the calling thread's stack and completes it at once (symbols, trimming, in-app,
/// source context). For code that needs a finished stack trace now; integrations capture with
/// [`RawStack::capture`] and complete later.
///
/// # Examples
///
/// ```
/// let trace = sentry_backtrace::current_stacktrace();
/// let last = trace.frames.last().unwrap();
/// assert!(last.function.as_deref().unwrap().contains("main"));
/// ```
#[inline(never)]
pub fn current_stacktrace() -> sentry_core::protocol::Stacktrace {
    let mut event = sentry_core::protocol::Event {
        stacktrace: Some(capture_unresolved()),
        ..Default::default()
    };
    let config = ResolveConfig {
        debug_images: false,
        ..(*resolve_config()).clone()
    };
    resolve::resolve_with(&mut event, &config);
    event.stacktrace.unwrap_or_default()
}
