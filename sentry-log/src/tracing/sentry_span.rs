//! The Sentry span of a `tracing` span: started when the `tracing` span is created, given its
//! fields as data, finished when it closes.

use std::sync::atomic::{AtomicBool, Ordering};

use sentry_core::protocol::SpanStatus;
use sentry_core::{Map, Span, TransactionContext, Value};
use tracing_core::Metadata;

use super::spans::Fields;

/// The origin of the spans and transactions the layer starts.
pub(crate) const ORIGIN: &str = "auto.tracing";

/// The operation of a span that sets no `sentry.op`.
pub(crate) const DEFAULT_OP: &str = "function";

/// Field that overrides the span's name.
const NAME_FIELD: &str = "sentry.name";
/// Field that overrides the span's operation.
const OP_FIELD: &str = "sentry.op";
/// Field holding a `sentry-trace` header value: the span starts a transaction in that trace.
const TRACE_FIELD: &str = "sentry.trace";

/// Whether a field is one of the `sentry.*` overrides (not span data).
fn is_override(name: &str) -> bool {
    matches!(name, NAME_FIELD | OP_FIELD | TRACE_FIELD)
}

/// A `tracing` span's Sentry span.
#[derive(Debug)]
pub(crate) struct SentrySpan {
    span: Span,
    /// An `ERROR` event was seen inside the span.
    errored: AtomicBool,
}

/// Where a new Sentry span goes.
pub(crate) enum Parent {
    /// Under this span.
    Span(Span),
    /// Under the span current in the scopes, else a new transaction.
    Current,
    /// A new transaction: the `tracing` span is an explicit root.
    None,
}

impl SentrySpan {
    /// Starts the Sentry span of a new `tracing` span, under `parent`. `None` when tracing is
    /// off (the span would be a no-op).
    pub(crate) fn start(metadata: &Metadata<'_>, fields: &Fields, parent: Parent) -> Option<Self> {
        let text = |key: &str| {
            fields
                .iter()
                .find(|(name, _)| name == key)
                .and_then(|(_, value)| value.as_str())
        };
        let name = text(NAME_FIELD).unwrap_or(metadata.name());
        let op = text(OP_FIELD).unwrap_or(DEFAULT_OP);
        let trace = text(TRACE_FIELD).filter(|header| !header.is_empty());
        let parent = match parent {
            Parent::Span(span) => Some(span),
            Parent::Current => sentry_core::get_current_span(),
            Parent::None => None,
        };
        // Whether the span got its data at its start.
        let mut with_data = false;
        let span = match (trace, parent) {
            (Some(header), _) => sentry_core::start_transaction(
                TransactionContext::continue_from_headers(name, op, [("sentry-trace", header)])
                    .with_origin(ORIGIN),
            ),
            (None, Some(parent)) => {
                // A child of a recorded span is recorded (unless over the transaction's span
                // limit): its data goes in with it, one map, rather than a lock and a
                // growth of the span's map per entry. A child of one not recorded is not.
                let child = if parent.is_sampled() {
                    with_data = true;
                    parent.start_child_with_data(op, name, span_data(metadata, fields))
                } else {
                    parent.start_child(op, name)
                };
                if child.is_sampled() {
                    child.set_origin(ORIGIN);
                }
                child
            }
            (None, None) => sentry_core::start_transaction(
                TransactionContext::new(name, op).with_origin(ORIGIN),
            ),
        };
        if !span.is_active() {
            return None;
        }
        if span.is_sampled() && !with_data {
            for (key, value) in span_data(metadata, fields) {
                span.set_data(&key, value);
            }
        }
        Some(SentrySpan {
            span,
            errored: AtomicBool::new(false),
        })
    }

    /// The Sentry span.
    pub(crate) fn span(&self) -> &Span {
        &self.span
    }

    /// Adds fields recorded after the span was created (`sentry.name` and `sentry.op` rename
    /// it).
    pub(crate) fn record(&self, fields: &Fields) {
        if !self.span.is_sampled() {
            return;
        }
        for (name, value) in fields {
            match (name.as_ref(), value.as_str()) {
                (NAME_FIELD, Some(text)) => self.span.set_name(text),
                (OP_FIELD, Some(text)) => self.span.set_op(text),
                _ => {}
            }
        }
        set_data(&self.span, fields);
    }

    /// Notes an `ERROR` event inside the span.
    pub(crate) fn mark_errored(&self) {
        self.errored.store(true, Ordering::Relaxed);
    }

    /// Finishes the span. Unless the application set a status, it is `internal_error` if an
    /// `ERROR` event was seen inside the span, else `ok`.
    pub(crate) fn finish(&self) {
        if self.span.is_sampled() && self.span.status().is_none() {
            self.span
                .set_status(if self.errored.load(Ordering::Relaxed) {
                    SpanStatus::InternalError
                } else {
                    SpanStatus::Ok
                });
        }
        self.span.finish();
    }
}

/// A span's data: its fields (not the `sentry.*` overrides), then its code location and, when
/// it differs from the module, its target (these win over fields of the same names).
fn span_data(metadata: &Metadata<'_>, fields: &Fields) -> Map {
    let mut data = Map::with_capacity(fields.len() + 4);
    for (name, value) in fields {
        if !is_override(name) {
            data.insert(name.clone().into_owned(), Value::clone(value));
        }
    }
    if let Some(namespace) = metadata.module_path() {
        data.insert("code.namespace".into(), namespace.into());
    }
    if let Some(file) = metadata.file() {
        data.insert("code.filepath".into(), file.into());
    }
    if let Some(line) = metadata.line() {
        data.insert("code.lineno".into(), u64::from(line).into());
    }
    if metadata.module_path() != Some(metadata.target()) {
        data.insert("tracing.target".into(), metadata.target().into());
    }
    data
}

fn set_data(span: &Span, fields: &Fields) {
    for (name, value) in fields {
        if !is_override(name) {
            span.set_data(name, Value::clone(value));
        }
    }
}
