//! Envelopes: the container format the SDK sends to Sentry.
//!
//! An envelope is one line of JSON headers followed by items, each an item-header line and a
//! payload:
//!
//! ```text
//! {"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","sent_at":"2024-05-01T12:00:00.000000Z"}
//! {"type":"event","length":41}
//! {"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}
//! ```
//!
//! [`Envelope::to_writer`] writes that form (always with a `length` for every item) and
//! [`Envelope::from_bytes`] reads it strictly, so tests can parse what a server received.
//!
//! # Examples
//!
//! ```
//! use sentry_core::envelope::{Envelope, EnvelopeItem};
//! use sentry_core::protocol::Event;
//!
//! let event = Event { message: Some("hello".into()), ..Event::default() };
//! let id = event.event_id;
//! let envelope = Envelope::from_event(event);
//! assert_eq!(envelope.event_id(), Some(id));
//!
//! let bytes = envelope.to_vec(None);
//! let parsed = Envelope::from_bytes(&bytes).unwrap();
//! assert_eq!(parsed, envelope);
//! match parsed.items().next() {
//!     Some(EnvelopeItem::Event(event)) => assert_eq!(event.message.as_deref(), Some("hello")),
//!     other => panic!("unexpected item {other:?}"),
//! }
//! ```

mod item;
mod parse;

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::SystemTime;

use sentry_minimal::{EventId, Map};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

pub use item::{EnvelopeItem, ItemType, RawItem};
pub use parse::EnvelopeError;

use crate::protocol::{Attachment, CheckIn, ClientSdkInfo, Event, EventType, Ser};

/// The envelope's header line.
///
/// `sent_at` is filled in only by the parser: the writer takes the send time as an argument
/// ([`Envelope::to_writer`]) and never writes this field, because Sentry rejects an envelope
/// whose `sent_at` was stamped twice (for example, once before caching to disk and again when
/// sent). Unknown header keys read by the parser are kept in `other` and written back as they
/// are, so an envelope passes through the SDK unchanged.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EnvelopeHeaders {
    /// The id of the event or transaction in the envelope.
    pub event_id: Option<EventId>,
    /// The DSN the envelope is for (an alternative to the auth header).
    pub dsn: Option<String>,
    /// The SDK that made the envelope.
    pub sdk: Option<Arc<ClientSdkInfo>>,
    /// When the envelope was sent. Read by the parser; never written (see above).
    pub sent_at: Option<SystemTime>,
    /// The dynamic sampling context (string values), without `sentry-` prefixes. Shared: it
    /// is frozen per trace, so every envelope of a trace points to the same map.
    pub trace: Option<Arc<Map>>,
    /// Other header keys, read by the parser and written back. Keys that name the headers
    /// above are not written.
    pub other: Map,
}

const KNOWN_HEADERS: [&str; 5] = ["event_id", "dsn", "sdk", "sent_at", "trace"];

/// The header line as written: the stored headers minus `sent_at`, plus the send time.
struct HeadersOut<'a> {
    headers: &'a EnvelopeHeaders,
    sent_at: Option<SystemTime>,
}

impl Serialize for HeadersOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let h = self.headers;
        let mut map = s.serialize_map(None)?;
        if let Some(event_id) = &h.event_id {
            map.serialize_entry("event_id", &Ser(event_id))?;
        }
        if let Some(dsn) = &h.dsn {
            map.serialize_entry("dsn", dsn)?;
        }
        if let Some(sdk) = &h.sdk {
            map.serialize_entry("sdk", &**sdk)?;
        }
        if let Some(sent_at) = self.sent_at {
            map.serialize_entry("sent_at", &crate::time::format_rfc3339(sent_at))?;
        }
        if let Some(trace) = &h.trace {
            map.serialize_entry("trace", &Ser(&**trace))?;
        }
        for (key, value) in &h.other {
            if !KNOWN_HEADERS.contains(&key.as_str()) {
                map.serialize_entry(key, &Ser(value))?;
            }
        }
        map.end()
    }
}

/// An item header as written: `type`, `length`, the container headers of batch items
/// (`item_count`, `content_type`), the headers of an attachment (`filename`,
/// `attachment_type`, `content_type`), then any extra headers.
struct ItemHeaderOut<'a> {
    ty: &'a str,
    length: usize,
    container: Option<(usize, &'static str)>,
    attachment: Option<&'a Attachment>,
    extra: Option<&'a Map>,
}

