//! Cron monitor check-ins: the `check_in` item and the monitor configuration it may carry.
//!
//! A job reports `in_progress` when it starts and `ok` or `error` when it ends, with the same
//! [`CheckInId`] and the duration. A check-in that carries a [`MonitorConfig`] creates the
//! monitor in Sentry, or updates it.
//!
//! Wire form (what Relay keeps; `release` is sent too, but Relay does not pass it on):
//!
//! ```json
//! {"check_in_id":"…32 hex…","monitor_slug":"nightly-backup","status":"ok","duration":12.5,
//!  "environment":"production","monitor_config":{"schedule":{"type":"crontab","value":"0 3 * * *"},
//!  "checkin_margin":5,"max_runtime":30,"timezone":"Europe/Vienna"},
//!  "contexts":{"trace":{"trace_id":"…32 hex…"}}}
//! ```

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use sentry_minimal::{EventId, ParseIdError, TraceId};

use super::minimal_serde::{De, Ser};

/// The longest monitor slug Sentry keeps, in characters (Relay cuts longer ones, so two
/// monitors whose slugs differ only after it would be one).
pub const MAX_MONITOR_SLUG_CHARS: usize = 50;
/// The longest environment a check-in may name, in characters (Relay rejects longer ones).
pub const MAX_CHECK_IN_ENVIRONMENT_CHARS: usize = 64;

/// The id that ties a job's `in_progress` check-in to its `ok` or `error` one: 32 hex digits.
///
/// The nil id (all zeros) asks Sentry to update the monitor's latest `in_progress` check-in
/// (or to create one); [`CheckIn::new`] draws a random id instead.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::CheckInId;
///
/// let id = CheckInId::new();
/// assert!(!id.is_nil());
/// assert_eq!(id.to_string().len(), 32);
/// assert_eq!(id.to_string().parse::<CheckInId>().unwrap(), id);
/// assert!(CheckInId::nil().is_nil());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CheckInId(EventId);

impl CheckInId {
    /// A fresh random id.
    pub fn new() -> CheckInId {
        CheckInId(super::ids::new_event_id())
    }

    /// The nil id: "the latest `in_progress` check-in of the monitor".
    pub const fn nil() -> CheckInId {
        CheckInId(EventId::nil())
    }

    /// `true` for the nil id.
    pub fn is_nil(&self) -> bool {
        self.0.is_nil()
    }

    /// The id as an [`EventId`] (the same 16 bytes).
    pub fn as_event_id(&self) -> EventId {
        self.0
    }
}

impl From<EventId> for CheckInId {
    fn from(id: EventId) -> Self {
        CheckInId(id)
    }
}

impl fmt::Display for CheckInId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for CheckInId {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(CheckInId)
    }
}

impl Serialize for CheckInId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Ser(&self.0).serialize(s)
    }
}

impl<'de> Deserialize<'de> for CheckInId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        De::<EventId>::deserialize(d).map(|De(id)| CheckInId(id))
    }
}

/// Where a job is: started, or ended well or badly.
///
/// ```
/// use sentry_core::protocol::CheckInStatus;
///
/// assert_eq!(serde_json::to_string(&CheckInStatus::InProgress).unwrap(), r#""in_progress""#);
/// assert_eq!(CheckInStatus::Error.as_str(), "error");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckInStatus {
    /// The job started (`in_progress`).
    InProgress,
    /// The job ended successfully (`ok`).
    Ok,
    /// The job failed (`error`).
    Error,
}

impl CheckInStatus {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            CheckInStatus::InProgress => "in_progress",
            CheckInStatus::Ok => "ok",
            CheckInStatus::Error => "error",
        }
    }
}

impl fmt::Display for CheckInStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A check-in is not sent, or a schedule not built: what is wrong.
///
/// ```
/// use sentry_core::protocol::{MonitorError, MonitorSchedule};
///
/// let err = MonitorSchedule::crontab("0 25 * * *").unwrap_err();
/// assert!(matches!(err, MonitorError::InvalidCrontab { .. }));
/// assert_eq!(
///     err.to_string(),
///     "invalid crontab `0 25 * * *`: hour field `25`: 25 is outside 0–23"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MonitorError {
    /// The crontab expression cannot be read.
    InvalidCrontab {
        /// The expression as given.
        expr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An interval schedule of 0 units.
    ZeroInterval,
    /// The monitor slug is empty.
    EmptySlug,
    /// The monitor slug is longer than [`MAX_MONITOR_SLUG_CHARS`].
    SlugTooLong {
        /// Its length in characters.
        chars: usize,
    },
    /// The environment is longer than [`MAX_CHECK_IN_ENVIRONMENT_CHARS`].
    EnvironmentTooLong {
        /// Its length in characters.
        chars: usize,
    },
}

