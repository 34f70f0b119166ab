//! The envelope parser.
//!
//! Grammar (newlines are `\n` only; a `\r` belongs to the payload):
//!
//! ```text
//! Envelope = Headers { "\n" Item } [ "\n" ]
//! Item     = Headers "\n" Payload
//! Payload  = length bytes (when the item header has `length`)
//!          | any bytes up to the next "\n" or EOF (otherwise)
//! ```

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use sentry_minimal::{EventId, Map, Value};

use super::{Envelope, EnvelopeHeaders, EnvelopeItem, ItemType, RawItem};
use crate::protocol::json;
use crate::protocol::TRACE_METRIC_CONTENT_TYPE;
use crate::protocol::{CheckIn, ClientReport, ClientSdkInfo, Event, LOG_CONTENT_TYPE};

/// Why bytes could not be read as an envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The input is empty, or its first line is: there are no envelope headers.
    MissingHeader,
    /// The envelope headers are not a valid JSON object (or a known header has the wrong
    /// form); holds the JSON error.
    InvalidHeader(String),
    /// An item header is not a JSON object with a string `type` and an optional non-negative
    /// integer `length`.
    InvalidItemHeader {
        /// The item's position, from 0.
        index: usize,
        /// What is wrong.
        error: String,
    },
    /// An item's `length` runs past the end of the input.
    UnexpectedEof {
        /// The item's position, from 0.
        index: usize,
        /// The `length` the header claimed.
        length: u64,
        /// The bytes that were left.
        available: usize,
    },
    /// A payload of the stated `length` is followed by something other than `\n` or the end of
    /// the input.
    MissingNewline {
        /// The item's position, from 0.
        index: usize,
        /// The byte offset where a newline was expected.
        offset: usize,
    },
    /// A payload of a type the SDK reads (such as `event`) is not valid.
    InvalidPayload {
        /// The item's type.
        item_type: ItemType,
        /// The decoding error.
        error: String,
    },
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvelopeError::MissingHeader => {
                f.write_str("invalid envelope: missing the envelope header line")
            }
            EnvelopeError::InvalidHeader(error) => {
                write!(f, "invalid envelope header: {error}")
            }
            EnvelopeError::InvalidItemHeader { index, error } => {
                write!(f, "invalid header of envelope item {index}: {error}")
            }
            EnvelopeError::UnexpectedEof {
                index,
                length,
                available,
            } => write!(
                f,
                "envelope item {index} claims a length of {length} bytes but only {available} remain"
            ),
            EnvelopeError::MissingNewline { index, offset } => write!(
                f,
                "envelope item {index}: expected a newline or the end after the payload, at byte {offset}"
            ),
            EnvelopeError::InvalidPayload { item_type, error } => {
                write!(f, "invalid {item_type} item payload: {error}")
            }
        }
    }
}

impl Error for EnvelopeError {}

/// The position of the next `\n` at or after `from`, or the end of `bytes`.
fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| from + i)
}

/// Parses a header line, which must be a JSON object.
///
/// Envelope and item headers both go through the SDK's own [`Value`] decoder
/// ([`json::from_slice`]) and pick their known fields out by hand: a derived `Deserialize`
/// (with a `#[serde(flatten)]` map for the unknown keys) would link a deserializer instantiation
/// per type and serde's content buffering into every application that replays its offline
/// cache.
fn json_object(line: &[u8]) -> Result<Map, String> {
    match json::from_slice(line).map_err(|e| e.to_string())? {
        Value::Map(map) => Ok(map),
        other => Err(json::invalid_type(&other, "a map")),
    }
}

/// Removes `field` from `map`; `null` reads as absent, as for a derived `Option` field.
fn take(map: &mut Map, field: &str) -> Option<Value> {
    map.remove(field).filter(|value| !value.is_null())
}

