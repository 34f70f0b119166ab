//! Cron monitoring: check-ins, and running a job under a monitor.

use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use sentry_minimal::TraceId;

use crate::protocol::{CheckIn, CheckInId, CheckInStatus, MonitorConfig, MonitorError};
use crate::scope::{with_scopes, Scopes, Snapshots};
use crate::span::Span;

/// Sends a cron check-in with the current scopes' client and returns its id, or says which of
/// Sentry's limits it breaks.
///
/// The SDK fills `release` and `environment` from the options and the trace from the current
/// span or scope, when the check-in does not set them. Check-ins never go through
/// `before_send` or sampling (see [`before_send_check_in`](crate::ClientOptions)); each
/// travels alone in an envelope (category `monitor`). Returns the nil id when nothing was
/// sent (the SDK is disabled, or `before_send_check_in` dropped it).
///
/// # Errors
///
/// [`MonitorError`] for an empty slug, a slug over 50 characters or an environment over 64
/// (checked even while the SDK is disabled, so the mistake shows in development).
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{CheckIn, CheckInStatus, MonitorError};
/// use sentry_core::test::with_captured_check_ins;
///
/// let check_ins = with_captured_check_ins(Default::default(), || {
///     let start = CheckIn::new("hourly-sync", CheckInStatus::InProgress);
///     let id = sentry_core::try_capture_check_in(start.clone()).unwrap();
///     assert_eq!(id, start.check_in_id);
///     // ... the job ...
///     let end = CheckIn { duration: Some(2.5), ..start.with_status(CheckInStatus::Ok) };
///     sentry_core::try_capture_check_in(end).unwrap();
///
///     let bad = CheckIn::new("", CheckInStatus::Ok);
///     assert_eq!(sentry_core::try_capture_check_in(bad), Err(MonitorError::EmptySlug));
/// });
/// assert_eq!(check_ins.len(), 2);
/// assert_eq!(check_ins[1].environment.as_deref(), Some("production"));
/// ```
pub fn try_capture_check_in(check_in: CheckIn) -> Result<CheckInId, MonitorError> {
    check_in.validate()?;
    if !sentry_minimal::is_enabled() {
        return Ok(CheckInId::nil());
    }
    capture_check_in_enabled(check_in)
}

#[inline(never)]
fn capture_check_in_enabled(check_in: CheckIn) -> Result<CheckInId, MonitorError> {
    with_scopes(|scopes| {
        let snapshots = Snapshots::of(scopes);
        let client = snapshots.client();
        match client {
            Some(client) => {
                client.capture_check_in(check_in, Some(snapshots.scopes()), scopes.span.as_ref())
            }
            None => Ok(CheckInId::nil()),
        }
    })
}

/// Sends a cron check-in like [`try_capture_check_in`]; a check-in that breaks one of
/// Sentry's limits is not sent, and the SDK prints why on stderr (and, with a client, counts
/// it as `invalid` in its client reports). Returns the check-in's id, or the nil id when
/// nothing was sent.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{CheckIn, CheckInStatus};
///
/// // In a job started by the system's cron:
/// let start = CheckIn::new("nightly-backup", CheckInStatus::InProgress);
/// sentry_core::capture_check_in(start.clone());
/// let ok = true; // ... the job ...
/// let status = if ok { CheckInStatus::Ok } else { CheckInStatus::Error };
/// sentry_core::capture_check_in(start.with_status(status));
/// ```
pub fn capture_check_in(check_in: CheckIn) -> CheckInId {
    match try_capture_check_in(check_in) {
        Ok(id) => id,
        Err(err) => {
            crate::debug::debug_print(format_args!("check-in not sent: {err}"));
            CheckInId::nil()
        }
    }
}

/// What a monitored job returns, and whether that is a failure: `Err` of a `Result` is (an
/// `error` check-in), `()` never is. Wrap other values in `Ok`.
pub trait MonitorResult {
    /// `true` when the job failed.
    fn is_failure(&self) -> bool;
}

impl MonitorResult for () {
    fn is_failure(&self) -> bool {
        false
    }
}

impl<T, E> MonitorResult for Result<T, E> {
    fn is_failure(&self) -> bool {
        self.is_err()
    }
}

