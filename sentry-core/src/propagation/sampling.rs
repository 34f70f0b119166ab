//! The trace's random value, `sample_rand`: drawn once per trace and compared with every
//! sample rate along it, so that services sampling at the same rate agree.
//!
//! A `sample_rand` is in `[0, 1)` with six decimals. The head of a trace draws it
//! ([`new_sample_rand`]); every other SDK takes it from the incoming baggage, or, when the
//! upstream SDK did not send one, derives one that agrees with the upstream decision
//! ([`backfill_sample_rand`]). A trace is sampled at rate `r` when `sample_rand < r`.

use crate::random;

/// How many distinct values a `sample_rand` can take: six decimals.
const STEPS: u64 = 1_000_000;

/// A fresh random value for a new trace: uniform in `[0, 1)`, a multiple of `0.000001` (so it
/// is exactly what its six-decimal form in `baggage` reads back as).
///
/// # Examples
///
/// ```
/// use sentry_core::propagation::new_sample_rand;
///
/// let rand = new_sample_rand();
/// assert!((0.0..1.0).contains(&rand));
/// assert_eq!(format!("{rand:.6}").parse::<f64>().unwrap(), rand);
/// ```
pub fn new_sample_rand() -> f64 {
    step_value(uniform_below(STEPS))
}

/// A `sample_rand` for an incoming trace that came without one, consistent with the upstream
/// decision (`sampled`, from `sentry-trace`) and rate (`sample_rate`, from `baggage`):
///
/// - sampled with a rate `r`: uniform in `[0, r)`;
/// - not sampled with a rate `r`: uniform in `[r, 1)`;
/// - no decision, no rate (or a rate outside `[0, 1]`), or a decision that no value can agree
///   with (sampled at rate 0, not sampled at rate 1): uniform in `[0, 1)`, as for a new trace.
///
/// The result has six decimals, and `result < r` holds exactly when the trace was sampled, as
/// compared after the value is written to and read back from `baggage`.
///
/// # Examples
///
/// ```
/// use sentry_core::propagation::backfill_sample_rand;
///
/// assert!(backfill_sample_rand(Some(true), Some(0.25)) < 0.25);
/// assert!(backfill_sample_rand(Some(false), Some(0.25)) >= 0.25);
/// assert!((0.0..1.0).contains(&backfill_sample_rand(None, Some(0.25))));
/// ```
pub fn backfill_sample_rand(sampled: Option<bool>, sample_rate: Option<f64>) -> f64 {
    let Some(rate) = sample_rate.filter(|r| (0.0..=1.0).contains(r)) else {
        return new_sample_rand();
    };
    // The values below the rate are the steps 0..below.
    let below = steps_below(rate);
    match sampled {
        Some(true) if below > 0 => step_value(uniform_below(below)),
        Some(false) if below < STEPS => step_value(below + uniform_below(STEPS - below)),
        _ => new_sample_rand(),
    }
}

/// The value of step `n`: `n / 1_000_000`, the `f64` nearest to the decimal `0.nnnnnn`.
fn step_value(n: u64) -> f64 {
    // Both are exact integers in f64, and division rounds correctly.
    n as f64 / STEPS as f64
}

/// How many steps have a value below `rate`: the least `n` with `step_value(n) >= rate`.
fn steps_below(rate: f64) -> u64 {
    // `rate` is in [0, 1], so the product is in [0, 1e6] and the cast is exact.
    let mut n = (rate * STEPS as f64).ceil() as u64;
    // The product may be off by one either way; settle on the exact boundary.
    while n > 0 && step_value(n - 1) >= rate {
        n -= 1;
    }
    while n < STEPS && step_value(n) < rate {
        n += 1;
    }
    n
}

