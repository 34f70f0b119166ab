//! Conformance against Relay, Sentry's ingest: run events through Relay's own normalizer.
//!
//! [`normalize_events`] feeds events to `tests/relay/normalize.py`, which calls
//! `sentry_relay.processing.StoreNormalizer().normalize_event` from the `sentry-relay` package on
//! PyPI — the same Rust code Relay runs on every event it ingests. An event conforms when the
//! result has no `errors` and no `_meta` anywhere: Relay records every value it had to drop,
//! trim or fix in `_meta`, so its absence means Relay kept every byte as sent.
//!
//! # Which Python
//!
//! 1. The interpreter named by the environment variable `SENTRY_RELAY_PYTHON`, if set.
//! 2. Otherwise `.venv` at the workspace root, created on first use (`python3 -m venv .venv`,
//!    then `pip install sentry-relay==`[`RELAY_VERSION`]) by whichever test or `cargo xtask ci`
//!    needs it first. Concurrent first uses are serialized by a lock file, so nobody has to set
//!    anything up by hand.
//!
//! When no Python can be found or the install fails, every check fails with a message saying
//! what to install; nothing is skipped silently.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

/// The version of `sentry-relay` installed into the virtual environment.
pub const RELAY_VERSION: &str = "0.10.1";

/// The environment variable naming the Python interpreter to use.
pub const PYTHON_ENV: &str = "SENTRY_RELAY_PYTHON";

/// A lock file older than this is taken to be left over from a killed process.
const STALE_LOCK: Duration = Duration::from_secs(15 * 60);

/// Why events could not be run through Relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayError {
    /// No Python interpreter with `sentry-relay` is available, and one could not be set up.
    Setup(String),
    /// The normalizer script could not be run, or its output was not understood.
    Run(String),
}

impl fmt::Display for RelayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RelayError::Setup(msg) => write!(f, "cannot set up Relay's normalizer: {msg}"),
            RelayError::Run(msg) => write!(f, "cannot run Relay's normalizer: {msg}"),
        }
    }
}

impl std::error::Error for RelayError {}

/// The result of normalizing one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// The event as it was sent to Relay.
    pub input: Value,
    /// The normalized event, or the text of the exception Relay raised for it.
    pub result: Result<Value, String>,
}

impl Normalized {
    /// Everything Relay objected to: a raised exception, each entry of `errors`, and every
    /// `_meta` entry (with its JSON path). Empty when the event conforms.
    pub fn problems(&self) -> Vec<String> {
        let event = match &self.result {
            Ok(event) => event,
            Err(exception) => return vec![format!("Relay raised: {exception}")],
        };
        let mut problems = Vec::new();
        if let Some(errors) = event.get("errors") {
            match errors.as_array() {
                Some(list) => {
                    problems.extend(list.iter().map(|e| format!("errors: {}", compact(e, 300))));
                }
                None if errors.is_null() => {}
                None => problems.push(format!("errors: {}", compact(errors, 300))),
            }
        }
        collect_meta(event, "", &mut problems);
        problems
    }

    /// Whether Relay accepted the event unchanged: no exception, no `errors`, no `_meta`.
    pub fn is_conformant(&self) -> bool {
        self.problems().is_empty()
    }
}

/// Adds one problem per `_meta` key found anywhere in `value`.
fn collect_meta(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if key == "_meta" {
                    out.push(format!(
                        "_meta at {}: {}",
                        display_path(path),
                        compact(child, 500)
                    ));
                } else {
                    collect_meta(child, &child_path, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let child_path = if path.is_empty() {
                    i.to_string()
                } else {
                    format!("{path}.{i}")
                };
                collect_meta(child, &child_path, out);
            }
        }
        _ => {}
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() {
        "the top level"
    } else {
        path
    }
}

