//! Cutting values: depth, breadth and string length, and fitting into a byte budget. What is cut
//! off is freed without recursion ([`dispose`]).
//!
//! Every function here recurses at most [`MAX_DEPTH`] levels: nothing deeper is ever entered.

use std::borrow::Cow;

use sentry_minimal::{Breadcrumb, Map, User, Value};

use super::size::Sizer;
use super::{
    more_entries, more_items, ELLIPSIS, MAX_BREADTH, MAX_EVENT_BYTES, MORE_KEY, SIZE_MARKER,
};
use crate::depth::{dispose, is_container, DEPTH_MARKER, MAX_DEPTH};
use crate::protocol::Context;

/// Replaces `value` by `with`, freeing the old value with [`dispose`].
fn replace(value: &mut Value, with: Value) {
    dispose(std::mem::replace(value, with));
}

/// Cuts `s` to at most `max_chars` characters, on a character boundary, the last one being `…`.
/// Returns whether it was cut. The cut string gets a new allocation of its own size, so the
/// memory of the long one is released.
pub(crate) fn truncate_chars(s: &mut String, max_chars: usize) -> bool {
    match cut_index(s, max_chars) {
        Some(end) => {
            *s = with_ellipsis(&s[..end]);
            true
        }
        None => false,
    }
}

/// [`truncate_chars`] for a `Cow`.
pub(crate) fn truncate_cow(s: &mut Cow<'static, str>, max_chars: usize) -> bool {
    match cut_index(s, max_chars) {
        Some(end) => {
            *s = Cow::Owned(with_ellipsis(&s[..end]));
            true
        }
        None => false,
    }
}

/// Where to cut `s` to keep `max_chars - 1` characters and an ellipsis, or `None` if it has
/// at most `max_chars` characters.
fn cut_index(s: &str, max_chars: usize) -> Option<usize> {
    if s.len() <= max_chars {
        return None; // at most as many characters as bytes
    }
    let mut chars = s.char_indices();
    let end = match max_chars.checked_sub(1) {
        Some(keep) => chars.nth(keep).map(|(i, _)| i)?,
        None => 0,
    };
    // Cut only if there is more than one character after `end`.
    let mut rest = s[end..].chars();
    rest.next();
    rest.next().map(|_| end)
}

fn with_ellipsis(kept: &str) -> String {
    let mut out = String::with_capacity(kept.len() + ELLIPSIS.len_utf8());
    out.push_str(kept);
    out.push(ELLIPSIS);
    out
}

/// Cuts `s` so that it is written in at most `budget` bytes of JSON (quotes and the ellipsis
/// included; escapes counted). Returns whether it was cut.
pub(crate) fn fit_str(s: &mut String, budget: usize) -> bool {
    if json_str_len(s) <= budget {
        return false;
    }
    let room = budget.saturating_sub(2 + ELLIPSIS.len_utf8());
    let mut end = 0;
    let mut used = 0;
    for (i, c) in s.char_indices() {
        let width = json_char_len(c);
        if used + width > room {
            break;
        }
        used += width;
        end = i + c.len_utf8();
    }
    *s = with_ellipsis(&s[..end]);
    true
}

fn json_str_len(s: &str) -> usize {
    let mut sizer = Sizer::new(true, usize::MAX);
    sizer.str(s);
    sizer.bytes()
}

fn json_char_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        '\0'..='\u{1f}' => 6,
        c => c.len_utf8(),
    }
}

/// The JSON size of a value stored `depth` levels deep, escapes counted.
pub(crate) fn value_size(value: &Value, depth: usize) -> usize {
    let mut sizer = Sizer::new(true, usize::MAX);
    sizer.value(value, depth);
    sizer.bytes()
}

/// Applies depth, breadth and string-length limits to a value stored `depth` maps and arrays
/// deep (0 for the value under a data bag's key). Returns whether anything was cut.
pub(crate) fn cut_value(value: &mut Value, depth: usize, max_chars: usize) -> bool {
    match value {
        Value::String(s) => truncate_chars(s, max_chars),
        Value::Array(_) | Value::Map(_) if depth >= MAX_DEPTH => {
            replace(value, Value::String(DEPTH_MARKER.to_owned()));
            true
        }
        Value::Array(items) => {
            let mut cut = false;
            if items.len() > MAX_BREADTH {
                let removed = items.len() - MAX_BREADTH;
                for item in items.drain(MAX_BREADTH..) {
                    dispose(item);
                }
                items.push(Value::String(more_items(removed)));
                cut = true;
            }
            for item in items.iter_mut() {
                cut |= cut_value(item, depth + 1, max_chars);
            }
            cut
        }
        Value::Map(map) => cut_map(map, depth + 1, max_chars),
        _ => false,
    }
}

