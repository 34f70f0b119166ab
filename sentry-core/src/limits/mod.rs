//! Limits on the data the SDK holds and sends: how deep, how wide and how long values may be,
//! and how large an event may get.
//!
//! Sentry's ingest (Relay) accepts at most [`MAX_EVENT_BYTES`] per event and trims data bags
//! (`extra`, contexts, breadcrumb `data`, …) to a few levels of nesting. The SDK cuts before
//! that, on the calling thread, so that nothing it holds or writes can exhaust a stack, overrun
//! the transport queue's byte bound or be rejected by Sentry:
//!
//! | limit | value | what is cut, and how it shows in the payload |
//! |---|---|---|
//! | depth | [`MAX_DEPTH`] (5) levels of maps and arrays in a value | a deeper map or array becomes the string [`DEPTH_MARKER`] |
//! | breadth | [`MAX_BREADTH`] (1,000) entries per map or array | later entries are removed; an array ends with `"[truncated: N more items]"`, a map with the entry `"…": "[truncated: N more entries]"` |
//! | strings | [`ClientOptions::max_value_length`](crate::ClientOptions::max_value_length) characters, default [`DEFAULT_MAX_VALUE_LENGTH`] (100,000) | the message, exception values, breadcrumb messages, log bodies and string attributes, and every string and map key inside data bags keep their first characters, cut on a character boundary and ended with `…` |
//! | event size | [`MAX_EVENT_BYTES`] (1 MiB) of JSON | the largest parts (values in data, span data included, the message, exception values, span descriptions, tag values) are cut to fit, keeping their start (the tail replaced by the markers above, or by [`SIZE_MARKER`]); then the oldest breadcrumbs are removed (a breadcrumb says how many); then a transaction's newest spans are removed from the end of its list (`extra[`[`SPANS_REMOVED_KEY`]`]` says how many; they count as `invalid` spans in the client reports); an event still too large is dropped and counted as `invalid` in the client reports |
//! | measurements | finite values only | a transaction's measurement whose value is NaN or infinite is removed (it has no JSON form; the serializer would leave it out anyway) |
//! | log size | [`MAX_LOG_BYTES`] (1 MiB) of JSON per log | a log still too large after cutting its strings is dropped and counted as `invalid` |
//!
//! *Data bags* are the free-form maps of an event: `extra`, the fields of a context, breadcrumb
//! `data`, the user's own keys (`User::other`), a frame's `vars`, a mechanism's `data`, the
//! request's `data`, and a span's `data`. A value's depth counts maps and arrays from the value stored under a key: in
//! `extra["a"] = {"b": [{"c": 1}]}` the value of `"a"` has three levels. Five levels is what
//! Relay keeps of an `extra` value; deeper ones it would flatten to a string.
//!
//! Where the cuts happen:
//!
//! - **On insertion into a scope** (`set_extra`, `set_context`, `set_user`, breadcrumbs): depth
//!   and breadth, and any single value, string or breadcrumb larger than [`MAX_EVENT_BYTES`] is
//!   cut to that size. Scope data is copied into every event, so it is bounded before it is
//!   copied.
//! - **In the event pipeline**, after `before_send`: one read-only walk estimates the event's
//!   size and notices any limit it exceeds; only then does a second, mutating pass cut.
//! - **When writing**: the serializer writes a map or array below [`MAX_DEPTH`] levels as
//!   [`DEPTH_MARKER`] even if it skipped the pipeline (an envelope built by hand).
//!
//! Everything the SDK cuts off is taken apart without recursion, so even a value nested
//! hundreds of thousands of levels deep is freed safely.

mod event;
mod log;
mod size;
mod value;

pub(crate) use event::{
    cut_event_structure, dispose_event, enforce_event, enforce_event_sized, Verdict,
};
pub(crate) use log::enforce_log;
pub(crate) use size::estimated_event_size;

pub use crate::depth::{DEPTH_MARKER, MAX_DEPTH};
pub(crate) use value::{
    cut_breadcrumb_for_scope, cut_context_for_scope, cut_str_for_scope, cut_user_for_scope,
    cut_value_for_scope, truncate_chars, truncate_cow,
};

/// How many entries a map or array in event data keeps; the rest are removed and counted in a
/// final marker entry.
pub const MAX_BREADTH: usize = 1_000;

/// The largest event Sentry ingests: 1 MiB of (uncompressed) JSON.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// The largest structured log Sentry ingests: 1 MiB of JSON.
pub const MAX_LOG_BYTES: usize = 1024 * 1024;

/// The default of [`ClientOptions::max_value_length`](crate::ClientOptions::max_value_length):
/// 100,000 characters.
pub const DEFAULT_MAX_VALUE_LENGTH: usize = 100_000;

/// The `extra` key under which a transaction trimmed to the event size limit records how many
/// spans were removed from it (a number).
pub const SPANS_REMOVED_KEY: &str = "sentry.spans_removed";

/// What a value is replaced by when the event size limit leaves no room for any of it.
pub const SIZE_MARKER: &str = "[truncated: size limit]";

/// What ends a cut string.
pub const ELLIPSIS: char = '…';

/// The key of the entry that ends a map with entries removed.
pub(crate) const MORE_KEY: &str = "…";

/// How much a stack frame whose symbol the transport worker has yet to resolve is expected to
/// grow (function, file, module and source context), so that the size limit holds for what is
/// eventually sent.
pub(crate) const SYMBOLICATION_ALLOWANCE: usize = 1024;

/// The text of the entry that replaces `removed` entries of a map.
pub(crate) fn more_entries(removed: usize) -> String {
    format!("[truncated: {removed} more entries]")
}

/// The text of the item that replaces `removed` items of an array.
pub(crate) fn more_items(removed: usize) -> String {
    format!("[truncated: {removed} more items]")
}
