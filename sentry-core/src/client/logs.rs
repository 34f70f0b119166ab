//! The client's part of structured logs: default attributes, `before_send_log`, buffering, and
//! draining the buffer on flush and close.

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::{Client, SDK_NAME, SDK_VERSION};
use crate::callback::run_callback;
use crate::integration::inside_sdk;
use crate::protocol::{DataCategory, DiscardReason, Log, LogValue};
use crate::scope::Scope;
use crate::transport::Transport;

impl Client {
    /// Captures a structured log: adds the SDK's attributes and the scopes' trace (and, with
    /// `send_default_pii`, user), runs `before_send_log`, cuts the body and string attributes
    /// to [`max_value_length`](crate::ClientOptions::max_value_length), and buffers it for
    /// sending. A log still larger than [`MAX_LOG_BYTES`](crate::limits::MAX_LOG_BYTES) is
    /// dropped and counted as `invalid`.
    ///
    /// Does nothing when the client is disabled or closed, or does not have
    /// [`enable_logs`](crate::ClientOptions::enable_logs) on. A log dropped by
    /// `before_send_log` (or captured from SDK code, see [`inside_sdk`]) is
    /// counted in the client reports.
    ///
    /// `scopes` are `[global, isolation, current]`; without them the log gets a fresh trace id
    /// (if it has none) and no user.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::protocol::{Log, LogLevel};
    /// use sentry_core::{test::TestTransport, Client, ClientOptions};
    /// use sentry_core::envelope::EnvelopeItem;
    ///
    /// let transport = TestTransport::new();
    /// let client = Client::new(ClientOptions {
    ///     dsn: Some("https://public@sentry.invalid/1".parse().unwrap()),
    ///     transport: Some(transport.factory()),
    ///     enable_logs: true,
    ///     release: Some("app@1.0".into()),
    ///     ..Default::default()
    /// });
    /// client.capture_log(Log::new(LogLevel::Info, "started"), None);
    /// assert!(client.close(None)); // drains the buffer
    /// let envelopes = transport.envelopes();
    /// let Some(EnvelopeItem::Logs(logs)) = envelopes[0].items().next() else { panic!() };
    /// assert_eq!(logs[0].attributes.get("sentry.release").unwrap().as_str(), Some("app@1.0"));
    /// ```
    pub fn capture_log(&self, mut log: Log, scopes: Option<[&Scope; 3]>) {
        let Some(buffer) = &self.logs else {
            return;
        };
        if !self.counted.load(Ordering::Acquire) {
            return; // closed
        }
        if inside_sdk() {
            crate::sentry_debug!("log captured from SDK code; dropped");
            self.record_log_drop(DiscardReason::EventProcessor, &log);
            return;
        }
        self.apply_log_defaults(&mut log, scopes);
        if let Some(before_send_log) = &self.options.before_send_log {
            let size = log.estimated_size();
            match run_callback("before_send_log", || before_send_log(log)).flatten() {
                Some(kept) => log = kept,
                None => {
                    self.client_reports
                        .record(DiscardReason::BeforeSend, DataCategory::LogItem, 1);
                    self.client_reports.record(
                        DiscardReason::BeforeSend,
                        DataCategory::LogByte,
                        size as u64,
                    );
                    return;
                }
            }
        }
        if let Some(size) = crate::limits::enforce_log(&mut log, self.options.max_value_length) {
            crate::sentry_debug!(
                "log is {size} bytes after cutting its strings, more than the {} Sentry \
                 accepts; dropped",
                crate::limits::MAX_LOG_BYTES
            );
            self.record_log_drop(DiscardReason::Invalid, &log);
            return;
        }
        crate::sentry_debug!("log [{}] {}", log.level, log.body);
        buffer.push(log);
    }

    fn record_log_drop(&self, reason: DiscardReason, log: &Log) {
        self.client_reports.record(reason, DataCategory::LogItem, 1);
        self.client_reports
            .record(reason, DataCategory::LogByte, log.estimated_size() as u64);
    }

    /// The trace, the SDK's attributes and (with `send_default_pii`) the server and user;
    /// attributes already set are kept.
    fn apply_log_defaults(&self, log: &mut Log, scopes: Option<[&Scope; 3]>) {
        let options = &self.options;
        if log.trace_id.is_nil() {
            let propagation = scopes.and_then(crate::scope::propagation_of);
            log.trace_id = match propagation {
                Some(p) => p.trace_id,
                None => crate::protocol::new_trace_id(),
            };
        }
        let attributes = &mut log.attributes;
        attributes.insert_if_absent("sentry.environment", || {
            LogValue::String(
                options
                    .environment
                    .clone()
                    .unwrap_or(Cow::Borrowed(crate::options::DEFAULT_ENVIRONMENT)),
            )
        });
        if let Some(release) = &options.release {
            attributes.insert_if_absent("sentry.release", || LogValue::String(release.clone()));
        }
        attributes.insert_if_absent("sentry.sdk.name", || {
            LogValue::String(Cow::Borrowed(SDK_NAME))
        });
        attributes.insert_if_absent("sentry.sdk.version", || {
            LogValue::String(Cow::Borrowed(SDK_VERSION))
        });
        if let Some(scopes) = scopes {
            crate::scope::apply_scope_attributes(scopes, attributes);
        }
        if !options.send_default_pii {
            return;
        }
        if let Some(server) = &options.server_name {
            attributes.insert_if_absent("server.address", || LogValue::String(server.clone()));
        }
        let user = scopes.and_then(|[global, isolation, current]| {
            current
                .user
                .as_deref()
                .or(isolation.user.as_deref())
                .or(global.user.as_deref())
        });
        if let Some(user) = user {
            for (key, value) in [
                ("user.id", &user.id),
                ("user.email", &user.email),
                ("user.name", &user.username),
            ] {
                if let Some(value) = value {
                    attributes
                        .insert_if_absent(key, || LogValue::String(Cow::Owned(value.clone())));
                }
            }
        }
    }

    /// Hands every buffered log to `transport`, in batches.
    pub(super) fn drain_logs(&self, transport: &dyn Transport) {
        if let Some(buffer) = &self.logs {
            let now = Instant::now();
            while let Some(envelope) = buffer.take_batch(now, true) {
                transport.send_envelope(envelope);
            }
        }
    }
}
