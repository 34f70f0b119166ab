//! Holding an event to the limits: the pipeline's check, the cut, and the size trim (for a
//! transaction, removing its newest spans last).

use std::borrow::Cow;
use std::sync::Arc;

use sentry_minimal::{Breadcrumb, Level, Value};

use super::size::Sizer;
use super::value::{cut_bag, cut_value, fit_str, fit_value_sized, value_size};
use super::{truncate_chars, MAX_EVENT_BYTES, SIZE_MARKER, SPANS_REMOVED_KEY};
use crate::depth::dispose;
use crate::protocol::{Context, DebugImage, Event, SpanText, Stacktrace};

/// What [`enforce_event`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing exceeded a limit.
    Kept,
    /// Something was cut; the event is within the limits now.
    Trimmed,
    /// Something was cut, and this many spans were removed from the end of a transaction
    /// (the newest finished) to bring it within the size limit; the transaction says so in
    /// `extra[`[`SPANS_REMOVED_KEY`]`]`. The caller counts them as `invalid` in the `span`
    /// category.
    SpansRemoved(usize),
    /// Even after trimming, the event is this many bytes: too large to send.
    TooLarge(usize),
}

/// Holds `event` to the limits, `max_chars` being the `max_value_length` option: a read-only
/// walk first, and only if that finds something over a limit, the cut and the size trim.
///
/// Measurements whose value is not finite are removed first (they have no JSON form); that
/// alone is not a trim. A transaction still too large after the trim loses spans from the end
/// of its list ([`Verdict::SpansRemoved`]), unless even removing all of them would not make it
/// fit: then it is [`Verdict::TooLarge`] with its spans intact.
pub(crate) fn enforce_event(event: &mut Event, max_chars: usize) -> Verdict {
    enforce_event_sized(event, max_chars).0
}

/// [`enforce_event`], with the event's size as the walks found it: the bytes of the read-only
/// walk when nothing was cut (what [`estimated_event_size`](super::estimated_event_size)
/// returns for the event), else the exact size after the trim. The client hands it to the
/// transport's queue with the envelope ([`Envelope::set_event_size`]), so that the event is
/// not walked a second time on the capturing thread.
///
/// [`Envelope::set_event_size`]: crate::envelope::Envelope::set_event_size
pub(crate) fn enforce_event_sized(event: &mut Event, max_chars: usize) -> (Verdict, usize) {
    if !event.measurements.is_empty() {
        event.measurements.retain(|_, m| m.is_finite());
    }
    let mut survey = Sizer::new(false, max_chars);
    survey.event(event);
    if !survey.over_limits() && survey.upper_bound() <= MAX_EVENT_BYTES {
        return (Verdict::Kept, survey.bytes());
    }
    if survey.over_limits() {
        cut_event(event, max_chars);
    }
    let size = exact_size(event);
    if size <= MAX_EVENT_BYTES {
        let verdict = if survey.over_limits() {
            Verdict::Trimmed
        } else {
            Verdict::Kept
        };
        return (verdict, size);
    }
    let size = shrink(event, size);
    if size <= MAX_EVENT_BYTES {
        return (Verdict::Trimmed, size);
    }
    match remove_newest_spans(event, size) {
        (removed, size) if size <= MAX_EVENT_BYTES && removed > 0 => {
            (Verdict::SpansRemoved(removed), size)
        }
        (_, size) => (Verdict::TooLarge(size), size),
    }
}

/// Applies the depth and breadth limits (not the string length) to an event that did not go
/// through the pipeline, such as one in an envelope built by hand: what must hold for the
/// event to be copied, written and freed safely.
pub(crate) fn cut_event_structure(event: &mut Event) {
    let mut survey = Sizer::new(false, usize::MAX);
    survey.event(event);
    if survey.over_limits() {
        cut_event(event, usize::MAX);
    }
}

