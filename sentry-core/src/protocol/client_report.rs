//! The `client_report` item payload: what the SDK dropped and why.

use std::time::SystemTime;

use sentry_minimal::Value;
use serde::{Deserialize, Serialize};

use super::{DataCategory, DiscardReason};

/// A client report: counts of items the SDK discarded, by reason and category.
///
/// Build one with [`ClientReports::take`](crate::client_reports::ClientReports::take).
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{ClientReport, DataCategory, DiscardReason, DiscardedEvent};
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

    /// Reads the counts of a report the SDK wrote (the offline cache persists pending counts
    /// this way), by hand through the SDK's own JSON reader rather than the derived
    /// `Deserialize` (see `protocol::json`). The `timestamp` is not read: persisted counts are
    /// merged into the current ones and stamped when they are sent. Entries whose reason or
    /// category this SDK does not know are skipped.
    ///
    /// # Errors
    ///
    /// What is malformed, when `bytes` is not such a report.
    pub(crate) fn from_json(bytes: &[u8]) -> Result<ClientReport, String> {
        let value = super::json::from_slice(bytes).map_err(|error| error.to_string())?;
        let [events] = super::json::struct_fields(value, ["discarded_events"], "a client report")?;
        let entries = super::json::vec_or_empty("discarded_events", events, |entry| {
            let [reason, category, quantity] = super::json::struct_fields(
                entry,
                ["reason", "category", "quantity"],
                "a discarded event",
            )?;
            let reason = super::json::required_string("reason", reason)?;
            let category = super::json::required_string("category", category)?;
            let quantity = quantity
                .as_ref()
                .and_then(Value::as_u64)
                .ok_or_else(|| "`quantity`: expected a non-negative integer".to_owned())?;
            Ok(DiscardReason::from_name(&reason).and_then(|reason| {
                let category = DataCategory::from_name(&category);
                (category != DataCategory::Unknown).then_some(DiscardedEvent {
                    reason,
                    category,
                    quantity,
                })
            }))
        })?;
        Ok(ClientReport {
            timestamp: None,
            discarded_events: entries.into_iter().flatten().collect(),
        })
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

    #[test]
    fn reads_its_own_output_by_hand() {
        let report = ClientReport {
            timestamp: Some(SystemTime::now()),
            discarded_events: vec![
                DiscardedEvent {
                    reason: DiscardReason::CacheOverflow,
                    category: DataCategory::Error,
                    quantity: 900,
                },
                DiscardedEvent {
                    reason: DiscardReason::RatelimitBackoff,
                    category: DataCategory::LogByte,
                    quantity: u64::MAX,
                },
            ],
        };
        let bytes = serde_json::to_vec(&report).unwrap();
        let read = ClientReport::from_json(&bytes).unwrap();
        assert_eq!(read.timestamp, None);
        assert_eq!(read.discarded_events, report.discarded_events);

        // Unknown reasons and categories are skipped; malformed input is an error.
        let text = br#"{"discarded_events":[{"reason":"future","category":"error","quantity":1},
            {"reason":"sample_rate","category":"future","quantity":1},
            {"reason":"sample_rate","category":"span","quantity":2}]}"#;
        assert_eq!(ClientReport::from_json(text).unwrap().total(), 2);
        for bad in [
            &b"not json"[..],
            b"[1]",
            br#"{"discarded_events":{}}"#,
            br#"{"discarded_events":[{"reason":"sample_rate","category":"span","quantity":-1}]}"#,
            br#"{"discarded_events":[{"category":"span","quantity":1}]}"#,
        ] {
            assert!(ClientReport::from_json(bad).is_err());
        }
    }
}
