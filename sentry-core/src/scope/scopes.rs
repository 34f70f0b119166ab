//! [`Scopes`]: the global, isolation and current scopes of a thread of execution.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use super::data::Scope;
use super::fork::CurrentSlot;
use super::propagation::PropagationContext;
use super::slot::ScopeSlot;
use super::slot_ref::SlotRef;
use crate::client::Client;
use crate::span::Span;

/// How many live threads have ever entered scopes of their own. While it is zero, reads never
/// touch the thread-local.
///
/// A thread is counted from its first `enter` until it exits, not only while it holds scopes:
/// entering and leaving scopes (every `with_scope`) then changes no counter shared by all
/// threads.
static ENTERED: AtomicUsize = AtomicUsize::new(0);

/// A thread's own scopes (`None`: the process's default scopes), and whether the thread is
/// counted in [`ENTERED`]; keeps the count exact, thread exit included.
struct ThreadSlot {
    scopes: Option<Scopes>,
    counted: bool,
}

impl ThreadSlot {
    /// Counts this thread in [`ENTERED`] (once: it stays counted until it exits).
    #[inline(always)]
    fn count(&mut self) {
        if !self.counted {
            self.counted = true;
            ENTERED.fetch_add(1, Ordering::AcqRel);
        }
    }
}

impl Drop for ThreadSlot {
    fn drop(&mut self) {
        if self.counted {
            ENTERED.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

thread_local! {
    static THREAD_SCOPES: RefCell<ThreadSlot> =
        const { RefCell::new(ThreadSlot { scopes: None, counted: false }) };
}

/// Swaps `scopes` with this thread's own scopes (`None`: the process's default scopes);
/// `false`, leaving both as they were, if the thread-local is gone (thread teardown) or busy.
///
/// In place rather than by value: returning the old scopes through the thread-local's
/// `Result` and the borrow's `Option` copied the 80-byte value at each layer (about 30 of the
/// 66 instructions a swap took).
#[inline(always)]
fn swap_thread_scopes(scopes: &mut Option<Scopes>) -> bool {
    THREAD_SCOPES
        .try_with(|cell| {
            let Ok(mut slot) = cell.try_borrow_mut() else {
                return false;
            };
            if scopes.is_some() {
                slot.count();
            }
            std::mem::swap(&mut slot.scopes, scopes);
            true
        })
        .unwrap_or(false)
}

/// The process-wide global scope: applied to every event, never forked.
pub(crate) fn global_slot() -> &'static Arc<ScopeSlot> {
    static GLOBAL: OnceLock<Arc<ScopeSlot>> = OnceLock::new();
    GLOBAL.get_or_init(|| ScopeSlot::new(Arc::default()))
}

/// The scopes of every thread that has not entered scopes of its own. Their scope objects
/// live in statics, so the `Scopes` of such a thread, and the isolation scope of its forks, are
/// copied as pointers.
fn default_scopes() -> &'static Scopes {
    static ISOLATION: OnceLock<ScopeSlot> = OnceLock::new();
    static CURRENT: OnceLock<ScopeSlot> = OnceLock::new();
    static DEFAULT: OnceLock<Scopes> = OnceLock::new();
    DEFAULT.get_or_init(|| Scopes {
        isolation: SlotRef::Static(ISOLATION.get_or_init(|| {
            ScopeSlot::with_data(Arc::new(Scope {
                propagation: Some(PropagationContext::new()),
                ..Scope::default()
            }))
        })),
        current: CurrentSlot::of(SlotRef::Static(
            CURRENT.get_or_init(|| ScopeSlot::with_data(Arc::default())),
        )),
        span: None,
    })
}

/// The isolation and current scopes of a thread of execution (a thread, a request, a task).
///
/// Every thread starts with the process's default scopes, shared by all threads that have not
/// entered scopes of their own; this is why data set before or after threads are spawned, and
/// an `init` after runtimes already exist, reach every thread. Fork scopes to isolate work:
/// [`Scopes::fork_isolation`] for a request or task, [`with_scope`] for a block of code.
///
/// A `Scopes` value is a cheap handle: clone it and move it to another thread or task, then
/// [`bind`](Scopes::bind) or [`enter`](Scopes::enter) it there, or bind a future with
/// [`BindScopes::bind_scopes`](crate::BindScopes::bind_scopes). Changes made through either side
/// are seen by both, because they share the same scope objects.
///
/// # Examples
///
/// ```
/// use sentry_core::Scopes;
///
/// // One isolation scope per request, carried to the thread that serves it.
/// let request_scopes = Scopes::current().fork_isolation();
/// request_scopes.bind(|| sentry_core::set_tag("request_id", "abc123"));
/// let worker = std::thread::spawn(move || {
///     request_scopes.bind(|| {
///         // Events captured here carry request_id = abc123.
///     })
/// });
/// worker.join().unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Scopes {
    pub(crate) isolation: SlotRef,
    pub(crate) current: CurrentSlot,
    /// The current span: events captured here belong to it, spans started here are its
    /// children. Kept beside the scope objects rather than in one, so that making a span
    /// current copies three pointers and forks no scope.
    pub(crate) span: Option<Span>,
}