/// Frees an event the pipeline drops before its limits ran (sampled out, disabled client,
/// captured inside a callback) without recursing into its data: every data bag (a
/// transaction's span data included), and the data of each breadcrumb only this event holds,
/// is taken apart by [`dispose`]. That costs what an ordinary drop costs; walking the event
/// for the limits first would add a full size walk to every dropped event.
pub(crate) fn dispose_event(mut event: Event) {
    for_each_slot(&mut event, |slot| {
        if let Slot::Value(value) = slot {
            dispose(std::mem::take(value));
        }
    });
    for crumb in event.breadcrumbs.drain(..) {
        if let Ok(crumb) = Arc::try_unwrap(crumb) {
            crumb.data.into_values().for_each(dispose);
        }
    }
}

/// Removes spans from the end of `event.spans` (the SDK appends spans as they finish, so these
/// are the newest) until the event of `size` bytes fits [`MAX_EVENT_BYTES`], and records how
/// many went in `extra[SPANS_REMOVED_KEY]`. Removes nothing when even removing every span
/// would leave it too large. Returns the number removed and the size reached.
fn remove_newest_spans(event: &mut Event, size: usize) -> (usize, usize) {
    /// Room for the marker: `"extra":{}` if it is new, and `"…":N,`.
    const MARKER_ROOM: usize = 16 + SPANS_REMOVED_KEY.len() + 24;
    if event.spans.is_empty() {
        return (0, size);
    }
    let sizes: Vec<usize> = event
        .spans
        .iter()
        .map(|span| {
            let mut sizer = Sizer::new(true, usize::MAX);
            sizer.span(span);
            // And its comma.
            sizer.bytes() + 1
        })
        .collect();
    let all: usize = sizes.iter().sum();
    if size.saturating_sub(all) + MARKER_ROOM > MAX_EVENT_BYTES {
        return (0, size);
    }
    let mut planned = size + MARKER_ROOM;
    let mut keep = event.spans.len();
    while planned > MAX_EVENT_BYTES && keep > 0 {
        keep -= 1;
        planned -= sizes[keep];
    }
    let mut removed = 0;
    let mut remove_to = |event: &mut Event, keep: usize| {
        for span in event.spans.drain(keep..) {
            removed += 1;
            span.data.into_values().for_each(dispose);
        }
        event
            .extra
            .insert(SPANS_REMOVED_KEY.to_owned(), Value::U64(removed as u64));
        exact_size(event)
    };
    let mut size = remove_to(event, keep);
    // The plan counts every span as the walk does, so this is a safeguard only.
    while size > MAX_EVENT_BYTES && !event.spans.is_empty() {
        let keep = event.spans.len() - 1;
        size = remove_to(event, keep);
    }
    (removed, size)
}

/// The event's JSON size, escapes counted (and unsymbolicated frames with their allowance).
fn exact_size(event: &Event) -> usize {
    let mut sizer = Sizer::new(true, usize::MAX);
    sizer.event(event);
    sizer.bytes()
}