impl fmt::Display for MonitorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MonitorError::InvalidCrontab { expr, reason } => {
                write!(f, "invalid crontab `{expr}`: {reason}")
            }
            MonitorError::ZeroInterval => f.write_str("an interval schedule needs at least 1 unit"),
            MonitorError::EmptySlug => f.write_str("the monitor slug is empty"),
            MonitorError::SlugTooLong { chars } => write!(
                f,
                "the monitor slug has {chars} characters; Sentry keeps at most \
                 {MAX_MONITOR_SLUG_CHARS}"
            ),
            MonitorError::EnvironmentTooLong { chars } => write!(
                f,
                "the check-in environment has {chars} characters; Sentry accepts at most \
                 {MAX_CHECK_IN_ENVIRONMENT_CHARS}"
            ),
        }
    }
}

impl std::error::Error for MonitorError {}

/// The unit of an interval schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalUnit {
    /// Minutes.
    Minute,
    /// Hours.
    Hour,
    /// Days.
    Day,
    /// Weeks.
    Week,
    /// Months.
    Month,
    /// Years.
    Year,
}

/// When a monitor expects its job: a crontab expression or every N units. Built only through
/// [`crontab`](Self::crontab) and [`interval`](Self::interval), which check it, so a monitor
/// never gets a schedule Sentry cannot read (reading one from JSON checks it too).
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{IntervalUnit, MonitorSchedule};
///
/// let nightly = MonitorSchedule::crontab("0 3 * * MON-FRI").unwrap();
/// assert_eq!(
///     serde_json::to_string(&nightly).unwrap(),
///     r#"{"type":"crontab","value":"0 3 * * MON-FRI"}"#
/// );
/// let every_ten = MonitorSchedule::interval(10, IntervalUnit::Minute).unwrap();
/// assert_eq!(
///     serde_json::to_string(&every_ten).unwrap(),
///     r#"{"type":"interval","value":10,"unit":"minute"}"#
/// );
/// assert!(MonitorSchedule::crontab("every day").is_err());
/// assert!(MonitorSchedule::interval(0, IntervalUnit::Hour).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ScheduleWire", into = "ScheduleWire")]
pub struct MonitorSchedule(ScheduleWire);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ScheduleWire {
    Crontab { value: String },
    Interval { value: u64, unit: IntervalUnit },
}

impl MonitorSchedule {
    /// A crontab schedule: five fields (minute 0–59, hour 0–23, day of month 1–31, month
    /// 1–12 or `JAN`–`DEC`, day of week 0–7 or `SUN`–`SAT`), each a comma-separated list of
    /// `*`, `N`, `A-B`, `*/S`, `A-B/S` or `A/S`; or one of `@yearly`, `@annually`,
    /// `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`.
    ///
    /// # Errors
    ///
    /// [`MonitorError::InvalidCrontab`], saying which field is wrong.
    pub fn crontab(expr: impl Into<String>) -> Result<MonitorSchedule, MonitorError> {
        let expr = expr.into();
        match super::crontab::check(&expr) {
            Ok(()) => Ok(MonitorSchedule(ScheduleWire::Crontab {
                value: expr.trim().to_owned(),
            })),
            Err(reason) => Err(MonitorError::InvalidCrontab { expr, reason }),
        }
    }

    /// Every `value` units.
    ///
    /// # Errors
    ///
    /// [`MonitorError::ZeroInterval`] for 0.
    pub fn interval(value: u64, unit: IntervalUnit) -> Result<MonitorSchedule, MonitorError> {
        if value == 0 {
            return Err(MonitorError::ZeroInterval);
        }
        Ok(MonitorSchedule(ScheduleWire::Interval { value, unit }))
    }

