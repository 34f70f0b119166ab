//! [`Scope`]: the data applied to events (tags, user, breadcrumbs, …).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use sentry_minimal::{Breadcrumb, Level, Map, SortedMap, User, Value};

use crate::client::Client;
use crate::depth::dispose;
use crate::hint::Hint;
use crate::limits;
use crate::protocol::{Attachment, Context, Contexts, Event, LogAttributes, LogValue, Tags};
use crate::session::request::RequestSession;

use super::processors::Processors;
use super::propagation::PropagationContext;
use super::shared::{Empty, Shared};

/// A function that may change or drop events captured while its scope is active. It gets the
/// event and the [`Hint`] of what the event was made from.
pub type EventProcessor = Arc<dyn Fn(Event, &Hint<'_>) -> Option<Event> + Send + Sync>;

/// The clock that orders breadcrumbs across the global, isolation and current scopes, so that
/// they merge in the order they were added. Each ring is in insertion order already; the
/// stamps only decide between rings.
///
/// Breadcrumbs recorded by `add_breadcrumb` (the hot path: thousands a second when a logging
/// bridge turns records into breadcrumbs) all go to the isolation scope, so they never need
/// to be ordered among themselves by stamp: they read the clock without changing it,
/// [`Stamp::Recorded`], stamp `2e + 1` for the clock's value `e` (a load, no read-modify-write
/// shared by every thread). Breadcrumbs added through [`Scope::add_breadcrumb`], to any scope,
/// advance it, [`Stamp::Added`], stamp `2e` for the new value `e`. A breadcrumb added after
/// another (in the happens-before sense) gets a larger stamp in every case: a recorded one
/// reads at least the value an earlier added one set, and an added one sets a value larger
/// than any an earlier recorded one read. Two stamps are equal only for two recorded
/// breadcrumbs, which are in the same ring.
static BREADCRUMB_CLOCK: AtomicU64 = AtomicU64::new(0);

/// How a breadcrumb is stamped (see [`BREADCRUMB_CLOCK`]).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stamp {
    /// Recorded on the isolation scope by `add_breadcrumb`: reads the clock.
    Recorded,
    /// Added to a scope through `Scope::add_breadcrumb`: advances the clock.
    Added,
}

impl Stamp {
    fn next(self) -> u64 {
        match self {
            Stamp::Recorded => 2 * BREADCRUMB_CLOCK.load(Ordering::Relaxed) + 1,
            Stamp::Added => 2 * (BREADCRUMB_CLOCK.fetch_add(1, Ordering::Relaxed) + 1),
        }
    }
}

/// Data applied to every event captured while the scope is active.
///
/// Scopes are copy-on-write: forking one (as [`with_scope`](crate::with_scope) does) is a
/// reference-count increment, and a field is copied only when one side changes it.
///
/// # Examples
///
/// ```
/// use sentry_core::{Level, User};
///
/// sentry_core::configure_scope(|scope| {
///     scope.set_tag("region", "eu-west-1");
///     scope.set_user(Some(User { id: Some("42".into()), ..Default::default() }));
///     scope.set_level(Some(Level::Warning));
/// });
/// ```
#[derive(Clone, Default)]
pub struct Scope {
    pub(crate) level: Option<Level>,
    pub(crate) fingerprint: Option<Arc<[Cow<'static, str>]>>,
    pub(crate) transaction: Option<Arc<str>>,
    pub(crate) user: Option<Arc<User>>,
    pub(crate) tags: Shared<Tags>,
    pub(crate) extra: Shared<Map>,
    pub(crate) contexts: Shared<Contexts>,
    pub(crate) breadcrumbs: Shared<VecDeque<(u64, Arc<Breadcrumb>)>>,
    pub(crate) event_processors: Processors,
    pub(crate) client: Option<Arc<Client>>,
    pub(crate) propagation: Option<PropagationContext>,
    /// Files sent with events; their bytes are shared (`Arc<[u8]>`), so forks and events
    /// point to the same buffers.
    pub(crate) attachments: Shared<Vec<Attachment>>,
    /// The request session of an isolation scope (request mode; see `api::session`).
    pub(crate) session: Option<Arc<RequestSession>>,
    /// Typed attributes for logs, metrics and streamed spans (not for events).
    pub(crate) attributes: Shared<LogAttributes>,
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("level", &self.level)
            .field("fingerprint", &self.fingerprint)
            .field("transaction", &self.transaction)
            .field("user", &self.user)
            .field("tags", &self.tags)
            .field("extra", &self.extra)
            .field("contexts", &self.contexts.keys().collect::<Vec<_>>())
            .field("breadcrumbs", &self.breadcrumbs.len())
            .field("event_processors", &self.event_processors.len())
            .field("has_client", &self.client.is_some())
            .field("attachments", &self.attachments.len())
            .field("session", &self.session)
            .field("attributes", &*self.attributes)
            .finish()
    }
}

