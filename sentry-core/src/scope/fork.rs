//! [`CurrentSlot`]: the current scope of a [`Scopes`](super::Scopes), forked lazily.

use std::fmt;
use std::sync::{Arc, OnceLock};

use super::data::Scope;
use super::slot::ScopeSlot;
use super::slot_ref::SlotRef;

/// The current scope object of a `Scopes`. A fork ([`with_scope`](crate::with_scope),
/// [`Scopes::fork_current`](super::Scopes::fork_current)) starts as the data it was forked
/// from, with no scope object of its own: forking, entering and leaving allocate nothing. The
/// object is made on the first write, or when the `Scopes` is cloned (a clone must share the
/// object with the original, so that a write through either is seen by both).
pub(crate) struct CurrentSlot {
    /// The data at the time of the fork, until the object is made.
    forked: Option<Arc<Scope>>,
    object: OnceLock<SlotRef>,
}

impl CurrentSlot {
    /// An existing scope object.
    pub(crate) fn of(object: SlotRef) -> CurrentSlot {
        CurrentSlot {
            forked: None,
            object: OnceLock::from(object),
        }
    }

    /// A fork of `data` whose scope object is made when first needed.
    pub(crate) fn fork(data: Arc<Scope>) -> CurrentSlot {
        CurrentSlot {
            forked: Some(data),
            object: OnceLock::new(),
        }
    }

    /// The scope object, made now if this is a fork not yet written.
    pub(crate) fn object(&self) -> &SlotRef {
        self.object.get_or_init(|| {
            SlotRef::Shared(ScopeSlot::new(self.forked.clone().unwrap_or_default()))
        })
    }

    /// Whether the scope object exists (tests and benchmarks of the lazy fork).
    #[cfg(test)]
    pub(crate) fn is_made(&self) -> bool {
        self.object.get().is_some()
    }

    /// The current data: a reference-count increment.
    pub(crate) fn snapshot(&self) -> Arc<Scope> {
        match self.object.get() {
            Some(object) => object.snapshot(),
            None => self.forked.clone().unwrap_or_default(),
        }
    }

    /// Reads the current data without taking a snapshot.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Scope) -> R) -> R {
        match (self.object.get(), &self.forked) {
            (Some(object), _) => object.read(f),
            (None, Some(forked)) => f(forked),
            (None, None) => f(&Scope::default()),
        }
    }

    /// Changes the data with SDK code; see [`ScopeSlot::update`].
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut Scope) -> R) -> Option<R> {
        self.object().update(f)
    }

    /// Runs a user closure on a copy of the data; see [`ScopeSlot::configure`].
    pub(crate) fn configure<R>(&self, f: impl FnOnce(&mut Scope) -> R) -> Option<R> {
        self.object().configure(f)
    }

    /// Whether both are the same scope object (made for the comparison if needed).
    #[cfg(test)]
    pub(crate) fn same_as(&self, other: &CurrentSlot) -> bool {
        self.object().same_as(other.object())
    }
}

impl Clone for CurrentSlot {
    fn clone(&self) -> Self {
        CurrentSlot::of(self.object().clone())
    }
}

impl fmt::Debug for CurrentSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.object.get() {
            Some(object) => fmt::Debug::fmt(object, f),
            None => f.debug_tuple("Forked").field(&self.forked).finish(),
        }
    }
}
