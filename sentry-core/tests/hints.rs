//! Hints: what each capture hands the hooks beside the item, and the small scope verbs
//! (`set_tags`, `remove_extra`, `remove_context`, `is_enabled`).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use sentry_core::protocol::{Context, DiscardReason, Event};
use sentry_core::test::{with_captured_events_options, TestTransport};
use sentry_core::{Breadcrumb, Client, ClientOptions, Hint, Integration, Level, Map, Scopes};

/// An application error wrapping a parse error, to downcast in the hooks.
#[derive(Debug)]
struct ConfigError {
    key: &'static str,
    source: std::num::ParseIntError,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad value for {}", self.key)
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

fn config_error(key: &'static str) -> ConfigError {
    ConfigError {
        key,
        source: "x".parse::<u16>().unwrap_err(),
    }
}

type Seen = Arc<Mutex<Vec<String>>>;

fn push(seen: &Seen, line: String) {
    seen.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(line);
}

fn lines(seen: &Seen) -> Vec<String> {
    seen.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// What a hook can read from a hint: the downcast error's key, or `-`.
fn describe(step: &str, hint: &Hint<'_>) -> String {
    let key = hint
        .error()
        .and_then(|err| err.downcast_ref::<ConfigError>())
        .map_or("-", |err| err.key);
    let root = hint
        .error()
        .and_then(|err| err.source())
        .map_or("-".to_owned(), |source| {
            source.is::<std::num::ParseIntError>().to_string()
        });
    format!("{step}: key={key} root_is_parse_error={root}")
}

struct Recording(Seen);

impl Integration for Recording {
    fn name(&self) -> &'static str {
        "recording-hints"
    }
    fn process_event(&self, event: Event, hint: &Hint<'_>, _: &ClientOptions) -> Option<Event> {
        push(&self.0, describe("integration", hint));
        Some(event)
    }
}

fn recording_options(seen: &Seen) -> ClientOptions {
    let in_before_send = Arc::clone(seen);
    ClientOptions {
        integrations: vec![Arc::new(Recording(Arc::clone(seen)))],
        before_send: Some(Arc::new(move |event, hint| {
            push(&in_before_send, describe("before_send", hint));
            Some(event)
        })),
        ..Default::default()
    }
}

#[test]
fn capture_error_lends_the_error_to_every_hook() {
    let seen = Seen::default();
    let in_processor = Arc::clone(&seen);
    let events = with_captured_events_options(recording_options(&seen), || {
        sentry_core::with_scope(
            |scope| {
                scope.add_event_processor(move |event, hint| {
                    push(&in_processor, describe("processor", hint));
                    Some(event)
                })
            },
            || sentry_core::capture_error(&config_error("port")),
        );
    });
    assert_eq!(events.len(), 1);
    assert_eq!(
        lines(&seen),
        [
            "processor: key=port root_is_parse_error=true",
            "integration: key=port root_is_parse_error=true",
            "before_send: key=port root_is_parse_error=true",
        ]
    );
}

#[test]
fn the_facade_lends_the_error_too() {
    let seen = Seen::default();
    with_captured_events_options(recording_options(&seen), || {
        sentry_minimal::capture_error(&config_error("timeout"));
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(config_error("retries"));
        sentry_minimal::capture_error(boxed.as_ref());
    });
    let before_send: Vec<_> = lines(&seen)
        .into_iter()
        .filter(|l| l.starts_with("before_send"))
        .collect();
    assert_eq!(
        before_send,
        [
            "before_send: key=timeout root_is_parse_error=true",
            "before_send: key=retries root_is_parse_error=true",
        ]
    );
}

#[test]
fn before_send_drops_one_error_type_by_downcast() {
    let transport = TestTransport::new();
    let client = Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(transport.factory()),
        before_send: Some(Arc::new(|event, hint| {
            let expected = hint
                .error()
                .and_then(|err| err.downcast_ref::<ConfigError>())
                .is_some_and(|err| err.key == "optional");
            (!expected).then_some(event)
        })),
        ..Default::default()
    });
    let scopes = Scopes::current().fork_isolation();
    scopes.configure_isolation_scope(|scope| scope.set_client(Some(Arc::new(client))));
    let (dropped, kept) = scopes.bind(|| {
        (
            sentry_core::capture_error(&config_error("optional")),
            sentry_core::capture_error(&config_error("required")),
        )
    });
    assert!(dropped.is_nil());
    assert!(!kept.is_nil());
    let client = scopes.client();
    let report = client.client_reports().take().expect("one drop");
    assert_eq!(report.discarded_events.len(), 1);
    assert_eq!(report.discarded_events[0].reason, DiscardReason::BeforeSend);
    client.close(None);
    let values: Vec<_> = transport
        .envelopes()
        .iter()
        .filter_map(|e| e.event().and_then(|e| e.exception.last()?.value.clone()))
        .collect();
    assert_eq!(values, ["bad value for required"]);
}

#[test]
fn capture_event_with_hint_lends_what_the_caller_passed() {
    struct Job {
        id: u32,
    }
    let seen = Seen::default();
    let in_before_send = Arc::clone(&seen);
    let options = ClientOptions {
        before_send: Some(Arc::new(move |event, hint| {
            let job = hint.value::<Job>().map_or(0, |job| job.id);
            push(
                &in_before_send,
                format!("{} job={job}", describe("before_send", hint)),
            );
            Some(event)
        })),
        ..Default::default()
    };
    with_captured_events_options(options, || {
        let err = config_error("batch_size");
        let job = Job { id: 17 };
        let mut event = sentry_core::event_from_error(&err);
        event.logger = Some("scheduler".into());
        let hint = Hint::new().with_error(&err).with_value(&job);
        sentry_core::capture_event_with_hint(event, &hint);
        // Another type than the one passed: not found.
        let other = 5_u8;
        sentry_core::capture_event_with_hint(Event::default(), &Hint::new().with_value(&other));
    });
    assert_eq!(
        lines(&seen),
        [
            "before_send: key=batch_size root_is_parse_error=true job=17",
            "before_send: key=- root_is_parse_error=- job=0",
        ]
    );
}

