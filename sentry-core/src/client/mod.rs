//! The [`Client`]: turns captured data into events and hands them to the transport.

mod attachments;
mod check_in;
pub(crate) mod convert;
mod feedback;
mod logs;
mod metrics;
pub(crate) mod profile;
mod session;
mod spans;
mod spotlight;

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use sentry_minimal::EventId;

use crate::callback::{in_callback, run_callback};
use crate::client_reports::ClientReports;
use crate::envelope::{Envelope, EnvelopeItem};
use crate::hint::Hint;
use crate::integration;
use crate::limits::{self, Verdict};
use crate::logs::LogBuffer;
use crate::metric_buffer::MetricBuffer;
use crate::options::{ClientOptions, OptionsError};
use crate::protocol::{
    ClientSdkInfo, ClientSdkPackage, Context, DataCategory, DiscardReason, Event,
};
use crate::scope::{apply_scopes, propagation_of, Scope};
use crate::span::Span;
use crate::transport::{Transport, TransportOptions};
use sentry_minimal::Map;

/// The name this SDK reports itself as.
pub const SDK_NAME: &str = "sentry.rust";
/// The version of this SDK.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Builds events and hands them to its transport.
///
/// A client is *enabled* when it has a transport and somewhere to send: a DSN, or
/// [Spotlight](ClientOptions::spotlight) alone. A disabled client captures nothing,
/// runs no callbacks and starts no thread. Clients are usually created by `init`; create one
/// yourself to send to several projects, and bind it to a scope with [`Scope::set_client`].
///
/// # Examples
///
/// ```
/// use sentry_core::{Client, ClientOptions};
///
/// let client = Client::new(ClientOptions::default()); // no DSN: disabled
/// assert!(!client.is_enabled());
/// ```
pub struct Client {
    options: ClientOptions,
    transport: RwLock<Option<Arc<dyn Transport>>>,
    client_reports: Arc<ClientReports>,
    sdk_info: Arc<ClientSdkInfo>,
    counted: AtomicBool,
    /// The structured-log buffer, when the client is enabled with `enable_logs`.
    logs: Option<Arc<LogBuffer>>,
    /// The metric buffer, when the client is enabled with `enable_metrics`.
    metrics: Option<Arc<MetricBuffer>>,
    /// Release health: the application session, request-session counts.
    sessions: session::ClientSessions,
    /// The span buffer, when the client streams spans (`trace_lifecycle = Stream`).
    spans: Option<Arc<crate::transport::SpanBuffer>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("options", &self.options)
            .field("enabled", &self.is_enabled())
            .finish()
    }
}

impl Client {
    /// Creates a client. Invalid options give a disabled client and a message on stderr; use
    /// [`Client::try_new`] to get the error instead.
    pub fn new(options: ClientOptions) -> Client {
        match Client::try_new(options.clone()) {
            Ok(client) => client,
            Err(err) => {
                crate::debug::debug_print(format_args!(
                    "invalid options, the SDK is disabled: {err}"
                ));
                Client::disabled(options)
            }
        }
    }