impl Scope {
    /// Sets a tag. Tags are indexed and searchable in Sentry.
    pub fn set_tag(
        &mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<Cow<'static, str>>,
    ) {
        self.tags.make_mut().insert(key.into(), value.into());
    }

    /// Sets several tags at once (a later pair wins over an earlier one with the same key).
    ///
    /// # Examples
    ///
    /// ```
    /// sentry_core::configure_scope(|scope| {
    ///     scope.set_tags([("region", "eu-west-1"), ("shard", "7")]);
    /// });
    /// ```
    pub fn set_tags<I, K, V>(&mut self, tags: I)
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<Cow<'static, str>>,
        V: Into<Cow<'static, str>>,
    {
        let mut tags = tags.into_iter().peekable();
        if tags.peek().is_none() {
            return;
        }
        let map = self.tags.make_mut();
        for (key, value) in tags {
            map.insert(key.into(), value.into());
        }
    }

    /// Removes a tag.
    pub fn remove_tag(&mut self, key: &str) {
        if self.tags.contains_key(key) {
            self.tags.make_mut().remove(key);
            self.tags.release_if_empty();
        }
    }

    /// Sets an attribute: typed data (a string, boolean, integer or float) that every log,
    /// metric and streamed span captured while this scope is active carries. Events do not
    /// (use tags and contexts for those).
    ///
    /// The item's own attributes win over the scopes'; among scopes the current one wins
    /// over the isolation scope, which wins over the global scope. Keys in the SDK's own
    /// `sentry.` namespace (`sentry.release`, `sentry.environment`, …) are not taken from
    /// scopes. A streamed span takes the attributes of the scopes its root span started in.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::protocol::LogValue;
    ///
    /// sentry_core::configure_scope(|scope| {
    ///     scope.set_attribute("tenant", "acme");
    ///     scope.set_attribute("shard", 7);
    ///     scope.set_attribute("beta", true);
    ///     assert_eq!(scope.attributes().get("shard"), Some(&LogValue::I64(7)));
    /// });
    /// ```
    pub fn set_attribute(&mut self, key: impl Into<Cow<'static, str>>, value: impl Into<LogValue>) {
        ATTRIBUTES_USED.store(true, Ordering::Relaxed);
        self.attributes.make_mut().insert(key, value);
    }

    /// Sets several attributes at once (see [`set_attribute`](Self::set_attribute)); a later
    /// pair wins over an earlier one with the same key.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::protocol::LogValue;
    ///
    /// sentry_core::configure_scope(|scope| {
    ///     scope.set_attributes([
    ///         ("plan", LogValue::from("pro")),
    ///         ("seats", LogValue::from(12)),
    ///     ]);
    ///     assert_eq!(scope.attributes().len(), 2);
    /// });
    /// ```
    pub fn set_attributes<I, K, V>(&mut self, attributes: I)
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<Cow<'static, str>>,
        V: Into<LogValue>,
    {
        let mut attributes = attributes.into_iter().peekable();
        if attributes.peek().is_none() {
            return;
        }
        ATTRIBUTES_USED.store(true, Ordering::Relaxed);
        let map = self.attributes.make_mut();
        for (key, value) in attributes {
            map.insert(key, value);
        }
    }

    /// Removes an attribute.
    pub fn remove_attribute(&mut self, key: &str) {
        if self.attributes.contains_key(key) {
            self.attributes.make_mut().remove(key);
            self.attributes.release_if_empty();
        }
    }

    /// The attributes set on this scope.
    pub fn attributes(&self) -> &LogAttributes {
        &self.attributes
    }

    /// Sets an extra value (arbitrary data, not searchable).
    ///
    /// The value is held to the depth and breadth [`limits`](crate::limits), and cut to the
    /// size of an event if it is larger: it is copied into every event.
    pub fn set_extra(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        let (mut key, mut value) = (key.into(), value.into());
        limits::cut_str_for_scope(&mut key);
        limits::cut_value_for_scope(&mut value);
        if let Some(old) = self.extra.make_mut().insert(key, value) {
            dispose(old);
        }
    }

