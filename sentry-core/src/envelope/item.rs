//! Envelope items: the typed ones the SDK produces, and raw ones it passes through.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use sentry_minimal::{Map, Value};

use crate::protocol::DataCategory;
use crate::protocol::{
    json, Attachment, AttachmentData, CheckIn, ClientReport, Event, Log, LOG_CONTENT_TYPE,
};
use crate::protocol::{Metric, TRACE_METRIC_CONTENT_TYPE};
use crate::protocol::{SessionAggregates, SessionUpdate};

macro_rules! item_types {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// The type of an envelope item (its `"type"` header).
        ///
        /// # Examples
        ///
        /// ```
        /// use sentry_core::envelope::ItemType;
        /// use sentry_core::protocol::DataCategory;
        ///
        /// assert_eq!(ItemType::from_name("check_in"), ItemType::CheckIn);
        /// assert_eq!(ItemType::CheckIn.category(), DataCategory::Monitor);
        /// assert_eq!(ItemType::from_name("hologram"), ItemType::Other("hologram".into()));
        /// assert_eq!(ItemType::Other("hologram".into()).category(), DataCategory::Unknown);
        /// ```
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum ItemType {
            $($(#[$doc])* $variant,)*
            /// Any other type, kept by its name.
            Other(String),
        }

        impl ItemType {
            /// The wire name, such as `"event"` or `"client_report"`.
            pub fn as_str(&self) -> &str {
                match self {
                    $(ItemType::$variant => $name,)*
                    ItemType::Other(name) => name,
                }
            }

            /// The item type with this wire name; [`ItemType::Other`] for names this SDK does not
            /// know.
            pub fn from_name(name: &str) -> ItemType {
                match name {
                    $($name => ItemType::$variant,)*
                    other => ItemType::Other(other.to_owned()),
                }
            }
        }
    };
}

item_types! {
    /// An error or message event.
    Event => "event",
    /// A transaction.
    Transaction => "transaction",
    /// A release-health session update.
    Session => "session",
    /// Aggregated release-health sessions.
    Sessions => "sessions",
    /// A file attached to an event.
    Attachment => "attachment",
    /// A client report.
    ClientReport => "client_report",
    /// A cron monitor check-in.
    CheckIn => "check_in",
    /// A batch of log records.
    Log => "log",
    /// A batch of spans.
    Span => "span",
    /// User feedback.
    Feedback => "feedback",
    /// A legacy user report.
    UserReport => "user_report",
    /// A profile.
    Profile => "profile",
    /// A continuous-profiling chunk.
    ProfileChunk => "profile_chunk",
    /// A replay event.
    ReplayEvent => "replay_event",
    /// A replay recording.
    ReplayRecording => "replay_recording",
    /// A replay video.
    ReplayVideo => "replay_video",
    /// A batch of trace metrics.
    TraceMetric => "trace_metric",
}

impl ItemType {
    /// The rate-limit and client-report category of items of this type.
    ///
    /// `event` → `error`, `client_report` → `internal`, `user_report` → `default`,
    /// `check_in` → `monitor`, `log` → `log_item`, `replay_*` → `replay`, `session`/`sessions`
    /// → `session`; the other known types map to the category of the same name, and unknown
    /// types to [`DataCategory::Unknown`].
    pub fn category(&self) -> DataCategory {
        match self {
            ItemType::Event => DataCategory::Error,
            ItemType::Transaction => DataCategory::Transaction,
            ItemType::Session | ItemType::Sessions => DataCategory::Session,
            ItemType::Attachment => DataCategory::Attachment,
            ItemType::ClientReport => DataCategory::Internal,
            ItemType::CheckIn => DataCategory::Monitor,
            ItemType::Log => DataCategory::LogItem,
            ItemType::Span => DataCategory::Span,
            ItemType::Feedback => DataCategory::Feedback,
            ItemType::UserReport => DataCategory::Default,
            ItemType::Profile => DataCategory::Profile,
            ItemType::ProfileChunk => DataCategory::ProfileChunk,
            ItemType::ReplayEvent | ItemType::ReplayRecording | ItemType::ReplayVideo => {
                DataCategory::Replay
            }
            ItemType::TraceMetric => DataCategory::TraceMetric,
            ItemType::Other(_) => DataCategory::Unknown,
        }
    }
}

impl fmt::Display for ItemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ItemType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ItemType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = Cow::<'de, str>::deserialize(d)?;
        Ok(ItemType::from_name(&name))
    }
}

