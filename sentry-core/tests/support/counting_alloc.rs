//! A global allocator that counts allocations and forwards every call to the system
//! allocator, for the tests that show a path allocates nothing. Each such test is its own
//! binary (`#[path = "support/counting_alloc.rs"] mod counting_alloc;`), so the count sees
//! every allocation of that process.
#![allow(unsafe_code)] // `GlobalAlloc` is an unsafe trait; this only counts and forwards.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The allocations made so far by the whole process.
pub(crate) static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

struct Counting;

// SAFETY: forwards every call unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;
