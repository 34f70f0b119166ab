//! Nothing but the benchmark in `benches/incumbent.rs`.