impl Scopes {
    /// The scopes active on this thread.
    pub fn current() -> Scopes {
        // One clone of the thread's own scopes (`with_scopes` would clone them, then lend the
        // clone to be cloned again).
        own_scopes().unwrap_or_else(|| default_scopes().clone())
    }

    /// New scopes whose isolation and current scopes are copies of these (copy-on-write), with
    /// a new trace: the usual start of a request or task.
    pub fn fork_isolation(&self) -> Scopes {
        self.fork_isolation_with(|_| {})
    }

    /// [`fork_isolation`](Self::fork_isolation), with `configure` run on the new isolation
    /// scope before the scopes exist: the same as
    /// [`configure_isolation_scope`](Self::configure_isolation_scope) on the fork, without
    /// the copy that publishing a configured scope takes (nothing can read the new scope
    /// yet). A panic in `configure` propagates, and no scopes are made.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::Scopes;
    ///
    /// let request = Scopes::current().fork_isolation_with(|scope| {
    ///     scope.set_tag("route", "/users/{id}");
    /// });
    /// request.bind(|| {
    ///     // events captured here carry the tag
    /// });
    /// ```
    pub fn fork_isolation_with(&self, configure: impl FnOnce(&mut Scope)) -> Scopes {
        self.fork_isolation_in(PropagationContext::new(), configure)
    }

    /// [`fork_isolation_with`](Self::fork_isolation_with) whose new isolation scope belongs
    /// to the trace `propagation` from the start (a continued trace is set as the scope is
    /// made, rather than drawn new and replaced).
    pub(crate) fn fork_isolation_in(
        &self,
        propagation: PropagationContext,
        configure: impl FnOnce(&mut Scope),
    ) -> Scopes {
        let mut isolation = self.isolation.read(|scope| scope.fork_in(propagation));
        configure(&mut isolation);
        Scopes {
            isolation: ScopeSlot::new(Arc::new(isolation)).into(),
            current: CurrentSlot::fork(self.current.snapshot()),
            span: self.span.clone(),
        }
    }

    /// New scopes sharing this isolation scope, with a copy of the current scope.
    ///
    /// The copy is made lazily: until something is written to it (or the new scopes are
    /// cloned), it is the current scope's data as it was at the fork, and forking, entering and
    /// leaving the new scopes allocate nothing.
    pub fn fork_current(&self) -> Scopes {
        Scopes {
            isolation: self.isolation.clone(),
            current: CurrentSlot::fork(self.current.snapshot()),
            span: self.span.clone(),
        }
    }

    /// These scopes with `span` as the current span (the same scope objects). Bind them to a
    /// future to make a span current while it runs:
    ///
    /// ```
    /// use sentry_core::{BindScopes, Scopes, TransactionContext};
    ///
    /// let tx = sentry_core::start_transaction(TransactionContext::new("poll", "task"));
    /// let work = async { /* spans started here are children of `tx` */ };
    /// let bound = work.bind_scopes(Scopes::current().with_span(Some(tx.clone())));
    /// # drop(bound);
    /// tx.finish();
    /// ```
    pub fn with_span(&self, span: Option<Span>) -> Scopes {
        Scopes {
            isolation: self.isolation.clone(),
            current: self.current.clone(),
            span,
        }
    }

