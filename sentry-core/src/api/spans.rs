//! The span-first API: [`start_span_with`] and its [`SpanOptions`].
//!
//! One verb for every span: where it hangs in the trace is an option with three states
//! ([`SpanParent`]: the current span, a new root, or a given span), it becomes the current
//! span unless [`SpanOptions::inactive`], and what it is is said with attributes (`sentry.op`
//! included), not with an operation and a description. It works in both trace lifecycles: in
//! `Static` mode a root span is a transaction and its children its spans; in `Stream` mode
//! each is sent on its own once it ends.

use std::time::SystemTime;

use sentry_minimal::{Map, Value};

use crate::protocol::TransactionSource;
use crate::sampling::TransactionContext;
use crate::scope::{with_current_span, with_scopes};
use crate::span::{Span, SpanGuard};

/// Where a span started with [`start_span_with`] hangs in the trace.
#[derive(Clone, Debug, Default)]
pub enum SpanParent {
    /// A child of the current span; a new root span when none is current (the default).
    #[default]
    Inherit,
    /// A new root span, whatever is current: the start of this process's part of the trace
    /// the scopes carry (a new trace unless one was continued).
    Root,
    /// A child of this span.
    Span(Span),
}

/// How [`start_span_with`] starts a span.
///
/// ```
/// use sentry_core::{SpanOptions, SpanParent};
///
/// let options = SpanOptions::new()
///     .attribute("sentry.op", "db.query")
///     .attribute("db.system", "postgresql")
///     .inactive();
/// assert!(matches!(options.parent, SpanParent::Inherit));
/// assert!(!options.active);
/// ```
#[derive(Clone, Debug)]
pub struct SpanOptions {
    /// The parent (default: the current span).
    pub parent: SpanParent,
    /// Whether the span becomes the current span until it ends (default `true`). An inactive
    /// span leaves the current span as it is, so spans started after it are its siblings.
    pub active: bool,
    /// Attributes known at the start (what [`ignore_spans`] rules can match), `sentry.op`
    /// among them.
    ///
    /// [`ignore_spans`]: crate::ClientOptions::ignore_spans
    pub attributes: Map,
    /// When the span started (default: now).
    pub start: Option<SystemTime>,
}

impl Default for SpanOptions {
    fn default() -> Self {
        SpanOptions {
            parent: SpanParent::Inherit,
            active: true,
            attributes: Map::new(),
            start: None,
        }
    }
}

impl SpanOptions {
    /// The defaults: a child of the current span, active, no attributes, starting now.
    pub fn new() -> SpanOptions {
        SpanOptions::default()
    }

    /// A child of `parent`.
    #[must_use]
    pub fn parent(mut self, parent: &Span) -> SpanOptions {
        self.parent = SpanParent::Span(parent.clone());
        self
    }

    /// A new root span, whatever is current.
    #[must_use]
    pub fn new_root(mut self) -> SpanOptions {
        self.parent = SpanParent::Root;
        self
    }

    /// Does not make the span current.
    #[must_use]
    pub fn inactive(mut self) -> SpanOptions {
        self.active = false;
        self
    }

    /// Sets an attribute known at the start.
    #[must_use]
    pub fn attribute(mut self, key: &str, value: impl Into<Value>) -> SpanOptions {
        self.attributes.insert(key.to_owned(), value.into());
        self
    }

    /// Starts the span at `start` rather than now.
    #[must_use]
    pub fn start_at(mut self, start: SystemTime) -> SpanOptions {
        self.start = Some(start);
        self
    }
}

/// Starts a span named `name` (low in cardinality: `GET /users/{id}`, `SELECT users`) and
/// returns it in a guard that ends it when dropped (or with [`SpanGuard::end`]). An active span
/// is the current span until then, so the guard stays on its thread.
///
/// It always returns a span: one that is not sampled (or ignored, or with tracing off)
/// records nothing, and its ids never appear in outgoing trace headers; the trace's own ids
/// do. `sentry.op` in the attributes is the span's operation.
///
/// # Examples
///
/// ```
/// use sentry_core::{start_span_with, SpanOptions};
///
/// let request = start_span_with("GET /users/{id}", SpanOptions::new().attribute("sentry.op", "http.server"));
/// {
///     let query = start_span_with("SELECT users", SpanOptions::new().attribute("sentry.op", "db"));
///     query.set_attribute("db.rows", 1);
/// } // ends the query
/// request.set_status(sentry_core::protocol::SpanStatus::Ok);
/// request.end();
/// ```
pub fn start_span_with(name: &str, options: SpanOptions) -> SpanGuard {
    let SpanOptions {
        parent,
        active,
        mut attributes,
        start,
    } = options;
    if !sentry_minimal::is_enabled() {
        return Span::noop().into_guard(false);
    }
    let op = match attributes.remove("sentry.op") {
        Some(Value::String(op)) => op,
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let parent = match parent {
        SpanParent::Inherit => with_current_span(|span| span.cloned()).filter(Span::is_active),
        SpanParent::Root => None,
        SpanParent::Span(span) => Some(span),
    };
    let span = match parent {
        Some(parent) => parent.start_child_with(&op, name, start, attributes),
        None => {
            let mut ctx = TransactionContext::new(name, &op);
            ctx.source = TransactionSource::Custom;
            ctx.start_timestamp = start;
            if !attributes.is_empty() {
                ctx.start_attributes = Some(attributes.clone());
            }
            let span = with_scopes(|scopes| Span::start_transaction(scopes, ctx));
            for (key, value) in attributes {
                span.set_attribute(&key, value);
            }
            span
        }
    };
    span.into_guard(active)
}
