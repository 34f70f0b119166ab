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
/// object with the original, so that a write through either is seen by both). A fork of an
/// empty scope holds no data either (`None`): it reads the process's empty scope, and making
/// it touches no lock and no reference count.
pub(crate) struct CurrentSlot(State);

enum State {
    /// A scope object (the default current scope, a fork that was written or cloned).
    Made(SlotRef),
    /// A fork: the data at the time of the fork (`None`: empty), and the object once made.
    Fork {
        data: Option<Arc<Scope>>,
        object: OnceLock<SlotRef>,
    },
}

impl CurrentSlot {
    /// An existing scope object.
    pub(crate) fn of(object: SlotRef) -> CurrentSlot {
        CurrentSlot(State::Made(object))
    }

    /// A fork of `data` (`None`: an empty scope) whose scope object is made when first needed.
    pub(crate) fn fork(data: Option<Arc<Scope>>) -> CurrentSlot {
        CurrentSlot(State::Fork {
            data,
            object: OnceLock::new(),
        })
    }

    /// The scope object, made now if this is a fork not yet written.
    pub(crate) fn object(&self) -> &SlotRef {
        match &self.0 {
            State::Made(object) => object,
            State::Fork { data, object } => object
                .get_or_init(|| SlotRef::Shared(ScopeSlot::new(data.clone().unwrap_or_default()))),
        }
    }

    /// The scope object if it exists.
    fn made(&self) -> Option<&SlotRef> {
        match &self.0 {
            State::Made(object) => Some(object),
            State::Fork { object, .. } => object.get(),
        }
    }

    /// Whether the scope object exists (tests of the lazy fork).
    #[cfg(test)]
    pub(crate) fn is_made(&self) -> bool {
        self.made().is_some()
    }

    /// The current data (`None`: empty): a reference-count increment at most.
    pub(crate) fn snapshot(&self) -> Option<Arc<Scope>> {
        match &self.0 {
            State::Made(object) => object.fork_data(),
            State::Fork { data, object } => match object.get() {
                Some(object) => object.fork_data(),
                None => data.clone(),
            },
        }
    }

    /// Reads the current data without taking a snapshot.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Scope) -> R) -> R {
        match &self.0 {
            State::Made(object) => object.read(f),
            State::Fork { data, object } => match object.get() {
                Some(object) => object.read(f),
                None => f(data.as_deref().unwrap_or(Scope::empty())),
            },
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
        match (&self.0, self.made()) {
            (State::Fork { data, .. }, None) => f.debug_tuple("Forked").field(data).finish(),
            (_, object) => fmt::Debug::fmt(&object, f),
        }
    }
}
