//! The client's part of metrics: the buffer it fills, default attributes, `before_send_metric`,
//! and draining the buffer on flush and close.

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::{Client, SDK_NAME, SDK_VERSION};
use crate::callback::run_callback;
use crate::client_reports::ClientReports;
use crate::integration::inside_sdk;
use crate::metric_buffer::MetricBuffer;
use crate::options::ClientOptions;
use crate::protocol::{
    ClientSdkInfo, DataCategory, DiscardReason, LogAttributes, LogValue, Metric,
};
use crate::scope::Scope;
use crate::transport::Transport;

/// The attributes the SDK adds to every metric: `sentry.environment`, `sentry.release` (when
/// set), `sentry.sdk.name`, `sentry.sdk.version` and `server.address` (when a server name is
/// set; the metrics specification asks backend SDKs for it whatever `send_default_pii` says).
fn default_attributes(options: &ClientOptions) -> LogAttributes {
    let mut attributes = LogAttributes::with_capacity(5);
    let environment = options
        .environment
        .clone()
        .unwrap_or(Cow::Borrowed(crate::options::DEFAULT_ENVIRONMENT));
    attributes.insert("sentry.environment", LogValue::String(environment));
    if let Some(release) = &options.release {
        attributes.insert("sentry.release", LogValue::String(release.clone()));
    }
    attributes.insert("sentry.sdk.name", LogValue::String(Cow::Borrowed(SDK_NAME)));
    attributes.insert(
        "sentry.sdk.version",
        LogValue::String(Cow::Borrowed(SDK_VERSION)),
    );
    if let Some(server) = &options.server_name {
        attributes.insert("server.address", LogValue::String(server.clone()));
    }
    attributes
}

/// Adds `defaults` that `metric` does not set itself.
fn apply_defaults(metric: &mut Metric, defaults: &LogAttributes) {
    for (key, value) in defaults.iter() {
        if !metric.attributes.contains_key(key) {
            metric.attributes.insert(key.to_owned(), value.clone());
        }
    }
}

/// The buffer of a client with metrics on.
///
/// Without `before_send_metric` nobody looks at a metric between its capture and its batch, so
/// the default attributes are added as the transport worker takes the batch, which keeps their
/// copies off the calling thread. With the callback they are added before it runs (it must see
/// them), on the calling thread.
pub(super) fn metric_buffer(
    options: &ClientOptions,
    client_reports: &Arc<ClientReports>,
    sdk_info: &Arc<ClientSdkInfo>,
) -> MetricBuffer {
    let buffer = MetricBuffer::new(Arc::clone(client_reports)).with_sdk_info(Arc::clone(sdk_info));
    if options.before_send_metric.is_some() {
        return buffer;
    }
    let defaults = default_attributes(options);
    buffer.with_finish(Box::new(move |metric| apply_defaults(metric, &defaults)))
}