    /// Creates a client, or says why the options cannot be used.
    ///
    /// # Errors
    ///
    /// An [`OptionsError`] for an out-of-range option.
    pub fn try_new(options: ClientOptions) -> Result<Client, OptionsError> {
        options.validate()?;
        if options.debug {
            crate::debug::set_debug(true);
        }
        let spotlight_only = spotlight::spotlight_only(&options);
        let options = if spotlight_only {
            spotlight::local_defaults(options)
        } else {
            options
        };
        let sends = (options.dsn.is_some() || spotlight_only) && options.transport.is_some();
        let client_reports = Arc::new(ClientReports::default());
        let sdk_info = Arc::new(sdk_info(&options));
        let logs = (sends && options.enable_logs).then(|| {
            Arc::new(
                LogBuffer::new(Arc::clone(&client_reports)).with_sdk_info(Arc::clone(&sdk_info)),
            )
        });
        let metrics = (sends && options.enable_metrics)
            .then(|| Arc::new(metrics::metric_buffer(&options, &client_reports, &sdk_info)));
        let sessions = session::ClientSessions::new(&options, sends, &client_reports, &sdk_info);
        let spans = (sends && options.trace_lifecycle.is_stream() && options.tracing_enabled())
            .then(|| Arc::new(spans::span_buffer(&options, &client_reports, &sdk_info)));
        let transport = match (&options.dsn, &options.transport) {
            (Some(dsn), Some(factory)) => {
                let mut transport_options =
                    TransportOptions::new(dsn.clone(), Arc::clone(&client_reports));
                transport_options.queue_capacity = options.queue_capacity.max(1);
                transport_options.queue_max_bytes = options.queue_max_bytes.max(1);
                transport_options.max_concurrent_requests = options.max_concurrent_requests.max(1);
                transport_options.http_proxy = options.http_proxy.as_deref().map(str::to_owned);
                transport_options.https_proxy = options.https_proxy.as_deref().map(str::to_owned);
                transport_options.cache = options.cache_dir.as_ref().map(|dir| {
                    let mut cache = crate::transport::CacheOptions::new(dir.clone());
                    cache.max_envelopes = options.cache_max_envelopes.max(1);
                    cache.max_bytes = options.cache_max_bytes.max(1);
                    cache
                });
                transport_options.spotlight = options.spotlight.url().map(str::to_owned);
                transport_options.compression = options.compression;
                transport_options.user_agent = format!("{SDK_NAME}/{SDK_VERSION}");
                transport_options.logs.clone_from(&logs);
                transport_options.metrics.clone_from(&metrics);
                transport_options.sessions = sessions.aggregator().cloned();
                transport_options.spans.clone_from(&spans);
                // A panicking factory (a custom transport's bug) leaves the SDK disabled.
                let transport = run_callback("the transport factory", || {
                    factory.create_transport(&transport_options)
                });
                if transport.is_none() {
                    crate::debug::debug_print(format_args!(
                        "the transport factory panicked; the SDK is disabled"
                    ));
                }
                transport
            }
            (Some(_), None) => {
                crate::debug::debug_print(format_args!(
                    "a DSN is set but no transport is configured; the SDK is disabled"
                ));
                None
            }
            (None, Some(factory)) if spotlight_only => spotlight::transport(
                &options,
                factory.as_ref(),
                &client_reports,
                logs.as_ref(),
                metrics.as_ref(),
                sessions.aggregator(),
                spans.as_ref(),
            ),
            (None, _) => {
                crate::sentry_debug!("no DSN configured; the SDK is disabled");
                None
            }
        };
        for integration in &options.integrations {
            // A panicking integration is left half set up; the client goes on without it.
            run_callback(integration.name(), || {
                integration::setup_once(integration.as_ref());
                integration.setup(&options);
            });
        }
        let client = Client {
            options,
            transport: RwLock::new(transport),
            client_reports,
            sdk_info,
            counted: AtomicBool::new(false),
            logs,
            metrics,
            sessions,
            spans,
        };
        if client.is_enabled() {
            client.counted.store(true, Ordering::Release);
            crate::gate::open(client.logs.is_some());
            if client.metrics.is_some() {
                crate::gate::open_metrics();
            }
        }
        Ok(client)
    }

    /// The shared no-op client: disabled, it captures and sends nothing. It stands in wherever
    /// no client is bound, so a client lookup never comes back empty.
    pub fn noop() -> Arc<Client> {
        static NOOP: std::sync::OnceLock<Arc<Client>> = std::sync::OnceLock::new();
        Arc::clone(NOOP.get_or_init(|| Arc::new(Client::disabled(ClientOptions::default()))))
    }

    fn disabled(options: ClientOptions) -> Client {
        Client {
            sdk_info: Arc::new(sdk_info(&options)),
            options,
            transport: RwLock::new(None),
            client_reports: Arc::default(),
            counted: AtomicBool::new(false),
            logs: None,
            metrics: None,
            sessions: session::ClientSessions::off(),
            spans: None,
        }
    }

