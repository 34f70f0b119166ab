//! The real Spotlight sidecar (npm `@spotlightjs/spotlight`, pinned to [`SIDECAR_VERSION`]),
//! started for a test and read back: [`Sidecar`].
//!
//! The package is installed with `npm` into `target/spotlight-sidecar` once
//! ([`sidecar_package`]; `cargo xtask ci` does it in a setup step before the tests), from
//! `tests/spotlight/package.json`, which pins it and its web framework: the sidecar's server
//! calls `toString()` on `hono`'s query object, which newer `hono` releases (4.13) that its
//! version range allows build without a prototype, so every request failed. The
//! sidecar runs under `tests/spotlight/sidecar.mjs`, which starts its server without the
//! package's own error reporting and prints every envelope item it receives, with what the
//! sidecar's formatters make of it.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::relay::workspace_root;

/// The version of `@spotlightjs/spotlight` the tests run.
pub const SIDECAR_VERSION: &str = "4.11.8";

/// The directory `npm install` fills: `target/spotlight-sidecar` in the workspace.
pub fn install_dir() -> PathBuf {
    workspace_root().join("target").join("spotlight-sidecar")
}

/// The installed package's directory, installing it with `npm` first if needed.
///
/// The answer is computed once per process, errors included (an error says why: no `node` or
/// `npm`, no registry). Processes that install at once each use a directory of their own and
/// rename it into place, so they never see a half-installed package.
///
/// # Errors
///
/// Why the package is not there and could not be installed.
pub fn sidecar_package() -> Result<PathBuf, String> {
    static PACKAGE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PACKAGE.get_or_init(install).clone()
}

fn package_in(dir: &Path) -> PathBuf {
    dir.join("node_modules")
        .join("@spotlightjs")
        .join("spotlight")
}

fn installed_version(package: &Path) -> Option<String> {
    let manifest = fs::read(package.join("package.json")).ok()?;
    let manifest: Value = serde_json::from_slice(&manifest).ok()?;
    manifest["version"].as_str().map(str::to_owned)
}

fn install() -> Result<PathBuf, String> {
    let dir = install_dir();
    let package = package_in(&dir);
    if installed_version(&package).as_deref() == Some(SIDECAR_VERSION) {
        return Ok(package);
    }
    which("node").ok_or("no `node` on PATH (the Spotlight sidecar is a Node.js program)")?;
    which("npm").ok_or("no `npm` on PATH to install the Spotlight sidecar")?;
    let staging = dir.with_file_name(format!("spotlight-sidecar.{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(|e| format!("{}: {e}", staging.display()))?;
    eprintln!(
        "installing @spotlightjs/spotlight@{SIDECAR_VERSION} into {} for the Spotlight tests…",
        dir.display()
    );
    let manifest = workspace_root()
        .join("tests")
        .join("spotlight")
        .join("package.json");
    fs::copy(&manifest, staging.join("package.json"))
        .map_err(|e| format!("{}: {e}", manifest.display()))?;
    let output = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&staging)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if !output.status.success() {
        let _ = fs::remove_dir_all(&staging);
        return Err(format!(
            "`npm install` of @spotlightjs/spotlight@{SIDECAR_VERSION} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let _ = fs::remove_dir_all(&dir);
    if fs::rename(&staging, &dir).is_err() {
        // Another process put its copy there first.
        let _ = fs::remove_dir_all(&staging);
    }
    match installed_version(&package) {
        Some(version) if version == SIDECAR_VERSION => Ok(package),
        other => Err(format!(
            "npm finished but {} holds version {other:?}",
            package.display()
        )),
    }
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// One envelope item as the sidecar received it.
#[derive(Debug, Clone, PartialEq)]
pub struct SidecarItem {
    /// The item's `type` header.
    pub ty: String,
    /// Whether the sidecar has a formatter for this type (events, transactions, logs).
    pub has_formatter: bool,
    /// Whether its formatter showed the item; `false` when the sidecar's type guard refused it.
    pub shown: bool,
    /// The payload as the sidecar parsed it (JSON), or its text for non-JSON payloads.
    pub payload: Value,
}

#[derive(Default)]
struct Received {
    items: Vec<SidecarItem>,
    unparsed: usize,
    closed: bool,
}

/// A running sidecar on a free loopback port, stopped when dropped.
pub struct Sidecar {
    child: Child,
    port: u16,
    received: Arc<(Mutex<Received>, Condvar)>,
}

impl std::fmt::Debug for Sidecar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sidecar").field("port", &self.port).finish()
    }
}

impl Sidecar {
    /// Installs the package if needed and starts the sidecar on a free port.
    ///
    /// # Errors
    ///
    /// Why the sidecar could not be installed or started.
    pub fn start() -> Result<Sidecar, String> {
        let package = sidecar_package()?;
        let script = workspace_root()
            .join("tests")
            .join("spotlight")
            .join("sidecar.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .arg(&package)
            .arg("0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start node: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        // The sidecar's own log (a refused type guard is logged there) goes to the test's
        // output, where a failure shows it.
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[sidecar] {line}");
            }
        });
        let mut lines = BufReader::new(stdout).lines();
        let first = match lines.next() {
            Some(Ok(line)) => line,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("the sidecar exited before listening".to_owned());
            }
        };
        let port = serde_json::from_str::<Value>(&first)
            .ok()
            .and_then(|v| v["listening"].as_u64())
            .and_then(|p| u16::try_from(p).ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("unexpected first line from the sidecar: {first}"));
        };
        let received = Arc::new((Mutex::new(Received::default()), Condvar::new()));
        let shared = Arc::clone(&received);
        thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let Ok(value) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                let (lock, changed) = &*shared;
                let mut received = lock.lock().unwrap_or_else(PoisonError::into_inner);
                if value.get("unparsed").is_some() {
                    received.unparsed += 1;
                } else {
                    received.items.push(SidecarItem {
                        ty: value["type"].as_str().unwrap_or_default().to_owned(),
                        has_formatter: value["formatter"].as_bool().unwrap_or(false),
                        shown: value["shown"].as_bool().unwrap_or(false),
                        payload: value["payload"].clone(),
                    });
                }
                changed.notify_all();
            }
            let (lock, changed) = &*shared;
            lock.lock().unwrap_or_else(PoisonError::into_inner).closed = true;
            changed.notify_all();
        });
        Ok(Sidecar {
            child,
            port,
            received,
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL SDKs post envelopes to: `http://127.0.0.1:<port>/stream`.
    pub fn stream_url(&self) -> String {
        format!("http://127.0.0.1:{}/stream", self.port)
    }

    /// How many envelopes the sidecar could not parse.
    pub fn unparsed(&self) -> usize {
        let (lock, _) = &*self.received;
        lock.lock().unwrap_or_else(PoisonError::into_inner).unparsed
    }

    /// Waits until `done` holds for the items received so far, or `timeout` passes, and
    /// returns them.
    pub fn wait_until(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&[SidecarItem]) -> bool,
    ) -> Vec<SidecarItem> {
        let deadline = Instant::now() + timeout;
        let (lock, changed) = &*self.received;
        let mut received = lock.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let now = Instant::now();
            if done(&received.items) || received.closed || now >= deadline {
                return received.items.clone();
            }
            received = changed
                .wait_timeout(received, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

impl Drop for Sidecar {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
