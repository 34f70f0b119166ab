//! Readable renderings of what arrived at the [test server](crate::server): one block per
//! envelope with its headers and, per item, what a person wants to see at a glance.
//!
//! `cargo xtask demo` and `cargo xtask receive` print with these functions.

use std::fmt::Write as _;

use sentry_core::__private::format_rfc3339;
use sentry_core::envelope::{Envelope, EnvelopeItem, ItemType, RawItem};
use sentry_core::protocol::{CheckIn, ClientReport, Event, Feedback, LogValue, Map};

use crate::server::Request;

/// How many of the most recent breadcrumbs of an event are listed.
pub const BREADCRUMBS_SHOWN: usize = 5;
/// How many bytes of the payload of an item without a dedicated rendering are shown.
pub const PAYLOAD_PREVIEW: usize = 200;
/// How many spans of a transaction are listed.
pub const SPANS_SHOWN: usize = 50;
/// The keys of the envelope `trace` header (the dynamic sampling context) that are shown, in
/// this order.
pub const DSC_KEYS_SHOWN: [&str; 5] = [
    "trace_id",
    "sampled",
    "sample_rate",
    "sample_rand",
    "transaction",
];

/// A request: method, path, encoding and sizes, the auth header, then the envelope (or why it
/// could not be read). Ends with a newline.
pub fn format_request(request: &Request) -> String {
    let mut out = String::new();
    let encoding = request.header("Content-Encoding").unwrap_or("identity");
    let _ = write!(
        out,
        "{} {}  ({} bytes",
        request.method,
        request.path,
        request.raw_body.len()
    );
    if request.raw_body.len() != request.body.len() || encoding != "identity" {
        let _ = write!(out, " {encoding}, {} decoded", request.body.len());
    }
    let _ = writeln!(out, ", connection #{})", request.connection);
    if let Some(auth) = request.header("X-Sentry-Auth") {
        let _ = writeln!(out, "  auth: {auth}");
    }
    if let Some(error) = &request.decode_error {
        let _ = writeln!(out, "  body not decoded: {error}");
    }
    match &request.envelope {
        Ok(envelope) => out.push_str(&format_envelope(envelope)),
        Err(error) => {
            let _ = writeln!(out, "  NOT AN ENVELOPE: {error}");
            let _ = writeln!(out, "  body: {}", preview(&request.body, PAYLOAD_PREVIEW));
        }
    }
    out
}

/// An envelope: one header line (event id, sent_at, SDK), then one block per item. Ends with a
/// newline.
pub fn format_envelope(envelope: &Envelope) -> String {
    let mut out = String::new();
    let headers = envelope.headers();
    let _ = write!(out, "envelope");
    match &headers.event_id {
        Some(id) => {
            let _ = write!(out, "  event_id={id}");
        }
        None => out.push_str("  (no event_id)"),
    }
    match headers.sent_at {
        Some(sent_at) => {
            let _ = write!(out, "  sent_at={}", format_rfc3339(sent_at));
        }
        None => out.push_str("  (no sent_at)"),
    }
    if let Some(sdk) = &headers.sdk {
        let _ = write!(out, "  sdk={} {}", sdk.name, sdk.version);
    }
    if headers.trace.is_some() {
        out.push_str("  +trace");
    }
    let _ = writeln!(out, "  ({} item{})", envelope.len(), plural(envelope.len()));
    for (index, item) in envelope.items().enumerate() {
        let _ = writeln!(out, "  [{}] {}", index + 1, item.ty());
        match item {
            EnvelopeItem::Event(event) => format_event(&mut out, event),
            EnvelopeItem::ClientReport(report) => format_client_report(&mut out, report),
            EnvelopeItem::Attachment(attachment) => format_attachment(
                &mut out,
                Some(&attachment.filename),
                Some(attachment.attachment_type.as_str()),
                Some(attachment.content_type()),
                attachment.bytes(),
            ),
            EnvelopeItem::Raw(raw) if raw.ty == ItemType::Attachment => {
                let header = |key: &str| raw.headers.get(key).and_then(|v| v.as_str());
                format_attachment(
                    &mut out,
                    header("filename"),
                    header("attachment_type"),
                    header("content_type"),
                    Some(&raw.payload),
                );
            }
            EnvelopeItem::Raw(raw) if raw.ty == ItemType::ProfileChunk => {
                crate::display_profile::format_profile_chunk(&mut out, raw);
            }
            EnvelopeItem::Raw(raw) => format_raw(&mut out, raw),
            EnvelopeItem::CheckIn(check_in) => format_check_in(&mut out, check_in),
            EnvelopeItem::Logs(logs) => format_logs(&mut out, logs),
            EnvelopeItem::Feedback(event) => format_feedback(&mut out, event),
            EnvelopeItem::Transaction(tx) => match serde_json::to_vec(tx) {
                Ok(payload) => format_raw(&mut out, &RawItem::new(item.ty(), payload)),
                Err(err) => field(&mut out, "payload", format!("(unserializable: {err})")),
            },
            EnvelopeItem::Metrics(metrics) => {
                match serde_json::to_vec(&serde_json::json!({ "items": metrics })) {
                    Ok(payload) => format_raw(&mut out, &RawItem::new(item.ty(), payload)),
                    Err(err) => field(&mut out, "payload", format!("(unserializable: {err})")),
                }
            }
            EnvelopeItem::Session(update) => {
                format_typed(&mut out, "session", serde_json::to_value(update));
            }
            EnvelopeItem::SessionAggregates(aggregates) => {
                format_typed(&mut out, "sessions", serde_json::to_value(aggregates));
            }
            // Item kinds added later render like raw items would: by type only.
            _ => {}
        }
        let traced = match item {
            EnvelopeItem::Event(_)
            | EnvelopeItem::Transaction(_)
            | EnvelopeItem::CheckIn(_)
            | EnvelopeItem::Feedback(_) => true,
            EnvelopeItem::Raw(raw) => matches!(raw.ty.as_str(), "transaction" | "span"),
            _ => false,
        };
        if let (true, Some(trace)) = (traced, &headers.trace) {
            field(&mut out, "trace", format_dsc(trace));
        }
    }
    out
}

/// Structured logs: one line each, `[level] body` and the attributes the SDK did not add.
fn format_logs(out: &mut String, logs: &[sentry_core::protocol::Log]) {
    field(out, "logs", format!("{}", logs.len()));
    for log in logs.iter().take(20) {
        let own: Vec<String> = log
            .attributes
            .iter()
            .filter(|(key, _)| !key.starts_with("sentry.") && !key.starts_with("server."))
            .map(|(key, value)| match value {
                LogValue::String(text) => format!("{key}={}", one_line(text, 40)),
                LogValue::Bool(b) => format!("{key}={b}"),
                LogValue::I64(n) => format!("{key}={n}"),
                LogValue::F64(x) => format!("{key}={x}"),
                other => format!("{key}={other:?}"),
            })
            .collect();
        let mut line = format!("[{}] {}", log.level, one_line(&log.body, 100));
        if !own.is_empty() {
            line.push_str("  ");
            line.push_str(&own.join(", "));
        }
        let _ = writeln!(out, "                   {line}");
    }
    if logs.len() > 20 {
        let _ = writeln!(out, "                   … {} more", logs.len() - 20);
    }
}