/// An item whose payload the SDK keeps as bytes: item types without a typed variant in
/// [`EnvelopeItem`], and unknown types read by the parser.
///
/// # Examples
///
/// ```
/// use sentry_core::envelope::{Envelope, ItemType, RawItem};
///
/// let mut item = RawItem::new(ItemType::Attachment, b"hello\n".to_vec());
/// item.headers.insert("filename".into(), "hello.txt".into());
/// let mut envelope = Envelope::new();
/// envelope.add_item(item);
/// let bytes = envelope.to_vec(None);
/// assert_eq!(
///     bytes,
///     b"{}\n{\"type\":\"attachment\",\"length\":6,\"filename\":\"hello.txt\"}\nhello\n\n"
/// );
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RawItem {
    /// The item type.
    pub ty: ItemType,
    /// Item headers other than `type` and `length` (the writer computes `length`; `type` and
    /// `length` keys here are ignored).
    pub headers: Map,
    /// The payload bytes.
    pub payload: Vec<u8>,
}

impl RawItem {
    /// An item with no extra headers.
    pub fn new(ty: ItemType, payload: impl Into<Vec<u8>>) -> Self {
        RawItem {
            ty,
            headers: Map::new(),
            payload: payload.into(),
        }
    }

    /// The `item_count` header (used by `log`, `span` and `trace_metric` items), if present.
    pub fn item_count(&self) -> Option<u64> {
        self.headers.get("item_count").and_then(Value::as_u64)
    }
}

