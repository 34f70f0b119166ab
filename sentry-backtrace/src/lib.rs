//! Stack traces for the Sentry SDK.
//!
//! This crate will capture stack traces as raw addresses on the calling thread and resolve them
//! off the hot path (symbols, in-app rules, source context, debug images). Until that lands it
//! provides nothing: the `sentry` crate's `backtrace` feature only reserves the name.
#![forbid(unsafe_code)]