    /// Removes an extra value.
    pub fn remove_extra(&mut self, key: &str) {
        if self.extra.contains_key(key) {
            self.extra.make_mut().remove(key);
            self.extra.release_if_empty();
        }
    }

    /// Sets a named context.
    ///
    /// Its data is held to the depth and breadth [`limits`](crate::limits), and cut to the
    /// size of an event if it is larger.
    pub fn set_context(&mut self, key: impl Into<Cow<'static, str>>, value: impl Into<Context>) {
        let mut context = value.into();
        limits::cut_context_for_scope(&mut context);
        self.contexts.make_mut().insert(key.into(), context);
    }

    /// Removes a named context.
    pub fn remove_context(&mut self, key: &str) {
        if self.contexts.contains_key(key) {
            self.contexts.make_mut().remove(key);
            self.contexts.release_if_empty();
        }
    }

    /// Sets or clears the user.
    ///
    /// Its data is held to the depth and breadth [`limits`](crate::limits), and cut to the
    /// size of an event if it is larger.
    pub fn set_user(&mut self, user: Option<User>) {
        self.user = user.map(|mut user| {
            limits::cut_user_for_scope(&mut user);
            Arc::new(user)
        });
    }

    /// Overrides the level of events captured in this scope, or stops overriding it.
    pub fn set_level(&mut self, level: Option<Level>) {
        self.level = level;
    }

    /// Sets or clears the grouping fingerprint.
    pub fn set_fingerprint(&mut self, fingerprint: Option<&[&str]>) {
        self.fingerprint =
            fingerprint.map(|parts| parts.iter().map(|p| Cow::Owned(p.to_string())).collect());
    }

    /// Sets or clears the transaction name of events captured in this scope.
    pub fn set_transaction(&mut self, transaction: Option<&str>) {
        self.transaction = transaction.map(Arc::from);
    }

    /// Adds a breadcrumb, evicting the oldest beyond the client's `max_breadcrumbs`.
    ///
    /// Unlike the top-level [`add_breadcrumb`](crate::add_breadcrumb), this does not run
    /// `before_breadcrumb`: it records what it is given.
    pub fn add_breadcrumb(&mut self, breadcrumb: Breadcrumb) {
        let max = match &self.client {
            Some(client) => client.options().max_breadcrumbs,
            None => super::binding::global_max_breadcrumbs(),
        };
        self.push_breadcrumb(breadcrumb, max);
    }

    /// Appends a breadcrumb added through the scope's API (see [`Stamp::Added`]).
    pub(crate) fn push_breadcrumb(&mut self, breadcrumb: Breadcrumb, max: usize) {
        self.push_breadcrumb_from(&mut Some(breadcrumb), max, Stamp::Added);
    }

    /// Appends the breadcrumb in `breadcrumb`, evicting the oldest beyond `max`. When the ring
    /// is full and the evicted breadcrumb is not shared with an event in flight, its
    /// allocation is reused, and the evicted breadcrumb is left in `breadcrumb` for the caller
    /// to drop (outside the scope's lock). Taken by reference, the breadcrumb is moved once,
    /// into the ring, however many closures it passed through.
    ///
    /// The breadcrumb's data is held to the depth and breadth [`limits`](crate::limits), and
    /// its message and data are each cut to the size of an event if they are larger.
    pub(crate) fn push_breadcrumb_from(
        &mut self,
        breadcrumb: &mut Option<Breadcrumb>,
        max: usize,
        stamp: Stamp,
    ) {
        if max == 0 {
            return;
        }
        let Some(crumb) = breadcrumb.as_mut() else {
            return;
        };
        limits::cut_breadcrumb_for_scope(crumb);
        let seq = stamp.next();
        let ring = self.breadcrumbs.make_mut();
        let mut recycled = None;
        while ring.len() >= max {
            recycled = ring.pop_front().map(|(_, old)| old);
        }
        let entry = match recycled.as_mut().and_then(Arc::get_mut) {
            Some(slot) => {
                std::mem::swap(slot, crumb);
                recycled
            }
            None => breadcrumb.take().map(Arc::new),
        };
        if let Some(entry) = entry {
            ring.push_back((seq, entry));
        }
    }

    /// Removes every breadcrumb.
    pub fn clear_breadcrumbs(&mut self) {
        if !self.breadcrumbs.is_empty() {
            self.breadcrumbs.clear();
        }
    }

