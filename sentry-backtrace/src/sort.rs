//! A heapsort for the crate's two sorts (symbol-table entries, loaded images).
//!
//! The standard library's sorts are faster, but every element type they are used with adds
//! machine code to the program (small-sort networks, merges, pivot selection). Measured with
//! std's `sort_unstable` in both places instead:
//!
//! - the stripped `cargo xtask footprint` probe (default features, release) grows by 8.5 KB,
//!   from 3,380,640 to 3,389,176 bytes;
//! - loading the symbol table of a 73 MB debug test binary (42,881 symbols; fastest of 41
//!   loads) takes 10.8 ms with the heapsort and 8.4 ms with std's in a release build of the
//!   SDK, 64 ms and 47 ms in a debug build. A table is loaded once per image per process, on
//!   the transport's thread.
//!
//! The 2–17 ms once per image buy 8.5 KB in every application, so the heapsort stays.

/// Sorts `items` by `key`, ascending. Not stable: entries with equal keys may change order.
pub(crate) fn heap_sort_by_key<T, K: Ord>(items: &mut [T], key: impl Fn(&T) -> K) {
    let len = items.len();
    // Build a max-heap, then move the largest remaining item behind the heap, repeatedly.
    for start in (0..len / 2).rev() {
        sift_down(items, start, len, &key);
    }
    for end in (1..len).rev() {
        items.swap(0, end);
        sift_down(items, 0, end, &key);
    }
}

/// Restores the heap property below `root` within `items[..end]`.
fn sift_down<T, K: Ord>(items: &mut [T], mut root: usize, end: usize, key: &impl Fn(&T) -> K) {
    loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && key(&items[child]) < key(&items[child + 1]) {
            child += 1;
        }
        if key(&items[root]) >= key(&items[child]) {
            return;
        }
        items.swap(root, child);
        root = child;
    }
}

#[cfg(test)]
mod tests {
    use super::heap_sort_by_key;

    #[test]
    fn sorts_like_the_standard_library() {
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        for len in [0, 1, 2, 3, 7, 8, 100, 1_000] {
            let mut items: Vec<(u64, u32)> = (0..len)
                .map(|i| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state % 50, i)
                })
                .collect();
            let mut expected = items.clone();
            expected.sort_by_key(|item| item.0);
            heap_sort_by_key(&mut items, |item| item.0);
            let keys: Vec<u64> = items.iter().map(|item| item.0).collect();
            let expected_keys: Vec<u64> = expected.iter().map(|item| item.0).collect();
            assert_eq!(keys, expected_keys, "length {len}");
            // Nothing lost or duplicated.
            let mut ids: Vec<u32> = items.iter().map(|item| item.1).collect();
            ids.sort_unstable();
            assert!(ids.iter().copied().eq(0..len), "length {len}");
        }
    }

    #[test]
    fn already_sorted_and_reversed_inputs() {
        let mut up: Vec<u32> = (0..500).collect();
        heap_sort_by_key(&mut up, |&n| n);
        assert!(up.iter().copied().eq(0..500));
        let mut down: Vec<u32> = (0..500).rev().collect();
        heap_sort_by_key(&mut down, |&n| n);
        assert!(down.iter().copied().eq(0..500));
    }
}
