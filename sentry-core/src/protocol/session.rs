//! Release health payloads: the `session` item (one session's state) and the `sessions` item
//! (sessions counted per minute).

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use sentry_minimal::{EventId, Value};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::json;

/// The state of a session. `ok` is the only state that changes; the other three are final: once
/// a session is in one of them, no update of it is ever sent again.
///
/// "Errored" is not a state: a session with `errors > 0` that ends `exited` counts as errored.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::SessionStatus;
///
/// assert_eq!(SessionStatus::Crashed.as_str(), "crashed");
/// assert_eq!("abnormal".parse::<SessionStatus>(), Ok(SessionStatus::Abnormal));
/// assert!(!SessionStatus::Ok.is_terminal());
/// assert!(SessionStatus::Exited.is_terminal());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SessionStatus {
    /// Running.
    #[default]
    Ok,
    /// Ended normally (an application that shut down, a request that was answered).
    Exited,
    /// Ended by an unhandled error: a panic of the application, or a request that failed the
    /// way an HTTP 500 does.
    Crashed,
    /// Ended in an unknown way: found still open by the next start of the application (power
    /// loss, `kill -9`, an abort that skipped the panic hook).
    Abnormal,
}

impl SessionStatus {
    /// The wire name: `ok`, `exited`, `crashed` or `abnormal`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Ok => "ok",
            SessionStatus::Exited => "exited",
            SessionStatus::Crashed => "crashed",
            SessionStatus::Abnormal => "abnormal",
        }
    }

    /// `true` for the final states (every state but [`Ok`](SessionStatus::Ok)).
    pub const fn is_terminal(self) -> bool {
        !matches!(self, SessionStatus::Ok)
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing a [`SessionStatus`] from an unknown name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseSessionStatusError(String);

impl fmt::Display for ParseSessionStatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown session status {:?}", self.0)
    }
}

impl std::error::Error for ParseSessionStatusError {}

impl FromStr for SessionStatus {
    type Err = ParseSessionStatusError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "ok" => SessionStatus::Ok,
            "exited" => SessionStatus::Exited,
            "crashed" => SessionStatus::Crashed,
            "abnormal" => SessionStatus::Abnormal,
            other => return Err(ParseSessionStatusError(other.to_owned())),
        })
    }
}

impl Serialize for SessionStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SessionStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// What a session, or a bucket of aggregated sessions, belongs to: `attrs` on the wire.
///
/// `ip_address` and `user_agent` are filled only with
/// [`send_default_pii`](crate::ClientOptions::send_default_pii).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionAttributes {
    /// The release (required: no session is tracked without one).
    pub release: String,
    /// The environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The user's IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The user agent of the client the session serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// The payload of a `session` item: the whole state of one session, sent again in full at every