/// Applies the limits to a data bag: a map whose values are at depth 0.
pub(crate) fn cut_bag(map: &mut Map, max_chars: usize) -> bool {
    cut_map(map, 0, max_chars)
}

/// Applies the limits to the entries of a map whose values are at `depth`.
fn cut_map(map: &mut Map, depth: usize, max_chars: usize) -> bool {
    let mut cut = false;
    if map.len() > MAX_BREADTH {
        let removed = map.len() - MAX_BREADTH;
        for _ in 0..removed {
            if let Some((_, value)) = map.pop_last() {
                dispose(value);
            }
        }
        map.insert(MORE_KEY.to_owned(), Value::String(more_entries(removed)));
        cut = true;
    }
    if map.keys().any(|key| cut_index(key, max_chars).is_some()) {
        // Cutting keys may change their order: rebuild the map.
        let entries = std::mem::take(map);
        *map = entries
            .into_iter()
            .map(|(mut key, value)| {
                truncate_chars(&mut key, max_chars);
                (key, value)
            })
            .collect();
        cut = true;
    }
    for value in map.values_mut() {
        cut |= cut_value(value, depth, max_chars);
    }
    cut
}

/// Cuts a value (stored `depth` levels deep) until it is written in at most `budget` bytes,
/// keeping what comes first: a string keeps its first characters, a map or array its first
/// entries, followed by a marker saying how many were removed. A value that cannot shrink to
/// the budget (a number, or a budget too small for any marker) is replaced by
/// [`SIZE_MARKER`]. Returns the value's size afterwards.
///
/// A map or array at [`MAX_DEPTH`] is replaced by [`DEPTH_MARKER`] first, so this never
/// recurses deeper than the limit.
pub(crate) fn fit_value(value: &mut Value, depth: usize, budget: usize) -> usize {
    let size = value_size(value, depth);
    fit_sized(value, depth, size, budget)
}

/// The smallest budget a map or array is cut to instead of being replaced by a marker.
const MIN_CONTAINER: usize = 64;
/// Room kept for the entry that ends a cut array (`,"[truncated: N more items]"`).
const ARRAY_MARKER_ROOM: usize = 48;
/// Room kept for the entry that ends a cut map (`,"…":"[truncated: N more entries]"`).
const MAP_MARKER_ROOM: usize = 56;

/// [`fit_value`] for a value whose size (as [`value_size`] counts it) is known.
fn fit_sized(value: &mut Value, depth: usize, mut size: usize, budget: usize) -> usize {
    if depth >= MAX_DEPTH && is_container(value) {
        replace(value, Value::String(DEPTH_MARKER.to_owned()));
        size = json_str_len(DEPTH_MARKER);
    }
    if size <= budget {
        return size;
    }
    match value {
        Value::String(s) if budget >= 2 + ELLIPSIS.len_utf8() => {
            fit_str(s, budget);
            json_str_len(s)
        }
        Value::Array(items) if budget >= MIN_CONTAINER => {
            let room = budget - 2 - ARRAY_MARKER_ROOM;
            let mut used = 0;
            let mut keep = 0;
            for item in items.iter_mut() {
                let item_size = value_size(item, depth + 1);
                if used + item_size < room {
                    used += item_size + 1;
                    keep += 1;
                    continue;
                }
                let left = room - used;
                if left > SIZE_MARKER.len() + 3 {
                    used += fit_sized(item, depth + 1, item_size, left - 1) + 1;
                    keep += 1;
                }
                break;
            }
            let removed = items.len() - keep;
            for item in items.drain(keep..) {
                dispose(item);
            }
            if removed > 0 {
                let marker = more_items(removed);
                used += json_str_len(&marker) + 1;
                items.push(Value::String(marker));
            }
            2 + used
        }
        Value::Map(map) if budget >= MIN_CONTAINER => fit_map(map, depth + 1, budget),
        _ => {
            replace(value, Value::String(SIZE_MARKER.to_owned()));
            json_str_len(SIZE_MARKER)
        }
    }
}

