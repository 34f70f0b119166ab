//! Panic hook integration for the Sentry SDK.
//!
//! This crate will install a process-wide panic hook that reports panics as fatal events and
//! flushes them before the process dies. Until that lands it provides nothing.
#![forbid(unsafe_code)]
