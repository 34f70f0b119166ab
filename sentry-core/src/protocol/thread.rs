//! Threads in an event.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Stacktrace;

/// The identifier of a thread: a number or a string.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::ThreadId;
///
/// assert_eq!(serde_json::to_string(&ThreadId::from(7)).unwrap(), "7");
/// assert_eq!(serde_json::to_string(&ThreadId::from("main")).unwrap(), r#""main""#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ThreadId {
    /// A numeric id, such as the OS thread id.
    Int(u64),
    /// A textual id.
    String(String),
}

impl From<u64> for ThreadId {
    fn from(id: u64) -> Self {
        ThreadId::Int(id)
    }
}

impl From<&str> for ThreadId {
    fn from(id: &str) -> Self {
        ThreadId::String(id.to_owned())
    }
}

impl From<String> for ThreadId {
    fn from(id: String) -> Self {
        ThreadId::String(id)
    }
}

impl fmt::Display for ThreadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThreadId::Int(id) => write!(f, "{id}"),
            ThreadId::String(id) => f.write_str(id),
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A thread that was running when the event happened (the `threads.values` entries).
///
/// The crashing thread usually carries no stack trace here: its stack sits in the exception,
/// linked through [`Exception::thread_id`](super::Exception::thread_id).
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::Thread;
///
/// let thread = Thread { id: Some(1.into()), name: Some("main".into()), crashed: true, ..Thread::default() };
/// let json = serde_json::to_value(&thread).unwrap();
/// assert_eq!(json, serde_json::json!({"id": 1, "name": "main", "crashed": true}));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Thread {
    /// The thread id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<ThreadId>,
    /// The thread name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether this thread crashed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub crashed: bool,
    /// Whether this thread captured the event.
    #[serde(default, skip_serializing_if = "is_false")]
    pub current: bool,
    /// Whether this is the main thread.
    #[serde(default, skip_serializing_if = "is_false")]
    pub main: bool,
    /// The thread's state, such as `"Runnable"` or `"Blocked"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The thread's stack trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stacktrace: Option<Stacktrace>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips() {
        let thread = Thread {
            id: Some("worker-1".into()),
            name: Some("worker".into()),
            crashed: false,
            current: true,
            main: true,
            state: Some("Runnable".into()),
            stacktrace: Some(Stacktrace::default()),
        };
        let json = serde_json::to_value(&thread).unwrap();
        assert_eq!(
            json,
            json!({"id": "worker-1", "name": "worker", "current": true, "main": true,
                   "state": "Runnable", "stacktrace": {"frames": []}})
        );
        assert_eq!(serde_json::from_value::<Thread>(json).unwrap(), thread);
        assert_eq!(ThreadId::from(3).to_string(), "3");
    }
}