/// A uniform integer in `[0, bound)`, `bound > 0`, by the multiply-shift method (its bias, at
/// most `bound / 2^64`, is far below anything sampling could notice).
fn uniform_below(bound: u64) -> u64 {
    ((u128::from(random::u64()) * u128::from(bound)) >> 64) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the value is once written to `baggage` and read back.
    fn wire(rand: f64) -> f64 {
        let text = crate::propagation::dsc::format_sample_rand(rand).unwrap();
        assert_eq!(text.len(), 8, "{text}");
        text.parse().unwrap()
    }

    #[test]
    fn new_values_have_six_decimals_and_spread() {
        let mut low = false;
        let mut high = false;
        for _ in 0..10_000 {
            let rand = new_sample_rand();
            assert!((0.0..1.0).contains(&rand), "{rand}");
            assert_eq!(wire(rand), rand);
            low |= rand < 0.1;
            high |= rand >= 0.9;
        }
        assert!(low && high);
    }

    #[test]
    fn boundary_steps() {
        let table: &[(f64, u64)] = &[
            (0.0, 0),
            (1e-7, 1),
            (0.000001, 1),
            (0.0000011, 2),
            (0.1, 100_000),
            (0.3, 300_000),
            (0.7, 700_000),
            (0.123456, 123_456),
            (0.1234561, 123_457),
            (0.9999999, 1_000_000),
            (0.999999, 999_999),
            (1.0, 1_000_000),
        ];
        for &(rate, steps) in table {
            assert_eq!(steps_below(rate), steps, "{rate}");
        }
    }

    #[test]
    fn backfill_agrees_with_the_decision() {
        // Rates that are hard at the boundary, then random ones.
        let mut rates = vec![
            0.0, 1e-7, 0.000001, 0.0000015, 0.1, 0.3, 0.5, 0.7, 0.123456, 0.999999, 0.9999995, 1.0,
        ];
        rates.extend((0..200).map(|_| step_value(uniform_below(STEPS))));
        rates.extend((0..200).map(|_| (random::u64() >> 11) as f64 / (1u64 << 53) as f64));
        for rate in rates {
            for sampled in [true, false] {
                // Some value of six decimals can agree with the decision.
                let below = steps_below(rate);
                let consistent = if sampled { below > 0 } else { below < STEPS };
                for _ in 0..200 {
                    let rand = backfill_sample_rand(Some(sampled), Some(rate));
                    assert!((0.0..1.0).contains(&rand), "{rand}");
                    assert_eq!(wire(rand), rand);
                    if consistent {
                        assert_eq!(wire(rand) < rate, sampled, "rate {rate} rand {rand}");
                    }
                }
            }
        }
    }

    #[test]
    fn backfill_covers_its_whole_range() {
        let (mut min, mut max) = (1.0f64, 0.0f64);
        for _ in 0..20_000 {
            let rand = backfill_sample_rand(Some(false), Some(0.99));
            min = min.min(rand);
            max = max.max(rand);
        }
        assert!((0.99..0.9901).contains(&min), "{min}");
        assert!(max > 0.9998 && max < 1.0, "{max}");
        for _ in 0..1000 {
            assert_eq!(backfill_sample_rand(Some(true), Some(0.000001)), 0.0);
            assert_eq!(backfill_sample_rand(Some(false), Some(0.999999)), 0.999999);
        }
    }

    #[test]
    fn backfill_without_decision_or_rate_is_a_fresh_draw() {
        let cases = [
            (None, None),
            (None, Some(0.5)),
            (Some(true), None),
            (Some(false), None),
            (Some(true), Some(f64::NAN)),
            (Some(true), Some(1.5)),
            (Some(false), Some(-0.5)),
            // No value can agree with these.
            (Some(true), Some(0.0)),
            (Some(false), Some(1.0)),
        ];
        for (sampled, rate) in cases {
            let draws: Vec<f64> = (0..2000)
                .map(|_| backfill_sample_rand(sampled, rate))
                .collect();
            assert!(draws
                .iter()
                .all(|r| (0.0..1.0).contains(r) && wire(*r) == *r));
            assert!(draws.iter().any(|r| *r < 0.1), "{sampled:?} {rate:?}");
            assert!(draws.iter().any(|r| *r >= 0.9), "{sampled:?} {rate:?}");
        }
    }
}
