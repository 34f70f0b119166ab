//! Continuous profiling for the Sentry SDK (Linux x86_64 and aarch64).
//!
//! (The crate documentation is written with the profiler's public API.)

// `unsafe` is allowed in this crate only, for the signal handler and the stack reads of the
// sampler; every block carries its safety argument next to it.
#![deny(unsafe_code)]

mod aggregator;
#[allow(dead_code)]
mod sampler;