/// The envelope `trace` header on one line: `trace_id=… sampled=… sample_rate=… sample_rand=…
/// transaction=…`, each key only when present.
fn format_dsc(trace: &Map) -> String {
    let parts: Vec<String> = DSC_KEYS_SHOWN
        .iter()
        .filter_map(|key| {
            let value = trace.get(*key)?;
            let value = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            Some(format!("{key}={}", one_line(&value, 120)))
        })
        .collect();
    if parts.is_empty() {
        "(no trace_id, sampled, sample_rate, sample_rand or transaction)".to_owned()
    } else {
        parts.join(" ")
    }
}

/// A one-line count of what arrived, e.g.
/// `3 requests: 2 envelopes (event ×2, span ×1, client_report ×1), 12 spans, 1 not an
/// envelope` (the spans of span items).
pub fn summary(requests: &[Request]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut envelopes = 0;
    let mut spans = 0;
    for envelope in requests.iter().filter_map(Request::parsed_envelope) {
        envelopes += 1;
        for item in envelope.items() {
            let ty = item.ty().as_str().to_owned();
            if let EnvelopeItem::Raw(raw) = item {
                if ty == "span" {
                    spans += span_count(&raw.payload);
                }
            }
            match counts.iter_mut().find(|(name, _)| *name == ty) {
                Some((_, n)) => *n += 1,
                None => counts.push((ty, 1)),
            }
        }
    }
    let bad = requests.len() - envelopes;
    let mut out = format!(
        "{} request{}: {envelopes} envelope{}",
        requests.len(),
        plural(requests.len()),
        plural(envelopes)
    );
    if !counts.is_empty() {
        let list: Vec<String> = counts.iter().map(|(ty, n)| format!("{ty} ×{n}")).collect();
        let _ = write!(out, " ({})", list.join(", "));
    }
    if spans > 0 {
        let _ = write!(out, ", {spans} span{}", plural(spans));
    }
    if bad > 0 {
        let _ = write!(out, ", {bad} not an envelope");
    }
    out
}

/// How many spans a span item's payload (`{"items":[…]}`) holds; 0 if it is not one.
fn span_count(payload: &[u8]) -> usize {
    serde_json::from_slice::<serde_json::Value>(payload)
        .ok()
        .and_then(|json| json.get("items")?.as_array().map(Vec::len))
        .unwrap_or(0)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Writes one `label: value` line, indented under an item.
fn field(out: &mut String, label: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "      {label:<12} {value}");
}

/// Writes a continuation line aligned with field values.
fn continuation(out: &mut String, value: impl std::fmt::Display) {
    let _ = writeln!(out, "      {:<12} {value}", "");
}

fn format_event(out: &mut String, event: &Event) {
    field(out, "event_id", event.event_id);
    field(out, "level", event.level.as_str());
    if let Some(message) = &event.message {
        field(out, "message", one_line(message, 200));
    }
    // Stored root cause first; shown outermost first, the way a person reads an error.
    for (depth, exception) in event.exception.iter().rev().enumerate() {
        let mut text = exception.ty.clone();
        if let Some(value) = &exception.value {
            let _ = write!(text, ": {}", one_line(value, 200));
        }
        if let Some(mechanism) = &exception.mechanism {
            let handled = match mechanism.handled {
                Some(true) => ", handled",
                Some(false) => ", unhandled",
                None => "",
            };
            let _ = write!(text, "  [{}{handled}]", mechanism.ty);
        }
        if let Some(frames) = exception.stacktrace.as_ref().map(|s| s.frames.len()) {
            let _ = write!(text, "  ({frames} frames)");
        }
        if depth == 0 {
            field(out, "exception", text);
        } else {
            continuation(out, format!("caused by: {text}"));
        }
    }
    if let Some(transaction) = &event.transaction {
        field(out, "transaction", transaction);
    }
    if !event.tags.is_empty() {
        let tags: Vec<String> = event.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        field(out, "tags", one_line(&tags.join(", "), 300));
    }
    if !event.extra.is_empty() {
        let keys: Vec<&str> = event.extra.keys().map(String::as_str).collect();
        field(out, "extra", keys.join(", "));
    }
    if !event.breadcrumbs.is_empty() {
        let total = event.breadcrumbs.len();
        let shown = total.min(BREADCRUMBS_SHOWN);
        let label = if shown < total {
            format!("{total} (last {shown})")
        } else {
            total.to_string()
        };
        field(out, "breadcrumbs", label);
        for crumb in &event.breadcrumbs[total - shown..] {
            let time = format_rfc3339(crumb.timestamp);
            let time = time.get(11..23).unwrap_or(&time).to_owned();
            let mut text = format!("{time} [{}]", crumb.level.as_str());
            if let Some(category) = &crumb.category {
                let _ = write!(text, " {category}");
            }
            if crumb.ty != "default" {
                let _ = write!(text, " ({})", crumb.ty);
            }
            if let Some(message) = &crumb.message {
                let _ = write!(text, ": {}", one_line(message, 120));
            } else if !crumb.data.is_empty() {
                // A breadcrumb without a message (an `http` one: method, url, status_code)
                // shows its data, which is all it says.
                let data: Vec<String> = crumb
                    .data
                    .iter()
                    .map(|(key, value)| match value {
                        sentry_core::protocol::Value::String(text) => {
                            format!("{key}={}", one_line(text, 60))
                        }
                        other => format!("{key}={}", one_line(&other.to_string(), 60)),
                    })
                    .collect();
                let _ = write!(text, ": {}", data.join(" "));
            }
            continuation(out, text);
        }
    }
    if !event.contexts.is_empty() {
        let keys: Vec<&str> = event.contexts.keys().map(|k| &**k).collect();
        field(out, "contexts", keys.join(", "));
    }
    if let Some(user) = &event.user {
        let parts: Vec<String> = [
            ("id", &user.id),
            ("username", &user.username),
            ("email", &user.email),
            ("ip", &user.ip_address),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}={v}")))
        .collect();
        field(out, "user", parts.join(", "));
    }
    if let Some(request) = &event.request {
        let method = request.method.as_deref().unwrap_or("?");
        field(
            out,
            "request",
            format!("{method} {}", request.url.as_deref().unwrap_or("?")),
        );
    }
    if event.release.is_some() || event.environment.is_some() {
        field(
            out,
            "release",
            format!(
                "{}  environment: {}",
                event.release.as_deref().unwrap_or("-"),
                event.environment.as_deref().unwrap_or("-")
            ),
        );
    }
    if !event.fingerprint.is_empty() {
        field(out, "fingerprint", event.fingerprint.join(", "));
    }
}