    /// The options this client was created with.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// `true` while the client has a transport (a DSN, or Spotlight without one, was set and
    /// the client was not closed).
    pub fn is_enabled(&self) -> bool {
        self.transport
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// The counters of items this client dropped, sent to Sentry as client reports.
    pub fn client_reports(&self) -> &Arc<ClientReports> {
        &self.client_reports
    }

    fn transport(&self) -> Option<Arc<dyn Transport>> {
        self.transport
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Runs an event through the pipeline and queues it for sending. Returns its identifier,
    /// or the nil identifier if it was dropped.
    ///
    /// The pipeline: disabled check → `sample_rate` → scopes (global → isolation → current) →
    /// the scopes' event processors → integrations → `before_send` → the
    /// [`limits`](crate::limits) → the scopes' [attachments](Scope::add_attachment) → transport.
    /// Each drop is counted in a client report.
    ///
    /// The hooks get an empty [`Hint`]; [`capture_event_with_hint`](Self::capture_event_with_hint)
    /// passes one.
    pub fn capture_event(&self, event: Event, scopes: Option<[&Scope; 3]>) -> EventId {
        self.capture_event_with_hint(event, &Hint::new(), scopes)
    }

    /// [`capture_event`](Self::capture_event), with the [`Hint`] the event processors,
    /// integrations and `before_send` get beside the event.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sentry_core::{protocol::Event, test::TestTransport, Client, ClientOptions, Hint};
    ///
    /// let transport = TestTransport::new();
    /// let client = Client::new(ClientOptions {
    ///     dsn: Some("https://public@sentry.invalid/1".parse().unwrap()),
    ///     transport: Some(transport.factory()),
    ///     // Drop events made from an error of the `Timeout` kind.
    ///     before_send: Some(Arc::new(|event, hint| {
    ///         let timed_out = hint
    ///             .error()
    ///             .and_then(|err| err.downcast_ref::<std::io::Error>())
    ///             .is_some_and(|err| err.kind() == std::io::ErrorKind::TimedOut);
    ///         (!timed_out).then_some(event)
    ///     })),
    ///     ..Default::default()
    /// });
    /// let err = std::io::Error::from(std::io::ErrorKind::TimedOut);
    /// let event = sentry_core::event_from_error(&err);
    /// assert!(client.capture_event_with_hint(event, &Hint::new().with_error(&err), None).is_nil());
    /// assert!(!client.capture_event(Event::default(), None).is_nil());
    /// ```
    pub fn capture_event_with_hint(
        &self,
        event: Event,
        hint: &Hint<'_>,
        scopes: Option<[&Scope; 3]>,
    ) -> EventId {
        self.capture_event_in_span(event, hint, scopes, None)
    }

    /// [`capture_event_with_hint`](Self::capture_event_with_hint) for an event captured while
    /// `span` is current: it carries the span's trace.
    pub(crate) fn capture_event_in_span(
        &self,
        event: Event,
        hint: &Hint<'_>,
        scopes: Option<[&Scope; 3]>,
        span: Option<&Span>,
    ) -> EventId {
        if event.is_transaction() {
            // A transaction built by hand: it skips `before_send` and the error counters.
            let trace = self.trace_header(scopes, span).unwrap_or_default();
            let id = event.event_id;
            let empty = Scope::default();
            let scopes = scopes.unwrap_or([&empty, &empty, &empty]);
            return if self.capture_transaction(event, scopes, trace) {
                id
            } else {
                EventId::nil()
            };
        }
        self.capture_slot_in_span(&mut Some(event), hint, scopes, span)
    }

    /// [`capture_event_in_span`](Self::capture_event_in_span) for the event in `slot`, which
    /// is taken (an empty slot captures nothing): the ~1.8 KB event stays where its caller
    /// built it, and leaves the slot only to be handed to each step.
    pub(crate) fn capture_slot_in_span(
        &self,
        slot: &mut Option<Event>,
        hint: &Hint<'_>,
        scopes: Option<[&Scope; 3]>,
        span: Option<&Span>,
    ) -> EventId {
        let Some(event) = slot.as_mut() else {
            return EventId::nil();
        };
        if event.is_transaction() {
            return match slot.take() {
                Some(event) => self.capture_event_in_span(event, hint, scopes, span),
                None => EventId::nil(),
            };
        }
        if in_callback() {
            // Captured from inside before_send or an event processor (or a panic hook run by
            // one): never re-enter the pipeline.
            crate::sentry_debug!("event captured from inside an SDK callback; dropped");
            self.client_reports
                .record(DiscardReason::EventProcessor, DataCategory::Error, 1);
            discard_slot(slot);
            return EventId::nil();
        }
        let Some(transport) = self.transport() else {
            discard_slot(slot);
            return EventId::nil();
        };
        let rate = self.options.sample_rate;
        if rate < 1.0 && crate::random::f32() >= rate {
            self.client_reports
                .record(DiscardReason::SampleRate, DataCategory::Error, 1);
            // Sampled-out errors still count for the session; its update goes on its own.
            if let Some(update) = self.track_event(event, hint, scopes) {
                self.send_session_update(update, &*transport);
            }
            discard_slot(slot);
            return EventId::nil();
        }
        if let Some(context) = span.and_then(Span::trace_context) {
            if !event.contexts.contains_key("trace") {
                event
                    .contexts
                    .insert(Cow::Borrowed("trace"), Context::Trace(Box::new(context)));
            }
        }
        let size = self.prepare_event(slot, hint, scopes);
        // The event leaves its slot here, boxed for the envelope's item.
        let Some(event) = slot.take() else {
            return EventId::nil();
        };
        let event = Box::new(event);
        let session_update = self.track_event(&event, hint, scopes);
        let id = event.event_id;
        let mut envelope = Envelope::new();
        envelope.add_item(event);
        if let Some(size) = size {
            envelope.set_event_size(size);
        }
        // The session the event changed travels with it (a crash with its crash event).
        if let Some(update) = session_update {
            envelope.add_item(update);
        }
        envelope.headers_mut().sdk = Some(Arc::clone(&self.sdk_info));
        envelope.headers_mut().trace = self.trace_header(scopes, span);
        if let Some(scopes) = scopes {
            self.add_attachments(&mut envelope, scopes, false);
        }
        transport.send_envelope(envelope);
        id
    }

    /// The envelope's `trace` header: the dynamic sampling context of the current span's
    /// trace, or of the scopes' trace; frozen from now on.
    ///
    /// The header is built once per trace and shared by its envelopes (the context is frozen),
    /// so an event pays a reference count for it, not a map of strings.
    pub(crate) fn trace_header(
        &self,
        scopes: Option<[&Scope; 3]>,
        span: Option<&Span>,
    ) -> Option<Arc<Map>> {
        match span.and_then(Span::trace_header) {
            Some(header) => Some(header),
            None => Some(propagation_of(scopes?)?.trace_header(self)),
        }
    }

    /// The `trace` header of a frozen sampling context, with what Sentry needs to route the
    /// envelope filled in when the context lacks it (one frozen from an old SDK's empty
    /// baggage).
    pub(crate) fn complete_header(
        &self,
        mut header: Map,
        trace_id: Option<sentry_minimal::TraceId>,
    ) -> Map {
        if let (false, Some(trace_id)) = (header.contains_key("trace_id"), trace_id) {
            header.insert("trace_id".into(), trace_id.to_string().into());
        }
        if !header.contains_key("public_key") {
            if let Some(dsn) = &self.options.dsn {
                header.insert("public_key".into(), dsn.public_key().into());
            }
        }
        header
    }

    /// Runs a finished transaction through the pipeline (scopes without breadcrumbs, event
    /// processors, integrations, `before_send_transaction`, the limits) and queues it with
    /// `trace` as the envelope's `trace` header. Drops count the transaction and its spans
    /// plus one. Returns `false` if it was dropped.
    pub(crate) fn capture_transaction(
        &self,
        event: Event,
        scopes: [&Scope; 3],
        trace: Arc<Map>,
    ) -> bool {
        let spans = event.spans.len() as u64 + 1;
        if in_callback() {
            crate::sentry_debug!("transaction finished inside an SDK callback; dropped");
            self.record_transaction_drop(DiscardReason::EventProcessor, spans);
            discard(event);
            return false;
        }
        let Some(transport) = self.transport() else {
            discard(event);
            return false;
        };
        let Some((event, size)) = self.prepare_transaction(event, scopes) else {
            return false;
        };
        let mut envelope = Envelope::from_transaction(event);
        envelope.set_event_size(size);
        envelope.headers_mut().sdk = Some(Arc::clone(&self.sdk_info));
        envelope.headers_mut().trace = Some(trace);
        self.add_attachments(&mut envelope, scopes, true);
        transport.send_envelope(envelope);
        true
    }

    fn record_transaction_drop(&self, reason: DiscardReason, spans: u64) {
        self.client_reports.record_all(
            reason,
            [(DataCategory::Transaction, 1), (DataCategory::Span, spans)],
        );
    }

    /// Returns the transaction with its size as the limits measured it (for the queue).
    fn prepare_transaction(&self, mut event: Event, scopes: [&Scope; 3]) -> Option<(Event, usize)> {
        let options = &self.options;
        self.fill_defaults(&mut event);
        let hint = Hint::new();
        apply_scopes(scopes, &mut event, options.max_breadcrumbs);
        let step = |event: Event,
                    reason: DiscardReason,
                    what: &str,
                    f: &dyn Fn(Event) -> Option<Event>|
         -> Option<Event> {
            let spans = event.spans.len() as u64 + 1;
            let result = run_callback(what, || f(event)).flatten();
            if result.is_none() {
                self.record_transaction_drop(reason, spans);
            }
            result
        };
        for scope in scopes {
            for processor in scope.event_processors.iter() {
                event = step(
                    event,
                    DiscardReason::EventProcessor,
                    "an event processor",
                    &|e| processor(e, &hint),
                )?;
            }
        }
        for integration in &options.integrations {
            // The same hook as errors take, so an integration that implements only the
            // in-place form sees transactions too.
            let spans = event.spans.len() as u64 + 1;
            let kept = run_callback(integration.name(), || {
                integration.process_event_in_place(&mut event, &hint, options)
            });
            if kept != Some(true) {
                self.record_transaction_drop(DiscardReason::EventProcessor, spans);
                return None;
            }
        }
        if let Some(before) = &options.before_send_transaction {
            event = step(
                event,
                DiscardReason::BeforeSend,
                "before_send_transaction",
                &|e| before(e, &hint),
            )?;
        }
        let (verdict, size) = limits::enforce_event_sized(&mut event, options.max_value_length);
        match verdict {
            Verdict::Kept => {}
            Verdict::Trimmed => {
                crate::sentry_debug!(
                    "transaction {} exceeded a limit and was trimmed",
                    event.event_id
                );
            }
            Verdict::SpansRemoved(spans) => {
                crate::sentry_debug!(
                    "transaction {} exceeded the size limit; {spans} spans removed",
                    event.event_id
                );
                self.client_reports.record(
                    DiscardReason::Invalid,
                    DataCategory::Span,
                    spans as u64,
                );
            }
            Verdict::TooLarge(size) => {
                crate::sentry_debug!(
                    "transaction {} is still {size} bytes after trimming; dropped",
                    event.event_id
                );
                self.record_transaction_drop(DiscardReason::Invalid, event.spans.len() as u64 + 1);
                return None;
            }
        }
        Some((event, size))
    }

    fn fill_defaults(&self, event: &mut Event) {
        let options = &self.options;
        if event.event_id.is_nil() {
            event.event_id = crate::protocol::new_event_id();
        }
        if event.release.is_none() {
            event.release.clone_from(&options.release);
        }
        if event.dist.is_none() {
            event.dist.clone_from(&options.dist);
        }
        if event.environment.is_none() {
            event.environment = Some(
                options
                    .environment
                    .clone()
                    .unwrap_or(Cow::Borrowed(crate::options::DEFAULT_ENVIRONMENT)),
            );
        }
        if event.server_name.is_none() {
            event.server_name.clone_from(&options.server_name);
        }
        if event.sdk.is_none() {
            event.sdk = Some(Arc::clone(&self.sdk_info));
        }
    }

    /// Runs the event in `slot` through defaults, scopes, event processors, integrations,
    /// `before_send` and the limits, in place, and returns its size as the limits measured it
    /// (for the transport's queue). A step that drops it leaves the slot empty (and the size
    /// `None`).
    fn prepare_event(
        &self,
        slot: &mut Option<Event>,
        hint: &Hint<'_>,
        scopes: Option<[&Scope; 3]>,
    ) -> Option<usize> {
        let options = &self.options;
        let event = slot.as_mut()?;
        self.fill_defaults(event);
        if let Some(scopes) = scopes {
            apply_scopes(scopes, event, options.max_breadcrumbs);
            for scope in scopes {
                for processor in scope.event_processors.iter() {
                    self.run_step(
                        slot,
                        DiscardReason::EventProcessor,
                        "an event processor",
                        |event| processor(event, hint),
                    );
                }
            }
        }
        for integration in &options.integrations {
            self.run_step_in_place(
                slot,
                DiscardReason::EventProcessor,
                integration.name(),
                |event| integration.process_event_in_place(event, hint, options),
            );
        }
        if let Some(before_send) = &options.before_send {
            self.run_step(slot, DiscardReason::BeforeSend, "before_send", |event| {
                before_send(event, hint)
            });
        }
        let event = slot.as_mut()?;
        let (verdict, size) = limits::enforce_event_sized(event, options.max_value_length);
        match verdict {
            Verdict::Kept => {}
            Verdict::Trimmed => {
                crate::sentry_debug!("event {} exceeded a limit and was trimmed", event.event_id);
            }
            // Error events have no spans; transactions take `prepare_transaction`.
            Verdict::SpansRemoved(_) => {}
            Verdict::TooLarge(size) => {
                crate::sentry_debug!(
                    "event {} is still {size} bytes after trimming, more than the {} Sentry \
                     accepts; dropped",
                    event.event_id,
                    limits::MAX_EVENT_BYTES
                );
                self.client_reports
                    .record(DiscardReason::Invalid, DataCategory::Error, 1);
                *slot = None;
                return None;
            }
        }
        Some(size)
    }

    /// Runs one step that changes the event where it is (an integration's
    /// `process_event_in_place`): `false` or a panic empties the slot and counts the drop
    /// with `reason`. An empty slot (dropped by an earlier step) runs nothing.
    fn run_step_in_place(
        &self,
        slot: &mut Option<Event>,
        reason: DiscardReason,
        what: &str,
        step: impl FnOnce(&mut Event) -> bool,
    ) {
        let Some(event) = slot.as_mut() else {
            return;
        };
        if run_callback(what, || step(event)) != Some(true) {
            *slot = None;
            self.client_reports.record(reason, DataCategory::Error, 1);
        }
    }

    /// Runs one user-supplied step on the event in `slot`, which it takes and gives back; a
    /// `None` or a panic leaves the slot empty and counts the drop with `reason`. An empty
    /// slot (dropped by an earlier step) runs nothing.
    fn run_step(
        &self,
        slot: &mut Option<Event>,
        reason: DiscardReason,
        what: &str,
        step: impl FnOnce(Event) -> Option<Event>,
    ) {
        if slot.is_none() {
            return;
        }
        // The callback returns nothing, and captures only the slot: the event is taken out
        // and put back inside it, without copies into the closure and out of its result.
        let done = run_callback(what, || {
            if let Some(event) = slot.take() {
                *slot = step(event);
            }
        });
        if done.is_none() || slot.is_none() {
            *slot = None;
            self.client_reports.record(reason, DataCategory::Error, 1);
        }
    }

    /// Queues an envelope as it is (no pipeline), except that events in it are held to the
    /// depth and breadth [`limits`](crate::limits), and that its typed attachments are made
    /// ready: files read, and those over `max_attachment_size` or unreadable left out (and
    /// counted). Does nothing when the client is disabled.
    pub fn send_envelope(&self, mut envelope: Envelope) {
        for item in envelope.items_mut() {
            if let EnvelopeItem::Event(event)
            | EnvelopeItem::Transaction(event)
            | EnvelopeItem::Feedback(event) = item
            {
                limits::cut_event_structure(event);
            }
        }
        if let Some(transport) = self.transport() {
            self.ready_attachments(&mut envelope);
            transport.send_envelope(envelope);
        }
    }

    /// Waits until queued events are sent, for at most `timeout`. Returns `false` if that took
    /// too long. Buffered structured logs are handed to the transport first; client reports are
    /// sent along.
    pub fn flush(&self, timeout: Option<Duration>) -> bool {
        let timeout = timeout.unwrap_or(self.options.shutdown_timeout);
        match self.transport() {
            Some(transport) => {
                self.flush_profiler();
                self.drain_sessions(&*transport);
                self.drain_logs(&*transport);
                self.drain_metrics(&*transport);
                self.drain_spans(&*transport);
                transport.flush(timeout)
            }
            None => true,
        }
    }

    /// Flushes for at most `timeout`, then disables the client: later captures are dropped and
    /// its worker thread ends. Returns `false` if not everything was sent in time.
    pub fn close(&self, timeout: Option<Duration>) -> bool {
        let timeout = timeout.unwrap_or(self.options.shutdown_timeout);
        // A running profiler stops and sends its last chunk while the transport still takes it.
        if self.is_enabled() {
            self.close_profiler();
        }
        let transport = self
            .transport
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.uncount();
        match transport {
            Some(transport) => {
                // The application session ends here, before the final flush.
                self.finish_sessions(&*transport);
                self.drain_logs(&*transport);
                self.drain_metrics(&*transport);
                self.drain_spans(&*transport);
                transport.shutdown(timeout)
            }
            None => true,
        }
    }

    fn uncount(&self) {
        if self.counted.swap(false, Ordering::AcqRel) {
            crate::gate::close(self.logs.is_some());
            if self.metrics.is_some() {
                crate::gate::close_metrics();
            }
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.uncount();
        // Dropped without `close`: the session still ends and its counts still go.
        if let Some(transport) = self.transport() {
            self.finish_sessions(&*transport);
        }
        // The transport shuts itself down (bounded) when its last handle goes away.
    }
}

/// Drops an event the pipeline will not send. It may come straight from the user: its data
/// is cut to the depth limit first, so that freeing it cannot exhaust the stack.
/// Drops an event that never reached the limits, safely however deep its data is.
fn discard(event: Event) {
    limits::dispose_event(event);
}

/// [`discard`] for the event in a slot, if any.
fn discard_slot(slot: &mut Option<Event>) {
    if let Some(event) = slot.take() {
        discard(event);
    }
}

fn sdk_info(options: &ClientOptions) -> ClientSdkInfo {
    ClientSdkInfo {
        name: SDK_NAME.into(),
        version: SDK_VERSION.into(),
        integrations: options
            .integrations
            .iter()
            .map(|i| i.name().to_owned())
            .collect(),
        packages: vec![ClientSdkPackage {
            name: "cargo:sentry".into(),
            version: SDK_VERSION.into(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex, PoisonError};

    use super::*;
    use crate::transport::TransportFactory;

    /// Records, for each envelope, the size the pipeline measured for its event and the
    /// queue's walk of the same event. (`test::TestTransport` finishes the envelopes it keeps,
    /// which changes their items and so forgets the measured size.)
    #[derive(Default)]
    struct Sizes(Mutex<Vec<(Option<usize>, usize)>>);

    impl Transport for Sizes {
        fn send_envelope(&self, envelope: Envelope) {
            let walked = envelope
                .items()
                .find_map(|item| match item {
                    EnvelopeItem::Event(event)
                    | EnvelopeItem::Transaction(event)
                    | EnvelopeItem::Feedback(event) => Some(limits::estimated_event_size(event)),
                    _ => None,
                })
                .unwrap_or(0);
            let mut sizes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            sizes.push((envelope.event_size(), walked));
        }

        fn flush(&self, _timeout: std::time::Duration) -> bool {
            true
        }

        fn shutdown(&self, _timeout: std::time::Duration) -> bool {
            true
        }
    }

    /// Errors, transactions and feedback reach the transport with the size the limits
    /// measured, which is what the queue's walk would have found.
    #[test]
    fn events_reach_the_transport_with_their_measured_size() {
        let sizes = Arc::new(Sizes::default());
        let transport: Arc<dyn Transport> = sizes.clone();
        let factory: Arc<dyn TransportFactory> = Arc::new(transport);
        let client = Client::new(ClientOptions {
            dsn: Some("https://public@sentry.invalid/1".parse().unwrap()),
            transport: Some(factory),
            ..Default::default()
        });
        let error = Event {
            message: Some("x".repeat(3000)),
            ..Event::default()
        };
        assert!(!client.capture_event(error, None).is_nil());
        let transaction = Event {
            ty: crate::protocol::EventType::Transaction,
            transaction: Some("GET /".into()),
            ..Event::default()
        };
        let scope = Scope::default();
        assert!(client.capture_transaction(
            transaction,
            [&scope, &scope, &scope],
            Arc::new(Map::new())
        ));
        let feedback = crate::protocol::Feedback::new("it broke").into_event();
        assert!(!client.capture_feedback(feedback, None, None).is_nil());
        let sizes = sizes.0.lock().unwrap_or_else(PoisonError::into_inner);
        assert_eq!(sizes.len(), 3, "{sizes:?}");
        for (measured, walked) in sizes.iter() {
            assert_eq!(*measured, Some(*walked));
        }
    }
}
