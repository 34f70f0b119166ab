//! Automatic contexts (`os`, `runtime`, `device`, `app`), the server name and the list of
//! crates the application was built with (`modules`).

use sentry_core::protocol::SortedMap;
use std::borrow::Cow;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::SystemTime;

use sentry_core::protocol::{
    AppContext, ClientSdkInfo, Context, Contexts, DeviceContext, Event, OsContext, RuntimeContext,
    SpanV2,
};
use sentry_core::{ClientOptions, Integration, Value};

/// The `rustc --version` of the compiler that built this crate (and so the application).
pub const RUSTC_VERSION: &str = env!("SENTRY_BACKTRACE_RUSTC_VERSION");

/// Adds the `os`, `runtime`, `device` and `app` contexts to every event, the host name as
/// `server_name` when `send_default_pii` is on, and the crates the application was built with
/// as `modules` once [`set_modules`] was called.
///
/// Everything is computed once per process, on first use, and copied into events that do not
/// have their own value for a key.
///
/// Copying costs the capturing thread about a quarter of an error capture (two dozen strings
/// allocated, and freed again when the event is). When nothing on that thread can read the
/// event after this integration (an error or message event, no `before_send`, this is the last
/// integration), the transport worker adds them instead, right before it serializes the event
/// (an [event finalizer](sentry_core::finalize)): what Sentry receives is the same. Custom
/// transports that bypass the worker must call
/// [`finalize_envelope`](sentry_core::finalize::finalize_envelope), as for stack traces.
/// Hooks that run after this integration (`before_send`, a later integration) always see the
/// contexts.
///
/// | context | fields |
/// |---|---|
/// | `os` | `name`, `version`, `build`, `kernel_version`, `raw_description`; on Linux also `distribution_name`, `distribution_version`, `distribution_pretty_name` (from `/etc/os-release`) |
/// | `runtime` | `name: "rustc"`, `version`, `raw_description` (`rustc --version` at build time), `channel` |
/// | `device` | `arch`, `family` (`unix`/`windows`), `processor_count`, `memory_size` and `boot_time` (Linux); `name` (host name) only with `send_default_pii` |
/// | `app` | `app_name` (binary name), `app_start_time` (when the SDK was first set up), `build_type` |
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use sentry_backtrace::ContextIntegration;
/// use sentry_core::{test::with_captured_events_options, ClientOptions, Level};
///
/// let options = ClientOptions { integrations: vec![Arc::new(ContextIntegration::new())], ..Default::default() };
/// let events = with_captured_events_options(options, || {
///     sentry_core::capture_message("hello", Level::Info);
/// });
/// let contexts = &events[0].contexts;
/// for key in ["os", "runtime", "device", "app"] {
///     assert!(contexts.contains_key(key), "{key}");
/// }
/// assert!(events[0].server_name.is_none(), "no host name without send_default_pii");
/// ```
#[derive(Debug, Default)]
pub struct ContextIntegration {
    /// The client (by its `sdk` information) whose events this integration last found to be
    /// deferred, so that its next events are known without the registry's lock.
    deferring: OnceLock<Arc<ClientSdkInfo>>,
}