/// A cron check-in: slug, status, duration and id on one line; the schedule and the rest of
/// the monitor configuration on the next.
fn format_check_in(out: &mut String, check_in: &CheckIn) {
    let mut line = format!("{}  {}", check_in.monitor_slug, check_in.status);
    if let Some(duration) = check_in.duration {
        let _ = write!(line, "  {duration:.3} s");
    }
    let _ = write!(line, "  id={}", check_in.check_in_id);
    field(out, "check-in", line);
    if let Some(config) = &check_in.monitor_config {
        let mut line = config.schedule.to_string();
        for (key, value) in [
            ("margin", config.checkin_margin.map(|m| format!("{m} min"))),
            (
                "max_runtime",
                config.max_runtime.map(|m| format!("{m} min")),
            ),
            ("timezone", config.timezone.as_deref().map(str::to_owned)),
            (
                "failures",
                config.failure_issue_threshold.map(|n| n.to_string()),
            ),
            ("recovery", config.recovery_threshold.map(|n| n.to_string())),
            ("owner", config.owner.as_deref().map(str::to_owned)),
        ] {
            if let Some(value) = value {
                let _ = write!(line, "  {key}={value}");
            }
        }
        field(out, "schedule", line);
    }
    let env = [
        ("environment", check_in.environment.as_deref()),
        ("release", check_in.release.as_deref()),
    ];
    let env: Vec<String> = env
        .iter()
        .filter_map(|(key, value)| value.map(|v| format!("{key}={v}")))
        .collect();
    if !env.is_empty() {
        field(out, "env", env.join("  "));
    }
}

/// User feedback: the message, who wrote it, and the event it is about.
fn format_feedback(out: &mut String, event: &Event) {
    let Some(feedback) = Feedback::from_event(event) else {
        field(out, "feedback", "(no feedback context)");
        return;
    };
    field(out, "feedback", one_line(&feedback.message, 200));
    let from: Vec<&str> = [feedback.name.as_deref(), feedback.contact_email.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !from.is_empty() {
        field(out, "from", from.join("  "));
    }
    if let Some(id) = feedback.associated_event_id {
        field(out, "about event", id);
    }
    if let Some(url) = &feedback.url {
        field(out, "url", one_line(url, 200));
    }
    field(out, "event_id", event.event_id);
}

fn format_client_report(out: &mut String, report: &ClientReport) {
    if report.discarded_events.is_empty() {
        field(out, "discarded", "nothing");
    }
    for discarded in &report.discarded_events {
        field(
            out,
            "discarded",
            format!(
                "{} × {} ({})",
                discarded.quantity,
                discarded.category.as_str(),
                discarded.reason.as_str()
            ),
        );
    }
}

/// An attachment: its file name, type and content type, its size, and its first bytes when
/// they are text. Missing headers show as `?` (Sentry takes `event.attachment` and
/// `application/octet-stream` for the last two).
fn format_attachment(
    out: &mut String,
    filename: Option<&str>,
    attachment_type: Option<&str>,
    content_type: Option<&str>,
    bytes: Option<&[u8]>,
) {
    field(out, "file", filename.unwrap_or("?"));
    field(
        out,
        "type",
        format!(
            "{}, {}",
            attachment_type.unwrap_or("?"),
            content_type.unwrap_or("?")
        ),
    );
    match bytes {
        Some(bytes) => {
            field(out, "size", format!("{} bytes", bytes.len()));
            if !bytes.is_empty() {
                field(out, "content", preview(bytes, PAYLOAD_PREVIEW));
            }
        }
        None => field(out, "size", "(file not read yet)"),
    }
}

/// A typed item the SDK models, summarized from its JSON as the raw item would be.
fn format_typed(out: &mut String, ty: &str, json: serde_json::Result<serde_json::Value>) {
    match json {
        Ok(json) => {
            if !summarize_json_item(out, ty, &json) {
                field(out, "payload", one_line(&json.to_string(), 200));
            }
        }
        Err(err) => field(out, "payload", format!("(unserializable: {err})")),
    }
}

fn format_raw(out: &mut String, raw: &RawItem) {
    let mut size = format!("{} bytes", raw.payload.len());
    for key in ["item_count", "content_type", "filename", "attachment_type"] {
        if let Some(value) = raw.headers.get(key) {
            let value = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            let _ = write!(size, ", {key}={value}");
        }
    }
    field(out, "size", size);
    let summarized = match serde_json::from_slice::<serde_json::Value>(&raw.payload) {
        Ok(json) => summarize_json_item(out, raw.ty.as_str(), &json),
        Err(_) => false,
    };
    if !summarized {
        field(out, "payload", preview(&raw.payload, PAYLOAD_PREVIEW));
    }
}

/// A short string of `json[key]`, if present.
fn text_of(json: &serde_json::Value, key: &str) -> Option<String> {
    let value = json.get(key)?;
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(one_line(s, 120)),
        other => Some(one_line(&other.to_string(), 120)),
    }
}

/// `key=value` for each key present in `json`, separated by two spaces.
fn pairs(json: &serde_json::Value, keys: &[&str]) -> String {
    keys.iter()
        .filter_map(|key| text_of(json, key).map(|v| format!("{key}={v}")))
        .collect::<Vec<_>>()
        .join("  ")
}

/// A `trace_metric` record: name, type, value and unit, then the attributes other than the
/// SDK's own (`sentry.*`) as `key=value`.
fn metric_line(item: &serde_json::Value) -> String {
    let mut line = pairs(item, &["name", "type", "value", "unit"]);
    if let Some(attributes) = item
        .get("attributes")
        .and_then(serde_json::Value::as_object)
    {
        for (key, attribute) in attributes {
            if key.starts_with("sentry.") {
                continue;
            }
            if let Some(value) = text_of(attribute, "value") {
                line.push_str(&format!("  {key}={value}"));
            }
        }
    }
    line
}