impl Serialize for ItemHeaderOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("type", self.ty)?;
        map.serialize_entry("length", &self.length)?;
        if let Some((item_count, content_type)) = self.container {
            map.serialize_entry("item_count", &item_count)?;
            map.serialize_entry("content_type", content_type)?;
        }
        if let Some(attachment) = self.attachment {
            map.serialize_entry("filename", &attachment.filename)?;
            map.serialize_entry("attachment_type", attachment.attachment_type.as_str())?;
            map.serialize_entry("content_type", attachment.content_type())?;
        }
        for (key, value) in self.extra.into_iter().flatten() {
            if key != "type" && key != "length" {
                map.serialize_entry(key, &Ser(value))?;
            }
        }
        map.end()
    }
}

/// A Sentry envelope: headers and a list of items.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use sentry_core::envelope::{Envelope, ItemType, RawItem};
///
/// let mut envelope = Envelope::new();
/// envelope.add_item(RawItem::new(ItemType::Other("custom".into()), b"{}".to_vec()));
/// let sent_at = UNIX_EPOCH + Duration::from_secs(1);
/// assert_eq!(
///     envelope.to_vec(Some(sent_at)),
///     b"{\"sent_at\":\"1970-01-01T00:00:01.000000Z\"}\n{\"type\":\"custom\",\"length\":2}\n{}\n"
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Envelope {
    headers: EnvelopeHeaders,
    items: Vec<EnvelopeItem>,
    event_size: KnownSize,
}

/// The estimated size of an envelope's event item as the client's pipeline measured it (the
/// limits' walk of the event), so that the transport's queue does not walk the event a second
/// time on the capturing thread: for a typical error event that walk was half of what
/// `capture_event` cost the caller. Set by the client right after the event is added; cleared by
/// whatever could change an item. Not part of the envelope's value: two envelopes that differ
/// only in it are equal.
#[derive(Clone, Copy, Default)]
struct KnownSize(Option<usize>);

impl PartialEq for KnownSize {
    fn eq(&self, _: &KnownSize) -> bool {
        true
    }
}

impl fmt::Debug for KnownSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl Envelope {
    /// An empty envelope with no headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// An envelope carrying one event, with the `event_id` header set to the event's id. A
    /// transaction goes in a `transaction` item (see [`EnvelopeItem::Transaction`]).
    pub fn from_event(event: Event) -> Self {
        let mut envelope = Envelope::new();
        envelope.headers.event_id = Some(event.event_id);
        envelope.items.push(EnvelopeItem::from(event));
        envelope
    }

    /// An envelope carrying one transaction, with the `event_id` header set to its id.
    ///
    /// The event is made a transaction ([`ty`](Event::ty) set to
    /// [`EventType::Transaction`]) if it was not one, so it is written with
    /// `"type":"transaction"` in a `transaction` item.
    ///
    /// ```
    /// use sentry_core::envelope::{Envelope, EnvelopeItem};
    /// use sentry_core::protocol::{Event, EventType};
    ///
    /// let transaction = Event { transaction: Some("GET /".into()), ..Event::default() };
    /// let id = transaction.event_id;
    /// let envelope = Envelope::from_transaction(transaction);
    /// assert_eq!(envelope.headers().event_id, Some(id));
    /// assert!(envelope.event().is_none());
    /// assert_eq!(envelope.transaction().map(|t| t.ty), Some(EventType::Transaction));
    ///
    /// let text = String::from_utf8(envelope.to_vec(None)).unwrap();
    /// assert!(text.lines().nth(1).unwrap().starts_with(r#"{"type":"transaction","length":"#));
    /// assert!(text.lines().nth(2).unwrap().contains(r#""type":"transaction""#));
    /// let parsed = Envelope::from_bytes(text.as_bytes()).unwrap();
    /// assert!(matches!(parsed.items().next(), Some(EnvelopeItem::Transaction(_))));
    /// ```
    pub fn from_transaction(mut event: Event) -> Self {
        event.ty = EventType::Transaction;
        let mut envelope = Envelope::new();
        envelope.headers.event_id = Some(event.event_id);
        envelope
            .items
            .push(EnvelopeItem::Transaction(Box::new(event)));
        envelope
    }

