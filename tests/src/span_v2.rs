//! The span v2 item (span streaming) checked field by field against the span protocol, which
//! Relay's normalizer in the conformance runner does not cover.
//!
//! [`check_span_item`] takes an item's header and its parsed payload and returns every problem
//! it finds, each naming the span (by index and id) and the field. What it checks:
//!
//! - **Item header**: `type` is `span`, `content_type` is
//!   `application/vnd.sentry.items.span.v2+json`, `item_count` equals the number of spans.
//! - **Payload**: an object with `"version": 2` and an `items` array of 1 to 1,000 spans, all of
//!   one trace (an envelope carries one trace's spans), no `span_id` twice; `ingest_settings`,
//!   when present, is an object.
//! - **Each span**: `trace_id` (32 hex digits) and `span_id` (16), not all zeros;
//!   `parent_span_id`, when present, 16 hex digits and not the span's own id; a non-empty
//!   `name`; `status` `ok` or `error`; `is_segment` a boolean; `start_timestamp` and
//!   `end_timestamp` finite non-negative numbers with start ≤ end; `attributes` an object.
//! - **Attributes**: each `{"type", "value", "unit"?}` with `type` one of `string`, `boolean`,
//!   `integer` (an i64), `double` (a finite number) or `array` (scalars of one type), the value
//!   matching it; no empty strings (the spec: empty attributes are omitted, not sent).
//! - **Common attributes**: `sentry.segment.id` (16 hex digits) and `sentry.segment.name` (strictly
//!   required) on every span; a segment span's `sentry.segment.id` is its own `span_id`;
//!   `sentry.segment.name.source` only on segment spans, one of `custom`, `url`, `route`,
//!   `view`, `component`, `task`.
//! - **Links**: each an object with a `trace_id` and `span_id` as above, `sampled` a boolean
//!   when present, attributes well-typed, and `sentry.link.type`, when present, one of
//!   `previous_trace`, `next_trace`, `child_of`, `follows_from`.
//!
//! # Examples
//!
//! ```
//! use serde_json::json;
//! use sentry_tests::span_v2::check_span_item;
//!
//! let header = json!({
//!     "type": "span",
//!     "item_count": 1,
//!     "content_type": "application/vnd.sentry.items.span.v2+json",
//! });
//! let mut payload = json!({"version": 2, "items": [{
//!     "trace_id": "771a43a4192642f0b136d5159a501700",
//!     "span_id": "b0e6f15b45c36b12",
//!     "name": "GET /users",
//!     "status": "ok",
//!     "is_segment": true,
//!     "start_timestamp": 1700000000.0,
//!     "end_timestamp": 1700000000.25,
//!     "attributes": {
//!         "sentry.segment.id": {"type": "string", "value": "b0e6f15b45c36b12"},
//!         "sentry.segment.name": {"type": "string", "value": "GET /users"},
//!         "http.response.status_code": {"type": "integer", "value": 200},
//!     },
//! }]});
//! assert_eq!(check_span_item(&header, &payload), Ok(()));
//!
//! payload["items"][0]["status"] = json!("internal_error");
//! let problems = check_span_item(&header, &payload).unwrap_err();
//! assert_eq!(problems, ["span 0 (b0e6f15b45c36b12): status \"internal_error\" is not ok or error"]);
//! ```

use serde_json::{Map, Value};

/// The `content_type` header of a span v2 item.
pub const SPAN_V2_CONTENT_TYPE: &str = "application/vnd.sentry.items.span.v2+json";
/// How many spans one item may carry.
pub const MAX_SPANS_PER_ITEM: usize = 1000;
/// The values of `sentry.segment.name.source` (the transaction sources an SDK may set).
pub const SEGMENT_NAME_SOURCES: [&str; 6] = ["custom", "url", "route", "view", "component", "task"];
/// The values of a link's `sentry.link.type`.
pub const LINK_TYPES: [&str; 4] = ["previous_trace", "next_trace", "child_of", "follows_from"];

