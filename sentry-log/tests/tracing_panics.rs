//! The `tracing` bridge runs the application's filter and mapper protected: a panic in either
//! returns to the `tracing::error!` call site normally, drops only that event (counted in the
//! client reports), and the callback is not called again for it.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};

use sentry_core::protocol::{ClientReport, Event};
use sentry_core::{ClientOptions, Scopes};
use sentry_log::tracing::LayerBuilder;
use sentry_log::{Mapping, RecordMapping};
use support::{capture, Sent};
use tracing::level_filters::LevelFilter;
use tracing_subscriber::prelude::*;

fn run(builder: LayerBuilder, f: impl FnOnce()) -> (Sent, Option<ClientReport>) {
    let subscriber = tracing_subscriber::registry().with(builder.build());
    let mut report = None;
    let sent = capture(ClientOptions::default(), || {
        tracing::subscriber::with_default(subscriber, f);
        report = Scopes::current().client().client_reports().take();
    });
    (sent, report)
}

fn dropped(report: Option<&ClientReport>, category: &str) -> u64 {
    report
        .map(|r| {
            r.discarded_events
                .iter()
                .filter(|d| d.reason.to_string() == "event_processor")
                .filter(|d| d.category.to_string() == category)
                .map(|d| d.quantity)
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn a_panicking_filter_drops_the_event_and_counts_it() {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let builder = LayerBuilder::new()
        .max_level(LevelFilter::TRACE)
        .filter(|metadata| {
            if metadata.target() == "filter-boom" {
                CALLS.fetch_add(1, Ordering::SeqCst);
                panic!("filter bug");
            }
            Mapping::EVENT | Mapping::LOG
        });
    let (sent, report) = run(builder, || {
        let mut calls = Vec::new();
        for _ in 0..3 {
            let before = CALLS.load(Ordering::SeqCst);
            tracing::error!(target: "filter-boom", "filtered");
            calls.push(CALLS.load(Ordering::SeqCst) - before);
        }
        // The first event also registers the callsite, whose interest the filter is asked
        // for; then once per event (it panicked, so `tracing` asks for each event).
        assert_eq!(calls, [2, 1, 1]);
        tracing::error!(target: "fine", "kept");
    });
    assert!(sent.events_with_message("filtered").is_empty());
    assert_eq!(sent.events_with_message("kept").len(), 1);
    assert_eq!(dropped(report.as_ref(), "error"), 3);
    assert_eq!(dropped(report.as_ref(), "log_item"), 3);
}

#[test]
fn a_panicking_mapper_drops_the_event_and_counts_it() {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let builder = LayerBuilder::new()
        .filter(|_| Mapping::EXCEPTION)
        .mapper(|event, _mapping| {
            CALLS.fetch_add(1, Ordering::SeqCst);
            if event.metadata().target() == "mapper-boom" {
                panic!("mapper bug");
            }
            vec![RecordMapping::Event(Box::new(Event {
                message: Some("mapped".into()),
                ..Event::default()
            }))]
        });
    let (sent, report) = run(builder, || {
        tracing::error!(target: "mapper-boom", "dropped");
        tracing::error!(target: "fine", "kept");
    });
    assert_eq!(CALLS.load(Ordering::SeqCst), 2, "once per event");
    assert_eq!(sent.events.len(), 1);
    assert_eq!(dropped(report.as_ref(), "error"), 1);
    assert_eq!(dropped(report.as_ref(), "log_item"), 0);
}
