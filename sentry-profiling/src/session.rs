//! Whether this process is profiled: one random draw per process, compared with
//! `profile_session_sample_rate`.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// `true` if a process with this rate is profiled. The draw is made once per process, so the
/// answer for a rate never changes; a rate outside 0.0–1.0 (or NaN) counts as 0.
pub(crate) fn process_sampled(rate: f32) -> bool {
    if rate.is_nan() || rate <= 0.0 || rate > 1.0 {
        return false;
    }
    rate >= 1.0 || draw() < rate
}

/// The process's draw in `[0, 1)`.
fn draw() -> f32 {
    static DRAW: OnceLock<f32> = OnceLock::new();
    *DRAW.get_or_init(|| {
        // The standard library's randomly keyed hasher: a fresh random key per process.
        let bits = RandomState::new().build_hasher().finish();
        (bits >> 40) as f32 / (1u64 << 24) as f32
    })
}

/// Says once per process that it is not profiled.
pub(crate) fn log_not_sampled(rate: f32) {
    static SAID: AtomicBool = AtomicBool::new(false);
    if !SAID.swap(true, Ordering::Relaxed) {
        sentry_core::sentry_debug!(
            "this process is not profiled (profile_session_sample_rate {rate}); the profiler \
             stays off"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_decides_and_the_draw_stays() {
        assert!(process_sampled(1.0));
        assert!(!process_sampled(0.0));
        assert!(!process_sampled(-1.0));
        assert!(!process_sampled(1.5));
        assert!(!process_sampled(f32::NAN));
        let d = draw();
        assert!((0.0..1.0).contains(&d));
        assert_eq!(draw(), d);
        assert_eq!(process_sampled(0.5), process_sampled(0.5));
    }
}
