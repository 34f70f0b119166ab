//! Rate limits announced by the server.
//!
//! Sentry tells the SDK to back off in two ways:
//!
//! - the `X-Sentry-Rate-Limits` header, on **any** response (200 included): a comma-separated
//!   list of quotas `retry_after:categories:scope:reason_code:namespaces`, where `retry_after` is
//!   (fractional) seconds and `categories` a `;`-separated list of [`DataCategory`] names, empty
//!   meaning every category;
//! - otherwise, for a 429 response, the `Retry-After` header (seconds or an HTTP date) for every
//!   category, or 60 seconds when it is missing or unreadable.
//!
//! A [`RateLimiter`] keeps one deadline per category plus one for "all categories", always
//! keeping the later deadline when limits overlap, and drops limited items from envelopes
//! ([`RateLimiter::filter_envelope`]).
//!
//! Any single limit is capped at [`MAX_RETRY_AFTER`] (one day), so a wrong or hostile header
//! cannot silence the SDK for longer. Deadlines use the monotonic clock ([`Instant`]), so wall
//! clock changes do not shorten or extend them.

use sentry_minimal::SortedMap;
use std::time::{Duration, Instant, SystemTime};

use crate::envelope::{Envelope, EnvelopeItem, ItemType};
use crate::protocol::DataCategory;

/// The longest any single limit lasts: one day.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The back-off for a 429 response without a usable `Retry-After` or `X-Sentry-Rate-Limits`
/// header: 60 seconds.
pub(crate) const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Per-category rate limits from the server.
///
/// One per DSN (per transport). Cloning copies the current deadlines.
#[derive(Clone, Debug, Default)]
pub(crate) struct RateLimiter {
    /// A limit on every category.
    all: Option<Instant>,
    /// Limits on single categories.
    categories: SortedMap<DataCategory, Instant>,
}

/// Reads a `retry_after` value: non-negative, finite seconds, capped at [`MAX_RETRY_AFTER`].
fn parse_seconds(s: &str) -> Option<Duration> {
    let secs: f64 = s.trim().parse().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(
        secs.min(MAX_RETRY_AFTER.as_secs_f64()),
    ))
}

impl RateLimiter {
    /// No limits.
    #[cfg(test)]
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Updates the limits from a response, at the current time.
    ///
    /// `rate_limits` is the `X-Sentry-Rate-Limits` header and `retry_after` the `Retry-After`
    /// header, if the response has them. Call this for every response, whatever its status.
    pub(crate) fn update_from_headers(
        &mut self,
        status: u16,
        rate_limits: Option<&str>,
        retry_after: Option<&str>,
    ) {
        self.update_from_headers_at(
            Instant::now(),
            SystemTime::now(),
            status,
            rate_limits,
            retry_after,
        );
    }

    /// Like [`update_from_headers`](Self::update_from_headers), at a given time: `now` for the
    /// deadlines and `now_wall` to turn an HTTP date in `Retry-After` into a duration.
    pub(crate) fn update_from_headers_at(
        &mut self,
        now: Instant,
        now_wall: SystemTime,
        status: u16,
        rate_limits: Option<&str>,
        retry_after: Option<&str>,
    ) {
        if let Some(header) = rate_limits {
            if self.apply_rate_limits_header(now, header) {
                return;
            }
        }
        if status == 429 {
            let duration = retry_after
                .and_then(|value| {
                    parse_seconds(value).or_else(|| {
                        let date = crate::time::parse_http_date(value)?;
                        Some(
                            date.duration_since(now_wall)
                                .unwrap_or(Duration::ZERO)
                                .min(MAX_RETRY_AFTER),
                        )
                    })
                })
                .unwrap_or(DEFAULT_RETRY_AFTER);
            self.limit_all(now, duration);
        }
    }

