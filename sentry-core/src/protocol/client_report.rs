//! The `client_report` item payload: what the SDK dropped and why.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::client_reports::DiscardReason;
use crate::envelope::DataCategory;

/// A client report: counts of items the SDK discarded, by reason and category.
///
/// Build one with [`ClientReports::take`](crate::client_reports::ClientReports::take).
///
/// # Examples
///
/// ```
/// use sentry_core::client_reports::DiscardReason;
/// use sentry_core::envelope::DataCategory;
/// use sentry_core::protocol::{ClientReport, DiscardedEvent};
///
/// let report = ClientReport {
///     timestamp: None,
///     discarded_events: vec![DiscardedEvent {
///         reason: DiscardReason::QueueOverflow,
///         category: DataCategory::Error,
///         quantity: 3,
///     }],
/// };
/// assert_eq!(
///     serde_json::to_value(&report).unwrap(),
///     serde_json::json!({"discarded_events": [{"reason": "queue_overflow", "category": "error", "quantity": 3}]})
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientReport {
    /// When the report was made (written as float seconds).
    #[serde(
        default,
        with = "crate::time::seconds_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<SystemTime>,
    /// The discarded counts.
    #[serde(default)]
    pub discarded_events: Vec<DiscardedEvent>,
}

impl ClientReport {
    /// The total quantity over all entries.
    pub fn total(&self) -> u64 {
        self.discarded_events
            .iter()
            .fold(0u64, |sum, e| sum.saturating_add(e.quantity))
    }
}

/// One entry of a [`ClientReport`]: `quantity` items of `category` dropped for `reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscardedEvent {
    /// Why they were dropped.
    pub reason: DiscardReason,
    /// What was dropped.
    pub category: DataCategory,
    /// How many (for byte categories, how many bytes).
    pub quantity: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips() {
        let report = ClientReport {
            timestamp: Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(10)),
            discarded_events: vec![
                DiscardedEvent {
                    reason: DiscardReason::RatelimitBackoff,
                    category: DataCategory::LogByte,
                    quantity: 1000,
                },
                DiscardedEvent {
                    reason: DiscardReason::SampleRate,
                    category: DataCategory::Transaction,
                    quantity: 1,
                },
            ],
        };
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json,
            json!({"timestamp": 10.0, "discarded_events": [
                {"reason": "ratelimit_backoff", "category": "log_byte", "quantity": 1000},
                {"reason": "sample_rate", "category": "transaction", "quantity": 1},
            ]})
        );
        assert_eq!(
            serde_json::from_value::<ClientReport>(json).unwrap(),
            report
        );
        assert_eq!(report.total(), 1001);
    }
}
