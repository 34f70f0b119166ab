//! The feedback pipeline: user feedback takes the scopes' data and their event processors,
//! is never sampled and never seen by `before_send` (`before_send_feedback` instead), and goes
//! out alone in its envelope.

use std::borrow::Cow;
use std::sync::Arc;

use sentry_minimal::EventId;

use crate::callback::{in_callback, run_callback};
use crate::envelope::Envelope;
use crate::hint::Hint;
use crate::limits::{self, Verdict};
use crate::protocol::{Context, DataCategory, DiscardReason, Event};
use crate::scope::{apply_scopes, Scope};
use crate::span::Span;

use super::{discard, Client};

impl Client {
    /// Runs a feedback event (see [`Feedback::into_event`](crate::protocol::Feedback)) through
    /// its pipeline: defaults (release, environment, SDK), the trace of `span`, the scopes'
    /// data and event processors, `before_send_feedback`, the limits; then queues it in an
    /// envelope of its own with the `trace` header. Integrations do not see it: it describes
    /// what a user wrote, not the process. Drops count category `feedback`.
    ///
    /// Returns its id, or the nil id if it was dropped.
    pub(crate) fn capture_feedback(
        &self,
        mut event: Event,
        scopes: Option<[&Scope; 3]>,
        span: Option<&Span>,
    ) -> EventId {
        if in_callback() {
            crate::sentry_debug!("feedback captured from inside an SDK callback; dropped");
            self.record_feedback_drop(DiscardReason::EventProcessor);
            discard(event);
            return EventId::nil();
        }
        let Some(transport) = self.transport() else {
            discard(event);
            return EventId::nil();
        };
        if let Some(context) = span.and_then(Span::trace_context) {
            if !event.contexts.contains_key("trace") {
                event
                    .contexts
                    .insert(Cow::Borrowed("trace"), Context::Trace(Box::new(context)));
            }
        }
        self.fill_defaults(&mut event);
        let hint = Hint::new();
        if let Some(scopes) = scopes {
            apply_scopes(scopes, &mut event, self.options.max_breadcrumbs);
            for scope in scopes {
                for processor in scope.event_processors.iter() {
                    let kept = run_callback("an event processor", || processor(event, &hint));
                    match kept.flatten() {
                        Some(kept) => event = kept,
                        None => {
                            self.record_feedback_drop(DiscardReason::EventProcessor);
                            return EventId::nil();
                        }
                    }
                }
            }
        }
        if let Some(before) = &self.options.before_send_feedback {
            match run_callback("before_send_feedback", || before(event, &hint)).flatten() {
                Some(kept) => event = kept,
                None => {
                    self.record_feedback_drop(DiscardReason::BeforeSend);
                    return EventId::nil();
                }
            }
        }
        let (verdict, size) =
            limits::enforce_event_sized(&mut event, self.options.max_value_length);
        if let Verdict::TooLarge(size) = verdict {
            crate::sentry_debug!(
                "feedback {} is still {size} bytes after trimming; dropped",
                event.event_id
            );
            self.record_feedback_drop(DiscardReason::Invalid);
            return EventId::nil();
        }
        let id = event.event_id;
        let mut envelope = Envelope::from_feedback(event);
        envelope.set_event_size(size);
        envelope.headers_mut().sdk = Some(Arc::clone(&self.sdk_info));
        envelope.headers_mut().trace = self.trace_header(scopes, span);
        transport.send_envelope(envelope);
        id
    }

    fn record_feedback_drop(&self, reason: DiscardReason) {
        self.client_reports
            .record(reason, DataCategory::Feedback, 1);
    }
}