impl ContextIntegration {
    /// The integration.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Integration for ContextIntegration {
    fn name(&self) -> &'static str {
        "contexts"
    }

    fn setup_once(&self) {
        start_time();
        // Completes the events whose contexts `process_event` left to the transport worker.
        sentry_core::finalize::set_event_finalizer("sentry-contexts", finalize_contexts);
    }

    fn process_event(
        &self,
        mut event: Event,
        hint: &sentry_core::Hint<'_>,
        options: &ClientOptions,
    ) -> Option<Event> {
        self.process_event_in_place(&mut event, hint, options)
            .then_some(event)
    }

    fn process_event_in_place(
        &self,
        event: &mut Event,
        _hint: &sentry_core::Hint<'_>,
        options: &ClientOptions,
    ) -> bool {
        let deferred = nothing_reads_after(self, event, options)
            && event
                .sdk
                .as_ref()
                .is_some_and(|sdk| self.defers_for(sdk, options.send_default_pii));
        if !deferred {
            add_contexts(event, options.send_default_pii);
        }
        if !crate::is_deferred_symbolication() {
            add_modules(event);
        }
        true
    }

    /// A streamed span carries the operating system's name (a common attribute of every
    /// span); the segment span also its version (the span-first form of the `os` context).
    fn process_span(&self, span: &mut SpanV2) {
        let Some(Context::Os(os)) = computed().contexts.get("os") else {
            return;
        };
        let mut put = |key: &str, value: &Option<String>| {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                if !span.attributes.contains_key(key) {
                    span.attributes.insert(key.into(), value.into());
                }
            }
        };
        put("os.name", &os.name);
        if span.is_segment {
            put("os.version", &os.version);
        }
    }
}

impl ContextIntegration {
    /// Whether the events of the client that stamps `sdk` get their contexts on the worker:
    /// known without a lock once this integration has seen that client defer, else asked of
    /// (and recorded in) the process-wide registry the worker's finalizer reads.
    fn defers_for(&self, sdk: &Arc<ClientSdkInfo>, send_default_pii: bool) -> bool {
        if self
            .deferring
            .get()
            .is_some_and(|known| Arc::ptr_eq(known, sdk))
        {
            return true;
        }
        let deferred = deferring::mark(sdk, send_default_pii);
        if deferred {
            let _ = self.deferring.set(Arc::clone(sdk));
        }
        deferred
    }
}

/// Copies the computed contexts into `event` (keys it already has are kept), and with
/// `send_default_pii` the host name as `server_name` and the device's name.
fn add_contexts(event: &mut Event, send_default_pii: bool) {
    let computed = computed();
    for (key, context) in &computed.contexts {
        if !event.contexts.contains_key(key) {
            event.contexts.insert(key.clone(), context.clone());
        }
    }
    if send_default_pii {
        if let Some(host) = &computed.host_name {
            if event.server_name.is_none() {
                event.server_name = Some(Cow::Owned(host.clone()));
            }
            if let Some(Context::Device(device)) = event.contexts.get_mut("device") {
                if device.name.is_none() {
                    device.name = Some(host.clone());
                }
            }
        }
    }
}

/// `true` when nothing on the capturing thread can read the event after this integration: an
/// error or message event (those reach the transport as event items, which the worker
/// finalizes), no `before_send`, and no integration after this one. Its contexts can then be
/// added by the worker, right before it serializes the event, at no one's sight.
fn nothing_reads_after(this: &ContextIntegration, event: &Event, options: &ClientOptions) -> bool {
    !event.is_transaction()
        && options.before_send.is_none()
        && options.integrations.last().is_some_and(|last| {
            std::ptr::addr_eq(Arc::as_ptr(last), this as *const ContextIntegration)
        })
}

/// The event finalizer: adds the contexts that `process_event` left to the worker.
fn finalize_contexts(event: &mut Event) {
    if event.is_transaction() {
        return;
    }
    if let Some(send_default_pii) = event.sdk.as_ref().and_then(deferring::lookup) {
        add_contexts(event, send_default_pii);
    }
}

/// The clients whose error and message events get their contexts on the transport worker,
/// known by their `sdk` information (each client stamps its events with its own `Arc`, so the
/// pointer names the client, and the `Arc` kept here keeps the pointer from being reused).
/// A client's options never change, so whether its events are deferred is decided once, by
/// its first event; at most [`deferring::CAPACITY`] clients are remembered, later ones get
/// their contexts inline.
mod deferring {
    use std::sync::{Arc, PoisonError, RwLock};

    use sentry_core::protocol::ClientSdkInfo;

    /// How many clients are remembered.
    pub(super) const CAPACITY: usize = 8;

    /// Each remembered client's `sdk` information and its `send_default_pii`.
    static CLIENTS: RwLock<Vec<(Arc<ClientSdkInfo>, bool)>> = RwLock::new(Vec::new());

