//! The Sentry event protocol: serde types for the payloads the SDK sends.
//!
//! One module per concept: the [`Event`] and its interfaces ([`Exception`], [`Stacktrace`],
//! [`Thread`], [`Context`], [`Request`], [`DebugMeta`], [`ClientSdkInfo`]), the transaction
//! parts of an event ([`EventType`], [`Span`], [`Measurement`], [`TransactionInfo`]), the
//! [`ClientReport`] item, the files sent with events ([`Attachment`]), cron [`CheckIn`]s, user
//! [`Feedback`] and the release health items ([`SessionUpdate`], [`SessionAggregates`]).
//! Types shared with the `sentry-minimal` facade ([`Level`], [`Value`],
//! [`Map`], [`EventId`], [`TraceId`], [`SpanId`], [`Breadcrumb`], [`User`]) are reused as they
//! are, not redefined; their wire form is described in each field's documentation.
//!
//! Everything serializes to the JSON Sentry expects, leaving out empty fields, and reads back
//! what it writes (plus the common alternative spellings), so tests can parse what a server
//! received.

mod addr;
mod attachment;
mod category;
mod check_in;
mod client_report;
mod context;
mod crontab;
mod debug_meta;
mod discard_reason;
mod event;
mod event_type;
mod exception;
mod feedback;
mod ids;
pub(crate) mod json;
mod json_value;
mod log;
mod log_attributes;
mod measurement;
mod metric;
mod minimal_serde;
mod profile_chunk;
mod request;
mod sdk;
mod session;
mod span;
mod span_text;
mod span_v2;
mod stacktrace;
mod thread;
mod transaction_info;

pub use addr::{Addr, ParseAddrError};
pub use attachment::{
    content_type_for, Attachment, AttachmentData, AttachmentType, DEFAULT_ATTACHMENT_CONTENT_TYPE,
    DEFAULT_MAX_ATTACHMENT_SIZE,
};
pub use category::DataCategory;
pub use check_in::{
    CheckIn, CheckInId, CheckInStatus, IntervalUnit, MonitorConfig, MonitorError, MonitorSchedule,
    MAX_CHECK_IN_ENVIRONMENT_CHARS, MAX_MONITOR_SLUG_CHARS,
};
pub use client_report::{ClientReport, DiscardedEvent};
pub use context::{
    AppContext, Context, Contexts, DeviceContext, OsContext, RuntimeContext, TraceContext,
};
pub use debug_meta::{DebugImage, DebugMeta, NativeDebugImage};
pub use discard_reason::DiscardReason;
pub use event::{Event, Tags, DEFAULT_PLATFORM};
pub use event_type::EventType;
pub use exception::{ErrnoMeta, Exception, Mechanism, MechanismMeta, SignalMeta};
pub use feedback::{Feedback, FEEDBACK_CONTEXT, MAX_FEEDBACK_MESSAGE_CHARS};
pub use ids::{new_event_id, new_span_id, new_trace_id};
pub use json_value::{to_value, JsonValueExt, ValueJsonExt};
pub use log::{Log, LogLevel, ParseLogLevelError, LOG_CONTENT_TYPE};
pub use log_attributes::{LogAttributes, LogValue};
pub use measurement::{Measurement, MeasurementUnit};
pub use metric::{
    Metric, MetricType, MetricValue, ParseMetricTypeError, TRACE_METRIC_CONTENT_TYPE,
};
pub use minimal_serde::{value_from_json, value_to_json};
pub use profile_chunk::{
    ProfileChunk, ProfileChunkSdk, ProfileData, ProfileFrame, ProfileSample, ProfileThread,
    MAX_PROFILE_CHUNK_BYTES, MAX_PROFILE_CHUNK_SECONDS, PROFILE_CHUNK_PLATFORM,
};
pub use request::Request;
pub use sdk::{ClientSdkInfo, ClientSdkPackage};
pub use sentry_minimal::SpanStatus;
pub use session::{
    ParseSessionStatusError, SessionAggregateItem, SessionAggregates, SessionAttributes,
    SessionStatus, SessionUpdate,
};
pub use span::Span;
pub use span_text::SpanText;
pub(crate) use span_v2::{attributes_size, SpanV2Payload};
pub use span_v2::{SpanLink, SpanV2, SpanV2Status, SPAN_V2_CONTENT_TYPE};
pub use stacktrace::{Frame, Stacktrace};
pub use thread::{Thread, ThreadId};
pub use transaction_info::{TransactionInfo, TransactionSource};

pub use sentry_minimal::{
    Breadcrumb, EventId, Level, Map, SortedMap, SpanId, TraceId, User, Value,
};

pub(crate) use minimal_serde::{wire, Ser};
