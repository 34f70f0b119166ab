//! Cron check-ins through the real pipeline: `monitor` pairs, errors and panics, the async
//! wrapper, schedules, Sentry's limits, the options' hooks and the envelope they travel in.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use sentry_core::envelope::{Envelope, EnvelopeItem};
use sentry_core::protocol::{
    CheckIn, CheckInId, CheckInStatus, DataCategory, DiscardReason, IntervalUnit, MonitorConfig,
    MonitorError, MonitorSchedule,
};
use sentry_core::test::{with_isolated_client, Discarded};
use sentry_core::{ClientOptions, Level, Scopes, TransactionContext};

/// A client of its own, bound to new scopes; `f` runs inside them.
fn run(options: ClientOptions, f: impl FnOnce()) -> (Vec<Envelope>, Discarded) {
    with_isolated_client(options, f)
}

fn check_ins(envelopes: &[Envelope]) -> Vec<CheckIn> {
    envelopes
        .iter()
        .flat_map(Envelope::items)
        .filter_map(EnvelopeItem::as_check_in)
        .cloned()
        .collect()
}

fn config() -> MonitorConfig {
    MonitorConfig {
        checkin_margin: Some(5),
        max_runtime: Some(10),
        timezone: Some("Europe/Vienna".into()),
        failure_issue_threshold: Some(2),
        recovery_threshold: Some(1),
        owner: Some("team:ops".into()),
        ..MonitorConfig::new(MonitorSchedule::crontab("*/5 * * * *").unwrap())
    }
}

#[test]
fn monitor_sends_a_pair_with_the_same_id_and_a_duration() {
    let options = ClientOptions {
        release: Some("app@1.0".into()),
        environment: Some("staging".into()),
        ..Default::default()
    };
    let (envelopes, reports) = run(options, || {
        let value = sentry_core::monitor("report-job", Some(config()), || {
            std::thread::sleep(Duration::from_millis(20));
            Ok::<_, String>(7)
        });
        assert_eq!(value, Ok(7));
    });
    assert!(reports.is_empty(), "{reports:?}");
    assert_eq!(envelopes.len(), 2, "one envelope per check-in");
    for envelope in &envelopes {
        assert_eq!(envelope.len(), 1);
        assert!(envelope.headers().sdk.is_some());
        let trace = envelope.headers().trace.as_ref().expect("trace header");
        assert_eq!(trace["public_key"], "public".into());
    }
    let [start, end] = <[CheckIn; 2]>::try_from(check_ins(&envelopes)).unwrap();
    assert_eq!(start.status, CheckInStatus::InProgress);
    assert_eq!(end.status, CheckInStatus::Ok);
    assert_eq!(start.check_in_id, end.check_in_id);
    assert!(!start.check_in_id.is_nil());
    assert_eq!(start.monitor_slug, "report-job");
    assert_eq!(start.duration, None);
    let duration = end.duration.unwrap();
    assert!((0.02..10.0).contains(&duration), "{duration}");
    for check_in in [&start, &end] {
        assert_eq!(check_in.release.as_deref(), Some("app@1.0"));
        assert_eq!(check_in.environment.as_deref(), Some("staging"));
        assert_eq!(check_in.monitor_config, Some(config()));
        assert!(check_in.trace_id.is_some());
    }
    assert_eq!(start.trace_id, end.trace_id);
    // The envelope's trace header names the same trace.
    let header_trace = envelopes[0].headers().trace.as_ref().unwrap()["trace_id"].clone();
    assert_eq!(header_trace, start.trace_id.unwrap().to_string().into());
}