/// JSON text of `value`, cut after `max` characters.
fn compact(value: &Value, max: usize) -> String {
    let text = value.to_string();
    if text.chars().count() <= max {
        text
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// The workspace root (the directory holding the workspace's `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The path of the normalizer script.
pub fn script_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("relay")
        .join("normalize.py")
}

/// The directory of the virtual environment created on demand: `.venv` at the workspace root.
pub fn venv_dir() -> PathBuf {
    workspace_root().join(".venv")
}

/// The Python interpreter inside the virtual environment `venv`.
pub fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// The Python interpreter to run the normalizer with: `SENTRY_RELAY_PYTHON` if set, otherwise
/// the workspace's `.venv`, created and provisioned first if needed (see [`ensure_venv`]).
///
/// The answer is computed once per process and remembered, errors included.
pub fn relay_python() -> Result<PathBuf, RelayError> {
    static PYTHON: OnceLock<Result<PathBuf, RelayError>> = OnceLock::new();
    PYTHON
        .get_or_init(|| match std::env::var_os(PYTHON_ENV) {
            Some(python) if !python.is_empty() => {
                let python = PathBuf::from(python);
                check_relay(&python).map(|_| python).map_err(|e| {
                    setup_error(format!(
                        "{PYTHON_ENV} names a Python without sentry-relay=={RELAY_VERSION}: {e}"
                    ))
                })
            }
            _ => ensure_venv(&venv_dir()),
        })
        .clone()
}

/// Makes sure `venv` is a virtual environment with `sentry-relay==`[`RELAY_VERSION`] installed,
/// creating it with the system's `python3` if needed, and returns its interpreter.
///
/// Safe to call from several threads and processes at once: a lock file under the workspace's
/// `target` directory lets one of them do the work while the others wait for it.
pub fn ensure_venv(venv: &Path) -> Result<PathBuf, RelayError> {
    let python = venv_python(venv);
    if check_relay(&python).is_ok() {
        return Ok(python);
    }
    let _lock = LockFile::acquire(&workspace_root().join("target").join("relay-venv.lock"))
        .map_err(|e| setup_error(format!("cannot take the venv lock: {e}")))?;
    // Someone else may have finished while we waited for the lock.
    if check_relay(&python).is_ok() {
        return Ok(python);
    }
    eprintln!(
        "setting up {} with sentry-relay=={RELAY_VERSION} for the Relay conformance tests…",
        venv.display()
    );
    if !python.exists() {
        let base = find_system_python().ok_or_else(|| {
            setup_error(
                "no `python3` (or `python`) on PATH. Install Python 3 with the venv module \
                 (Debian/Ubuntu: `apt-get install python3 python3-venv`), or point \
                 SENTRY_RELAY_PYTHON at a Python that has sentry-relay installed"
                    .to_owned(),
            )
        })?;
        run_setup_step(
            Command::new(&base).arg("-m").arg("venv").arg(venv),
            "create the venv",
        )?;
    }
    run_setup_step(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--quiet",
            ])
            .arg(format!("sentry-relay=={RELAY_VERSION}")),
        "install sentry-relay into the venv",
    )?;
    check_relay(&python)
        .map_err(|e| setup_error(format!("sentry-relay is still unusable: {e}")))?;
    Ok(python)
}

fn setup_error(msg: String) -> RelayError {
    let ci = if std::env::var_os("CI").is_some() {
        " (CI is set: the Relay conformance check is required and must not be skipped)"
    } else {
        ""
    };
    RelayError::Setup(format!("{msg}{ci}"))
}

fn find_system_python() -> Option<PathBuf> {
    ["python3", "python"]
        .into_iter()
        .map(PathBuf::from)
        .find(|candidate| {
            Command::new(candidate)
                .args([
                    "-c",
                    "import sys, venv; sys.exit(0 if sys.version_info >= (3, 8) else 1)",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
}

fn run_setup_step(command: &mut Command, what: &str) -> Result<(), RelayError> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| setup_error(format!("cannot {what}: {e}")))?;
    if output.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stdout));
    let hint = if what.contains("venv") && text.contains("ensurepip") {
        "\nhint: install the venv module (Debian/Ubuntu: `apt-get install python3-venv`)"
    } else {
        ""
    };
    Err(setup_error(format!(
        "cannot {what} ({}):\n{}{hint}",
        output.status,
        text.trim()
    )))
}