/// Cuts every part of the event that exceeds the depth, breadth or string length limits.
fn cut_event(event: &mut Event, max_chars: usize) {
    if let Some(message) = &mut event.message {
        truncate_chars(message, max_chars);
    }
    for exception in &mut event.exception {
        if let Some(value) = &mut exception.value {
            truncate_chars(value, max_chars);
        }
        if let Some(mechanism) = &mut exception.mechanism {
            cut_bag(&mut mechanism.data, max_chars);
        }
        if let Some(stacktrace) = &mut exception.stacktrace {
            cut_frames(stacktrace, max_chars);
        }
    }
    for thread in &mut event.threads {
        if let Some(stacktrace) = &mut thread.stacktrace {
            cut_frames(stacktrace, max_chars);
        }
    }
    if let Some(stacktrace) = &mut event.stacktrace {
        cut_frames(stacktrace, max_chars);
    }
    for crumb in &mut event.breadcrumbs {
        let mut survey = Sizer::new(false, max_chars);
        survey.breadcrumb(crumb);
        if survey.over_limits() {
            // Shared with the scopes (and their other events): cut a copy.
            let crumb = Arc::make_mut(crumb);
            if let Some(message) = &mut crumb.message {
                super::truncate_cow(message, max_chars);
            }
            cut_bag(&mut crumb.data, max_chars);
        }
    }
    cut_bag(&mut event.extra, max_chars);
    for context in event.contexts.values_mut() {
        match context {
            Context::Os(c) => cut_bag(&mut c.other, max_chars),
            Context::Runtime(c) => cut_bag(&mut c.other, max_chars),
            Context::Device(c) => cut_bag(&mut c.other, max_chars),
            Context::App(c) => cut_bag(&mut c.other, max_chars),
            Context::Trace(c) => cut_bag(&mut c.data, max_chars) | cut_bag(&mut c.other, max_chars),
            Context::Other(map) => cut_bag(map, max_chars),
        };
    }
    if let Some(user) = &mut event.user {
        cut_bag(&mut user.other, max_chars);
    }
    if let Some(data) = event.request.as_mut().and_then(|r| r.data.as_mut()) {
        cut_value(data, 0, max_chars);
    }
    if let Some(debug_meta) = &mut event.debug_meta {
        for image in &mut debug_meta.images {
            if let DebugImage::Other(map) = image {
                cut_bag(map, max_chars);
            }
        }
    }
    for span in &mut event.spans {
        if let Some(description) = &mut span.description {
            // A text of no more bytes than `max_chars` has no more characters either.
            if description.len() > max_chars {
                let mut text = std::mem::take(description).into_string();
                truncate_chars(&mut text, max_chars);
                *description = text.into();
            }
        }
        cut_bag(&mut span.data, max_chars);
    }
}

fn cut_frames(stacktrace: &mut Stacktrace, max_chars: usize) {
    for frame in &mut stacktrace.frames {
        cut_bag(&mut frame.vars, max_chars);
    }
}

