//! The recursion guard: records the SDK produced itself are never captured again.

use std::cell::Cell;

thread_local! {
    /// Set while this thread is inside a bridge, turning a record into captures.
    static IN_BRIDGE: Cell<bool> = const { Cell::new(false) };
}

/// `true` when a record arriving now may be captured: an SDK client is enabled, the thread is
/// neither the SDK's worker nor inside an SDK callback, and the record was not produced while a
/// bridge was already capturing on this thread (by the SDK's own code, or by a destination
/// logger).
#[inline]
pub(crate) fn capture_allowed() -> bool {
    sentry_minimal::is_enabled() && !sentry_core::integration::inside_sdk() && !in_bridge()
}

fn in_bridge() -> bool {
    IN_BRIDGE.try_with(Cell::get).unwrap_or(true)
}

/// Marks this thread as inside a bridge until dropped.
pub(crate) struct BridgeGuard {
    was: bool,
}

impl BridgeGuard {
    pub(crate) fn enter() -> BridgeGuard {
        BridgeGuard {
            was: IN_BRIDGE.try_with(|c| c.replace(true)).unwrap_or(true),
        }
    }
}

impl Drop for BridgeGuard {
    fn drop(&mut self) {
        let _ = IN_BRIDGE.try_with(|c| c.set(self.was));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_records_are_refused() {
        assert!(!in_bridge());
        {
            let _outer = BridgeGuard::enter();
            assert!(in_bridge());
            assert!(!capture_allowed());
            {
                let _inner = BridgeGuard::enter();
            }
            assert!(in_bridge(), "the inner guard restores, not clears");
        }
        assert!(!in_bridge());
    }
}