/// Writes a readable summary of the JSON payload of the item types the SDK sends besides events
/// and client reports. Returns `false` for types it has no summary for.
fn summarize_json_item(out: &mut String, ty: &str, json: &serde_json::Value) -> bool {
    match ty {
        "transaction" => {
            format_transaction(out, json);
            true
        }
        "span" if json.get("items").is_some_and(serde_json::Value::is_array) => {
            format_span_items(out, json);
            true
        }
        "log" | "trace_metric" => {
            let items = json.get("items").and_then(serde_json::Value::as_array);
            let items = items.map(Vec::as_slice).unwrap_or_default();
            field(out, "records", items.len());
            for item in items.iter().take(BREADCRUMBS_SHOWN * 2) {
                let line = match ty {
                    "log" => format!(
                        "[{}] {}",
                        text_of(item, "level").unwrap_or_else(|| "?".to_owned()),
                        text_of(item, "body").unwrap_or_default()
                    ),
                    _ => metric_line(item),
                };
                continuation(out, line);
            }
            if items.len() > BREADCRUMBS_SHOWN * 2 {
                continuation(
                    out,
                    format!("… {} more", items.len() - BREADCRUMBS_SHOWN * 2),
                );
            }
            true
        }
        "session" => {
            field(
                out,
                "session",
                pairs(
                    json,
                    &["sid", "status", "errors", "seq", "init", "duration", "did"],
                ),
            );
            let attrs = json.get("attrs").unwrap_or(&serde_json::Value::Null);
            field(
                out,
                "attrs",
                pairs(
                    attrs,
                    &["release", "environment", "ip_address", "user_agent"],
                ),
            );
            true
        }
        "sessions" => {
            let aggregates = json.get("aggregates").and_then(serde_json::Value::as_array);
            let aggregates = aggregates.map(Vec::as_slice).unwrap_or_default();
            field(out, "aggregates", aggregates.len());
            for bucket in aggregates.iter().take(BREADCRUMBS_SHOWN) {
                continuation(
                    out,
                    pairs(
                        bucket,
                        &["started", "did", "exited", "errored", "abnormal", "crashed"],
                    ),
                );
            }
            let attrs = json.get("attrs").unwrap_or(&serde_json::Value::Null);
            field(out, "attrs", pairs(attrs, &["release", "environment"]));
            true
        }
        "check_in" => {
            field(
                out,
                "check-in",
                pairs(json, &["monitor_slug", "status", "duration", "environment"]),
            );
            if let Some(config) = json.get("monitor_config") {
                field(out, "config", one_line(&config.to_string(), 200));
            }
            true
        }
        _ => false,
    }
}

/// A transaction: one line with its name, op, source, status, duration and ids; its spans, with
/// their ids, as a tree (a span whose parent is not in the transaction hangs under the root);
/// its measurements.
fn format_transaction(out: &mut String, json: &serde_json::Value) {
    let null = serde_json::Value::Null;
    let trace = json.pointer("/contexts/trace").unwrap_or(&null);
    let mut line = text_of(json, "transaction").unwrap_or_else(|| "?".to_owned());
    let info = json.get("transaction_info").unwrap_or(&null);
    for (key, value) in [
        ("op", text_of(trace, "op")),
        ("source", text_of(info, "source")),
        ("status", text_of(trace, "status")),
    ] {
        if let Some(value) = value {
            let _ = write!(line, "  {key}={value}");
        }
    }
    let _ = write!(line, "  {}", duration_ms(json));
    let ids = pairs(trace, &["trace_id", "span_id", "parent_span_id"]);
    if !ids.is_empty() {
        let _ = write!(line, "  {ids}");
    }
    field(out, "transaction", line);

    let spans = json.get("spans").and_then(serde_json::Value::as_array);
    let spans = spans.map(Vec::as_slice).unwrap_or_default();
    field(out, "spans", spans.len());
    let tree = transaction_span_tree(spans);
    for &(depth, index) in tree.iter().take(SPANS_SHOWN) {
        let span = &spans[index];
        let mut text = format!(
            "{}- {}",
            "  ".repeat(depth),
            text_of(span, "op").unwrap_or_else(|| "?".to_owned())
        );
        if let Some(description) = text_of(span, "description") {
            let _ = write!(text, "  {description}");
        }
        let _ = write!(text, "  {}", duration_ms(span));
        if let Some(status) = text_of(span, "status") {
            let _ = write!(text, "  {status}");
        }
        if let Some(data) = span.get("data").and_then(serde_json::Value::as_object) {
            if !data.is_empty() {
                let keys: Vec<&str> = data.keys().map(String::as_str).collect();
                let _ = write!(text, "  data: {}", one_line(&keys.join(", "), 120));
            }
        }
        // The id, so that a downstream service's `parent_span_id` can be matched to its span.
        if let Some(id) = text_of(span, "span_id") {
            let _ = write!(text, "  span_id={id}");
        }
        continuation(out, text);
    }
    if tree.len() > SPANS_SHOWN {
        continuation(out, format!("… {} more", tree.len() - SPANS_SHOWN));
    }

    if let Some(measurements) = json
        .get("measurements")
        .and_then(serde_json::Value::as_object)
    {
        let parts: Vec<String> = measurements
            .iter()
            .map(|(name, m)| {
                let value = text_of(m, "value").unwrap_or_else(|| "?".to_owned());
                match text_of(m, "unit") {
                    Some(unit) => format!("{name}={value} {unit}"),
                    None => format!("{name}={value}"),
                }
            })
            .collect();
        if !parts.is_empty() {
            field(out, "measurements", one_line(&parts.join(", "), 300));
        }
    }
}

/// `end - start` of a span or transaction in milliseconds (`{:.1} ms`), or `? ms`.
fn duration_ms(json: &serde_json::Value) -> String {
    duration_between(json, "start_timestamp", "timestamp")
}

/// `json[end] - json[start]` in milliseconds (`{:.1} ms`), or `? ms`.
fn duration_between(json: &serde_json::Value, start: &str, end: &str) -> String {
    let time = |key| json.get(key).and_then(serde_json::Value::as_f64);
    match (time(start), time(end)) {
        (Some(start), Some(end)) => format!("{:.1} ms", (end - start) * 1000.0),
        _ => "? ms".to_owned(),
    }
}

/// The start of a span (`start_timestamp`), for ordering; spans without one go last.
fn start_of(span: &serde_json::Value) -> f64 {
    span.get("start_timestamp")
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(f64::INFINITY)
}

/// The index of the span other than `i` whose `span_id` is `id`.
fn index_of(spans: &[serde_json::Value], i: usize, id: &str) -> Option<usize> {
    (0..spans.len()).find(|&j| j != i && text_of(&spans[j], "span_id").as_deref() == Some(id))
}

/// A transaction's spans in display order, each as (depth, index into `spans`): a span whose
/// `parent_span_id` names neither the root nor another span (or that has none) is a child of
/// the root (depth 0).
fn transaction_span_tree(spans: &[serde_json::Value]) -> Vec<(usize, usize)> {
    let parents: Vec<Option<usize>> = (0..spans.len())
        .map(|i| {
            let parent = text_of(&spans[i], "parent_span_id")?;
            index_of(spans, i, &parent)
        })
        .collect();
    let starts: Vec<f64> = spans.iter().map(start_of).collect();
    tree_order(&parents, &starts)
}

