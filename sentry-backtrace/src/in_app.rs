//! Which frames belong to the application.

use crate::names::{crate_of, normalize_path};

/// Crates that are never part of the application: the standard library, the unwinder and
/// symbolizer, and common runtimes and frameworks. This SDK's crates (`sentry`, `sentry_*`)
/// are excluded as well.
pub const DEFAULT_NOT_IN_APP: &[&str] = &[
    // The standard library and the runtime around it.
    "std",
    "core",
    "alloc",
    "test",
    "panic_unwind",
    "panic_abort",
    "std_detect",
    "__rustc",
    // Stack capture and symbolication.
    "backtrace",
    "addr2line",
    "gimli",
    "object",
    "rustc_demangle",
    // Async runtimes, thread pools, frameworks.
    "tokio",
    "tokio_util",
    "futures",
    "futures_core",
    "futures_util",
    "futures_executor",
    "futures_task",
    "async_std",
    "async_task",
    "async_executor",
    "smol",
    "rayon",
    "rayon_core",
    "crossbeam_channel",
    "crossbeam_deque",
    "crossbeam_utils",
    "mio",
    "hyper",
    "hyper_util",
    "h2",
    "tower",
    "tower_http",
    "axum",
    "axum_core",
    "actix_rt",
    "actix_web",
    "actix_http",
    "actix_server",
    "tracing",
    "tracing_core",
    "tracing_subscriber",
    "log",
    "anyhow",
    "eyre",
    "color_eyre",
    "criterion",
];

/// Function names outside any crate that belong to the C runtime, the unwinder or the
/// operating system's thread start.
const RUNTIME_FUNCTIONS: &[&str] = &[
    "_start",
    "__libc_start_main",
    "__libc_start_call_main",
    "start_thread",
    "clone",
    "clone3",
    "thread_start",
    "main",
    "__scrt_common_main_seh",
    "BaseThreadInitThunk",
    "RtlUserThreadStart",
    "mainCRTStartup",
];

/// Name prefixes of the panic runtime and the unwinder.
const RUNTIME_PREFIXES: &[&str] = &[
    "_Unwind_",
    "__rust_",
    "rust_begin_unwind",
    "rust_panic",
    "__gcc_personality",
    "__libc_",
];

/// `true` for this SDK's crates (`sentry`, `sentry_core`, `sentry_backtrace`, …).
pub(crate) fn is_sdk_crate(krate: &str) -> bool {
    krate == "sentry" || krate.starts_with("sentry_")
}

/// Whether `pattern` (a module prefix such as `my_app` or `my_app::db`) covers `path`: the
/// same path, or a path below it.
pub(crate) fn prefix_matches(path: &str, pattern: &str) -> bool {
    let pattern = pattern.trim();
    if pattern.is_empty() || !path.starts_with(pattern) {
        return false;
    }
    let rest = &path[pattern.len()..];
    rest.is_empty() || rest.starts_with("::") || pattern.ends_with("::")
}

/// The rules deciding whether a frame is part of the application.
///
/// In order, the first that applies wins:
/// 1. `in_app_include` (from `ClientOptions`): module prefixes that are in-app;
/// 2. `in_app_exclude`: module prefixes that are not;
/// 3. [`DEFAULT_NOT_IN_APP`] and this SDK's crates (`sentry*`): not in-app;
/// 4. C runtime, unwinder and panic-runtime functions: not in-app;
/// 5. source files in Cargo's registry or git checkouts, or in the Rust toolchain
///    (`/rustc/…`): not in-app (they are dependencies);
/// 6. the crate named like the running binary: in-app;
/// 7. any other frame whose source path is known: in-app (a crate of the workspace being
///    built);
/// 8. otherwise unknown (`in_app` is left out and Sentry decides).
///
/// Prefixes match whole path segments: `my_app` covers `my_app::db::query` but not
/// `my_app_utils`. Function paths are matched after generic arguments are removed and
/// `<T as Trait>::f` is read as `T::f`.
///
/// # Examples
///
/// ```
/// use sentry_backtrace::InAppRules;
///
/// let rules = InAppRules::new(&["vendored_lib"], &["my_app::generated"]);
/// assert_eq!(rules.classify(Some("std::rt::lang_start"), None), Some(false));
/// assert_eq!(rules.classify(Some("vendored_lib::f"), Some("/root/.cargo/registry/src/x/vendored_lib-1.0/src/lib.rs")), Some(true));
/// assert_eq!(rules.classify(Some("my_app::generated::parse"), Some("/src/app/src/generated.rs")), Some(false));
/// assert_eq!(rules.classify(Some("my_app::run"), Some("/src/app/src/main.rs")), Some(true));
/// assert_eq!(rules.classify(None, None), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InAppRules {
    include: Vec<String>,
    exclude: Vec<String>,
    app_crate: Option<String>,
}

impl InAppRules {
    /// Rules with these include and exclude prefixes (as in `ClientOptions::in_app_include`
    /// and `in_app_exclude`), and the running binary's name as the application crate.
    pub fn new(include: &[&str], exclude: &[&str]) -> InAppRules {
        InAppRules {
            include: include.iter().map(|s| (*s).to_owned()).collect(),
            exclude: exclude.iter().map(|s| (*s).to_owned()).collect(),
            app_crate: binary_crate_name(),
        }
    }