    /// An envelope carrying one cron check-in, alone (Sentry takes one per envelope).
    ///
    /// ```
    /// use sentry_core::envelope::{Envelope, EnvelopeItem};
    /// use sentry_core::protocol::{CheckIn, CheckInStatus};
    ///
    /// let check_in = CheckIn::new("nightly", CheckInStatus::InProgress);
    /// let envelope = Envelope::from_check_in(check_in.clone());
    /// let text = String::from_utf8(envelope.to_vec(None)).unwrap();
    /// assert!(text.lines().nth(1).unwrap().starts_with(r#"{"type":"check_in","length":"#));
    /// let parsed = Envelope::from_bytes(text.as_bytes()).unwrap();
    /// assert_eq!(parsed.items().next().and_then(EnvelopeItem::as_check_in), Some(&check_in));
    /// ```
    pub fn from_check_in(check_in: CheckIn) -> Self {
        let mut envelope = Envelope::new();
        envelope.items.push(EnvelopeItem::CheckIn(check_in));
        envelope
    }

    /// An envelope carrying one feedback event (see
    /// [`Feedback::into_event`](crate::protocol::Feedback::into_event)), alone, with the
    /// `event_id` header set to its id.
    pub fn from_feedback(event: Event) -> Self {
        let mut envelope = Envelope::new();
        envelope.headers.event_id = Some(event.event_id);
        envelope.items.push(EnvelopeItem::Feedback(Box::new(event)));
        envelope
    }

    /// The headers.
    pub fn headers(&self) -> &EnvelopeHeaders {
        &self.headers
    }

    /// The headers, for changing.
    pub fn headers_mut(&mut self) -> &mut EnvelopeHeaders {
        &mut self.headers
    }

    /// Adds an item at the end. Adding an event, a transaction or a feedback to an envelope
    /// without an `event_id` header sets the header to its id.
    pub fn add_item(&mut self, item: impl Into<EnvelopeItem>) {
        let item = item.into();
        if let (
            None,
            EnvelopeItem::Event(event)
            | EnvelopeItem::Transaction(event)
            | EnvelopeItem::Feedback(event),
        ) = (&self.headers.event_id, &item)
        {
            self.headers.event_id = Some(event.event_id);
        }
        self.items.push(item);
    }

    /// The items, in order.
    pub fn items(&self) -> std::slice::Iter<'_, EnvelopeItem> {
        self.items.iter()
    }

    /// The items, for changing.
    pub fn items_mut(&mut self) -> std::slice::IterMut<'_, EnvelopeItem> {
        self.event_size = KnownSize(None);
        self.items.iter_mut()
    }

    /// Keeps only the items for which `f` returns `true`.
    pub fn retain_items(&mut self, f: impl FnMut(&EnvelopeItem) -> bool) {
        self.event_size = KnownSize(None);
        self.items.retain(f);
    }

    /// Removes and returns every item.
    pub fn take_items(&mut self) -> Vec<EnvelopeItem> {
        self.event_size = KnownSize(None);
        std::mem::take(&mut self.items)
    }

    /// Records `size`, the estimated size of the envelope's first event, transaction or
    /// feedback item as the limits measured it
    /// ([`enforce_event_sized`](crate::limits::enforce_event_sized)), for the transport's
    /// queue. Only the client's pipeline knows it; it stays valid until an item can be changed
    /// ([`items_mut`](Self::items_mut), [`retain_items`](Self::retain_items),
    /// [`take_items`](Self::take_items)).
    pub(crate) fn set_event_size(&mut self, size: usize) {
        self.event_size = KnownSize(Some(size));
    }

    /// The size recorded with [`set_event_size`](Self::set_event_size), if still valid.
    pub(crate) fn event_size(&self) -> Option<usize> {
        self.event_size.0
    }

    /// `true` if there are no items (such an envelope is not worth sending).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The `event_id` header, or else the id of the first event or transaction item.
    pub fn event_id(&self) -> Option<EventId> {
        self.headers.event_id.or_else(|| {
            self.items
                .iter()
                .find_map(|item| item.as_event().or_else(|| item.as_transaction()))
                .map(|event| event.event_id)
        })
    }

    /// The first event item's event (errors and messages; transactions are
    /// [`transaction`](Self::transaction)).
    pub fn event(&self) -> Option<&Event> {
        self.items.iter().find_map(EnvelopeItem::as_event)
    }

    /// The first transaction item's transaction.
    pub fn transaction(&self) -> Option<&Event> {
        self.items.iter().find_map(EnvelopeItem::as_transaction)
    }

    /// Writes the envelope.
    ///
    /// `sent_at` is written as the `sent_at` header when given; pass the current time exactly
    /// once, when actually sending, and `None` when writing to a disk cache. Every item gets a
    /// `length` header. An item whose payload cannot be serialized (which the SDK's own types
    /// never cause) is left out and reported through the SDK's debug output. The envelope is
    /// put together in memory (as by [`to_vec`](Self::to_vec)) and then written in one go.
    ///
    /// # Errors
    ///
    /// Only errors from `writer`.
    pub fn to_writer<W: Write>(
        &self,
        mut writer: W,
        sent_at: Option<SystemTime>,
    ) -> io::Result<()> {
        writer.write_all(&self.to_vec(sent_at))
    }

    /// The envelope's bytes, as written by [`to_writer`](Self::to_writer).
    pub fn to_vec(&self, sent_at: Option<SystemTime>) -> Vec<u8> {
        let mut bytes = Vec::new();
        // Serializing the header types cannot fail; were it to, the envelope would end at the
        // line that failed.
        let _ = self.write_into(&mut bytes, sent_at);
        bytes
    }

    /// Appends the envelope to `out`.
    ///
    /// Header lines are serialized straight into the `Vec`, as the payloads are (by
    /// `serde_json::to_vec`), so both share one set of serializer instantiations; a generic
    /// writer would add a second copy of every header type's serializer to the binary.
    fn write_into(&self, out: &mut Vec<u8>, sent_at: Option<SystemTime>) -> serde_json::Result<()> {
        serde_json::to_writer(
            &mut *out,
            &HeadersOut {
                headers: &self.headers,
                sent_at,
            },
        )?;
        out.push(b'\n');
        for item in &self.items {
            let payload = match item.payload() {
                Ok(payload) => payload,
                Err(err) => {
                    crate::sentry_debug!("dropping envelope item {}: {err}", item.ty());
                    continue;
                }
            };
            let ty = item.ty();
            serde_json::to_writer(
                &mut *out,
                &ItemHeaderOut {
                    ty: ty.as_str(),
                    length: payload.len(),
                    container: item.container_headers(),
                    attachment: item.as_attachment(),
                    extra: item.extra_headers(),
                },
            )?;
            out.push(b'\n');
            out.extend_from_slice(&payload);
            out.push(b'\n');
        }
        Ok(())
    }

    /// Reads an envelope.
    ///
    /// Items of types the SDK does not model are kept as [`EnvelopeItem::Raw`] with their
    /// headers. Missing trailing newlines and empty payloads are accepted.
    ///
    /// # Errors
    ///
    /// An [`EnvelopeError`] saying what is malformed; never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
        parse::parse(bytes, parse::decode_item)
    }

    /// Reads an envelope's framing only: every item stays [`EnvelopeItem::Raw`], its payload
    /// unread. The offline cache replays envelopes this way: their payloads were written by
    /// the SDK and go back on the wire unchanged, and a program that never calls
    /// [`from_bytes`](Self::from_bytes) links none of the typed decoders.
    pub(crate) fn from_bytes_raw(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
        parse::parse(bytes, parse::keep_raw)
    }
}