    /// Adds an event processor, run for every event captured while this scope is active, with
    /// the event and the [`Hint`] of what it was made from.
    ///
    /// A processor that returns `None` drops the event (client report reason
    /// `event_processor`); one that panics drops it too.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::{test::with_captured_events, with_scope};
    ///
    /// let events = with_captured_events(|| {
    ///     with_scope(
    ///         |scope| {
    ///             scope.add_event_processor(|mut event, hint| {
    ///                 if let Some(err) = hint.error() {
    ///                     event.extra.insert("error_debug".into(), format!("{err:?}").into());
    ///                 }
    ///                 Some(event)
    ///             })
    ///         },
    ///         || sentry_core::capture_error(&"x".parse::<u8>().unwrap_err()),
    ///     );
    /// });
    /// assert!(events[0].extra.contains_key("error_debug"));
    /// ```
    pub fn add_event_processor(
        &mut self,
        processor: impl Fn(Event, &Hint<'_>) -> Option<Event> + Send + Sync + 'static,
    ) {
        self.event_processors.push(Arc::new(processor));
    }

    /// Adds an attachment, sent in the envelope of every error and message event captured
    /// while this scope is active (and of transactions too when it is
    /// [`add_to_transactions`](Attachment::add_to_transactions)). A file attachment is read
    /// at each capture; one that cannot be read is left out of that event alone.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::protocol::Attachment;
    /// use sentry_core::test::with_captured_envelopes;
    ///
    /// let envelopes = with_captured_envelopes(|| {
    ///     sentry_core::with_scope(
    ///         |scope| scope.add_attachment(Attachment::from_bytes("state.json", b"{}".to_vec())),
    ///         || sentry_core::capture_message("with a file", sentry_core::Level::Info),
    ///     );
    ///     sentry_core::capture_message("without", sentry_core::Level::Info);
    /// });
    /// let attachments = |i: usize| envelopes[i].items().filter_map(|i| i.as_attachment()).count();
    /// assert_eq!((attachments(0), attachments(1)), (1, 0));
    /// ```
    pub fn add_attachment(&mut self, attachment: Attachment) {
        self.attachments.make_mut().push(attachment);
    }

    /// Removes every attachment.
    pub fn clear_attachments(&mut self) {
        if !self.attachments.is_empty() {
            self.attachments.clear();
        }
    }

    /// The attachments of this scope, in the order they were added.
    pub fn attachments(&self) -> &[Attachment] {
        &self.attachments
    }

    /// Binds a client to this scope. Events captured while the scope is active go to it.
    pub fn set_client(&mut self, client: Option<Arc<Client>>) {
        if client.is_some() {
            super::binding::note_scoped_client();
        }
        self.client = client;
    }

    /// The client bound to this scope, if any.
    pub fn client(&self) -> Option<&Arc<Client>> {
        self.client.as_ref()
    }

    /// Removes all data (attachments included) but keeps the event processors and the bound
    /// client.
    pub fn clear(&mut self) {
        *self = Scope {
            event_processors: std::mem::take(&mut self.event_processors),
            client: self.client.take(),
            propagation: self.propagation.take(),
            ..Scope::default()
        };
    }

    /// A copy of this scope for a new isolation scope in the trace `propagation`: every
    /// field shared as a clone shares it, but this scope's trace, which the copy replaces, is
    /// not touched (it is usually the process's default scope's, whose reference count every
    /// request would otherwise increment and decrement).
    pub(crate) fn fork_in(&self, propagation: PropagationContext) -> Scope {
        Scope {
            level: self.level,
            fingerprint: self.fingerprint.clone(),
            transaction: self.transaction.clone(),
            user: self.user.clone(),
            tags: self.tags.clone(),
            extra: self.extra.clone(),
            contexts: self.contexts.clone(),
            breadcrumbs: self.breadcrumbs.clone(),
            event_processors: self.event_processors.clone(),
            client: self.client.clone(),
            propagation: Some(propagation),
            attachments: self.attachments.clone(),
            session: self.session.clone(),
            attributes: self.attributes.clone(),
        }
    }

    /// Whether this scope holds nothing at all (a new scope's state): every field unset, or
    /// a collection emptied again.
    pub(crate) fn is_empty(&self) -> bool {
        self.holds_nothing(false)
    }

    /// An empty scope shared by the process: what a fork of an empty scope reads.
    pub(crate) fn empty() -> &'static Scope {
        static EMPTY: OnceLock<Scope> = OnceLock::new();
        EMPTY.get_or_init(Scope::default)
    }

