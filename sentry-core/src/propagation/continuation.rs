//! Whether to continue an incoming trace, judged by the Sentry organizations of both sides.
//!
//! A trace that comes from another organization's service must not be continued: the receiver
//! starts a trace of its own instead (ignoring the incoming trace id, decision and baggage).
//! Which organization a trace comes from is the `sentry-org_id` baggage entry; this SDK's own
//! is the `org_id` option or the one in its DSN's host.

/// `true` if an incoming trace from organization `incoming_org_id` may be continued by an SDK
/// of organization `own_org_id`:
///
/// | incoming | own | `strict` false | `strict` true |
/// |---|---|---|---|
/// | `a` | `a` | continue | continue |
/// | `a` | `b` | new trace | new trace |
/// | `a` | none | continue | new trace |
/// | none | `a` | continue | new trace |
/// | none | none | continue | continue |
///
/// `strict` is the `strict_trace_continuation` option. Ids are compared as strings, after
/// trimming whitespace; an empty id counts as none.
///
/// # Examples
///
/// ```
/// use sentry_core::propagation::should_continue_trace;
///
/// assert!(should_continue_trace(Some("17"), Some("17"), true));
/// assert!(!should_continue_trace(Some("17"), Some("42"), false));
/// assert!(should_continue_trace(None, Some("17"), false));
/// assert!(!should_continue_trace(None, Some("17"), true));
/// ```
pub fn should_continue_trace(
    incoming_org_id: Option<&str>,
    own_org_id: Option<&str>,
    strict: bool,
) -> bool {
    match (present(incoming_org_id), present(own_org_id)) {
        (Some(incoming), Some(own)) => incoming == own,
        (None, None) => true,
        _ => !strict,
    }
}

/// The id, trimmed, unless it is empty.
fn present(id: Option<&str>) -> Option<&str> {
    id.map(str::trim).filter(|id| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_of_the_table() {
        let table: &[(Option<&str>, Option<&str>, bool, bool)] = &[
            (Some("1"), Some("1"), false, true),
            (None, Some("1"), false, true),
            (Some("1"), None, false, true),
            (None, None, false, true),
            (Some("1"), Some("2"), false, false),
            (Some("1"), Some("1"), true, true),
            (None, Some("1"), true, false),
            (Some("1"), None, true, false),
            (None, None, true, true),
            (Some("1"), Some("2"), true, false),
            // Empty counts as absent; whitespace is ignored.
            (Some(""), Some("1"), false, true),
            (Some(""), Some("1"), true, false),
            (Some(" "), None, true, true),
            (Some(" 1 "), Some("1"), true, true),
            (Some("01"), Some("1"), false, false),
        ];
        for &(incoming, own, strict, expected) in table {
            assert_eq!(
                should_continue_trace(incoming, own, strict),
                expected,
                "incoming {incoming:?}, own {own:?}, strict {strict}"
            );
        }
    }
}
