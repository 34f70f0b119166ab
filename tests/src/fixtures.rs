//! Events the tests and benchmarks of the workspace share.

use std::sync::Arc;

use sentry_core::protocol::{Addr, Event, Exception, Frame, Stacktrace};
use sentry_core::Breadcrumb;

/// A typical error event of about 10 KB once serialized: a 24-frame stack trace, 20
/// breadcrumbs, tags and modules, all different per `i` so that compression sees realistic
/// text rather than repetition. Shared by the delivery tests, the gzip tests and the
/// throughput benchmark, so that they all measure the same kind of event.
///
/// ```
/// let event = sentry_tests::fixtures::typical_event(7);
/// let bytes = sentry_core::envelope::Envelope::from_event(event).to_vec(None);
/// assert!((8_000..14_000).contains(&bytes.len()), "{}", bytes.len());
/// ```
pub fn typical_event(i: usize) -> Event {
    let frames = (0..24u64)
        .map(|f| Frame {
            function: Some(format!("my_app::handlers::orders::process_order_step_{f}")),
            module: Some("my_app::handlers::orders".into()),
            filename: Some(format!("src/handlers/orders_{}.rs", f % 7)),
            abs_path: Some(format!("/srv/my-app/src/handlers/orders_{}.rs", f % 7)),
            lineno: Some(100 + f * 7),
            in_app: Some(f < 8),
            instruction_addr: Some(Addr(0x5555_5555_0000 + f * 0x1a3)),
            ..Frame::default()
        })
        .collect();
    let mut event = Event {
        message: Some(format!("order {i} failed")),
        exception: vec![Exception {
            ty: "PaymentError".into(),
            value: Some(format!("gateway timeout for order {i}")),
            stacktrace: Some(Stacktrace {
                frames,
                ..Stacktrace::default()
            }),
            ..Exception::default()
        }],
        breadcrumbs: (0..20)
            .map(|b| {
                Arc::new(
                    Breadcrumb::new(format!("GET /api/v1/items/{b}?page={i} -> 200"))
                        .category("http")
                        .data("status_code", 200),
                )
            })
            .collect(),
        release: Some("my-app@1.4.2".into()),
        ..Event::default()
    };
    for t in 0..8 {
        event
            .tags
            .insert(format!("tag{t}").into(), format!("value-{t}-{i}").into());
    }
    for m in 0..30 {
        event
            .modules
            .insert(format!("crate-{m}"), format!("1.{m}.{}", m * 3));
    }
    event
}