    /// [`Scopes::current`]`().`[`with_span`](Self::with_span)`(span)` without the copy of the
    /// current scopes in between: what making a span current costs (three pointer copies), for
    /// integrations that keep their own stack of entered spans.
    ///
    /// ```
    /// use sentry_core::{Scopes, Span};
    ///
    /// let _guard = Scopes::current_with_span(Some(Span::noop())).enter();
    /// ```
    pub fn current_with_span(span: Option<Span>) -> Scopes {
        current_with_span(span)
    }

    /// Calls `f` with the trace of these scopes (their isolation scope's, see
    /// `propagation_of`), read under the scope's lock: no snapshot for one field.
    pub(crate) fn with_trace<R>(&self, f: impl FnOnce(Option<&PropagationContext>) -> R) -> R {
        self.isolation.read(|scope| f(scope.propagation.as_ref()))
    }

    /// The current span of these scopes.
    pub fn span(&self) -> Option<&Span> {
        self.span.as_ref()
    }

    pub(crate) fn without_span(&self) -> Scopes {
        self.with_span(None)
    }

    /// Makes these the scopes of this thread until the guard is dropped.
    #[inline]
    pub fn enter(self) -> ScopeGuard {
        let mut previous = Some(self);
        let entered = swap_thread_scopes(&mut previous);
        // Not entered: `previous` is still these scopes, dropped here.
        ScopeGuard::restoring(entered.then_some(previous))
    }

    /// Runs `f` with these scopes active on this thread.
    pub fn bind<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = self.clone().enter();
        f()
    }

    /// Calls `f` with the current scope of these scopes.
    pub fn configure_scope<R>(&self, f: impl FnOnce(&mut Scope) -> R) -> Option<R> {
        self.current.configure(f)
    }

    /// Calls `f` with the isolation scope of these scopes.
    pub fn configure_isolation_scope<R>(&self, f: impl FnOnce(&mut Scope) -> R) -> Option<R> {
        self.isolation.configure(f)
    }

    /// The client events go to: current → isolation → global, and the no-op client (disabled,
    /// never sends) when none is bound, as before `init`.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = sentry_core::Scopes::current().client();
    /// assert!(!client.is_enabled()); // no init in this example
    /// ```
    pub fn client(&self) -> Arc<Client> {
        if !super::binding::scoped_clients_exist() {
            // Only the global scope can hold one: one read instead of three.
            return global_slot()
                .read(|scope| scope.client.clone())
                .unwrap_or_else(Client::noop);
        }
        self.current
            .read(|scope| scope.client.clone())
            .or_else(|| self.isolation.read(|scope| scope.client.clone()))
            .or_else(|| global_slot().snapshot().client.clone())
            .unwrap_or_else(Client::noop)
    }
}

/// The three scopes an item is captured with, read once: global, isolation, current.
pub(crate) struct Snapshots {
    global: Arc<Scope>,
    isolation: Arc<Scope>,
    /// `None`: the current scope is empty (the usual case; no reference count taken).
    current: Option<Arc<Scope>>,
}

impl Snapshots {
    /// The published state of `scopes` (and of the global scope) now.
    pub(crate) fn of(scopes: &Scopes) -> Snapshots {
        Snapshots {
            global: global_slot().snapshot(),
            isolation: scopes.isolation.snapshot(),
            current: scopes.current.snapshot(),
        }
    }

    /// The client items go to: current → isolation → global.
    pub(crate) fn client(&self) -> Option<&Arc<Client>> {
        self.current()
            .client
            .as_ref()
            .or(self.isolation.client.as_ref())
            .or(self.global.client.as_ref())
    }

