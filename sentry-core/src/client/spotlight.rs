//! A client without a DSN that has Spotlight on: local development, where the Spotlight
//! sidecar is the only destination.
//!
//! With a DSN, Spotlight is a mirror of the Sentry transport (the HTTP transport hands it
//! every envelope). Without one there is no Sentry transport to mirror, so the client asks its
//! [`TransportFactory`] for a Spotlight [`Sender`](crate::transport::Sender) and runs it in a
//! [`TransportWorker`] of its own: the same queue, batching and bounded shutdown as any
//! transport, and the same single background thread.

use std::sync::Arc;

use super::{SDK_NAME, SDK_VERSION};
use crate::client_reports::ClientReports;
use crate::dsn::Dsn;
use crate::envelope::Envelope;
use crate::logs::LogBuffer;
use crate::metric_buffer::MetricBuffer;
use crate::options::ClientOptions;
use crate::session::SessionAggregator;
use crate::transport::{Transport, TransportFactory, TransportOptions, TransportWorker};

/// Whether `options` make a Spotlight-only client: Spotlight on, no DSN, a transport factory.
pub(super) fn spotlight_only(options: &ClientOptions) -> bool {
    options.dsn.is_none() && options.spotlight.url().is_some() && options.transport.is_some()
}

/// What Spotlight is for, local debugging, needs to see: every transaction (when tracing was
/// not configured), the structured logs, and the personal data integrations collect (it stays
/// on the developer's machine). Rates and samplers that were set are kept.
pub(super) fn local_defaults(mut options: ClientOptions) -> ClientOptions {
    if !options.tracing_enabled() {
        options.traces_sample_rate = Some(1.0);
    }
    options.enable_logs = true;
    options.send_default_pii = true;
    options
}

/// The transport of a Spotlight-only client: a worker around the factory's Spotlight sender,
/// or `None` (a disabled client, said in the diagnostics) when the factory has none.
pub(super) fn transport(
    options: &ClientOptions,
    factory: &dyn TransportFactory,
    client_reports: &Arc<ClientReports>,
    logs: Option<&Arc<LogBuffer>>,
    metrics: Option<&Arc<MetricBuffer>>,
    sessions: Option<&Arc<SessionAggregator>>,
    spans: Option<&Arc<crate::transport::SpanBuffer>>,
) -> Option<Arc<dyn Transport>> {
    let url = options.spotlight.url()?;
    let user_agent = format!("{SDK_NAME}/{SDK_VERSION}");
    let sender = crate::callback::run_callback("the transport factory", || {
        factory.spotlight_sender(url, &user_agent)
    })
    .flatten();
    let Some(sender) = sender else {
        crate::debug::debug_print(format_args!(
            "Spotlight is on but no DSN is set and the transport cannot reach Spotlight; \
             the SDK is disabled"
        ));
        return None;
    };
    // The worker never reads the DSN (only a sender does, and this one posts to `url`), but
    // its options carry one: this one names the sidecar and is never used to send.
    let dsn: Dsn = match SIDECAR_DSN.parse() {
        Ok(dsn) => dsn,
        Err(_) => return None,
    };
    let mut transport_options = TransportOptions::new(dsn, Arc::clone(client_reports));
    transport_options.queue_capacity = options.queue_capacity.max(1);
    transport_options.queue_max_bytes = options.queue_max_bytes.max(1);
    transport_options.user_agent = user_agent;
    transport_options.logs = logs.cloned();
    transport_options.metrics = metrics.cloned();
    transport_options.sessions = sessions.cloned();
    transport_options.spans = spans.cloned();
    crate::sentry_debug!("no DSN configured; sending to Spotlight at {url} only");
    let mut sender = sender;
    let send = move |body: Vec<u8>, envelope: &Envelope| sender.send(body, envelope);
    match TransportWorker::spawn(send, &transport_options) {
        Ok(worker) => Some(Arc::new(worker)),
        Err(error) => {
            crate::debug::debug_print(format_args!(
                "the Spotlight transport could not start its thread, the SDK is disabled: {error}"
            ));
            None
        }
    }
}

/// The DSN in a Spotlight-only worker's options (see [`transport`]).
const SIDECAR_DSN: &str = "http://spotlight@localhost:8969/0";