/// One item of an [`Envelope`](super::Envelope).
///
/// Later item kinds (profiles, …) get their own variants; until then they travel as
/// [`EnvelopeItem::Raw`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EnvelopeItem {
    /// An error or message event (`type: event`).
    Event(Box<Event>),
    /// A transaction (`type: transaction`): an [`Event`] whose [`ty`](Event::ty) is
    /// [`EventType::Transaction`](crate::protocol::EventType::Transaction). Converting an
    /// event into an item (`From<Event>`) picks this variant for a transaction, so a
    /// transaction never travels as an `event` item.
    ///
    /// Dropped, it counts as one `transaction` and as its spans plus one (the root span) in the
    /// `span` category.
    ///
    /// ```
    /// use sentry_core::envelope::{EnvelopeItem, ItemType};
    /// use sentry_core::protocol::{DataCategory, Event, EventType, Span};
    ///
    /// let transaction = Event {
    ///     ty: EventType::Transaction,
    ///     spans: vec![Span::default(), Span::default()],
    ///     ..Event::default()
    /// };
    /// let item = EnvelopeItem::from(transaction);
    /// assert_eq!(item.ty(), ItemType::Transaction);
    /// assert!(item.as_event().is_none());
    /// assert_eq!(item.as_transaction().map(|t| t.spans.len()), Some(2));
    /// assert_eq!(
    ///     item.outcomes(),
    ///     [(DataCategory::Transaction, 1), (DataCategory::Span, 3)]
    /// );
    /// ```
    Transaction(Box<Event>),
    /// A client report (`type: client_report`).
    ClientReport(ClientReport),
    /// A batch of structured logs (`type: log`), written as one container item with the
    /// `item_count` and `content_type` headers and the payload `{"items":[…]}`. Sentry accepts
    /// at most 100 logs per item; the SDK's log buffer never puts more in one.
    ///
    /// ```
    /// use sentry_core::envelope::{Envelope, EnvelopeItem};
    /// use sentry_core::protocol::DataCategory;
    /// use sentry_core::protocol::{Log, LogLevel};
    ///
    /// let logs = vec![Log::new(LogLevel::Info, "a"), Log::new(LogLevel::Warn, "b")];
    /// let item = EnvelopeItem::Logs(logs);
    /// assert_eq!(item.outcomes()[0], (DataCategory::LogItem, 2));
    /// let envelope: Envelope = std::iter::once(item).collect();
    /// let text = String::from_utf8(envelope.to_vec(None)).unwrap();
    /// let header = text.lines().nth(1).unwrap();
    /// assert!(header.starts_with(r#"{"type":"log","length":"#));
    /// assert!(header.ends_with(
    ///     r#","item_count":2,"content_type":"application/vnd.sentry.items.log+json"}"#
    /// ));
    /// ```
    Logs(Vec<Log>),
    /// A file sent with the event of its envelope (`type: attachment`), written with the
    /// `filename`, `attachment_type` and `content_type` headers. Its bytes are shared with
    /// the scope it came from ([`AttachmentData::Bytes`]): the item points to them until the
    /// envelope is written. An attachment still naming a file ([`AttachmentData::Path`]) is
    /// read by the client before it queues the envelope; one left unread is not written.
    ///
    /// Dropped, it counts its bytes as `attachment` and one `attachment_item`.
    ///
    /// ```
    /// use sentry_core::envelope::{Envelope, EnvelopeItem};
    /// use sentry_core::protocol::{Attachment, DataCategory};
    ///
    /// let item = EnvelopeItem::from(Attachment::from_bytes("a.txt", b"hello".to_vec()));
    /// assert_eq!(
    ///     item.outcomes(),
    ///     [(DataCategory::Attachment, 5), (DataCategory::AttachmentItem, 1)]
    /// );
    /// let envelope: Envelope = std::iter::once(item).collect();
    /// assert_eq!(
    ///     envelope.to_vec(None),
    ///     b"{}\n{\"type\":\"attachment\",\"length\":5,\"filename\":\"a.txt\",\
    ///       \"attachment_type\":\"event.attachment\",\"content_type\":\"text/plain\"}\nhello\n"
    /// );
    /// ```
    Attachment(Attachment),
    /// A cron monitor check-in (`type: check_in`, category `monitor`). Sentry takes at most
    /// one per envelope.
    ///
    /// ```
    /// use sentry_core::envelope::{Envelope, EnvelopeItem, ItemType};
    /// use sentry_core::protocol::{CheckIn, CheckInStatus, DataCategory};
    ///
    /// let item = EnvelopeItem::from(CheckIn::new("nightly", CheckInStatus::Ok));
    /// assert_eq!(item.ty(), ItemType::CheckIn);
    /// assert_eq!(item.outcomes(), [(DataCategory::Monitor, 1)]);
    /// assert_eq!(item.as_check_in().map(|c| c.monitor_slug.as_str()), Some("nightly"));
    /// ```
    CheckIn(CheckIn),
    /// User feedback (`type: feedback`, category `feedback`): an event whose
    /// `contexts.feedback` holds the user's words (see
    /// [`Feedback`](crate::protocol::Feedback)). It travels alone in its envelope, whose
    /// `event_id` header is its id.
    ///
    /// ```
    /// use sentry_core::envelope::{Envelope, ItemType};
    /// use sentry_core::protocol::{DataCategory, Feedback};
    ///
    /// let event = Feedback::new("the page is blank").into_event();
    /// let id = event.event_id;
    /// let envelope = Envelope::from_feedback(event);
    /// assert_eq!(envelope.headers().event_id, Some(id));
    /// let item = envelope.items().next().unwrap();
    /// assert_eq!(item.ty(), ItemType::Feedback);
    /// assert_eq!(item.category(), DataCategory::Feedback);
    /// assert!(item.as_event().is_none());
    /// assert_eq!(item.as_feedback().map(|e| e.event_id), Some(id));
    /// ```
    Feedback(Box<Event>),
    /// A batch of metrics (`type: trace_metric`), written like logs as one container item with
    /// the `item_count` and `content_type` headers and the payload `{"items":[…]}`. The SDK's
    /// metric buffer puts at most 100 metrics in one. Dropped, it counts as that many
    /// `trace_metric`s.
    ///
    /// ```
    /// use sentry_core::envelope::{Envelope, EnvelopeItem};
    /// use sentry_core::protocol::{DataCategory, Metric, MetricType};
    ///
    /// let item = EnvelopeItem::Metrics(vec![Metric::new(MetricType::Counter, "orders", 1)]);
    /// assert_eq!(item.outcomes(), [(DataCategory::TraceMetric, 1)]);
    /// let envelope: Envelope = std::iter::once(item).collect();
    /// let text = String::from_utf8(envelope.to_vec(None)).unwrap();
    /// let header = text.lines().nth(1).unwrap();
    /// assert!(header.starts_with(r#"{"type":"trace_metric","length":"#));
    /// assert!(header.ends_with(
    ///     r#","item_count":1,"content_type":"application/vnd.sentry.items.trace-metric+json"}"#
    /// ));
    /// ```
    Metrics(Vec<Metric>),
    /// A release health session update (`type: session`). Rate limited (and counted when
    /// dropped) as `session`.
    Session(SessionUpdate),
    /// Sessions counted per minute (`type: sessions`). Rate limited (and counted when
    /// dropped) as `session`.
    SessionAggregates(SessionAggregates),
    /// Any other item, kept as bytes.
    Raw(RawItem),
}

