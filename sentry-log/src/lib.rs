//! `log` and `tracing` bridges for the Sentry SDK.
//!
//! This crate will turn `log` records and `tracing` events into breadcrumbs, events and Sentry
//! logs. Until that lands it provides nothing.
#![forbid(unsafe_code)]