    /// Applies an `X-Sentry-Rate-Limits` header. Returns `true` if it held at least one quota
    /// with a readable `retry_after` (even one whose categories are all unknown), in which case
    /// `Retry-After` is not consulted.
    fn apply_rate_limits_header(&mut self, now: Instant, header: &str) -> bool {
        let mut understood = false;
        for quota in header.split(',') {
            let mut fields = quota.split(':');
            let Some(duration) = fields.next().and_then(parse_seconds) else {
                continue;
            };
            understood = true;
            let categories = fields.next().unwrap_or("").trim();
            if categories.is_empty() {
                self.limit_all(now, duration);
                continue;
            }
            // Scope, reason code and namespaces (for `metric_bucket`) are not needed: the
            // limit applies to the whole category either way.
            for name in categories.split(';') {
                let name = name.trim();
                if name.is_empty() {
                    continue;
                }
                match DataCategory::from_name(name) {
                    // Unknown categories are ignored, never folded into another one; the SDK's
                    // own data is never limited by category.
                    DataCategory::Unknown | DataCategory::Internal => {}
                    category => self.limit(now, category, duration),
                }
            }
        }
        understood
    }

    fn limit_all(&mut self, now: Instant, duration: Duration) {
        if let Some(until) = now.checked_add(duration) {
            self.all = Some(self.all.map_or(until, |old| old.max(until)));
        }
    }

    fn limit(&mut self, now: Instant, category: DataCategory, duration: Duration) {
        if let Some(until) = now.checked_add(duration) {
            let entry = self.categories.entry(category).or_insert(until);
            *entry = (*entry).max(until);
        }
    }

    /// `true` if items of `category` must not be sent now.
    pub(crate) fn is_limited(&self, category: DataCategory) -> bool {
        self.is_limited_at(category, Instant::now())
    }

    /// `true` if items of `category` must not be sent at `now`. The "all categories" limit
    /// applies to every category, [`DataCategory::Internal`] included.
    pub(crate) fn is_limited_at(&self, category: DataCategory, now: Instant) -> bool {
        self.limited_until(category)
            .is_some_and(|until| until > now)
    }