/// Checks a span v2 item: its header (`item_header`, the item's header line as JSON) and its
/// payload. Returns every problem found, or `Ok(())`. See the [module](self) for the rules.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use sentry_tests::span_v2::check_span_item;
///
/// let header = json!({"type": "span", "item_count": 2,
///                     "content_type": "application/vnd.sentry.items.span.v2+json"});
/// let problems = check_span_item(&header, &json!({"version": 2, "items": []})).unwrap_err();
/// assert!(problems.contains(&"item_count 2 but the payload has 0 spans".to_owned()));
/// ```
pub fn check_span_item(item_header: &Value, payload: &Value) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let spans = check_payload(payload, &mut problems);
    check_header(item_header, spans.map(<[Value]>::len), &mut problems);
    if let Some(spans) = spans {
        let mut traces: Vec<&str> = Vec::new();
        let mut ids: Vec<&str> = Vec::with_capacity(spans.len());
        for (index, span) in spans.iter().enumerate() {
            if let Some(id) = span.get("span_id").and_then(Value::as_str) {
                if ids.contains(&id) {
                    problems.push(format!("span {index}: span_id {id} appears twice"));
                }
                ids.push(id);
            }
            let mut check = SpanCheck {
                label: span_label(index, span),
                problems: &mut problems,
            };
            check.span(span);
            if let Some(trace) = span.get("trace_id").and_then(Value::as_str) {
                if !traces.contains(&trace) {
                    traces.push(trace);
                }
            }
        }
        if traces.len() > 1 {
            problems.push(format!(
                "the item mixes {} traces ({}); an item carries one trace's spans",
                traces.len(),
                traces.join(", ")
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn check_header(header: &Value, spans: Option<usize>, problems: &mut Vec<String>) {
    let Some(header) = header.as_object() else {
        problems.push(format!("item header is not an object: {header}"));
        return;
    };
    match header.get("type").and_then(Value::as_str) {
        Some("span") => {}
        other => problems.push(format!("item header type {other:?}, expected \"span\"")),
    }
    match header.get("content_type").and_then(Value::as_str) {
        Some(SPAN_V2_CONTENT_TYPE) => {}
        other => problems.push(format!(
            "item header content_type {other:?}, expected {SPAN_V2_CONTENT_TYPE:?}"
        )),
    }
    match (header.get("item_count"), spans) {
        (None, _) => problems.push("item header has no item_count".to_owned()),
        (Some(count), Some(spans)) => match count.as_u64() {
            Some(count) if usize::try_from(count).ok() == Some(spans) => {}
            Some(count) => problems.push(format!(
                "item_count {count} but the payload has {spans} spans"
            )),
            None => problems.push(format!("item_count {count} is not a count")),
        },
        (Some(_), None) => {}
    }
}

/// Checks the payload's envelope; returns its spans if `items` is an array.
fn check_payload<'a>(payload: &'a Value, problems: &mut Vec<String>) -> Option<&'a [Value]> {
    let Some(object) = payload.as_object() else {
        problems.push(format!("payload is not an object: {}", short(payload)));
        return None;
    };
    match object.get("version") {
        Some(version) if version.as_u64() == Some(2) => {}
        Some(version) => problems.push(format!("payload version {version}, expected 2")),
        None => problems.push("payload has no version (expected 2)".to_owned()),
    }
    if let Some(settings) = object.get("ingest_settings") {
        if !settings.is_object() {
            problems.push(format!(
                "ingest_settings is not an object: {}",
                short(settings)
            ));
        }
    }
    let Some(items) = object.get("items").and_then(Value::as_array) else {
        problems.push("payload has no items array".to_owned());
        return None;
    };
    if items.is_empty() {
        problems.push("payload has no spans".to_owned());
    }
    if items.len() > MAX_SPANS_PER_ITEM {
        problems.push(format!(
            "{} spans in one item, at most {MAX_SPANS_PER_ITEM}",
            items.len()
        ));
    }
    Some(items)
}

/// `span 3 (b0e6f15b45c36b12)`, or `span 3` without a readable id.
fn span_label(index: usize, span: &Value) -> String {
    match span.get("span_id").and_then(Value::as_str) {
        Some(id) => format!("span {index} ({id})"),
        None => format!("span {index}"),
    }
}

/// A value's JSON text, cut for a message.
fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// `true` for `len` hex digits that are not all zeros.
fn is_id(text: &str, len: usize) -> bool {
    text.len() == len
        && text.bytes().all(|b| b.is_ascii_hexdigit())
        && text.bytes().any(|b| b != b'0')
}

/// The problems of one span (or link), each prefixed with its label.
struct SpanCheck<'a> {
    label: String,
    problems: &'a mut Vec<String>,
}

impl SpanCheck<'_> {
    fn problem(&mut self, text: impl std::fmt::Display) {
        self.problems.push(format!("{}: {text}", self.label));
    }

    fn span(&mut self, span: &Value) {
        let Some(object) = span.as_object() else {
            self.problem(format_args!("not an object: {}", short(span)));
            return;
        };
        self.id(object, "trace_id", 32, true);
        self.id(object, "span_id", 16, true);
        self.id(object, "parent_span_id", 16, false);
        let span_id = object.get("span_id").and_then(Value::as_str);
        if let (Some(parent), Some(own)) = (
            object.get("parent_span_id").and_then(Value::as_str),
            span_id,
        ) {
            if parent == own {
                self.problem("parent_span_id is the span's own id");
            }
        }
        match object.get("name") {
            Some(Value::String(name)) if !name.trim().is_empty() => {}
            Some(Value::String(_)) => self.problem("name is empty"),
            Some(other) => self.problem(format_args!("name is not a string: {}", short(other))),
            None => self.problem("no name"),
        }
        match object.get("status") {
            Some(Value::String(status)) if status == "ok" || status == "error" => {}
            Some(other) => self.problem(format_args!("status {other} is not ok or error")),
            None => self.problem("no status"),
        }
        let is_segment = match object.get("is_segment") {
            Some(Value::Bool(is_segment)) => Some(*is_segment),
            Some(other) => {
                self.problem(format_args!("is_segment is not a boolean: {other}"));
                None
            }
            None => {
                self.problem("no is_segment");
                None
            }
        };
        let start = self.timestamp(object, "start_timestamp");
        let end = self.timestamp(object, "end_timestamp");
        if let (Some(start), Some(end)) = (start, end) {
            if start > end {
                self.problem(format_args!(
                    "start_timestamp {start} is after end_timestamp {end}"
                ));
            }
        }
        match object.get("attributes") {
            Some(Value::Object(attributes)) => {
                self.attributes(attributes, "attribute");
                self.common_attributes(attributes, span_id, is_segment);
            }
            Some(other) => self.problem(format_args!(
                "attributes is not an object: {}",
                short(other)
            )),
            None => self.problem("no attributes (sentry.segment.id and .name are required)"),
        }
        match object.get("links") {
            None => {}
            Some(Value::Array(links)) => {
                for (index, link) in links.iter().enumerate() {
                    let label = format!("{} link {index}", self.label);
                    SpanCheck {
                        label,
                        problems: self.problems,
                    }
                    .link(link);
                }
            }
            Some(other) => self.problem(format_args!("links is not an array: {}", short(other))),
        }
    }

    /// A hex id of `len` digits; `required` or optional.
    fn id(&mut self, object: &Map<String, Value>, key: &str, len: usize, required: bool) {
        match object.get(key) {
            Some(Value::String(id)) if is_id(id, len) => {}
            Some(other) => self.problem(format_args!(
                "{key} {} is not {len} hex digits (not all zero)",
                short(other)
            )),
            None if required => self.problem(format_args!("no {key}")),
            None => {}
        }
    }

    fn timestamp(&mut self, object: &Map<String, Value>, key: &str) -> Option<f64> {
        match object.get(key) {
            Some(Value::Number(n)) => match n.as_f64() {
                Some(t) if t.is_finite() && t >= 0.0 => Some(t),
                _ => {
                    self.problem(format_args!("{key} {n} is not a time"));
                    None
                }
            },
            Some(other) => {
                self.problem(format_args!(
                    "{key} is not a number of seconds: {}",
                    short(other)
                ));
                None
            }
            None => {
                self.problem(format_args!("no {key}"));
                None
            }
        }
    }

    /// Typed attributes: `what` is `attribute` or `link attribute`.
    fn attributes(&mut self, attributes: &Map<String, Value>, what: &str) {
        for (key, attribute) in attributes {
            if key.is_empty() {
                self.problem(format_args!("{what} with an empty key"));
            }
            if let Err(problem) = typed_value_problem(attribute) {
                self.problem(format_args!("{what} {key}: {problem}"));
            }
        }
    }

    fn common_attributes(
        &mut self,
        attributes: &Map<String, Value>,
        span_id: Option<&str>,
        is_segment: Option<bool>,
    ) {
        let string = |key: &str| {
            attributes
                .get(key)
                .filter(|a| a.get("type").and_then(Value::as_str) == Some("string"))
                .and_then(|a| a.get("value"))
                .and_then(Value::as_str)
        };
        match (
            attributes.get("sentry.segment.id"),
            string("sentry.segment.id"),
        ) {
            (None, _) => self.problem("no sentry.segment.id attribute"),
            (Some(_), None) => self.problem("sentry.segment.id is not a string attribute"),
            (Some(_), Some(id)) if !is_id(id, 16) => {
                self.problem(format_args!("sentry.segment.id {id:?} is not a span id"));
            }
            (Some(_), Some(id)) => {
                if is_segment == Some(true) && span_id.is_some_and(|own| own != id) {
                    self.problem(format_args!(
                        "a segment span's sentry.segment.id {id:?} is not its span_id"
                    ));
                }
            }
        }
        match (
            attributes.get("sentry.segment.name"),
            string("sentry.segment.name"),
        ) {
            (None, _) => self.problem("no sentry.segment.name attribute"),
            (Some(_), None) => self.problem("sentry.segment.name is not a string attribute"),
            (Some(_), Some(_)) => {}
        }
        if let Some(source) = attributes.get("sentry.segment.name.source") {
            if is_segment == Some(false) {
                self.problem("sentry.segment.name.source on a span that is not a segment");
            }
            match string("sentry.segment.name.source") {
                Some(value) if SEGMENT_NAME_SOURCES.contains(&value) => {}
                _ => self.problem(format_args!(
                    "sentry.segment.name.source {} is not one of {}",
                    short(source),
                    SEGMENT_NAME_SOURCES.join(", ")
                )),
            }
        }
    }

    fn link(&mut self, link: &Value) {
        let Some(object) = link.as_object() else {
            self.problem(format_args!("not an object: {}", short(link)));
            return;
        };
        self.id(object, "trace_id", 32, true);
        self.id(object, "span_id", 16, true);
        match object.get("sampled") {
            None | Some(Value::Bool(_)) => {}
            Some(other) => self.problem(format_args!("sampled is not a boolean: {other}")),
        }
        match object.get("attributes") {
            None => {}
            Some(Value::Object(attributes)) => {
                self.attributes(attributes, "link attribute");
                if let Some(ty) = attributes.get("sentry.link.type") {
                    let value = ty.get("value").and_then(Value::as_str);
                    if !value.is_some_and(|v| LINK_TYPES.contains(&v)) {
                        self.problem(format_args!(
                            "sentry.link.type {} is not one of {}",
                            short(ty),
                            LINK_TYPES.join(", ")
                        ));
                    }
                }
            }
            Some(other) => self.problem(format_args!(
                "attributes is not an object: {}",
                short(other)
            )),
        }
    }
}