/// update.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use sentry_core::protocol::{SessionAttributes, SessionStatus, SessionUpdate};
///
/// let update = SessionUpdate {
///     sid: "a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8".parse().unwrap(),
///     did: Some("user-42".into()),
///     seq: 0,
///     timestamp: Some(UNIX_EPOCH + Duration::from_secs(1_714_564_860)),
///     started: UNIX_EPOCH + Duration::from_secs(1_714_564_800),
///     init: true,
///     duration: Some(60.0),
///     status: SessionStatus::Exited,
///     errors: 1,
///     abnormal_mechanism: None,
///     attrs: SessionAttributes { release: "app@1.0.0".into(), ..Default::default() },
/// };
/// assert_eq!(
///     serde_json::to_value(&update).unwrap(),
///     serde_json::json!({
///         "sid": "a8b0c2d4-e6f8-a0b2-c4d6-e8f0a2b4c6d8",
///         "did": "user-42",
///         "seq": 0,
///         "timestamp": "2024-05-01T12:01:00.000000Z",
///         "started": "2024-05-01T12:00:00.000000Z",
///         "init": true,
///         "duration": 60.0,
///         "status": "exited",
///         "errors": 1,
///         "attrs": {"release": "app@1.0.0"}
///     })
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionUpdate {
    /// The session's id (a random UUID, written with dashes).
    #[serde(with = "sid")]
    pub sid: EventId,
    /// The distinct id of the user or device, from the user's id, email or username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub did: Option<String>,
    /// A logical clock: updates with a higher `seq` replace those with a lower one. 0 for the
    /// first update (`init`), the time in milliseconds since the epoch for later ones.
    #[serde(default)]
    pub seq: u64,
    /// When this update was made.
    #[serde(
        default,
        with = "crate::time::rfc3339_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<SystemTime>,
    /// When the session started.
    #[serde(with = "crate::time::rfc3339")]
    pub started: SystemTime,
    /// `true` on the first update of a session only.
    #[serde(default, skip_serializing_if = "is_false")]
    pub init: bool,
    /// How long the session has lasted, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// The state.
    #[serde(default)]
    pub status: SessionStatus,
    /// How many errors were captured during the session.
    #[serde(default)]
    pub errors: u64,
    /// What ended an abnormal session, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abnormal_mechanism: Option<String>,
    /// The release and environment (and, with `send_default_pii`, IP address and user agent).
    pub attrs: SessionAttributes,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The session id as a UUID with dashes (Relay reads both forms; dashes are the canonical one).
mod sid {
    use std::fmt::Write as _;

    use sentry_minimal::EventId;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn to_uuid(id: &EventId) -> String {
        let hex = id.to_string();
        let mut out = String::with_capacity(36);
        for (i, part) in [0..8, 8..12, 12..16, 16..20, 20..32]
            .into_iter()
            .enumerate()
        {
            if i > 0 {
                out.push('-');
            }
            let _ = write!(out, "{}", &hex[part]);
        }
        out
    }

    pub(super) fn serialize<S: Serializer>(id: &EventId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_uuid(id))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<EventId, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl SessionUpdate {
    /// Reads an update the SDK wrote (the copy of the open application session kept in the
    /// offline cache), by hand through the SDK's own JSON reader rather than the derived
    /// `Deserialize` (see `protocol::json`): only the fields the SDK writes are read.
    ///
    /// # Errors
    ///
    /// What is malformed or missing.
    pub(crate) fn from_json(bytes: &[u8]) -> Result<SessionUpdate, String> {
        let value = json::from_slice(bytes).map_err(|error| error.to_string())?;
        let [sid, did, seq, timestamp, started, init, duration, status, errors, attrs] =
            json::struct_fields(
                value,
                [
                    "sid",
                    "did",
                    "seq",
                    "timestamp",
                    "started",
                    "init",
                    "duration",
                    "status",
                    "errors",
                    "attrs",
                ],
                "a session",
            )?;
        let sid = json::required_string("sid", sid)?
            .parse::<EventId>()
            .map_err(|e| json::in_field("sid", e.to_string()))?;
        let optional_string = |field: &str, value: Option<Value>| match value {
            None | Some(Value::Null) => Ok(None),
            Some(value) => json::string(value)
                .map(Some)
                .map_err(|e| json::in_field(field, e)),
        };
        let u64_field = |field: &str, value: Option<Value>| match value {
            None => Ok(0),
            Some(value) => value
                .as_u64()
                .ok_or_else(|| json::in_field(field, json::invalid_type(&value, "an integer"))),
        };
        let started = match started {
            Some(value) => json::timestamp(&value).map_err(|e| json::in_field("started", e))?,
            None => return Err("missing field `started`".to_owned()),
        };
        let timestamp = match timestamp {
            None | Some(Value::Null) => None,
            Some(value) => {
                Some(json::timestamp(&value).map_err(|e| json::in_field("timestamp", e))?)
            }
        };
        let status = match status {
            None => SessionStatus::Ok,
            Some(value) => json::string(value)
                .and_then(|s| {
                    s.parse()
                        .map_err(|e: ParseSessionStatusError| e.to_string())
                })
                .map_err(|e| json::in_field("status", e))?,
        };
        let duration = match duration {
            None | Some(Value::Null) => None,
            Some(Value::F64(f)) => Some(f),
            Some(Value::I64(n)) => Some(n as f64),
            Some(Value::U64(n)) => Some(n as f64),
            Some(other) => {
                return Err(json::in_field(
                    "duration",
                    json::invalid_type(&other, "a number"),
                ))
            }
        };
        let init = match init {
            None => false,
            Some(Value::Bool(b)) => b,
            Some(other) => {
                return Err(json::in_field(
                    "init",
                    json::invalid_type(&other, "a boolean"),
                ))
            }
        };
        let Some(attrs) = attrs else {
            return Err("missing field `attrs`".to_owned());
        };
        let [release, environment, ip_address, user_agent] = json::struct_fields(
            attrs,
            ["release", "environment", "ip_address", "user_agent"],
            "session attributes",
        )
        .map_err(|e| json::in_field("attrs", e))?;
        Ok(SessionUpdate {
            sid,
            did: optional_string("did", did)?,
            seq: u64_field("seq", seq)?,
            timestamp,
            started,
            init,
            duration,
            status,
            errors: u64_field("errors", errors)?,
            abnormal_mechanism: None,
            attrs: SessionAttributes {
                release: json::required_string("release", release)
                    .map_err(|e| json::in_field("attrs", e))?,
                environment: optional_string("environment", environment)?,
                ip_address: optional_string("ip_address", ip_address)?,
                user_agent: optional_string("user_agent", user_agent)?,
            },
        })
    }
}

/// The payload of a `sessions` item: sessions that ended, counted per start minute (and
/// distinct id), for servers that track one session per request.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use sentry_core::protocol::{SessionAggregateItem, SessionAggregates, SessionAttributes};
///
/// let aggregates = SessionAggregates {
///     aggregates: vec![SessionAggregateItem {
///         started: UNIX_EPOCH + Duration::from_secs(1_714_564_800),
///         did: None,
///         exited: 10,
///         errored: 2,
///         abnormal: 0,
///         crashed: 1,
///     }],
///     attrs: SessionAttributes { release: "api@2.0.0".into(), environment: Some("production".into()), ..Default::default() },
/// };
/// assert_eq!(
///     serde_json::to_value(&aggregates).unwrap(),
///     serde_json::json!({
///         "aggregates": [{"started": "2024-05-01T12:00:00.000000Z", "exited": 10, "errored": 2, "crashed": 1}],
///         "attrs": {"release": "api@2.0.0", "environment": "production"}
///     })
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionAggregates {
    /// The buckets.
    pub aggregates: Vec<SessionAggregateItem>,
    /// What every bucket belongs to.
    pub attrs: SessionAttributes,
}

impl SessionAggregates {
    /// How many sessions the buckets count in all.
    pub fn total(&self) -> u64 {
        self.aggregates
            .iter()
            .map(SessionAggregateItem::total)
            .sum()
    }
}

/// One bucket of [`SessionAggregates`]: the sessions that started in one minute (and had one
/// distinct id), by how they ended. Zero counts are left out on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionAggregateItem {
    /// The minute the sessions started in (seconds are zero).
    #[serde(with = "crate::time::rfc3339")]
    pub started: SystemTime,
    /// The distinct id the sessions share, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub did: Option<String>,
    /// Sessions that ended normally without errors.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub exited: u64,
    /// Sessions that ended normally with errors.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub errored: u64,
    /// Sessions whose end is unknown.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub abnormal: u64,
    /// Sessions that ended with an unhandled error.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub crashed: u64,
}

impl SessionAggregateItem {
    /// The sessions this bucket counts.
    pub fn total(&self) -> u64 {
        self.exited + self.errored + self.abnormal + self.crashed
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn update() -> SessionUpdate {
        SessionUpdate {
            sid: crate::protocol::new_event_id(),
            did: Some("42".into()),
            seq: 1_714_564_800_123,
            timestamp: Some(UNIX_EPOCH + Duration::from_millis(1_714_564_800_123)),
            started: UNIX_EPOCH + Duration::from_secs(1_714_564_700),
            init: false,
            duration: Some(100.123),
            status: SessionStatus::Ok,
            errors: 3,
            abnormal_mechanism: None,
            attrs: SessionAttributes {
                release: "app@1".into(),
                environment: Some("staging".into()),
                ip_address: None,
                user_agent: Some("curl/8".into()),
            },
        }
    }

    #[test]
    fn reads_back_what_it_writes() {
        let update = update();
        let bytes = serde_json::to_vec(&update).unwrap();
        assert_eq!(SessionUpdate::from_json(&bytes).unwrap(), update);
        let derived: SessionUpdate = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(derived, update);
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains(&format!("\"sid\":\"{}\"", sid::to_uuid(&update.sid))));
    }

    #[test]
    fn malformed_files_are_errors() {
        for bad in [
            &b"nope"[..],
            b"{}",
            b"{\"sid\":\"zz\",\"started\":0,\"attrs\":{\"release\":\"a\"}}",
            b"{\"sid\":\"a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8\",\"started\":0}",
            b"{\"sid\":\"a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8\",\"started\":0,\"attrs\":{}}",
            b"{\"sid\":\"a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8\",\"started\":0,\"status\":\"weird\",\"attrs\":{\"release\":\"a\"}}",
        ] {
            assert!(SessionUpdate::from_json(bad).is_err(), "{bad:?}");
        }
    }
}