    /// The crontab expression, for a crontab schedule.
    pub fn as_crontab(&self) -> Option<&str> {
        match &self.0 {
            ScheduleWire::Crontab { value } => Some(value),
            ScheduleWire::Interval { .. } => None,
        }
    }

    /// The count and unit, for an interval schedule.
    pub fn as_interval(&self) -> Option<(u64, IntervalUnit)> {
        match self.0 {
            ScheduleWire::Interval { value, unit } => Some((value, unit)),
            ScheduleWire::Crontab { .. } => None,
        }
    }
}

impl fmt::Display for MonitorSchedule {
    /// `crontab "0 3 * * *"` or `every 10 minute`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ScheduleWire::Crontab { value } => write!(f, "crontab {value:?}"),
            ScheduleWire::Interval { value, unit } => {
                let unit = match unit {
                    IntervalUnit::Minute => "minute",
                    IntervalUnit::Hour => "hour",
                    IntervalUnit::Day => "day",
                    IntervalUnit::Week => "week",
                    IntervalUnit::Month => "month",
                    IntervalUnit::Year => "year",
                };
                write!(f, "every {value} {unit}")
            }
        }
    }
}

impl TryFrom<ScheduleWire> for MonitorSchedule {
    type Error = MonitorError;

    fn try_from(wire: ScheduleWire) -> Result<Self, Self::Error> {
        match wire {
            ScheduleWire::Crontab { value } => MonitorSchedule::crontab(value),
            ScheduleWire::Interval { value, unit } => MonitorSchedule::interval(value, unit),
        }
    }
}

impl From<MonitorSchedule> for ScheduleWire {
    fn from(schedule: MonitorSchedule) -> Self {
        schedule.0
    }
}

/// How Sentry creates or updates a monitor from a check-in: the schedule, and optionally the
/// margins, time zone, alerting thresholds and owner. Build it with [`MonitorConfig::new`] and
/// struct update syntax.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{MonitorConfig, MonitorSchedule};
///
/// let config = MonitorConfig {
///     checkin_margin: Some(5),
///     max_runtime: Some(30),
///     timezone: Some("Europe/Vienna".into()),
///     failure_issue_threshold: Some(2),
///     owner: Some("team:backend".into()),
///     ..MonitorConfig::new(MonitorSchedule::crontab("0 3 * * *").unwrap())
/// };
/// let json = serde_json::to_value(&config).unwrap();
/// assert_eq!(json["schedule"]["value"], "0 3 * * *");
/// assert_eq!(json["max_runtime"], 30);
/// assert!(json.get("recovery_threshold").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorConfig {
    /// When the job runs.
    pub schedule: MonitorSchedule,
    /// Minutes after the expected time before a missing check-in counts as missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkin_margin: Option<u64>,
    /// Minutes a job may stay `in_progress` before it counts as failed (timed out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_runtime: Option<u64>,
    /// The time zone of a crontab schedule, a tz database name such as `"Europe/Vienna"`
    /// (UTC when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<Cow<'static, str>>,
    /// How many failed or missed check-ins in a row open an issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_issue_threshold: Option<u64>,
    /// How many successful check-ins in a row resolve it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_threshold: Option<u64>,
    /// Who owns the monitor: `"user:<email>"` or `"team:<slug>"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Cow<'static, str>>,
}

impl MonitorConfig {
    /// A configuration with `schedule` and nothing else.
    pub fn new(schedule: MonitorSchedule) -> MonitorConfig {
        MonitorConfig {
            schedule,
            checkin_margin: None,
            max_runtime: None,
            timezone: None,
            failure_issue_threshold: None,
            recovery_threshold: None,
            owner: None,
        }
    }
}

