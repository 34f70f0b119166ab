//! Scope semantics: top-level setters write the isolation scope, forks are copy-on-write, and
//! scopes follow threads and futures.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use sentry_core::test::{with_captured_events, with_captured_events_options};
use sentry_core::{BindScopes, Breadcrumb, ClientOptions, Level, Scopes};

fn tag(event: &sentry_core::protocol::Event, key: &str) -> Option<String> {
    event.tags.get(key).map(|v| v.to_string())
}

#[test]
fn with_scope_data_does_not_leak() {
    let events = with_captured_events(|| {
        sentry_core::with_scope(
            |scope| scope.set_tag("inner", "1"),
            || sentry_core::capture_message("inside", Level::Info),
        );
        sentry_core::capture_message("outside", Level::Info);
    });
    assert_eq!(tag(&events[0], "inner").as_deref(), Some("1"));
    assert_eq!(tag(&events[1], "inner"), None);
}

/// A `configure` that panics enters nothing: the panic reaches the caller, `body` does not
/// run, and the thread's scopes are as they were (its half-written copy is dropped).
#[test]
fn a_panicking_configure_leaves_the_scopes_as_they_were() {
    let events = with_captured_events(|| {
        sentry_core::configure_scope(|scope| scope.set_tag("outer", "1"));
        let unwound = std::panic::catch_unwind(|| {
            sentry_core::with_scope(
                |scope| {
                    scope.set_tag("half", "written");
                    panic!("configure failed");
                },
                || sentry_core::capture_message("body", Level::Info),
            )
        });
        assert!(unwound.is_err());
        sentry_core::capture_message("after", Level::Info);
    });
    assert_eq!(events.len(), 1, "body never ran");
    assert_eq!(tag(&events[0], "outer").as_deref(), Some("1"));
    assert_eq!(tag(&events[0], "half"), None);
}

/// A `with_scope` inside another reads the outer one's data, and a `configure` that writes
/// nothing over it keeps that data.
#[test]
fn nested_with_scopes_see_the_outer_data() {
    let events = with_captured_events(|| {
        sentry_core::with_scope(
            |scope| scope.set_tag("outer", "1"),
            || {
                sentry_core::with_scope(|_| {}, || sentry_core::capture_message("a", Level::Info));
                sentry_core::with_scope(
                    |scope| {
                        assert_eq!(scope.tags().get("outer").map(|v| &**v), Some("1"));
                        scope.set_tag("inner", "1");
                    },
                    || sentry_core::capture_message("b", Level::Info),
                );
                sentry_core::capture_message("c", Level::Info);
            },
        )
    });
    let tags = |event: &sentry_core::protocol::Event| {
        ["outer", "inner"].map(|key| tag(event, key).is_some())
    };
    assert_eq!(tags(&events[0]), [true, false]);
    assert_eq!(tags(&events[1]), [true, true]);
    assert_eq!(tags(&events[2]), [true, false]);
}

#[test]
fn a_pushed_scope_ends_with_its_guard() {
    let events = with_captured_events(|| {
        sentry_core::configure_scope(|scope| scope.set_tag("outer", "1"));
        let pushed = sentry_core::push_scope();
        sentry_core::configure_scope(|scope| scope.set_tag("inner", "1"));
        {
            let _nested = sentry_core::push_scope();
            sentry_core::configure_scope(|scope| scope.set_tag("nested", "1"));
            sentry_core::capture_message("nested", Level::Info);
        }
        sentry_core::capture_message("inside", Level::Info);
        drop(pushed);
        sentry_core::capture_message("outside", Level::Info);
    });
    let tags = |event: &sentry_core::protocol::Event| {
        ["outer", "inner", "nested"].map(|key| tag(event, key).is_some())
    };
    assert_eq!(tags(&events[0]), [true, true, true]);
    assert_eq!(tags(&events[1]), [true, true, false]);
    assert_eq!(tags(&events[2]), [true, false, false]);
}

#[test]
fn a_pushed_scope_stays_on_its_thread() {
    let events = with_captured_events(|| {
        let scopes = Scopes::current();
        std::thread::spawn(move || {
            scopes.bind(|| {
                let _pushed = sentry_core::push_scope();
                sentry_core::configure_scope(|scope| scope.set_tag("pushed", "there"));
                sentry_core::capture_message("other thread", Level::Info);
            })
        })
        .join()
        .unwrap();
        sentry_core::capture_message("this thread", Level::Info);
    });
    let pushed = |text: &str| {
        events
            .iter()
            .find(|e| e.message.as_deref() == Some(text))
            .map(|e| tag(e, "pushed"))
    };
    assert_eq!(pushed("other thread"), Some(Some("there".into())));
    assert_eq!(pushed("this thread"), Some(None));
}