    fn find(clients: &[(Arc<ClientSdkInfo>, bool)], sdk: &Arc<ClientSdkInfo>) -> Option<bool> {
        clients
            .iter()
            .find(|(known, _)| Arc::ptr_eq(known, sdk))
            .map(|(_, pii)| *pii)
    }

    /// The `send_default_pii` of the deferring client whose events carry `sdk`, if it is one.
    pub(super) fn lookup(sdk: &Arc<ClientSdkInfo>) -> Option<bool> {
        find(&CLIENTS.read().unwrap_or_else(PoisonError::into_inner), sdk)
    }

    /// Remembers the client whose events carry `sdk` as deferring; `false` if no room is left
    /// (its contexts are then added inline).
    pub(super) fn mark(sdk: &Arc<ClientSdkInfo>, send_default_pii: bool) -> bool {
        if lookup(sdk).is_some() {
            return true;
        }
        let mut clients = CLIENTS.write().unwrap_or_else(PoisonError::into_inner);
        if find(&clients, sdk).is_some() {
            return true;
        }
        if clients.len() >= CAPACITY {
            return false;
        }
        clients.push((Arc::clone(sdk), send_default_pii));
        true
    }
}

struct Computed {
    contexts: Contexts,
    host_name: Option<String>,
}

fn start_time() -> SystemTime {
    static START: OnceLock<SystemTime> = OnceLock::new();
    *START.get_or_init(SystemTime::now)
}

fn computed() -> &'static Computed {
    static COMPUTED: OnceLock<Computed> = OnceLock::new();
    COMPUTED.get_or_init(|| {
        let mut contexts = Contexts::new();
        contexts.insert(Cow::Borrowed("os"), os_context().into());
        contexts.insert(Cow::Borrowed("runtime"), runtime_context().into());
        contexts.insert(Cow::Borrowed("device"), device_context().into());
        contexts.insert(Cow::Borrowed("app"), app_context().into());
        Computed {
            contexts,
            host_name: host_name(),
        }
    })
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// The operating system context.
pub fn os_context() -> OsContext {
    let mut os = OsContext::default();
    match std::env::consts::OS {
        "linux" | "android" => {
            os.name =
                Some(read_trimmed("/proc/sys/kernel/ostype").unwrap_or_else(|| "Linux".into()));
            let release = read_trimmed("/proc/sys/kernel/osrelease");
            let build = read_trimmed("/proc/sys/kernel/version");
            os.version.clone_from(&release);
            os.kernel_version.clone_from(&release);
            os.build.clone_from(&build);
            if let (Some(name), Some(release)) = (&os.name, &release) {
                os.raw_description = Some(match &build {
                    Some(build) => format!("{name} {release} {build}"),
                    None => format!("{name} {release}"),
                });
            }
            if let Ok(text) = std::fs::read_to_string("/etc/os-release")
                .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
            {
                let release = parse_os_release(&text);
                for (key, field) in [
                    ("ID", "distribution_name"),
                    ("VERSION_ID", "distribution_version"),
                    ("PRETTY_NAME", "distribution_pretty_name"),
                ] {
                    if let Some(value) = release.get(key) {
                        os.other.insert(field.into(), Value::from(value.as_str()));
                    }
                }
            }
        }
        "macos" => os.name = Some("macOS".into()),
        "ios" => os.name = Some("iOS".into()),
        "windows" => os.name = Some("Windows".into()),
        "freebsd" => os.name = Some("FreeBSD".into()),
        other => os.name = Some(other.to_owned()),
    }
    os
}

/// `KEY=value` and `KEY="quoted value"` lines of `/etc/os-release`.
fn parse_os_release(text: &str) -> SortedMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.trim().split_once('=')?;
            let value = value.trim().trim_matches('"').trim_matches('\'');
            (!key.starts_with('#')).then(|| (key.to_owned(), value.to_owned()))
        })
        .collect()
}

