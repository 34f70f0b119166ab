//! The response policy of the transport spec: what becomes of an envelope, and of the client
//! report riding on it, once its [`Sender`](super::Sender) has returned.
//!
//! [`Fate::of`] is a pure function of the [`SendOutcome`]; the worker loop applies what the
//! fate says (counts the loss, keeps or deletes the cached file, restores the report, backs
//! off), and [`update_limits`] applies the rate-limit headers of every response. The spec's
//! table, as implemented:
//!
//! | outcome | fate | counted as | riding report | cached file |
//! |---|---|---|---|---|
//! | `2xx` | [`Delivered`](Fate::Delivered) | – | done | deleted |
//! | `429` | [`RateLimited`](Fate::RateLimited) | – (MUST NOT) | restored | deleted |
//! | `413` | [`TooLarge`](Fate::TooLarge) | `send_error` | restored | deleted |
//! | other `4xx` | [`Refused`](Fate::Refused) | `send_error` | done | deleted |
//! | `5xx`, any other status | [`Failed`](Fate::Failed) | `send_error` | restored | deleted |
//! | network error, envelope on disk | [`RetryLater`](Fate::RetryLater) | – | restored | kept, retried with backoff |
//! | network error, not on disk | [`Unreachable`](Fate::Unreachable) | `network_error` | restored | – |
//! | the SDK failed (a panic) | [`SdkFailure`](Fate::SdkFailure) | `internal_sdk_error` | restored | deleted |
//!
//! Rate-limit headers count on every response, `2xx` included; nothing is retried because of
//! `Retry-After`.

use super::SendOutcome;

use crate::protocol::DiscardReason;
use crate::ratelimit::RateLimiter;

/// What becomes of an envelope after an attempt to send it (see the module docs for the
/// table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// `2xx`: the server took it.
    Delivered,
    /// `429`: dropped without being counted; the response's limits hold back what follows.
    RateLimited,
    /// `413`: dropped and never retried.
    TooLarge,
    /// Any other `4xx`: the server refused the envelope's content.
    Refused { status: u16 },
    /// `5xx`, or a status the spec does not name (`1xx`, `3xx`): dropped, not retried.
    Failed { status: u16 },
    /// No answer, and the envelope has a file in the offline cache: it stays there and is
    /// retried after a backoff.
    RetryLater,
    /// No answer, and no copy on disk: the envelope is lost.
    Unreachable,
    /// The SDK failed while handling the envelope (a panic in the sender, a finalizer or the
    /// serializer): dropped, since trying again could fail the same way forever.
    SdkFailure,
}

/// What becomes of a client report that rode along with an envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReportFate {
    /// Delivered, or rejected by the server for its content: do not send its counts again.
    Done,
    /// Not delivered for reasons unrelated to its content: put its counts back.
    Restore,
}

impl Fate {
    /// The fate of an envelope whose sender returned `outcome`; `on_disk` when the envelope
    /// has a (claimed) file in the offline cache that a retry can be sent from.
    pub(crate) fn of(outcome: &SendOutcome, on_disk: bool) -> Fate {
        match *outcome {
            SendOutcome::Response { status, .. } => match status {
                200..=299 => Fate::Delivered,
                429 => Fate::RateLimited,
                413 => Fate::TooLarge,
                400..=499 => Fate::Refused { status },
                _ => Fate::Failed { status },
            },
            SendOutcome::NetworkError(_) if on_disk => Fate::RetryLater,
            SendOutcome::NetworkError(_) => Fate::Unreachable,
        }
    }

    /// The reason the envelope's items are counted as discarded under, if they are.
    pub(crate) fn discard_reason(self) -> Option<DiscardReason> {
        match self {
            Fate::Delivered | Fate::RateLimited | Fate::RetryLater => None,
            Fate::TooLarge | Fate::Refused { .. } | Fate::Failed { .. } => {
                Some(DiscardReason::SendError)
            }
            Fate::Unreachable => Some(DiscardReason::NetworkError),
            Fate::SdkFailure => Some(DiscardReason::InternalSdkError),
        }
    }