/// Runs `job` under the cron monitor `slug`: an `in_progress` check-in before it, then `ok`,
/// or `error` when it returns `Err` or panics (the panic then goes on), with the job's
/// duration and the same check-in id. `config` (sent with both) creates or updates the
/// monitor. Both check-ins carry the trace that was current when the job started.
///
/// While the SDK is disabled the job just runs. A slug Sentry would refuse is reported on
/// stderr and the job runs unmonitored.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{CheckInStatus, MonitorConfig, MonitorSchedule};
/// use sentry_core::test::with_captured_check_ins;
///
/// fn backup() -> Result<u64, std::io::Error> {
///     Ok(42) // bytes written
/// }
///
/// let check_ins = with_captured_check_ins(Default::default(), || {
///     let schedule = MonitorSchedule::crontab("0 3 * * *").unwrap();
///     let config = MonitorConfig { max_runtime: Some(30), ..MonitorConfig::new(schedule) };
///     let written = sentry_core::monitor("nightly-backup", Some(config), backup);
///     assert_eq!(written.unwrap(), 42);
/// });
/// assert_eq!(check_ins[0].status, CheckInStatus::InProgress);
/// assert_eq!(check_ins[1].status, CheckInStatus::Ok);
/// assert_eq!(check_ins[0].check_in_id, check_ins[1].check_in_id);
/// assert!(check_ins[1].duration.is_some());
/// ```
pub fn monitor<R: MonitorResult>(
    slug: impl Into<String>,
    config: Option<MonitorConfig>,
    job: impl FnOnce() -> R,
) -> R {
    if !sentry_minimal::is_enabled() {
        return job();
    }
    let run = MonitorRun::start(slug.into(), config);
    match catch_unwind(AssertUnwindSafe(job)) {
        Ok(result) => {
            run.finish(result.is_failure());
            result
        }
        Err(panic) => {
            run.finish(true);
            resume_unwind(panic)
        }
    }
}

/// [`monitor`] for a future, on any executor: the `in_progress` check-in is sent when the
/// future is first polled, `ok` or `error` (on `Err` or a panic while polled) when it
/// completes, with the time in between. A future dropped before it completes sends no second
/// check-in: the monitor's `max_runtime` then marks the run as timed out.
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// use std::pin::pin;
/// use std::task::{Context, Poll, Waker};
/// use sentry_core::protocol::CheckInStatus;
/// use sentry_core::test::with_captured_check_ins;
///
/// async fn refresh_cache() -> Result<(), String> {
///     Err("upstream timed out".into())
/// }
///
/// let check_ins = with_captured_check_ins(Default::default(), || {
///     let job = pin!(sentry_core::monitor_async("cache-refresh", None, refresh_cache()));
///     // Any executor; here, one poll by hand.
///     let result = job.poll(&mut Context::from_waker(Waker::noop()));
///     assert!(matches!(result, Poll::Ready(Err(_))));
/// });
/// assert_eq!(check_ins[1].status, CheckInStatus::Error);
/// ```
pub fn monitor_async<F>(
    slug: impl Into<String>,
    config: Option<MonitorConfig>,
    future: F,
) -> MonitorFuture<F>
where
    F: Future,
    F::Output: MonitorResult,
{
    MonitorFuture {
        future: Box::pin(future),
        start: Some((slug.into(), config)),
        run: None,
    }
}

/// The future [`monitor_async`] returns: the job's future, with its check-ins.
#[must_use = "futures do nothing unless polled"]
pub struct MonitorFuture<F> {
    future: Pin<Box<F>>,
    /// The slug and configuration, until the first poll.
    start: Option<(String, Option<MonitorConfig>)>,
    run: Option<MonitorRun>,
}

impl<F> std::fmt::Debug for MonitorFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitorFuture")
            .field("started", &self.start.is_none())
            .finish_non_exhaustive()
    }
}

impl<F> Future for MonitorFuture<F>
where
    F: Future,
    F::Output: MonitorResult,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        if let Some((slug, config)) = this.start.take() {
            if sentry_minimal::is_enabled() {
                this.run = Some(MonitorRun::start(slug, config));
            }
        }
        let future = &mut this.future;
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(result)) => {
                if let Some(run) = this.run.take() {
                    run.finish(result.is_failure());
                }
                Poll::Ready(result)
            }
            Err(panic) => {
                if let Some(run) = this.run.take() {
                    run.finish(true);
                }
                resume_unwind(panic)
            }
        }
    }
}

/// A job under way: its `in_progress` check-in, sent, and when it started.
struct MonitorRun {
    check_in: CheckIn,
    started: Instant,
}

impl MonitorRun {
    fn start(slug: String, config: Option<MonitorConfig>) -> MonitorRun {
        let mut check_in = CheckIn::new(slug, CheckInStatus::InProgress);
        check_in.monitor_config = config;
        check_in.trace_id = with_scopes(current_trace_id);
        capture_check_in(check_in.clone());
        MonitorRun {
            check_in,
            started: Instant::now(),
        }
    }

    fn finish(self, failed: bool) {
        let status = if failed {
            CheckInStatus::Error
        } else {
            CheckInStatus::Ok
        };
        let mut check_in = self.check_in;
        check_in.status = status;
        check_in.duration = Some(self.started.elapsed().as_secs_f64());
        capture_check_in(check_in);
    }
}

/// The trace of the current span, or else of the scopes.
fn current_trace_id(scopes: &Scopes) -> Option<TraceId> {
    scopes
        .span
        .as_ref()
        .and_then(Span::trace_id)
        .or_else(|| scopes.with_trace(|p| p.map(|p| p.trace_id)))
}