/// The runtime context: the compiler that built the application.
pub fn runtime_context() -> RuntimeContext {
    let mut runtime = RuntimeContext {
        name: Some("rustc".into()),
        ..RuntimeContext::default()
    };
    if !RUSTC_VERSION.is_empty() {
        let version = RUSTC_VERSION.split_whitespace().nth(1).map(str::to_owned);
        let channel = match version.as_deref() {
            Some(v) if v.contains("nightly") => "nightly",
            Some(v) if v.contains("beta") => "beta",
            Some(v) if v.contains("dev") => "dev",
            _ => "stable",
        };
        runtime.version = version;
        runtime.raw_description = Some(RUSTC_VERSION.to_owned());
        runtime.other.insert("channel".into(), Value::from(channel));
    }
    runtime
}

/// Sentry's architecture names (`aarch64` is `arm64`).
fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "arm64",
        other => other,
    }
}

/// The device context: architecture, OS family, processors, memory.
pub fn device_context() -> DeviceContext {
    let mut device = DeviceContext {
        arch: Some(arch().to_owned()),
        family: Some(std::env::consts::FAMILY.to_owned()),
        processor_count: std::thread::available_parallelism()
            .ok()
            .map(|n| n.get() as u64),
        ..DeviceContext::default()
    };
    if let Ok(meminfo) = std::fs::read_to_string("/proc/meminfo") {
        device.memory_size = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024);
    }
    if let Ok(stat) = std::fs::read_to_string("/proc/stat") {
        device.boot_time = stat
            .lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|secs| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs));
    }
    device
}

/// The app context: the binary's name and when the SDK was set up.
pub fn app_context() -> AppContext {
    AppContext {
        app_name: std::env::current_exe()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())),
        app_start_time: Some(start_time()),
        build_type: Some(
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .into(),
        ),
        ..AppContext::default()
    }
}

fn host_name() -> Option<String> {
    read_trimmed("/proc/sys/kernel/hostname")
        .or_else(|| read_trimmed("/etc/hostname"))
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .or_else(|| std::env::var("COMPUTERNAME").ok().filter(|h| !h.is_empty()))
}

/// The crates an application was built with, from its `Cargo.lock`.
///
/// Build it with [`cargo_lock_modules!`](crate::cargo_lock_modules), which embeds the lock
/// file at compile time, and register it with [`set_modules`]. The text is parsed on first use.
/// `Cargo.lock` lists every package of the workspace's graph, including dev-dependencies and
/// other platforms' dependencies, so the list is a superset of what is linked.
#[derive(Clone, Debug)]
pub struct Modules {
    source: &'static str,
    parsed: Arc<OnceLock<SortedMap<String, String>>>,
}

impl Modules {
    /// Modules from the text of a `Cargo.lock` file.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = r#"
    /// version = 4
    ///
    /// [[package]]
    /// name = "serde"
    /// version = "1.0.200"
    /// source = "registry+https://github.com/rust-lang/crates.io-index"
    ///
    /// [[package]]
    /// name = "my-app"
    /// version = "0.3.0"
    /// "#;
    /// let modules = sentry_backtrace::Modules::from_lockfile(lock);
    /// assert_eq!(modules.get().get("serde").map(String::as_str), Some("1.0.200"));
    /// assert_eq!(modules.get().len(), 2);
    /// ```
    pub fn from_lockfile(text: &'static str) -> Modules {
        Modules {
            source: text,
            parsed: Arc::default(),
        }
    }

    /// The crates and their versions. A crate locked at several versions lists them all,
    /// separated by `, `.
    pub fn get(&self) -> &SortedMap<String, String> {
        self.parsed.get_or_init(|| parse_lockfile(self.source))
    }
}