/// Reads the envelope header line. The known headers are checked and typed (as the derived
/// readers of their types would: `null` is absent, a struct may be an array); every other key
/// is kept, as it is, in `other`. A key given twice reads as its last value.
fn parse_headers(line: &[u8]) -> Result<EnvelopeHeaders, EnvelopeError> {
    let mut map = json_object(line).map_err(EnvelopeError::InvalidHeader)?;
    let invalid =
        |field: &str, error: String| EnvelopeError::InvalidHeader(json::in_field(field, error));
    let event_id = match take(&mut map, "event_id") {
        None => None,
        Some(value) => {
            let text = json::string(value).map_err(|e| invalid("event_id", e))?;
            let id = text
                .parse::<EventId>()
                .map_err(|e| invalid("event_id", format!("invalid EventId {text:?}: {e}")))?;
            Some(id)
        }
    };
    let dsn = take(&mut map, "dsn")
        .map(json::string)
        .transpose()
        .map_err(|e| invalid("dsn", e))?;
    let sdk = take(&mut map, "sdk")
        .map(ClientSdkInfo::from_json)
        .transpose()
        .map_err(|e| invalid("sdk", e))?;
    let sent_at = take(&mut map, "sent_at")
        .map(|value| json::timestamp(&value))
        .transpose()
        .map_err(|e| invalid("sent_at", e))?;
    let trace = match take(&mut map, "trace") {
        None => None,
        Some(Value::Map(trace)) => Some(Arc::new(trace)),
        Some(other) => return Err(invalid("trace", json::invalid_type(&other, "a map"))),
    };
    Ok(EnvelopeHeaders {
        event_id,
        dsn,
        sdk: sdk.map(std::sync::Arc::new),
        sent_at,
        trace,
        other: map,
    })
}

pub(super) struct ItemHeader {
    ty: ItemType,
    length: Option<u64>,
    rest: Map,
}

fn parse_item_header(index: usize, line: &[u8]) -> Result<ItemHeader, EnvelopeError> {
    let invalid = |error: String| EnvelopeError::InvalidItemHeader { index, error };
    let mut map = json_object(line).map_err(invalid)?;
    let ty = match map.remove("type") {
        Some(Value::String(ty)) => ItemType::from_name(&ty),
        Some(other) => {
            return Err(invalid(json::in_field(
                "type",
                json::invalid_type(&other, "a string"),
            )))
        }
        None => return Err(invalid("missing `type`".to_owned())),
    };
    let length = match map.remove("length") {
        None | Some(Value::Null) => None,
        Some(value) => Some(value.as_u64().ok_or_else(|| {
            invalid(json::in_field(
                "length",
                json::invalid_type(&value, "a non-negative integer"),
            ))
        })?),
    };
    Ok(ItemHeader {
        ty,
        length,
        rest: map,
    })
}

/// How an item's header and payload become an [`EnvelopeItem`]: [`decode_item`] (typed) or
/// [`keep_raw`]. A function pointer rather than a flag, so a program that only ever reads
/// envelopes as bytes (the offline cache) links none of the typed decoders.
pub(super) type Decode = fn(ItemHeader, &[u8]) -> Result<EnvelopeItem, EnvelopeError>;

/// Keeps every item as [`EnvelopeItem::Raw`]: its type, its headers (`length` aside) and its
/// payload bytes, unread.
pub(super) fn keep_raw(header: ItemHeader, payload: &[u8]) -> Result<EnvelopeItem, EnvelopeError> {
    Ok(EnvelopeItem::Raw(RawItem {
        ty: header.ty,
        headers: header.rest,
        payload: payload.to_vec(),
    }))
}

