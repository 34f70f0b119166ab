//! Running the application's callbacks (filters, mappers, the destination logger) so that a
//! panic in one never reaches the code that logged, and counting what it dropped.

use sentry_core::protocol::LogLevel;
use sentry_core::protocol::{DataCategory, DiscardReason};

use crate::Mapping;

/// Runs a callback of the application's as SDK code
/// ([`sentry_core::integration::run_user_callback`]): `None` if it panicked. The panic hook
/// prints the panic but does not report it, and the record's call site returns normally.
pub(crate) fn protected<R>(what: &str, callback: impl FnOnce() -> R) -> Option<R> {
    sentry_core::integration::run_user_callback(what, callback)
}

/// Counts, in the client's reports, what a record dropped by a panicking filter or mapper
/// would have become: an event (`error`) and a structured log (`log_item`) as `mapping` says
/// (`event_processor`, the reason for items an integration drops). Breadcrumbs have no
/// category and are not counted.
pub(crate) fn count_dropped(mapping: Mapping) {
    let client = sentry_core::Scopes::current().client();
    if !client.is_enabled() {
        return;
    }
    let reports = client.client_reports();
    if mapping.wants_event() {
        reports.record(DiscardReason::EventProcessor, DataCategory::Error, 1);
    }
    if mapping.contains(Mapping::LOG) && sentry_core::logger::enabled() {
        reports.record(DiscardReason::EventProcessor, DataCategory::LogItem, 1);
    }
}

/// What a record is counted as when the filter itself panicked: what the default filter
/// makes of its level.
pub(crate) fn count_dropped_unfiltered(level: LogLevel) {
    count_dropped(Mapping::default_for(level));
}