impl EnvelopeItem {
    /// The item type.
    pub fn ty(&self) -> ItemType {
        match self {
            EnvelopeItem::Event(_) => ItemType::Event,
            EnvelopeItem::Transaction(_) => ItemType::Transaction,
            EnvelopeItem::ClientReport(_) => ItemType::ClientReport,
            EnvelopeItem::Logs(_) => ItemType::Log,
            EnvelopeItem::Attachment(_) => ItemType::Attachment,
            EnvelopeItem::CheckIn(_) => ItemType::CheckIn,
            EnvelopeItem::Feedback(_) => ItemType::Feedback,
            EnvelopeItem::Metrics(_) => ItemType::TraceMetric,
            EnvelopeItem::Session(_) => ItemType::Session,
            EnvelopeItem::SessionAggregates(_) => ItemType::Sessions,
            EnvelopeItem::Raw(raw) => raw.ty.clone(),
        }
    }

    /// The rate-limit category (see [`ItemType::category`]).
    pub fn category(&self) -> DataCategory {
        match self {
            EnvelopeItem::Event(_) => DataCategory::Error,
            EnvelopeItem::Transaction(_) => DataCategory::Transaction,
            EnvelopeItem::ClientReport(_) => DataCategory::Internal,
            EnvelopeItem::Logs(_) => DataCategory::LogItem,
            EnvelopeItem::Attachment(_) => DataCategory::Attachment,
            EnvelopeItem::CheckIn(_) => DataCategory::Monitor,
            EnvelopeItem::Feedback(_) => DataCategory::Feedback,
            EnvelopeItem::Metrics(_) => DataCategory::TraceMetric,
            EnvelopeItem::Session(_) | EnvelopeItem::SessionAggregates(_) => DataCategory::Session,
            EnvelopeItem::Raw(raw) => raw.ty.category(),
        }
    }

    /// How many units of [`category`](Self::category) this item counts as: 1 for most items,
    /// the `item_count` header for batches (logs, spans, trace metrics), and the payload size in
    /// bytes for attachments (0 for an attachment whose file was not read).
    pub fn quantity(&self) -> u64 {
        match self {
            EnvelopeItem::Event(_)
            | EnvelopeItem::Transaction(_)
            | EnvelopeItem::ClientReport(_)
            | EnvelopeItem::CheckIn(_)
            | EnvelopeItem::Feedback(_)
            | EnvelopeItem::Session(_)
            | EnvelopeItem::SessionAggregates(_) => 1,
            EnvelopeItem::Logs(logs) => logs.len() as u64,
            EnvelopeItem::Attachment(attachment) => attachment.len() as u64,
            EnvelopeItem::Metrics(metrics) => metrics.len() as u64,
            EnvelopeItem::Raw(raw) => match raw.ty {
                ItemType::Attachment => raw.payload.len() as u64,
                ItemType::Log | ItemType::Span | ItemType::TraceMetric => {
                    raw.item_count().unwrap_or(1)
                }
                _ => 1,
            },
        }
    }

    /// What to count in a client report when this item is dropped: `(category, quantity)`
    /// pairs.
    ///
    /// Usually one pair, `(category(), quantity())`. Log items count both `log_item` (records)
    /// and `log_byte` (payload bytes; for typed logs the sum of
    /// [`Log::estimated_size`], which is not worth a serialization on a drop path).
    /// Transactions count the transaction and `span` with the number of spans plus one (the root
    /// span). Attachments count their bytes as `attachment` and one `attachment_item`.
    pub fn outcomes(&self) -> Vec<(DataCategory, u64)> {
        let main = (self.category(), self.quantity());
        match self {
            EnvelopeItem::Logs(logs) => {
                let bytes: usize = logs.iter().map(Log::estimated_size).sum();
                vec![main, (DataCategory::LogByte, bytes as u64)]
            }
            EnvelopeItem::Attachment(_) => vec![main, (DataCategory::AttachmentItem, 1)],
            EnvelopeItem::Raw(raw) if raw.ty == ItemType::Attachment => {
                vec![main, (DataCategory::AttachmentItem, 1)]
            }
            EnvelopeItem::Raw(raw) if raw.ty == ItemType::Log => {
                vec![main, (DataCategory::LogByte, raw.payload.len() as u64)]
            }
            EnvelopeItem::Transaction(transaction) => {
                vec![
                    main,
                    (DataCategory::Span, transaction.spans.len() as u64 + 1),
                ]
            }
            EnvelopeItem::Raw(raw) if raw.ty == ItemType::Transaction => {
                vec![main, (DataCategory::Span, count_spans(&raw.payload) + 1)]
            }
            _ => vec![main],
        }
    }