/// Reads the payloads of the types the SDK models (events, transactions, client reports,
/// logs, metrics, check-ins, feedback, sessions); keeps the others as [`EnvelopeItem::Raw`].
pub(super) fn decode_item(
    header: ItemHeader,
    payload: &[u8],
) -> Result<EnvelopeItem, EnvelopeError> {
    let invalid = |ty: &ItemType, e: serde_json::Error| EnvelopeError::InvalidPayload {
        item_type: ty.clone(),
        error: e.to_string(),
    };
    Ok(match header.ty {
        ItemType::Event => EnvelopeItem::Event(Box::new(
            serde_json::from_slice::<Event>(payload).map_err(|e| invalid(&header.ty, e))?,
        )),
        ItemType::Transaction => EnvelopeItem::Transaction(Box::new(
            serde_json::from_slice::<Event>(payload).map_err(|e| invalid(&header.ty, e))?,
        )),
        ItemType::ClientReport => EnvelopeItem::ClientReport(
            serde_json::from_slice::<ClientReport>(payload).map_err(|e| invalid(&header.ty, e))?,
        ),
        ItemType::Log => decode_logs(&header, payload)?,
        ItemType::CheckIn => EnvelopeItem::CheckIn(
            serde_json::from_slice::<CheckIn>(payload).map_err(|e| invalid(&header.ty, e))?,
        ),
        ItemType::Feedback => EnvelopeItem::Feedback(Box::new(
            serde_json::from_slice::<Event>(payload).map_err(|e| invalid(&header.ty, e))?,
        )),
        ItemType::TraceMetric => decode_metrics(&header, payload)?,
        ItemType::Session => EnvelopeItem::Session(
            serde_json::from_slice(payload).map_err(|e| invalid(&header.ty, e))?,
        ),
        ItemType::Sessions => EnvelopeItem::SessionAggregates(
            serde_json::from_slice(payload).map_err(|e| invalid(&header.ty, e))?,
        ),
        ty => EnvelopeItem::Raw(RawItem {
            ty,
            headers: header.rest,
            payload: payload.to_vec(),
        }),
    })
}

/// A `log` item: both container headers are required and must describe the payload.
fn decode_logs(header: &ItemHeader, payload: &[u8]) -> Result<EnvelopeItem, EnvelopeError> {
    let logs = super::item::logs_from_payload(payload)
        .map_err(|e| invalid_container(ItemType::Log, e.to_string()))?;
    check_container(header, ItemType::Log, LOG_CONTENT_TYPE, logs.len())?;
    Ok(EnvelopeItem::Logs(logs))
}

/// A `trace_metric` item: both container headers are required and must describe the payload.
fn decode_metrics(header: &ItemHeader, payload: &[u8]) -> Result<EnvelopeItem, EnvelopeError> {
    let metrics = super::item::metrics_from_payload(payload)
        .map_err(|e| invalid_container(ItemType::TraceMetric, e.to_string()))?;
    check_container(
        header,
        ItemType::TraceMetric,
        TRACE_METRIC_CONTENT_TYPE,
        metrics.len(),
    )?;
    Ok(EnvelopeItem::Metrics(metrics))
}

fn invalid_container(item_type: ItemType, error: String) -> EnvelopeError {
    EnvelopeError::InvalidPayload { item_type, error }
}

/// Checks a container item's headers: `content_type` is `content_type` and `item_count` is the
/// number of records its payload holds.
fn check_container(
    header: &ItemHeader,
    ty: ItemType,
    content_type: &str,
    count: usize,
) -> Result<(), EnvelopeError> {
    let invalid = |error: String| invalid_container(ty.clone(), error);
    match header.rest.get("content_type") {
        Some(Value::String(ct)) if ct == content_type => {}
        Some(Value::String(ct)) => {
            return Err(invalid(format!(
                "`content_type` must be {content_type:?}, found {ct:?}"
            )))
        }
        Some(other) => {
            return Err(invalid(json::in_field(
                "content_type",
                json::invalid_type(other, "a string"),
            )))
        }
        None => {
            return Err(invalid(format!(
                "`content_type` must be {content_type:?}, found nothing"
            )))
        }
    }
    match header.rest.get("item_count").and_then(Value::as_u64) {
        Some(n) if n == count as u64 => Ok(()),
        other => Err(invalid(format!(
            "`item_count` must be the number of items, {count}, found {other:?}"
        ))),
    }
}