    /// Whether every field is unset (`None`), as in `Scope::default()`: then the scope owns
    /// nothing. Stricter than [`is_empty`](Self::is_empty), which also counts a collection
    /// emptied again, and cheaper (no collection is read through).
    pub(crate) fn is_unset(&self) -> bool {
        self.holds_nothing(true)
    }

    /// [`is_empty`](Self::is_empty) and [`is_unset`](Self::is_unset). Every field is named, so
    /// a field added to `Scope` must be considered here.
    #[inline(always)]
    fn holds_nothing(&self, unset_only: bool) -> bool {
        fn nothing<T: Empty>(field: &Shared<T>, unset_only: bool) -> bool {
            field.is_unset() || (!unset_only && field.is_empty_value())
        }
        let Scope {
            level,
            fingerprint,
            transaction,
            user,
            tags,
            extra,
            contexts,
            breadcrumbs,
            event_processors,
            client,
            propagation,
            attachments,
            session,
            attributes,
        } = self;
        level.is_none()
            && fingerprint.is_none()
            && transaction.is_none()
            && user.is_none()
            && nothing(tags, unset_only)
            && nothing(extra, unset_only)
            && nothing(contexts, unset_only)
            && nothing(breadcrumbs, unset_only)
            && event_processors.is_none()
            && client.is_none()
            && propagation.is_none()
            && nothing(attachments, unset_only)
            && session.is_none()
            && nothing(attributes, unset_only)
    }

    /// Whether `self` holds the same data as `other`, its fork: every field unchanged (the
    /// same allocations). Pointer comparisons only; a field set again to an equal value
    /// counts as changed.
    pub(crate) fn same_data(&self, other: &Scope) -> bool {
        fn same<T: ?Sized>(a: &Option<Arc<T>>, b: &Option<Arc<T>>) -> bool {
            match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            }
        }
        self.level == other.level
            && same(&self.fingerprint, &other.fingerprint)
            && same(&self.transaction, &other.transaction)
            && same(&self.user, &other.user)
            && self.tags.same_as(&other.tags)
            && self.extra.same_as(&other.extra)
            && self.contexts.same_as(&other.contexts)
            && self.breadcrumbs.same_as(&other.breadcrumbs)
            && self.event_processors.same_as(&other.event_processors)
            && same(&self.client, &other.client)
            // The current scope never holds a trace; one there counts as a change.
            && self.propagation.is_none()
            && other.propagation.is_none()
            && self.attachments.same_as(&other.attachments)
            && same(&self.session, &other.session)
            && self.attributes.same_as(&other.attributes)
    }

    /// The tags set on this scope.
    pub fn tags(&self) -> &Tags {
        &self.tags
    }

    /// The extra values set on this scope.
    pub fn extra(&self) -> &Map {
        &self.extra
    }

    /// The user set on this scope.
    pub fn user(&self) -> Option<&User> {
        self.user.as_deref()
    }

    /// The level override of this scope.
    pub fn level(&self) -> Option<Level> {
        self.level
    }

    /// The breadcrumbs of this scope, oldest first.
    pub fn breadcrumbs(&self) -> impl Iterator<Item = &Breadcrumb> + '_ {
        self.breadcrumbs.iter().map(|(_, b)| &**b)
    }
}

/// Set once any scope has held an attribute: paths that otherwise skip reading the scopes
/// (metrics without `send_default_pii`) read them from then on.
static ATTRIBUTES_USED: AtomicBool = AtomicBool::new(false);

/// Whether any scope has ever held an attribute.
pub(crate) fn attributes_in_use() -> bool {
    ATTRIBUTES_USED.load(Ordering::Relaxed)
}

/// Adds the scopes' attributes (`[global, isolation, current]`) to a log's, a metric's or a
/// streamed span's: keys already set win; among scopes, inner ones win; `sentry.` keys are
/// the SDK's and are not taken from scopes.
pub(crate) fn apply_scope_attributes(scopes: [&Scope; 3], attributes: &mut LogAttributes) {
    let [global, isolation, current] = scopes;
    for scope in [current, isolation, global] {
        if !scope.attributes.is_empty() {
            attributes.extend_absent(&scope.attributes);
        }
    }
}

/// The default of the `max_breadcrumbs` option.
pub(crate) const DEFAULT_MAX_BREADCRUMBS: usize = 100;