    /// The scopes, outermost first, as the client applies them.
    pub(crate) fn scopes(&self) -> [&Scope; 3] {
        [&self.global, &self.isolation, self.current()]
    }

    fn current(&self) -> &Scope {
        self.current.as_deref().unwrap_or(Scope::empty())
    }
}

/// Restores the previous scopes of the thread when dropped.
///
/// Guards are not `Send`: scopes are entered and left on the same thread. Dropping guards out of
/// order does not panic; each restores what was active when it was created.
#[must_use = "the scopes are left as soon as the guard is dropped"]
#[derive(Debug)]
pub struct ScopeGuard {
    /// The scopes to restore (`None`: the process's default scopes).
    previous: Option<Scopes>,
    /// `false` if the thread-local could not be set (thread teardown): nothing to restore.
    entered: bool,
    _not_send: PhantomData<*const ()>,
}

impl ScopeGuard {
    /// The guard of an entry: `Some(previous)`, the scopes it restores (`None`: the process's
    /// default scopes); `None`, nothing was entered (the SDK is disabled, or the thread-local
    /// is gone or busy) and dropping the guard restores nothing.
    #[inline(always)]
    fn restoring(previous: Option<Option<Scopes>>) -> ScopeGuard {
        ScopeGuard {
            entered: previous.is_some(),
            previous: previous.flatten(),
            _not_send: PhantomData,
        }
    }
}

impl Drop for ScopeGuard {
    #[inline]
    fn drop(&mut self) {
        if self.entered {
            self.entered = false;
            // `previous` now holds the scopes being left: dropped with the guard, outside the
            // thread-local borrow.
            swap_thread_scopes(&mut self.previous);
        }
    }
}

/// Calls `f` with this thread's scopes, without cloning them when the thread uses the defaults.
#[inline]
pub(crate) fn with_scopes<R>(f: impl FnOnce(&Scopes) -> R) -> R {
    match own_scopes() {
        Some(scopes) => f(&scopes),
        None => f(default_scopes()),
    }
}

/// A clone of this thread's own scopes, `None` while it uses the process's default scopes.
#[inline]
fn own_scopes() -> Option<Scopes> {
    if ENTERED.load(Ordering::Acquire) == 0 {
        return None;
    }
    THREAD_SCOPES
        .try_with(|cell| cell.try_borrow().ok().and_then(|s| s.scopes.clone()))
        .ok()
        .flatten()
}

/// This thread's scopes with `span` current: their scope objects shared, without a clone of
/// the thread's scopes in between.
pub(crate) fn current_with_span(span: Option<Span>) -> Scopes {
    if ENTERED.load(Ordering::Acquire) != 0 {
        let own = THREAD_SCOPES
            .try_with(|cell| {
                let slot = cell.try_borrow().ok()?;
                let scopes = slot.scopes.as_ref()?;
                Some((scopes.isolation.clone(), scopes.current.clone()))
            })
            .ok()
            .flatten();
        if let Some((isolation, current)) = own {
            return Scopes {
                isolation,
                current,
                span,
            };
        }
    }
    default_scopes().with_span(span)
}

/// Calls `f` with this thread's scopes borrowed in place: no clone (which would make a forked
/// current scope, and costs reference counts). `f` must not enter or leave scopes on this
/// thread, nor run code of the application's. `R::default()` stands for a result that cannot
/// happen: the closure runs exactly once on every path.
#[inline(always)]
fn with_scopes_in_place<R: Default>(f: impl FnOnce(&Scopes) -> R) -> R {
    if ENTERED.load(Ordering::Acquire) == 0 {
        return f(default_scopes());
    }
    let mut f = Some(f);
    let out = THREAD_SCOPES.try_with(|cell| {
        let f = f.take()?;
        Some(match cell.try_borrow() {
            Ok(slot) => f(slot.scopes.as_ref().unwrap_or_else(|| default_scopes())),
            // Only while this thread swaps its scopes, which runs no code of others.
            Err(_) => f(default_scopes()),
        })
    });
    match (out, f) {
        (Ok(Some(result)), _) => result,
        // The thread-local is gone (thread teardown): the process's default scopes.
        (_, Some(f)) => f(default_scopes()),
        (_, None) => R::default(),
    }
}