/// The one tree builder of the spans shown (a transaction's spans, a span item's): given each
/// span's parent (an index, or `None` for a top-level span) and its start, the spans in display
/// order as (depth, index): depth first, top-level spans and each span's children in start
/// order. Spans only reachable through a cycle of parents are listed last, at the top level,
/// so every span appears exactly once.
fn tree_order(parents: &[Option<usize>], starts: &[f64]) -> Vec<(usize, usize)> {
    let children = |parent: Option<usize>| {
        let mut list: Vec<usize> = (0..parents.len())
            .filter(|&i| parents[i] == parent)
            .collect();
        list.sort_by(|&a, &b| starts[a].total_cmp(&starts[b]));
        list
    };

    let mut order = Vec::with_capacity(parents.len());
    let mut seen = vec![false; parents.len()];
    let mut stack: Vec<(usize, usize)> = children(None).into_iter().rev().map(|i| (0, i)).collect();
    loop {
        while let Some((depth, index)) = stack.pop() {
            if std::mem::replace(&mut seen[index], true) {
                continue;
            }
            order.push((depth, index));
            stack.extend(
                children(Some(index))
                    .into_iter()
                    .rev()
                    .map(|i| (depth + 1, i)),
            );
        }
        // What a cycle of parents kept out of reach: start again from the first such span.
        match seen.iter().position(|s| !s) {
            Some(index) => stack.push((0, index)),
            None => break,
        }
    }
    order
}

/// The attributes shown on a segment span's line, when present.
pub const SEGMENT_ATTRIBUTES_SHOWN: [&str; 5] = [
    "sentry.segment.name",
    "sentry.segment.name.source",
    "sentry.environment",
    "sentry.release",
    "http.response.status_code",
];
/// The attributes shown on any other span's line, when present.
pub const SPAN_ATTRIBUTES_SHOWN: [&str; 2] = ["http.response.status_code", "db.system"];

/// The value of a span v2 attribute (`attributes[key].value`), shortened.
fn attribute(span: &serde_json::Value, key: &str) -> Option<String> {
    text_of(span.get("attributes")?.get(key)?, "value")
}

/// A span v2 item's spans (span streaming), one tree per trace: segment spans at the top with
/// their key attributes, each span under its parent. A span whose parent is not in the item
/// hangs under its segment (`sentry.segment.id`) when that is in the item, else at the top, and
/// is marked `(parent elsewhere)`.
fn format_span_items(out: &mut String, json: &serde_json::Value) {
    let items = json.get("items").and_then(serde_json::Value::as_array);
    let spans = items.map(Vec::as_slice).unwrap_or_default();
    let mut traces: Vec<Option<String>> = Vec::new();
    for span in spans {
        let trace = text_of(span, "trace_id");
        if !traces.contains(&trace) {
            traces.push(trace);
        }
    }
    field(
        out,
        "spans",
        format!(
            "{} in {} trace{}",
            spans.len(),
            traces.len(),
            plural(traces.len())
        ),
    );
    let mut shown = 0;
    for trace in &traces {
        // The spans of this trace, as indices into `spans`.
        let members: Vec<usize> = (0..spans.len())
            .filter(|&i| &text_of(&spans[i], "trace_id") == trace)
            .collect();
        let group: Vec<serde_json::Value> = members.iter().map(|&i| spans[i].clone()).collect();
        let is_segment =
            |i: usize| group[i].get("is_segment") == Some(&serde_json::Value::Bool(true));
        let mut elsewhere = vec![false; group.len()];
        let parents: Vec<Option<usize>> = (0..group.len())
            .map(|i| {
                let parent = text_of(&group[i], "parent_span_id");
                if let Some(j) = parent.as_deref().and_then(|p| index_of(&group, i, p)) {
                    return Some(j);
                }
                elsewhere[i] = parent.is_some();
                if is_segment(i) {
                    return None;
                }
                let segment = attribute(&group[i], "sentry.segment.id")?;
                index_of(&group, i, &segment).filter(|&j| is_segment(j))
            })
            .collect();
        let starts: Vec<f64> = group.iter().map(start_of).collect();
        continuation(
            out,
            format!(
                "trace {}  ({} span{})",
                trace.as_deref().unwrap_or("?"),
                group.len(),
                plural(group.len())
            ),
        );
        for (depth, index) in tree_order(&parents, &starts) {
            if shown == SPANS_SHOWN {
                break;
            }
            shown += 1;
            let span = &group[index];
            let mut text = format!(
                "{}- {}",
                "  ".repeat(depth),
                text_of(span, "name").unwrap_or_else(|| "?".to_owned())
            );
            if let Some(op) = attribute(span, "sentry.op") {
                let _ = write!(text, "  op={op}");
            }
            if let Some(status) = text_of(span, "status") {
                let _ = write!(text, "  {status}");
            }
            let _ = write!(
                text,
                "  {}",
                duration_between(span, "start_timestamp", "end_timestamp")
            );
            if let Some(id) = text_of(span, "span_id") {
                let _ = write!(text, "  span_id={id}");
            }
            let keys: &[&str] = if is_segment(index) {
                text.push_str("  segment");
                &SEGMENT_ATTRIBUTES_SHOWN
            } else {
                &SPAN_ATTRIBUTES_SHOWN
            };
            for key in keys {
                if let Some(value) = attribute(span, key) {
                    let _ = write!(text, "  {key}={value}");
                }
            }
            if elsewhere[index] {
                text.push_str("  (parent elsewhere)");
            }
            continuation(out, text);
        }
    }
    if spans.len() > shown {
        continuation(out, format!("… {} more", spans.len() - shown));
    }
}

/// The first `max` bytes of `bytes` as text (`…` when cut), or a note if they are binary.
fn preview(bytes: &[u8], max: usize) -> String {
    let cut = bytes.len().min(max);
    let head = &bytes[..cut];
    // Cutting may split a UTF-8 sequence: only the invalid tail is tolerated.
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return format!("<{} bytes of binary data>", bytes.len()),
    };
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return format!("<{} bytes of binary data>", bytes.len());
    }
    let text = text.replace(['\n', '\r'], " ");
    if cut < bytes.len() {
        format!("{text}…")
    } else {
        text
    }
}

