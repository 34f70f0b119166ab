//! User feedback: what a user wrote about a problem, sent as a `feedback` envelope item.
//!
//! The item's payload is an event (`event_id`, `timestamp`, `platform`, and the scope data the
//! pipeline adds) whose `contexts.feedback` holds the user's words:
//!
//! ```json
//! {"event_id":"…","level":"info","platform":"native","timestamp":1714564800.0,
//!  "contexts":{"feedback":{"message":"The export hangs","contact_email":"jane@example.com",
//!  "name":"Jane","url":"https://app.example.com/export",
//!  "associated_event_id":"…","source":"api"}}}
//! ```

use std::borrow::Cow;

use sentry_minimal::{EventId, Level, Map, Value};

use super::context::Context;
use super::event::Event;

/// The longest feedback message Sentry accepts, in characters; longer ones are cut.
pub const MAX_FEEDBACK_MESSAGE_CHARS: usize = 4096;

/// The key of the feedback context in an event's `contexts`.
pub const FEEDBACK_CONTEXT: &str = "feedback";

/// What a user wrote, and about which event. Capture it with
/// [`capture_feedback`](crate::capture_feedback).
///
/// Leave [`contact_email`](Self::contact_email) and [`name`](Self::name) empty to let Sentry
/// take them from the event's user.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::Feedback;
///
/// let feedback = Feedback {
///     contact_email: Some("jane@example.com".into()),
///     ..Feedback::new("The export hangs at 99%")
/// };
/// let event = feedback.into_event();
/// let json = serde_json::to_value(&event).unwrap();
/// assert_eq!(json["contexts"]["feedback"]["message"], "The export hangs at 99%");
/// assert_eq!(json["contexts"]["feedback"]["source"], "api");
/// assert_eq!(json["level"], "info");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Feedback {
    /// The user's words (required; cut to [`MAX_FEEDBACK_MESSAGE_CHARS`] characters).
    pub message: String,
    /// How to reach the user.
    pub contact_email: Option<String>,
    /// The user's name.
    pub name: Option<String>,
    /// The page or screen the feedback is about.
    pub url: Option<String>,
    /// The event the feedback is about, such as the one
    /// [`last_event_id`](crate::last_event_id) named when the error page was shown.
    pub associated_event_id: Option<EventId>,
}

impl Feedback {
    /// Feedback with a message and nothing else.
    pub fn new(message: impl Into<String>) -> Feedback {
        Feedback {
            message: message.into(),
            ..Feedback::default()
        }
    }

    /// The event that carries this feedback: a fresh id, level `info`, and the
    /// `contexts.feedback` of the wire form (`source: "api"`), the message cut to
    /// [`MAX_FEEDBACK_MESSAGE_CHARS`] characters.
    pub fn into_event(self) -> Event {
        let mut message = self.message;
        if let Some((cut, _)) = message.char_indices().nth(MAX_FEEDBACK_MESSAGE_CHARS) {
            message.truncate(cut);
        }
        let mut context = Map::new();
        context.insert("message".into(), Value::from(message));
        for (key, value) in [
            ("contact_email", self.contact_email),
            ("name", self.name),
            ("url", self.url),
        ] {
            if let Some(value) = value {
                context.insert(key.into(), Value::from(value));
            }
        }
        if let Some(id) = self.associated_event_id.filter(|id| !id.is_nil()) {
            context.insert("associated_event_id".into(), Value::from(id.to_string()));
        }
        context.insert("source".into(), Value::from("api"));
        let mut event = Event {
            level: Level::Info,
            ..Event::new()
        };
        event
            .contexts
            .insert(Cow::Borrowed(FEEDBACK_CONTEXT), Context::Other(context));
        event
    }

    /// Reads the feedback back from an event's `contexts.feedback` (for tests and tools that
    /// look at what was sent); `None` without one.
    ///
    /// ```
    /// use sentry_core::protocol::Feedback;
    ///
    /// let feedback = Feedback { name: Some("Jane".into()), ..Feedback::new("slow") };
    /// assert_eq!(Feedback::from_event(&feedback.clone().into_event()), Some(feedback));
    /// ```
    pub fn from_event(event: &Event) -> Option<Feedback> {
        let Some(Context::Other(context)) = event.contexts.get(FEEDBACK_CONTEXT) else {
            return None;
        };
        let text = |key: &str| context.get(key).and_then(Value::as_str).map(str::to_owned);
        Some(Feedback {
            message: text("message").unwrap_or_default(),
            contact_email: text("contact_email"),
            name: text("name"),
            url: text("url"),
            associated_event_id: text("associated_event_id").and_then(|id| id.parse().ok()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_is_cut_to_4096_characters() {
        let event = Feedback::new("é".repeat(5000)).into_event();
        let feedback = Feedback::from_event(&event).unwrap();
        assert_eq!(feedback.message.chars().count(), MAX_FEEDBACK_MESSAGE_CHARS);
        let exact = Feedback::new("a".repeat(4096)).into_event();
        assert_eq!(Feedback::from_event(&exact).unwrap().message.len(), 4096);
    }

    #[test]
    fn wire_shape() {
        let id: EventId = "fc6d8c0c43fc4630ad850ee518f1b9d0".parse().unwrap();
        let event = Feedback {
            contact_email: Some("jane@example.com".into()),
            name: Some("Jane".into()),
            url: Some("https://example.com/a".into()),
            associated_event_id: Some(id),
            ..Feedback::new("broken")
        }
        .into_event();
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json["contexts"]["feedback"],
            serde_json::json!({
                "message": "broken",
                "contact_email": "jane@example.com",
                "name": "Jane",
                "url": "https://example.com/a",
                "associated_event_id": "fc6d8c0c43fc4630ad850ee518f1b9d0",
                "source": "api",
            })
        );
        assert!(!event.event_id.is_nil());
        assert!(json.get("platform").is_some() && json.get("timestamp").is_some());
        // Read back from JSON, the context is still found.
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(
            Feedback::from_event(&back).and_then(|f| f.associated_event_id),
            Some(id)
        );
        // A nil associated id is not written.
        let nil = Feedback {
            associated_event_id: Some(EventId::nil()),
            ..Feedback::new("x")
        };
        let json = serde_json::to_value(nil.into_event()).unwrap();
        assert!(json["contexts"]["feedback"]
            .get("associated_event_id")
            .is_none());
    }
}
