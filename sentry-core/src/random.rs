//! The SDK's source of random numbers: identifiers and sampling decisions.
//!
//! Each thread owns a [xoshiro256++] generator (256 bits of state, period 2^256 − 1, fast and
//! statistically strong; **not** cryptographically secure — nothing here needs to be secret,
//! only unpredictable enough never to repeat). A thread seeds its generator on first use by
//! hashing, through a fresh [`RandomState`], a process-wide counter, the time, the process id
//! and a stack address:
//!
//! - `RandomState` keys its SipHash with 128 bits the standard library draws from the operating
//!   system's random source once per thread, so two processes (or two threads) start from
//!   unrelated states even when they start in the same nanosecond;
//! - the counter makes every seeding in a process hash a different input, so two threads of one
//!   process never share a seed.
//!
//! With independent 256-bit starting points, two generators reaching overlapping stretches of
//! the sequence is as unlikely as guessing a 128-bit key. No dependency is needed and a draw
//! costs a few nanoseconds with no lock and no system call.
//!
//! A process that `fork`s without `exec` duplicates the forking thread's generator along with
//! the rest of its memory; the SDK does not support being used in such a child (its transport
//! thread does not survive the fork either) and should be initialised after forking.
//!
//! [xoshiro256++]: https://prng.di.unimi.it/
//! [`RandomState`]: std::collections::hash_map::RandomState

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

thread_local! {
    /// The calling thread's generator, seeded on first use. A plain `Cell` of a `Copy` type:
    /// no destructor, so it stays usable while other thread-locals are being destroyed.
    static GENERATOR: Cell<Option<Xoshiro256PlusPlus>> = const { Cell::new(None) };
}

/// A uniformly distributed random `u64`.
pub(crate) fn u64() -> u64 {
    GENERATOR
        .try_with(|cell| {
            let mut generator = cell.get().unwrap_or_else(Xoshiro256PlusPlus::from_entropy);
            let value = generator.next_u64();
            cell.set(Some(generator));
            value
        })
        // Only reachable if thread-locals are gone altogether: a generator used once.
        .unwrap_or_else(|_| Xoshiro256PlusPlus::from_entropy().next_u64())
}

/// A uniformly distributed random `u64` that is never zero.
pub(crate) fn non_zero_u64() -> u64 {
    non_zero(u64)
}

/// 16 uniformly distributed random bytes, never all zero.
pub(crate) fn bytes16() -> [u8; 16] {
    let high = u64();
    let low = if high == 0 { non_zero_u64() } else { u64() };
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&high.to_be_bytes());
    bytes[8..].copy_from_slice(&low.to_be_bytes());
    bytes
}

/// A uniformly distributed random `f32` in `[0, 1)`: 24 random bits (the type's precision)
/// scaled down, so every value is a multiple of 2^-24.
///
/// An event is kept when `f32() < sample_rate`: a rate of `0.0` keeps nothing, `1.0` keeps
/// everything.
pub(crate) fn f32() -> f32 {
    const SCALE: f32 = 1.0 / (1u32 << 24) as f32;
    (u64() >> 40) as f32 * SCALE
}

/// A uniformly distributed random `f64` in `[0, 1)`: 53 random bits (the type's precision)
/// scaled down, so every value is a multiple of 2^-53.
#[cfg(test)]
pub(crate) fn f64() -> f64 {
    const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
    (u64() >> 11) as f64 * SCALE
}

/// Draws from `draw` until it yields a non-zero value (with a uniform 64-bit source, the loop
/// runs again once in 2^64 draws).
fn non_zero(mut draw: impl FnMut() -> u64) -> u64 {
    loop {
        let value = draw();
        if value != 0 {
            return value;
        }
    }
}

/// The xoshiro256++ generator of Blackman and Vigna (public-domain reference algorithm).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Xoshiro256PlusPlus {
    state: [u64; 4],
}

impl Xoshiro256PlusPlus {
    /// A generator from explicit state. The all-zero state is the one state xoshiro cannot
    /// leave, so it is replaced.
    fn from_state(mut state: [u64; 4]) -> Self {
        if state == [0; 4] {
            state[0] = 1;
        }
        Xoshiro256PlusPlus { state }
    }

