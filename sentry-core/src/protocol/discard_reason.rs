//! Why the SDK discarded an item: the `reason` of a client report entry.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why the SDK discarded an item (the `reason` of a client report entry).
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::DiscardReason;
///
/// assert_eq!(DiscardReason::RatelimitBackoff.as_str(), "ratelimit_backoff");
/// assert_eq!(serde_json::to_string(&DiscardReason::BeforeSend).unwrap(), r#""before_send""#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DiscardReason {
    /// The transport queue was full.
    QueueOverflow,
    /// The offline cache was full.
    CacheOverflow,
    /// A batching buffer (logs, spans) was full.
    BufferOverflow,
    /// A rate limit from the server was active.
    RatelimitBackoff,
    /// The request failed at the network level and was not retried.
    NetworkError,
    /// The server rejected the envelope (a 4xx or 5xx other than 429).
    SendError,
    /// The SDK failed to process the item.
    InternalSdkError,
    /// Dropped by sampling (`sample_rate`, `traces_sample_rate`, …).
    SampleRate,
    /// Dropped by a `before_send*` callback.
    BeforeSend,
    /// Dropped by an event processor or integration (including `ignore_errors`).
    EventProcessor,
    /// Ignored by configuration, such as ignored transactions.
    Ignored,
    /// Not enough data to send (such as a transaction without spans).
    InsufficientData,
    /// Dropped under backpressure management.
    Backpressure,
    /// The item was invalid.
    Invalid,
}

impl DiscardReason {
    /// The wire name, such as `"queue_overflow"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DiscardReason::QueueOverflow => "queue_overflow",
            DiscardReason::CacheOverflow => "cache_overflow",
            DiscardReason::BufferOverflow => "buffer_overflow",
            DiscardReason::RatelimitBackoff => "ratelimit_backoff",
            DiscardReason::NetworkError => "network_error",
            DiscardReason::SendError => "send_error",
            DiscardReason::InternalSdkError => "internal_sdk_error",
            DiscardReason::SampleRate => "sample_rate",
            DiscardReason::BeforeSend => "before_send",
            DiscardReason::EventProcessor => "event_processor",
            DiscardReason::Ignored => "ignored",
            DiscardReason::InsufficientData => "insufficient_data",
            DiscardReason::Backpressure => "backpressure",
            DiscardReason::Invalid => "invalid",
        }
    }
}

impl DiscardReason {
    /// Every reason, in declaration order.
    const ALL: [DiscardReason; 14] = [
        DiscardReason::QueueOverflow,
        DiscardReason::CacheOverflow,
        DiscardReason::BufferOverflow,
        DiscardReason::RatelimitBackoff,
        DiscardReason::NetworkError,
        DiscardReason::SendError,
        DiscardReason::InternalSdkError,
        DiscardReason::SampleRate,
        DiscardReason::BeforeSend,
        DiscardReason::EventProcessor,
        DiscardReason::Ignored,
        DiscardReason::InsufficientData,
        DiscardReason::Backpressure,
        DiscardReason::Invalid,
    ];

    /// The reason with this wire name, `None` for a name this SDK does not know.
    ///
    /// ```
    /// use sentry_core::protocol::DiscardReason;
    ///
    /// assert_eq!(DiscardReason::from_name("cache_overflow"), Some(DiscardReason::CacheOverflow));
    /// assert_eq!(DiscardReason::from_name("filtered"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<DiscardReason> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == name)
    }
}

impl fmt::Display for DiscardReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_names() {
        let all = [
            (DiscardReason::QueueOverflow, "queue_overflow"),
            (DiscardReason::CacheOverflow, "cache_overflow"),
            (DiscardReason::BufferOverflow, "buffer_overflow"),
            (DiscardReason::RatelimitBackoff, "ratelimit_backoff"),
            (DiscardReason::NetworkError, "network_error"),
            (DiscardReason::SendError, "send_error"),
            (DiscardReason::InternalSdkError, "internal_sdk_error"),
            (DiscardReason::SampleRate, "sample_rate"),
            (DiscardReason::BeforeSend, "before_send"),
            (DiscardReason::EventProcessor, "event_processor"),
            (DiscardReason::Ignored, "ignored"),
            (DiscardReason::InsufficientData, "insufficient_data"),
            (DiscardReason::Backpressure, "backpressure"),
            (DiscardReason::Invalid, "invalid"),
        ];
        for (reason, name) in all {
            assert_eq!(reason.as_str(), name);
            assert_eq!(DiscardReason::from_name(name), Some(reason));
            assert_eq!(reason.to_string(), name);
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(
                serde_json::from_str::<DiscardReason>(&json).unwrap(),
                reason
            );
        }
        assert!(serde_json::from_str::<DiscardReason>(r#""filtered_events""#).is_err());
        assert_eq!(DiscardReason::ALL.len(), all.len());
    }
}
