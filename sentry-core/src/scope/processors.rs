//! [`Processors`]: a scope's event processors, shared copy-on-write between forks.

use std::ops::Deref;
use std::sync::Arc;

use super::data::EventProcessor;

/// The event processors of a [`Scope`](super::Scope), in the order they were added.
///
/// A scope usually has none or one (a web framework's request data): one is held as it is,
/// so adding it costs no allocation besides the processor's own (a list in a shared vector
/// costs two more, the vector's `Arc` and its buffer). Several are a shared slice, copied
/// when one is added (processors are added once per scope, not per event). Forks share them;
/// cloning is at most one reference count.
#[derive(Clone, Default)]
pub(crate) enum Processors {
    /// None.
    #[default]
    None,
    /// One.
    One(EventProcessor),
    /// Two or more.
    Many(Arc<[EventProcessor]>),
}

impl Processors {
    /// Adds `processor` after the others.
    pub(crate) fn push(&mut self, processor: EventProcessor) {
        *self = match std::mem::take(self) {
            Processors::None => Processors::One(processor),
            Processors::One(first) => Processors::Many(Arc::from([first, processor])),
            Processors::Many(list) => Processors::Many(
                list.iter()
                    .cloned()
                    .chain(std::iter::once(processor))
                    .collect(),
            ),
        };
    }

    /// Whether there are none.
    pub(crate) fn is_none(&self) -> bool {
        matches!(self, Processors::None)
    }

    /// Whether both are the same processors (the same allocations): an unchanged field of a
    /// fork.
    pub(crate) fn same_as(&self, other: &Processors) -> bool {
        match (self, other) {
            (Processors::None, Processors::None) => true,
            (Processors::One(a), Processors::One(b)) => Arc::ptr_eq(a, b),
            (Processors::Many(a), Processors::Many(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Deref for Processors {
    type Target = [EventProcessor];

    fn deref(&self) -> &[EventProcessor] {
        match self {
            Processors::None => &[],
            Processors::One(processor) => std::slice::from_ref(processor),
            Processors::Many(list) => list,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn processor(tag: &'static str) -> EventProcessor {
        Arc::new(
            move |mut event: crate::protocol::Event, _: &crate::hint::Hint<'_>| {
                event.tags.insert(tag.into(), "1".into());
                Some(event)
            },
        )
    }

    #[test]
    fn kept_in_order_and_shared_until_changed() {
        let mut list = Processors::default();
        assert!(list.is_empty() && list.same_as(&Processors::None));
        list.push(processor("a"));
        let one = list.clone();
        assert!(list.same_as(&one));
        list.push(processor("b"));
        list.push(processor("c"));
        assert!(!list.same_as(&one));
        assert_eq!((one.len(), list.len()), (1, 3));
        assert!(Arc::ptr_eq(&one[0], &list[0]));
        let hint = crate::hint::Hint::default();
        let event = list
            .iter()
            .try_fold(crate::protocol::Event::new(), |event, p| p(event, &hint))
            .unwrap();
        assert_eq!(event.tags.len(), 3);
    }
}