/// Why a typed attribute (`{"type", "value", "unit"?}`) is malformed, if it is.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use sentry_tests::span_v2::typed_value_problem;
///
/// assert!(typed_value_problem(&json!({"type": "integer", "value": 3})).is_ok());
/// assert!(typed_value_problem(&json!({"type": "array", "value": ["a", "b"]})).is_ok());
/// assert!(typed_value_problem(&json!({"type": "integer", "value": 1.5})).is_err());
/// assert!(typed_value_problem(&json!({"type": "array", "value": ["a", 1]})).is_err());
/// assert!(typed_value_problem(&json!({"type": "string", "value": ""})).is_err());
/// ```
pub fn typed_value_problem(attribute: &Value) -> Result<(), String> {
    let Some(object) = attribute.as_object() else {
        return Err(format!("not a typed value: {}", short(attribute)));
    };
    if let Some(unit) = object.get("unit") {
        if unit.as_str().is_none_or(str::is_empty) {
            return Err(format!("unit {unit} is not a non-empty string"));
        }
    }
    let Some(value) = object.get("value") else {
        return Err("no value".to_owned());
    };
    let ty = object.get("type").and_then(Value::as_str);
    match (ty, value) {
        (Some("string"), Value::String(text)) if text.is_empty() => {
            Err("empty string (empty attributes are omitted)".to_owned())
        }
        (Some("string"), Value::String(_)) | (Some("boolean"), Value::Bool(_)) => Ok(()),
        (Some("integer"), Value::Number(n)) if n.is_i64() => Ok(()),
        (Some("integer"), Value::Number(n)) if n.is_u64() => {
            Err(format!("integer {n} is beyond i64 (send it as a string)"))
        }
        (Some("double"), Value::Number(n)) if n.as_f64().is_some_and(f64::is_finite) => Ok(()),
        (Some("array"), Value::Array(items)) => array_problem(items),
        (Some(ty @ ("string" | "boolean" | "integer" | "double" | "array")), value) => {
            Err(format!("{ty} value {}", short(value)))
        }
        (Some(other), _) => Err(format!(
            "type {other:?} is not string, boolean, integer, double or array"
        )),
        (None, _) => Err(format!("no type: {}", short(attribute))),
    }
}

