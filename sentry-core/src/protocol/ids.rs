//! Fresh random identifiers, drawn from the SDK's own generator ([`crate::random`]).

use sentry_minimal::{EventId, SpanId, TraceId};

use crate::random;

/// A fresh random event id (shaped as a version 4 UUID: 122 random bits; written without
/// dashes). Never nil.
///
/// # Examples
///
/// ```
/// let a = sentry_core::protocol::new_event_id();
/// assert_ne!(a, sentry_core::protocol::new_event_id());
/// assert!(!a.is_nil());
/// ```
pub fn new_event_id() -> EventId {
    EventId::from_bytes(uuid_v4())
}

/// A fresh random trace id (shaped as a version 4 UUID: 122 random bits). Never nil.
pub fn new_trace_id() -> TraceId {
    TraceId::from_bytes(uuid_v4())
}

/// A fresh random span id: 64 random bits, never all zero.
pub fn new_span_id() -> SpanId {
    SpanId::from_bytes(random::non_zero_u64().to_be_bytes())
}

/// 16 random bytes with the version (4) and variant (RFC 4122) bits of a random UUID set, so
/// the result is never nil.
fn uuid_v4() -> [u8; 16] {
    let mut bytes = random::bytes16();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Set for the child processes of [`ids_differ_across_processes`].
    const CHILD_ENV: &str = "SENTRY_CORE_IDS_TEST_CHILD";
    const CHILD_IDS: usize = 1000;

    #[test]
    fn ids_are_random_and_not_nil() {
        assert_ne!(new_event_id(), new_event_id());
        assert_ne!(new_trace_id(), new_trace_id());
        let span = new_span_id();
        assert!(!span.is_nil());
        assert_ne!(span, new_span_id());
        assert_eq!(new_event_id().to_string().len(), 32);
    }

    #[test]
    fn event_and_trace_ids_are_version_4_uuids() {
        for _ in 0..1000 {
            for bytes in [*new_event_id().as_bytes(), *new_trace_id().as_bytes()] {
                assert_eq!(bytes[6] >> 4, 4);
                assert_eq!(bytes[8] >> 6, 0b10);
            }
        }
        let text = new_event_id().to_string();
        assert_eq!(&text[12..13], "4");
        assert!(matches!(&text[16..17], "8" | "9" | "a" | "b"), "{text}");
    }

    #[test]
    fn ids_do_not_repeat_over_100k_draws() {
        const DRAWS: usize = 100_000;
        let events: HashSet<EventId> = (0..DRAWS).map(|_| new_event_id()).collect();
        let traces: HashSet<TraceId> = (0..DRAWS).map(|_| new_trace_id()).collect();
        let spans: HashSet<SpanId> = (0..DRAWS).map(|_| new_span_id()).collect();
        assert_eq!(events.len(), DRAWS);
        assert_eq!(traces.len(), DRAWS);
        assert_eq!(spans.len(), DRAWS);
        assert!(events.iter().all(|id| !id.is_nil()));
        assert!(traces.iter().all(|id| !id.is_nil()));
        assert!(spans.iter().all(|id| !id.is_nil()));
    }

    #[test]
    fn ids_do_not_repeat_across_threads() {
        const THREADS: usize = 8;
        const PER_THREAD: usize = 10_000;
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                std::thread::spawn(|| {
                    let events: Vec<EventId> = (0..PER_THREAD).map(|_| new_event_id()).collect();
                    let spans: Vec<SpanId> = (0..PER_THREAD).map(|_| new_span_id()).collect();
                    (events, spans)
                })
            })
            .collect();
        let mut events = HashSet::new();
        let mut spans = HashSet::new();
        for handle in handles {
            let (e, s) = handle.join().unwrap();
            events.extend(e);
            spans.extend(s);
        }
        assert_eq!(events.len(), THREADS * PER_THREAD);
        assert_eq!(spans.len(), THREADS * PER_THREAD);
    }

    /// Runs this test binary twice more, each child printing ids from a fresh process: no id
    /// may appear in two processes (nor twice in one).
    #[test]
    fn ids_differ_across_processes() {
        if std::env::var_os(CHILD_ENV).is_some() {
            return;
        }
        let exe = std::env::current_exe().unwrap();
        let mut seen = HashSet::new();
        for _ in 0..2 {
            let output = std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "protocol::ids::tests::child_prints_ids",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_ENV, "1")
                .output()
                .unwrap();
            assert!(output.status.success(), "{output:?}");
            let stdout = String::from_utf8(output.stdout).unwrap();
            // The harness prints around the test's output on the same lines; pick the ids out.
            let ids: Vec<&str> = stdout
                .split_whitespace()
                .filter_map(|word| word.strip_prefix("id="))
                .collect();
            assert_eq!(ids.len(), 2 * CHILD_IDS, "{stdout}");
            for id in ids {
                assert!(seen.insert(id.to_owned()), "{id} repeated");
            }
        }
        // The parent's own ids are distinct from the children's too.
        for _ in 0..CHILD_IDS {
            assert!(seen.insert(new_event_id().to_string()));
        }
    }

    /// The child half of [`ids_differ_across_processes`]; does nothing in a normal run.
    #[test]
    #[allow(clippy::print_stdout)]
    fn child_prints_ids() {
        if std::env::var_os(CHILD_ENV).is_none() {
            return;
        }
        for _ in 0..CHILD_IDS {
            println!("id={}", new_event_id());
            println!("id={}", new_span_id());
        }
    }
}