fn parse_lockfile(text: &str) -> SortedMap<String, String> {
    let mut out: SortedMap<String, String> = SortedMap::new();
    let mut name: Option<String> = None;
    let mut version: Option<String> = None;
    let mut flush = |name: &mut Option<String>, version: &mut Option<String>| {
        if let (Some(n), Some(v)) = (name.take(), version.take()) {
            out.entry(n)
                .and_modify(|existing| {
                    if !existing.split(", ").any(|e| e == v) {
                        existing.push_str(", ");
                        existing.push_str(&v);
                    }
                })
                .or_insert(v);
        }
    };
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            flush(&mut name, &mut version);
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        match key.trim() {
            "name" => name = Some(value.to_owned()),
            "version" => version = Some(value.to_owned()),
            _ => {}
        }
    }
    flush(&mut name, &mut version);
    out
}

static MODULES: RwLock<Option<Modules>> = RwLock::new(None);

/// Registers the crates the application was built with; events then carry them as `modules`
/// (with [`ContextIntegration`] installed).
///
/// Call it once, early in `main`, with the lock file embedded by
/// [`cargo_lock_modules!`](crate::cargo_lock_modules):
///
/// ```
/// // In a single-crate application (Cargo.lock next to Cargo.toml):
/// //     sentry_backtrace::set_modules(sentry_backtrace::cargo_lock_modules!());
/// // In a workspace member, name the lock file relative to the member's Cargo.toml:
/// sentry_backtrace::set_modules(sentry_backtrace::cargo_lock_modules!("../Cargo.lock"));
/// ```
pub fn set_modules(modules: Modules) {
    *MODULES.write().unwrap_or_else(PoisonError::into_inner) = Some(modules);
}

/// Copies the registered modules into an event that has none.
pub(crate) fn add_modules(event: &mut Event) {
    if !event.modules.is_empty() {
        return;
    }
    let guard = MODULES.read().unwrap_or_else(PoisonError::into_inner);
    if let Some(modules) = guard.as_ref() {
        event.modules = modules.get().clone();
    }
}

/// Embeds the application's `Cargo.lock` at compile time as [`Modules`].
///
/// Without arguments it reads `Cargo.lock` next to the `Cargo.toml` of the crate invoking the
/// macro; in a workspace member pass the lock file's path relative to that `Cargo.toml`
/// (usually `"../Cargo.lock"`). Compilation fails if the file does not exist.
///
/// ```
/// let modules = sentry_backtrace::cargo_lock_modules!("../Cargo.lock");
/// assert!(modules.get().contains_key("backtrace"));
/// ```
#[macro_export]
macro_rules! cargo_lock_modules {
    () => {
        $crate::Modules::from_lockfile(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/Cargo.lock"
        )))
    };
    ($path:literal) => {
        $crate::Modules::from_lockfile(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/",
            $path
        )))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_and_lockfile_parsing() {
        let release =
            parse_os_release("NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID=\"12\"\n# c\n");
        assert_eq!(release["ID"], "debian");
        assert_eq!(release["VERSION_ID"], "12");
        let lock = "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\n[[package]]\nname = \"a\"\nversion = \"2.0.0\"\ndependencies = [\n \"b\",\n]\n";
        let parsed = parse_lockfile(lock);
        assert_eq!(parsed["a"], "1.0.0, 2.0.0");
    }

    #[test]
    fn runtime_version_comes_from_the_build() {
        let runtime = runtime_context();
        assert!(RUSTC_VERSION.starts_with("rustc "), "{RUSTC_VERSION}");
        assert!(runtime.version.is_some());
        assert!(runtime.other.contains_key("channel"));
    }

    #[test]
    fn computed_once_and_serializable() {
        let a: *const Computed = computed();
        let b: *const Computed = computed();
        assert_eq!(a, b);
        let json: serde_json::Map<_, _> = computed()
            .contexts
            .iter()
            .map(|(name, context)| (name.to_string(), serde_json::to_value(context).unwrap()))
            .collect();
        assert_eq!(json["runtime"]["name"], "rustc");
        assert_eq!(json["device"]["arch"], arch());
        assert!(json["app"]["app_start_time"].is_string());
    }
}
