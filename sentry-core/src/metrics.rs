//! Metrics: counters, gauges and distributions, sent to Sentry as `trace_metric` items.
//!
//! ```
//! use sentry_core::metrics::{self, unit};
//!
//! metrics::count("orders.created", 1);
//! metrics::gauge("queue.depth", 42);
//! metrics::distribution("payment.latency", 187.5);
//!
//! // With attributes (and, for gauges and distributions, a unit):
//! metrics::count_with("orders.created", 1, &[("region", &"eu"), ("express", &true)]);
//! metrics::gauge_with("cache.size", 5_300_000, unit::BYTE, &[("cache", &"thumbnails")]);
//! metrics::distribution_with("db.query", 12.25, unit::MILLISECOND, &[("table", &"users")]);
//! ```
//!
//! - A **counter** ([`count`]) records how many times something happened; its value is the
//!   increment, usually 1.
//! - A **gauge** ([`gauge`]) records the current value of something that goes up and down.
//! - A **distribution** ([`distribution`]) records one measured value; Sentry computes
//!   percentiles, averages and sums over them.
//!
//! Values are integers or floats ([`MetricValue`]); a NaN or
//! infinite value is dropped (counted as `invalid`). Attribute values are typed as log
//! attributes are ([`LogParam`]: strings, booleans, integers, floats;
//! wrap other values in [`DisplayParam`](crate::logger::DisplayParam)). For full control (the
//! timestamp, another trace or span) build a [`Metric`] and [`capture`] it.
//!
//! # Turning metrics on and off
//!
//! [`enable_metrics`](crate::ClientOptions::enable_metrics) is on by default: nothing is sent
//! until code records a metric. [`before_send_metric`](crate::ClientOptions::before_send_metric)
//! sees every metric, with the SDK's attributes, and may change or drop it.
//!
//! # Cost
//!
//! Every function first loads one atomic (relaxed) that says whether any client has metrics on.
//! While it is off, nothing is converted or allocated and no lock or thread-local is touched.
//! When it is on, the calling thread stamps the record, converts the attributes passed (a
//! metric without attributes allocates nothing for them), reads the current span or the scope's
//! trace, and appends the record to the client's buffer; the SDK's default attributes are added
//! on the transport's thread when no `before_send_metric` is set. Serialization and sending
//! happen on the transport's thread, in batches of up to 100 metrics at most 5 seconds apart;
//! at most 1,000 metrics wait, further ones are dropped and counted (`buffer_overflow`,
//! `trace_metric`).
//!
//! # What a metric carries
//!
//! - `name`, `type`, `value`, `unit` (when given), `timestamp`;
//! - `trace_id` and `span_id` of the current span, or the scope's trace (without `span_id`)
//!   when no span is current;
//! - `sentry.environment`, `sentry.release`, `sentry.sdk.name`, `sentry.sdk.version`, and
//!   `server.address` when a [`server_name`](crate::ClientOptions::server_name) is set;
//! - with [`send_default_pii`](crate::ClientOptions::send_default_pii) only: the scope's user
//!   as `user.id`, `user.email`, `user.name`.
//!
//! Attributes you pass win over the defaults of the same name.

use std::borrow::Cow;

use crate::logger::param::LogParam;
use crate::logger::Attribute;
use crate::protocol::{LogAttributes, Metric, MetricType, MetricValue};
use crate::scope::{with_scopes, Snapshots};
use crate::span::Span;

/// Unit names Sentry knows, for gauges and distributions. Any other string is accepted too
/// (`"connection"`, `"request"`, …).
pub mod unit {
    /// 10^-9 seconds.
    pub const NANOSECOND: &str = "nanosecond";
    /// 10^-6 seconds.
    pub const MICROSECOND: &str = "microsecond";
    /// 10^-3 seconds.
    pub const MILLISECOND: &str = "millisecond";
    /// A second.
    pub const SECOND: &str = "second";
    /// 60 seconds.
    pub const MINUTE: &str = "minute";
    /// 3,600 seconds.
    pub const HOUR: &str = "hour";
    /// 86,400 seconds.
    pub const DAY: &str = "day";
    /// 604,800 seconds.
    pub const WEEK: &str = "week";
    /// An eighth of a byte.
    pub const BIT: &str = "bit";
    /// A byte.
    pub const BYTE: &str = "byte";
    /// 10^3 bytes.
    pub const KILOBYTE: &str = "kilobyte";
    /// 2^10 bytes.
    pub const KIBIBYTE: &str = "kibibyte";
    /// 10^6 bytes.
    pub const MEGABYTE: &str = "megabyte";
    /// 2^20 bytes.
    pub const MEBIBYTE: &str = "mebibyte";
    /// 10^9 bytes.
    pub const GIGABYTE: &str = "gigabyte";
    /// 2^30 bytes.
    pub const GIBIBYTE: &str = "gibibyte";
    /// A fraction of one (0.25).
    pub const RATIO: &str = "ratio";
    /// A fraction of a hundred (25).
    pub const PERCENT: &str = "percent";
    /// A plain number.
    pub const NONE: &str = "none";
}

/// `true` while at least one enabled client has metrics on: one relaxed atomic load.
///
/// Every function of this module checks it first. Check it yourself before building a
/// [`Metric`] that is costly to make.
///
/// # Examples
///
/// ```
/// // No client exists in this example.
/// assert!(!sentry_core::metrics::enabled());
/// ```
#[inline(always)]
pub fn enabled() -> bool {
    crate::gate::metrics_on()
}