#[test]
fn isolation_scopes_do_not_see_each_other() {
    let events = with_captured_events(|| {
        let a = Scopes::current().fork_isolation();
        let b = Scopes::current().fork_isolation();
        a.bind(|| sentry_core::set_tag("request", "a"));
        b.bind(|| sentry_core::set_tag("request", "b"));
        let ta =
            std::thread::spawn(move || a.bind(|| sentry_core::capture_message("a", Level::Info)));
        let tb =
            std::thread::spawn(move || b.bind(|| sentry_core::capture_message("b", Level::Info)));
        ta.join().unwrap();
        tb.join().unwrap();
    });
    assert_eq!(events.len(), 2);
    for event in &events {
        assert_eq!(tag(event, "request"), event.message.clone());
    }
    assert_ne!(
        format!("{:?}", events[0].contexts.get("trace")),
        format!("{:?}", events[1].contexts.get("trace")),
        "each isolation scope has its own trace"
    );
}

#[test]
fn threads_started_before_data_was_set_see_it() {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    // The worker has no scopes of its own: it reports to the global scope's client.
    let envelopes =
        sentry_core::test::with_captured_envelopes_process_wide(Default::default(), || {
            let worker = std::thread::spawn(move || {
                rx.recv().unwrap();
                sentry_core::capture_message("late", Level::Info);
            });
            sentry_core::configure_global_scope(|scope| scope.set_tag("global", "g"));
            tx.send(()).unwrap();
            worker.join().unwrap();
        });
    sentry_core::configure_global_scope(|scope| scope.remove_tag("global"));
    let events: Vec<_> = envelopes.iter().filter_map(|e| e.event()).collect();
    assert_eq!(tag(events[0], "global").as_deref(), Some("g"));
}

#[test]
fn breadcrumbs_from_all_scopes_merge_and_cap() {
    let events = with_captured_events_options(
        ClientOptions {
            max_breadcrumbs: 3,
            ..Default::default()
        },
        || {
            let scopes = Scopes::current().fork_isolation();
            scopes.bind(|| {
                for i in 0..5 {
                    sentry_core::add_breadcrumb(Breadcrumb::new(format!("iso {i}")));
                }
                sentry_core::with_scope(
                    |scope| scope.add_breadcrumb(Breadcrumb::new("current")),
                    || sentry_core::capture_message("with crumbs", Level::Info),
                );
            });
        },
    );
    let crumbs: Vec<_> = events[0]
        .breadcrumbs
        .iter()
        .map(|b| b.message.as_deref().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(crumbs, ["iso 3", "iso 4", "current"]);
}

#[test]
fn last_event_id_reads_the_isolation_scope() {
    with_captured_events(|| {
        let scopes = Scopes::current().fork_isolation();
        let id = scopes.bind(|| sentry_core::capture_message("x", Level::Info));
        assert_eq!(scopes.bind(sentry_core::last_event_id), Some(id));
        let other = Scopes::current().fork_isolation();
        assert_eq!(other.bind(sentry_core::last_event_id), None);
    });
}

/// A minimal executor: polls the future on alternating threads until it completes.
fn run_on_several_threads<F: Future<Output = ()> + Send + 'static>(future: F) {
    struct NoopWake;
    impl Wake for NoopWake {
        fn wake(self: Arc<Self>) {}
    }
    let mut future: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(future);
    for _ in 0..10 {
        let (back, done) = std::thread::spawn(move || {
            let waker = Waker::from(Arc::new(NoopWake));
            let mut cx = Context::from_waker(&waker);
            let done = matches!(future.as_mut().poll(&mut cx), Poll::Ready(()));
            (future, done)
        })
        .join()
        .unwrap();
        future = back;
        if done {
            return;
        }
    }
    panic!("future did not complete");
}

/// Yields once, so the next poll happens on another thread.
struct YieldOnce(bool);
impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

#[test]
fn futures_keep_their_scopes_across_polls_and_threads() {
    let events = with_captured_events(|| {
        let scopes = Scopes::current().fork_isolation();
        let task = async {
            sentry_core::set_tag("task", "t1");
            YieldOnce(false).await;
            sentry_core::capture_message("after yield", Level::Info);
        }
        .bind_scopes(scopes);
        run_on_several_threads(task);
        sentry_core::capture_message("outside the task", Level::Info);
    });
    assert_eq!(tag(&events[0], "task").as_deref(), Some("t1"));
    assert_eq!(tag(&events[1], "task"), None);
}

#[test]
fn breadcrumbs_added_to_a_scope_honour_max_breadcrumbs() {
    with_captured_events_options(
        ClientOptions {
            max_breadcrumbs: 2,
            ..Default::default()
        },
        || {
            let scopes = Scopes::current().fork_isolation();
            // The isolation scope holds the helper's client, so it knows its settings.
            let kept = scopes.configure_isolation_scope(|scope| {
                for i in 0..5 {
                    scope.add_breadcrumb(Breadcrumb::new(format!("crumb {i}")));
                }
                scope.breadcrumbs().count()
            });
            assert_eq!(kept, Some(2), "the ring holds the client's max_breadcrumbs");
        },
    );
}