/// Calls `f` with this thread's current span, borrowing the thread's scopes instead of
/// cloning them (three reference counts fewer than [`with_scopes`]); see
/// [`with_scopes_in_place`].
#[inline]
pub(crate) fn with_current_span<R: Default>(f: impl FnOnce(Option<&Span>) -> R) -> R {
    with_scopes_in_place(|scopes| f(scopes.span.as_ref()))
}

/// Calls `f` with this thread's isolation scope object, borrowed in place (no reference
/// counts on every breadcrumb); see [`with_scopes_in_place`].
#[inline]
pub(crate) fn with_isolation<R: Default>(f: impl FnOnce(&ScopeSlot) -> R) -> R {
    with_scopes_in_place(|scopes| f(&scopes.isolation))
}

/// Enters a fork of this thread's current scope, until the returned guard is dropped: what
/// [`with_scope`] does around its body, for code that cannot be put in a closure (or
/// `Scopes::current().fork_current().enter()` in one step).
///
/// The fork is lazy, as every fork of a current scope: entering and leaving it allocate
/// nothing until something is written to it. When the SDK is disabled nothing is forked and
/// the guard does nothing.
///
/// # Examples
///
/// ```
/// let _guard = sentry_core::push_scope();
/// sentry_core::configure_scope(|scope| scope.set_tag("batch", "42"));
/// // Events captured until `_guard` is dropped carry the tag; those after it do not.
/// ```
#[inline]
pub fn push_scope() -> ScopeGuard {
    if sentry_minimal::is_enabled() {
        push_fork(|scopes| scopes.current.snapshot())
    } else {
        ScopeGuard::restoring(None)
    }
}

/// Forks this thread's scopes in place, with `data(the thread's scopes)` as the fork's
/// current data, and swaps the fork in: one access to the thread-local, and no `Scopes`
/// copied on the way (`current()` then `fork_current()` clone them twice and drop one).
#[inline(always)]
fn push_fork(data: impl FnOnce(&Scopes) -> Option<Arc<Scope>>) -> ScopeGuard {
    let previous = THREAD_SCOPES
        .try_with(|cell| {
            let mut slot = cell.try_borrow_mut().ok()?;
            let scopes = slot.scopes.as_ref().unwrap_or_else(|| default_scopes());
            let fork = Scopes {
                isolation: scopes.isolation.clone(),
                current: CurrentSlot::fork(data(scopes)),
                span: scopes.span.clone(),
            };
            slot.count();
            Some(slot.scopes.replace(fork))
        })
        .ok()
        .flatten();
    ScopeGuard::restoring(previous)
}

/// Runs `body` in a new current scope forked from this thread's, after `configure` has set data
/// on it.
///
/// `body` always runs. When the SDK is disabled no scope is forked and `configure` does not run.
///
/// # Examples
///
/// ```
/// use sentry_core::{with_scope, capture_message, Level};
///
/// with_scope(
///     |scope| scope.set_tag("phase", "migration"),
///     || capture_message("migration started", Level::Info),
/// );
/// ```
#[inline]
pub fn with_scope<C, B, R>(configure: C, body: B) -> R
where
    C: FnOnce(&mut Scope),
    B: FnOnce() -> R,
{
    if !sentry_minimal::is_enabled() {
        return body();
    }
    let mut configure = Some(configure);
    let _guard = push_configured(&mut |scope| {
        if let Some(configure) = configure.take() {
            configure(scope);
        }
    });
    body()
}

