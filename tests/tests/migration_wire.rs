//! A service written the way the migration guide says, sending over HTTP to a loopback server:
//! options from the builder, breadcrumbs from the typed constructors, data from `serde_json`,
//! ids converted through their bytes. What arrives is what the guide promises, and Relay's
//! normalizer accepts every event with no error and no `_meta`.

use std::time::Duration;

use sentry::protocol::{Context, JsonValueExt};
use sentry::{Breadcrumb, ClientOptions, EventId, Level};
use sentry_tests::relay::assert_conformant;
use sentry_tests::server::{raw_event_payloads, TestServer};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn a_migrated_service_sends_what_relay_accepts() {
    let server = TestServer::start();
    let guard = sentry::init(
        ClientOptions::new()
            .dsn(server.dsn())
            .release("billing@2.4.0")
            .environment("staging")
            .max_breadcrumbs(20)
            .before_breadcrumb(|crumb, _| {
                (crumb.category.as_deref() != Some("noise")).then_some(crumb)
            }),
    );
    assert!(guard.is_enabled());

    sentry::add_breadcrumb(Breadcrumb::http("POST", "https://psp.example/charge").status_code(502));
    sentry::add_breadcrumb(Breadcrumb::navigation("/cart", "/checkout"));
    sentry::add_breadcrumb(
        Breadcrumb::query("UPDATE invoices SET paid = true").category("db.query"),
    );
    sentry::add_breadcrumb(Breadcrumb::user("ui.click", "clicked 'Pay'"));
    sentry::add_breadcrumb(Breadcrumb::error("retrying the charge"));
    sentry::add_breadcrumb(Breadcrumb::debug("token refreshed").extend_data([("ttl", 300)]));
    sentry::add_breadcrumb(Breadcrumb::new("dropped by before_breadcrumb").category("noise"));
    sentry::set_extra(
        "invoice",
        json!({"id": "inv_42", "lines": [{"sku": "a", "qty": 2}], "total": 12.5, "paid": false})
            .into_value(),
    );
    sentry::set_context("psp", json!({"name": "example-psp", "region": "eu"}));
    let message_id = sentry::capture_message("charge failed", Level::Error);
    let error = "12,50".parse::<f64>().unwrap_err();
    let error_id = sentry::capture_error(&error);
    assert_eq!(sentry::last_event_id(), Some(error_id));
    drop(guard);

    let requests = server.wait_for_requests(2, WAIT);
    let events = raw_event_payloads(&requests);
    assert_eq!(events.len(), 2, "{events:#?}");
    assert_conformant(&events);

    // The ids went over the wire as Sentry writes them; a UUID form parses back to the same id.
    let message = events
        .iter()
        .find(|e| e["event_id"] == message_id.to_string())
        .expect("the message event");
    let uuid_form: EventId = message_id.to_uuid_string().parse().expect("a UUID parses");
    assert_eq!(uuid_form, message_id);
    // The message is where Sentry and Spotlight read it.
    assert_eq!(message["message"], "charge failed");
    assert_eq!(message["logentry"]["formatted"], "charge failed");
    assert_eq!(message["environment"], "staging");
    assert_eq!(message["release"], "billing@2.4.0");
    assert_eq!(message["extra"]["invoice"]["lines"][0]["qty"], 2);
    assert_eq!(message["contexts"]["psp"]["region"], "eu");
    let crumbs = message["breadcrumbs"]["values"]
        .as_array()
        .expect("breadcrumbs");
    let types: Vec<&str> = crumbs.iter().filter_map(|c| c["type"].as_str()).collect();
    assert_eq!(
        types,
        ["http", "navigation", "query", "user", "error", "debug"],
        "the one filtered by before_breadcrumb is gone"
    );
    assert_eq!(crumbs[0]["data"]["status_code"], 502);
    assert_eq!(crumbs[1]["data"]["to"], "/checkout");
    assert_eq!(crumbs[4]["level"], "error");
    assert_eq!(crumbs[5]["data"]["ttl"], 300);
    assert!(events.iter().any(|e| e["event_id"] == error_id.to_string()
        && e["exception"]["values"][0]["value"].is_string()));
}

/// The conversions the guide names, on the typed side: a JSON object as a context, JSON as a
/// value and back, ids through bytes.
#[test]
fn conversions_round_trip() {
    use sentry::protocol::ValueJsonExt;

    let json = json!({"a": [1, 2.5, null, true, "x"], "b": {"c": {"d": -7}}});
    assert_eq!(json.clone().into_value().to_json(), json);
    let Context::Other(map) = Context::from(json) else {
        panic!("a JSON object is a map context")
    };
    assert_eq!(map.len(), 2);

    let bytes = [7u8; 16];
    let id = EventId::from(bytes);
    assert_eq!(<[u8; 16]>::from(id), bytes);
    assert_eq!(id.as_ref(), &bytes[..]);
    assert_eq!(id.to_string().parse::<EventId>(), Ok(id));
}