/// Applies the scopes to an event, outermost first (`[global, isolation, current]`).
///
/// Keys already on the event win; among scopes, inner ones win. Breadcrumbs of all scopes are
/// merged in insertion order after the event's own and capped to `max_breadcrumbs`.
pub(crate) fn apply_scopes(scopes: [&Scope; 3], event: &mut Event, max_breadcrumbs: usize) {
    let [global, isolation, current] = scopes;
    for scope in [current, isolation, global] {
        add_absent(&mut event.tags, &scope.tags);
        add_absent(&mut event.extra, &scope.extra);
        add_absent(&mut event.contexts, &scope.contexts);
        if event.user.is_none() {
            event.user = scope.user.as_deref().cloned();
        }
        if event.transaction.is_none() {
            event.transaction = scope.transaction.as_deref().map(str::to_owned);
        }
    }
    if event.is_transaction() {
        // Transactions take the scopes' data, but not their breadcrumbs, level or
        // fingerprint, and carry their own trace.
        return;
    }
    if let Some(level) = current.level.or(isolation.level).or(global.level) {
        event.level = level;
    }
    for scope in [global, isolation, current] {
        if let Some(fingerprint) = &scope.fingerprint {
            event.fingerprint.extend(fingerprint.iter().cloned());
        }
    }
    if !event.contexts.contains_key("trace") {
        if let Some(p) = propagation_of(scopes) {
            event.contexts.insert(
                Cow::Borrowed("trace"),
                Context::Trace(Box::new(p.trace_context())),
            );
        }
    }
    merge_breadcrumbs(scopes, event, max_breadcrumbs);
}

/// Adds the entries of `from` whose keys `into` lacks. Into an empty map (the usual event's),
/// `from` is cloned whole: one allocation, no search and no growth per key.
fn add_absent<K: Ord + Clone, V: Clone>(into: &mut SortedMap<K, V>, from: &SortedMap<K, V>) {
    if into.is_empty() {
        into.clone_from(from);
        return;
    }
    for (k, v) in from.iter() {
        into.entry(k.clone()).or_insert_with(|| v.clone());
    }
}

/// The trace of these scopes when no span is current. It lives on the isolation scope alone:
/// each forked isolation scope gets a new one, `continue_trace` and `start_new_trace` replace
/// it there, and no other scope is ever given one.
pub(crate) fn propagation_of(scopes: [&Scope; 3]) -> Option<&PropagationContext> {
    let [_, isolation, _] = scopes;
    isolation.propagation.as_ref()
}

fn merge_breadcrumbs(scopes: [&Scope; 3], event: &mut Event, max: usize) {
    let total: usize = scopes.iter().map(|s| s.breadcrumbs.len()).sum();
    if total == 0 {
        if event.breadcrumbs.len() > max {
            let excess = event.breadcrumbs.len() - max;
            event.breadcrumbs.drain(..excess);
        }
        return;
    }
    let keep_from_scopes = max.min(total);
    let keep_from_event = (max - keep_from_scopes).min(event.breadcrumbs.len());
    let drop_event = event.breadcrumbs.len() - keep_from_event;
    event.breadcrumbs.drain(..drop_event);
    event.breadcrumbs.reserve(keep_from_scopes);

    let rings = scopes.map(|scope| &*scope.breadcrumbs);
    let mut skip = total - keep_from_scopes;
    // Usually one ring holds them all (`add_breadcrumb` records on the isolation scope): a copy
    // of its newest, without the merge's comparisons.
    let mut filled = rings.iter().filter(|ring| !ring.is_empty());
    if let (Some(only), None) = (filled.next(), filled.next()) {
        event
            .breadcrumbs
            .extend(only.iter().skip(skip).map(|(_, crumb)| Arc::clone(crumb)));
        return;
    }
    // Sorted runs: a k-way merge by stamp (see `BREADCRUMB_CLOCK`), skipping the oldest
    // `total - keep`.
    let mut runs = rings.map(|ring| ring.iter().peekable());
    loop {
        let mut best: Option<(usize, u64)> = None;
        for (i, run) in runs.iter_mut().enumerate() {
            if let Some((seq, _)) = run.peek() {
                if best.is_none_or(|(_, s)| *seq < s) {
                    best = Some((i, *seq));
                }
            }
        }
        let Some((i, _)) = best else { break };
        let Some((_, crumb)) = runs[i].next() else {
            break;
        };
        if skip > 0 {
            skip -= 1;
        } else {
            event.breadcrumbs.push(Arc::clone(crumb));
        }
    }
}

