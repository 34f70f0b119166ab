//! The span vectors of sent transactions, kept for the next large ones.
//!
//! A transaction gathers its spans in one vector, which grows by doubling up to 1,024 spans
//! (about 220 KiB). Grown from nothing every time, a large transaction copies its spans about
//! once more on the way, and its vector is freed on the transport worker after sending: glibc
//! serves a block that large by `mmap`, or gives it back to the system when it is freed, so the
//! next large transaction faults its pages in again. The worker hands a sent transaction's
//! vector back here (emptied, its allocation kept), and a transaction that outgrows
//! [`MIN_KEPT`] spans continues in a kept vector instead of growing its own. At most [`KEPT`]
//! vectors are kept, only in processes that had such transactions.

use std::sync::{Mutex, PoisonError};

use crate::envelope::{Envelope, EnvelopeItem};
use crate::protocol::Span;

/// At most this many vectors are kept (about 220 KiB each at most).
pub(crate) const KEPT: usize = 4;
/// A transaction that grows past this many spans takes a kept vector; smaller vectors are not
/// kept (the allocator serves them well).
pub(crate) const MIN_KEPT: usize = 64;
/// Vectors above this capacity are not kept (a transaction records at most 1,000 spans).
pub(crate) const MAX_KEPT: usize = 1024;

/// The process's kept vectors.
static KEPT_VECTORS: KeptVectors = KeptVectors::new();

/// Makes room for one more span in `spans`: when it is full with [`MIN_KEPT`] spans or more,
/// moves them into a kept vector of larger capacity, if one is kept.
#[inline]
pub(crate) fn reserve_one(spans: &mut Vec<Span>) {
    KEPT_VECTORS.reserve_one(spans);
}

/// Keeps the allocation of the span vector of a transaction in `envelope` (sent, or discarded)
/// for a later transaction. Its spans are dropped here.
pub(crate) fn give_back(envelope: &mut Envelope) {
    for item in envelope.items_mut() {
        if let EnvelopeItem::Transaction(event) = item {
            #[cfg(test)]
            tests::note_given_back(event.spans.capacity());
            KEPT_VECTORS.give_back(std::mem::take(&mut event.spans));
        }
    }
}

/// Kept span vectors.
struct KeptVectors {
    vectors: Mutex<Vec<Vec<Span>>>,
}

impl KeptVectors {
    const fn new() -> KeptVectors {
        KeptVectors {
            vectors: Mutex::new(Vec::new()),
        }
    }

    #[inline]
    fn reserve_one(&self, spans: &mut Vec<Span>) {
        if spans.len() == spans.capacity() && spans.len() >= MIN_KEPT {
            self.take(spans);
        }
    }

    #[cold]
    fn take(&self, spans: &mut Vec<Span>) {
        let kept = self
            .vectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        if let Some(mut kept) = kept {
            if kept.capacity() > spans.len() {
                kept.append(spans);
                // The small vector is freed here, on the thread that allocated it.
                *spans = kept;
            } else {
                self.give_back(kept);
            }
        }
    }

    fn give_back(&self, mut spans: Vec<Span>) {
        if !(MIN_KEPT * 2..=MAX_KEPT).contains(&spans.capacity()) {
            return;
        }
        spans.clear();
        let mut vectors = self.vectors.lock().unwrap_or_else(PoisonError::into_inner);
        if vectors.len() < KEPT {
            vectors.push(spans);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The capacities of the span vectors given back so far in this test process (kept or
    /// not: other tests share the process's vectors).
    static GIVEN_BACK: Mutex<Vec<usize>> = Mutex::new(Vec::new());

    pub(super) fn note_given_back(capacity: usize) {
        GIVEN_BACK
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(capacity);
    }

    /// Whether a span vector of this capacity was given back.
    pub(crate) fn was_given_back(capacity: usize) -> bool {
        GIVEN_BACK
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&capacity)
    }

    fn full(n: usize) -> Vec<Span> {
        let mut spans: Vec<Span> = (0..n).map(|_| Span::default()).collect();
        spans.shrink_to_fit();
        spans
    }

    #[test]
    fn a_full_vector_continues_in_a_kept_one() {
        let kept = KeptVectors::new();
        let mut sent: Vec<Span> = Vec::with_capacity(MAX_KEPT);
        sent.push(Span::default());
        kept.give_back(sent);
        let mut spans = full(MIN_KEPT);
        kept.reserve_one(&mut spans);
        assert_eq!(spans.len(), MIN_KEPT, "the spans moved along");
        assert_eq!(spans.capacity(), MAX_KEPT, "into the kept vector");
        // That was the only one: the next full vector grows its own way.
        let mut other = full(MIN_KEPT);
        kept.reserve_one(&mut other);
        assert_eq!(other.capacity(), MIN_KEPT);
        // A vector with room is left alone.
        let mut roomy: Vec<Span> = Vec::with_capacity(MAX_KEPT);
        roomy.extend(full(MIN_KEPT));
        kept.give_back(Vec::with_capacity(MAX_KEPT));
        kept.reserve_one(&mut roomy);
        assert_eq!(kept.vectors.lock().map(|v| v.len()).unwrap_or(0), 1);
    }

    #[test]
    fn only_vectors_worth_keeping_are_kept_and_at_most_four() {
        let kept = KeptVectors::new();
        kept.give_back(Vec::with_capacity(MIN_KEPT)); // small: the allocator serves it well
        kept.give_back(Vec::with_capacity(MAX_KEPT * 2)); // larger than a transaction needs
        assert_eq!(kept.vectors.lock().map(|v| v.len()).unwrap_or(0), 0);
        for _ in 0..KEPT + 2 {
            kept.give_back(Vec::with_capacity(MAX_KEPT));
        }
        assert_eq!(kept.vectors.lock().map(|v| v.len()).unwrap_or(0), KEPT);
        // Spans given back are dropped; the allocation stays.
        let mut sent: Vec<Span> = Vec::with_capacity(MAX_KEPT);
        sent.push(Span::default());
        let kept = KeptVectors::new();
        kept.give_back(sent);
        let vectors = kept.vectors.lock().expect("not poisoned");
        assert!(vectors[0].is_empty());
        assert_eq!(vectors[0].capacity(), MAX_KEPT);
    }
}
