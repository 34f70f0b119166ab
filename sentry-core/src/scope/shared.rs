//! [`Shared`]: a scope field shared copy-on-write between forks, allocated only once it holds
//! something.

use std::collections::VecDeque;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use sentry_minimal::{Breadcrumb, Map};

use crate::protocol::{Attachment, Contexts, LogAttributes, Tags};

/// A collection field of a [`Scope`](super::Scope): `None` while empty, else an `Arc` shared
/// by every fork until one side changes it.
///
/// An empty field costs nothing to create, clone or drop: forking a scope whose fields are
/// empty (the usual current scope) touches no reference count, and an empty scope allocates
/// nothing. Reading an empty field reads a process-wide empty value ([`Empty`]).
pub(crate) struct Shared<T>(Option<Arc<T>>);

/// A collection type with a process-wide empty value, for [`Shared`] to lend while it holds
/// nothing.
pub(crate) trait Empty: Clone + Default + 'static {
    /// The empty value.
    fn empty() -> &'static Self;
    /// Whether this value is empty (then [`Shared`] lets it go).
    fn is_empty_value(&self) -> bool;
}

macro_rules! empty_collection {
    ($($ty:ty => $new:expr),* $(,)?) => {$(
        impl Empty for $ty {
            fn empty() -> &'static Self {
                static EMPTY: $ty = $new;
                &EMPTY
            }
            fn is_empty_value(&self) -> bool {
                self.is_empty()
            }
        }
    )*};
}

empty_collection! {
    Tags => Tags::new(),
    Map => Map::new(),
    Contexts => Contexts::new(),
    VecDeque<(u64, Arc<Breadcrumb>)> => VecDeque::new(),
    Vec<Attachment> => Vec::new(),
    LogAttributes => LogAttributes::new(),
}

impl<T> Shared<T> {
    /// An empty field.
    pub(crate) const fn new() -> Self {
        Shared(None)
    }

    /// Whether nothing is allocated (an emptied collection may still be).
    pub(crate) fn is_unset(&self) -> bool {
        self.0.is_none()
    }

    /// Whether both fields are the same allocation (or both empty): an unchanged field of a
    /// fork.
    pub(crate) fn same_as(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl<T: Empty> Shared<T> {
    /// The value to change: copied first if another fork shares it, allocated if empty.
    pub(crate) fn make_mut(&mut self) -> &mut T {
        Arc::make_mut(self.0.get_or_insert_with(Arc::default))
    }

    /// Empties the field (nothing allocated afterwards).
    pub(crate) fn clear(&mut self) {
        self.0 = None;
    }

    /// Lets the allocation go when a change left the value empty.
    pub(crate) fn release_if_empty(&mut self) {
        if self.0.as_deref().is_some_and(T::is_empty_value) {
            self.0 = None;
        }
    }
}

impl<T: Empty> Deref for Shared<T> {
    type Target = T;

    fn deref(&self) -> &T {
        match &self.0 {
            Some(value) => value,
            None => T::empty(),
        }
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<T> Default for Shared<T> {
    fn default() -> Self {
        Shared::new()
    }
}

impl<T: Empty + fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_allocates_nothing_and_copies_on_write() {
        let mut a: Shared<Tags> = Shared::new();
        assert!(a.is_empty());
        let b = a.clone();
        assert!(a.same_as(&b));
        a.make_mut().insert("k".into(), "v".into());
        assert!(!a.same_as(&b));
        assert!(b.is_empty());
        let c = a.clone();
        a.make_mut().insert("k2".into(), "v".into());
        assert_eq!((a.len(), c.len()), (2, 1));
        a.make_mut().clear();
        a.release_if_empty();
        assert!(a.same_as(&Shared::new()));
    }
}
