//! Continuous profiling for the Sentry SDK (Linux x86_64 and aarch64).
//!
//! The profiler samples the stack of every thread of the process 101 times a second and
//! sends what it saw as profile chunks (sample format version 2): one a minute, and one when
//! the SDK flushes or closes. Frames are raw instruction addresses; Sentry symbolicates them
//! with the loaded images listed in each chunk. While the profiler runs, transactions carry
//! its id (`contexts.profile.profiler_id`), so Sentry shows the profile of each transaction.
//!
//! Two options decide whether and when it runs:
//!
//! - `profile_session_sample_rate` (0.0 to 1.0, or `SENTRY_PROFILE_SESSION_SAMPLE_RATE`): the
//!   chance that this process is profiled, drawn once per process. Default 0: never.
//! - `profile_lifecycle`: [`ProfileLifecycle::Manual`] (the default) runs it from
//!   [`start_profiler`] to [`stop_profiler`]; [`ProfileLifecycle::Trace`] runs it while at
//!   least one sampled transaction runs (tracing must be on).
//!
//! # Examples
//!
//! With `sentry` and its `profiling` feature, `init` sets it up; profile a piece of work by
//! hand:
//!
//! ```
//! use std::sync::Arc;
//! use sentry_core::ClientOptions;
//!
//! let _guard = sentry_core::init(ClientOptions {
//!     profile_session_sample_rate: 1.0,
//!     // What `sentry::init` adds with the `profiling` feature:
//!     integrations: vec![sentry_profiling::ProfilingIntegration::shared()],
//!     ..Default::default()
//! });
//! // No DSN in this example: the SDK is off and the profiler with it.
//! assert_eq!(sentry_profiling::start_profiler().ok(), Some(false));
//! sentry_profiling::stop_profiler();
//! ```
//!
//! # What it costs and what it misses
//!
//! Stacks are unwound in a signal handler from the call-frame information (`.eh_frame`) the
//! binary already carries, so no special build flags are needed; a stack whose unwinding
//! stops early (code without unwind tables) keeps the frames found. Async tasks appear on the
//! executor's threads, not per task. The sampler's
//! thread does the rest: deduplicating frames and stacks, and once a minute serializing and
//! queueing the chunk. A chunk holds at most 193,920 samples (a minute of 32 threads at
//! 101 Hz); more are dropped and counted in the SDK's debug output.
//!
//! On other platforms the API exists: [`start_profiler`] returns
//! [`ProfilerError::Unsupported`] and says so once on stderr.

// `unsafe` is allowed in this crate only, for the signal handler and the stack reads of the
// sampler; every block carries its safety argument next to it.
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod aggregator;
mod error;
mod hash;
mod integration;
mod lifecycle;
mod profiler;
// Some of the sampler's items serve one platform only (the error of the others, the
// unsupported stub's) or its own tests.
#[allow(dead_code)]
mod sampler;
mod session;
mod sink;

use std::sync::atomic::{AtomicBool, Ordering};

use sentry_core::Scopes;

pub use error::ProfilerError;
pub use integration::ProfilingIntegration;
pub use sentry_core::ProfileLifecycle;

/// Starts the profiler ([`ProfileLifecycle::Manual`]).
///
/// Returns `Ok(true)` when the profiler runs (it did already, or it does now), `Ok(false)`
/// when it stays off by configuration: the SDK is disabled, this process was not sampled by
/// `profile_session_sample_rate` (said once in the debug output), or the lifecycle is
/// [`ProfileLifecycle::Trace`], where transactions start and stop it.
///
/// # Errors
///
/// [`ProfilerError::Unsupported`] on platforms other than Linux x86_64 and aarch64, or the
/// operating system's refusal to install the signal handler or start the sampler's thread.
/// The error is also printed on stderr (once).
///
/// # Examples
///
/// ```
/// // Without `init` the SDK is disabled, and so is the profiler.
/// assert_eq!(sentry_profiling::start_profiler().ok(), Some(false));
/// assert!(!sentry_profiling::is_profiler_running());
/// ```
pub fn start_profiler() -> Result<bool, ProfilerError> {
    let client = Scopes::current().client();
    if !client.is_enabled() {
        sentry_core::sentry_debug!("start_profiler: the SDK is disabled; the profiler stays off");
        return Ok(false);
    }
    let options = client.options();
    if options.profile_lifecycle == ProfileLifecycle::Trace {
        log_once(
            &TRACE_SAID,
            "start_profiler is ignored: with profile_lifecycle Trace, sampled transactions \
             start and stop the profiler",
        );
        return Ok(false);
    }
    let rate = options.profile_session_sample_rate;
    if !session::process_sampled(rate) {
        session::log_not_sampled(rate);
        return Ok(false);
    }
    match profiler::start(client) {
        Ok(()) => Ok(true),
        Err(err) => {
            log_start_error(&err);
            Err(err)
        }
    }
}

/// Stops the profiler started by [`start_profiler`] and sends its last chunk. Does nothing
/// when it does not run, or in [`ProfileLifecycle::Trace`], where transactions stop it.
///
/// # Examples
///
/// ```
/// sentry_profiling::stop_profiler(); // nothing runs: nothing happens
/// assert!(!sentry_profiling::is_profiler_running());
/// ```
pub fn stop_profiler() {
    let client = Scopes::current().client();
    if client.options().profile_lifecycle == ProfileLifecycle::Trace {
        return;
    }
    profiler::stop(profiler::Which::Any, profiler::AfterStop::Forget);
}

/// `true` while the profiler samples.
///
/// # Examples
///
/// ```
/// assert!(!sentry_profiling::is_profiler_running());
/// ```
pub fn is_profiler_running() -> bool {
    profiler::is_running()
}

static TRACE_SAID: AtomicBool = AtomicBool::new(false);
static START_ERROR_SAID: AtomicBool = AtomicBool::new(false);

fn log_once(said: &AtomicBool, message: &str) {
    if !said.swap(true, Ordering::Relaxed) {
        sentry_core::__private::debug_print(format_args!("{message}"));
    }
}

/// Prints why the profiler did not start, once per process.
pub(crate) fn log_start_error(err: &ProfilerError) {
    log_once(&START_ERROR_SAID, &err.to_string());
}

/// Why this platform cannot be profiled, or `None` where it can.
pub(crate) fn unsupported() -> Option<&'static str> {
    if cfg!(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    )) {
        None
    } else {
        Some(sampler::SUPPORTED_PLATFORMS)
    }
}
