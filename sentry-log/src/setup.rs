//! How the two bridges meet: a `log` record that reaches Sentry through both the `log` bridge
//! and the `tracing` layer (through `tracing-log`) is captured once, and the double setup is
//! reported, once, with what to do about it.

use std::cell::Cell;
use std::error::Error;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use log::SetLoggerError;

thread_local! {
    /// Set while [`SentryLogger`](crate::SentryLogger) hands a record to its destination.
    static FORWARDING: Cell<bool> = const { Cell::new(false) };
}

/// Set once a `tracing` layer of this crate is part of a subscriber.
static TRACING_LAYER: AtomicBool = AtomicBool::new(false);

/// Set once a record was seen by both bridges.
static DOUBLE_SETUP: AtomicBool = AtomicBool::new(false);

/// What the double setup message says.
const DOUBLE_SETUP_HELP: &str = "`log` records reach Sentry twice: through `SentryLogger` and \
     again through its destination, which turns them into `tracing` events (tracing-log's \
     `LogTracer`) that the Sentry `tracing` layer sees. Each record is captured once, by \
     `SentryLogger`. Keep one bridge: with the Sentry `tracing` layer and tracing-log (what \
     tracing-subscriber's `init()` installs), drop `SentryLogger`; `log` records then reach \
     Sentry through the layer.";

/// Marks this thread as forwarding a record to the `log` bridge's destination until dropped.
pub(crate) struct Forwarding {
    was: bool,
}

impl Forwarding {
    pub(crate) fn enter() -> Forwarding {
        Forwarding {
            was: FORWARDING.try_with(|f| f.replace(true)).unwrap_or(false),
        }
    }
}

impl Drop for Forwarding {
    fn drop(&mut self) {
        let _ = FORWARDING.try_with(|f| f.set(self.was));
    }
}

/// `true` while the `log` bridge forwards a record to its destination on this thread: a `log`
/// record the `tracing` layer sees now is one the `log` bridge captures itself.
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) fn forwarding() -> bool {
    FORWARDING.try_with(Cell::get).unwrap_or(false)
}

/// Notes that the `tracing` layer is in a subscriber.
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) fn note_tracing_layer() {
    TRACING_LAYER.store(true, Ordering::Relaxed);
}

/// Notes a record seen by both bridges; the first time, says so on stderr (whether the SDK's
/// `debug` option is on or not: the setup is wrong, not the record).
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) fn note_double_setup() {
    if !DOUBLE_SETUP.swap(true, Ordering::Relaxed) {
        sentry_core::__private::debug_print(format_args!("{DOUBLE_SETUP_HELP}"));
    }
}

/// Whether a `log` record has reached Sentry through both bridges in this process: the `log`
/// bridge ([`SentryLogger`](crate::SentryLogger)) forwarding to tracing-log's `LogTracer`, with
/// the Sentry `tracing` layer installed. Each such record is captured once (by the `log`
/// bridge), and the first one prints what to do on stderr; this lets an application or a test
/// check its setup.
///
/// # Examples
///
/// ```
/// sentry_log::init().expect("no other logger");
/// log::info!("captured once");
/// assert!(!sentry_log::double_setup_detected());
/// ```
pub fn double_setup_detected() -> bool {
    DOUBLE_SETUP.load(Ordering::Relaxed)
}

/// Installing the `log` bridge failed: `log` already has a logger (it allows one per process).
///
/// The usual cause is tracing-subscriber's `init()`, which, with its default `tracing-log`
/// feature, installs tracing-log's `LogTracer` as `log`'s logger. With the Sentry `tracing`
/// layer in that subscriber, `log` records already reach Sentry through it, exactly once: the
/// `log` bridge is not needed. The error's text says so.
///
/// # Examples
///
/// ```
/// log::set_boxed_logger(Box::new(sentry_log::NoDestination)).unwrap();
/// let err = sentry_log::init().unwrap_err();
/// assert!(err.to_string().contains("already has a logger"));
/// ```
#[derive(Debug)]
pub struct InitError {
    source: SetLoggerError,
    tracing_layer: bool,
}

impl InitError {
    pub(crate) fn new(source: SetLoggerError) -> InitError {
        InitError {
            source,
            tracing_layer: TRACING_LAYER.load(Ordering::Relaxed),
        }
    }
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the Sentry `log` bridge was not installed: `log` already has a logger. ")?;
        if self.tracing_layer {
            f.write_str(
                "The Sentry `tracing` layer is installed: if that logger is tracing-log's \
                 `LogTracer` (tracing-subscriber's `init()` installs it), `log` records already \
                 reach Sentry through the layer; remove this call.",
            )
        } else {
            f.write_str(
                "If it is tracing-log's `LogTracer` (tracing-subscriber's `init()` installs \
                 it), add the Sentry `tracing` layer to that subscriber instead: `log` records \
                 then reach Sentry through it. Otherwise pass that logger to \
                 `SentryLogger::with_dest` and install the `SentryLogger` in its place.",
            )
        }
    }
}

impl Error for InitError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}