/// `text` on one line, cut after `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .take(max + 1)
        .collect();
    if flat.chars().count() > max {
        let cut: String = flat.chars().take(max).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_cut_and_flag_binary() {
        assert_eq!(preview(b"{\"a\":1}", 200), "{\"a\":1}");
        assert_eq!(preview(b"abcdef", 3), "abc…");
        assert_eq!(preview(&[0, 1, 2, 255], 200), "<4 bytes of binary data>");
        assert_eq!(preview("héllo".as_bytes(), 2), "h…");
    }

    #[test]
    fn renders_a_breadcrumb_without_a_message_by_its_data() {
        let bytes = concat!(
            "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n",
            "{\"type\":\"event\"}\n",
            "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"message\":\"hi\",",
            "\"breadcrumbs\":{\"values\":[{\"timestamp\":1704067200.0,\"type\":\"http\",",
            "\"category\":\"http\",\"data\":{\"method\":\"GET\",\"status_code\":200,",
            "\"url\":\"http://stock.internal/reserve\"}}]}}\n",
        );
        let envelope = Envelope::from_bytes(bytes.as_bytes()).expect("envelope");
        let text = format_envelope(&envelope);
        assert!(
            text.contains(
                "[info] http (http): method=GET status_code=200 url=http://stock.internal/reserve"
            ),
            "{text}"
        );
    }

    #[test]
    fn renders_items() {
        let bytes = concat!(
            "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"sent_at\":\"2024-01-01T00:00:00Z\"}\n",
            "{\"type\":\"event\"}\n",
            "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"level\":\"warning\",\"message\":\"hi\",",
            "\"exception\":{\"values\":[{\"type\":\"Inner\",\"value\":\"root\"},{\"type\":\"Outer\",\"value\":\"top\"}]},",
            "\"tags\":{\"k\":\"v\"},\"release\":\"r@1\"}\n",
            "{\"type\":\"client_report\"}\n",
            "{\"discarded_events\":[{\"reason\":\"sample_rate\",\"category\":\"error\",\"quantity\":2}]}\n",
            "{\"type\":\"session\"}\n",
            "{\"sid\":\"a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8\",\"status\":\"exited\",\"errors\":2,",
            "\"started\":\"2024-01-01T00:00:00Z\",\"duration\":1.5,\"attrs\":{\"release\":\"r@1\"}}\n",
            "{\"type\":\"sessions\"}\n",
            "{\"aggregates\":[{\"started\":\"2024-01-01T00:01:00Z\",\"exited\":3,\"crashed\":1}],",
            "\"attrs\":{\"release\":\"r@1\"}}\n",
            "{\"type\":\"statsd\"}\n",
            "{\"raw\":true}\n",
            "{\"type\":\"attachment\",\"length\":14,\"filename\":\"app.log\",",
            "\"attachment_type\":\"event.attachment\",\"content_type\":\"text/plain\"}\n",
            "line 1\nline 2\n\n",
            "{\"type\":\"attachment\",\"filename\":\"crash.dmp\",\"length\":4}\n",
            "MD\u{0}\u{1}\n",
        );
        let envelope = Envelope::from_bytes(bytes.as_bytes()).expect("envelope");
        let text = format_envelope(&envelope);
        for expected in [
            "event_id=9ec79c33ec9942ab8353589fcb2e04dc",
            "sent_at=2024-01-01T00:00:00",
            "[1] event",
            "warning",
            "hi",
            "Outer: top",
            "caused by: Inner: root",
            "k=v",
            "r@1",
            "[2] client_report",
            "2 × error (sample_rate)",
            "[3] session",
            "sid=a8b0c2d4-e6f8-a0b2-c4d6-e8f0a2b4c6d8  status=exited  errors=2  seq=0  duration=1.5",
            "release=r@1",
            "[4] sessions",
            "started=2024-01-01T00:01:00.000000Z  exited=3  crashed=1",
            "[5] statsd",
            "{\"raw\":true}",
            "[6] attachment",
            "app.log",
            "event.attachment, text/plain",
            "14 bytes",
            "line 1 line 2",
            "[7] attachment",
            "crash.dmp",
            "?, ?",
            "<4 bytes of binary data>",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        let outer = text.find("Outer").unwrap_or(usize::MAX);
        let inner = text.find("Inner").unwrap_or(0);
        assert!(outer < inner, "outermost exception first:\n{text}");
    }

    #[test]
    fn renders_typed_attachments() {
        use sentry_core::protocol::{Attachment, AttachmentType};

        let mut envelope = Envelope::new();
        envelope.add_item(Attachment::from_bytes(
            "state.json",
            br#"{"ok":true}"#.to_vec(),
        ));
        envelope.add_item(
            Attachment::from_path("/tmp/core.dmp").with_attachment_type(AttachmentType::Minidump),
        );
        let text = format_envelope(&envelope);
        for expected in [
            "[1] attachment",
            "state.json",
            "event.attachment, application/json",
            "11 bytes",
            "{\"ok\":true}",
            "[2] attachment",
            "core.dmp",
            "event.minidump, application/octet-stream",
            "(file not read yet)",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
    }

    #[test]
    fn renders_metric_records() {
        use sentry_core::protocol::{Metric, MetricType};

        let mut metric = Metric::new(MetricType::Distribution, "db.query", 12.5);
        metric.unit = Some("millisecond".into());
        metric.attributes.insert("table", "users");
        metric.attributes.insert("sentry.sdk.name", "sentry.rust");
        let envelope: Envelope =
            std::iter::once(sentry_core::envelope::EnvelopeItem::Metrics(vec![metric])).collect();
        let text = format_envelope(&envelope);
        assert!(
            text.contains(
                "name=db.query  type=distribution  value=12.5  unit=millisecond  table=users"
            ),
            "{text}"
        );
        assert!(!text.contains("sentry.sdk.name"), "{text}");
    }

    #[test]
    fn renders_transactions_as_span_trees() {
        let bytes = concat!(
            "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",",
            "\"trace\":{\"trace_id\":\"771a43a4192642f0b136d5159a501700\",\"public_key\":\"pk\",",
            "\"sample_rate\":\"0.5\",\"sample_rand\":\"0.250000\",\"sampled\":\"true\",",
            "\"transaction\":\"GET /x\"}}\n",
            "{\"type\":\"transaction\"}\n",
            "{\"type\":\"transaction\",\"transaction\":\"GET /x\",\"transaction_info\":{\"source\":\"route\"},",
            "\"start_timestamp\":1.0,\"timestamp\":1.5,",
            "\"contexts\":{\"trace\":{\"trace_id\":\"771a43a4192642f0b136d5159a501700\",",
            "\"span_id\":\"aaaaaaaaaaaaaaaa\",\"parent_span_id\":\"ffffffffffffffff\",",
            "\"op\":\"http.server\",\"status\":\"ok\"}},",
            "\"spans\":[",
            // A grandchild listed before its parent.
            "{\"trace_id\":\"771a43a4192642f0b136d5159a501700\",\"span_id\":\"cccccccccccccccc\",\"parent_span_id\":\"bbbbbbbbbbbbbbbb\",\"op\":\"db.query\",",
            "\"description\":\"SELECT 1\",\"start_timestamp\":1.15,\"timestamp\":1.2,\"status\":\"ok\",",
            "\"data\":{\"db.system\":\"sqlite\",\"rows\":1}},",
            "{\"trace_id\":\"771a43a4192642f0b136d5159a501700\",\"span_id\":\"bbbbbbbbbbbbbbbb\",\"parent_span_id\":\"aaaaaaaaaaaaaaaa\",\"op\":\"db\",",
            "\"description\":\"load user\",\"start_timestamp\":1.1,\"timestamp\":1.3,\"status\":\"ok\"},",
            // Its parent is not in the transaction: it hangs under the root.
            "{\"trace_id\":\"771a43a4192642f0b136d5159a501700\",\"span_id\":\"dddddddddddddddd\",\"parent_span_id\":\"9999999999999999\",\"op\":\"http.client\",",
            "\"start_timestamp\":1.35,\"timestamp\":1.4,\"status\":\"internal_error\"},",
            // Two spans that name each other as parent are still listed.
            "{\"trace_id\":\"771a43a4192642f0b136d5159a501700\",\"span_id\":\"1111111111111111\",\"parent_span_id\":\"2222222222222222\",\"op\":\"loop.a\",",
            "\"start_timestamp\":1.0,\"timestamp\":1.0},",
            "{\"trace_id\":\"771a43a4192642f0b136d5159a501700\",\"span_id\":\"2222222222222222\",\"parent_span_id\":\"1111111111111111\",\"op\":\"loop.b\",",
            "\"start_timestamp\":1.0,\"timestamp\":1.0}",
            "],",
            "\"measurements\":{\"ttfb\":{\"value\":12.0,\"unit\":\"millisecond\"}}}\n",
        );
        let envelope = Envelope::from_bytes(bytes.as_bytes()).expect("envelope");
        let text = format_envelope(&envelope);
        let lines: Vec<&str> = text.lines().collect();
        let expected = [
            "  [1] transaction",
            "      size         1414 bytes",
            "      transaction  GET /x  op=http.server  source=route  status=ok  500.0 ms  \
             trace_id=771a43a4192642f0b136d5159a501700  span_id=aaaaaaaaaaaaaaaa  \
             parent_span_id=ffffffffffffffff",
            "      spans        5",
            "                   - db  load user  200.0 ms  ok  span_id=bbbbbbbbbbbbbbbb",
            "                     - db.query  SELECT 1  50.0 ms  ok  data: db.system, rows  \
             span_id=cccccccccccccccc",
            "                   - http.client  50.0 ms  internal_error  span_id=dddddddddddddddd",
            "                   - loop.a  0.0 ms  span_id=1111111111111111",
            "                     - loop.b  0.0 ms  span_id=2222222222222222",
            "      measurements ttfb=12.0 millisecond",
            "      trace        trace_id=771a43a4192642f0b136d5159a501700 sampled=true \
             sample_rate=0.5 sample_rand=0.250000 transaction=GET /x",
        ];
        assert_eq!(lines[1..], expected, "\n{text}");
    }

    /// A span v2 item: a segment continuing a remote trace, a child and a grandchild (listed
    /// before its parent), a span whose parent is not in the item (under its segment), and a
    /// span of a second trace whose parent and segment are both elsewhere (at the top).
    const SPAN_ITEM: &str = concat!(
        "{\"trace\":{\"trace_id\":\"771a43a4192642f0b136d5159a501700\",\"public_key\":\"pk\",",
        "\"sampled\":\"true\"}}\n",
        "{\"type\":\"span\",\"item_count\":5,",
        "\"content_type\":\"application/vnd.sentry.items.span.v2+json\"}\n",
        "{\"version\":2,\"items\":[",
        "{\"trace_id\":\"771a43a4192642f0b136d5159a501700\",\"span_id\":\"cccccccccccccccc\",",
        "\"parent_span_id\":\"bbbbbbbbbbbbbbbb\",\"name\":\"SELECT users\",\"status\":\"ok\",",
        "\"is_segment\":false,\"start_timestamp\":1.15,\"end_timestamp\":1.2,\"attributes\":{",
        "\"sentry.op\":{\"type\":\"string\",\"value\":\"db.query\"},",
        "\"db.system\":{\"type\":\"string\",\"value\":\"sqlite\"},",
        "\"sentry.segment.id\":{\"type\":\"string\",\"value\":\"aaaaaaaaaaaaaaaa\"}}},",
        "{\"trace_id\":\"771a43a4192642f0b136d5159a501700\",\"span_id\":\"aaaaaaaaaaaaaaaa\",",
        "\"parent_span_id\":\"ffffffffffffffff\",\"name\":\"GET /users/{id}\",\"status\":\"ok\",",
        "\"is_segment\":true,\"start_timestamp\":1.0,\"end_timestamp\":1.5,\"attributes\":{",
        "\"sentry.op\":{\"type\":\"string\",\"value\":\"http.server\"},",
        "\"sentry.segment.id\":{\"type\":\"string\",\"value\":\"aaaaaaaaaaaaaaaa\"},",
        "\"sentry.segment.name\":{\"type\":\"string\",\"value\":\"GET /users/{id}\"},",
        "\"sentry.environment\":{\"type\":\"string\",\"value\":\"production\"},",
        "\"http.response.status_code\":{\"type\":\"integer\",\"value\":200}}},",
        "{\"trace_id\":\"771a43a4192642f0b136d5159a501700\",\"span_id\":\"bbbbbbbbbbbbbbbb\",",
        "\"parent_span_id\":\"aaaaaaaaaaaaaaaa\",\"name\":\"load user\",\"status\":\"error\",",
        "\"is_segment\":false,\"start_timestamp\":1.1,\"end_timestamp\":1.3,\"attributes\":{",
        "\"sentry.op\":{\"type\":\"string\",\"value\":\"db\"}}},",
        "{\"trace_id\":\"771a43a4192642f0b136d5159a501700\",\"span_id\":\"dddddddddddddddd\",",
        "\"parent_span_id\":\"9999999999999999\",\"name\":\"render\",\"status\":\"ok\",",
        "\"is_segment\":false,\"start_timestamp\":1.35,\"end_timestamp\":1.4,\"attributes\":{",
        "\"sentry.segment.id\":{\"type\":\"string\",\"value\":\"aaaaaaaaaaaaaaaa\"}}},",
        "{\"trace_id\":\"0123456789abcdef0123456789abcdef\",\"span_id\":\"eeeeeeeeeeeeeeee\",",
        "\"parent_span_id\":\"8888888888888888\",\"name\":\"late job\",\"status\":\"ok\",",
        "\"is_segment\":false,\"start_timestamp\":2.0,\"end_timestamp\":2.001,\"attributes\":{",
        "\"sentry.segment.id\":{\"type\":\"string\",\"value\":\"7777777777777777\"}}}",
        "]}\n",
    );

    #[test]
    fn renders_span_items_as_trees_per_trace() {
        let envelope = Envelope::from_bytes(SPAN_ITEM.as_bytes()).expect("envelope");
        let text = format_envelope(&envelope);
        let lines: Vec<&str> = text.lines().collect();
        let expected = [
            "  [1] span",
            "      size         1780 bytes, item_count=5, \
             content_type=application/vnd.sentry.items.span.v2+json",
            "      spans        5 in 2 traces",
            "                   trace 771a43a4192642f0b136d5159a501700  (4 spans)",
            "                   - GET /users/{id}  op=http.server  ok  500.0 ms  \
             span_id=aaaaaaaaaaaaaaaa  segment  sentry.segment.name=GET /users/{id}  \
             sentry.environment=production  http.response.status_code=200  (parent elsewhere)",
            "                     - load user  op=db  error  200.0 ms  span_id=bbbbbbbbbbbbbbbb",
            "                       - SELECT users  op=db.query  ok  50.0 ms  \
             span_id=cccccccccccccccc  db.system=sqlite",
            "                     - render  ok  50.0 ms  span_id=dddddddddddddddd  \
             (parent elsewhere)",
            "                   trace 0123456789abcdef0123456789abcdef  (1 span)",
            "                   - late job  ok  1.0 ms  span_id=eeeeeeeeeeeeeeee  \
             (parent elsewhere)",
            "      trace        trace_id=771a43a4192642f0b136d5159a501700 sampled=true",
        ];
        assert_eq!(lines[1..], expected, "\n{text}");
    }

    #[test]
    fn span_items_list_at_most_spans_shown() {
        let span = |i: usize| {
            format!(
                "{{\"trace_id\":\"771a43a4192642f0b136d5159a501700\",\"span_id\":\"{i:016x}\",\
                 \"name\":\"s{i}\",\"status\":\"ok\",\"is_segment\":false,\
                 \"start_timestamp\":{i},\"end_timestamp\":{i},\"attributes\":{{}}}}"
            )
        };
        let spans: Vec<String> = (1..=SPANS_SHOWN + 3).map(span).collect();
        let bytes = format!(
            "{{}}\n{{\"type\":\"span\"}}\n{{\"version\":2,\"items\":[{}]}}\n",
            spans.join(",")
        );
        let envelope = Envelope::from_bytes(bytes.as_bytes()).expect("envelope");
        let text = format_envelope(&envelope);
        assert!(text.contains("- s50  ok  0.0 ms"), "{text}");
        assert!(!text.contains("- s51 "), "{text}");
        assert!(text.contains("… 3 more"), "{text}");
        // Top-level spans without parents are not marked.
        assert!(!text.contains("parent elsewhere"), "{text}");
    }

    #[test]
    fn the_summary_counts_spans() {
        let request = |body: &[u8]| Request {
            method: "POST".into(),
            path: "/api/1/envelope/".into(),
            version: "HTTP/1.1".into(),
            headers: Vec::new(),
            raw_body: body.to_vec(),
            body: body.to_vec(),
            decode_error: None,
            envelope: Envelope::from_bytes(body),
            connection: 0,
            received_at: std::time::SystemTime::UNIX_EPOCH,
        };
        let requests = [
            request(SPAN_ITEM.as_bytes()),
            request(SPAN_ITEM.as_bytes()),
            request(b"{}\n{\"type\":\"event\"}\n{}\n"),
            request(b"not an envelope"),
        ];
        assert_eq!(
            summary(&requests),
            "4 requests: 3 envelopes (span ×2, event ×1), 10 spans, 1 not an envelope"
        );
        assert_eq!(summary(&requests[2..3]), "1 request: 1 envelope (event ×1)");
    }

    #[test]
    fn renders_check_ins_and_feedback() {
        use sentry_core::protocol::{CheckInStatus, MonitorConfig, MonitorSchedule};

        let check_in = CheckIn {
            check_in_id: "a460c25ff2554577b920fcfacae4e5eb".parse().expect("id"),
            duration: Some(1.25),
            environment: Some("prod".into()),
            monitor_config: Some(MonitorConfig {
                max_runtime: Some(30),
                owner: Some("team:ops".into()),
                ..MonitorConfig::new(MonitorSchedule::crontab("0 3 * * *").expect("crontab"))
            }),
            ..CheckIn::new("nightly", CheckInStatus::Ok)
        };
        let text = format_envelope(&Envelope::from_check_in(check_in));
        for expected in [
            "[1] check_in",
            "check-in     nightly  ok  1.250 s  id=a460c25ff2554577b920fcfacae4e5eb",
            "schedule     crontab \"0 3 * * *\"  max_runtime=30 min  owner=team:ops",
            "env          environment=prod",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }

        let about = "9ec79c33ec9942ab8353589fcb2e04dc".parse().expect("id");
        let event = Feedback {
            contact_email: Some("jane@example.com".into()),
            associated_event_id: Some(about),
            ..Feedback::new("It broke\nagain")
        }
        .into_event();
        let text = format_envelope(&Envelope::from_feedback(event));
        for expected in [
            "[1] feedback",
            "feedback     It broke",
            "from         jane@example.com",
            "about event  9ec79c33ec9942ab8353589fcb2e04dc",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
    }

    #[test]
    fn renders_the_trace_header_of_events() {
        let bytes = concat!(
            "{\"trace\":{\"trace_id\":\"771a43a4192642f0b136d5159a501700\",\"sample_rand\":\"0.1\"}}\n",
            "{\"type\":\"event\"}\n",
            "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"message\":\"hi\"}\n",
            "{\"type\":\"client_report\"}\n",
            "{\"discarded_events\":[]}\n",
        );
        let envelope = Envelope::from_bytes(bytes.as_bytes()).expect("envelope");
        let text = format_envelope(&envelope);
        let trace_line =
            "      trace        trace_id=771a43a4192642f0b136d5159a501700 sample_rand=0.1";
        assert_eq!(text.matches(trace_line).count(), 1, "\n{text}");
        // Right under the event, before the next item.
        assert!(
            text.find(trace_line) < text.find("[2] client_report"),
            "\n{text}"
        );

        // No trace header, no line.
        let bytes = "{}\n{\"type\":\"event\"}\n{\"message\":\"hi\"}\n";
        let text = format_envelope(&Envelope::from_bytes(bytes.as_bytes()).expect("envelope"));
        assert!(!text.contains("trace_id="), "\n{text}");
    }
}