    /// The event, if this is an event item (an error or message event; never a transaction,
    /// see [`as_transaction`](Self::as_transaction)).
    pub fn as_event(&self) -> Option<&Event> {
        match self {
            EnvelopeItem::Event(event) => Some(event),
            _ => None,
        }
    }

    /// The transaction, if this is a typed transaction item.
    pub fn as_transaction(&self) -> Option<&Event> {
        match self {
            EnvelopeItem::Transaction(transaction) => Some(transaction),
            _ => None,
        }
    }

    /// The attachment, if this is a typed attachment item.
    pub fn as_attachment(&self) -> Option<&Attachment> {
        match self {
            EnvelopeItem::Attachment(attachment) => Some(attachment),
            _ => None,
        }
    }

    /// The check-in, if this is a typed check-in item.
    pub fn as_check_in(&self) -> Option<&CheckIn> {
        match self {
            EnvelopeItem::CheckIn(check_in) => Some(check_in),
            _ => None,
        }
    }

    /// The feedback event, if this is a typed feedback item (read the user's words with
    /// [`Feedback::from_event`](crate::protocol::Feedback::from_event)).
    pub fn as_feedback(&self) -> Option<&Event> {
        match self {
            EnvelopeItem::Feedback(event) => Some(event),
            _ => None,
        }
    }

    /// Extra headers written after `type` and `length`.
    pub(crate) fn extra_headers(&self) -> Option<&Map> {
        match self {
            EnvelopeItem::Raw(raw) => Some(&raw.headers),
            _ => None,
        }
    }

    /// The container headers of typed batch items: `item_count` and `content_type`.
    pub(crate) fn container_headers(&self) -> Option<(usize, &'static str)> {
        match self {
            EnvelopeItem::Logs(logs) => Some((logs.len(), LOG_CONTENT_TYPE)),
            EnvelopeItem::Metrics(metrics) => Some((metrics.len(), TRACE_METRIC_CONTENT_TYPE)),
            _ => None,
        }
    }

    /// The payload bytes.
    pub(crate) fn payload(&self) -> Result<Cow<'_, [u8]>, serde_json::Error> {
        Ok(match self {
            EnvelopeItem::Event(event)
            | EnvelopeItem::Transaction(event)
            | EnvelopeItem::Feedback(event) => Cow::Owned(serde_json::to_vec(event)?),
            EnvelopeItem::CheckIn(check_in) => Cow::Owned(serde_json::to_vec(check_in)?),
            EnvelopeItem::ClientReport(report) => Cow::Owned(serde_json::to_vec(report)?),
            EnvelopeItem::Logs(logs) => {
                Cow::Owned(serde_json::to_vec(&LogsPayload { items: logs })?)
            }
            EnvelopeItem::Attachment(attachment) => match &attachment.data {
                AttachmentData::Bytes(bytes) => Cow::Borrowed(bytes),
                AttachmentData::Path(path) => {
                    return Err(serde::ser::Error::custom(format_args!(
                        "attachment {} was not read",
                        path.display()
                    )))
                }
            },
            EnvelopeItem::Metrics(metrics) => {
                Cow::Owned(serde_json::to_vec(&MetricsPayload { items: metrics })?)
            }
            EnvelopeItem::Session(update) => Cow::Owned(serde_json::to_vec(update)?),
            EnvelopeItem::SessionAggregates(aggregates) => {
                Cow::Owned(serde_json::to_vec(aggregates)?)
            }
            EnvelopeItem::Raw(raw) => Cow::Borrowed(&raw.payload),
        })
    }
}

/// The payload of a `log` item.
#[derive(Serialize)]
struct LogsPayload<'a> {
    items: &'a [Log],
}

