//! The client's part of span streaming (`trace_lifecycle = Stream`): the span pipeline, the
//! span buffer, and draining it on flush and close.
//!
//! The pipeline is split between two threads. On the thread that ends a span: the scopes the
//! segment started in were merged into the segment's attributes when it started (the user,
//! with `send_default_pii`), and the ended span's record is pushed into the buffer as it is
//! (by value, into its segment's list under the segment's lock; see [`SpanBuffer`]). On the
//! transport worker, as the buffer hands the span out: the record made a span v2 item, the
//! common attributes (segment
//! name and id, release, environment, SDK, platform, lifecycle, the thread the span ended on;
//! the name's source on the
//! segment span), the segment's attributes, strings cut to `max_value_length`, the
//! integrations' `process_span` hooks, then `before_send_span`. (Nested attribute values are cut to the depth and size limits on the
//! calling thread, before they are buffered.)

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use sentry_minimal::{Map, Value};

use super::{Client, SDK_NAME, SDK_VERSION};
use crate::callback::{in_callback, run_callback};
use crate::client_reports::ClientReports;
use crate::limits::truncate_chars;
use crate::options::{ClientOptions, DEFAULT_ENVIRONMENT};
use crate::protocol::{ClientSdkInfo, DataCategory, DiscardReason, SpanV2, DEFAULT_PLATFORM};
use crate::scope::Scope;
use crate::span_record::{Ending, SpanRecord};
use crate::transport::span_buffer::{ProcessSpan, SegmentLink};
use crate::transport::{SpanBuffer, Transport};

/// The span buffer of a client that streams spans, with the pipeline's worker half.
pub(super) fn span_buffer(
    options: &ClientOptions,
    client_reports: &Arc<ClientReports>,
    sdk_info: &Arc<ClientSdkInfo>,
) -> SpanBuffer {
    let release: Option<Value> = options.release.as_deref().map(Value::from);
    let environment: Value = options
        .environment
        .clone()
        .unwrap_or(Cow::Borrowed(DEFAULT_ENVIRONMENT))
        .as_ref()
        .into();
    let before_send_span = options.before_send_span.clone();
    let integrations = options.integrations.clone();
    let max_value_length = options.max_value_length;
    let process: ProcessSpan = Box::new(move |span: &mut SpanV2, link: &SegmentLink| {
        let attributes = &mut span.attributes;
        let (name, source) = link.name();
        let mut put = |key: &str, value: Value| {
            attributes.entry(key.to_owned()).or_insert(value);
        };
        if !name.is_empty() {
            put("sentry.segment.name", Value::String(name));
        }
        put(
            "sentry.segment.id",
            Value::String(link.segment_id.to_string()),
        );
        if span.is_segment {
            put("sentry.segment.name.source", source.as_str().into());
        }
        put("sentry.trace_lifecycle", "stream".into());
        if let Some(release) = &release {
            put("sentry.release", release.clone());
        }
        put("sentry.environment", environment.clone());
        put("sentry.sdk.name", SDK_NAME.into());
        put("sentry.sdk.version", SDK_VERSION.into());
        put("sentry.platform", DEFAULT_PLATFORM.into());
        for (key, value) in link.attributes.iter() {
            put(key, value.clone());
        }
        // Empty common attributes are left out; strings are cut to `max_value_length`.
        attributes.retain(|_, value| !matches!(value, Value::String(s) if s.is_empty()));
        for value in attributes.values_mut() {
            if let Value::String(s) = value {
                truncate_chars(s, max_value_length);
            }
        }
        truncate_chars(&mut span.name, max_value_length);
        // The integrations' span hooks (the span-first stand-in for event processors). A
        // hook that panics is logged and the span is sent as far as it got: a span is never
        // dropped here, and copying every span for every integration in case one panics
        // would cost more than the hooks do.
        for integration in &integrations {
            let _ = run_callback("an integration's process_span", || {
                integration.process_span(span);
            });
        }
        if let Some(before_send_span) = &before_send_span {
            let copy = span.clone();
            match run_callback("before_send_span", || before_send_span(copy)) {
                Some(changed) => *span = changed,
                None => crate::debug::debug_print(format_args!(
                    "before_send_span panicked; the span is sent unchanged"
                )),
            }
        }
    });
    SpanBuffer::new(
        Arc::clone(client_reports),
        Some(Arc::clone(sdk_info)),
        Some(process),
    )
}