impl sentry_minimal::backend::ScopeBackend for Scope {
    fn set_tag(&mut self, key: Cow<'static, str>, value: Cow<'static, str>) {
        Scope::set_tag(self, key, value);
    }
    fn remove_tag(&mut self, key: &str) {
        Scope::remove_tag(self, key);
    }
    fn set_extra(&mut self, key: Cow<'static, str>, value: Value) {
        Scope::set_extra(self, key.into_owned(), value);
    }
    fn remove_extra(&mut self, key: &str) {
        Scope::remove_extra(self, key);
    }
    fn set_context(&mut self, key: Cow<'static, str>, value: Map) {
        Scope::set_context(self, key, Context::Other(value));
    }
    fn remove_context(&mut self, key: &str) {
        Scope::remove_context(self, key);
    }
    fn set_user(&mut self, user: Option<User>) {
        Scope::set_user(self, user);
    }
    fn set_level(&mut self, level: Option<Level>) {
        Scope::set_level(self, level);
    }
    fn set_fingerprint(&mut self, fingerprint: Option<&[&str]>) {
        Scope::set_fingerprint(self, fingerprint);
    }
    fn set_transaction(&mut self, transaction: Option<&str>) {
        Scope::set_transaction(self, transaction);
    }
    fn add_breadcrumb(&mut self, breadcrumb: Breadcrumb) {
        Scope::add_breadcrumb(self, breadcrumb);
    }
    fn clear_breadcrumbs(&mut self) {
        Scope::clear_breadcrumbs(self);
    }
    fn clear(&mut self) {
        Scope::clear(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crumb(msg: &'static str) -> Breadcrumb {
        Breadcrumb::new(msg)
    }

    fn messages(event: &Event) -> Vec<String> {
        event
            .breadcrumbs
            .iter()
            .map(|b| b.message.as_deref().unwrap_or("").to_owned())
            .collect()
    }

    #[test]
    fn ring_buffer_evicts_oldest() {
        let mut scope = Scope::default();
        for m in ["a", "b", "c", "d", "e"] {
            scope.push_breadcrumb(crumb(m), 3);
        }
        let kept: Vec<_> = scope
            .breadcrumbs()
            .map(|b| b.message.clone().unwrap())
            .collect();
        assert_eq!(kept, ["c", "d", "e"]);
    }

    #[test]
    fn breadcrumbs_merge_in_insertion_order_and_recap() {
        let (mut g, mut i, mut c) = (Scope::default(), Scope::default(), Scope::default());
        g.add_breadcrumb(crumb("g1"));
        i.add_breadcrumb(crumb("i1"));
        c.add_breadcrumb(crumb("c1"));
        g.add_breadcrumb(crumb("g2"));
        i.add_breadcrumb(crumb("i2"));
        let mut event = Event::default();
        apply_scopes([&g, &i, &c], &mut event, 100);
        assert_eq!(messages(&event), ["g1", "i1", "c1", "g2", "i2"]);

        let mut event = Event::default();
        apply_scopes([&g, &i, &c], &mut event, 3);
        assert_eq!(messages(&event), ["c1", "g2", "i2"]);
    }

    /// The usual case, every breadcrumb in one scope (the isolation scope's ring), takes the
    /// newest ones without the merge, after the event's own when there is room.
    #[test]
    fn breadcrumbs_of_one_scope_are_copied_newest_last() {
        let (g, mut i, c) = (Scope::default(), Scope::default(), Scope::default());
        for m in ["i1", "i2", "i3", "i4"] {
            i.push_breadcrumb_from(&mut Some(crumb(m)), 100, Stamp::Recorded);
        }
        let mut event = Event::default();
        apply_scopes([&g, &i, &c], &mut event, 100);
        assert_eq!(messages(&event), ["i1", "i2", "i3", "i4"]);

        let mut event = Event::default();
        apply_scopes([&g, &i, &c], &mut event, 2);
        assert_eq!(messages(&event), ["i3", "i4"]);

        let mut event = Event::default();
        event.breadcrumbs.push(Arc::new(crumb("e1")));
        event.breadcrumbs.push(Arc::new(crumb("e2")));
        apply_scopes([&g, &i, &c], &mut event, 5);
        assert_eq!(messages(&event), ["e2", "i1", "i2", "i3", "i4"]);
    }

    /// Breadcrumbs recorded on the isolation scope (which read the ordering clock) and ones
    /// added to the other scopes (which advance it) still merge in the order they came.
    #[test]
    fn recorded_and_added_breadcrumbs_merge_in_order() {
        let (mut g, mut i, mut c) = (Scope::default(), Scope::default(), Scope::default());
        let record = |scope: &mut Scope, m: &'static str| {
            scope.push_breadcrumb_from(&mut Some(crumb(m)), 100, Stamp::Recorded)
        };
        record(&mut i, "i1");
        record(&mut i, "i2");
        g.add_breadcrumb(crumb("g1"));
        record(&mut i, "i3");
        c.add_breadcrumb(crumb("c1"));
        c.add_breadcrumb(crumb("c2"));
        record(&mut i, "i4");
        record(&mut i, "i5");
        g.add_breadcrumb(crumb("g2"));
        let mut event = Event::default();
        apply_scopes([&g, &i, &c], &mut event, 100);
        assert_eq!(
            messages(&event),
            ["i1", "i2", "g1", "i3", "c1", "c2", "i4", "i5", "g2"]
        );
    }

    /// A breadcrumb evicted from a full ring is handed back to the caller (to be dropped
    /// outside the scope's lock), and its allocation holds the new one.
    #[test]
    fn an_evicted_breadcrumb_is_handed_back() {
        let mut scope = Scope::default();
        scope.push_breadcrumb(crumb("a"), 1);
        let mut next = Some(crumb("b"));
        scope.push_breadcrumb_from(&mut next, 1, Stamp::Recorded);
        assert_eq!(next.and_then(|b| b.message).as_deref(), Some("a"));
        let kept: Vec<_> = scope.breadcrumbs().map(|b| b.message.clone()).collect();
        assert_eq!(kept, [Some("b".into())]);
    }

    #[test]
    fn event_keys_win_then_inner_scopes() {
        let (mut g, mut i, mut c) = (Scope::default(), Scope::default(), Scope::default());
        g.set_tag("a", "global");
        g.set_tag("b", "global");
        i.set_tag("b", "isolation");
        i.set_tag("c", "isolation");
        c.set_tag("c", "current");
        c.set_level(Some(Level::Warning));
        g.set_fingerprint(Some(&["g"]));
        c.set_fingerprint(Some(&["c"]));
        let mut event = Event::default();
        event.tags.insert("a".into(), "event".into());
        apply_scopes([&g, &i, &c], &mut event, 100);
        assert_eq!(event.tags["a"], "event");
        assert_eq!(event.tags["b"], "isolation");
        assert_eq!(event.tags["c"], "current");
        assert_eq!(event.level, Level::Warning);
        assert_eq!(event.fingerprint, ["g", "c"]);
    }

    /// An event without tags, extra or contexts of its own takes the innermost scope's whole,
    /// then what the outer scopes add.
    #[test]
    fn an_empty_event_takes_inner_scopes_first() {
        let (mut g, mut i, mut c) = (Scope::default(), Scope::default(), Scope::default());
        g.set_tag("a", "global");
        g.set_tag("b", "global");
        i.set_tag("b", "isolation");
        c.set_tag("c", "current");
        g.set_extra("x", "global");
        i.set_extra("x", "isolation");
        i.set_extra("y", "isolation");
        g.set_context("app", Context::Other(Map::new()));
        c.set_context(
            "app",
            Context::Other([("k".to_owned(), "current".into())].into()),
        );
        let mut event = Event::default();
        apply_scopes([&g, &i, &c], &mut event, 100);
        let tags: Vec<(&str, &str)> = event.tags.iter().map(|(k, v)| (&**k, &**v)).collect();
        assert_eq!(
            tags,
            [("a", "global"), ("b", "isolation"), ("c", "current")]
        );
        assert_eq!(event.extra["x"], Value::from("isolation"));
        assert_eq!(event.extra["y"], Value::from("isolation"));
        match &event.contexts["app"] {
            Context::Other(map) => assert_eq!(map["k"], Value::from("current")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fork_is_copy_on_write() {
        let mut parent = Scope::default();
        parent.set_tag("shared", "1");
        let mut child = parent.clone();
        child.set_tag("child", "2");
        parent.set_tag("parent", "3");
        assert!(!parent.tags().contains_key("child"));
        assert!(!child.tags().contains_key("parent"));
        assert_eq!(child.tags()["shared"], "1");
    }

    #[test]
    fn clear_keeps_processors() {
        let mut scope = Scope::default();
        scope.set_tag("a", "b");
        scope.add_event_processor(|event, _| Some(event));
        scope.clear();
        assert!(scope.tags().is_empty());
        assert_eq!(scope.event_processors.len(), 1);
    }
}