/// Reads the payload of a `log` item.
pub(super) fn logs_from_payload(payload: &[u8]) -> Result<Vec<Log>, serde_json::Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct LogsIn {
        items: Vec<Log>,
    }
    serde_json::from_slice::<LogsIn>(payload).map(|logs| logs.items)
}

/// The payload of a `trace_metric` item.
#[derive(Serialize)]
struct MetricsPayload<'a> {
    items: &'a [Metric],
}

/// Reads the payload of a `trace_metric` item.
pub(super) fn metrics_from_payload(payload: &[u8]) -> Result<Vec<Metric>, serde_json::Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct MetricsIn {
        items: Vec<Metric>,
    }
    serde_json::from_slice::<MetricsIn>(payload).map(|metrics| metrics.items)
}

/// The number of entries of a transaction payload's `spans` array (0 when it cannot be read).
///
/// Read through the SDK's own [`Value`] decoder ([`json::from_slice`]), which every program
/// that sends links anyway (for envelope headers), rather than a derived struct that would link
/// one more deserializer instantiation; this runs only when a raw transaction is dropped.
fn count_spans(payload: &[u8]) -> u64 {
    match json::from_slice(payload) {
        Ok(Value::Map(mut transaction)) => match transaction.remove("spans") {
            Some(Value::Array(spans)) => spans.len() as u64,
            _ => 0,
        },
        _ => 0,
    }
}

impl From<Event> for EnvelopeItem {
    /// An [`EnvelopeItem::Transaction`] for a transaction, an [`EnvelopeItem::Event`]
    /// otherwise.
    fn from(event: Event) -> Self {
        EnvelopeItem::from(Box::new(event))
    }
}

impl From<Box<Event>> for EnvelopeItem {
    /// An [`EnvelopeItem::Transaction`] for a transaction, an [`EnvelopeItem::Event`]
    /// otherwise.
    fn from(event: Box<Event>) -> Self {
        if event.is_transaction() {
            EnvelopeItem::Transaction(event)
        } else {
            EnvelopeItem::Event(event)
        }
    }
}

impl From<ClientReport> for EnvelopeItem {
    fn from(report: ClientReport) -> Self {
        EnvelopeItem::ClientReport(report)
    }
}

impl From<Vec<Log>> for EnvelopeItem {
    fn from(logs: Vec<Log>) -> Self {
        EnvelopeItem::Logs(logs)
    }
}

impl From<Attachment> for EnvelopeItem {
    fn from(attachment: Attachment) -> Self {
        EnvelopeItem::Attachment(attachment)
    }
}

impl From<CheckIn> for EnvelopeItem {
    fn from(check_in: CheckIn) -> Self {
        EnvelopeItem::CheckIn(check_in)
    }
}

impl From<Vec<Metric>> for EnvelopeItem {
    fn from(metrics: Vec<Metric>) -> Self {
        EnvelopeItem::Metrics(metrics)
    }
}

impl From<SessionUpdate> for EnvelopeItem {
    fn from(update: SessionUpdate) -> Self {
        EnvelopeItem::Session(update)
    }
}

impl From<SessionAggregates> for EnvelopeItem {
    fn from(aggregates: SessionAggregates) -> Self {
        EnvelopeItem::SessionAggregates(aggregates)
    }
}

