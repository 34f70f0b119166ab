//! With the Sentry layer as the only layer, the levels and callsites it ignores are disabled
//! for `tracing` itself: the maximum level is its `max_level_hint`, and ignored callsites get
//! `Interest::never`, so such events cost no call into the subscriber.

use sentry_log::tracing::LayerBuilder;
use sentry_log::Mapping;
use tracing::level_filters::LevelFilter;
use tracing::Level;
use tracing_subscriber::prelude::*;

#[test]
fn ignored_levels_and_callsites_are_disabled_globally() {
    let layer = LayerBuilder::new().filter(|metadata| {
        if metadata.target() == "noisy" {
            Mapping::IGNORE
        } else {
            sentry_log::tracing::default_filter(metadata)
        }
    });
    tracing_subscriber::registry().with(layer.build()).init();

    assert_eq!(LevelFilter::current(), LevelFilter::INFO);
    assert!(!tracing::enabled!(Level::DEBUG));
    assert!(!tracing::enabled!(Level::TRACE));
    assert!(tracing::enabled!(Level::INFO));
    assert!(tracing::enabled!(Level::ERROR));
    // An INFO callsite the filter ignores is disabled too.
    assert!(!tracing::enabled!(target: "noisy", Level::ERROR));
    // Spans within the maximum level are wanted (for their fields).
    assert!(!tracing::info_span!("kept").is_disabled());
    assert!(tracing::debug_span!("dropped").is_disabled());
}