    /// What becomes of the client report that rode along.
    pub(crate) fn report(self) -> ReportFate {
        match self {
            Fate::Delivered => ReportFate::Done,
            // The server refused what it was sent, the report included: sending the same
            // counts again could be refused again.
            Fate::Refused { .. } => ReportFate::Done,
            // The report is not what made the envelope too large, nor what was rate limited.
            Fate::RateLimited
            | Fate::TooLarge
            | Fate::Failed { .. }
            | Fate::RetryLater
            | Fate::Unreachable
            | Fate::SdkFailure => ReportFate::Restore,
        }
    }

    /// Whether the server answered: the envelope is done with (its cached file goes) and the
    /// retry backoff starts over.
    pub(crate) fn answered(self) -> bool {
        matches!(
            self,
            Fate::Delivered
                | Fate::RateLimited
                | Fate::TooLarge
                | Fate::Refused { .. }
                | Fate::Failed { .. }
        )
    }

    /// Whether the envelope stays in the offline cache for another try.
    pub(crate) fn retried(self) -> bool {
        self == Fate::RetryLater
    }

    /// Says in the SDK diagnostics what happened to an envelope sent with `outcome`. A `413`
    /// is always printed (the spec says it SHOULD be logged): an envelope too large for the
    /// server is lost however often it is captured again.
    pub(crate) fn log(self, outcome: &SendOutcome) {
        let error = match outcome {
            SendOutcome::NetworkError(error) => error.as_str(),
            SendOutcome::Response { .. } => "",
        };
        match self {
            Fate::Delivered | Fate::SdkFailure => {}
            Fate::RateLimited => {
                crate::sentry_debug!("envelope dropped: rate limited by the server (429)");
            }
            Fate::TooLarge => crate::debug::debug_print(format_args!(
                "envelope dropped: the server rejected it as too large (413)"
            )),
            Fate::Refused { status } => {
                crate::sentry_debug!("envelope dropped: the server rejected it ({status})");
            }
            Fate::Failed { status } => {
                crate::sentry_debug!("envelope dropped: the server answered {status}");
            }
            Fate::RetryLater => {
                crate::sentry_debug!("network error, envelope kept for a retry: {error}");
            }
            Fate::Unreachable => {
                crate::sentry_debug!("envelope dropped: network error: {error}");
            }
        }
    }
}