impl From<RawItem> for EnvelopeItem {
    fn from(raw: RawItem) -> Self {
        EnvelopeItem::Raw(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_type_names_and_categories() {
        let table = [
            ("event", ItemType::Event, DataCategory::Error),
            (
                "transaction",
                ItemType::Transaction,
                DataCategory::Transaction,
            ),
            ("session", ItemType::Session, DataCategory::Session),
            ("sessions", ItemType::Sessions, DataCategory::Session),
            ("attachment", ItemType::Attachment, DataCategory::Attachment),
            (
                "client_report",
                ItemType::ClientReport,
                DataCategory::Internal,
            ),
            ("check_in", ItemType::CheckIn, DataCategory::Monitor),
            ("log", ItemType::Log, DataCategory::LogItem),
            ("span", ItemType::Span, DataCategory::Span),
            ("feedback", ItemType::Feedback, DataCategory::Feedback),
            ("user_report", ItemType::UserReport, DataCategory::Default),
            ("profile", ItemType::Profile, DataCategory::Profile),
            (
                "profile_chunk",
                ItemType::ProfileChunk,
                DataCategory::ProfileChunk,
            ),
            ("replay_event", ItemType::ReplayEvent, DataCategory::Replay),
            (
                "replay_recording",
                ItemType::ReplayRecording,
                DataCategory::Replay,
            ),
            ("replay_video", ItemType::ReplayVideo, DataCategory::Replay),
            (
                "trace_metric",
                ItemType::TraceMetric,
                DataCategory::TraceMetric,
            ),
        ];
        for (name, ty, category) in table {
            assert_eq!(ItemType::from_name(name), ty);
            assert_eq!(ty.as_str(), name);
            assert_eq!(ty.category(), category, "{name}");
            let json = serde_json::to_string(&ty).unwrap();
            assert_eq!(serde_json::from_str::<ItemType>(&json).unwrap(), ty);
        }
        let other = ItemType::from_name("statsd");
        assert_eq!(other, ItemType::Other("statsd".into()));
        assert_eq!(other.as_str(), "statsd");
        assert_eq!(other.category(), DataCategory::Unknown);
    }

    #[test]
    fn quantities_and_outcomes() {
        let event = EnvelopeItem::from(Event::default());
        assert_eq!(event.ty(), ItemType::Event);
        assert_eq!(event.outcomes(), [(DataCategory::Error, 1)]);
        assert!(event.as_event().is_some());

        let attachment = EnvelopeItem::from(RawItem::new(ItemType::Attachment, vec![0; 10]));
        assert_eq!(attachment.quantity(), 10);
        assert_eq!(
            attachment.outcomes(),
            [
                (DataCategory::Attachment, 10),
                (DataCategory::AttachmentItem, 1)
            ]
        );
        let typed = EnvelopeItem::from(Attachment::from_bytes("a", vec![0; 10]));
        assert_eq!(typed.ty(), ItemType::Attachment);
        assert_eq!(typed.category(), DataCategory::Attachment);
        assert_eq!(typed.outcomes(), attachment.outcomes());
        assert!(typed.as_attachment().is_some());
        let unread = EnvelopeItem::from(Attachment::from_path("missing.txt"));
        assert_eq!(
            unread.outcomes(),
            [
                (DataCategory::Attachment, 0),
                (DataCategory::AttachmentItem, 1)
            ]
        );
        assert!(unread.payload().is_err());

        let payload = b"{\"items\":[{},{},{}]}".to_vec();
        let payload_len = payload.len() as u64;
        let mut logs = RawItem::new(ItemType::Log, payload);
        logs.headers.insert("item_count".into(), 3.into());
        let logs = EnvelopeItem::from(logs);
        assert_eq!(logs.quantity(), 3);
        assert_eq!(
            logs.outcomes(),
            [
                (DataCategory::LogItem, 3),
                (DataCategory::LogByte, payload_len)
            ]
        );

        let tx = EnvelopeItem::from(RawItem::new(
            ItemType::Transaction,
            b"{\"spans\":[{},{}],\"type\":\"transaction\"}".to_vec(),
        ));
        assert_eq!(
            tx.outcomes(),
            [(DataCategory::Transaction, 1), (DataCategory::Span, 3)]
        );
        for bad in [
            &b"nope"[..],
            b"{}",
            b"{\"spans\":null}",
            b"{\"spans\":{}}",
            b"[[{}]]",
        ] {
            let bad_tx = EnvelopeItem::from(RawItem::new(ItemType::Transaction, bad.to_vec()));
            assert_eq!(
                bad_tx.outcomes(),
                [(DataCategory::Transaction, 1), (DataCategory::Span, 1)]
            );
        }

        let typed = EnvelopeItem::from(Event {
            ty: crate::protocol::EventType::Transaction,
            spans: vec![crate::protocol::Span::default(); 4],
            ..Event::default()
        });
        assert_eq!(typed.ty(), ItemType::Transaction);
        assert_eq!(typed.category(), DataCategory::Transaction);
        assert_eq!(typed.quantity(), 1);
        assert!(typed.as_event().is_none());
        assert!(typed.as_transaction().is_some());
        assert!(event.as_transaction().is_none());
        assert_eq!(
            typed.outcomes(),
            [(DataCategory::Transaction, 1), (DataCategory::Span, 5)]
        );

        let report = EnvelopeItem::from(ClientReport::default());
        assert_eq!(report.category(), DataCategory::Internal);
    }
}