/// One check-in of a cron monitor (the payload of a `check_in` envelope item).
///
/// Capture it with [`capture_check_in`](crate::capture_check_in), which fills `release`,
/// `environment` and `trace_id` from the options and the current trace; or let
/// [`monitor`](crate::monitor) send the pair around a job.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{CheckIn, CheckInStatus};
///
/// let start = CheckIn::new("nightly-backup", CheckInStatus::InProgress);
/// let end = CheckIn { duration: Some(12.5), ..start.with_status(CheckInStatus::Ok) };
/// assert_eq!(end.check_in_id, start.check_in_id);
/// let json = serde_json::to_value(&end).unwrap();
/// assert_eq!(json["monitor_slug"], "nightly-backup");
/// assert_eq!(json["status"], "ok");
/// assert_eq!(json["duration"], 12.5);
/// assert!(json.get("monitor_config").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckIn {
    /// Ties the `in_progress` check-in to the one that ends the job.
    pub check_in_id: CheckInId,
    /// The monitor's slug: at most [`MAX_MONITOR_SLUG_CHARS`] characters, not empty.
    pub monitor_slug: String,
    /// Started, ok or error.
    pub status: CheckInStatus,
    /// How long the job ran, in seconds (honoured for `ok` and `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// The release (filled from the options; Sentry does not keep it at present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<Cow<'static, str>>,
    /// The environment (filled from the options; at most
    /// [`MAX_CHECK_IN_ENVIRONMENT_CHARS`] characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Cow<'static, str>>,
    /// Creates or updates the monitor when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_config: Option<MonitorConfig>,
    /// The trace the job ran in (wire: `contexts.trace.trace_id`); filled from the current
    /// span or scope when captured.
    #[serde(
        rename = "contexts",
        with = "trace_contexts",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub trace_id: Option<TraceId>,
}

impl CheckIn {
    /// A check-in of `monitor_slug` with a fresh random id.
    pub fn new(monitor_slug: impl Into<String>, status: CheckInStatus) -> CheckIn {
        CheckIn {
            check_in_id: CheckInId::new(),
            monitor_slug: monitor_slug.into(),
            status,
            duration: None,
            release: None,
            environment: None,
            monitor_config: None,
            trace_id: None,
        }
    }

    /// The same check-in with another status: how a job's end is reported with its start's
    /// id.
    pub fn with_status(&self, status: CheckInStatus) -> CheckIn {
        CheckIn {
            status,
            ..self.clone()
        }
    }

    /// Checks the limits Sentry applies: the slug is not empty and at most
    /// [`MAX_MONITOR_SLUG_CHARS`] characters; the environment, if set, at most
    /// [`MAX_CHECK_IN_ENVIRONMENT_CHARS`].
    ///
    /// # Errors
    ///
    /// The first limit broken.
    ///
    /// ```
    /// use sentry_core::protocol::{CheckIn, CheckInStatus, MonitorError};
    ///
    /// assert_eq!(CheckIn::new("", CheckInStatus::Ok).validate(), Err(MonitorError::EmptySlug));
    /// let long = CheckIn::new("x".repeat(51), CheckInStatus::Ok);
    /// assert_eq!(long.validate(), Err(MonitorError::SlugTooLong { chars: 51 }));
    /// assert!(CheckIn::new("x".repeat(50), CheckInStatus::Ok).validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), MonitorError> {
        let slug = self.monitor_slug.chars().count();
        if self.monitor_slug.trim().is_empty() {
            return Err(MonitorError::EmptySlug);
        }
        if slug > MAX_MONITOR_SLUG_CHARS {
            return Err(MonitorError::SlugTooLong { chars: slug });
        }
        if let Some(environment) = &self.environment {
            let chars = environment.chars().count();
            if chars > MAX_CHECK_IN_ENVIRONMENT_CHARS {
                return Err(MonitorError::EnvironmentTooLong { chars });
            }
        }
        Ok(())
    }
}

/// `contexts: {"trace": {"trace_id": …}}` for [`CheckIn::trace_id`]; other contexts are
/// ignored when reading.
mod trace_contexts {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use sentry_minimal::TraceId;

    use super::super::minimal_serde::{De, Ser};