pub(super) fn parse(bytes: &[u8], decode: Decode) -> Result<Envelope, EnvelopeError> {
    let header_end = line_end(bytes, 0);
    let header_line = &bytes[..header_end];
    if header_line.is_empty() {
        return Err(EnvelopeError::MissingHeader);
    }
    let mut envelope = Envelope {
        headers: parse_headers(header_line)?,
        items: Vec::new(),
        event_size: Default::default(),
    };

    // `pos` is at the "\n" that ends the previous line or payload, or at the end.
    let mut pos = header_end;
    let mut index = 0;
    loop {
        if pos >= bytes.len() {
            break;
        }
        // Consume the separator; a final "\n" ends the envelope.
        pos += 1;
        if pos == bytes.len() {
            break;
        }
        let item_header_end = line_end(bytes, pos);
        let header = parse_item_header(index, &bytes[pos..item_header_end])?;
        // The payload starts after the item header's "\n" (or at the end, if there is none).
        let payload_start = (item_header_end + 1).min(bytes.len());
        let payload_end = match header.length {
            Some(length) => {
                let available = bytes.len() - payload_start;
                let end = usize::try_from(length)
                    .ok()
                    .and_then(|len| payload_start.checked_add(len))
                    .filter(|&end| end <= bytes.len())
                    .ok_or(EnvelopeError::UnexpectedEof {
                        index,
                        length,
                        available,
                    })?;
                if end < bytes.len() && bytes[end] != b'\n' {
                    return Err(EnvelopeError::MissingNewline { index, offset: end });
                }
                end
            }
            None => line_end(bytes, payload_start),
        };
        envelope
            .items
            .push(decode(header, &bytes[payload_start..payload_end])?);
        pos = payload_end;
        index += 1;
    }
    Ok(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::DataCategory;

    #[test]
    fn raw_reading_keeps_every_payload_and_writes_it_back_unchanged() {
        let mut event = Event::new();
        event.message = Some("disk full".to_owned());
        let mut envelope = Envelope::from_event(event);
        envelope.add_item(EnvelopeItem::Logs(vec![crate::protocol::Log::new(
            crate::protocol::LogLevel::Info,
            "hello",
        )]));
        envelope.add_item(RawItem::new(ItemType::Attachment, b"a\nb".to_vec()));
        let bytes = envelope.to_vec(None);
        let raw = Envelope::from_bytes_raw(&bytes).expect("framing is valid");
        assert!(raw.items().all(|item| matches!(item, EnvelopeItem::Raw(_))));
        // Written back, it reads as the same envelope (header keys may come in another order).
        assert_eq!(
            Envelope::from_bytes(&raw.to_vec(None)).expect("valid"),
            Envelope::from_bytes(&bytes).expect("valid")
        );
        // Counted as the typed items are (log bytes aside: the typed count is an estimate).
        let main = |e: &Envelope| e.items().map(|i| i.outcomes()[0]).collect::<Vec<_>>();
        assert_eq!(main(&raw), main(&envelope));
    }

    fn parse_ok(bytes: &[u8]) -> Envelope {
        Envelope::from_bytes(bytes)
            .unwrap_or_else(|e| panic!("{:?} should parse: {e}", String::from_utf8_lossy(bytes)))
    }

    fn raw(item: &EnvelopeItem) -> &RawItem {
        match item {
            EnvelopeItem::Raw(raw) => raw,
            other => panic!("expected a raw item, got {other:?}"),
        }
    }

    #[test]
    fn header_only() {
        for input in [&b"{}"[..], b"{}\n"] {
            let envelope = parse_ok(input);
            assert!(envelope.is_empty());
            assert_eq!(envelope.headers(), &EnvelopeHeaders::default());
        }
        let envelope = parse_ok(b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"dsn\":\"https://e12d836b15bb49d7bbf99e64295d995b:@sentry.io/42\"}\n");
        assert_eq!(
            envelope.event_id().map(|id| id.to_string()).as_deref(),
            Some("9ec79c33ec9942ab8353589fcb2e04dc")
        );
        assert!(envelope.headers().dsn.is_some());
    }

    #[test]
    fn payload_with_newlines_uses_length() {
        let envelope = parse_ok(b"{}\n{\"type\":\"attachment\",\"length\":10}\nhello\nyou\n");
        assert_eq!(envelope.len(), 1);
        assert_eq!(raw(&envelope.items[0]).payload, b"hello\nyou\n");
        // The same without the trailing newline.
        let envelope = parse_ok(b"{}\n{\"type\":\"attachment\",\"length\":9}\nhello\nyou");
        assert_eq!(raw(&envelope.items[0]).payload, b"hello\nyou");
    }

    #[test]
    fn empty_payloads() {
        let envelope = parse_ok(
            b"{}\n{\"type\":\"attachment\",\"length\":0}\n\n{\"type\":\"attachment\"}\n\n{\"type\":\"profile\"}\n",
        );
        assert_eq!(envelope.len(), 3);
        for item in envelope.items() {
            assert!(raw(item).payload.is_empty());
        }
        // An item header at the very end, without a newline.
        let envelope = parse_ok(b"{}\n{\"type\":\"attachment\"}");
        assert_eq!(envelope.len(), 1);
        assert!(raw(&envelope.items[0]).payload.is_empty());
    }

    #[test]
    fn missing_trailing_newline() {
        let envelope = parse_ok(b"{}\n{\"type\":\"profile\",\"length\":2}\n{}");
        assert_eq!(raw(&envelope.items[0]).payload, b"{}");
        let envelope = parse_ok(b"{}\n{\"type\":\"profile\"}\n{}");
        assert_eq!(raw(&envelope.items[0]).payload, b"{}");
    }

    #[test]
    fn items_without_length_end_at_newline() {
        let envelope = parse_ok(
            b"{}\n{\"type\":\"profile\"}\n{\"a\":1}\n{\"type\":\"replay_recording\",\"length\":7}\n{\"b\":2}\n",
        );
        assert_eq!(envelope.len(), 2);
        assert_eq!(raw(&envelope.items[0]).payload, b"{\"a\":1}");
        assert_eq!(raw(&envelope.items[0]).ty, ItemType::Profile);
        assert_eq!(raw(&envelope.items[1]).payload, b"{\"b\":2}");
        assert_eq!(raw(&envelope.items[1]).ty, ItemType::ReplayRecording);
    }

    #[test]
    fn carriage_return_belongs_to_the_payload() {
        let envelope = parse_ok(b"{}\r\n");
        assert!(envelope.is_empty());
        let envelope = parse_ok(b"{}\n{\"type\":\"profile\"}\nabc\r\n");
        assert_eq!(raw(&envelope.items[0]).payload, b"abc\r");
        let err = Envelope::from_bytes(b"{}\n{\"type\":\"profile\"}\r\nabc\n");
        // "\r" after an item header is part of the header line, which still is valid JSON
        // (whitespace), so the item parses.
        assert!(err.is_ok());
    }

    #[test]
    fn unknown_item_types_are_kept_with_headers() {
        let envelope =
            parse_ok(b"{}\n{\"type\":\"future_thing\",\"length\":3,\"flavor\":\"x\"}\nabc\n");
        let item = raw(&envelope.items[0]);
        assert_eq!(item.ty, ItemType::Other("future_thing".into()));
        assert_eq!(item.headers.get("flavor"), Some(&"x".into()));
        assert!(!item.headers.contains_key("type"));
        assert!(!item.headers.contains_key("length"));
        assert_eq!(envelope.items[0].category(), DataCategory::Unknown);
        // And written back the same way.
        assert_eq!(
            envelope.to_vec(None),
            b"{}\n{\"type\":\"future_thing\",\"length\":3,\"flavor\":\"x\"}\nabc\n"
        );
    }

    #[test]
    fn typed_items_are_decoded() {
        let envelope = parse_ok(
            b"{}\n{\"type\":\"event\"}\n{\"message\":\"hi\",\"level\":\"info\"}\n{\"type\":\"client_report\"}\n{\"discarded_events\":[{\"reason\":\"sample_rate\",\"category\":\"error\",\"quantity\":1}]}\n",
        );
        assert!(
            matches!(&envelope.items[0], EnvelopeItem::Event(e) if e.message.as_deref() == Some("hi"))
        );
        assert!(matches!(&envelope.items[1], EnvelopeItem::ClientReport(r) if r.total() == 1));
    }

    #[test]
    fn errors_instead_of_panics() {
        type Check = fn(&EnvelopeError) -> bool;
        let cases: &[(&[u8], Check)] = &[
            (b"", |e| matches!(e, EnvelopeError::MissingHeader)),
            (b"\n{\"type\":\"event\"}", |e| {
                matches!(e, EnvelopeError::MissingHeader)
            }),
            (b"not json\n", |e| {
                matches!(e, EnvelopeError::InvalidHeader(_))
            }),
            (b"[1,2]\n", |e| matches!(e, EnvelopeError::InvalidHeader(_))),
            (b"\xff\xfe{}\n", |e| {
                matches!(e, EnvelopeError::InvalidHeader(_))
            }),
            (b"{\"event_id\":\"xyz\"}", |e| {
                matches!(e, EnvelopeError::InvalidHeader(_))
            }),
            (b"{}\n{\"length\":2}\n{}", |e| {
                matches!(e, EnvelopeError::InvalidItemHeader { index: 0, .. })
            }),
            (b"{}\n{\"type\":7}\n", |e| {
                matches!(e, EnvelopeError::InvalidItemHeader { .. })
            }),
            (b"{}\n{\"type\":\"a\",\"length\":-1}\n", |e| {
                matches!(e, EnvelopeError::InvalidItemHeader { .. })
            }),
            (b"{}\n{\"type\":\"a\",\"length\":\"2\"}\n", |e| {
                matches!(e, EnvelopeError::InvalidItemHeader { .. })
            }),
            (b"{}\n\xff\n", |e| {
                matches!(e, EnvelopeError::InvalidItemHeader { .. })
            }),
            (b"{}\n\n", |e| {
                matches!(e, EnvelopeError::InvalidItemHeader { .. })
            }),
            (b"{}\n{\"type\":\"a\",\"length\":100}\nshort\n", |e| {
                matches!(
                    e,
                    EnvelopeError::UnexpectedEof {
                        index: 0,
                        length: 100,
                        available: 6
                    }
                )
            }),
            (
                b"{}\n{\"type\":\"a\",\"length\":18446744073709551615}\nx",
                |e| matches!(e, EnvelopeError::UnexpectedEof { .. }),
            ),
            (b"{}\n{\"type\":\"a\",\"length\":2}\nabc\n", |e| {
                matches!(
                    e,
                    EnvelopeError::MissingNewline {
                        index: 0,
                        offset: 29
                    }
                )
            }),
            (b"{}\n{\"type\":\"event\"}\nnot an event\n", |e| {
                matches!(
                    e,
                    EnvelopeError::InvalidPayload {
                        item_type: ItemType::Event,
                        ..
                    }
                )
            }),
            (b"{}\n{\"type\":\"client_report\"}\n\"nope\"\n", |e| {
                matches!(e, EnvelopeError::InvalidPayload { .. })
            }),
        ];
        for (input, check) in cases {
            match Envelope::from_bytes(input) {
                Ok(envelope) => panic!("{:?} parsed: {envelope:?}", String::from_utf8_lossy(input)),
                Err(err) => {
                    assert!(check(&err), "{:?}: {err:?}", String::from_utf8_lossy(input));
                    // Every error has a message.
                    assert!(!err.to_string().is_empty());
                }
            }
        }
    }

    #[test]
    fn log_items_round_trip_and_are_checked() {
        use crate::protocol::{Log, LogLevel};

        let mut log = Log::new(LogLevel::Warn, "low disk");
        // Timestamps are written in whole microseconds.
        log.timestamp =
            std::time::UNIX_EPOCH + std::time::Duration::from_micros(1_700_000_000_123_456);
        log.attributes.insert("free_mb", 12);
        let mut envelope = Envelope::new();
        envelope.add_item(vec![log.clone(), Log::new(LogLevel::Info, "ok")]);
        let bytes = envelope.to_vec(None);
        let parsed = parse_ok(&bytes);
        match &parsed.items[0] {
            EnvelopeItem::Logs(logs) => {
                assert_eq!(logs.len(), 2);
                assert_eq!(logs[0], log);
            }
            other => panic!("expected logs, got {other:?}"),
        }
        assert_eq!(parsed.to_vec(None), bytes);

        let payload = r#"{"items":[{"timestamp":1,"trace_id":"abababababababababababababababab","level":"info","body":"x"}]}"#;
        let item = |headers: &str| format!("{{}}\n{{\"type\":\"log\"{headers}}}\n{payload}\n");
        let ct = r#","content_type":"application/vnd.sentry.items.log+json""#;
        assert!(Envelope::from_bytes(item(&format!(r#","item_count":1{ct}"#)).as_bytes()).is_ok());
        for bad in [
            String::new(),
            format!(r#","item_count":2{ct}"#),
            ct.to_owned(),
            r#","item_count":1,"content_type":"application/json""#.to_owned(),
        ] {
            let err = Envelope::from_bytes(item(&bad).as_bytes()).unwrap_err();
            assert!(
                matches!(
                    &err,
                    EnvelopeError::InvalidPayload {
                        item_type: ItemType::Log,
                        ..
                    }
                ),
                "{bad}: {err:?}"
            );
        }
        let garbage =
            format!("{{}}\n{{\"type\":\"log\",\"item_count\":1{ct}}}\n{{\"items\":[{{}}]}}\n");
        assert!(Envelope::from_bytes(garbage.as_bytes()).is_err());
    }

    #[test]
    fn metric_items_round_trip_and_are_checked() {
        use crate::protocol::{Metric, MetricType};

        let mut metric = Metric::new(MetricType::Distribution, "db.query", 12.5);
        metric.timestamp =
            std::time::UNIX_EPOCH + std::time::Duration::from_micros(1_700_000_000_123_456);
        metric.unit = Some("millisecond".into());
        metric.attributes.insert("table", "users");
        let mut envelope = Envelope::new();
        envelope.add_item(vec![
            metric.clone(),
            Metric::new(MetricType::Counter, "orders", 1),
        ]);
        let bytes = envelope.to_vec(None);
        let parsed = parse_ok(&bytes);
        match &parsed.items[0] {
            EnvelopeItem::Metrics(metrics) => {
                assert_eq!(metrics.len(), 2);
                assert_eq!(metrics[0], metric);
            }
            other => panic!("expected metrics, got {other:?}"),
        }
        assert_eq!(parsed.to_vec(None), bytes);

        let payload = r#"{"items":[{"timestamp":1,"trace_id":"abababababababababababababababab","name":"x","type":"gauge","value":3}]}"#;
        let item =
            |headers: &str| format!("{{}}\n{{\"type\":\"trace_metric\"{headers}}}\n{payload}\n");
        let ct = r#","content_type":"application/vnd.sentry.items.trace-metric+json""#;
        assert!(Envelope::from_bytes(item(&format!(r#","item_count":1{ct}"#)).as_bytes()).is_ok());
        for bad in [
            String::new(),
            format!(r#","item_count":2{ct}"#),
            ct.to_owned(),
            r#","item_count":1,"content_type":"application/vnd.sentry.items.trace_metric+json""#
                .to_owned(),
        ] {
            let err = Envelope::from_bytes(item(&bad).as_bytes()).unwrap_err();
            assert!(
                matches!(
                    &err,
                    EnvelopeError::InvalidPayload {
                        item_type: ItemType::TraceMetric,
                        ..
                    }
                ),
                "{bad}: {err:?}"
            );
        }
    }

    /// The derived reader the envelope headers used to go through; the hand-written one must
    /// accept and produce the same.
    #[derive(serde::Deserialize)]
    struct DerivedHeaders {
        #[serde(default, with = "crate::protocol::wire")]
        event_id: Option<EventId>,
        #[serde(default)]
        dsn: Option<String>,
        #[serde(default)]
        sdk: Option<ClientSdkInfo>,
        #[serde(default, with = "crate::time::rfc3339_opt")]
        sent_at: Option<std::time::SystemTime>,
        #[serde(default, with = "crate::protocol::wire")]
        trace: Option<Map>,
        #[serde(flatten, with = "crate::protocol::wire")]
        other: Map,
    }

    #[test]
    fn headers_read_as_the_derived_reader_reads_them() {
        let inputs = [
            r#"{}"#,
            r#"{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","dsn":"https://k@h/1"}"#,
            r#"{"event_id":"9ec79c33-ec99-42ab-8353-589fcb2e04dc"}"#,
            r#"{"event_id":null,"dsn":null,"sdk":null,"sent_at":null,"trace":null}"#,
            r#"{"sdk":{"name":"sentry.rust","version":"0.1.0","packages":[{"name":"p","version":"1"}]}}"#,
            r#"{"sdk":{"name":"sentry.rust","version":"0.1.0","integrations":["panic"],"x":1}}"#,
            r#"{"sdk":["sentry.rust","0.1.0"]}"#,
            r#"{"sent_at":"2024-05-01T12:00:00.123456Z","x-custom":{"nested":[1,2]}}"#,
            r#"{"sent_at":1714564800}"#,
            r#"{"sent_at":-1.5}"#,
            r#"{"sent_at":"1714564800.25"}"#,
            r#"{"trace":{"trace_id":"abc","sample_rate":"0.5","n":18446744073709551615,"f":1.5,"m":{"a":[null,true]}}}"#,
            r#"{"unknown":1,"other":"kept","list":[]}"#,
            r#"{"event_id":"xyz"}"#,
            r#"{"event_id":7}"#,
            r#"{"dsn":1}"#,
            r#"{"sdk":"sentry.rust"}"#,
            r#"{"sdk":{"name":"sentry.rust"}}"#,
            r#"{"sdk":{"name":"a","version":"1","integrations":null}}"#,
            r#"{"sdk":["a","1",[],[],"extra"]}"#,
            r#"{"sent_at":"soon"}"#,
            r#"{"sent_at":true}"#,
            r#"{"sent_at":1e300}"#,
            r#"{"trace":"abc"}"#,
            r#"{"trace":[1]}"#,
            r#"[]"#,
            r#""headers""#,
            r#"null"#,
            r#"{"a":"#,
        ];
        for input in inputs {
            let derived = serde_json::from_str::<DerivedHeaders>(input);
            let by_hand = parse_headers(input.as_bytes());
            match (derived, by_hand) {
                (Ok(derived), Ok(by_hand)) => {
                    let derived = EnvelopeHeaders {
                        event_id: derived.event_id,
                        dsn: derived.dsn,
                        sdk: derived.sdk.map(std::sync::Arc::new),
                        sent_at: derived.sent_at,
                        trace: derived.trace.map(std::sync::Arc::new),
                        other: derived.other,
                    };
                    assert_eq!(derived, by_hand, "{input}");
                }
                (Err(_), Err(EnvelopeError::InvalidHeader(error))) => {
                    assert!(!error.is_empty(), "{input}");
                }
                (derived, by_hand) => {
                    panic!("{input}: derived {:?}, by hand {by_hand:?}", derived.err())
                }
            }
        }
        // The errors name the header.
        let error = |input: &str| match parse_headers(input.as_bytes()) {
            Err(EnvelopeError::InvalidHeader(error)) => error,
            other => panic!("{input}: {other:?}"),
        };
        assert!(error(r#"{"event_id":"xyz"}"#).starts_with("`event_id`: invalid EventId \"xyz\""));
        assert_eq!(
            error(r#"{"sdk":{"name":"a"}}"#),
            "`sdk`: missing field `version`"
        );
        assert_eq!(
            error(r#"{"trace":1}"#),
            "`trace`: invalid type: integer `1`, expected a map"
        );
        assert_eq!(error(r#"[1]"#), "invalid type: sequence, expected a map");
        // The one difference: a repeated key, known or not, reads as its last value (the
        // derived reader refused a repeated known header).
        let headers = parse_headers(br#"{"dsn":"a","dsn":"b","x":1,"x":2}"#).expect("valid");
        assert_eq!(headers.dsn.as_deref(), Some("b"));
        assert_eq!(headers.other["x"], Value::I64(2));
    }

    #[test]
    fn second_item_error_reports_its_index() {
        let err = Envelope::from_bytes(b"{}\n{\"type\":\"a\"}\nx\n{\"nope\":1}\n").err();
        assert!(matches!(
            err,
            Some(EnvelopeError::InvalidItemHeader { index: 1, .. })
        ));
    }
}