/// Increments the counter `name` by `value` (usually 1).
///
/// ```
/// sentry_core::metrics::count("emails.sent", 1);
/// ```
#[inline]
pub fn count(name: impl Into<Cow<'static, str>>, value: impl Into<MetricValue>) {
    if enabled() {
        record(MetricType::Counter, name.into(), value.into(), None, &[]);
    }
}

/// Records `value` as the current value of the gauge `name`.
///
/// ```
/// sentry_core::metrics::gauge("workers.busy", 3);
/// ```
#[inline]
pub fn gauge(name: impl Into<Cow<'static, str>>, value: impl Into<MetricValue>) {
    if enabled() {
        record(MetricType::Gauge, name.into(), value.into(), None, &[]);
    }
}

/// Records one `value` of the distribution `name`.
///
/// ```
/// sentry_core::metrics::distribution("upload.size", 52_000);
/// ```
#[inline]
pub fn distribution(name: impl Into<Cow<'static, str>>, value: impl Into<MetricValue>) {
    if enabled() {
        record(
            MetricType::Distribution,
            name.into(),
            value.into(),
            None,
            &[],
        );
    }
}

/// [`count`] with attributes.
///
/// ```
/// sentry_core::metrics::count_with("http.requests", 1, &[("route", &"/users"), ("status", &200)]);
/// ```
#[inline]
pub fn count_with(
    name: impl Into<Cow<'static, str>>,
    value: impl Into<MetricValue>,
    attributes: &[Attribute<'_>],
) {
    if enabled() {
        record(
            MetricType::Counter,
            name.into(),
            value.into(),
            None,
            attributes,
        );
    }
}

/// [`gauge`] with a unit (see [`mod@unit`]; an empty string means none) and attributes.
///
/// ```
/// use sentry_core::metrics::{self, unit};
///
/// metrics::gauge_with("memory.rss", 81_920_000, unit::BYTE, &[("process", &"indexer")]);
/// ```
#[inline]
pub fn gauge_with(
    name: impl Into<Cow<'static, str>>,
    value: impl Into<MetricValue>,
    unit: impl Into<Cow<'static, str>>,
    attributes: &[Attribute<'_>],
) {
    if enabled() {
        record(
            MetricType::Gauge,
            name.into(),
            value.into(),
            non_empty(unit.into()),
            attributes,
        );
    }
}

/// [`distribution`] with a unit (see [`mod@unit`]; an empty string means none) and attributes.
///
/// ```
/// use sentry_core::metrics::{self, unit};
///
/// metrics::distribution_with("render.time", 16.7, unit::MILLISECOND, &[("page", &"home")]);
/// ```
#[inline]
pub fn distribution_with(
    name: impl Into<Cow<'static, str>>,
    value: impl Into<MetricValue>,
    unit: impl Into<Cow<'static, str>>,
    attributes: &[Attribute<'_>],
) {
    if enabled() {
        record(
            MetricType::Distribution,
            name.into(),
            value.into(),
            non_empty(unit.into()),
            attributes,
        );
    }
}

fn non_empty(unit: Cow<'static, str>) -> Option<Cow<'static, str>> {
    (!unit.is_empty()).then_some(unit)
}

/// Builds the record and captures it. Only called once the gate said metrics are on.
#[inline(never)]
fn record(
    ty: MetricType,
    name: Cow<'static, str>,
    value: MetricValue,
    unit: Option<Cow<'static, str>>,
    attributes: &[Attribute<'_>],
) {
    let mut metric = Metric::new(ty, name, value);
    metric.unit = unit;
    if !attributes.is_empty() {
        let mut attrs = LogAttributes::with_capacity(attributes.len());
        for (key, value) in attributes {
            attrs.insert(*key, value.to_log_value());
        }
        metric.attributes = attrs;
    }
    capture_enabled(metric);
}

/// Captures a metric built by hand through the current client, with the current scopes.
///
/// A nil `trace_id` is replaced by the current span's trace (and `span_id` by the span), or the
/// scope's trace when no span is current; a trace set on the metric is kept. See the
/// [module documentation](self) for what else the SDK adds.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use sentry_core::protocol::{Metric, MetricType};
///
/// let mut metric = Metric::new(MetricType::Gauge, "backlog", 17);
/// metric.timestamp = SystemTime::now() - Duration::from_secs(60);
/// metric.unit = Some("job".into());
/// sentry_core::metrics::capture(metric);
/// ```
#[inline]
pub fn capture(metric: Metric) {
    if enabled() {
        capture_enabled(metric);
    }
}

#[inline(never)]
fn capture_enabled(mut metric: Metric) {
    with_scopes(|scopes| {
        if metric.trace_id.is_nil() {
            if let Some((trace_id, span_id)) = scopes.span.as_ref().and_then(Span::ids) {
                metric.trace_id = trace_id;
                metric.span_id = Some(span_id);
            }
        }
        let client = scopes.client();
        if client.options().send_default_pii || crate::scope::attributes_in_use() {
            // The user's and the scopes' attributes come from the scopes: all three.
            let snapshots = Snapshots::of(scopes);
            client.capture_metric(metric, Some(snapshots.scopes()));
            return;
        }
        if metric.trace_id.is_nil() {
            if let Some(trace_id) = scopes.with_trace(|p| p.map(|p| p.trace_id)) {
                metric.trace_id = trace_id;
            }
        }
        client.capture_metric(metric, None);
    });
}