    #[derive(Serialize)]
    struct ContextsOut<'a> {
        trace: TraceOut<'a>,
    }

    #[derive(Serialize)]
    struct TraceOut<'a> {
        trace_id: Ser<'a, TraceId>,
    }

    #[derive(Deserialize)]
    struct ContextsIn {
        #[serde(default)]
        trace: Option<TraceIn>,
    }

    #[derive(Deserialize)]
    struct TraceIn {
        trace_id: De<TraceId>,
    }

    pub(super) fn serialize<S: Serializer>(
        trace_id: &Option<TraceId>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match trace_id {
            Some(trace_id) => ContextsOut {
                trace: TraceOut {
                    trace_id: Ser(trace_id),
                },
            }
            .serialize(s),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<TraceId>, D::Error> {
        let contexts = Option::<ContextsIn>::deserialize(d)?;
        Ok(contexts.and_then(|c| c.trace).map(|t| t.trace_id.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_is_what_relay_keeps() {
        let trace_id: TraceId = "8f431b7aa08441bbbd5a0100fd91f9fe".parse().unwrap();
        let check_in = CheckIn {
            check_in_id: "a460c25ff2554577b920fcfacae4e5eb".parse().unwrap(),
            duration: Some(21.0),
            release: Some("app@1".into()),
            environment: Some("production".into()),
            monitor_config: Some(MonitorConfig {
                checkin_margin: Some(5),
                max_runtime: Some(10),
                timezone: Some("America/Los_Angeles".into()),
                failure_issue_threshold: Some(3),
                recovery_threshold: Some(2),
                owner: Some("team:crons".into()),
                ..MonitorConfig::new(MonitorSchedule::interval(5, IntervalUnit::Day).unwrap())
            }),
            trace_id: Some(trace_id),
            ..CheckIn::new("my-monitor", CheckInStatus::InProgress)
        };
        let json = serde_json::to_string(&check_in).unwrap();
        assert_eq!(
            json,
            r#"{"check_in_id":"a460c25ff2554577b920fcfacae4e5eb","monitor_slug":"my-monitor","status":"in_progress","duration":21.0,"release":"app@1","environment":"production","monitor_config":{"schedule":{"type":"interval","value":5,"unit":"day"},"checkin_margin":5,"max_runtime":10,"timezone":"America/Los_Angeles","failure_issue_threshold":3,"recovery_threshold":2,"owner":"team:crons"},"contexts":{"trace":{"trace_id":"8f431b7aa08441bbbd5a0100fd91f9fe"}}}"#
        );
        let back: CheckIn = serde_json::from_str(&json).unwrap();
        assert_eq!(back, check_in);

        let minimal = CheckIn {
            check_in_id: CheckInId::nil(),
            ..CheckIn::new("m", CheckInStatus::Ok)
        };
        assert_eq!(
            serde_json::to_string(&minimal).unwrap(),
            r#"{"check_in_id":"00000000000000000000000000000000","monitor_slug":"m","status":"ok"}"#
        );
    }

    #[test]
    fn reading_checks_the_schedule() {
        let bad = r#"{"check_in_id":"a460c25ff2554577b920fcfacae4e5eb","monitor_slug":"m","status":"ok","monitor_config":{"schedule":{"type":"crontab","value":"61 * * * *"}}}"#;
        let err = serde_json::from_str::<CheckIn>(bad).unwrap_err();
        assert!(err.to_string().contains("61 is outside 0–59"), "{err}");
        let zero = r#"{"type":"interval","value":0,"unit":"hour"}"#;
        assert!(serde_json::from_str::<MonitorSchedule>(zero).is_err());
        let other_contexts = r#"{"check_in_id":"a460c25ff2554577b920fcfacae4e5eb","monitor_slug":"m","status":"ok","contexts":{"trace":{"trace_id":"8f431b7aa08441bbbd5a0100fd91f9fe","span_id":"b0e6f15b45c36b12"},"os":{}}}"#;
        let check_in: CheckIn = serde_json::from_str(other_contexts).unwrap();
        assert!(check_in.trace_id.is_some());
    }

    #[test]
    fn limits() {
        let mut check_in = CheckIn::new("🦀".repeat(50), CheckInStatus::Ok);
        assert_eq!(check_in.validate(), Ok(()));
        check_in.monitor_slug.push('x');
        assert_eq!(
            check_in.validate(),
            Err(MonitorError::SlugTooLong { chars: 51 })
        );
        check_in.monitor_slug = "  ".into();
        assert_eq!(check_in.validate(), Err(MonitorError::EmptySlug));
        check_in.monitor_slug = "ok".into();
        check_in.environment = Some("e".repeat(64).into());
        assert_eq!(check_in.validate(), Ok(()));
        check_in.environment = Some("e".repeat(65).into());
        assert_eq!(
            check_in.validate(),
            Err(MonitorError::EnvironmentTooLong { chars: 65 })
        );
        assert!(MonitorError::EnvironmentTooLong { chars: 65 }
            .to_string()
            .contains("at most 64"));
    }
}