/// An `array` attribute's value: scalars (string, boolean, number) all of one kind.
fn array_problem(items: &[Value]) -> Result<(), String> {
    let kind = |value: &Value| match value {
        Value::String(_) => Some("string"),
        Value::Bool(_) => Some("boolean"),
        Value::Number(n) if n.is_i64() => Some("integer"),
        Value::Number(_) => Some("double"),
        _ => None,
    };
    let mut first = None;
    for item in items {
        let Some(this) = kind(item) else {
            return Err(format!("array holds a non-scalar: {}", short(item)));
        };
        match first {
            None => first = Some(this),
            Some(first) if first == this => {}
            Some(first) => return Err(format!("array mixes {first} and {this}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TRACE: &str = "771a43a4192642f0b136d5159a501700";
    const SEGMENT: &str = "aaaaaaaaaaaaaaaa";

    fn header(count: usize) -> Value {
        json!({"type": "span", "item_count": count, "content_type": SPAN_V2_CONTENT_TYPE})
    }

    fn segment() -> Value {
        json!({
            "trace_id": TRACE,
            "span_id": SEGMENT,
            "parent_span_id": "ffffffffffffffff",
            "name": "GET /users/{id}",
            "status": "ok",
            "is_segment": true,
            "start_timestamp": 1_700_000_000.0,
            "end_timestamp": 1_700_000_000.25,
            "attributes": {
                "sentry.segment.id": {"type": "string", "value": SEGMENT},
                "sentry.segment.name": {"type": "string", "value": "GET /users/{id}"},
                "sentry.segment.name.source": {"type": "string", "value": "route"},
                "sentry.op": {"type": "string", "value": "http.server"},
                "http.response.status_code": {"type": "integer", "value": 200},
                "sentry.sample_rate": {"type": "double", "value": 0.5},
                "sentry.is_localhost": {"type": "boolean", "value": true},
                "http.request.header.accept": {"type": "array", "value": ["*/*"]},
                "db.rows": {"type": "integer", "value": 3, "unit": "none"},
            },
            "links": [{
                "trace_id": "0123456789abcdef0123456789abcdef",
                "span_id": "0123456789abcdef",
                "sampled": true,
                "attributes": {"sentry.link.type": {"type": "string", "value": "previous_trace"}},
            }],
        })
    }

    fn child() -> Value {
        json!({
            "trace_id": TRACE,
            "span_id": "bbbbbbbbbbbbbbbb",
            "parent_span_id": SEGMENT,
            "name": "SELECT users",
            "status": "error",
            "is_segment": false,
            "start_timestamp": 1_700_000_000.1,
            "end_timestamp": 1_700_000_000.1,
            "attributes": {
                "sentry.segment.id": {"type": "string", "value": SEGMENT},
                "sentry.segment.name": {"type": "string", "value": "GET /users/{id}"},
            },
        })
    }

    fn payload(spans: Vec<Value>) -> Value {
        json!({"version": 2, "items": spans})
    }

    /// The problems of a two-span item after `change` altered its payload.
    fn problems_after(change: impl FnOnce(&mut Value)) -> Vec<String> {
        let mut payload = payload(vec![segment(), child()]);
        change(&mut payload);
        let count = payload["items"].as_array().map_or(0, Vec::len);
        check_span_item(&header(count), &payload)
            .err()
            .unwrap_or_default()
    }

    fn assert_problem(change: impl FnOnce(&mut Value), expected: &str) {
        let problems = problems_after(change);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "expected a problem containing {expected:?}, got {problems:#?}"
        );
    }

    #[test]
    fn accepts_a_valid_item() {
        assert_eq!(
            check_span_item(&header(2), &payload(vec![segment(), child()])),
            Ok(())
        );
        // `ingest_settings`, no links, no parent, an empty array: all fine.
        let mut lone = child();
        lone.as_object_mut().map(|o| o.remove("parent_span_id"));
        lone["attributes"]["tags"] = json!({"type": "array", "value": []});
        let payload =
            json!({"version": 2, "ingest_settings": {"infer_ip": "never"}, "items": [lone]});
        assert_eq!(check_span_item(&header(1), &payload), Ok(()));
    }

    #[test]
    fn checks_the_item_header() {
        let payload = payload(vec![segment()]);
        let problems = check_span_item(&json!({"type": "log", "item_count": 3}), &payload)
            .expect_err("a wrong header");
        assert_eq!(
            problems,
            [
                "item header type Some(\"log\"), expected \"span\"",
                "item header content_type None, expected \
                 \"application/vnd.sentry.items.span.v2+json\"",
                "item_count 3 but the payload has 1 spans",
            ]
        );
        let problems = check_span_item(&json!("span"), &payload).expect_err("not an object");
        assert_eq!(problems, ["item header is not an object: \"span\""]);
        let mut no_count = header(1);
        no_count.as_object_mut().map(|o| o.remove("item_count"));
        assert_eq!(
            check_span_item(&no_count, &payload),
            Err(vec!["item header has no item_count".to_owned()])
        );
    }

    #[test]
    fn checks_the_payload() {
        assert_problem(|p| p["version"] = json!(1), "payload version 1, expected 2");
        assert_problem(
            |p| {
                p.as_object_mut().map(|o| o.remove("version"));
            },
            "payload has no version",
        );
        assert_problem(
            |p| p["ingest_settings"] = json!([]),
            "ingest_settings is not an object",
        );
        let problems = check_span_item(&header(0), &json!({"version": 2})).unwrap_err();
        assert_eq!(problems, ["payload has no items array"]);
        let problems = check_span_item(&header(0), &json!([])).unwrap_err();
        assert_eq!(problems, ["payload is not an object: []"]);
        assert_eq!(
            check_span_item(&header(0), &payload(vec![])),
            Err(vec!["payload has no spans".to_owned()])
        );
        let many: Vec<Value> = (0..=MAX_SPANS_PER_ITEM)
            .map(|i| {
                let mut span = child();
                span["span_id"] = json!(format!("{:016x}", i + 1));
                span
            })
            .collect();
        let problems = check_span_item(&header(many.len()), &payload(many)).unwrap_err();
        assert_eq!(problems, ["1001 spans in one item, at most 1000"]);
    }

    #[test]
    fn checks_ids() {
        assert_problem(
            |p| p["items"][0]["trace_id"] = json!("771a43a4"),
            "span 0 (aaaaaaaaaaaaaaaa): trace_id \"771a43a4\" is not 32 hex digits",
        );
        assert_problem(
            |p| p["items"][1]["span_id"] = json!("0000000000000000"),
            "span 1 (0000000000000000): span_id \"0000000000000000\" is not 16 hex digits",
        );
        assert_problem(
            |p| p["items"][1]["parent_span_id"] = json!("zzzzzzzzzzzzzzzz"),
            "span 1 (bbbbbbbbbbbbbbbb): parent_span_id \"zzzzzzzzzzzzzzzz\" is not 16 hex digits",
        );
        assert_problem(
            |p| p["items"][1]["parent_span_id"] = json!("bbbbbbbbbbbbbbbb"),
            "parent_span_id is the span's own id",
        );
        assert_problem(
            |p| {
                p["items"][1].as_object_mut().map(|o| o.remove("span_id"));
            },
            "span 1: no span_id",
        );
        assert_problem(
            |p| p["items"][1]["trace_id"] = json!("0123456789abcdef0123456789abcdef"),
            "the item mixes 2 traces",
        );
    }

    #[test]
    fn checks_name_status_segment_flag_and_times() {
        assert_problem(|p| p["items"][0]["name"] = json!(""), "name is empty");
        assert_problem(
            |p| p["items"][0]["name"] = json!(7),
            "name is not a string: 7",
        );
        assert_problem(
            |p| p["items"][0]["status"] = json!("cancelled"),
            "status \"cancelled\" is not ok or error",
        );
        assert_problem(
            |p| p["items"][0]["is_segment"] = json!("yes"),
            "is_segment is not a boolean",
        );
        assert_problem(
            |p| p["items"][1]["end_timestamp"] = json!(1_699_999_999.0),
            "start_timestamp 1700000000.1 is after end_timestamp 1699999999",
        );
        assert_problem(
            |p| p["items"][1]["start_timestamp"] = json!("2024-01-01T00:00:00Z"),
            "start_timestamp is not a number of seconds",
        );
        assert_problem(
            |p| p["items"][1]["start_timestamp"] = json!(-1.0),
            "start_timestamp -1.0 is not a time",
        );
        assert_problem(
            |p| {
                p["items"][1]
                    .as_object_mut()
                    .map(|o| o.remove("end_timestamp"));
            },
            "no end_timestamp",
        );
    }

    #[test]
    fn checks_attribute_types_and_values() {
        let cases = [
            (
                json!({"type": "integer", "value": "3"}),
                "integer value \"3\"",
            ),
            (
                json!({"type": "integer", "value": 1.5}),
                "integer value 1.5",
            ),
            (
                json!({"type": "integer", "value": u64::MAX}),
                "integer 18446744073709551615 is beyond i64 (send it as a string)",
            ),
            (json!({"type": "double", "value": "1.5"}), "double value"),
            (json!({"type": "boolean", "value": 1}), "boolean value 1"),
            (json!({"type": "string", "value": ""}), "empty string"),
            (
                json!({"type": "string", "value": null}),
                "string value null",
            ),
            (
                json!({"type": "array", "value": [1, "a"]}),
                "array mixes integer and string",
            ),
            (
                json!({"type": "array", "value": [[1]]}),
                "array holds a non-scalar",
            ),
            (
                json!({"type": "object", "value": {}}),
                "type \"object\" is not string",
            ),
            (json!({"value": 3}), "no type"),
            (json!({"type": "string"}), "no value"),
            (json!("plain"), "not a typed value"),
            (json!({"type": "integer", "value": 3, "unit": 5}), "unit 5"),
        ];
        for (attribute, expected) in cases {
            assert_problem(
                |p| p["items"][1]["attributes"]["my.key"] = attribute,
                &format!("span 1 (bbbbbbbbbbbbbbbb): attribute my.key: {expected}"),
            );
        }
        assert_problem(
            |p| p["items"][1]["attributes"][""] = json!({"type": "boolean", "value": true}),
            "attribute with an empty key",
        );
        assert_problem(
            |p| p["items"][1]["attributes"] = json!([]),
            "attributes is not an object",
        );
    }

    #[test]
    fn checks_the_segment_attributes() {
        assert_problem(
            |p| {
                p["items"][1]["attributes"]
                    .as_object_mut()
                    .map(|o| o.remove("sentry.segment.id"));
            },
            "span 1 (bbbbbbbbbbbbbbbb): no sentry.segment.id attribute",
        );
        assert_problem(
            |p| {
                p["items"][0]["attributes"]
                    .as_object_mut()
                    .map(|o| o.remove("sentry.segment.name"));
            },
            "span 0 (aaaaaaaaaaaaaaaa): no sentry.segment.name attribute",
        );
        assert_problem(
            |p| {
                p["items"][0]["attributes"]["sentry.segment.id"]["value"] =
                    json!("bbbbbbbbbbbbbbbb")
            },
            "a segment span's sentry.segment.id \"bbbbbbbbbbbbbbbb\" is not its span_id",
        );
        assert_problem(
            |p| p["items"][1]["attributes"]["sentry.segment.id"]["value"] = json!("x"),
            "sentry.segment.id \"x\" is not a span id",
        );
        assert_problem(
            |p| {
                p["items"][1]["attributes"]["sentry.segment.name"] =
                    json!({"type": "integer", "value": 1})
            },
            "sentry.segment.name is not a string attribute",
        );
        assert_problem(
            |p| {
                p["items"][1]["attributes"]["sentry.segment.name.source"] =
                    json!({"type": "string", "value": "route"})
            },
            "sentry.segment.name.source on a span that is not a segment",
        );
        assert_problem(
            |p| {
                p["items"][0]["attributes"]["sentry.segment.name.source"]["value"] =
                    json!("unknown")
            },
            "sentry.segment.name.source {\"type\":\"string\",\"value\":\"unknown\"} is not one of",
        );
        assert_problem(
            |p| {
                p["items"][1]
                    .as_object_mut()
                    .map(|o| o.remove("attributes"));
            },
            "no attributes",
        );
    }

    #[test]
    fn checks_links() {
        let label = "span 0 (aaaaaaaaaaaaaaaa) link 0";
        assert_problem(
            |p| p["items"][0]["links"][0]["span_id"] = json!("abc"),
            &format!("{label}: span_id \"abc\" is not 16 hex digits"),
        );
        assert_problem(
            |p| {
                p["items"][0]["links"][0]
                    .as_object_mut()
                    .map(|o| o.remove("trace_id"));
            },
            &format!("{label}: no trace_id"),
        );
        assert_problem(
            |p| p["items"][0]["links"][0]["sampled"] = json!("true"),
            &format!("{label}: sampled is not a boolean"),
        );
        assert_problem(
            |p| {
                p["items"][0]["links"][0]["attributes"]["sentry.link.type"]["value"] =
                    json!("parent")
            },
            &format!("{label}: sentry.link.type"),
        );
        assert_problem(
            |p| {
                p["items"][0]["links"][0]["attributes"]["n"] =
                    json!({"type": "integer", "value": 0.5})
            },
            &format!("{label}: link attribute n: integer value 0.5"),
        );
        assert_problem(
            |p| p["items"][0]["links"] = json!({}),
            "links is not an array",
        );
        assert_problem(
            |p| p["items"][0]["links"][0] = json!(3),
            "link 0: not an object: 3",
        );
    }

    #[test]
    fn span_ids_are_unique_in_an_item() {
        assert_problem(
            |p| p["items"][1]["span_id"] = json!(SEGMENT),
            "span 1: span_id aaaaaaaaaaaaaaaa appears twice",
        );
    }

    #[test]
    fn every_problem_is_reported() {
        let problems = problems_after(|p| {
            p["items"][1]["name"] = json!("");
            p["items"][1]["status"] = json!("unknown");
            p["items"][1]["attributes"]["x"] = json!({"type": "string", "value": ""});
        });
        assert_eq!(problems.len(), 3, "{problems:#?}");
    }
}
