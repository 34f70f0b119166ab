//! Counting what the transport drops, in client-report terms.

use crate::client_reports::ClientReports;
use crate::envelope::Envelope;
use crate::protocol::{DataCategory, DiscardReason};

/// Records every item of `envelope` as discarded for `reason`, with the quantities client
/// reports expect (see [`EnvelopeItem::outcomes`](crate::envelope::EnvelopeItem::outcomes)).
///
/// Client report items are not counted anywhere: a lost report is not itself reported.
pub(crate) fn record_envelope(reports: &ClientReports, reason: DiscardReason, envelope: &Envelope) {
    let outcomes = envelope.items().flat_map(|item| item.outcomes());
    record_outcomes(reports, reason, outcomes);
}

/// Records `(category, quantity)` pairs as discarded, leaving out client reports themselves
/// (category `internal`).
pub(crate) fn record_outcomes(
    reports: &ClientReports,
    reason: DiscardReason,
    outcomes: impl IntoIterator<Item = (DataCategory, u64)>,
) {
    reports.record_all(
        reason,
        outcomes
            .into_iter()
            .filter(|(category, _)| *category != DataCategory::Internal),
    );
}