    /// Decides whether a frame with this (demangled) function and source path is in-app.
    pub fn classify(&self, function: Option<&str>, abs_path: Option<&str>) -> Option<bool> {
        let path = function.map(normalize_path);
        let path = path.as_deref();
        if let Some(path) = path {
            if self.include.iter().any(|p| prefix_matches(path, p)) {
                return Some(true);
            }
            if self.exclude.iter().any(|p| prefix_matches(path, p)) {
                return Some(false);
            }
            if let Some(krate) = crate_of(path) {
                if is_sdk_crate(krate) || DEFAULT_NOT_IN_APP.contains(&krate) {
                    return Some(false);
                }
            } else if is_runtime_function(path) {
                return Some(false);
            }
        }
        if let Some(abs_path) = abs_path {
            if is_dependency_path(abs_path) {
                return Some(false);
            }
        }
        if let (Some(krate), Some(app)) = (path.and_then(crate_of), &self.app_crate) {
            if krate == app {
                return Some(true);
            }
        }
        if abs_path.is_some() && path.is_some_and(|p| crate_of(p).is_some()) {
            return Some(true);
        }
        None
    }
}

/// `true` for names of the C runtime, the unwinder and the panic runtime.
pub(crate) fn is_runtime_function(name: &str) -> bool {
    RUNTIME_FUNCTIONS.contains(&name) || RUNTIME_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// `true` for source files of dependencies: Cargo's registry and git checkouts, vendored
/// crates, and the Rust toolchain's own sources.
pub(crate) fn is_dependency_path(abs_path: &str) -> bool {
    let p = abs_path.replace('\\', "/");
    p.starts_with("/rustc/")
        || p.contains("/.cargo/registry/")
        || p.contains("/.cargo/git/")
        || p.contains("/cargo/registry/src/")
        || p.contains("/cargo/git/checkouts/")
        || p.contains("/rustlib/src/rust/library/")
}

/// The running binary's name as a crate name (`my-app` → `my_app`; the hash of test binaries,
/// `my_test-0123456789abcdef`, is removed).
fn binary_crate_name() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let stem = exe.file_stem()?.to_str()?;
    let stem = match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name
        }
        _ => stem,
    };
    Some(stem.replace('-', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_whole_segments() {
        assert!(prefix_matches("my_app::db", "my_app"));
        assert!(prefix_matches("my_app", "my_app"));
        assert!(prefix_matches("my_app::db", "my_app::"));
        assert!(!prefix_matches("my_app_utils::x", "my_app"));
        assert!(!prefix_matches("x", ""));
    }

    #[test]
    fn defaults() {
        let rules = InAppRules::new(&[], &[]);
        for f in [
            "sentry_core::api::capture_error",
            "sentry::init",
            "tokio::runtime::Runtime::block_on",
            "<core::pin::Pin<P> as core::future::future::Future>::poll",
            "rayon_core::registry::WorkerThread::wait_until_cold",
            "backtrace::backtrace::trace",
        ] {
            assert_eq!(
                rules.classify(Some(f), Some("/ws/x/src/lib.rs")),
                Some(false),
                "{f}"
            );
        }
        assert_eq!(rules.classify(Some("__libc_start_main"), None), Some(false));
        assert_eq!(rules.classify(Some("_Unwind_Backtrace"), None), Some(false));
        assert_eq!(
            rules.classify(
                Some("serde_json::de::from_str"),
                Some("/home/u/.cargo/registry/src/idx/serde_json-1.0/src/de.rs")
            ),
            Some(false)
        );
        assert_eq!(rules.classify(Some("other_lib::f"), None), None);
        assert_eq!(
            rules.classify(Some("my_ws_crate::f"), Some("/ws/my-ws-crate/src/lib.rs")),
            Some(true)
        );
        assert_eq!(
            rules.classify(
                Some("<my_ws_crate::T as core::fmt::Debug>::fmt"),
                Some("/ws/a/src/lib.rs")
            ),
            Some(true)
        );
    }

    #[test]
    fn include_beats_defaults_and_exclude() {
        let rules = InAppRules::new(&["tokio::task"], &["tokio"]);
        assert_eq!(rules.classify(Some("tokio::task::spawn"), None), Some(true));
        assert_eq!(rules.classify(Some("tokio::net::bind"), None), Some(false));
    }

    #[test]
    fn binary_name_is_a_crate_name() {
        let name = binary_crate_name().unwrap();
        assert_eq!(name, "sentry_backtrace");
        let rules = InAppRules {
            app_crate: Some("my_app".into()),
            ..InAppRules::default()
        };
        assert_eq!(rules.classify(Some("my_app::anything"), None), Some(true));
        // This SDK is never in-app, even when it is the running binary.
        let rules = InAppRules::new(&[], &[]);
        assert_eq!(
            rules.classify(Some("sentry_backtrace::x"), None),
            Some(false)
        );
    }
}