/// [`fit_value`] for the entries of a map whose values are at `depth`, in `budget` bytes
/// including the braces. Returns the map's size afterwards.
fn fit_map(map: &mut Map, depth: usize, budget: usize) -> usize {
    let room = budget.saturating_sub(2 + MAP_MARKER_ROOM);
    let mut used = 0;
    let mut keep = 0;
    for (key, value) in map.iter_mut() {
        // The key, its colon and the comma after the entry.
        let key_size = json_str_len(key) + 2;
        let value_size = value_size(value, depth);
        if used + key_size + value_size <= room {
            used += key_size + value_size;
            keep += 1;
            continue;
        }
        let left = room.saturating_sub(used + key_size);
        if left > SIZE_MARKER.len() + 2 {
            used += key_size + fit_sized(value, depth, value_size, left);
            keep += 1;
        }
        break;
    }
    let removed = map.len() - keep;
    for _ in 0..removed {
        if let Some((_, value)) = map.pop_last() {
            dispose(value);
        }
    }
    if removed > 0 {
        let marker = more_entries(removed);
        used += json_str_len(MORE_KEY) + 2 + json_str_len(&marker);
        map.insert(MORE_KEY.to_owned(), Value::String(marker));
    }
    2 + used
}

/// [`fit_value`] for a data bag, in `budget` bytes including its braces.
pub(crate) fn fit_bag(map: &mut Map, budget: usize) {
    let mut sizer = Sizer::new(true, usize::MAX);
    sizer.bag(map);
    if sizer.bytes() > budget {
        fit_map(map, 0, budget);
    }
}

/// [`fit_value`] with the value's size already known; returns the size afterwards.
pub(crate) fn fit_value_sized(value: &mut Value, size: usize, budget: usize) -> usize {
    fit_sized(value, 0, size, budget)
}

/// The limits that apply to data set on a scope, before the options of the client that will
/// send it are known: depth and breadth, and a size no larger than an event may be.
pub(crate) fn cut_value_for_scope(value: &mut Value) {
    if !is_container(value) && !matches!(value, Value::String(s) if s.len() > MAX_EVENT_BYTES / 2) {
        return;
    }
    cut_value(value, 0, usize::MAX);
    fit_value(value, 0, MAX_EVENT_BYTES);
}

/// [`cut_value_for_scope`] for a data bag.
fn cut_bag_for_scope(map: &mut Map) {
    if map.is_empty() {
        return;
    }
    let mut sizer = Sizer::new(false, usize::MAX);
    sizer.bag(map);
    if !sizer.over_limits() && sizer.upper_bound() <= MAX_EVENT_BYTES {
        return;
    }
    cut_bag(map, usize::MAX);
    fit_bag(map, MAX_EVENT_BYTES);
}

/// Cuts a string (a key, a user's field) to the size of an event.
pub(crate) fn cut_str_for_scope(s: &mut String) {
    if s.len() > MAX_EVENT_BYTES / 2 {
        fit_str(s, MAX_EVENT_BYTES);
    }
}

/// [`cut_value_for_scope`] for a context's data.
pub(crate) fn cut_context_for_scope(context: &mut Context) {
    match context {
        Context::Os(c) => cut_bag_for_scope(&mut c.other),
        Context::Runtime(c) => cut_bag_for_scope(&mut c.other),
        Context::Device(c) => cut_bag_for_scope(&mut c.other),
        Context::App(c) => cut_bag_for_scope(&mut c.other),
        Context::Trace(c) => {
            cut_bag_for_scope(&mut c.data);
            cut_bag_for_scope(&mut c.other);
        }
        Context::Other(map) => cut_bag_for_scope(map),
    }
}

/// [`cut_value_for_scope`] for a user.
pub(crate) fn cut_user_for_scope(user: &mut User) {
    for field in [
        &mut user.id,
        &mut user.email,
        &mut user.username,
        &mut user.ip_address,
    ]
    .into_iter()
    .flatten()
    {
        cut_str_for_scope(field);
    }
    cut_bag_for_scope(&mut user.other);
}

