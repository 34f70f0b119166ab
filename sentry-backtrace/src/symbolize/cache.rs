//! The symbolizer's images, loaded once each and never past a deadline.
//!
//! An image's **symbol table** is loaded by the first thread that needs it (milliseconds, even
//! for a large debug build). Its **DWARF** can take seconds (the first symbolication of a
//! 65 MB debug test binary parses about a second of it), so it loads on a thread of its own,
//! `sentry-symbolizer`, which ends when the load is done. A caller waits for it only until
//! the finalizer deadline ([`sentry_core::finalize::deadline`]): someone flushing, closing, or
//! a panic hook about to let the process die. After that the frame keeps what the symbol
//! table says (function names, no file or line), the load goes on, and later events get the
//! DWARF. Past the deadline nothing new is loaded at all: frames keep their addresses, and
//! Sentry symbolicates them from the `debug_meta` images.
//!
//! No lock is held while a file is read, so a thread that must not wait (the one closing the
//! SDK, past its deadline) is never stuck behind another's load.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use sentry_core::finalize;
use sentry_core::protocol::SortedMap;

use super::loader::SymbolTable;
use super::Symbol;
use crate::images::{openable_path, LoadedImage};

/// How many images are kept loaded; beyond that the cache starts over.
const MAX_LOADED: usize = 16;

/// The name of the thread that loads an image's DWARF.
#[cfg(sentry_dwarf)]
pub(crate) const LOADER_THREAD_NAME: &str = "sentry-symbolizer";

/// One image file (one version of it): its symbol table and its DWARF, each loaded once.
pub(super) struct ImageEntry {
    path: PathBuf,
    /// `None` inside once loading found no ELF file.
    symbols: OnceLock<Option<SymbolTable>>,
    #[cfg(sentry_dwarf)]
    dwarf: dwarf_slot::DwarfSlot,
}

/// The entry of `image`, created (empty) on first use.
pub(super) fn entry(image: &LoadedImage) -> Arc<ImageEntry> {
    type Loaded = SortedMap<(String, u64), Arc<ImageEntry>>;
    static LOADED: Mutex<Option<Loaded>> = Mutex::new(None);
    let mut guard = LOADED.lock().unwrap_or_else(PoisonError::into_inner);
    let loaded = guard.get_or_insert_with(SortedMap::new);
    if let Some(entry) = loaded.get(&image.key) {
        return Arc::clone(entry);
    }
    if loaded.len() >= MAX_LOADED {
        loaded.clear();
    }
    let entry = Arc::new(ImageEntry {
        path: openable_path(image),
        symbols: OnceLock::new(),
        #[cfg(sentry_dwarf)]
        dwarf: dwarf_slot::DwarfSlot::default(),
    });
    loaded.insert(image.key.clone(), Arc::clone(&entry));
    entry
}

impl ImageEntry {
    /// The image's symbol table, loaded now if needed, unless the finalizer deadline has
    /// passed.
    pub(super) fn symbols(&self) -> Option<&SymbolTable> {
        if let Some(table) = self.symbols.get() {
            return table.as_ref();
        }
        if finalize::past_deadline() {
            return None;
        }
        self.symbols
            .get_or_init(|| SymbolTable::load(&self.path))
            .as_ref()
    }

    /// The frames the image's DWARF describes at `probe`, innermost (most inlined) first.
    /// Empty without DWARF, and when it is not loaded before the finalizer deadline.
    pub(super) fn frames(self: &Arc<Self>, probe: u64) -> Vec<Symbol> {
        #[cfg(sentry_dwarf)]
        return dwarf_slot::frames(self, probe);
        #[cfg(not(sentry_dwarf))]
        {
            let _ = probe;
            Vec::new()
        }
    }
}

#[cfg(sentry_dwarf)]
mod dwarf_slot {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, TryLockError};
    use std::time::Duration;

    use sentry_core::finalize;

    use super::super::dwarf::DwarfInfo;
    use super::super::Symbol;
    use super::{ImageEntry, LOADER_THREAD_NAME};
    use crate::resolve::SdkCodeGuard;

    /// How long a waiter sleeps before it looks at the deadline again (one may be registered
    /// while it waits).
    const WAIT_SLICE: Duration = Duration::from_millis(20);

    #[derive(Default)]
    pub(super) struct DwarfSlot {
        state: Mutex<State>,
        loaded: Condvar,
    }

    #[derive(Default)]
    enum State {
        #[default]
        Unloaded,
        Loading,
        /// `None`: the image has no usable DWARF.
        Loaded(Option<Box<DwarfInfo>>),
    }

    impl DwarfSlot {
        fn finish(&self, dwarf: Option<Box<DwarfInfo>>) {
            *self.state.lock().unwrap_or_else(PoisonError::into_inner) = State::Loaded(dwarf);
            self.loaded.notify_all();
        }

        /// The state, unless waiting for it would run past the deadline.
        fn lock(&self) -> Option<MutexGuard<'_, State>> {
            if !finalize::past_deadline() {
                return Some(self.state.lock().unwrap_or_else(PoisonError::into_inner));
            }
            match self.state.try_lock() {
                Ok(state) => Some(state),
                Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            }
        }
    }

    pub(super) fn frames(entry: &Arc<ImageEntry>, probe: u64) -> Vec<Symbol> {
        let slot = &entry.dwarf;
        let Some(mut state) = slot.lock() else {
            return Vec::new();
        };
        loop {
            match &*state {
                State::Loaded(Some(dwarf)) => return dwarf.frames(probe),
                State::Loaded(None) => return Vec::new(),
                State::Unloaded => {
                    if finalize::past_deadline() {
                        return Vec::new();
                    }
                    *state = State::Loading;
                    if !start_loading(entry) {
                        // No thread to spare: load here, outside the lock, if nobody waits
                        // for this event; otherwise the frames make do with symbol names.
                        if finalize::deadline().is_some() {
                            *state = State::Unloaded;
                            return Vec::new();
                        }
                        drop(state);
                        slot.finish(load(entry));
                        state = slot.state.lock().unwrap_or_else(PoisonError::into_inner);
                    }
                }
                State::Loading => {
                    let wait = match finalize::time_left() {
                        None => WAIT_SLICE,
                        Some(left) if left.is_zero() => return Vec::new(),
                        Some(left) => left.min(WAIT_SLICE),
                    };
                    state = slot
                        .loaded
                        .wait_timeout(state, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
    }

    /// Starts the thread that loads the DWARF of `entry`; `false` if none could be started.
    fn start_loading(entry: &Arc<ImageEntry>) -> bool {
        let entry = Arc::clone(entry);
        sentry_core::__private::spawn_named(
            LOADER_THREAD_NAME,
            Box::new(move || {
                let dwarf = load(&entry);
                entry.dwarf.finish(dwarf);
            }),
        )
        .is_ok()
    }

    /// Loads the DWARF of `entry`, as SDK code: a panic in the reader means "no DWARF", and
    /// the panic hook does not report it.
    fn load(entry: &ImageEntry) -> Option<Box<DwarfInfo>> {
        let _sdk = SdkCodeGuard::enter();
        catch_unwind(AssertUnwindSafe(|| DwarfInfo::load_file(&entry.path)))
            .ok()
            .flatten()
            .map(Box::new)
    }
}