#[test]
fn err_and_panic_send_error() {
    let (envelopes, _) = run(ClientOptions::default(), || {
        let result = sentry_core::monitor("failing", None, || Err::<(), _>("disk full"));
        assert!(result.is_err());
        sentry_core::monitor("unit", None, || ());
        let panicked = std::panic::catch_unwind(|| {
            sentry_core::monitor("panicking", None, || -> Result<(), ()> {
                panic!("job panicked")
            })
        });
        let payload = panicked.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"job panicked"));
    });
    let statuses: Vec<_> = check_ins(&envelopes)
        .into_iter()
        .map(|c| (c.monitor_slug, c.status, c.duration.is_some()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("failing".into(), CheckInStatus::InProgress, false),
            ("failing".into(), CheckInStatus::Error, true),
            ("unit".into(), CheckInStatus::InProgress, false),
            ("unit".into(), CheckInStatus::Ok, true),
            ("panicking".into(), CheckInStatus::InProgress, false),
            ("panicking".into(), CheckInStatus::Error, true),
        ]
    );
}

/// Polls a future to completion with a no-op waker (the futures here never wait on I/O).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// Pending `n` times, then ready.
struct YieldTimes(usize);

impl Future for YieldTimes {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[test]
fn monitor_async_sends_on_first_poll_and_on_completion() {
    let (envelopes, _) = run(ClientOptions::default(), || {
        let job = sentry_core::monitor_async("async-job", Some(config()), async {
            YieldTimes(3).await;
            std::thread::sleep(Duration::from_millis(10));
            Ok::<u8, String>(1)
        });
        // Nothing is sent before the first poll.
        assert!(Scopes::current().client().flush(None));
        assert_eq!(block_on(job), Ok(1));

        let failing = sentry_core::monitor_async("async-fail", None, async {
            YieldTimes(1).await;
            Err::<(), _>("no")
        });
        assert!(block_on(failing).is_err());

        let panicking = sentry_core::monitor_async("async-panic", None, async {
            YieldTimes(1).await;
            if true {
                panic!("async job panicked");
            }
        });
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            block_on(panicking);
        }));
        assert!(caught.is_err());

        // Dropped before completion: only the first check-in.
        let mut dropped = Box::pin(sentry_core::monitor_async("async-dropped", None, async {
            YieldTimes(5).await;
        }));
        let _ = dropped
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        drop(dropped);
    });
    let check_ins = check_ins(&envelopes);
    let summary: Vec<_> = check_ins
        .iter()
        .map(|c| (c.monitor_slug.as_str(), c.status))
        .collect();
    assert_eq!(
        summary,
        [
            ("async-job", CheckInStatus::InProgress),
            ("async-job", CheckInStatus::Ok),
            ("async-fail", CheckInStatus::InProgress),
            ("async-fail", CheckInStatus::Error),
            ("async-panic", CheckInStatus::InProgress),
            ("async-panic", CheckInStatus::Error),
            ("async-dropped", CheckInStatus::InProgress),
        ]
    );
    assert_eq!(check_ins[0].check_in_id, check_ins[1].check_in_id);
    assert!(check_ins[1].duration.unwrap() >= 0.01);
    assert_eq!(check_ins[1].monitor_config, Some(config()));
}

#[test]
fn bad_crontabs_are_rejected_at_construction() {
    for (expr, good) in [
        ("0 * * * *", true),
        ("*/10 9-17 * * MON-FRI", true),
        ("0 0 1,15 jan,jul *", true),
        ("@hourly", true),
        ("@daily", true),
        ("@weekly", true),
        ("@monthly", true),
        ("@yearly", true),
        ("", false),
        ("* * * *", false),
        ("0 * * * * *", false),
        ("60 * * * *", false),
        ("0 24 * * *", false),
        ("0 0 0 * *", false),
        ("0 0 32 * *", false),
        ("0 0 * 13 *", false),
        ("0 0 * * 8", false),
        ("0 0 * * FUN", false),
        ("0 0 * XYZ *", false),
        ("*/0 * * * *", false),
        ("5-1 * * * *", false),
        ("1,,2 * * * *", false),
        ("@every 5m", false),
        ("0 0 * * ?", false),
    ] {
        let result = MonitorSchedule::crontab(expr);
        assert_eq!(result.is_ok(), good, "{expr:?}: {result:?}");
        if let Err(err) = result {
            assert!(matches!(err, MonitorError::InvalidCrontab { .. }));
            assert!(err.to_string().starts_with("invalid crontab"), "{err}");
        }
    }
    assert_eq!(
        MonitorSchedule::interval(0, IntervalUnit::Minute),
        Err(MonitorError::ZeroInterval)
    );
    let every = MonitorSchedule::interval(2, IntervalUnit::Hour).unwrap();
    assert_eq!(every.as_interval(), Some((2, IntervalUnit::Hour)));
    assert_eq!(every.to_string(), "every 2 hour");
}