impl Client {
    /// The attributes a segment gives each of its spans, from the scopes it started in: the
    /// scopes' attributes ([`Scope::set_attribute`]), and the user (`user.id`, `user.email`,
    /// `user.name`, `user.ip_address`) with `send_default_pii` only.
    pub(crate) fn segment_attributes(&self, scopes: [&Scope; 3]) -> Map {
        let mut attributes = Map::new();
        let [global, isolation, current] = scopes;
        if !(global.attributes().is_empty()
            && isolation.attributes().is_empty()
            && current.attributes().is_empty())
        {
            let mut merged = crate::protocol::LogAttributes::new();
            crate::scope::apply_scope_attributes(scopes, &mut merged);
            for (key, value) in merged.iter() {
                attributes.insert(key.to_owned(), value.to_value());
            }
        }
        if !self.options.send_default_pii {
            return attributes;
        }
        let [global, isolation, current] = scopes;
        let user = current
            .user
            .as_deref()
            .or(isolation.user.as_deref())
            .or(global.user.as_deref());
        if let Some(user) = user {
            for (key, value) in [
                ("user.id", &user.id),
                ("user.email", &user.email),
                ("user.name", &user.username),
            ] {
                if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
                    attributes.insert(key.into(), value.as_str().into());
                }
            }
            if let Some(ip) = &user.ip_address {
                attributes.insert("user.ip_address".into(), ip.as_str().into());
            }
        }
        attributes
    }

    /// Streams a finished span of the segment `link` (its segment span when `segment_ended`):
    /// moves `record` into the span buffer, where the worker runs the rest of the pipeline.
    /// Dropped (and counted) when the client is closed or the span ended inside an SDK
    /// callback. `record` is `None` after.
    pub(crate) fn capture_span(
        &self,
        record: &mut Option<SpanRecord>,
        ending: Ending,
        link: &Arc<SegmentLink>,
        segment_ended: bool,
    ) {
        let Some(buffer) = &self.spans else {
            *record = None;
            return;
        };
        if !self.counted.load(Ordering::Acquire) {
            *record = None;
            return; // closed: no longer accepting (and nothing would report the drop)
        }
        if in_callback() {
            *record = None;
            crate::sentry_debug!("span ended inside an SDK callback; dropped");
            self.client_reports
                .record(DiscardReason::EventProcessor, DataCategory::Span, 1);
            return;
        }
        let Some(span) = record.as_mut() else { return };
        if !span.attributes.is_empty() || !span.links.is_empty() {
            // Nested values are cut to the depth and size limits here, so that nothing deeper
            // than that is ever dropped recursively or written; scalars cost one match each.
            let containers = span.attributes.values_mut().chain(
                span.links
                    .iter_mut()
                    .flat_map(|l| l.attributes.values_mut()),
            );
            for value in containers {
                if crate::depth::is_container(value) {
                    crate::limits::cut_value_for_scope(value);
                }
            }
        }
        // The thread is borrowed: the buffer takes a reference count only when it changes.
        thread_local! {
            static THREAD: Arc<crate::profiling::ThreadInfo> = crate::profiling::this_thread();
        }
        let mut ending = Some(ending);
        let _ = THREAD.try_with(|thread| {
            if let Some(ending) = ending.take() {
                buffer.push(record, ending, Some(thread), link, segment_ended);
            }
        });
        if let Some(ending) = ending {
            // This thread's locals are being destroyed.
            buffer.push(record, ending, None, link, segment_ended);
        }
    }

    /// Hands every buffered span to `transport` (flush and close).
    pub(super) fn drain_spans(&self, transport: &dyn Transport) {
        if let Some(buffer) = &self.spans {
            let now = Instant::now();
            while let Some(envelope) = buffer.take_batch(now, true) {
                transport.send_envelope(envelope);
            }
        }
    }
}