impl Client {
    /// Captures a metric: sets its trace (from the scopes' trace when it has none), checks it,
    /// cuts its name, unit and string attributes to
    /// [`max_value_length`](crate::ClientOptions::max_value_length), adds the SDK's attributes
    /// (and, with `send_default_pii`, the scopes' user), runs `before_send_metric`, and buffers
    /// it for sending.
    ///
    /// Does nothing when the client is disabled or closed, or has
    /// [`enable_metrics`](crate::ClientOptions::enable_metrics) off. A metric whose value is
    /// NaN or infinite, or whose name is empty, is dropped as `invalid`; one dropped by
    /// `before_send_metric` (or captured from SDK code, see [`inside_sdk`]) is counted too, all
    /// in the `trace_metric` category.
    ///
    /// `scopes` are `[global, isolation, current]`; without them the metric gets a fresh trace
    /// id (if it has none) and no user.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::envelope::EnvelopeItem;
    /// use sentry_core::protocol::{Metric, MetricType};
    /// use sentry_core::{test::TestTransport, Client, ClientOptions};
    ///
    /// let transport = TestTransport::new();
    /// let client = Client::new(ClientOptions {
    ///     dsn: Some("https://public@sentry.invalid/1".parse().unwrap()),
    ///     transport: Some(transport.factory()),
    ///     release: Some("app@1.0".into()),
    ///     ..Default::default()
    /// });
    /// client.capture_metric(Metric::new(MetricType::Counter, "orders", 1), None);
    /// assert!(client.close(None)); // drains the buffer
    /// let envelopes = transport.envelopes();
    /// let Some(EnvelopeItem::Metrics(metrics)) = envelopes[0].items().next() else { panic!() };
    /// assert_eq!(metrics[0].attributes.get("sentry.release").unwrap().as_str(), Some("app@1.0"));
    /// ```
    pub fn capture_metric(&self, mut metric: Metric, scopes: Option<[&Scope; 3]>) {
        let Some(buffer) = &self.metrics else {
            return;
        };
        if !self.counted.load(Ordering::Acquire) {
            return; // closed
        }
        if inside_sdk() {
            crate::sentry_debug!("metric captured from SDK code; dropped");
            self.record_metric_drop(DiscardReason::EventProcessor);
            return;
        }
        if !self.metric_is_valid(&metric) {
            return;
        }
        if metric.trace_id.is_nil() {
            metric.trace_id = match scopes.and_then(crate::scope::propagation_of) {
                Some(propagation) => propagation.trace_id,
                None => crate::protocol::new_trace_id(),
            };
        }
        if let Some(scopes) = scopes {
            crate::scope::apply_scope_attributes(scopes, &mut metric.attributes);
        }
        self.cut_metric(&mut metric);
        if self.options.send_default_pii {
            add_user(&mut metric, scopes);
        }
        if let Some(before_send_metric) = &self.options.before_send_metric {
            apply_defaults(&mut metric, &default_attributes(&self.options));
            match run_callback("before_send_metric", || before_send_metric(metric)).flatten() {
                Some(kept) => metric = kept,
                None => {
                    self.record_metric_drop(DiscardReason::BeforeSend);
                    return;
                }
            }
            if !self.metric_is_valid(&metric) {
                return;
            }
            self.cut_metric(&mut metric);
        }
        crate::sentry_debug!(
            "metric {} {} = {}{}",
            metric.ty,
            metric.name,
            metric.value,
            metric.unit.as_deref().unwrap_or("")
        );
        buffer.push(metric);
    }

    /// `false`, with the drop counted, for a metric Sentry would reject.
    fn metric_is_valid(&self, metric: &Metric) -> bool {
        let problem = if !metric.value.is_finite() {
            "its value is not a finite number"
        } else if metric.name.is_empty() {
            "it has no name"
        } else {
            return true;
        };
        crate::sentry_debug!("metric {:?} dropped: {problem}", metric.name);
        self.record_metric_drop(DiscardReason::Invalid);
        false
    }

    /// Cuts the name, the unit and the string attributes to `max_value_length`.
    fn cut_metric(&self, metric: &mut Metric) {
        let max = self.options.max_value_length;
        crate::limits::truncate_cow(&mut metric.name, max);
        if let Some(unit) = &mut metric.unit {
            crate::limits::truncate_cow(unit, max);
        }
        if metric.attributes.is_empty() {
            return;
        }
        for value in metric.attributes.values_mut() {
            if let LogValue::String(s) = value {
                crate::limits::truncate_cow(s, max);
            }
        }
    }

    fn record_metric_drop(&self, reason: DiscardReason) {
        self.client_reports
            .record(reason, DataCategory::TraceMetric, 1);
    }

    /// Hands every buffered metric to `transport`, in batches.
    pub(super) fn drain_metrics(&self, transport: &dyn Transport) {
        if let Some(buffer) = &self.metrics {
            let now = Instant::now();
            while let Some(envelope) = buffer.take_batch(now, true) {
                transport.send_envelope(envelope);
            }
        }
    }
}

/// The scopes' user as `user.id`, `user.email` and `user.name` (attributes already set win).
fn add_user(metric: &mut Metric, scopes: Option<[&Scope; 3]>) {
    let user = scopes.and_then(|[global, isolation, current]| {
        current
            .user
            .as_deref()
            .or(isolation.user.as_deref())
            .or(global.user.as_deref())
    });
    let Some(user) = user else {
        return;
    };
    for (key, value) in [
        ("user.id", &user.id),
        ("user.email", &user.email),
        ("user.name", &user.username),
    ] {
        if let Some(value) = value {
            if !metric.attributes.contains_key(key) {
                metric.attributes.insert(key, value.clone());
            }
        }
    }
}