#[test]
fn slug_and_environment_limits() {
    let (envelopes, reports) = run(ClientOptions::default(), || {
        let empty = CheckIn::new("", CheckInStatus::Ok);
        assert_eq!(
            sentry_core::try_capture_check_in(empty.clone()),
            Err(MonitorError::EmptySlug)
        );
        assert!(sentry_core::capture_check_in(empty).is_nil());
        let long = CheckIn::new("s".repeat(51), CheckInStatus::Ok);
        assert_eq!(
            sentry_core::try_capture_check_in(long),
            Err(MonitorError::SlugTooLong { chars: 51 })
        );
        let env = CheckIn {
            environment: Some("e".repeat(65).into()),
            ..CheckIn::new("ok-slug", CheckInStatus::Ok)
        };
        assert_eq!(
            sentry_core::try_capture_check_in(env),
            Err(MonitorError::EnvironmentTooLong { chars: 65 })
        );
        let fine = CheckIn::new("s".repeat(50), CheckInStatus::Ok);
        assert_eq!(
            sentry_core::try_capture_check_in(fine.clone()),
            Ok(fine.check_in_id)
        );
    });
    assert_eq!(check_ins(&envelopes).len(), 1);
    // Rejected before reaching a client: nothing to count.
    assert!(reports.is_empty(), "{reports:?}");

    // An environment from the options that is too long is found by the client, and counted.
    let options = ClientOptions {
        environment: Some("x".repeat(70).into()),
        ..Default::default()
    };
    let (envelopes, reports) = run(options, || {
        let result = sentry_core::try_capture_check_in(CheckIn::new("job", CheckInStatus::Ok));
        assert_eq!(result, Err(MonitorError::EnvironmentTooLong { chars: 70 }));
        // `monitor` still runs the job.
        assert_eq!(sentry_core::monitor("job", None, || Ok::<_, ()>(5)), Ok(5));
    });
    assert!(envelopes.is_empty());
    assert_eq!(
        reports,
        [(DiscardReason::Invalid, DataCategory::Monitor, 3)]
    );
}

#[test]
fn check_ins_skip_before_send_and_sampling_and_have_their_own_hook() {
    let before_send_calls = Arc::new(AtomicUsize::new(0));
    let calls = Arc::clone(&before_send_calls);
    let options = ClientOptions {
        sample_rate: 0.0,
        before_send: Some(Arc::new(move |event, _| {
            calls.fetch_add(1, Ordering::SeqCst);
            Some(event)
        })),
        before_send_check_in: Some(Arc::new(|mut check_in: CheckIn| {
            if check_in.monitor_slug == "secret" {
                return None;
            }
            check_in.monitor_slug.push_str("-seen");
            Some(check_in)
        })),
        ..Default::default()
    };
    let (envelopes, reports) = run(options, || {
        let id = sentry_core::capture_check_in(CheckIn::new("visible", CheckInStatus::Ok));
        assert!(!id.is_nil());
        let dropped = sentry_core::capture_check_in(CheckIn::new("secret", CheckInStatus::Ok));
        assert_eq!(dropped, CheckInId::nil());
        sentry_core::capture_message("sampled out", Level::Info);
    });
    assert_eq!(before_send_calls.load(Ordering::SeqCst), 0);
    let check_ins = check_ins(&envelopes);
    assert_eq!(check_ins.len(), 1);
    assert_eq!(check_ins[0].monitor_slug, "visible-seen");
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(reports.contains(&(DiscardReason::BeforeSend, DataCategory::Monitor, 1)));
    assert!(reports.contains(&(DiscardReason::SampleRate, DataCategory::Error, 1)));

    // A panicking hook drops the check-in, counted, and the application goes on.
    let options = ClientOptions {
        before_send_check_in: Some(Arc::new(|_| panic!("hook bug"))),
        ..Default::default()
    };
    let (envelopes, reports) = run(options, || {
        sentry_core::capture_check_in(CheckIn::new("x", CheckInStatus::Ok));
    });
    assert!(envelopes.is_empty());
    assert_eq!(
        reports,
        [(DiscardReason::BeforeSend, DataCategory::Monitor, 1)]
    );
}