impl From<Event> for Envelope {
    fn from(event: Event) -> Self {
        Envelope::from_event(event)
    }
}

impl<I: Into<EnvelopeItem>> FromIterator<I> for Envelope {
    fn from_iter<T: IntoIterator<Item = I>>(iter: T) -> Self {
        let mut envelope = Envelope::new();
        for item in iter {
            envelope.add_item(item);
        }
        envelope
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::protocol::{ClientReport, DataCategory, DiscardReason, DiscardedEvent};

    fn split_lines(bytes: &[u8]) -> Vec<String> {
        String::from_utf8_lossy(bytes)
            .split('\n')
            .map(str::to_owned)
            .collect()
    }

    /// The measured size the client records for the queue is no part of the envelope's value.
    #[test]
    fn a_measured_size_does_not_change_equality() {
        let envelope = Envelope::from_event(Event::default());
        let mut measured = envelope.clone();
        measured.set_event_size(42);
        assert_eq!(measured, envelope);
        assert_eq!(measured.clone().event_size(), Some(42));
    }

    #[test]
    fn writes_headers_and_lengths() {
        let event = Event {
            event_id: "fc6d8c0c43fc4630ad850ee518f1b9d0".parse().unwrap(),
            timestamp: UNIX_EPOCH + Duration::from_secs(1),
            ..Event::default()
        };
        let mut envelope = Envelope::from_event(event.clone());
        envelope.headers_mut().dsn = Some("https://k@h/1".into());
        let mut trace = Map::new();
        trace.insert("trace_id".into(), "abc".into());
        envelope.headers_mut().trace = Some(Arc::new(trace));
        let sent_at = UNIX_EPOCH + Duration::from_micros(1_500_000);
        let bytes = envelope.to_vec(Some(sent_at));
        let lines = split_lines(&bytes);
        assert_eq!(
            lines[0],
            r#"{"event_id":"fc6d8c0c43fc4630ad850ee518f1b9d0","dsn":"https://k@h/1","sent_at":"1970-01-01T00:00:01.500000Z","trace":{"trace_id":"abc"}}"#
        );
        let payload = serde_json::to_vec(&event).unwrap();
        assert_eq!(
            lines[1],
            format!(r#"{{"type":"event","length":{}}}"#, payload.len())
        );
        assert_eq!(lines[2].as_bytes(), &payload[..]);
        assert_eq!(lines[3], "");
        assert_eq!(lines.len(), 4);

        // Without a send time, no `sent_at`.
        let bytes = envelope.to_vec(None);
        assert!(!split_lines(&bytes)[0].contains("sent_at"));
    }

    #[test]
    fn parsed_sent_at_is_never_written_back() {
        let input = b"{\"sent_at\":\"2024-05-01T12:00:00.000000Z\",\"x-custom\":1}\n";
        let envelope = Envelope::from_bytes(input).unwrap();
        assert!(envelope.headers().sent_at.is_some());
        assert_eq!(envelope.headers().other["x-custom"], 1.into());
        assert_eq!(envelope.to_vec(None), b"{\"x-custom\":1}\n");
        let resent = envelope.to_vec(Some(UNIX_EPOCH));
        assert_eq!(
            resent,
            b"{\"sent_at\":\"1970-01-01T00:00:00.000000Z\",\"x-custom\":1}\n"
        );
    }

    #[test]
    fn round_trips_all_item_kinds() {
        let mut envelope = Envelope::from_event(Event {
            message: Some("multi\nline".into()),
            ..Event::default()
        });
        envelope.headers_mut().sdk = Some(Arc::new(ClientSdkInfo {
            name: "sentry.rust".into(),
            version: "0.1.0".into(),
            ..ClientSdkInfo::default()
        }));
        envelope.add_item(ClientReport {
            timestamp: Some(UNIX_EPOCH + Duration::from_secs(5)),
            discarded_events: vec![DiscardedEvent {
                reason: DiscardReason::QueueOverflow,
                category: DataCategory::Error,
                quantity: 2,
            }],
        });
        let mut attachment = RawItem::new(ItemType::Attachment, b"line1\nline2\r\n".to_vec());
        attachment
            .headers
            .insert("filename".into(), "log.txt".into());
        envelope.add_item(attachment);
        envelope.add_item(RawItem::new(ItemType::Other("future".into()), Vec::new()));
        let bytes = envelope.to_vec(Some(UNIX_EPOCH));
        let parsed = Envelope::from_bytes(&bytes).unwrap();
        assert_eq!(parsed.headers().sent_at, Some(UNIX_EPOCH));
        assert_eq!(parsed.items, envelope.items);
        assert_eq!(parsed.headers().sdk, envelope.headers().sdk);
        assert_eq!(parsed.event_id(), envelope.event_id());
        // Writing the parsed envelope again without a send time gives the original bytes
        // without `sent_at`.
        assert_eq!(parsed.to_vec(None), envelope.to_vec(None));
    }

    #[test]
    fn item_headers_type_and_length_come_first_and_are_not_duplicated() {
        let mut raw = RawItem::new(ItemType::Log, b"{}".to_vec());
        raw.headers.insert("type".into(), "bogus".into());
        raw.headers.insert("length".into(), 99.into());
        raw.headers.insert("item_count".into(), 1.into());
        let mut envelope = Envelope::new();
        envelope.add_item(raw);
        assert_eq!(
            split_lines(&envelope.to_vec(None))[1],
            r#"{"type":"log","length":2,"item_count":1}"#
        );
    }

    #[test]
    fn accessors() {
        let mut envelope: Envelope = [Event::default(), Event::default()].into_iter().collect();
        assert_eq!(envelope.len(), 2);
        let first = envelope.event().map(|e| e.event_id);
        assert_eq!(envelope.event_id(), first);
        envelope.retain_items(|item| item.ty() != ItemType::Event);
        assert!(envelope.is_empty());
        envelope.headers_mut().event_id = None;
        assert_eq!(envelope.event_id(), None);
        envelope.add_item(RawItem::new(ItemType::Session, b"{}".to_vec()));
        for item in envelope.items_mut() {
            if let EnvelopeItem::Raw(raw) = item {
                raw.payload = b"{\"sid\":1}".to_vec();
            }
        }
        assert_eq!(envelope.take_items().len(), 1);
        assert!(envelope.is_empty());
        let from: Envelope = Event::default().into();
        assert!(from.headers().event_id.is_some());
    }
}