#[test]
fn messages_events_and_plain_breadcrumbs_get_an_empty_hint() {
    let seen = Seen::default();
    let (in_before_send, in_before_breadcrumb) = (Arc::clone(&seen), Arc::clone(&seen));
    let options = ClientOptions {
        before_send: Some(Arc::new(move |event, hint| {
            push(&in_before_send, format!("event empty={}", hint.is_empty()));
            Some(event)
        })),
        before_breadcrumb: Some(Arc::new(move |crumb, hint| {
            push(
                &in_before_breadcrumb,
                format!("crumb empty={}", hint.is_empty()),
            );
            Some(crumb)
        })),
        ..Default::default()
    };
    with_captured_events_options(options, || {
        // Its own isolation scope: breadcrumbs left in the default one would be inherited by
        // the forks of other tests of this binary.
        Scopes::current().fork_isolation().bind(|| {
            sentry_core::capture_message("message", Level::Info);
            sentry_core::capture_event(Event::default());
            sentry_minimal::capture_message("facade message", Level::Info);
            sentry_core::add_breadcrumb(Breadcrumb::new("plain"));
            sentry_minimal::add_breadcrumb(|| Breadcrumb::new("facade"));
        });
    });
    assert_eq!(
        lines(&seen),
        [
            "event empty=true",
            "event empty=true",
            "event empty=true",
            "crumb empty=true",
            "crumb empty=true",
        ]
    );
}

#[test]
fn add_breadcrumb_with_hint_reaches_before_breadcrumb() {
    struct Query {
        rows: usize,
    }
    let options = ClientOptions {
        before_breadcrumb: Some(Arc::new(|mut crumb, hint| match hint.value::<Query>() {
            Some(query) if query.rows == 0 => None,
            Some(query) => {
                crumb.data.insert("rows".into(), query.rows.into());
                Some(crumb)
            }
            None => Some(crumb),
        })),
        ..Default::default()
    };
    let events = with_captured_events_options(options, || {
        Scopes::current().fork_isolation().bind(|| {
            for rows in [0, 12] {
                let query = Query { rows };
                sentry_core::add_breadcrumb_with_hint(
                    Breadcrumb::new(format!("select: {rows}")),
                    &Hint::new().with_value(&query),
                );
            }
            sentry_core::capture_message("after the queries", Level::Info);
        });
    });
    let crumbs = &events[0].breadcrumbs;
    assert_eq!(crumbs.len(), 1, "{crumbs:?}");
    assert_eq!(crumbs[0].message.as_deref(), Some("select: 12"));
    assert_eq!(crumbs[0].data["rows"], 12_usize.into());
}

#[test]
fn set_tags_sets_every_pair_on_each_surface() {
    let events = with_captured_events_options(ClientOptions::default(), || {
        Scopes::current().fork_isolation().bind(|| {
            sentry_core::set_tags([("a", "1"), ("b", "2"), ("a", "3")]);
            sentry_core::set_tags(vec![(String::from("owned"), String::from("yes"))]);
            sentry_core::set_tags(std::iter::empty::<(&str, &str)>());
            sentry_core::with_scope(
                |scope| scope.set_tags([("scope", "core")]),
                || {
                    sentry_minimal::with_scope(
                        |scope| scope.set_tags([("facade", "minimal"), ("b", "4")]),
                        || sentry_core::capture_message("tagged", Level::Info),
                    )
                },
            );
        });
    });
    let tags = &events[0].tags;
    assert_eq!(tags["a"], "3");
    assert_eq!(tags["b"], "4");
    assert_eq!(tags["owned"], "yes");
    assert_eq!(tags["scope"], "core");
    assert_eq!(tags["facade"], "minimal");
}

#[test]
fn remove_extra_and_remove_context_at_the_top_level() {
    let events = with_captured_events_options(ClientOptions::default(), || {
        Scopes::current().fork_isolation().bind(|| {
            let mut order = Map::new();
            order.insert("id".into(), 7.into());
            sentry_core::set_extra("kept", 1);
            sentry_core::set_extra("removed", 2);
            sentry_core::set_context("order", Context::from(order.clone()));
            sentry_core::set_context("cart", Context::from(order));
            sentry_core::remove_extra("removed");
            sentry_core::remove_context("cart");
            sentry_core::capture_message("cleaned", Level::Info);
        });
    });
    let event = &events[0];
    assert!(event.extra.contains_key("kept"));
    assert!(!event.extra.contains_key("removed"));
    assert!(event.contexts.contains_key("order"));
    assert!(!event.contexts.contains_key("cart"));
}

#[test]
fn is_enabled_follows_the_client_of_the_calling_thread() {
    with_captured_events_options(ClientOptions::default(), || {
        assert!(sentry_core::is_enabled());
        let disabled = Scopes::current().fork_isolation();
        disabled.configure_isolation_scope(|scope| {
            scope.set_client(Some(Arc::new(Client::new(ClientOptions::default()))))
        });
        assert!(!disabled.bind(sentry_core::is_enabled));
        assert!(sentry_core::is_enabled());
    });
}
