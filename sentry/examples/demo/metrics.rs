//! Metrics: one counter, one gauge and one distribution, each with a unit or an attribute.

use sentry::metrics::{self, unit};

/// Sends one metric of each kind; they leave in one `trace_metric` envelope at the next flush
/// (or after 5 seconds).
pub(crate) fn run() {
    metrics::count_with("demo.orders", 1, &[("region", &"eu")]);
    metrics::gauge_with("demo.queue.depth", 42, "job", &[("queue", &"emails")]);
    metrics::distribution_with(
        "demo.checkout.duration",
        187.5,
        unit::MILLISECOND,
        &[("payment", &"card")],
    );
}