/// Forks this thread's current scope, runs `configure` on a copy of its data, and enters the
/// fork with the copy as its data (`with_scope`'s work, out of line and not generic: the copy
/// stays in this frame and moves only when `configure` changed it).
///
/// A copy of a scope's empty fields costs nothing (see `Shared`); an empty scope is not
/// copied but made. While `configure` changed nothing, the fork keeps the data it was forked
/// from (or none), and either way it is entered as a fork, whose scope object is made only if
/// something writes to it or clones the scopes. The thread's scopes are read in place, not
/// cloned, so a current scope that is itself an unwritten fork stays one.
#[inline(never)]
fn push_configured(configure: &mut dyn FnMut(&mut Scope)) -> ScopeGuard {
    let base = with_scopes_in_place(|scopes| scopes.current.snapshot());
    let mut scope = match &base {
        Some(data) => Scope::clone(data),
        None => Scope::default(),
    };
    configure(&mut scope);
    let data = match base {
        None if scope.is_unset() => {
            // Owns nothing: every field is `None`.
            std::mem::forget(scope);
            None
        }
        Some(base) if scope.same_data(&base) => Some(base),
        _ => Some(Arc::new(scope)),
    };
    push_fork(move |_| data)
}

/// Runs `body` with new isolation and current scopes (a new trace), after `configure` has set
/// data on the new isolation scope. Use it around a request or a background job.
///
/// # Examples
///
/// ```
/// sentry_core::with_isolation_scope(
///     |scope| scope.set_tag("job", "nightly-report"),
///     || {
///         sentry_core::set_tag("stage", "render"); // goes to the job's isolation scope
///     },
/// );
/// ```
#[inline]
pub fn with_isolation_scope<C, B, R>(configure: C, body: B) -> R
where
    C: FnOnce(&mut Scope),
    B: FnOnce() -> R,
{
    if !sentry_minimal::is_enabled() {
        return body();
    }
    let forked = with_scopes(Scopes::fork_isolation);
    forked.isolation.configure(configure);
    let _guard = forked.enter();
    body()
}

/// Calls `f` with this thread's current scope. `f` runs only while the SDK is enabled.
///
/// `f` works on a copy that replaces the scope when it returns: until then, other threads,
/// and events captured from inside `f`, see the scope as it was, and never wait for `f`. If
/// `f` panics, nothing it changed is kept (and the panic is reported as usual).
///
/// # Examples
///
/// ```
/// sentry_core::configure_scope(|scope| scope.set_tag("shard", "7"));
/// ```
#[inline]
pub fn configure_scope<F: FnOnce(&mut Scope)>(f: F) {
    if sentry_minimal::is_enabled() {
        with_scopes(|scopes| scopes.current.configure(f));
    }
}