    /// The deadline for `category`: the later of its own limit and the "all" limit.
    fn limited_until(&self, category: DataCategory) -> Option<Instant> {
        let own = if category == DataCategory::Internal {
            None
        } else {
            self.categories.get(&category).copied()
        };
        match (own, self.all) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// How long `category` stays limited from `now`; `None` if it is not limited.
    #[cfg(test)]
    pub(crate) fn retry_after_at(&self, category: DataCategory, now: Instant) -> Option<Duration> {
        self.limited_until(category)
            .and_then(|until| until.checked_duration_since(now))
            .filter(|d| !d.is_zero())
    }

    /// `true` if any limit is active now.
    #[cfg(test)]
    pub(crate) fn is_any_limited(&self) -> bool {
        self.is_any_limited_at(Instant::now())
    }

    /// `true` if any limit is active at `now`.
    #[cfg(test)]
    pub(crate) fn is_any_limited_at(&self, now: Instant) -> bool {
        self.all.is_some_and(|until| until > now)
            || self.categories.values().any(|&until| until > now)
    }

    /// When the "all categories" limit ends, if one was set (it may be in the past).
    #[cfg(test)]
    pub(crate) fn all_limited_until(&self) -> Option<Instant> {
        self.all
    }

    /// Forgets limits that have ended by `now`.
    #[cfg(test)]
    pub(crate) fn clear_expired(&mut self, now: Instant) {
        if self.all.is_some_and(|until| until <= now) {
            self.all = None;
        }
        self.categories.retain(|_, until| *until > now);
    }

    /// Removes the items that are rate limited now and returns what was removed as
    /// `(category, quantity)` pairs (see [`EnvelopeItem::outcomes`]), for counting as
    /// `ratelimit_backoff` in client reports.
    ///
    /// Client reports are removed only while the "all categories" limit is active. Log items
    /// are also removed while `log_byte` is limited, attachments while `attachment_item` is, profile
    /// chunks while `profile_duration` is.
    /// Attachments go with their event: when an envelope's event or transaction is limited,
    /// its attachments are removed too.
    pub(crate) fn filter_envelope(&self, envelope: &mut Envelope) -> Vec<(DataCategory, u64)> {
        self.filter_envelope_at(envelope, Instant::now())
    }

    /// Like [`filter_envelope`](Self::filter_envelope), at `now`.
    pub(crate) fn filter_envelope_at(
        &self,
        envelope: &mut Envelope,
        now: Instant,
    ) -> Vec<(DataCategory, u64)> {
        let mut removed = Vec::new();
        let event_limited = envelope.items().any(|item| {
            matches!(item.ty(), ItemType::Event | ItemType::Transaction)
                && self.is_item_limited(item, now)
        });
        envelope.retain_items(|item| {
            if self.is_item_limited(item, now)
                || (event_limited && item.ty() == ItemType::Attachment)
            {
                removed.extend(item.outcomes());
                false
            } else {
                true
            }
        });
        removed
    }

    /// `true` if `item` must not be sent at `now`.
    pub(crate) fn is_item_limited(&self, item: &EnvelopeItem, now: Instant) -> bool {
        let category = item.category();
        self.is_limited_at(category, now)
            || (item.ty() == ItemType::Log && self.is_limited_at(DataCategory::LogByte, now))
            || (item.ty() == ItemType::Attachment
                && self.is_limited_at(DataCategory::AttachmentItem, now))
            || (item.ty() == ItemType::ProfileChunk
                && self.is_limited_at(DataCategory::ProfileDuration, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::RawItem;
    use crate::protocol::{ClientReport, Event};

    fn at(now: Instant, secs: u64) -> Instant {
        now + Duration::from_secs(secs)
    }

    fn limiter(
        status: u16,
        rate_limits: Option<&str>,
        retry_after: Option<&str>,
    ) -> (RateLimiter, Instant) {
        let now = Instant::now();
        let mut limiter = RateLimiter::new();
        limiter.update_from_headers_at(now, SystemTime::now(), status, rate_limits, retry_after);
        (limiter, now)
    }

    #[test]
    fn spec_vector_per_category() {
        let (l, now) = limiter(
            429,
            Some("60:transaction:key, 2700:default;error;security:organization"),
            None,
        );
        assert_eq!(
            l.retry_after_at(DataCategory::Transaction, now),
            Some(Duration::from_secs(60))
        );
        for category in [
            DataCategory::Default,
            DataCategory::Error,
            DataCategory::Security,
        ] {
            assert_eq!(
                l.retry_after_at(category, now),
                Some(Duration::from_secs(2700)),
                "{category}"
            );
        }
        assert!(!l.is_limited_at(DataCategory::Session, now));
        assert!(!l.is_limited_at(DataCategory::Internal, now));
        assert!(l.is_limited_at(DataCategory::Error, at(now, 2699)));
        assert!(!l.is_limited_at(DataCategory::Transaction, at(now, 61)));
        assert!(!l.is_limited_at(DataCategory::Error, at(now, 2700)));
        assert_eq!(l.all_limited_until(), None);
    }

    #[test]
    fn spec_vector_all_categories_max_wins() {
        let (l, now) = limiter(429, Some("60::organization, 2700::organization"), None);
        assert_eq!(l.all_limited_until(), Some(at(now, 2700)));
        for &category in DataCategory::ALL {
            assert!(l.is_limited_at(category, at(now, 2699)), "{category}");
        }
        assert!(l.is_limited_at(DataCategory::Internal, now));
    }

    #[test]
    fn spec_vector_metric_bucket_with_namespace() {
        let (l, now) = limiter(
            429,
            Some("2700:metric_bucket:organization:quota_exceeded:custom"),
            None,
        );
        assert!(l.is_limited_at(DataCategory::MetricBucket, now));
        assert!(!l.is_limited_at(DataCategory::Error, now));
        assert!(!l.is_limited_at(DataCategory::Default, now));
    }

    #[test]
    fn bare_429_limits_everything_for_60_seconds() {
        let (l, now) = limiter(429, None, None);
        assert_eq!(l.all_limited_until(), Some(at(now, 60)));
        assert!(l.is_limited_at(DataCategory::Error, at(now, 59)));
        assert!(!l.is_limited_at(DataCategory::Error, at(now, 60)));
        // An unreadable Retry-After falls back to the default.
        let (l, now) = limiter(429, None, Some("soon"));
        assert_eq!(l.all_limited_until(), Some(at(now, 60)));
    }

    #[test]
    fn retry_after_seconds_and_http_date() {
        let (l, now) = limiter(429, None, Some(" 120 "));
        assert_eq!(l.all_limited_until(), Some(at(now, 120)));
        let (l, now) = limiter(429, None, Some("1.5"));
        assert_eq!(
            l.all_limited_until(),
            Some(now + Duration::from_millis(1500))
        );

        let now = Instant::now();
        let wall = crate::time::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let mut l = RateLimiter::new();
        l.update_from_headers_at(now, wall, 429, None, Some("Sun, 06 Nov 1994 08:51:37 GMT"));
        assert_eq!(l.all_limited_until(), Some(at(now, 120)));
        // A date in the past means no wait.
        let mut l = RateLimiter::new();
        l.update_from_headers_at(now, wall, 429, None, Some("Sun, 06 Nov 1994 08:00:00 GMT"));
        assert!(!l.is_limited_at(DataCategory::Error, now));
    }

    #[test]
    fn retry_after_is_ignored_unless_429() {
        let (l, _) = limiter(503, None, Some("120"));
        assert!(!l.is_any_limited());
        let (l, _) = limiter(200, None, None);
        assert!(!l.is_any_limited());
    }

    #[test]
    fn header_on_200_applies() {
        let (l, now) = limiter(200, Some("30:error"), None);
        assert!(l.is_limited_at(DataCategory::Error, now));
        assert!(!l.is_limited_at(DataCategory::Transaction, now));
    }

    #[test]
    fn rate_limits_header_wins_over_retry_after() {
        let (l, now) = limiter(429, Some("10:error"), Some("999"));
        assert!(l.is_limited_at(DataCategory::Error, now));
        assert!(!l.is_limited_at(DataCategory::Transaction, now));
        assert_eq!(l.all_limited_until(), None);
    }

    #[test]
    fn max_wins_when_limits_overlap() {
        let now = Instant::now();
        let wall = SystemTime::now();
        let mut l = RateLimiter::new();
        l.update_from_headers_at(now, wall, 200, Some("100:error"), None);
        l.update_from_headers_at(now, wall, 200, Some("10:error"), None);
        assert_eq!(
            l.retry_after_at(DataCategory::Error, now),
            Some(Duration::from_secs(100))
        );
        l.update_from_headers_at(now, wall, 429, None, Some("50"));
        // The category limit is longer than the "all" limit.
        assert_eq!(
            l.retry_after_at(DataCategory::Error, now),
            Some(Duration::from_secs(100))
        );
        assert_eq!(
            l.retry_after_at(DataCategory::Span, now),
            Some(Duration::from_secs(50))
        );
        l.update_from_headers_at(now, wall, 200, Some("5:error;error"), None);
        assert_eq!(
            l.retry_after_at(DataCategory::Error, now),
            Some(Duration::from_secs(100))
        );
    }

    #[test]
    fn expiry_and_cleanup() {
        let (mut l, now) = limiter(200, Some("10:error, 20::org"), None);
        assert!(l.is_any_limited_at(at(now, 15)));
        assert!(!l.is_any_limited_at(at(now, 20)));
        assert_eq!(l.retry_after_at(DataCategory::Error, at(now, 20)), None);
        l.clear_expired(at(now, 20));
        assert_eq!(l.all_limited_until(), None);
        assert!(l.categories.is_empty());
    }

    #[test]
    fn caps_long_limits() {
        let (l, now) = limiter(200, Some("99999999999:error, 1e300::org"), None);
        assert_eq!(
            l.retry_after_at(DataCategory::Error, now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(l.all_limited_until(), Some(now + MAX_RETRY_AFTER));
        let (l, now) = limiter(429, None, Some("99999999999"));
        assert_eq!(l.all_limited_until(), Some(now + MAX_RETRY_AFTER));
    }

    #[test]
    fn a_profile_duration_limit_holds_profile_chunks_back() {
        let chunk = EnvelopeItem::from(RawItem::new(ItemType::ProfileChunk, b"{}".to_vec()));
        let log = EnvelopeItem::from(RawItem::new(ItemType::Log, b"{}".to_vec()));
        for header in ["60:profile_duration:organization", "60:profile_chunk"] {
            let (l, now) = limiter(429, Some(header), None);
            assert!(l.is_item_limited(&chunk, now), "{header}");
            assert!(!l.is_item_limited(&log, now), "{header}");
        }
    }

    #[test]
    fn unknown_and_internal_categories_are_ignored() {
        let (l, now) = limiter(200, Some("60:foo;bar:org, 60:internal:org"), None);
        assert!(!l.is_any_limited_at(now));
        // A partly known quota applies to the known part only.
        let (l, now) = limiter(200, Some("60:foo;error"), None);
        assert!(l.is_limited_at(DataCategory::Error, now));
        assert!(!l.is_limited_at(DataCategory::Default, now));
        assert!(!l.is_limited_at(DataCategory::Unknown, now));
        // A header whose quotas are all unknown still counts as an answer on 429.
        let (l, now) = limiter(429, Some("60:foo"), None);
        assert!(!l.is_any_limited_at(now));
    }

    #[test]
    fn garbage_headers_do_not_panic() {
        for header in [
            "",
            ",,,",
            "abc",
            ":::",
            "-5:error",
            "NaN:error",
            "inf:error",
            "60:error:::::::::",
            " 60 : error ; transaction : org",
            "\u{0}\u{ffff}",
            "18446744073709551616:error",
        ] {
            let (l, _) = limiter(200, Some(header), Some("garbage"));
            let _ = l.is_any_limited();
        }
        // Spaces around fields are ignored.
        let (l, now) = limiter(200, Some(" 60 : error ; transaction : org"), None);
        assert!(l.is_limited_at(DataCategory::Error, now));
        assert!(l.is_limited_at(DataCategory::Transaction, now));
        // A garbage header on 429 falls back to Retry-After.
        let (l, now) = limiter(429, Some("garbage"), Some("30"));
        assert_eq!(l.all_limited_until(), Some(at(now, 30)));
    }

    fn test_envelope() -> Envelope {
        let mut envelope = Envelope::from_event(Event::default());
        let mut logs = RawItem::new(ItemType::Log, b"{\"items\":[{},{}]}".to_vec());
        logs.headers.insert("item_count".into(), 2.into());
        envelope.add_item(logs);
        envelope.add_item(RawItem::new(ItemType::Attachment, vec![1, 2, 3]));
        envelope.add_item(ClientReport::default());
        envelope
    }

    #[test]
    fn filter_removes_limited_items_and_reports_them() {
        let (l, now) = limiter(200, Some("60:error;log_item;internal"), None);
        let mut envelope = test_envelope();
        let removed = l.filter_envelope_at(&mut envelope, now);
        // The event's attachment goes with it.
        assert_eq!(
            removed,
            [
                (DataCategory::Error, 1),
                (DataCategory::LogItem, 2),
                (DataCategory::LogByte, 17),
                (DataCategory::Attachment, 3),
                (DataCategory::AttachmentItem, 1),
            ]
        );
        let left: Vec<_> = envelope.items().map(|i| i.ty()).collect();
        assert_eq!(left, [ItemType::ClientReport]);

        // Without an event limit, the attachment stays.
        let (l, now) = limiter(200, Some("60:log_item"), None);
        let mut envelope = test_envelope();
        l.filter_envelope_at(&mut envelope, now);
        let left: Vec<_> = envelope.items().map(|i| i.ty()).collect();
        assert_eq!(
            left,
            [
                ItemType::Event,
                ItemType::Attachment,
                ItemType::ClientReport
            ]
        );

        // An `attachment` or `attachment_item` limit removes only attachments.
        for limit in ["60:attachment", "60:attachment_item"] {
            let (l, now) = limiter(200, Some(limit), None);
            let mut envelope = test_envelope();
            let removed = l.filter_envelope_at(&mut envelope, now);
            assert_eq!(
                removed,
                [
                    (DataCategory::Attachment, 3),
                    (DataCategory::AttachmentItem, 1)
                ],
                "{limit}"
            );
            assert_eq!(envelope.len(), 3, "{limit}");
        }

        // log_byte limits logs too.
        let (l, now) = limiter(200, Some("60:log_byte"), None);
        let mut envelope = test_envelope();
        l.filter_envelope_at(&mut envelope, now);
        assert_eq!(envelope.len(), 3);

        // Nothing limited: nothing removed.
        let (l, now) = limiter(200, None, None);
        let mut envelope = test_envelope();
        assert!(l.filter_envelope_at(&mut envelope, now).is_empty());
        assert_eq!(envelope.len(), 4);
    }

    #[test]
    fn check_ins_and_feedback_are_limited_by_their_own_categories() {
        use crate::protocol::{CheckIn, CheckInStatus, Feedback};
        let check_in = || Envelope::from_check_in(CheckIn::new("job", CheckInStatus::Ok));
        let feedback = || Envelope::from_feedback(Feedback::new("words").into_event());
        let (l, now) = limiter(200, Some("60:monitor"), None);
        let mut envelope = check_in();
        assert_eq!(
            l.filter_envelope_at(&mut envelope, now),
            [(DataCategory::Monitor, 1)]
        );
        assert!(envelope.is_empty());
        let mut envelope = feedback();
        assert!(l.filter_envelope_at(&mut envelope, now).is_empty());

        let (l, now) = limiter(200, Some("60:feedback"), None);
        let mut envelope = feedback();
        assert_eq!(
            l.filter_envelope_at(&mut envelope, now),
            [(DataCategory::Feedback, 1)]
        );
        let mut envelope = check_in();
        assert!(l.filter_envelope_at(&mut envelope, now).is_empty());
        // An error limit stops neither.
        let (l, now) = limiter(200, Some("60:error"), None);
        let mut envelope = feedback();
        assert!(l.filter_envelope_at(&mut envelope, now).is_empty());
    }

    #[test]
    fn all_limit_removes_client_reports_too() {
        let (l, now) = limiter(429, None, None);
        let mut envelope = test_envelope();
        let removed = l.filter_envelope_at(&mut envelope, now);
        assert!(envelope.is_empty());
        assert!(removed.contains(&(DataCategory::Internal, 1)));
        assert!(removed.contains(&(DataCategory::Attachment, 3)));
        // After expiry, nothing is removed.
        let mut envelope = test_envelope();
        assert!(l.filter_envelope_at(&mut envelope, at(now, 61)).is_empty());
    }

    /// The worked examples of this module's functions.
    #[test]
    fn documented_examples() {
        {
            use crate::protocol::DataCategory;
            use crate::ratelimit::RateLimiter;

            let mut limiter = RateLimiter::default();
            limiter.update_from_headers(200, Some("60:transaction:key"), None);
            assert!(limiter.is_limited(DataCategory::Transaction));
            assert!(!limiter.is_limited(DataCategory::Error));

            limiter.update_from_headers(429, None, Some("120"));
            assert!(limiter.is_limited(DataCategory::Error));
        }
    }
}