/// A part of an event the size trim may shrink.
enum Slot<'a> {
    /// A value in a data bag (or the request's data).
    Value(&'a mut Value),
    /// An exception's value, a span's description or a span's tag value.
    Text(&'a mut String),
    /// The event's message, written twice (`logentry.formatted` and `message`): it counts
    /// double, and a cut saves twice what it takes from the text.
    Message(&'a mut String),
    /// A tag's value (Sentry keeps 200 characters of one; a huge one should not cost the event).
    Tag(&'a mut Cow<'static, str>),
    /// A span's description.
    SpanText(&'a mut SpanText),
}

impl Slot<'_> {
    fn size(&self) -> usize {
        match self {
            Slot::Value(value) => value_size(value, 0),
            Slot::Text(text) => str_size(text),
            Slot::Message(text) => 2 * str_size(text),
            Slot::Tag(text) => str_size(text),
            Slot::SpanText(text) => str_size(text),
        }
    }

    /// Cuts the slot, of `size` bytes, to `budget`; returns its size afterwards.
    fn fit(self, size: usize, budget: usize) -> usize {
        match self {
            Slot::Value(value) => fit_value_sized(value, size, budget),
            Slot::Text(text) => {
                fit_str(text, budget);
                str_size(text)
            }
            Slot::Message(text) => {
                fit_str(text, budget / 2);
                2 * str_size(text)
            }
            Slot::Tag(text) => {
                if str_size(text) > budget {
                    let mut owned = text.to_string();
                    fit_str(&mut owned, budget);
                    *text = Cow::Owned(owned);
                }
                str_size(text)
            }
            Slot::SpanText(text) => {
                if str_size(text) > budget {
                    let mut owned = std::mem::take(text).into_string();
                    fit_str(&mut owned, budget);
                    *text = owned.into();
                }
                str_size(text)
            }
        }
    }
}

fn str_size(s: &str) -> usize {
    let mut sizer = Sizer::new(true, usize::MAX);
    sizer.str(s);
    sizer.bytes()
}

/// Calls `f` with every slot of the event, always in the same order (so that a slot is known by
/// its position). Breadcrumbs are not slots: they are shared with the scopes, and are removed
/// oldest first instead. A transaction's spans come last: their descriptions, tag values and
/// data values.
fn for_each_slot(event: &mut Event, mut f: impl FnMut(Slot<'_>)) {
    if let Some(message) = &mut event.message {
        f(Slot::Message(message));
    }
    let stacktraces = event.stacktraces_mut();
    for stacktrace in stacktraces {
        for frame in &mut stacktrace.frames {
            frame.vars.values_mut().for_each(|v| f(Slot::Value(v)));
        }
    }
    for exception in &mut event.exception {
        if let Some(value) = &mut exception.value {
            f(Slot::Text(value));
        }
        if let Some(mechanism) = &mut exception.mechanism {
            mechanism.data.values_mut().for_each(|v| f(Slot::Value(v)));
        }
    }
    event.tags.values_mut().for_each(|v| f(Slot::Tag(v)));
    event.extra.values_mut().for_each(|v| f(Slot::Value(v)));
    for context in event.contexts.values_mut() {
        let maps = match context {
            Context::Os(c) => [Some(&mut c.other), None],
            Context::Runtime(c) => [Some(&mut c.other), None],
            Context::Device(c) => [Some(&mut c.other), None],
            Context::App(c) => [Some(&mut c.other), None],
            Context::Trace(c) => [Some(&mut c.data), Some(&mut c.other)],
            Context::Other(map) => [Some(map), None],
        };
        for map in maps.into_iter().flatten() {
            map.values_mut().for_each(|v| f(Slot::Value(v)));
        }
    }
    if let Some(user) = &mut event.user {
        user.other.values_mut().for_each(|v| f(Slot::Value(v)));
    }
    if let Some(data) = event.request.as_mut().and_then(|r| r.data.as_mut()) {
        f(Slot::Value(data));
    }
    for span in &mut event.spans {
        if let Some(description) = &mut span.description {
            f(Slot::SpanText(description));
        }
        span.tags.values_mut().for_each(|v| f(Slot::Text(v)));
        span.data.values_mut().for_each(|v| f(Slot::Value(v)));
    }
}

/// Slots smaller than this are not worth cutting.
const MIN_SLOT: usize = 64;

/// Brings an event of `size` bytes under [`MAX_EVENT_BYTES`]: first the largest slots are cut
/// (each to what it must give up, keeping its start), then the oldest breadcrumbs are removed.
/// Returns the size reached (spans are [`remove_newest_spans`]' business).
fn shrink(event: &mut Event, mut size: usize) -> usize {
    // A cut may come out slightly larger than planned (a marker, a character boundary): plan
    // again from the new size a few times.
    for _ in 0..3 {
        if size <= MAX_EVENT_BYTES {
            return size;
        }
        let mut sizes = Vec::new();
        for_each_slot(event, |slot| sizes.push(slot.size()));
        let mut order: Vec<usize> = (0..sizes.len()).collect();
        order.sort_unstable_by_key(|&i| std::cmp::Reverse(sizes[i]));
        let mut excess = size - MAX_EVENT_BYTES;
        let mut budgets: Vec<Option<usize>> = vec![None; sizes.len()];
        for i in order {
            if excess == 0 || sizes[i] < MIN_SLOT {
                break;
            }
            let budget = sizes[i].saturating_sub(excess).max(SIZE_MARKER.len() + 2);
            excess = excess.saturating_sub(sizes[i].saturating_sub(budget));
            budgets[i] = Some(budget);
        }
        if budgets.iter().all(Option::is_none) {
            break;
        }
        let mut index = 0;
        for_each_slot(event, |slot| {
            if let Some(budget) = budgets[index] {
                let after = slot.fit(sizes[index], budget);
                size = size.saturating_sub(sizes[index].saturating_sub(after));
            }
            index += 1;
        });
    }
    // The slots' sizes were counted as the whole is: check the sum once.
    size = exact_size(event);
    if size > MAX_EVENT_BYTES {
        size = drop_oldest_breadcrumbs(event, size);
    }
    size
}

/// Removes breadcrumbs, oldest first, until the event fits, and puts one in front saying how
/// many went. Returns the size reached.
fn drop_oldest_breadcrumbs(event: &mut Event, mut size: usize) -> usize {
    let mut removed = 0;
    let mut latest_removed = None;
    while size > MAX_EVENT_BYTES && removed < event.breadcrumbs.len() {
        let crumb = &event.breadcrumbs[removed];
        let mut sizer = Sizer::new(true, usize::MAX);
        sizer.breadcrumb(crumb);
        size = size.saturating_sub(sizer.bytes() + 1);
        latest_removed = Some(crumb.timestamp);
        removed += 1;
    }
    if removed == 0 {
        return size;
    }
    event.breadcrumbs.drain(..removed);
    let mut marker = Breadcrumb::new(format!(
        "[truncated: {removed} older breadcrumbs removed: event size limit]"
    ))
    .category("sentry.sdk")
    .level(Level::Warning);
    marker.ty = Cow::Borrowed("default");
    if let Some(timestamp) = latest_removed {
        marker.timestamp = timestamp;
    }
    event.breadcrumbs.insert(0, Arc::new(marker));
    let size = exact_size(event);
    if size > MAX_EVENT_BYTES && event.breadcrumbs.len() > 1 {
        // The marker did not fit: remove one more.
        event.breadcrumbs.remove(1);
        let count = removed + 1;
        if let Some(marker) = event.breadcrumbs.first_mut().map(Arc::make_mut) {
            marker.message = Some(Cow::Owned(format!(
                "[truncated: {count} older breadcrumbs removed: event size limit]"
            )));
        }
        return exact_size(event);
    }
    size
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::depth::{nested, DEPTH_MARKER, MAX_DEPTH};
    use crate::protocol::Frame;

    /// An event dropped before the limits (sampled out, say) is freed without recursing into
    /// data of any depth: its own data bags and the breadcrumbs only it holds.
    #[test]
    fn dropped_events_are_freed_on_a_small_stack() {
        let event = || {
            let mut crumb = Breadcrumb::new("deep");
            crumb.data.insert("deep".into(), nested(200_000));
            let mut event = Event::new();
            event.extra.insert("deep".into(), nested(200_000));
            event.breadcrumbs.push(Arc::new(crumb));
            let mut frame = Frame::default();
            frame.vars.insert("deep".into(), nested(200_000));
            event.stacktrace = Some(Stacktrace {
                frames: vec![frame],
                ..Default::default()
            });
            event
        };
        let events: Vec<Event> = (0..2).map(|_| event()).collect();
        let freed = std::thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn(move || events.into_iter().for_each(dispose_event))
            .expect("thread")
            .join();
        assert!(freed.is_ok());
    }
    use sentry_minimal::Map;

    /// The size the limits report is what the transport's queue would estimate for the event
    /// (the queue takes it instead of walking the event again): the same walk when nothing was
    /// cut, the exact size of what is left after a trim.
    #[test]
    fn the_size_reported_is_the_queues_estimate() {
        let mut event = event_with_everything(7);
        let (verdict, size) = enforce_event_sized(&mut event, 1000);
        assert_eq!(verdict, Verdict::Kept);
        assert_eq!(size, super::super::estimated_event_size(&event));

        let mut long = event_with_everything(8);
        long.message = Some("x".repeat(5000));
        let (verdict, size) = enforce_event_sized(&mut long, 1000);
        assert_eq!(verdict, Verdict::Trimmed);
        assert_eq!(size, exact_size(&long));
        assert!(size >= super::super::estimated_event_size(&long));
        assert!(size >= written(&long), "{size} {}", written(&long));
    }

    fn written(event: &Event) -> usize {
        serde_json::to_vec(event).unwrap().len()
    }

    /// An error event with a bit of everything, different per `i`: a 24-frame stack trace, 20
    /// breadcrumbs with data, eight tags (`tag{t}` = `value-{t}-{i}`) and 30 modules. (The
    /// workspace's `typical_event` fixture is out of reach of unit tests, which compile their
    /// own copy of this crate.)
    fn event_with_everything(i: usize) -> Event {
        use crate::protocol::{Addr, Exception, Frame, Stacktrace};

        let frames = (0..24u64)
            .map(|f| Frame {
                function: Some(format!("my_app::handlers::step_{f}")),
                filename: Some(format!("src/handlers/step_{}.rs", f % 7)),
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
                        Breadcrumb::new(format!("GET /api/items/{b}?page={i} -> 200"))
                            .category("http")
                            .data("status_code", 200),
                    )
                })
                .collect(),
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
                .insert(format!("crate-{m}"), format!("1.{m}.0"));
        }
        event
    }

    #[test]
    fn a_typical_event_is_kept_as_it_is() {
        let mut event = event_with_everything(1);
        let before = event.clone();
        assert_eq!(enforce_event(&mut event, 100_000), Verdict::Kept);
        assert_eq!(event, before);
    }

    #[test]
    fn the_estimate_is_never_below_the_written_size() {
        let mut events = vec![event_with_everything(3), Event::default()];
        let mut weird = event_with_everything(4);
        weird.message = Some("quote\" \u{1} tab\t é".repeat(50));
        weird.extra.insert(
            "nested".into(),
            Value::from(vec![Value::Null, 1.5.into(), (-3).into()]),
        );
        weird.user = Some(sentry_minimal::User {
            id: Some("7".into()),
            other: [("plan".to_owned(), Value::from("pro"))]
                .into_iter()
                .collect(),
            ..Default::default()
        });
        events.push(weird);
        for event in &events {
            let mut raw = Sizer::new(false, usize::MAX);
            raw.event(event);
            let actual = written(event);
            assert!(
                exact_size(event) >= actual,
                "{} < {actual}",
                exact_size(event)
            );
            assert!(raw.upper_bound() >= actual);
            assert!(
                exact_size(event) <= actual * 3 / 2 + 1024,
                "{} vs {actual}",
                exact_size(event)
            );
        }
    }

    #[test]
    fn deep_extra_is_cut_at_the_depth_limit() {
        let mut deep = Value::from("leaf");
        for _ in 0..50 {
            deep = Value::Map(Map::from([("k".to_owned(), deep)]));
        }
        let mut event = Event::default();
        event.extra.insert("deep".into(), deep);
        assert_eq!(enforce_event(&mut event, 100), Verdict::Trimmed);
        let json = serde_json::to_value(&event).unwrap();
        let mut inner = &json["extra"]["deep"];
        for _ in 0..MAX_DEPTH {
            inner = &inner["k"];
        }
        assert_eq!(inner, DEPTH_MARKER);
    }

    #[test]
    fn oversized_events_are_trimmed_largest_first() {
        let mut event = event_with_everything(1);
        let big: Map = (0..200)
            .map(|i| (format!("part{i:03}"), Value::from("x".repeat(10_000))))
            .collect();
        event.extra.insert("big".into(), big.into());
        event.extra.insert("small".into(), "kept".into());
        assert_eq!(enforce_event(&mut event, 100_000), Verdict::Trimmed);
        let size = written(&event);
        assert!(
            size <= MAX_EVENT_BYTES && size > MAX_EVENT_BYTES * 9 / 10,
            "{size}"
        );
        assert_eq!(event.extra["small"], Value::from("kept"));
        assert_eq!(event.breadcrumbs.len(), 20, "breadcrumbs are kept");
        let Value::Map(big) = &event.extra["big"] else {
            panic!("not a map")
        };
        assert!(big.contains_key("part000"));
        assert!(big["…"].as_str().unwrap().contains("more entries"));
    }

    /// The message is written twice (`logentry.formatted` and `message`): a message of
    /// 700 KB makes a 1.4 MB event, which is cut to fit with the message's start kept.
    #[test]
    fn a_large_message_counts_twice_and_is_cut_to_fit() {
        let mut event = Event {
            message: Some(format!("start {}", "m".repeat(700_000))),
            ..Event::default()
        };
        assert_eq!(enforce_event(&mut event, usize::MAX), Verdict::Trimmed);
        let size = written(&event);
        assert!(
            size <= MAX_EVENT_BYTES && size > MAX_EVENT_BYTES * 9 / 10,
            "{size}"
        );
        assert!(event.message.as_deref().unwrap().starts_with("start m"));
    }

    #[test]
    fn breadcrumbs_go_oldest_first_when_slots_are_not_enough() {
        let mut event = Event {
            breadcrumbs: (0..30)
                .map(|i| Arc::new(Breadcrumb::new(format!("{i:02}{}", "m".repeat(50_000)))))
                .collect(),
            ..Event::default()
        };
        assert_eq!(enforce_event(&mut event, 100_000), Verdict::Trimmed);
        assert!(written(&event) <= MAX_EVENT_BYTES);
        let first = event.breadcrumbs[0].message.as_deref().unwrap();
        assert!(first.starts_with("[truncated: "), "{first}");
        let kept = event.breadcrumbs.len() - 1;
        assert!((15..=20).contains(&kept), "{kept}");
        assert!(event.breadcrumbs[kept]
            .message
            .as_deref()
            .unwrap()
            .starts_with("29"));
    }

    #[test]
    fn a_huge_tag_value_is_cut_rather_than_the_event_dropped() {
        let mut event = event_with_everything(2);
        event
            .tags
            .insert("huge".into(), "t".repeat(2_000_000).into());
        assert_eq!(enforce_event(&mut event, 100_000), Verdict::Trimmed);
        assert!(written(&event) <= MAX_EVENT_BYTES);
        assert!(event.tags["huge"].ends_with("t…"));
        assert_eq!(event.tags["tag0"], "value-0-2");
    }

    #[test]
    fn events_that_cannot_shrink_are_too_large() {
        let mut event = Event::default();
        for i in 0..40_000 {
            event
                .tags
                .insert(format!("tag{i}").into(), "value-of-the-tag".into());
        }
        assert!(matches!(
            enforce_event(&mut event, 100_000),
            Verdict::TooLarge(_)
        ));
    }

    fn transaction(spans: usize, data_bytes: usize) -> Event {
        use crate::protocol::{EventType, Span};

        let trace_id = sentry_minimal::TraceId::from_bytes([3; 16]);
        Event {
            ty: EventType::Transaction,
            transaction: Some("GET /big".into()),
            start_timestamp: Some(std::time::UNIX_EPOCH),
            spans: (0..spans)
                .map(|i| {
                    let mut span = Span {
                        trace_id,
                        op: Some("db.query".into()),
                        description: Some(format!("span {i}").into()),
                        ..Span::default()
                    };
                    span.data
                        .insert("payload".into(), "d".repeat(data_bytes).into());
                    span
                })
                .collect(),
            ..Event::default()
        }
    }

    #[test]
    fn a_huge_transaction_loses_its_newest_spans_and_stays_valid() {
        let mut event = transaction(5_000, 1_024);
        let ids: Vec<_> = event.spans.iter().map(|s| s.span_id).collect();
        let verdict = enforce_event(&mut event, 100_000);
        let Verdict::SpansRemoved(removed) = verdict else {
            panic!("{verdict:?}")
        };
        let kept = event.spans.len();
        assert_eq!(kept + removed, 5_000);
        assert!(
            removed > 0 && kept > 1_000,
            "{kept} kept, {removed} removed"
        );
        // The oldest spans stay, in order; the newest went.
        let kept_ids: Vec<_> = event.spans.iter().map(|s| s.span_id).collect();
        assert_eq!(kept_ids[..], ids[..kept]);
        assert_eq!(
            event.extra[crate::limits::SPANS_REMOVED_KEY],
            Value::U64(removed as u64)
        );
        let bytes = serde_json::to_vec(&event).unwrap();
        assert!(bytes.len() <= MAX_EVENT_BYTES, "{}", bytes.len());
        let back: Event = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back.spans.len(), kept);
        assert!(back.is_transaction());
    }

    #[test]
    fn a_transaction_that_fits_after_cutting_span_data_keeps_every_span() {
        // 400 spans of 4 KB data: 1.6 MB, of which the data alone can give up enough.
        let mut event = transaction(400, 4_000);
        assert_eq!(enforce_event(&mut event, 100_000), Verdict::Trimmed);
        assert_eq!(event.spans.len(), 400);
        assert!(written(&event) <= MAX_EVENT_BYTES);
        assert!(!event.extra.contains_key(crate::limits::SPANS_REMOVED_KEY));
        // Long descriptions are held to max_value_length.
        let mut event = transaction(2, 0);
        event.spans[0].description = Some("q".repeat(50).into());
        assert_eq!(enforce_event(&mut event, 10), Verdict::Trimmed);
        assert_eq!(
            event.spans[0]
                .description
                .as_deref()
                .map(|d| d.chars().count()),
            Some(10)
        );
    }

    #[test]
    fn a_transaction_too_large_without_any_span_keeps_them_and_is_too_large() {
        let mut event = transaction(10, 10);
        for i in 0..40_000 {
            event
                .tags
                .insert(format!("tag{i}").into(), "value-of-the-tag".into());
        }
        assert!(matches!(
            enforce_event(&mut event, 100_000),
            Verdict::TooLarge(_)
        ));
        assert_eq!(event.spans.len(), 10);
    }

    #[test]
    fn span_data_is_cut_to_the_depth_limit_and_sized() {
        let mut event = transaction(3, 10);
        event.spans[1].data.insert("deep".into(), nested(50));
        let mut raw = Sizer::new(false, usize::MAX);
        raw.event(&event);
        assert!(raw.over_limits());
        cut_event_structure(&mut event);
        let json = serde_json::to_value(&event).unwrap();
        let mut inner = &json["spans"][1]["data"]["deep"];
        for _ in 0..MAX_DEPTH {
            inner = &inner[0];
        }
        assert_eq!(inner, DEPTH_MARKER);
        // The walk never counts less than is written.
        assert!(exact_size(&event) >= written(&event));
        let mut raw = Sizer::new(false, usize::MAX);
        raw.event(&event);
        assert!(raw.upper_bound() >= written(&event));
    }

    #[test]
    fn non_finite_measurements_are_removed() {
        use crate::protocol::Measurement;

        let mut event = transaction(1, 1);
        event
            .measurements
            .insert("ok".into(), Measurement::new(1.0));
        for (name, value) in [
            ("nan", f64::NAN),
            ("inf", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
        ] {
            event
                .measurements
                .insert(name.into(), Measurement::new(value));
        }
        assert_eq!(enforce_event(&mut event, 100_000), Verdict::Kept);
        assert_eq!(event.measurements.keys().collect::<Vec<_>>(), ["ok"]);
    }

    #[test]
    fn dropped_transactions_free_span_data_on_a_small_stack() {
        let events: Vec<Event> = (0..2)
            .map(|_| {
                let mut event = transaction(2, 1);
                event.spans[1].data.insert("deep".into(), nested(200_000));
                event
            })
            .collect();
        let freed = std::thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn(move || events.into_iter().for_each(dispose_event))
            .expect("thread")
            .join();
        assert!(freed.is_ok());
    }
}
