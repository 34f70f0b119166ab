//! Data categories: what rate limits and client reports count.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! categories {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// A category of data, as used by rate limits (`X-Sentry-Rate-Limits`) and client reports.
        ///
        /// Every envelope item maps to one category ([`ItemType::category`](crate::envelope::ItemType::category)).
        /// On the wire a category is its snake_case name; names this SDK does not know read as
        /// [`DataCategory::Unknown`], which is never treated as any other category.
        ///
        /// # Examples
        ///
        /// ```
        /// use sentry_core::protocol::DataCategory;
        ///
        /// assert_eq!(DataCategory::LogItem.as_str(), "log_item");
        /// assert_eq!(DataCategory::from_name("profile_chunk"), DataCategory::ProfileChunk);
        /// assert_eq!(DataCategory::from_name("telepathy"), DataCategory::Unknown);
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum DataCategory {
            $($(#[$doc])* $variant,)*
        }

        impl DataCategory {
            /// Every category, [`DataCategory::Unknown`] last.
            pub const ALL: &'static [DataCategory] = &[$(DataCategory::$variant,)*];

            /// The wire name, such as `"error"` or `"log_byte"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(DataCategory::$variant => $name,)*
                }
            }

            /// The category with this wire name; [`DataCategory::Unknown`] for any other name
            /// (including `"unknown"` itself).
            pub fn from_name(name: &str) -> DataCategory {
                match name {
                    $($name => DataCategory::$variant,)*
                    _ => DataCategory::Unknown,
                }
            }
        }
    };
}

categories! {
    /// Events without a more specific category (such as `user_report` items).
    Default => "default",
    /// Error events.
    Error => "error",
    /// Transactions.
    Transaction => "transaction",
    /// Cron monitor check-ins.
    Monitor => "monitor",
    /// Spans.
    Span => "span",
    /// Log records, counted one by one.
    LogItem => "log_item",
    /// Log records, counted in bytes.
    LogByte => "log_byte",
    /// Security reports (CSP and the like).
    Security => "security",
    /// Attachments, counted in bytes.
    Attachment => "attachment",
    /// Attachments, counted one by one.
    AttachmentItem => "attachment_item",
    /// Release-health sessions.
    Session => "session",
    /// Profiles.
    Profile => "profile",
    /// Continuous-profiling chunks.
    ProfileChunk => "profile_chunk",
    /// Profiled time in milliseconds (continuous profiling of backend platforms). A limit on
    /// it also holds back `profile_chunk` items.
    ProfileDuration => "profile_duration",
    /// Session replays.
    Replay => "replay",
    /// User feedback.
    Feedback => "feedback",
    /// Trace metrics, counted one by one.
    TraceMetric => "trace_metric",
    /// Trace metrics, counted in bytes.
    TraceMetricByte => "trace_metric_byte",
    /// The SDK's own data, such as client reports. Never limited by category, only by an
    /// "all categories" limit.
    Internal => "internal",
    /// Metric buckets (legacy metrics).
    MetricBucket => "metric_bucket",
    /// A category this SDK does not know.
    Unknown => "unknown",
}

impl fmt::Display for DataCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for DataCategory {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DataCategory {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(DataCategory::from_name(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(DataCategory::ALL.len(), 21);
        for &category in DataCategory::ALL {
            assert_eq!(DataCategory::from_name(category.as_str()), category);
            let json = serde_json::to_string(&category).unwrap();
            assert_eq!(json, format!("\"{}\"", category.as_str()));
            assert_eq!(
                serde_json::from_str::<DataCategory>(&json).unwrap(),
                category
            );
        }
        assert_eq!(DataCategory::from_name("Error"), DataCategory::Unknown);
        assert_eq!(DataCategory::from_name(""), DataCategory::Unknown);
        assert_eq!(
            DataCategory::TraceMetricByte.to_string(),
            "trace_metric_byte"
        );
    }
}
