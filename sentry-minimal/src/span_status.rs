//! The status of a span or trace.

use std::fmt;
use std::str::FromStr;

macro_rules! span_statuses {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// The status of a span or transaction, as in `contexts.trace.status`.
        ///
        /// The names follow Sentry's list (a superset of gRPC status codes). Any name Sentry does
        /// not know reads as [`SpanStatus::Unknown`]. On the wire a status is its name as a JSON
        /// string (the SDK writes and reads it; this crate has no serialization of its own).
        ///
        /// # Examples
        ///
        /// ```
        /// use sentry_minimal::SpanStatus;
        ///
        /// assert_eq!(SpanStatus::DeadlineExceeded.as_str(), "deadline_exceeded");
        /// assert_eq!(SpanStatus::from("not_found"), SpanStatus::NotFound);
        /// assert_eq!(SpanStatus::from("teapot"), SpanStatus::Unknown);
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum SpanStatus {
            $($(#[$doc])* $variant,)*
        }

        impl SpanStatus {
            /// The wire name, such as `"ok"` or `"internal_error"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(SpanStatus::$variant => $name,)*
                }
            }

            /// The status with this wire name; `None` for names Sentry does not know.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($name => Some(SpanStatus::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

span_statuses! {
    /// The operation completed successfully.
    Ok => "ok",
    /// The operation was cancelled, typically by the caller.
    Cancelled => "cancelled",
    /// An unknown error.
    Unknown => "unknown",
    /// The client sent invalid arguments.
    InvalidArgument => "invalid_argument",
    /// The deadline expired before the operation could complete.
    DeadlineExceeded => "deadline_exceeded",
    /// The requested entity was not found (HTTP 404).
    NotFound => "not_found",
    /// The entity already exists (HTTP 409).
    AlreadyExists => "already_exists",
    /// The caller lacks permission (HTTP 403).
    PermissionDenied => "permission_denied",
    /// A resource ran out, or the caller was rate limited (HTTP 429).
    ResourceExhausted => "resource_exhausted",
    /// The system is not in a state required for the operation.
    FailedPrecondition => "failed_precondition",
    /// The operation was aborted, typically by a concurrency conflict.
    Aborted => "aborted",
    /// The operation went past the valid range.
    OutOfRange => "out_of_range",
    /// The operation is not implemented or supported (HTTP 501).
    Unimplemented => "unimplemented",
    /// An internal error (HTTP 500).
    InternalError => "internal_error",
    /// The service is unavailable (HTTP 503).
    Unavailable => "unavailable",
    /// Unrecoverable data loss or corruption.
    DataLoss => "data_loss",
    /// The caller is not authenticated (HTTP 401).
    Unauthenticated => "unauthenticated",
}

impl SpanStatus {
    /// The status Sentry derives from an HTTP response status code.
    ///
    /// 2xx is [`Ok`](SpanStatus::Ok). Codes with a status of their own: 401 unauthenticated,
    /// 403 permission denied, 404 not found, 409 already exists, 413 failed precondition,
    /// 429 resource exhausted, 499 cancelled, 501 unimplemented, 503 unavailable, 504 deadline
    /// exceeded. Any other 4xx (400 included) is [`InvalidArgument`](SpanStatus::InvalidArgument)
    /// and any other 5xx (500 included) [`InternalError`](SpanStatus::InternalError).
    ///
    /// `None` for codes outside 2xx, 4xx and 5xx (1xx, 3xx, nonsense): they say nothing about
    /// success, so the caller keeps whatever status it had.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_minimal::SpanStatus;
    ///
    /// assert_eq!(SpanStatus::from_http_status(201), Some(SpanStatus::Ok));
    /// assert_eq!(SpanStatus::from_http_status(429), Some(SpanStatus::ResourceExhausted));
    /// assert_eq!(SpanStatus::from_http_status(422), Some(SpanStatus::InvalidArgument));
    /// assert_eq!(SpanStatus::from_http_status(502), Some(SpanStatus::InternalError));
    /// assert_eq!(SpanStatus::from_http_status(304), None);
    /// ```
    pub fn from_http_status(code: u16) -> Option<Self> {
        let exact = match code {
            400 => SpanStatus::InvalidArgument,
            401 => SpanStatus::Unauthenticated,
            403 => SpanStatus::PermissionDenied,
            404 => SpanStatus::NotFound,
            409 => SpanStatus::AlreadyExists,
            413 => SpanStatus::FailedPrecondition,
            429 => SpanStatus::ResourceExhausted,
            499 => SpanStatus::Cancelled,
            500 => SpanStatus::InternalError,
            501 => SpanStatus::Unimplemented,
            503 => SpanStatus::Unavailable,
            504 => SpanStatus::DeadlineExceeded,
            _ => {
                return match code {
                    200..=299 => Some(SpanStatus::Ok),
                    400..=499 => Some(SpanStatus::InvalidArgument),
                    500..=599 => Some(SpanStatus::InternalError),
                    _ => None,
                }
            }
        };
        Some(exact)
    }
}

impl fmt::Display for SpanStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for SpanStatus {
    /// Reads a wire name; unknown names give [`SpanStatus::Unknown`].
    fn from(name: &str) -> Self {
        SpanStatus::from_name(name).unwrap_or(SpanStatus::Unknown)
    }
}

impl From<String> for SpanStatus {
    fn from(name: String) -> Self {
        SpanStatus::from(name.as_str())
    }
}

impl FromStr for SpanStatus {
    type Err = std::convert::Infallible;

    /// Like `From<&str>`: never fails, unknown names give [`SpanStatus::Unknown`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(SpanStatus::from(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for status in [
            SpanStatus::Ok,
            SpanStatus::Cancelled,
            SpanStatus::Unknown,
            SpanStatus::InvalidArgument,
            SpanStatus::DeadlineExceeded,
            SpanStatus::NotFound,
            SpanStatus::AlreadyExists,
            SpanStatus::PermissionDenied,
            SpanStatus::ResourceExhausted,
            SpanStatus::FailedPrecondition,
            SpanStatus::Aborted,
            SpanStatus::OutOfRange,
            SpanStatus::Unimplemented,
            SpanStatus::InternalError,
            SpanStatus::Unavailable,
            SpanStatus::DataLoss,
            SpanStatus::Unauthenticated,
        ] {
            assert_eq!(SpanStatus::from_name(status.as_str()), Some(status));
            assert_eq!(status.to_string(), status.as_str());
            assert_eq!(status.as_str().parse::<SpanStatus>(), Ok(status));
            assert_eq!(SpanStatus::from(status.as_str().to_owned()), status);
        }
        assert_eq!(SpanStatus::from_name("weird"), None);
        assert_eq!(SpanStatus::from("weird"), SpanStatus::Unknown);
        assert_eq!("weird".parse::<SpanStatus>(), Ok(SpanStatus::Unknown));
    }

    #[test]
    fn from_http() {
        let table = [
            (200, SpanStatus::Ok),
            (204, SpanStatus::Ok),
            (299, SpanStatus::Ok),
            (400, SpanStatus::InvalidArgument),
            (401, SpanStatus::Unauthenticated),
            (403, SpanStatus::PermissionDenied),
            (404, SpanStatus::NotFound),
            (409, SpanStatus::AlreadyExists),
            (413, SpanStatus::FailedPrecondition),
            (418, SpanStatus::InvalidArgument),
            (429, SpanStatus::ResourceExhausted),
            (499, SpanStatus::Cancelled),
            (500, SpanStatus::InternalError),
            (501, SpanStatus::Unimplemented),
            (502, SpanStatus::InternalError),
            (503, SpanStatus::Unavailable),
            (504, SpanStatus::DeadlineExceeded),
            (599, SpanStatus::InternalError),
        ];
        for (code, status) in table {
            assert_eq!(SpanStatus::from_http_status(code), Some(status), "{code}");
        }
        for code in [0, 100, 199, 302, 399, 600, u16::MAX] {
            assert_eq!(SpanStatus::from_http_status(code), None, "{code}");
        }
    }
}
