//! Checking structured-log items as they were sent, field by field, against Sentry's log
//! protocol.

/// Checks one `log` envelope item, exactly as it was sent, field by field against Sentry's log
/// protocol, and lists every problem (empty when it conforms). `header` is the item header as
/// JSON; `payload` the payload bytes.
///
/// Relay's normalizer in the Python package the conformance tests use validates events only,
/// so log items are checked here instead:
///
/// - header: `type` is `log`, `length` is the payload's length, `item_count` is the number of
///   items (1–100), `content_type` is `application/vnd.sentry.items.log+json`, nothing else;
/// - payload: an object with `items` only;
/// - each item has exactly `timestamp` (positive seconds), `trace_id` (32 lowercase hex digits,
///   not all zero), optionally `span_id` (16 lowercase hex digits), `level` (`trace`, `debug`,
///   `info`, `warn`, `error` or `fatal`), `severity_number` (1, 5, 9, 13, 17 or 21 to match the
///   level), `body` (a string) and optionally `attributes`;
/// - each attribute is `{"value":…,"type":…}` with a type of `string`, `boolean`, `integer`
///   (a signed 64-bit integer) or `double` (a finite number) that matches the value.
///
/// # Examples
///
/// ```
/// use sentry_core::envelope::Envelope;
/// use sentry_core::protocol::{Log, LogLevel};
/// use sentry_tests::log_protocol::log_item_problems;
///
/// let mut log = Log::new(LogLevel::Info, "hello");
/// log.trace_id = sentry_core::protocol::new_trace_id();
/// log.attributes.insert("n", 1);
/// let envelope: Envelope = std::iter::once(vec![log]).collect();
/// let bytes = envelope.to_vec(None);
/// let mut lines = bytes.split(|&b| b == b'\n').skip(1);
/// let header = serde_json::from_slice(lines.next().unwrap()).unwrap();
/// assert_eq!(log_item_problems(&header, lines.next().unwrap()), Vec::<String>::new());
/// ```
pub fn log_item_problems(header: &serde_json::Value, payload: &[u8]) -> Vec<String> {
    use serde_json::Value as Json;

    let mut problems = Vec::new();
    let mut problem = |text: String| problems.push(text);
    match header.as_object() {
        None => problem(format!("item header is not an object: {header}")),
        Some(h) => {
            if h.get("type") != Some(&Json::from("log")) {
                problem(format!("header type is {:?}, not \"log\"", h.get("type")));
            }
            if h.get("length").and_then(Json::as_u64) != Some(payload.len() as u64) {
                problem(format!(
                    "header length {:?} is not the payload length {}",
                    h.get("length"),
                    payload.len()
                ));
            }
            if h.get("content_type") != Some(&Json::from(sentry_core::protocol::LOG_CONTENT_TYPE)) {
                problem(format!(
                    "header content_type is {:?}",
                    h.get("content_type")
                ));
            }
            for key in h.keys() {
                if !["type", "length", "item_count", "content_type"].contains(&key.as_str()) {
                    problem(format!("unexpected item header {key:?}"));
                }
            }
        }
    }
    let payload: Json = match serde_json::from_slice(payload) {
        Ok(json) => json,
        Err(e) => {
            problem(format!("payload is not JSON: {e}"));
            return problems;
        }
    };
    let Some(items) = payload.get("items").and_then(Json::as_array) else {
        problem(format!("payload has no items array: {payload}"));
        return problems;
    };
    if payload.as_object().is_some_and(|p| p.len() != 1) {
        problem("payload has keys other than items".to_owned());
    }
    if header.get("item_count").and_then(Json::as_u64) != Some(items.len() as u64) {
        problem(format!(
            "item_count {:?} is not the number of items {}",
            header.get("item_count"),
            items.len()
        ));
    }
    if items.is_empty() || items.len() > 100 {
        problem(format!("{} items; 1 to 100 allowed", items.len()));
    }
    let hex = |v: Option<&Json>, len: usize| {
        v.and_then(Json::as_str).is_some_and(|s| {
            s.len() == len
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                && s.bytes().any(|b| b != b'0')
        })
    };
    for (i, item) in items.iter().enumerate() {
        let Some(fields) = item.as_object() else {
            problem(format!("item {i} is not an object"));
            continue;
        };
        for key in fields.keys() {
            if ![
                "timestamp",
                "trace_id",
                "span_id",
                "level",
                "severity_number",
                "body",
                "attributes",
            ]
            .contains(&key.as_str())
            {
                problem(format!("item {i}: unexpected field {key:?}"));
            }
        }
        if !fields
            .get("timestamp")
            .and_then(Json::as_f64)
            .is_some_and(|t| t > 0.0)
        {
            problem(format!(
                "item {i}: bad timestamp {:?}",
                fields.get("timestamp")
            ));
        }
        if !hex(fields.get("trace_id"), 32) {
            problem(format!(
                "item {i}: bad trace_id {:?}",
                fields.get("trace_id")
            ));
        }
        if fields.contains_key("span_id") && !hex(fields.get("span_id"), 16) {
            problem(format!("item {i}: bad span_id {:?}", fields.get("span_id")));
        }
        let level = fields.get("level").and_then(Json::as_str);
        let expected_severity = match level {
            Some("trace") => Some(1),
            Some("debug") => Some(5),
            Some("info") => Some(9),
            Some("warn") => Some(13),
            Some("error") => Some(17),
            Some("fatal") => Some(21),
            _ => None,
        };
        match expected_severity {
            None => problem(format!("item {i}: bad level {:?}", fields.get("level"))),
            Some(n) => {
                if fields.get("severity_number").and_then(Json::as_u64) != Some(n) {
                    problem(format!(
                        "item {i}: severity_number {:?} does not match level {level:?}",
                        fields.get("severity_number")
                    ));
                }
            }
        }
        if !fields.get("body").is_some_and(Json::is_string) {
            problem(format!("item {i}: body is not a string"));
        }
        let attributes = match fields.get("attributes") {
            None => continue,
            Some(Json::Object(attributes)) => attributes,
            Some(other) => {
                problem(format!("item {i}: attributes is not an object: {other}"));
                continue;
            }
        };
        for (key, attribute) in attributes {
            let ok = attribute.as_object().is_some_and(|a| {
                a.len() == 2
                    && match (a.get("type").and_then(Json::as_str), a.get("value")) {
                        (Some("string"), Some(v)) => v.is_string(),
                        (Some("boolean"), Some(v)) => v.is_boolean(),
                        (Some("integer"), Some(v)) => v.is_i64(),
                        (Some("double"), Some(v)) => v.as_f64().is_some_and(f64::is_finite),
                        _ => false,
                    }
            });
            if !ok {
                problem(format!(
                    "item {i}: attribute {key:?} is malformed: {attribute}"
                ));
            }
        }
    }
    problems
}