/// Applies the rate-limit headers of a response to `limiter`: `X-Sentry-Rate-Limits` on every
/// response, `2xx` included; on a `429` without it, `Retry-After` (or 60 s) for everything.
pub(crate) fn update_limits(limiter: &mut RateLimiter, outcome: &SendOutcome) {
    if let SendOutcome::Response {
        status,
        rate_limits,
        retry_after,
    } = outcome
    {
        limiter.update_from_headers(*status, rate_limits.as_deref(), retry_after.as_deref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::DataCategory;

    /// The categories a row's limits are checked on.
    const CATEGORIES: [DataCategory; 4] = [
        DataCategory::Error,
        DataCategory::Transaction,
        DataCategory::LogItem,
        DataCategory::Internal,
    ];

    fn response(status: u16, rate_limits: Option<&str>, retry_after: Option<&str>) -> SendOutcome {
        SendOutcome::Response {
            status,
            rate_limits: rate_limits.map(str::to_owned),
            retry_after: retry_after.map(str::to_owned),
        }
    }

    fn network_error() -> SendOutcome {
        SendOutcome::NetworkError("connection refused".into())
    }

    /// One row of the spec's table: what was sent (`None`: the SDK failed instead), whether
    /// the envelope was on disk, and everything that follows from it.
    struct Row {
        name: &'static str,
        outcome: Option<SendOutcome>,
        on_disk: bool,
        fate: Fate,
        counted: Option<DiscardReason>,
        report: ReportFate,
        answered: bool,
        retried: bool,
        /// The categories rate limited once the response's headers are applied.
        limited: &'static [DataCategory],
    }

    #[test]
    fn every_row_of_the_spec_table() {
        use DataCategory::{Error, Internal, LogItem, Transaction};
        use DiscardReason::{InternalSdkError, NetworkError, SendError};
        use ReportFate::{Done, Restore};

        let rows = [
            Row {
                name: "200",
                outcome: Some(response(200, None, None)),
                on_disk: false,
                fate: Fate::Delivered,
                counted: None,
                report: Done,
                answered: true,
                retried: false,
                limited: &[],
            },
            Row {
                name: "204, from disk: the file goes",
                outcome: Some(response(204, None, None)),
                on_disk: true,
                fate: Fate::Delivered,
                counted: None,
                report: Done,
                answered: true,
                retried: false,
                limited: &[],
            },
            Row {
                name: "200 with a rate-limit header: the limits apply",
                outcome: Some(response(200, Some("60:transaction:organization"), None)),
                on_disk: false,
                fate: Fate::Delivered,
                counted: None,
                report: Done,
                answered: true,
                retried: false,
                limited: &[Transaction],
            },
            Row {
                name: "413: discarded, never retried",
                outcome: Some(response(413, None, None)),
                on_disk: true,
                fate: Fate::TooLarge,
                counted: Some(SendError),
                report: Restore,
                answered: true,
                retried: false,
                limited: &[],
            },
            Row {
                name: "429 with a rate-limit header: not counted",
                outcome: Some(response(429, Some("60:error:organization"), Some("5"))),
                on_disk: true,
                fate: Fate::RateLimited,
                counted: None,
                report: Restore,
                answered: true,
                retried: false,
                limited: &[Error],
            },
            Row {
                name: "bare 429: everything limited",
                outcome: Some(response(429, None, None)),
                on_disk: false,
                fate: Fate::RateLimited,
                counted: None,
                report: Restore,
                answered: true,
                retried: false,
                limited: &[Error, Transaction, LogItem, Internal],
            },
            Row {
                name: "400: refused with its report",
                outcome: Some(response(400, None, None)),
                on_disk: false,
                fate: Fate::Refused { status: 400 },
                counted: Some(SendError),
                report: Done,
                answered: true,
                retried: false,
                limited: &[],
            },
            Row {
                name: "403, from disk",
                outcome: Some(response(403, None, None)),
                on_disk: true,
                fate: Fate::Refused { status: 403 },
                counted: Some(SendError),
                report: Done,
                answered: true,
                retried: false,
                limited: &[],
            },
            Row {
                name: "500",
                outcome: Some(response(500, None, None)),
                on_disk: false,
                fate: Fate::Failed { status: 500 },
                counted: Some(SendError),
                report: Restore,
                answered: true,
                retried: false,
                limited: &[],
            },
            Row {
                name: "503 with Retry-After, from disk: not retried, nothing limited",
                outcome: Some(response(503, None, Some("30"))),
                on_disk: true,
                fate: Fate::Failed { status: 503 },
                counted: Some(SendError),
                report: Restore,
                answered: true,
                retried: false,
                limited: &[],
            },
            Row {
                name: "302: not a status the spec names",
                outcome: Some(response(302, None, None)),
                on_disk: false,
                fate: Fate::Failed { status: 302 },
                counted: Some(SendError),
                report: Restore,
                answered: true,
                retried: false,
                limited: &[],
            },
            Row {
                name: "network error, on disk: retried, not counted",
                outcome: Some(network_error()),
                on_disk: true,
                fate: Fate::RetryLater,
                counted: None,
                report: Restore,
                answered: false,
                retried: true,
                limited: &[],
            },
            Row {
                name: "network error, not on disk: lost",
                outcome: Some(network_error()),
                on_disk: false,
                fate: Fate::Unreachable,
                counted: Some(NetworkError),
                report: Restore,
                answered: false,
                retried: false,
                limited: &[],
            },
            Row {
                name: "SDK failure",
                outcome: None,
                on_disk: true,
                fate: Fate::SdkFailure,
                counted: Some(InternalSdkError),
                report: Restore,
                answered: false,
                retried: false,
                limited: &[],
            },
        ];

        for row in rows {
            let name = row.name;
            let mut limiter = RateLimiter::new();
            if let Some(outcome) = &row.outcome {
                assert_eq!(Fate::of(outcome, row.on_disk), row.fate, "{name}");
                update_limits(&mut limiter, outcome);
                // Diagnostics never panic, whatever the row.
                row.fate.log(outcome);
            }
            let fate = row.fate;
            assert_eq!(fate.discard_reason(), row.counted, "{name}");
            assert_eq!(fate.report(), row.report, "{name}");
            assert_eq!(fate.answered(), row.answered, "{name}");
            assert_eq!(fate.retried(), row.retried, "{name}");
            assert!(!(fate.answered() && fate.retried()), "{name}");
            for category in CATEGORIES {
                assert_eq!(
                    limiter.is_limited(category),
                    row.limited.contains(&category),
                    "{name}: {category:?}"
                );
            }
        }
    }
}