/// Checks that `python` imports `sentry_relay.processing` at [`RELAY_VERSION`].
fn check_relay(python: &Path) -> Result<(), String> {
    if !python.exists() && python.components().count() > 1 {
        return Err(format!("{} does not exist", python.display()));
    }
    let output = Command::new(python)
        .args([
            "-c",
            "import importlib.metadata as m, sentry_relay.processing; \
             print(m.version('sentry-relay'))",
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
    }
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if version != RELAY_VERSION {
        return Err(format!(
            "found sentry-relay {version}, need {RELAY_VERSION}"
        ));
    }
    Ok(())
}

/// A lock file created with `create_new`, removed on drop.
struct LockFile {
    path: PathBuf,
}

impl LockFile {
    fn acquire(path: &Path) -> std::io::Result<LockFile> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let started = Instant::now();
        loop {
            match OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(mut file) => {
                    let _ = writeln!(file, "{}", std::process::id());
                    return Ok(LockFile {
                        path: path.to_path_buf(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let age = fs::metadata(path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok());
                    if age.is_some_and(|age| age > STALE_LOCK) {
                        let _ = fs::remove_file(path);
                        continue;
                    }
                    if started.elapsed() > STALE_LOCK {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            format!("{} is held for too long", path.display()),
                        ));
                    }
                    thread::sleep(Duration::from_millis(250));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Runs every event through Relay's store normalizer, in one Python process, and returns one
/// [`Normalized`] per event, in order.
pub fn normalize_events(events: &[Value]) -> Result<Vec<Normalized>, RelayError> {
    let python = relay_python()?;
    let mut input = String::new();
    for event in events {
        // Compact JSON never contains a raw newline, so one event is one line.
        input.push_str(&event.to_string());
        input.push('\n');
    }
    let mut child = Command::new(&python)
        .arg(script_path())
        .env("RUST_BACKTRACE", "0")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONIOENCODING", "utf-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| RelayError::Run(format!("cannot start {}: {e}", python.display())))?;

    // Feed stdin and drain stderr on their own threads so no pipe can fill up and block.
    let mut stdin = child.stdin.take();
    let writer = thread::spawn(move || {
        if let Some(stdin) = stdin.as_mut() {
            let _ = stdin.write_all(input.as_bytes());
        }
        drop(stdin);
    });
    let mut stderr = child.stderr.take();
    let err_reader = thread::spawn(move || {
        let mut text = String::new();
        if let Some(stderr) = stderr.as_mut() {
            let _ = stderr.read_to_string(&mut text);
        }
        text
    });
    let mut lines = Vec::with_capacity(events.len());
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            match line {
                Ok(line) if line.trim().is_empty() => {}
                Ok(line) => lines.push(line),
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(RelayError::Run(format!("cannot read its output: {e}")));
                }
            }
        }
    }
    let _ = writer.join();
    let stderr = err_reader.join().unwrap_or_default();
    let status = child
        .wait()
        .map_err(|e| RelayError::Run(format!("cannot wait for it: {e}")))?;
    if !status.success() || lines.len() != events.len() {
        return Err(RelayError::Run(format!(
            "{} exited with {status} after {} of {} results:\n{}",
            script_path().display(),
            lines.len(),
            events.len(),
            stderr.trim()
        )));
    }

    let mut results = Vec::with_capacity(events.len());
    for (event, line) in events.iter().zip(lines) {
        let mut parsed: Value = serde_json::from_str(&line)
            .map_err(|e| RelayError::Run(format!("bad output line {line:?}: {e}")))?;
        let result = if let Some(ok) = parsed.get_mut("ok") {
            Ok(ok.take())
        } else if let Some(error) = parsed.get("error") {
            Err(error
                .as_str()
                .map_or_else(|| error.to_string(), str::to_owned))
        } else {
            return Err(RelayError::Run(format!("bad output line {line:?}")));
        };
        results.push(Normalized {
            input: event.clone(),
            result,
        });
    }
    Ok(results)
}

/// Asserts that Relay accepts every event unchanged.
///
/// # Panics
///
/// If Relay cannot be run, or listing every event whose normalized form has a non-empty
/// `errors` or any `_meta` anywhere, with the event itself.
pub fn assert_conformant(events: &[Value]) {
    let results = match normalize_events(events) {
        Ok(results) => results,
        Err(e) => panic!("{e}"),
    };
    let mut report = String::new();
    let mut failed = 0;
    for (i, normalized) in results.iter().enumerate() {
        let problems = normalized.problems();
        if problems.is_empty() {
            continue;
        }
        failed += 1;
        report.push_str(&format!(
            "\nevent #{i}: {}\n",
            compact(&normalized.input, 2000)
        ));
        for problem in problems {
            report.push_str(&format!("  - {problem}\n"));
        }
    }
    if failed > 0 {
        panic!(
            "{failed} of {} events are not conformant: Relay changed or rejected them\n{report}",
            results.len()
        );
    }
}
