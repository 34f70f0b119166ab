//! Exceptions and the mechanism that captured them.

use sentry_minimal::Map;
use serde::{Deserialize, Serialize};

use super::minimal_serde::wire;
use super::{Stacktrace, ThreadId};

/// One exception of an event (an entry of `exception.values`).
///
/// An event lists its exceptions **oldest first**: the root cause first and the exception that
/// was finally caught last.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{Exception, Mechanism};
///
/// let exc = Exception {
///     ty: "ParseIntError".into(),
///     value: Some("invalid digit found in string".into()),
///     module: Some("core::num".into()),
///     mechanism: Some(Mechanism { ty: "generic".into(), handled: Some(true), ..Mechanism::default() }),
///     ..Exception::default()
/// };
/// let json = serde_json::to_value(&exc).unwrap();
/// assert_eq!(json["type"], "ParseIntError");
/// assert_eq!(json["mechanism"], serde_json::json!({"type": "generic", "handled": true}));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Exception {
    /// The exception type, such as `"ParseIntError"` (wire name `type`).
    #[serde(rename = "type", default)]
    pub ty: String,
    /// The message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The module the type is defined in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// Where the exception was raised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stacktrace: Option<Stacktrace>,
    /// How the exception was captured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mechanism: Option<Mechanism>,
    /// The thread that raised it; matches a [`Thread::id`](super::Thread::id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<ThreadId>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// How an exception was captured: by the user, a panic hook, a signal handler, …
///
/// `ty` is required on the wire. Captures made by user code use `"generic"` with
/// `handled: Some(true)`; SDK integrations use their own names (such as `"panic"`).
/// The exception-group fields (`exception_id`, `parent_id`, `source`, `is_exception_group`) link
/// the entries of an error chain.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Mechanism {
    /// The mechanism's name (wire name `type`), such as `"generic"` or `"panic"`.
    #[serde(rename = "type", default)]
    pub ty: String,
    /// Whether the user's code handled the exception; `Some(false)` marks crashes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handled: Option<bool>,
    /// Set when the exception type and value were made up by the SDK (such as for signals) and
    /// should not be used for grouping.
    #[serde(default, skip_serializing_if = "is_false")]
    pub synthetic: bool,
    /// A human-readable description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A link to documentation about this kind of failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_link: Option<String>,
    /// Arbitrary data about the mechanism.
    #[serde(default, with = "wire", skip_serializing_if = "Map::is_empty")]
    pub data: Map,
    /// Operating-system details (signal, errno).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<MechanismMeta>,
    /// This exception's index in an exception group (the root has id 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception_id: Option<u64>,
    /// The `exception_id` of the exception this one is a cause of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<u64>,
    /// How this exception relates to its parent, such as `"source"` or `"__cause__"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Whether this exception groups several others.
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_exception_group: bool,
}

/// Operating-system error details of a [`Mechanism`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MechanismMeta {
    /// The POSIX signal that caused the crash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<SignalMeta>,
    /// The `errno` of the failing call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno: Option<ErrnoMeta>,
}

/// A POSIX signal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalMeta {
    /// The signal number, such as 11.
    pub number: i64,
    /// The signal code (`si_code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// The signal name, such as `"SIGSEGV"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The name of the signal code, such as `"SEGV_MAPERR"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_name: Option<String>,
}

/// A C `errno` value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrnoMeta {
    /// The error number, such as 2.
    pub number: i64,
    /// The error name, such as `"ENOENT"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mechanism_round_trips() {
        let mut mechanism = Mechanism {
            ty: "signalhandler".into(),
            handled: Some(false),
            synthetic: true,
            description: Some("segfault".into()),
            help_link: Some("https://example.com".into()),
            data: Map::new(),
            meta: Some(MechanismMeta {
                signal: Some(SignalMeta {
                    number: 11,
                    code: Some(1),
                    name: Some("SIGSEGV".into()),
                    code_name: Some("SEGV_MAPERR".into()),
                }),
                errno: Some(ErrnoMeta {
                    number: 2,
                    name: Some("ENOENT".into()),
                }),
            }),
            exception_id: Some(1),
            parent_id: Some(0),
            source: Some("source".into()),
            is_exception_group: false,
        };
        mechanism.data.insert("k".into(), "v".into());
        let json = serde_json::to_value(&mechanism).unwrap();
        assert_eq!(
            json,
            json!({"type": "signalhandler", "handled": false, "synthetic": true,
                   "description": "segfault", "help_link": "https://example.com",
                   "data": {"k": "v"},
                   "meta": {"signal": {"number": 11, "code": 1, "name": "SIGSEGV",
                                       "code_name": "SEGV_MAPERR"},
                            "errno": {"number": 2, "name": "ENOENT"}},
                   "exception_id": 1, "parent_id": 0, "source": "source"})
        );
        assert_eq!(
            serde_json::from_value::<Mechanism>(json).unwrap(),
            mechanism
        );
    }

    #[test]
    fn minimal_exception() {
        let exc = Exception {
            ty: "E".into(),
            thread_id: Some(5.into()),
            ..Exception::default()
        };
        let json = serde_json::to_value(&exc).unwrap();
        assert_eq!(json, json!({"type": "E", "thread_id": 5}));
        assert_eq!(serde_json::from_value::<Exception>(json).unwrap(), exc);
    }
}
