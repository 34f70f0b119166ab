//! The Sentry spans of the `tracing` spans entered on this thread, kept current in the scopes.
//!
//! Entering a `tracing` span that has a Sentry span makes that Sentry span the current span of
//! this thread's scopes (the same isolation and current scopes, with the span swapped in: no
//! scope is forked), so events, logs and spans started inside see it. The [`ScopeGuard`] that
//! undoes it is not `Send`, so it stays on this thread, in a stack keyed by the `tracing` span
//! id: a span may be entered on several threads at once (each has its own stack) and several
//! times on one thread (each enter has its own entry).
//!
//! Exits normally come in reverse order of the enters. When one does not (a guard dropped
//! early, a span exited out of order), the spans entered after it are left and entered again
//! around it, so each guard still restores what was current when it was made and the spans that
//! stay entered stay current.

use std::cell::RefCell;

use sentry_core::{ScopeGuard, Scopes, Span};
use tracing_core::span::Id;

/// One enter of a `tracing` span on this thread.
struct Entered {
    id: Id,
    span: Span,
    /// `None`: the span was current already when entered (see [`enter`]).
    guard: Option<ScopeGuard>,
}

thread_local! {
    static STACK: RefCell<Vec<Entered>> = const { RefCell::new(Vec::new()) };
}

/// Makes `span` current on this thread until [`exit`] is called with `id`.
///
/// A span that is current already is not made current again: in a trace sampled out, a span
/// nested below a child of the transaction is entered inside a parent that stands for the
/// same transaction (`Span::is_current`), and the switch of scopes would change nothing. Its
/// entry holds no guard; if the spans around it are left out of order, it is entered again as
/// any other (see [`exit`]) and makes the switch then if it is needed.
pub(crate) fn enter(id: &Id, span: Span) {
    // Only asked of a span not recorded: a recorded one is current already only when entered
    // again inside itself, which is rare enough not to pay the question on every enter.
    let current = !span.is_sampled() && span.is_current();
    let guard = (!current).then(|| Scopes::current_with_span(Some(span.clone())).enter());
    let entered = Entered {
        id: id.clone(),
        span,
        guard,
    };
    // If the stack cannot be used (thread teardown), the entry is dropped at once, which leaves
    // the scopes as they were; `exit` then finds nothing.
    let refused = STACK
        .try_with(move |stack| match stack.try_borrow_mut() {
            Ok(mut stack) => {
                stack.push(entered);
                None
            }
            Err(_) => Some(entered),
        })
        .ok()
        .flatten();
    drop(refused);
}

/// What [`exit`] took off the stack.
enum Taken {
    /// The span was the last entered: the usual case.
    Top(Entered),
    /// The span and, after it, the spans entered after it that are still entered.
    Buried(Vec<Entered>),
}

/// Undoes the last [`enter`] of `id` on this thread, if there is one.
pub(crate) fn exit(id: &Id) {
    let taken = STACK
        .try_with(|stack| {
            let mut stack = stack.try_borrow_mut().ok()?;
            let position = stack.iter().rposition(|entered| entered.id == *id)?;
            if position + 1 == stack.len() {
                stack.pop().map(Taken::Top)
            } else {
                Some(Taken::Buried(stack.split_off(position)))
            }
        })
        .ok()
        .flatten();
    // Guards are dropped outside the stack's borrow: restoring scopes may drop spans.
    match taken {
        None => {}
        Some(Taken::Top(entered)) => drop(entered),
        Some(Taken::Buried(mut entries)) => {
            // Leave the later spans, newest first, then this one; enter the later ones again.
            let mut later = Vec::with_capacity(entries.len().saturating_sub(1));
            while entries.len() > 1 {
                if let Some(Entered { id, span, guard }) = entries.pop() {
                    drop(guard);
                    later.push((id, span));
                }
            }
            drop(entries);
            for (id, span) in later.into_iter().rev() {
                enter(&id, span);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth() -> usize {
        STACK.with(|stack| stack.borrow().len())
    }

    fn ids() -> Vec<u64> {
        STACK.with(|stack| stack.borrow().iter().map(|e| e.id.into_u64()).collect())
    }

    #[test]
    fn nested_and_reentered() {
        let (a, b) = (Id::from_u64(1), Id::from_u64(2));
        enter(&a, Span::noop());
        enter(&b, Span::noop());
        enter(&a, Span::noop());
        assert_eq!(ids(), [1, 2, 1]);
        exit(&a);
        assert_eq!(ids(), [1, 2]);
        exit(&b);
        exit(&a);
        assert_eq!(depth(), 0);
        exit(&a); // not entered: nothing happens
        assert_eq!(depth(), 0);
    }

    #[test]
    fn out_of_order_exit_keeps_the_later_spans_entered() {
        let (a, b, c) = (Id::from_u64(1), Id::from_u64(2), Id::from_u64(3));
        enter(&a, Span::noop());
        enter(&b, Span::noop());
        enter(&c, Span::noop());
        exit(&a);
        assert_eq!(ids(), [2, 3]);
        exit(&c);
        exit(&b);
        assert_eq!(depth(), 0);
    }
}