#[test]
fn check_ins_carry_the_current_trace() {
    let options = ClientOptions {
        traces_sample_rate: Some(1.0),
        ..Default::default()
    };
    let (envelopes, _) = run(options, || {
        // Without a span: the scope's trace, the same as an event's.
        sentry_core::capture_check_in(CheckIn::new("no-span", CheckInStatus::Ok));
        sentry_core::capture_message("same trace", Level::Info);
        // Inside a transaction: its trace.
        let tx = sentry_core::start_transaction(TransactionContext::new("job", "task")).enter();
        sentry_core::monitor("in-span", None, || ());
        drop(tx);
    });
    let check_ins = check_ins(&envelopes);
    let event = envelopes.iter().find_map(|e| e.event()).unwrap();
    let event_trace = match event.contexts.get("trace") {
        Some(sentry_core::protocol::Context::Trace(trace)) => trace.trace_id,
        other => panic!("no trace context: {other:?}"),
    };
    assert_eq!(check_ins[0].trace_id, Some(event_trace));
    let tx = envelopes.iter().find_map(|e| e.transaction()).unwrap();
    let tx_trace = match tx.contexts.get("trace") {
        Some(sentry_core::protocol::Context::Trace(trace)) => trace.trace_id,
        other => panic!("no trace context: {other:?}"),
    };
    assert_eq!(check_ins[1].trace_id, Some(tx_trace));
    assert_eq!(check_ins[2].trace_id, Some(tx_trace));
}

#[test]
fn disabled_sdk_runs_the_job_and_still_checks_limits() {
    // No client bound anywhere in this test's scopes: nothing is sent, the job runs.
    let scopes = Scopes::current().fork_isolation();
    scopes.configure_isolation_scope(|scope| scope.set_client(None));
    scopes.bind(|| {
        assert_eq!(
            sentry_core::monitor("job", None, || 3_u8.checked_add(1).ok_or(())),
            Ok(4)
        );
        assert_eq!(
            sentry_core::try_capture_check_in(CheckIn::new("", CheckInStatus::Ok)),
            Err(MonitorError::EmptySlug)
        );
    });
}

#[test]
fn check_in_envelopes_round_trip() {
    let check_in = CheckIn {
        duration: Some(1.5),
        monitor_config: Some(config()),
        trace_id: Some(sentry_core::protocol::new_trace_id()),
        ..CheckIn::new("round-trip", CheckInStatus::Error)
    };
    let envelope = Envelope::from_check_in(check_in.clone());
    let parsed = Envelope::from_bytes(&envelope.to_vec(None)).unwrap();
    assert_eq!(parsed, envelope);
    let item = parsed.items().next().unwrap();
    assert_eq!(item.as_check_in(), Some(&check_in));
    assert_eq!(item.outcomes(), [(DataCategory::Monitor, 1)]);
}
