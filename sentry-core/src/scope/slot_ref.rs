//! [`SlotRef`]: how scopes hold a scope object, without a reference count for the process's
//! own.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use super::slot::ScopeSlot;

/// A scope object held by [`Scopes`](super::Scopes): one of the process's default scope
/// objects, which live as long as the process and are copied as a pointer, or a forked one,
/// shared by reference count.
///
/// Threads that never forked use the default scopes, so taking or entering their `Scopes`
/// (`Scopes::current()`, a fork's isolation scope) touches no reference count shared by every
/// thread.
#[derive(Clone)]
pub(crate) enum SlotRef {
    /// A default scope object of the process.
    Static(&'static ScopeSlot),
    /// A forked scope object.
    Shared(Arc<ScopeSlot>),
}

impl SlotRef {
    /// Whether both are the same scope object.
    #[cfg(test)]
    pub(crate) fn same_as(&self, other: &SlotRef) -> bool {
        std::ptr::eq::<ScopeSlot>(&**self, &**other)
    }
}

impl Deref for SlotRef {
    type Target = ScopeSlot;

    fn deref(&self) -> &ScopeSlot {
        match self {
            SlotRef::Static(slot) => slot,
            SlotRef::Shared(slot) => slot,
        }
    }
}

impl From<Arc<ScopeSlot>> for SlotRef {
    fn from(slot: Arc<ScopeSlot>) -> Self {
        SlotRef::Shared(slot)
    }
}

impl fmt::Debug for SlotRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