    /// A generator seeded from the operating system's randomness (through the per-thread keys
    /// of [`RandomState`]) mixed with a process-wide counter, the time, the process id and an
    /// address on the stack (randomised by ASLR).
    fn from_entropy() -> Self {
        static SEEDINGS: AtomicU64 = AtomicU64::new(0);
        let seeding = SEEDINGS.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let keys = RandomState::new();
        let stack_address = std::ptr::addr_of!(keys) as usize;
        let mut state = [0u64; 4];
        for (word, index) in state.iter_mut().zip(0u64..) {
            let mut hasher = keys.build_hasher();
            hasher.write_u64(index);
            hasher.write_u64(seeding);
            hasher.write_u128(nanos);
            hasher.write_u32(std::process::id());
            hasher.write_usize(stack_address);
            *word = hasher.finish();
        }
        Self::from_state(state)
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn matches_the_reference_sequence() {
        // The first outputs of the reference C implementation seeded with {1, 2, 3, 4}.
        let mut generator = Xoshiro256PlusPlus::from_state([1, 2, 3, 4]);
        let expected: [u64; 10] = [
            41943041,
            58720359,
            3588806011781223,
            3591011842654386,
            9228616714210784205,
            9973669472204895162,
            14011001112246962877,
            12406186145184390807,
            15849039046786891736,
            10450023813501588000,
        ];
        for value in expected {
            assert_eq!(generator.next_u64(), value);
        }
    }

    #[test]
    fn zero_state_is_replaced() {
        let mut generator = Xoshiro256PlusPlus::from_state([0; 4]);
        assert_ne!(generator.state, [0; 4]);
        assert!((0..4).any(|_| generator.next_u64() != 0));
    }

    #[test]
    fn seeds_differ_between_generators() {
        let seeds: HashSet<[u64; 4]> = (0..1000)
            .map(|_| Xoshiro256PlusPlus::from_entropy().state)
            .collect();
        assert_eq!(seeds.len(), 1000);
    }

    #[test]
    fn u64_values_do_not_repeat() {
        let values: HashSet<u64> = (0..100_000).map(|_| u64()).collect();
        assert_eq!(values.len(), 100_000);
    }

    #[test]
    fn bits_are_balanced() {
        // Every bit position is set in about half of the draws.
        const DRAWS: u32 = 20_000;
        let mut ones = [0u32; 64];
        for _ in 0..DRAWS {
            let value = u64();
            for (bit, count) in ones.iter_mut().enumerate() {
                *count += ((value >> bit) & 1) as u32;
            }
        }
        // 20 000 fair coin flips: standard deviation ~71; allow 6 of them.
        for (bit, count) in ones.iter().enumerate() {
            assert!(count.abs_diff(DRAWS / 2) < 430, "bit {bit}: {count} ones");
        }
    }

    #[test]
    fn non_zero_retries_zero_draws() {
        let mut draws = [0, 0, 7].into_iter();
        assert_eq!(non_zero(|| draws.next().unwrap_or(9)), 7);
        assert!((0..10_000).all(|_| non_zero_u64() != 0));
        assert!((0..10_000).all(|_| bytes16() != [0; 16]));
    }

    #[test]
    fn floats_are_in_the_unit_interval_and_uniform() {
        const DRAWS: usize = 100_000;
        let mut sum32 = 0.0f64;
        let mut sum64 = 0.0f64;
        let mut buckets = [0usize; 10];
        for _ in 0..DRAWS {
            let x = f32();
            let y = f64();
            assert!((0.0..1.0).contains(&x), "{x}");
            assert!((0.0..1.0).contains(&y), "{y}");
            sum32 += f64::from(x);
            sum64 += y;
            buckets[(y * 10.0) as usize] += 1;
        }
        // Mean 0.5, standard deviation of the mean ~0.0009.
        assert!((sum32 / DRAWS as f64 - 0.5).abs() < 0.006, "{sum32}");
        assert!((sum64 / DRAWS as f64 - 0.5).abs() < 0.006, "{sum64}");
        // 10 000 expected per bucket, standard deviation ~95.
        for (i, count) in buckets.iter().enumerate() {
            assert!(count.abs_diff(DRAWS / 10) < 600, "bucket {i}: {count}");
        }
    }

    #[test]
    fn sample_rate_keeps_the_configured_fraction() {
        // The client keeps an event when `f32() < sample_rate`.
        const DRAWS: usize = 100_000;
        for rate in [0.01f32, 0.1, 0.25, 0.5, 0.9] {
            let kept = (0..DRAWS).filter(|_| f32() < rate).count();
            let fraction = kept as f64 / DRAWS as f64;
            let sigma = (f64::from(rate) * (1.0 - f64::from(rate)) / DRAWS as f64).sqrt();
            assert!(
                (fraction - f64::from(rate)).abs() < 6.0 * sigma,
                "rate {rate}: kept {fraction}"
            );
        }
        assert_eq!((0..10_000).filter(|_| f32() < 0.0).count(), 0);
        assert_eq!((0..10_000).filter(|_| f32() < 1.0).count(), 10_000);
    }

    #[test]
    fn threads_draw_distinct_values() {
        const THREADS: usize = 8;
        const PER_THREAD: usize = 20_000;
        let handles: Vec<_> = (0..THREADS)
            .map(|_| std::thread::spawn(|| (0..PER_THREAD).map(|_| u64()).collect::<Vec<_>>()))
            .collect();
        let mut all = HashSet::new();
        for handle in handles {
            all.extend(handle.join().unwrap());
        }
        assert_eq!(all.len(), THREADS * PER_THREAD);
    }

    /// The worked examples of this module's functions.
    #[test]
    fn documented_examples() {
        {
            let a = crate::random::u64();
            let b = crate::random::u64();
            assert_ne!(a, b);
        }
        {
            let x = crate::random::f32();
            assert!((0.0..1.0).contains(&x));
        }
        {
            let x = crate::random::f64();
            assert!((0.0..1.0).contains(&x));
        }
    }
}
