//! Streamed spans get the operating system from the contexts integration: its name on every
//! span, its version on the segment.

use std::sync::Arc;

use sentry_backtrace::ContextIntegration;
use sentry_core::envelope::{EnvelopeItem, ItemType};
use sentry_core::test::with_isolated_client;
use sentry_core::{ClientOptions, TraceLifecycle, TransactionContext};
use serde_json::Value;

#[test]
fn streamed_spans_carry_the_os() {
    let options = ClientOptions {
        traces_sample_rate: Some(1.0),
        trace_lifecycle: TraceLifecycle::Stream,
        integrations: vec![Arc::new(ContextIntegration::new())],
        ..Default::default()
    };
    let (envelopes, _) = with_isolated_client(options, || {
        let tx = sentry_core::start_transaction(TransactionContext::new("root", "task")).enter();
        sentry_core::start_span("op", "child").finish();
        drop(tx);
    });
    let mut spans = Vec::new();
    for item in envelopes.iter().flat_map(|e| e.items()) {
        if let EnvelopeItem::Raw(raw) = item {
            if raw.ty == ItemType::Span {
                let payload: Value = serde_json::from_slice(&raw.payload).unwrap();
                spans.extend(payload["items"].as_array().unwrap().iter().cloned());
            }
        }
    }
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let os = sentry_backtrace::os_context();
    for span in &spans {
        assert_eq!(
            span["attributes"]["os.name"]["value"].as_str(),
            os.name.as_deref(),
            "{span:#?}"
        );
        let is_segment = span["is_segment"].as_bool().unwrap();
        assert_eq!(
            span["attributes"].get("os.version").is_some(),
            is_segment && os.version.is_some(),
            "{span:#?}"
        );
    }
}
