//! User feedback.

use sentry_minimal::EventId;

use crate::protocol::Feedback;
use crate::scope::{with_scopes, Snapshots};

/// Sends what a user wrote about a problem, as a `feedback` item, and returns its event id
/// (the nil id when nothing was sent).
///
/// The feedback takes the current scopes' data (tags, user, contexts, the trace) and runs
/// their event processors; it is never sampled and never seen by `before_send` (use
/// [`before_send_feedback`](crate::ClientOptions)). It travels alone in its envelope
/// (category `feedback`). Sentry fills the contact email and name from the scope's user when
/// the feedback leaves them empty.
///
/// # The backend flow
///
/// 1. A request fails: the error is captured, and the handler answers with the id of that
///    event, [`last_event_id`](crate::last_event_id), for instance in the error page.
/// 2. The page asks the user what happened and posts the answer back with that id.
/// 3. The handler of that post calls `capture_feedback`, linking the feedback to the error
///    with [`associated_event_id`](Feedback::associated_event_id).
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{EventId, Feedback};
/// use sentry_core::test::with_captured_envelopes;
/// use sentry_core::Level;
///
/// // 1. The failing request: its handler returns the error's id to the client.
/// fn checkout() -> Option<EventId> {
///     let err = "12x".parse::<u32>().unwrap_err();
///     sentry_core::capture_error(&err);
///     sentry_core::last_event_id()
/// }
///
/// // 3. The handler the client posts the user's words to, with that id.
/// fn post_feedback(event_id: Option<EventId>, comments: &str, email: &str) -> EventId {
///     sentry_core::capture_feedback(Feedback {
///         contact_email: Some(email.to_owned()),
///         associated_event_id: event_id,
///         ..Feedback::new(comments)
///     })
/// }
///
/// let envelopes = with_captured_envelopes(|| {
///     let error_id = checkout();
///     // 2. The error page asks the user, who answers:
///     let id = post_feedback(error_id, "I clicked 'pay' and got an error page", "jane@example.com");
///     assert!(!id.is_nil());
/// });
/// let error_id = envelopes[0].event().unwrap().event_id;
/// let feedback = envelopes[1].items().next().unwrap().as_feedback().unwrap();
/// let feedback = Feedback::from_event(feedback).unwrap();
/// assert_eq!(feedback.associated_event_id, Some(error_id));
/// ```
#[inline]
pub fn capture_feedback(feedback: Feedback) -> EventId {
    if !sentry_minimal::is_enabled() {
        return EventId::nil();
    }
    capture_feedback_enabled(feedback)
}

#[inline(never)]
fn capture_feedback_enabled(feedback: Feedback) -> EventId {
    with_scopes(|scopes| {
        let snapshots = Snapshots::of(scopes);
        let client = snapshots.client();
        match client {
            Some(client) => client.capture_feedback(
                feedback.into_event(),
                Some(snapshots.scopes()),
                scopes.span.as_ref(),
            ),
            None => EventId::nil(),
        }
    })
}