/// [`cut_value_for_scope`] for a breadcrumb: its data, and a message larger than an event may
/// be.
pub(crate) fn cut_breadcrumb_for_scope(crumb: &mut Breadcrumb) {
    if let Some(message) = &mut crumb.message {
        if message.len() > MAX_EVENT_BYTES / 2 {
            let mut owned = message.to_string();
            fit_str(&mut owned, MAX_EVENT_BYTES);
            *message = Cow::Owned(owned);
        }
    }
    cut_bag_for_scope(&mut crumb.data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::depth::nested;

    #[test]
    fn cuts_strings_on_char_boundaries() {
        let mut s = "aé€😀z".to_owned();
        assert!(!truncate_chars(&mut s, 5));
        assert_eq!(s, "aé€😀z");
        assert!(truncate_chars(&mut s, 4));
        assert_eq!(s, "aé€…");
        let mut s = "éééé".to_owned();
        assert!(truncate_chars(&mut s, 1));
        assert_eq!(s, "…");
        // Exactly `max` characters are kept as they are, even when longer in bytes.
        let mut s = "éé".to_owned();
        assert!(!truncate_chars(&mut s, 2));
        let mut cow = Cow::Borrowed("😀😀😀");
        assert!(truncate_cow(&mut cow, 2));
        assert_eq!(cow, "😀…");
    }

    #[test]
    fn cuts_depth_and_breadth() {
        let mut value = nested(MAX_DEPTH + 3);
        assert!(cut_value(&mut value, 0, usize::MAX));
        let mut inner = &value;
        for _ in 0..MAX_DEPTH {
            inner = match inner {
                Value::Array(items) => &items[0],
                other => panic!("expected an array, got {other:?}"),
            };
        }
        assert_eq!(inner.as_str(), Some(DEPTH_MARKER));

        let mut wide: Value = (0..MAX_BREADTH + 10).collect::<Value>();
        assert!(cut_value(&mut wide, 0, usize::MAX));
        let Value::Array(items) = &wide else {
            panic!("not an array")
        };
        assert_eq!(items.len(), MAX_BREADTH + 1);
        assert_eq!(
            items[MAX_BREADTH].as_str(),
            Some("[truncated: 10 more items]")
        );

        let mut map: Map = (0..MAX_BREADTH + 2)
            .map(|i| (format!("{i:05}"), Value::from(i)))
            .collect();
        assert!(cut_bag(&mut map, usize::MAX));
        assert_eq!(map.len(), MAX_BREADTH + 1);
        assert!(map.contains_key("00999") && !map.contains_key("01000"));
        assert_eq!(map[MORE_KEY].as_str(), Some("[truncated: 2 more entries]"));
        assert_eq!(
            map.last_key_value().map(|(k, _)| k.as_str()),
            Some(MORE_KEY)
        );
    }

    #[test]
    fn cuts_keys_and_nested_strings() {
        let mut map = Map::new();
        map.insert("k".repeat(10), Value::from(vec!["v".repeat(10)]));
        assert!(cut_bag(&mut map, 4));
        assert_eq!(Value::Map(map).to_string(), r#"{"kkk…":["vvv…"]}"#);
    }

    #[test]
    fn fits_values_into_a_budget_keeping_their_start() {
        let mut value: Value = (0..1000)
            .map(|i| (format!("key{i:04}"), Value::from("x".repeat(100))))
            .collect::<Map>()
            .into();
        let before = value_size(&value, 0);
        assert!(before > 100_000);
        let after = fit_value(&mut value, 0, 10_000);
        assert!(after <= 10_000, "{after}");
        assert!(after > 9_000, "{after}");
        // The size counts a comma after every entry, the last one too.
        let written = serde_json::to_string(&crate::protocol::value_to_json(&value))
            .unwrap()
            .len();
        assert!(
            (written..=written + 4).contains(&after),
            "{after} {written}"
        );
        let Value::Map(map) = &value else {
            panic!("not a map")
        };
        assert!(map.contains_key("key0000"));
        assert!(map[MORE_KEY].as_str().unwrap().starts_with("[truncated: "));

        let mut long = Value::from("é".repeat(1000));
        let after = fit_value(&mut long, 0, 101);
        assert!(after <= 101);
        assert!(long.as_str().unwrap().ends_with(ELLIPSIS));

        let mut number = Value::from(123_456_789);
        fit_value(&mut number, 0, 4);
        assert_eq!(number.as_str(), Some(SIZE_MARKER));
    }
}