/// Calls `f` with the global scope, whose data is applied to every event of the process. Runs
/// even while the SDK is disabled, so it can be configured before `init`. Like
/// [`configure_scope`], `f` changes a copy that replaces the scope when it returns.
pub fn configure_global_scope<F: FnOnce(&mut Scope)>(f: F) {
    global_slot().configure(f);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_restore_in_any_order() {
        let a = Scopes::current().fork_isolation();
        let b = a.fork_current();
        let ga = a.clone().enter();
        let gb = b.clone().enter();
        assert!(Scopes::current().current.same_as(&b.current));
        drop(ga); // out of order: restores the defaults, no panic
        drop(gb); // restores `a`'s
        assert!(Scopes::current().current.same_as(&a.current));
    }

    #[test]
    fn bound_scopes_share_data_across_threads() {
        let scopes = Scopes::current().fork_isolation();
        scopes.bind(|| {
            with_scopes(|s| s.isolation.update(|scope| scope.set_tag("request", "r1")));
        });
        let seen = std::thread::spawn({
            let scopes = scopes.clone();
            move || {
                scopes
                    .bind(|| with_scopes(|s| s.isolation.snapshot().tags().get("request").cloned()))
            }
        })
        .join()
        .unwrap();
        assert_eq!(seen.as_deref(), Some("r1"));
        // The defaults are untouched.
        assert!(!default_scopes()
            .isolation
            .snapshot()
            .tags()
            .contains_key("request"));
    }

    #[test]
    fn fork_isolation_gets_a_new_trace() {
        let parent = Scopes::current();
        let child = parent.fork_isolation();
        let p = parent.isolation.snapshot().propagation.clone().unwrap();
        let c = child.isolation.snapshot().propagation.clone().unwrap();
        assert_ne!(p.trace_id, c.trace_id);
    }

    #[test]
    fn a_fork_is_made_on_its_first_write_and_shared_by_clones() {
        let parent = Scopes::current().fork_isolation();
        parent.current.update(|s| s.set_tag("parent", "1"));
        let child = parent.fork_current();
        assert!(!child.current.is_made());
        assert_eq!(child.current.read(|s| s.tags()["parent"].clone()), "1");
        // A later change of the parent is not seen by the fork (a copy at the fork).
        parent.current.update(|s| s.set_tag("later", "1"));
        assert!(!child.current.read(|s| s.tags().contains_key("later")));
        // Entering and leaving makes nothing.
        let guard = clone_unmade(&child).enter();
        drop(guard);
        // A clone shares the object with the original: writes through either are seen by both.
        let clone = child.clone();
        assert!(child.current.is_made());
        clone.current.update(|s| s.set_tag("child", "1"));
        assert_eq!(child.current.read(|s| s.tags()["child"].clone()), "1");
        assert!(!parent.current.read(|s| s.tags().contains_key("child")));
    }

    /// `with_scope` makes no scope object, whatever `configure` does: the entered scopes hold
    /// the configured data (or none, when `configure` wrote nothing to an empty scope) until
    /// something writes to them or clones them.
    #[test]
    fn with_scope_makes_no_object_and_holds_what_configure_wrote() {
        // (scope object made, data held, a tag `k`)
        let entered = |configure: fn(&mut Scope)| {
            let _guard = push_configured(&mut |scope| configure(scope));
            THREAD_SCOPES.with(|cell| {
                let slot = cell.borrow();
                let current = &slot.scopes.as_ref().unwrap().current;
                (
                    current.is_made(),
                    current.snapshot().is_some(),
                    current.read(|s| s.tags().contains_key("k")),
                )
            })
        };
        assert_eq!(entered(|_| {}), (false, false, false));
        assert_eq!(
            entered(|scope| {
                let _ = scope.tags().len();
            }),
            (false, false, false)
        );
        assert_eq!(
            entered(|scope| scope.set_tag("k", "v")),
            (false, true, true)
        );
        assert_eq!(
            entered(|scope| scope.set_level(Some(sentry_minimal::Level::Warning))),
            (false, true, false)
        );
    }

    /// A fork of an empty scope holds nothing; one of a scope written since holds its data,
    /// and the fork's first write makes its own object without touching the parent.
    #[test]
    fn a_fork_of_an_empty_scope_holds_no_data() {
        let parent = Scopes::current().fork_isolation();
        let empty = parent.fork_current();
        assert!(empty.current.snapshot().is_none());
        parent.current.update(|s| s.set_tag("parent", "1"));
        let written = parent.fork_current();
        assert!(written.current.snapshot().is_some());
        // The fork taken while the parent was empty stays empty.
        assert!(empty.current.read(|s| s.tags().is_empty()));
        empty.current.update(|s| s.set_tag("fork", "1"));
        assert!(empty.current.read(|s| s.tags().contains_key("fork")));
        assert!(!parent.current.read(|s| s.tags().contains_key("fork")));
    }

    #[test]
    fn nested_forks_read_their_parent_fork() {
        let outer = Scopes::current().fork_isolation();
        outer.current.update(|s| s.set_tag("outer", "1"));
        let _outer = outer.enter();
        let mut copied = None;
        let _inner = push_configured(&mut |scope| copied = scope.tags().get("outer").cloned());
        assert_eq!(copied.as_deref(), Some("1"));
        let seen = with_scopes(|s| s.current.read(|s| s.tags().get("outer").cloned()));
        assert_eq!(seen.as_deref(), Some("1"));
    }

    /// The same scopes without making a forked current scope (a clone would make it).
    fn clone_unmade(scopes: &Scopes) -> Scopes {
        Scopes {
            isolation: scopes.isolation.clone(),
            current: CurrentSlot::fork(scopes.current.snapshot()),
            span: scopes.span.clone(),
        }
    }
}
